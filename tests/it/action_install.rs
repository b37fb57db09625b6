//! scripts/install-action.sh, the body of action.yml, run as a runner would run it, with a
//! stand-in `cargo` on PATH (nothing leaves the machine).
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Runner {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["temp", "fakebin"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        // Records its arguments and installs a `wixauth` that prints a version.
        let cargo = dir.path().join("fakebin/cargo");
        std::fs::write(
            &cargo,
            "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > \"$CARGO_ARGS_FILE\"\nwhile [[ $1 != --root ]]; do shift; done\nmkdir -p \"$2/bin\"\nprintf '#!/bin/sh\\necho wixauth 9.9.9\\n' > \"$2/bin/wixauth\"\nchmod 755 \"$2/bin/wixauth\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        Runner { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, inputs: &[(&str, &str)]) -> Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-action.sh");
        let path = format!(
            "{}:{}",
            self.path("fakebin").display(),
            std::env::var("PATH").unwrap()
        );
        Command::new("bash")
            .arg(script)
            .env_clear()
            .env("PATH", path)
            .env("RUNNER_TEMP", self.path("temp"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("GITHUB_PATH", self.path("github_path"))
            .env("GITHUB_OUTPUT", self.path("github_output"))
            .env("CARGO_ARGS_FILE", self.path("cargo_args"))
            .env("WIXAUTH_REPOSITORY", "owner/wixauth")
            .envs(inputs.iter().copied())
            .output()
            .unwrap()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }
}

#[test]
fn from_source_installs_the_tag_with_cargo_and_puts_it_on_path() {
    let runner = Runner::new();
    let out = runner.run(&[("WIXAUTH_FROM", "source"), ("WIXAUTH_VERSION", "v1.2.3")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let args: Vec<String> = runner
        .read("cargo_args")
        .lines()
        .map(String::from)
        .collect();
    let root = runner.path("temp/wixauth").display().to_string();
    assert_eq!(
        args,
        [
            "install",
            "--locked",
            "--root",
            root.as_str(),
            "--git",
            "https://github.com/owner/wixauth",
            "--tag",
            "v1.2.3",
            "wixauth"
        ]
    );
    assert_eq!(
        runner.read("github_path").trim(),
        runner.path("temp/wixauth/bin").display().to_string()
    );
    assert_eq!(runner.read("github_output"), "version=wixauth 9.9.9\n");
}

#[test]
fn a_runner_without_a_release_binary_builds_from_source() {
    let runner = Runner::new();
    // 32-bit ARM: no release target (Linux ARM64 has one since aarch64-unknown-linux-musl).
    let out = runner.run(&[("RUNNER_ARCH", "ARM")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("no release binary for Linux/ARM "),
        "{stdout}"
    );
    // "latest" builds the default branch: no --tag.
    assert!(!runner.read("cargo_args").contains("--tag"));
}

#[test]
fn bad_inputs_fail_before_anything_is_fetched() {
    for (input, value, says) in [
        (
            "WIXAUTH_REPOSITORY",
            "",
            "set the action's repository input",
        ),
        (
            "WIXAUTH_REPOSITORY",
            "owner/x; rm -rf /",
            "is not owner/name",
        ),
        (
            "WIXAUTH_VERSION",
            "1.2.3 --locked",
            "neither latest nor a tag",
        ),
        ("WIXAUTH_FROM", "binary", "must be release or source"),
    ] {
        let runner = Runner::new();
        let out = runner.run(&[(input, value)]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{input}={value}: {stdout}");
        assert!(
            stdout.contains("::error::install wixauth:") && stdout.contains(says),
            "{input}={value}: {stdout}"
        );
        assert!(runner.read("cargo_args").is_empty(), "{input}={value}");
        assert!(runner.read("github_path").is_empty(), "{input}={value}");
    }
}
