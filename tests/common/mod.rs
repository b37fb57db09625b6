//! Shared test harness: a private config dir, the Wix emulator, and a `wixauth`
//! command with a clean environment. Every run through [`TestEnv::run`] asserts that
//! no app secret or refresh token shows up in stdout or stderr.
#![allow(dead_code)]

pub mod emulator;

use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use emulator::{Emulator, Fault};

pub const APP_ID: &str = "app-11111111";
pub const INSTANCE: &str = "inst-22222222";

/// Every variable wixauth reads, removed so the developer's own setup never leaks in.
const WIXAUTH_VARS: &[&str] = &[
    "WIXAUTH_PROFILE", "WIX_INSTANCE_ID", "WIXAUTH_CONFIG_DIR", "WIXAUTH_SECRET_STORE",
    "WIXAUTH_KEYRING_SERVICE", "WIXAUTH_API_BASE", "WIXAUTH_INSTALLER_BASE", "WIX_APP_ID",
    "WIX_APP_SECRET", "WIX_REFRESH_TOKEN", "WIXAUTH_HTTP_TIMEOUT", "WIXAUTH_NO_CACHE", "BROWSER",
    "NO_COLOR", "DISPLAY", "WAYLAND_DISPLAY",
];

static SERIAL: AtomicUsize = AtomicUsize::new(0);

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub emu: Emulator,
    /// The app secret registered with the emulator; unique per test so leaks are attributable.
    pub secret: String,
    /// A keyring service name no other test (and no user entry) shares.
    pub keyring_service: String,
    /// Extra secrets (refresh tokens…) that must never be printed.
    pub more_secrets: std::sync::Mutex<Vec<String>>,
}

impl TestEnv {
    /// A config dir, an emulator knowing APP_ID (with the secret) installed on INSTANCE.
    pub fn new() -> TestEnv {
        let n = SERIAL.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}-{n}-{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0));
        let emu = Emulator::start();
        let secret = format!("s3cret-{tag}");
        emu.register_app(APP_ID, &secret, &["http://localhost:8338/callback"]);
        emu.install(APP_ID, INSTANCE);
        TestEnv {
            dir: tempfile::tempdir().expect("tempdir"),
            emu,
            secret,
            keyring_service: format!("wixauth-test-{tag}"),
            more_secrets: Default::default(),
        }
    }

    pub fn config_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// `wixauth` with only this test's environment: file store, the emulator as Wix.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("wixauth").expect("binary");
        for var in WIXAUTH_VARS {
            cmd.env_remove(var);
        }
        cmd.env("WIXAUTH_CONFIG_DIR", self.dir.path())
            .env("WIXAUTH_API_BASE", self.emu.base())
            .env("WIXAUTH_INSTALLER_BASE", self.emu.base())
            .env("WIXAUTH_SECRET_STORE", "file")
            .env("WIXAUTH_KEYRING_SERVICE", &self.keyring_service)
            .env("WIXAUTH_HTTP_TIMEOUT", "2")
            .timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// Runs a command and checks no secret leaked into its output.
    pub fn run(&self, cmd: &mut assert_cmd::Command) -> Output {
        let output = cmd.output().expect("run wixauth");
        self.assert_no_leak(&output);
        output
    }

    pub fn assert_no_leak(&self, output: &Output) {
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let mut secrets = vec![self.secret.clone()];
        secrets.extend(self.more_secrets.lock().unwrap().iter().cloned());
        secrets.extend(self.emu.refresh_tokens());
        for s in secrets {
            assert!(!text.contains(&s), "a secret leaked into the output:\n{text}");
        }
    }

    /// `wixauth login --flow basic` for INSTANCE with the secret on stdin; asserts success.
    pub fn login_basic(&self) {
        let out = self.run(
            self.cmd()
                .args(["login", "--flow", "basic", "--app-id", APP_ID, "--instance-id", INSTANCE, "--secret-stdin"])
                .write_stdin(format!("{}\n", self.secret)),
        );
        assert!(out.status.success(), "login failed: {}", stderr(&out));
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code and that stderr ends with exactly one `wixauth: error:` line.
pub fn assert_fails(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("wixauth: error:")).collect();
    assert_eq!(errors.len(), 1, "want one error line, got: {err}");
    assert!(out.stdout.is_empty(), "stdout must stay empty on failure: {}", stdout(out));
    errors[0].to_string()
}
