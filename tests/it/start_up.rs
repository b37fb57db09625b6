//! The binary's own start-up on Linux with glibc (src/main.rs skips std's `lang_start`): what it
//! must still do, checked on the built binary. Name resolution is checked here too, since the
//! shipped binary is the one that has to resolve `localhost`.
#![cfg(unix)]

use crate::support::*;

/// `env.std_cmd()` run through `sh -c SCRIPT` with the same environment; `$0` is wixauth.
fn sh(env: &TestEnv, script: &str, args: &[&str]) -> std::process::Output {
    let wixauth = env.std_cmd();
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg(wixauth.get_program())
        .args(args)
        .env_clear();
    for (name, value) in wixauth.get_envs() {
        if let Some(value) = value {
            cmd.env(name, value);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let out = cmd.output().expect("run sh");
    env.assert_no_leak(&out);
    out
}

#[test]
fn a_closed_stderr_is_reopened_on_dev_null() {
    // Otherwise the first file wixauth opens takes descriptor 2: here the instance's lock file,
    // held while the token is requested, so the -v log lines would be written into it.
    let env = TestEnv::new();
    env.login_basic();
    let out = sh(
        &env,
        r#"exec "$0" "$@" 2>&-"#,
        &["-v", "token", "--no-cache"],
    );
    assert!(out.status.success(), "{:?}", out.status);
    assert!(!stdout(&out).trim().is_empty());
    let locks = env.config_dir().join("locks");
    let mut seen = 0;
    for entry in std::fs::read_dir(&locks).expect("locks/").flatten() {
        seen += 1;
        let text = read(&entry.path());
        assert!(text.is_empty(), "{} holds {text:?}", entry.path().display());
    }
    assert!(seen > 0, "no lock file was taken: the check proves nothing");
    let cached: serde_json::Value =
        serde_json::from_str(&read(&env.cache_file())).expect("the cache file is intact JSON");
    assert!(cached.get("access_token").is_some(), "{cached}");
}

#[test]
fn a_closed_pipe_ends_quietly_not_by_a_signal() {
    use std::os::unix::process::ExitStatusExt;
    let env = TestEnv::new();
    env.login_basic();
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader); // every write to `writer` now fails with EPIPE (or raises SIGPIPE)
    let out = env
        .std_cmd()
        .arg("token")
        .stdout(writer)
        .output()
        .expect("run wixauth");
    assert_eq!(
        out.status.signal(),
        None,
        "killed by a signal: {:?}",
        out.status
    );
    // `wixauth token | head -c1`: the reader is done; no error line, the conventional 141.
    assert_eq!(out.status.code(), Some(141), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn localhost_in_the_api_base_resolves() {
    let env = TestEnv::new();
    env.login_basic();
    let before = env.token_requests();
    let base = format!("http://localhost:{}", env.emu.addr.port());
    let out = env.run(
        env.cmd()
            .args(["token", "--no-cache"])
            .env("WIXAUTH_API_BASE", &base),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty());
    assert_eq!(
        env.token_requests(),
        before + 1,
        "the request reached the emulator by name"
    );
}
