//! `wixauth exec --each-instance` (issue 21): each command with its own instance's token and
//! never a secret, output prefixed or kept whole, the highest exit code, Ctrl-C (once: the
//! running ones finish; twice: they are killed), SIGTERM passed on, and the progress line on a
//! terminal.

use crate::fleet::fleet_env;
use crate::support::*;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn exec_each(env: &TestEnv, extra: &[&str], script: &str) -> std::process::Output {
    env.run(
        env.cmd()
            .args(["exec", "--each-instance"])
            .args(extra)
            .args(["--", "sh", "-c", script]),
    )
}

#[test]
fn each_command_gets_its_instance_s_token_and_never_a_secret() {
    let env = TestEnv::new();
    let ids = env.emu.install_many(APP_ID, "site", 3);
    let file = env.dir.path().join("ids.txt");
    std::fs::write(&file, ids.join("\n")).unwrap();
    let dumps = env.dir.path().join("env");
    std::fs::create_dir(&dumps).unwrap();
    // CI: the secret is in wixauth's environment, never in the commands'.
    let script = format!(
        r#"printf '%s %s\n' "$WIX_ACCESS_TOKEN" "${{WIX_APP_SECRET:-no-secret}}"; env > {}/"$WIX_INSTANCE_ID""#,
        sh_quote(&dumps.display().to_string())
    );
    let mut cmd = env.cmd();
    cmd.env("WIX_APP_ID", APP_ID)
        .env("WIX_APP_SECRET", &env.secret)
        .arg("exec")
        .arg("--instances-from")
        .arg(&file)
        .args(["--", "sh", "-c", &script]);
    let out = env.run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 3, "{text}");
    for line in text.lines() {
        let (id, rest) = line.split_once(": ").expect("prefixed by the instance");
        let (token, secret) = rest.split_once(' ').unwrap();
        assert_eq!(secret, "no-secret");
        let issued = env.emu.token_info(token).expect("a token Wix issued");
        assert_eq!(issued.instance_id, id, "its own instance's token");
        let dumped = read(&dumps.join(id));
        assert!(
            !dumped.contains(&env.secret),
            "the secret reached {id}'s command"
        );
        assert!(dumped.contains(&format!("WIX_INSTANCE_ID={id}\n")));
    }
}

#[test]
fn raw_output_is_kept_whole_one_instance_after_another() {
    let (env, ids) = fleet_env(3);
    let script = r#"echo "1 $WIX_INSTANCE_ID"; sleep 0.3; echo "2 $WIX_INSTANCE_ID"; echo "e $WIX_INSTANCE_ID" >&2"#;
    let out = exec_each(&env, &["--raw", "--concurrency", "4"], script);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2 * ids.len(), "{lines:?}");
    for pair in lines.chunks(2) {
        let id = pair[0].strip_prefix("1 ").expect("unprefixed");
        assert_eq!(
            pair[1],
            format!("2 {id}"),
            "one instance's output together: {lines:?}"
        );
    }
    assert!(stderr(&out).contains(&format!("e {}\n", ids[0])));
    // Prefixed (the default): every line says whose it is, stderr's on stderr.
    let out = exec_each(&env, &["--concurrency", "4"], script);
    for id in &ids {
        for line in [format!("{id}: 1 {id}\n"), format!("{id}: 2 {id}\n")] {
            assert!(stdout(&out).contains(&line), "{}", stdout(&out));
        }
        assert!(
            stderr(&out).contains(&format!("{id}: e {id}\n")),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn the_exit_is_the_highest_code_and_the_summary_names_each_instance() {
    let (env, ids) = fleet_env(2);
    let script = format!(
        r#"case "$WIX_INSTANCE_ID" in {}) exit 7;; {}) exit 3;; esac"#,
        ids[1], ids[2]
    );
    let out = exec_each(&env, &[], &script);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let err = stderr(&out);
    let row = |id: &str| {
        err.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row(&ids[0]).ends_with("ok"), "{err}");
    assert!(row(&ids[1]).ends_with("exit 7"), "{err}");
    assert!(row(&ids[2]).ends_with("exit 3"), "{err}");
    assert!(err.contains("2 failed (highest exit 7)"), "{err}");
    assert!(
        !err.contains("error:"),
        "the commands' own exits are no wixauth error: {err}"
    );
    // A command that is not there: each instance says so, exit 127 as a shell gives.
    let out = env.run(
        env.cmd()
            .args(["exec", "--each-instance", "--", "/nonexistent/cmd"]),
    );
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out).matches("command not found").count(),
        3 * 2,
        "{}",
        stderr(&out)
    );
}

/// `wixauth exec --each-instance --concurrency 2 … -- sh -c SCRIPT` in a process group of
/// its own (as a shell runs a job), each command marking in `dir` when it started and ended.
fn start_marked(env: &TestEnv, dir: &Path, sleep: &str, retry: &Path) -> Child {
    let script = format!(
        r#"cd {}; echo $$ > "pid-$WIX_INSTANCE_ID"; touch "started-$WIX_INSTANCE_ID"; sleep {sleep}; touch "done-$WIX_INSTANCE_ID""#,
        sh_quote(&dir.display().to_string())
    );
    let mut cmd = env.std_cmd();
    cmd.args([
        "exec",
        "--each-instance",
        "--concurrency",
        "2",
        "--retry-file",
    ])
    .arg(retry)
    .args(["--", "sh", "-c", &script])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    cmd.spawn().unwrap()
}

