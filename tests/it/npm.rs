//! The npm packages: scripts/npm-pack.sh on this build's binary, the tarballs installed into
//! throwaway projects with npm (offline) and pnpm, and `npx wixauth` run as users run it.
//! `#[ignore]`d: they need Node.js and npm (and npm/test's `npm ci` for pnpm); scripts/test.sh
//! provides both and runs them with `--include-ignored`.
#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::support::loopback::{assert_port_free, Running};
use crate::support::{closed_base, stderr, stdout, TestEnv, APP_ID, INSTANCE};

const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct Packed {
    pub main: PathBuf,
    pub platform: PathBuf,
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// npm and npx never reach a registry here: offline, and the registry is a closed port.
pub fn npm_env(cache: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("npm_config_offline", "true".into()),
        ("npm_config_registry", format!("{}/", closed_base())),
        ("npm_config_cache", cache.display().to_string()),
        ("npm_config_audit", "false".into()),
        ("npm_config_fund", "false".into()),
        ("npm_config_update_notifier", "false".into()),
        ("npm_config_yes", "false".into()),
    ]
}

/// Runs a command to completion, panicking with its output when it fails.
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    out
}

/// This build's binary without its symbols (the debug build is ~150 MB with them), copied
/// once per test run: what the npm packages and the fake release archives are made of.
pub fn stripped_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("stripped");
        std::fs::create_dir_all(&dir).expect("create the folder for the stripped binary");
        let bin = dir.join("wixauth");
        let built = assert_cmd::cargo::cargo_bin("wixauth");
        let stripped = Command::new("strip")
            .arg("-o")
            .arg(&bin)
            .arg(&built)
            .status();
        if !stripped.is_ok_and(|s| s.success()) {
            std::fs::copy(&built, &bin).expect("copy the binary");
        }
        bin
    })
}

/// The tarballs, packed once per test run from [`stripped_binary`].
pub fn packed() -> &'static Packed {
    static PACKED: OnceLock<Packed> = OnceLock::new();
    PACKED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("npm-pack");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the pack folder");
        let out = run_ok(
            Command::new(repo().join("scripts/npm-pack.sh"))
                .arg(stripped_binary())
                .arg(dir.join("out"))
                .envs(npm_env(&dir.join("npm-cache"))),
            "scripts/npm-pack.sh",
        );
        let printed: Vec<PathBuf> = stdout(&out).lines().map(PathBuf::from).collect();
        let packed = Packed {
            platform: dir.join(format!("out/wixauth-linux-x64-{VERSION}.tgz")),
            main: dir.join(format!("out/wixauth-{VERSION}.tgz")),
        };
        assert_eq!(printed, [packed.platform.clone(), packed.main.clone()]);
        packed
    })
}

/// A throwaway npm project with the two tarballs installed. It lives inside npm/test, so the
/// pinned packages of npm/test/node_modules (@wix/sdk, pnpm, typescript) resolve from it too.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn empty() -> Project {
        let dir = tempfile::Builder::new()
            .prefix(".scratch-")
            .tempdir_in(repo().join("npm/test"))
            .expect("a scratch folder in npm/test");
        std::fs::write(dir.path().join("package.json"), "{\"private\": true}\n").unwrap();
        Project { dir }
    }

    pub fn installed() -> Project {
        let p = Project::empty();
        let packed = packed();
        run_ok(
            p.command("npm")
                .arg("install")
                .arg(&packed.main)
                .arg(&packed.platform),
            "npm install of the tarballs",
        );
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// PROGRAM run in the project, offline.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.path())
            .envs(npm_env(&self.path().join(".npm-cache")))
            .stdin(Stdio::null());
        cmd
    }

    /// PROGRAM in the project with `env`'s wixauth environment (its emulator, config dir, file
    /// store) on top of the offline npm settings.
    pub fn with_env(&self, env: &TestEnv, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = self.command(program);
        for (key, value) in env.std_cmd().get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    /// `npx wixauth ARGS`, as [`Project::with_env`].
    pub fn npx(&self, env: &TestEnv, args: &[&str]) -> Command {
        let mut cmd = self.with_env(env, "npx");
        cmd.arg("wixauth").args(args);
        cmd
    }

    /// `node_modules/.bin/wixauth ARGS` (the shim, without npx in between).
    pub fn shim(&self, env: &TestEnv, args: &[&str]) -> Command {
        let mut cmd = self.with_env(env, self.path().join("node_modules/.bin/wixauth"));
        cmd.args(args);
        cmd
    }

    /// The installed platform package's binary.
    pub fn platform_bin(&self) -> PathBuf {
        self.path()
            .join("node_modules/@wixauth/linux-x64/bin/wixauth")
    }
}

/// One line on stderr, `wixauth: error: …`, and nothing from npm around it.
pub fn the_one_error_line(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{:?}: {err}", out.status);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want exactly one line on stderr: {err}");
    assert!(lines[0].starts_with("wixauth: error: "), "{err}");
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(out));
    lines[0].to_string()
}

