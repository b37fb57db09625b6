//! Shared test harness: a private config dir, the Wix emulator, and a `wixauth`
//! command with a clean environment. Every run through [`TestEnv::run`] asserts that
//! no app secret or refresh token shows up in stdout or stderr.
#![allow(dead_code)]

pub mod crowd;
pub mod emulator;
pub mod fake_handler;
pub mod loopback;

use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

// Not every test file injects faults.
#[allow(unused_imports)]
pub use emulator::{Emulator, Fault};

pub const APP_ID: &str = "app-11111111";
pub const INSTANCE: &str = "inst-22222222";
/// Where the default profile keeps the test app's secret (the entry is named with the app id).
pub const APP_SECRET_ENTRY: &str = "default/app-secret#app-11111111";

/// Every variable wixauth reads, removed so the developer's own setup never leaks in.
const WIXAUTH_VARS: &[&str] = &[
    "WIXAUTH_PROFILE",
    "WIX_INSTANCE_ID",
    "WIXAUTH_CONFIG_DIR",
    "WIXAUTH_SECRET_STORE",
    "WIXAUTH_KEYRING_SERVICE",
    "WIXAUTH_API_BASE",
    "WIXAUTH_INSTALLER_BASE",
    "WIX_APP_ID",
    "WIX_APP_SECRET",
    "WIX_REFRESH_TOKEN",
    "WIX_WEBHOOK_PUBLIC_KEY",
    "WIX_CLIENT_ID",
    "WIX_CLIENT_SECRET",
    "WIX_API_KEY",
    "WIX_SITE_ID",
    "WIX_ACCOUNT_ID",
    "WIXAUTH_HTTP_TIMEOUT",
    "WIXAUTH_NO_CACHE",
    "BROWSER",
    "NO_COLOR",
    "DISPLAY",
    "WAYLAND_DISPLAY",
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
        let tag = format!(
            "{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let emu = Emulator::start();
        // Its own letters, shared with nothing else printed (the keyring service has `tag`).
        let secret = format!(
            "s3cret-{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(tag.as_bytes()))
        )[..31]
            .to_string();
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
        let mut cmd = assert_cmd::Command::from_std(self.std_cmd());
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// The test app's CI credentials on `cmd` (environment credentials go to any base the
    /// user names; stored ones only to the base they were stored for).
    pub fn ci<'c>(&self, cmd: &'c mut assert_cmd::Command) -> &'c mut assert_cmd::Command {
        cmd.env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &self.secret)
            .env("WIX_INSTANCE_ID", INSTANCE)
    }

    /// Runs a command and checks no secret leaked into its output.
    pub fn run(&self, cmd: &mut assert_cmd::Command) -> Output {
        let output = cmd.output().expect("run wixauth");
        self.assert_no_leak(&output);
        output
    }

    pub fn assert_no_leak(&self, output: &Output) {
        self.assert_no_leak_but(output, None);
    }

    /// Every secret the test knows of: the app secret, the registered extras, and what the
    /// emulator issued or was given (refresh tokens, Headless client secrets, API keys).
    fn known_secrets(&self) -> Vec<String> {
        let mut secrets = vec![self.secret.clone()];
        secrets.extend(self.more_secrets.lock().unwrap().iter().cloned());
        secrets.extend(self.emu.refresh_tokens());
        secrets.extend(self.emu.identity_secrets());
        secrets
    }

    /// As [`TestEnv::assert_no_leak`], but `shown` may be on stdout: what the command is for
    /// (`token` for an API key profile prints the key). Never on stderr.
    fn assert_no_leak_but(&self, output: &Output, shown: Option<&str>) {
        let (out, err) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        for s in self.known_secrets() {
            // A part of a secret is a leak too (`-v` printing a prefix, an error quoting it).
            let chars: Vec<char> = s.chars().collect();
            let pieces: Vec<String> = match chars.len() > 8 {
                true => chars.windows(8).map(|w| w.iter().collect()).collect(),
                false => vec![s.clone()],
            };
            for piece in pieces {
                assert!(
                    !err.contains(&piece),
                    "a piece of a secret ({piece:?}) leaked into stderr:\n{err}"
                );
                if Some(s.as_str()) != shown {
                    assert!(
                        !out.contains(&piece),
                        "a piece of a secret ({piece:?}) leaked into stdout:\n{out}"
                    );
                }
            }
        }
    }

    /// Runs a command whose stdout is `shown` (an API key for `token`), checking that no other
    /// secret reaches its output and that `shown` never reaches stderr.
    pub fn run_showing(&self, cmd: &mut assert_cmd::Command, shown: &str) -> Output {
        let output = cmd.output().expect("run wixauth");
        self.assert_no_leak_but(&output, Some(shown));
        output
    }

    /// `wixauth login --flow basic` for INSTANCE with the secret on stdin; asserts success.
    pub fn login_basic(&self) {
        let out = self.run(&mut self.login_basic_cmd());
        assert!(out.status.success(), "login failed: {}", stderr(&out));
    }

    /// The command [`TestEnv::login_basic`] runs, not run yet (for a test to add to it).
    pub fn login_basic_cmd(&self) -> assert_cmd::Command {
        let mut cmd = self.cmd();
        cmd.args([
            "login",
            "--flow",
            "basic",
            "--app-id",
            APP_ID,
            "--instance-id",
            INSTANCE,
            "--secret-stdin",
        ])
        .write_stdin(format!("{}\n", self.secret));
        cmd
    }

    /// INSTANCE, then INSTANCE_2 of the same app (now the default), both by basic login;
    /// asserts both succeed.
    pub fn login_two_instances(&self) {
        self.emu.install(APP_ID, INSTANCE_2);
        self.login_basic();
        let out = self.login_with(
            &["--app-id", APP_ID, "--instance-id", INSTANCE_2],
            &self.secret,
        );
        assert!(
            out.status.success(),
            "login of {INSTANCE_2} failed: {}",
            stderr(&out)
        );
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
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("wixauth: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "want one error line, got: {err}");
    assert!(
        out.stdout.is_empty(),
        "stdout must stay empty on failure: {}",
        stdout(out)
    );
    errors[0].to_string()
}

// ------------------------------------------------------------------ helpers for the issue-2 suites

pub const INSTANCE_2: &str = "inst-33333333";

impl TestEnv {
    /// Requests the emulator has seen for Create Access Token.
    pub fn token_requests(&self) -> usize {
        self.emu.count("/oauth2/token")
    }

    /// A value unique to this test, for another secret (an API key, a client secret): unlike
    /// `format!("…{}", self.secret)` it does not contain the app secret.
    pub fn unique(&self, prefix: &str) -> String {
        // Its own letters after a short prefix, as the app secret's: the leak check looks for
        // every 8 characters of it, so it shares none with anything else printed.
        let seed = format!("{prefix}{}", self.keyring_service);
        let hex = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(seed.as_bytes()));
        format!("{prefix}{}", &hex[..28])
    }

    /// Starts every command at once (stdout and stderr piped) and returns their outputs in
    /// order, each checked for leaks.
    pub fn run_all_at_once(&self, commands: Vec<std::process::Command>) -> Vec<Output> {
        let children: Vec<_> = commands
            .into_iter()
            .map(|mut cmd| {
                cmd.stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        children
            .into_iter()
            .map(|child| {
                let out = child.wait_with_output().expect("wait");
                self.assert_no_leak(&out);
                out
            })
            .collect()
    }

    /// Registers a string that must never be printed (e.g. a second app's secret).
    pub fn add_secret(&self, s: &str) {
        self.more_secrets.lock().unwrap().push(s.to_string());
    }

    /// `wixauth login --flow basic --secret-stdin` plus `args`, with `secret` on stdin (not asserted).
    pub fn login_with(&self, args: &[&str], secret: &str) -> Output {
        self.run(
            self.cmd()
                .args(["login", "--flow", "basic", "--secret-stdin"])
                .args(args)
                .write_stdin(format!("{secret}\n")),
        )
    }

    /// Runs `wixauth token` plus `args`, asserts success and the one-line shape, returns the token.
    pub fn token_ok(&self, args: &[&str]) -> String {
        let out = self.run(self.cmd().arg("token").args(args));
        assert!(
            out.status.success(),
            "token {args:?} failed: {}",
            stderr(&out)
        );
        let text = stdout(&out);
        assert!(
            text.ends_with('\n') && text.lines().count() == 1,
            "not one line: {text:?}"
        );
        text.trim_end_matches('\n').to_string()
    }

    /// The stored credentials still produce a brand-new token that the emulator issued.
    pub fn assert_credentials_work(&self) {
        let token = self.token_ok(&["--no-cache"]);
        assert!(
            self.emu.token_info(&token).is_some(),
            "the emulator never issued {token}"
        );
    }

    pub fn config_file(&self) -> std::path::PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn secrets_file(&self) -> std::path::PathBuf {
        self.dir.path().join("secrets.toml")
    }

    /// The cached token files (`tokens/*.json`), sorted.
    pub fn cache_files(&self) -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("tokens")) else {
            return vec![];
        };
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
    }

    /// The only cached token file; panics when there is not exactly one.
    pub fn cache_file(&self) -> std::path::PathBuf {
        let files = self.cache_files();
        assert_eq!(files.len(), 1, "want exactly one cache file, got {files:?}");
        files[0].clone()
    }

    /// Rewrites `expires_at` of the only cache file (Unix seconds).
    pub fn set_cached_expiry(&self, expires_at: u64) {
        let path = self.cache_file();
        let mut value: serde_json::Value =
            serde_json::from_str(&read(&path)).expect("cache file is JSON");
        value["expires_at"] = serde_json::json!(expires_at);
        std::fs::write(&path, value.to_string()).expect("rewrite cache file");
    }

    /// The access token held in the only cache file.
    pub fn cached_token(&self) -> String {
        let value: serde_json::Value =
            serde_json::from_str(&read(&self.cache_file())).expect("cache file is JSON");
        value["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }
}

pub fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A `http://127.0.0.1:PORT` on which nothing listens (bound, then released).
pub fn closed_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Permission bits of a file.
#[cfg(unix)]
pub fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Parses stdout as one JSON document.
pub fn json_out(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(out)))
}

