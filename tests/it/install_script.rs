//! install.sh, run with `sh` (dash on Debian) against a local HTTP server on 127.0.0.1 that
//! serves a fake release folder made from this build's binary: the archive for the machine,
//! its SHA-256 file, and what happens when either is wrong or the machine has no release.
// The fake release holds the Linux x86_64 archive made from this build (and arm64 stand-ins).
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use crate::npm::{repo, run_ok, stripped_binary};
use crate::support::{stderr, stdout};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const LINUX_X64: &str = "x86_64-unknown-linux-musl";

/// Serves files under `root` (GET only, 404 otherwise) and records every requested path.
struct Server {
    base: String,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = paths.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                // The rest of the request head.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                seen.lock().unwrap().push(path.clone());
                let file = root.join(path.trim_start_matches('/'));
                let safe = !path.contains("..");
                let (status, body) = match std::fs::read(&file) {
                    Ok(body) if safe && file.is_file() => ("200 OK", body),
                    _ => ("404 Not Found", b"not found".to_vec()),
                };
                let mut stream = stream;
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Server { base, paths }
    }

    fn requested(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

/// A release folder: `v<version>/` and `latest/`, each with the archive of every target given
/// (`wixauth-<target>/wixauth` inside, as release.yml packs it) and its `.sha256`.
struct Release {
    root: tempfile::TempDir,
    server: Server,
}

impl Release {
    fn new() -> Release {
        let root = tempfile::tempdir().unwrap();
        let stand_in = root.path().join("stand-in");
        std::fs::write(&stand_in, "#!/bin/sh\necho wixauth 0.1.0-arm64-stand-in\n").unwrap();
        for tag in [format!("v{VERSION}"), "latest".into()] {
            let dir = root.path().join(&tag);
            std::fs::create_dir_all(&dir).unwrap();
            for (target, binary) in [
                (LINUX_X64, stripped_binary()),
                ("aarch64-unknown-linux-musl", stand_in.as_path()),
                ("aarch64-apple-darwin", stand_in.as_path()),
            ] {
                pack(&dir, target, binary);
            }
        }
        let server = Server::start(root.path().to_path_buf());
        Release { root, server }
    }

    fn archive(&self, tag: &str, target: &str) -> PathBuf {
        self.root
            .path()
            .join(tag)
            .join(format!("wixauth-{target}.tar.gz"))
    }
}

/// `wixauth-<target>.tar.gz` and its `HASH  NAME` file, made with tar and sha256sum like the
/// release workflow.
fn pack(dir: &Path, target: &str, binary: &Path) {
    let name = format!("wixauth-{target}");
    std::fs::create_dir_all(dir.join(&name)).unwrap();
    std::fs::copy(binary, dir.join(&name).join("wixauth")).unwrap();
    run_ok(
        Command::new("tar")
            .current_dir(dir)
            .args(["-czf", &format!("{name}.tar.gz"), &name]),
        "tar",
    );
    let out = run_ok(
        Command::new("sha256sum")
            .current_dir(dir)
            .arg(format!("{name}.tar.gz")),
        "sha256sum",
    );
    std::fs::write(dir.join(format!("{name}.tar.gz.sha256")), &out.stdout).unwrap();
    std::fs::remove_dir_all(dir.join(&name)).unwrap();
}

/// A user's machine: HOME, TMPDIR, and a PATH whose `uname` may be a stand-in.
struct Machine {
    home: tempfile::TempDir,
}

impl Machine {
    fn new() -> Machine {
        let home = tempfile::tempdir().unwrap();
        for dir in ["tmp", "fakebin"] {
            std::fs::create_dir(home.path().join(dir)).unwrap();
        }
        Machine { home }
    }

    /// Makes `uname -s` / `uname -m` answer OS / ARCH.
    fn pretend(&self, os: &str, arch: &str) {
        use std::os::unix::fs::PermissionsExt;
        let uname = self.home.path().join("fakebin/uname");
        let script = format!("#!/bin/sh\ncase $1 in -s) echo {os} ;; -m) echo {arch} ;; esac\n");
        std::fs::write(&uname, script).unwrap();
        std::fs::set_permissions(&uname, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn install(&self, release: &Release, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.home.path().join("fakebin").display(),
            std::env::var("PATH").unwrap()
        );
        Command::new("sh")
            .arg(repo().join("install.sh"))
            .args(args)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.home.path())
            .env("TMPDIR", self.home.path().join("tmp"))
            .env("WIXAUTH_RELEASE_BASE", &release.server.base)
            .output()
            .unwrap()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.home.path().join(rel)
    }

    /// The temporary folder is empty again: nothing half-downloaded is left.
    fn assert_tmp_clean(&self) {
        let left: Vec<_> = std::fs::read_dir(self.path("tmp"))
            .unwrap()
            .flatten()
            .collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    }
}

fn one_error_line(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{}{err}", stdout(out));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want one line: {err}");
    assert!(lines[0].starts_with("install.sh: error: "), "{err}");
    lines[0].to_string()
}