/// `exec --each-instance` over INSTANCE and `more` others, its first two commands running.
struct TwoRunning {
    env: TestEnv,
    ids: Vec<String>,
    dir: tempfile::TempDir,
    retry: std::path::PathBuf,
    child: Child,
}

fn two_running(more: usize, sleep: &str) -> TwoRunning {
    let (env, ids) = fleet_env(more);
    let dir = tempfile::tempdir().unwrap();
    let retry = env.dir.path().join("retry.txt");
    let child = start_marked(&env, dir.path(), sleep, &retry);
    wait_for(|| marked(dir.path(), "started-") == 2);
    TwoRunning {
        env,
        ids,
        dir,
        retry,
        child,
    }
}

fn marked(dir: &Path, what: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(what))
        .count()
}

fn wait_for(what: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !what() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ctrl-C at a terminal: SIGINT to the whole foreground process group.
fn ctrl_c(child: &Child) {
    // SAFETY: kill(2) with plain integers.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGINT);
    }
}

#[test]
fn ctrl_c_starts_no_more_lets_the_running_finish_and_keeps_the_rest_for_a_retry() {
    let TwoRunning {
        env,
        ids,
        dir,
        retry,
        child,
    } = two_running(5, "1.5");
    ctrl_c(&child);
    let out = child.wait_with_output().unwrap();
    env.assert_no_leak(&out);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(
        marked(dir.path(), "started-"),
        2,
        "no new instance after Ctrl-C"
    );
    assert_eq!(marked(dir.path(), "done-"), 2, "the running ones finished");
    let kept = read(&retry);
    assert_eq!(kept.lines().count(), ids.len() - 2, "{kept}");
    let err = stderr(&out);
    let not_run = err.lines().filter(|l| l.ends_with("not run")).count();
    assert_eq!(not_run, ids.len() - 2, "a summary row each: {err}");
    assert!(
        err.contains("run them again with --instances-from"),
        "{err}"
    );
    assert_eq!(err.matches("interrupted").count(), 1, "{err}");
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn a_second_ctrl_c_kills_the_running_commands() {
    // The environment (config dir, emulator) lives as long as the test.
    let TwoRunning {
        env: _env,
        ids,
        dir,
        retry,
        child,
    } = two_running(3, "30");
    let started = Instant::now();
    ctrl_c(&child);
    std::thread::sleep(Duration::from_millis(300));
    ctrl_c(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(marked(dir.path(), "done-"), 0);
    assert_no_command_left(dir.path());
    // The two killed (exit 137) and the two never run.
    assert_eq!(read(&retry).lines().count(), ids.len(), "{}", read(&retry));
}

/// No command (nor its `sleep`) that wrote a pid file in `dir` still runs.
fn assert_no_command_left(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(_id) = name.strip_prefix("pid-") {
            let pid: i32 = read(&entry.path()).trim().parse().unwrap();
            // The command's process group: the shell and its sleep.
            wait_for(|| unsafe { libc::kill(-pid, 0) } != 0);
        }
    }
}

#[test]
fn a_sigterm_is_passed_on_so_no_command_outlives_wixauth() {
    let TwoRunning {
        env: _env,
        dir,
        child,
        ..
    } = two_running(3, "30");
    // A CI runner cancelling the job signals wixauth alone.
    // SAFETY: kill(2) with plain integers.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        stderr(&out)
    );
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(marked(dir.path(), "started-"), 2, "nothing new started");
    assert_no_command_left(dir.path());
}

/// `wixauth ARGS` on a pseudo-terminal `cols` wide (util-linux `script`); `None` without it.
fn on_terminal(env: &TestEnv, cols: u16, args: &[&str]) -> Option<std::process::Output> {
    let mut cmd = env.tty_command_after(&format!("stty rows 24 cols {cols}; "), args);
    cmd.stdin(Stdio::null());
    match cmd.output() {
        Ok(out) => Some(out),
        Err(_) if std::env::var_os("CI").is_none() => None,
        Err(e) => panic!("`script` (util-linux) is needed for the terminal tests: {e}"),
    }
}

#[test]
fn the_progress_line_fits_the_terminal_and_is_gone_before_the_summary() {
    let (env, ids) = fleet_env(5);
    let args = [
        "exec",
        "--each-instance",
        "--concurrency",
        "2",
        "--",
        "sleep",
        "0.3",
    ];
    for (cols, limit) in [(40u16, 40usize), (200, 80)] {
        let Some(out) = on_terminal(&env, cols, &args) else {
            return;
        };
        env.assert_no_leak(&out);
        let screen = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{screen}");
        // The summary starts on a clean line, after the last frame was cleared.
        let summary = screen.find("instance ").expect("the summary");
        assert!(screen[..summary].ends_with("\x1b[2K"), "{screen:?}");
        let frames: Vec<&str> = screen[..summary]
            .split("\x1b[2K")
            .skip(1)
            .map(|f| f.split(['\r', '\n']).next().unwrap_or_default())
            .filter(|f| !f.is_empty())
            .collect();
        assert!(!frames.is_empty(), "no progress line:\n{screen:?}");
        for frame in &frames {
            assert!(frame.chars().count() < limit, "{cols} columns: {frame:?}");
            assert!(frame.contains("done"), "{frame:?}");
        }
        assert!(frames.iter().any(|f| f.contains("left")), "{frames:?}");
        assert_eq!(screen.matches(" ok").count(), ids.len(), "{screen}");
    }
}