/// The CI environment credentials of `env`'s app.
fn ci_credentials(env: &TestEnv) -> [(&'static str, String); 3] {
    [
        ("WIX_APP_ID", APP_ID.to_string()),
        ("WIX_APP_SECRET", env.secret.clone()),
        ("WIX_INSTANCE_ID", INSTANCE.to_string()),
    ]
}

fn tar_list(tgz: &Path) -> Vec<String> {
    let out = run_ok(Command::new("tar").arg("-tvzf").arg(tgz), "tar -t");
    stdout(&out).lines().map(String::from).collect()
}

fn tar_manifest(tgz: &Path) -> serde_json::Value {
    let out = run_ok(
        Command::new("tar")
            .arg("-xzOf")
            .arg(tgz)
            .arg("package/package.json"),
        "tar -x package.json",
    );
    serde_json::from_slice(&out.stdout).expect("package.json is JSON")
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn npm_pack_makes_a_binary_only_platform_package_and_the_main_one() {
    let packed = packed();
    let files = tar_list(&packed.platform);
    assert_eq!(files.len(), 2, "{files:#?}");
    assert!(files.iter().any(|l| l.ends_with(" package/package.json")));
    let bin = files.iter().find(|l| l.ends_with(" package/bin/wixauth"));
    assert!(
        bin.is_some_and(|l| l.starts_with("-rwxr-xr-x")),
        "{files:#?}"
    );
    let platform = tar_manifest(&packed.platform);
    assert_eq!(platform["name"], "@wixauth/linux-x64");
    assert_eq!(platform["version"], VERSION);
    assert_eq!(platform["os"], serde_json::json!(["linux"]));
    assert_eq!(platform["cpu"], serde_json::json!(["x64"]));
    assert!(
        platform["repository"]["url"].is_string(),
        "npm provenance needs it"
    );

    let main = tar_manifest(&packed.main);
    assert_eq!(main["version"], VERSION);
    assert_eq!(main["bin"]["wixauth"], "bin/wixauth.js");
    let optional = main["optionalDependencies"].as_object().expect("optional");
    let names: Vec<&str> = optional.keys().map(String::as_str).collect();
    for want in [
        "linux-x64",
        "linux-arm64",
        "darwin-arm64",
        "darwin-x64",
        "win32-x64",
    ] {
        assert!(
            names.contains(&format!("@wixauth/{want}").as_str()),
            "{names:?}"
        );
    }
    assert!(optional.values().all(|v| v == VERSION), "{optional:?}");
    for manifest in [&main, &platform] {
        assert!(
            manifest.get("scripts").is_none(),
            "no install scripts: {manifest}"
        );
    }
    let listed = tar_list(&packed.main).join("\n");
    for file in [
        "package/bin/wixauth.js",
        "package/lib/index.cjs",
        "package/lib/index.mjs",
        "package/lib/index.d.cts",
        "package/lib/index.d.mts",
        "package/LICENSE",
    ] {
        assert!(listed.contains(file), "{file} missing:\n{listed}");
    }
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn npm_pack_refuses_what_is_not_this_wixauth() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("not-a-binary");
    std::fs::write(&text, "#!/bin/sh\necho wixauth 0.1.0\n").unwrap();
    // A real x86_64 ELF that is not wixauth: its --version is checked on this machine.
    for (binary, says) in [
        (text.as_path(), "cannot tell the platform"),
        (Path::new("/bin/echo"), "--version says"),
    ] {
        let out = Command::new(repo().join("scripts/npm-pack.sh"))
            .arg(binary)
            .arg(dir.path().join("out"))
            .envs(npm_env(&dir.path().join("cache")))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert!(
            !dir.path().join("out").exists()
                || std::fs::read_dir(dir.path().join("out"))
                    .unwrap()
                    .next()
                    .is_none()
        );
    }
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn npx_runs_the_binary_against_the_emulator() {
    let env = TestEnv::new();
    let project = Project::installed();
    let out = run_ok(
        &mut project.npx(&env, &["--version"]),
        "npx wixauth --version",
    );
    assert_eq!(stdout(&out), format!("wixauth {VERSION}\n"));

    let out = run_ok(
        project.npx(&env, &["token"]).envs(ci_credentials(&env)),
        "npx wixauth token",
    );
    env.assert_no_leak(&out);
    let token = stdout(&out);
    assert!(
        token.ends_with('\n') && token.lines().count() == 1,
        "{token:?}"
    );
    assert!(
        env.emu.token_info(token.trim()).is_some(),
        "the emulator never issued {token}"
    );
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn a_closed_pipe_is_quiet_through_npx() {
    let env = TestEnv::new();
    let project = Project::installed();
    let out = project
        .with_env(&env, "sh")
        .args(["-c", "npx wixauth token | head -c1"])
        .envs(ci_credentials(&env))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 1);
    assert!(out.stderr.is_empty(), "{}", stderr(&out));

    // The reader gone before anything is written: wixauth's quiet 141 comes through.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = project
        .npx(&env, &["token"])
        .envs(ci_credentials(&env))
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(141),
        "{:?} {}",
        out.status,
        stderr(&out)
    );
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn exit_codes_2_3_4_pass_through_npx() {
    let env = TestEnv::new();
    let project = Project::installed();
    let out = project.npx(&env, &["token"]).output().unwrap();
    assert!(the_one_error_line(&out, 2).contains("wixauth login"));

    let mut wrong = ci_credentials(&env);
    wrong[1].1 = "not-the-secret".into();
    let out = project.npx(&env, &["token"]).envs(wrong).output().unwrap();
    assert!(the_one_error_line(&out, 3).contains("request id emulator"));

    let out = project
        .npx(&env, &["token"])
        .envs(ci_credentials(&env))
        .env("WIXAUTH_API_BASE", closed_base())
        .env("WIXAUTH_HTTP_TIMEOUT", "0.5")
        .output()
        .unwrap();
    env.assert_no_leak(&out);
    the_one_error_line(&out, 4);
}

/// Kills the whole process group when dropped, so nothing a failed test started lingers.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0)])
            .stderr(Stdio::null())
            .status();
    }
}

/// Starts `login --flow advanced` through `via` (npx, or the shim) in its own process group,
/// as a terminal's foreground job, presses Ctrl-C (SIGINT to the whole group) once it waits
/// for the browser, and returns how it ended.
fn ctrl_c_during_a_login(env: &TestEnv, project: &Project, npx: bool) -> Output {
    use std::os::unix::process::CommandExt;
    let (port, redirect) = env.new_redirect();
    let args = [
        "login",
        "--flow",
        "advanced",
        "--app-id",
        APP_ID,
        "--no-browser",
        "--redirect-url",
        &redirect,
    ];
    let mut cmd = if npx {
        project.npx(env, &args)
    } else {
        project.shim(env, &args)
    };
    cmd.env("WIX_APP_SECRET", &env.secret).process_group(0);
    let mut login = Running::spawn(cmd, None);
    let _group = Group(login.pid);
    login.installer_url();
    let sent = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", login.pid)])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(
        stderr(&out).contains("wixauth: interrupted")
            && !stderr(&out).contains("error: interrupted"),
        "{}",
        stderr(&out)
    );
    assert_port_free(port);
    out
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn ctrl_c_exits_130_and_releases_the_port() {
    let env = TestEnv::new();
    let project = Project::installed();
    // The shim passes wixauth's 130 on as it is.
    let out = ctrl_c_during_a_login(&env, &project, false);
    assert_eq!(out.status.code(), Some(130), "{:?}", out.status);
    // npx (npm) got the SIGINT too and re-raises it once its child is done: a shell shows that
    // as 130 as well (128 + SIGINT).
    let out = ctrl_c_during_a_login(&env, &project, true);
    let shell_sees = out.status.code().or(out.status.signal().map(|s| 128 + s));
    assert_eq!(shell_sees, Some(130), "{:?}", out.status);
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn a_signal_to_the_shim_alone_reaches_wixauth() {
    let env = TestEnv::new();
    let project = Project::installed();
    // The shim itself (node_modules/.bin/wixauth), not npx: the signal goes to it only.
    let mut shim = project.shim(
        &env,
        &["exec", "--", "sh", "-c", "echo started >&2; exec sleep 30"],
    );
    shim.envs(ci_credentials(&env));
    let mut running = Running::spawn(shim, None);
    running.wait_line("the command's start", |l| l == "started");
    running.signal("TERM");
    let out = running.wait_for(Duration::from_secs(10));
    // wixauth exec passed SIGTERM on to sleep and reported it: 128 + 15.
    assert_eq!(
        out.status.code(),
        Some(143),
        "{:?} {}",
        out.status,
        stderr(&out)
    );
}

/// Replaces the installed binary with a script (this project is throwaway).
fn replace_binary(project: &Project, script: &str) {
    let bin = project.platform_bin();
    std::fs::remove_file(&bin).unwrap();
    std::fs::write(&bin, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn a_binary_killed_by_a_signal_ends_the_shim_the_same_way() {
    let project = Project::installed();
    let shim = project.path().join("node_modules/.bin/wixauth");
    replace_binary(&project, "#!/bin/sh\nkill -TERM $$\n");
    let status = project.command(&shim).status().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    // Node ignores SIGPIPE, so it cannot die of it: the shell's 128 + 13 instead.
    replace_binary(&project, "#!/bin/sh\nkill -PIPE $$\n");
    let status = project.command(&shim).status().unwrap();
    assert_eq!(status.code(), Some(141), "{status:?}");
    // Arguments and stdin reach the binary unchanged; its exit code comes back.
    replace_binary(&project, "#!/bin/sh\nprintf '%s|' \"$@\"; cat; exit 7\n");
    let mut child = project
        .command(&shim)
        .args(["a b", "--x=-y", ""])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(stdout(&out), "a b|--x=-y||from stdin");
}