#[test]
fn installs_the_machine_s_archive_into_a_new_folder_after_checking_it() {
    let release = Release::new();
    let machine = Machine::new();
    let to = machine.path("new/bin");
    let out = machine.install(
        &release,
        &["--to", to.to_str().unwrap(), "--version", VERSION],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let bin = to.join("wixauth");
    let version = run_ok(Command::new(&bin).arg("--version"), "wixauth --version");
    assert_eq!(stdout(&version), format!("wixauth {VERSION}\n"));
    assert_eq!(crate::support::mode(&bin), 0o755);
    assert!(stdout(&out).contains("SHA-256 checked"), "{}", stdout(&out));
    let archive = format!("/v{VERSION}/wixauth-{LINUX_X64}.tar.gz");
    assert_eq!(
        release.server.requested(),
        [archive.clone(), format!("{archive}.sha256")]
    );
    machine.assert_tmp_clean();
}

#[test]
fn defaults_to_latest_into_local_bin_and_takes_a_v_tag() {
    let release = Release::new();
    let machine = Machine::new();
    let out = machine.install(&release, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(machine.path(".local/bin/wixauth").is_file());
    assert!(stdout(&out).contains("is not on PATH"), "{}", stdout(&out));
    let out = machine.install(&release, &[&format!("--version=v{VERSION}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let requested = release.server.requested();
    assert_eq!(requested[0], format!("/latest/wixauth-{LINUX_X64}.tar.gz"));
    assert_eq!(
        requested[2],
        format!("/v{VERSION}/wixauth-{LINUX_X64}.tar.gz")
    );
}

#[test]
fn picks_the_arm64_archives_on_arm64_linux_and_macos() {
    let release = Release::new();
    for (os, arch, target) in [
        ("Linux", "aarch64", "aarch64-unknown-linux-musl"),
        ("Darwin", "arm64", "aarch64-apple-darwin"),
    ] {
        let machine = Machine::new();
        machine.pretend(os, arch);
        let out = machine.install(&release, &[]);
        assert!(out.status.success(), "{os}/{arch}: {}", stderr(&out));
        let last = release.server.requested();
        assert_eq!(
            last[last.len() - 1],
            format!("/latest/wixauth-{target}.tar.gz.sha256")
        );
        assert!(stdout(&out).contains("arm64-stand-in"), "{}", stdout(&out));
    }
}

#[test]
fn a_checksum_mismatch_installs_nothing() {
    let release = Release::new();
    // One byte of the archive changed after its .sha256 was written.
    let archive = release.archive("latest", LINUX_X64);
    let mut bytes = std::fs::read(&archive).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&archive, bytes).unwrap();
    let machine = Machine::new();
    let to = machine.path("bin");
    let line = one_error_line(&machine.install(&release, &["--to", to.to_str().unwrap()]));
    assert!(line.contains("does not match its SHA-256"), "{line}");
    assert!(!to.exists(), "the folder was created for nothing");
    machine.assert_tmp_clean();

    // A .sha256 for another archive is refused too, even when its hash is right for that one.
    let sums = release
        .archive("latest", LINUX_X64)
        .with_extension("gz.sha256");
    let text = std::fs::read_to_string(&sums).unwrap();
    std::fs::write(&sums, text.replace(LINUX_X64, "x86_64-apple-darwin")).unwrap();
    let line = one_error_line(&machine.install(&release, &["--to", to.to_str().unwrap()]));
    assert!(line.contains("is for"), "{line}");
    assert!(!to.exists());
}

#[test]
fn an_unknown_platform_or_release_is_one_line() {
    let release = Release::new();
    for (os, arch) in [
        ("FreeBSD", "amd64"),
        ("Linux", "riscv64"),
        ("MINGW64_NT-10.0", "x86_64"),
    ] {
        let machine = Machine::new();
        machine.pretend(os, arch);
        let line = one_error_line(&machine.install(&release, &[]));
        assert!(
            line.contains(&format!("no wixauth release for {os}/{arch}")),
            "{line}"
        );
        assert!(line.contains("cargo install --locked wixauth"), "{line}");
    }
    assert!(
        release.server.requested().is_empty(),
        "nothing is downloaded"
    );

    let machine = Machine::new();
    let line = one_error_line(&machine.install(&release, &["--version", "9.9.9"]));
    assert!(line.contains("could not download"), "{line}");
    let line = one_error_line(&machine.install(&release, &["--version", "../x"]));
    assert!(line.contains("expected 1.2.3"), "{line}");
    machine.assert_tmp_clean();
    assert!(!machine.path(".local/bin").exists());
}

// ---------------------------------------------------------------- the Action's release path

/// scripts/install-action.sh (action.yml's body) as a runner would run it, against the same fake
/// release, with a stand-in `gh` that records its arguments and answers `gh_exit`.
fn run_action(release: &Release, arch: &str, gh_exit: i32) -> (Output, Machine) {
    use std::os::unix::fs::PermissionsExt;
    let machine = Machine::new();
    let gh = machine.path("fakebin/gh");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$GH_ARGS\"\n[ \"$GH_TOKEN\" = test-token ] || exit 9\nexit {gh_exit}\n"
    );
    std::fs::write(&gh, script).unwrap();
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        machine.path("fakebin").display(),
        std::env::var("PATH").unwrap()
    );
    let out = Command::new("bash")
        .arg(repo().join("scripts/install-action.sh"))
        .env_clear()
        .env("PATH", path)
        .env("RUNNER_TEMP", machine.path("tmp"))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", arch)
        .env("GITHUB_PATH", machine.path("github_path"))
        .env("GITHUB_OUTPUT", machine.path("github_output"))
        .env("GH_ARGS", machine.path("gh_args"))
        .env("GH_TOKEN", "test-token")
        .env("WIXAUTH_REPOSITORY", "owner/wixauth")
        .env("WIXAUTH_RELEASE_BASE", &release.server.base)
        .output()
        .unwrap();
    (out, machine)
}

fn read_or_empty(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn the_action_installs_a_release_only_once_gh_verifies_its_attestation() {
    let release = Release::new();
    let (out, machine) = run_action(&release, "X64", 0);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let gh: Vec<String> = read_or_empty(&machine.path("gh_args"))
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(gh.len(), 7, "{gh:?}");
    assert_eq!(gh[..2], ["attestation", "verify"]);
    assert!(
        gh[2].ends_with(&format!("/wixauth-{LINUX_X64}.tar.gz")),
        "{gh:?}"
    );
    assert_eq!(
        gh[3..],
        [
            "--repo",
            "owner/wixauth",
            "--signer-workflow",
            "owner/wixauth/.github/workflows/release.yml"
        ]
    );
    let bin_dir = machine.path("tmp/wixauth/bin");
    assert_eq!(
        read_or_empty(&machine.path("github_path")).trim(),
        bin_dir.display().to_string()
    );
    assert_eq!(
        read_or_empty(&machine.path("github_output")),
        format!("version=wixauth {VERSION}\n")
    );

    // gh says no: nothing is installed and nothing is put on PATH, whatever the checksum said.
    let (out, machine) = run_action(&release, "X64", 1);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("::error::install wixauth:")
            && stdout(&out).contains("no valid build provenance attestation"),
        "{}",
        stdout(&out)
    );
    assert!(!machine.path("tmp/wixauth/bin/wixauth").exists());
    assert!(read_or_empty(&machine.path("github_path")).is_empty());
}

#[test]
fn the_action_has_a_release_binary_for_linux_arm64() {
    let release = Release::new();
    let (out, machine) = run_action(&release, "ARM64", 0);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let archive = "/latest/wixauth-aarch64-unknown-linux-musl.tar.gz";
    assert_eq!(
        release.server.requested(),
        [archive.to_string(), format!("{archive}.sha256")]
    );
    assert!(read_or_empty(&machine.path("github_output")).contains("arm64-stand-in"));
}
