//! Issue 8 items 3, 9 and part of 4: wixauth trusts its config folder and files only when
//! they are the user's own, regular and private, and leaves no temporary secret behind.
#![cfg(unix)]

use crate::support::*;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Replaces `path` by a symlink to a copy of itself, so following it would "work".
fn replace_by_symlink(path: &Path) -> PathBuf {
    let target = path.with_extension("real");
    std::fs::rename(path, &target).unwrap();
    std::os::unix::fs::symlink(&target, path).unwrap();
    target
}

/// Fails with exit 2 and a message naming `what`; returns the message.
fn refused(out: &std::process::Output, what: &Path) -> String {
    let message = assert_fails(out, 2);
    assert!(
        message.contains(&what.display().to_string()),
        "names {}: {message}",
        what.display()
    );
    message
}

// ------------------------------------------------------------------ the config folder

#[test]
fn config_dir_writable_by_others_is_refused_with_the_fix() {
    let env = TestEnv::new();
    env.login_basic();
    for mode in [0o777, 0o720] {
        chmod(env.config_dir(), mode);
        for args in [&["status"][..], &["token"], &["logout"]] {
            let out = env.run(env.cmd().args(args));
            let message = refused(&out, env.config_dir());
            assert!(
                message.contains(&format!("chmod 700 {}", env.config_dir().display())),
                "{args:?}: {message}"
            );
        }
    }
    chmod(env.config_dir(), 0o700);
    env.token_ok(&[]);
}

#[test]
fn tokens_and_locks_folders_writable_by_others_are_refused() {
    let env = TestEnv::new();
    env.login_basic();
    let tokens = env.config_dir().join("tokens");
    chmod(&tokens, 0o777);
    // Even a cache hit: the token is read from that folder.
    let message = refused(&env.run(env.cmd().arg("token")), &tokens);
    assert!(message.contains("chmod 700"), "{message}");
    chmod(&tokens, 0o700);

    let locks = env.config_dir().join("locks");
    std::fs::create_dir_all(&locks).unwrap();
    chmod(&locks, 0o770);
    let message = refused(&env.run(env.cmd().args(["token", "--no-cache"])), &locks);
    assert!(message.contains("chmod 700"), "{message}");
    chmod(&locks, 0o700);
    env.token_ok(&["--no-cache"]);
}

#[test]
fn config_dir_of_another_user_is_refused() {
    let env = TestEnv::new();
    // As root, hand the folder to nobody; otherwise / belongs to root, not to us.
    let (dir, owner) = if unsafe { libc::geteuid() } == 0 {
        env.login_basic();
        std::os::unix::fs::chown(env.config_dir(), Some(65534), None).unwrap();
        (env.config_dir().to_path_buf(), 65534)
    } else {
        (PathBuf::from("/"), 0)
    };
    let out = env.run(env.cmd().env("WIXAUTH_CONFIG_DIR", &dir).arg("token"));
    let message = refused(&out, &dir);
    assert!(
        message.contains(&format!("owned by uid {owner}, not you")),
        "{message}"
    );
}

// ------------------------------------------------------------------ files: regular, not followed

#[test]
fn fifo_as_config_file_is_refused_at_once() {
    let env = TestEnv::new();
    mkfifo(&env.config_file());
    // Today's code blocks in open() forever, waiting for a writer.
    let out = env.run(env.cmd().arg("status").timeout(Duration::from_secs(20)));
    let message = refused(&out, &env.config_file());
    assert!(message.contains("not a regular file"), "{message}");
}

#[test]
fn symlinked_config_secrets_and_cache_files_are_refused() {
    let env = TestEnv::new();
    env.login_basic();

    let target = replace_by_symlink(&env.config_file());
    let message = refused(&env.run(env.cmd().arg("status")), &env.config_file());
    assert!(message.contains("symbolic link"), "{message}");
    std::fs::rename(&target, env.config_file()).unwrap();

    let target = replace_by_symlink(&env.secrets_file());
    let message = refused(
        &env.run(env.cmd().args(["token", "--no-cache"])),
        &env.secrets_file(),
    );
    assert!(message.contains("symbolic link"), "{message}");
    std::fs::rename(&target, env.secrets_file()).unwrap();

    let cache = env.cache_file();
    let target = replace_by_symlink(&cache);
    let message = refused(&env.run(env.cmd().arg("token")), &cache);
    assert!(message.contains("symbolic link"), "{message}");
    std::fs::remove_file(&target).unwrap();
    std::fs::remove_file(&cache).unwrap();
    env.token_ok(&[]);
}