// ------------------------------------------------------------------ helpers for the issue-3 suites

/// A TCP port nothing listens on right now (bound on 127.0.0.1:0, then released), so tests
/// running in parallel never share a redirect port.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

impl TestEnv {
    /// Registers `url` as a Redirect URL of APP_ID (besides the default one), as the app
    /// dashboard would.
    pub fn register_redirect(&self, url: &str) {
        self.emu.register_app(
            APP_ID,
            &self.secret,
            &["http://localhost:8338/callback", url],
        );
    }

    /// `wixauth` as a plain `std::process::Command` (for processes a test must drive while they
    /// run); [`TestEnv::cmd`] is this one under assert_cmd.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("wixauth"));
        for var in WIXAUTH_VARS {
            cmd.env_remove(var);
        }
        cmd.env("WIXAUTH_CONFIG_DIR", self.dir.path())
            .env("WIXAUTH_API_BASE", self.emu.base())
            .env("WIXAUTH_INSTALLER_BASE", self.emu.base())
            .env("WIXAUTH_SECRET_STORE", "file")
            .env("WIXAUTH_KEYRING_SERVICE", &self.keyring_service)
            .env("WIXAUTH_HTTP_TIMEOUT", "2");
        cmd
    }
}

// ------------------------------------------------------------------ helpers for the issue-4 suites

