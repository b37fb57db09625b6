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
    let mut cmd = env.cmd();
    env.ci(&mut cmd);
    let out = env.run(
        cmd.args(["token", "--no-cache"])
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

/// What `cargo install --locked --path .` builds on x86_64 Linux (.cargo/config.toml): a
/// static-pie binary. No `PT_INTERP` (no dynamic loader, no libc.so mapped at every start),
/// and still `ET_DYN`, so the kernel loads it at a random address (ASLR).
#[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
#[test]
fn the_linux_binary_is_a_static_pie() {
    const ET_DYN: u16 = 3;
    const PT_INTERP: u32 = 3;
    const PT_DYNAMIC: u32 = 2;
    let elf = std::fs::read(env!("CARGO_BIN_EXE_wixauth")).expect("read the binary");
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    assert_eq!(&elf[..5], b"\x7fELF\x02", "a 64-bit ELF file");
    assert_eq!(u16_at(0x10), ET_DYN, "position-independent (e_type ET_DYN)");
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    let types: Vec<u32> = (0..usize::from(phnum))
        .map(|i| u32_at(phoff + i * usize::from(phentsize)))
        .collect();
    assert!(
        !types.contains(&PT_INTERP),
        "the binary asks for a dynamic loader: was RUSTFLAGS set, replacing .cargo/config.toml's?"
    );
    // A static-pie relocates itself, from its own dynamic section.
    assert!(types.contains(&PT_DYNAMIC), "{types:?}");
}

/// Without `HOME`, the config folder comes from the user database. The static build must not
/// load glibc's NSS modules for that (a module from the system's shared glibc can crash a
/// static one: a user unknown to /etc/passwd made a static getpwuid load libnss_systemd and
/// segfault on the machine this was written on). Run as a uid in no /etc/passwd (as root;
/// otherwise as ourselves, where /etc/passwd answers), wixauth says what to set instead.
#[test]
fn without_home_the_config_folder_comes_from_the_user_database_without_a_crash() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let dir = tempfile::tempdir().expect("tempdir");
    let wixauth = dir.path().join("wixauth");
    std::fs::copy(env!("CARGO_BIN_EXE_wixauth"), &wixauth).expect("copy the binary");
    for path in [dir.path(), wixauth.as_path()] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let mut cmd = std::process::Command::new(&wixauth);
    cmd.arg("status").env_clear().current_dir("/");
    // SAFETY: geteuid only reads the process's credentials.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        cmd.uid(54321).gid(54321); // in no /etc/passwd
    }
    let out = cmd.output().expect("run wixauth");
    assert_eq!(
        out.status.signal(),
        None,
        "killed by a signal: {:?}",
        out.status
    );
    let err = stderr(&out);
    if root {
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("set WIXAUTH_CONFIG_DIR"), "{err}");
    } else {
        assert!(out.status.code().is_some(), "{err}");
    }
}