#[test]
fn planted_lock_symlink_is_refused_and_lock_files_are_private() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&["--no-cache"]);
    let locks: Vec<PathBuf> = std::fs::read_dir(env.config_dir().join("locks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!locks.is_empty(), "token --no-cache takes a lock");
    for lock in &locks {
        assert_eq!(mode(lock), 0o600, "{}", lock.display());
    }
    // A lock planted as a link to a file of the user's is neither followed nor created there.
    let victim = env.config_dir().join("victim");
    for lock in &locks {
        std::fs::remove_file(lock).unwrap();
        std::os::unix::fs::symlink(&victim, lock).unwrap();
    }
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    let message = assert_fails(&out, 2);
    assert!(message.contains("symbolic link"), "{message}");
    assert!(!victim.exists(), "the link was followed");
}

// ------------------------------------------------------------------ 0600 checked, not claimed

#[test]
fn secrets_file_readable_by_others_is_fixed_with_a_warning_and_status_tells_the_truth() {
    let env = TestEnv::new();
    env.login_basic();
    chmod(&env.secrets_file(), 0o644);
    let out = env.run(env.cmd().arg("status"));
    assert!(out.status.success(), "{}", stderr(&out));
    let warning = format!(
        "wixauth: warning: {} was readable by others (mode 0644); its mode is now 0600",
        env.secrets_file().display()
    );
    assert!(stderr(&out).contains(&warning), "{}", stderr(&out));
    assert_eq!(mode(&env.secrets_file()), 0o600);
    assert!(stdout(&out).contains("(mode 0600)"), "{}", stdout(&out));

    // Once fixed, no more warning.
    let out = env.run(env.cmd().arg("status"));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn token_file_readable_by_others_is_fixed_with_a_warning() {
    let env = TestEnv::new();
    env.login_basic();
    let cache = env.cache_file();
    chmod(&cache, 0o604);
    let out = env.run(env.cmd().arg("token"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim_end(),
        env.cached_token(),
        "still a cache hit"
    );
    let warning = format!(
        "wixauth: warning: {} was readable by others (mode 0604); its mode is now 0600",
        cache.display()
    );
    assert!(stderr(&out).contains(&warning), "{}", stderr(&out));
    assert_eq!(mode(&cache), 0o600);
}

// ------------------------------------------------------------------ no secret left in a temp file

fn plant_temp(dir: &Path, name: &str, age: Duration) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, "refresh-token-from-a-killed-write").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    path
}

#[test]
fn logout_sweeps_leftover_temp_files() {
    let env = TestEnv::new();
    env.login_basic();
    let fresh = plant_temp(env.config_dir(), ".wixauth-AbC123", Duration::ZERO);
    let cached = plant_temp(
        &env.config_dir().join("tokens"),
        ".wixauth-XyZ789",
        Duration::ZERO,
    );
    let keep = plant_temp(env.config_dir(), "notes.txt", Duration::ZERO);
    let out = env.run(env.cmd().arg("logout"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !fresh.exists() && !cached.exists(),
        "leftovers survive logout"
    );
    assert!(keep.exists(), "only wixauth's temporary files are removed");

    // Also when nothing is logged in any more.
    let again = plant_temp(env.config_dir(), ".wixauth-QwE456", Duration::ZERO);
    let out = env.run(env.cmd().args(["logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(env.cmd().arg("logout"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!again.exists());
}

#[test]
fn a_later_write_sweeps_only_old_temp_files() {
    let env = TestEnv::new();
    let old = plant_temp(
        env.config_dir(),
        ".wixauth-Old111",
        Duration::from_secs(120),
    );
    let young = plant_temp(env.config_dir(), ".wixauth-New222", Duration::ZERO);
    let foreign = plant_temp(env.config_dir(), ".other-Old333", Duration::from_secs(120));
    env.login_basic();
    assert!(!old.exists(), "a leftover older than a minute is swept");
    assert!(young.exists(), "a write in flight keeps its file");
    assert!(foreign.exists(), "only wixauth's prefix");
}