impl TestEnv {
    /// Replaces the access token in the only cache file (keeping its expiry), e.g. with one
    /// the emulator never issued, as if Wix had revoked the cached token.
    pub fn set_cached_token(&self, token: &str) {
        let path = self.cache_file();
        let mut value: serde_json::Value =
            serde_json::from_str(&read(&path)).expect("cache file is JSON");
        value["access_token"] = serde_json::json!(token);
        std::fs::write(&path, value.to_string()).expect("rewrite cache file");
    }

    /// The requests the emulator saw for `path`, in order.
    pub fn seen_at(&self, path: &str) -> Vec<emulator::Seen> {
        self.emu
            .seen()
            .into_iter()
            .filter(|s| s.path == path)
            .collect()
    }
}

/// Sends every non-loopback request through a proxy on a closed port, so a test can never
/// reach the Internet even when the code under test misbehaves.
pub fn no_outside_network(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    cmd.envs(blocked_proxy_env())
}

/// The environment [`no_outside_network`] sets: every proxy variable pointing at a closed port,
/// loopback exempted.
pub fn blocked_proxy_env() -> Vec<(&'static str, String)> {
    let proxy = closed_base();
    let mut vars: Vec<_> = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ]
    .into_iter()
    .map(|name| (name, proxy.clone()))
    .collect();
    for name in ["NO_PROXY", "no_proxy"] {
        vars.push((name, "127.0.0.1,localhost,::1".to_string()));
    }
    vars
}

/// Quotes `s` for `sh`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl TestEnv {
    /// `script` running `wixauth ARGS` on a pseudo-terminal, with this test's environment.
    pub fn tty_command(&self, args: &[&str]) -> std::process::Command {
        self.tty_command_after("", args)
    }

    /// As [`TestEnv::tty_command`], with shell words run on the terminal first (`stty cols 40; `,
    /// ending in `;`).
    pub fn tty_command_after(&self, before: &str, args: &[&str]) -> std::process::Command {
        let wixauth = self.std_cmd();
        // An 80×24 terminal, as a person's default one is (`before` may set another).
        let mut line = format!("stty cols 80 rows 24 2>/dev/null; {before}exec ");
        line.push_str(&sh_quote(&wixauth.get_program().to_string_lossy()));
        for arg in args {
            line.push(' ');
            line.push_str(&sh_quote(arg));
        }
        let mut cmd = std::process::Command::new("script");
        for (key, value) in wixauth.get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
            .env("TERM", "xterm-256color");
        cmd
    }

    /// Runs `wixauth ARGS` with stdin, stdout and stderr on a pseudo-terminal (util-linux
    /// `script`), as a person at a terminal would; `extra_env` is added to the environment.
    /// Returns `None` (after saying so) when `script` is missing, outside CI.
    /// The terminal merges stdout and stderr, and turns `\n` into `\r\n`.
    pub fn run_in_tty(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Option<Output> {
        let mut cmd = assert_cmd::Command::from_std(self.tty_command(args));
        for (key, value) in extra_env {
            cmd.env(key, value);
        }
        cmd.timeout(std::time::Duration::from_secs(60));
        match cmd.output() {
            Ok(output) => {
                self.assert_no_leak(&output);
                Some(output)
            }
            Err(_) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping a terminal test: `script` (util-linux) is not installed");
                None
            }
            Err(e) => panic!("`script` (util-linux) is needed for the terminal tests: {e}"),
        }
    }
}

/// The URL a login's private forwarder file sends the browser to.
pub fn forwarded_url(path: &std::path::Path) -> String {
    let html = std::fs::read_to_string(path).expect("the forwarder file");
    let json = html
        .split("location.replace(")
        .nth(1)
        .and_then(|rest| rest.split(")</script>").next())
        .expect("a forward in the file");
    serde_json::from_str(&json.replace("\\u003c", "<")).expect("a JSON string")
}

/// A terminal line as it shows: escape sequences (colours, erase, cursor moves) removed.
pub fn visible(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}
