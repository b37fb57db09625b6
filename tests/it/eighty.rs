//! Issue 17 item 6: at 80 columns, every line for a person wraps at word boundaries, commands
//! and URLs are never broken, and into a pipe an error stays one line.
#![cfg(target_os = "linux")]

use crate::support::*;

/// The lines a terminal shows (`\r\n` endings, escape sequences for the cursor left in).
fn screen_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .split("\r\n")
        .map(|l| visible(l.rsplit('\r').next().unwrap_or(l)))
        .collect()
}

fn assert_fits(lines: &[String], what: &str) {
    for line in lines {
        assert!(
            line.chars().count() <= 80,
            "{what}: {} columns: {line:?}",
            line.chars().count()
        );
    }
}

#[test]
fn an_error_wraps_between_words_on_a_terminal_and_stays_one_line_in_a_pipe() {
    let env = TestEnv::new();
    let args = [
        "--profile",
        "a-rather-long-profile-name",
        "token",
        "--min-ttl",
        "120",
    ];
    let Some(out) = env.run_in_tty(&args, &[]) else {
        return;
    };
    let lines = screen_lines(&out);
    assert_fits(&lines, "the error");
    let text = lines.join(" ");
    let start = text.find("wixauth: error:").expect("the error line");
    let command = text[start..].split('`').nth(1).expect("a command");
    assert!(
        command.contains("--profile a-rather-long-profile-name"),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.contains(&format!("`{command}`"))),
        "the command was broken: {lines:#?}"
    );
    // Into a pipe: the same error as one line.
    let out = env.run(env.cmd().args(args));
    let err = stderr(&out);
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("wixauth: error:"))
            .count(),
        1,
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.chars().count() > 80),
        "not wrapped in a pipe: {err}"
    );
}

#[test]
fn help_and_the_environment_topic_fit_80_columns_and_keep_their_commands_whole() {
    let env = TestEnv::new();
    for args in [
        &["help", "environment"][..],
        &["completions", "--help"],
        &["login", "--help"],
        &["switch", "--help"],
    ] {
        let Some(out) = env.run_in_tty(args, &[]) else {
            return;
        };
        assert_fits(&screen_lines(&out), &args.join(" "));
        // And at 80 into a pipe.
        let out = env.run(env.cmd().args(args));
        for line in stdout(&out).lines() {
            assert!(line.chars().count() <= 80, "{args:?} in a pipe: {line:?}");
        }
    }
    let out = env.run(env.cmd().args(["completions", "--help"]));
    assert!(
        stdout(&out).lines().any(|l| l.trim()
            == "wixauth completions bash > ~/.local/share/bash-completion/completions/wixauth"),
        "an install command was wrapped: {}",
        stdout(&out)
    );
}

#[test]
fn the_login_screen_fits_80_columns_and_the_url_is_whole() {
    let env = TestEnv::new();
    env.register_redirect("http://localhost:8338/callback");
    let Some(out) = env.run_in_tty(
        &[
            "login",
            "--flow",
            "advanced",
            "--app-id",
            APP_ID,
            "--no-browser",
            "--timeout",
            "2",
        ],
        &[("WIX_APP_SECRET", &env.secret)],
    ) else {
        return;
    };
    let lines = screen_lines(&out);
    let url = lines
        .iter()
        .find(|l| l.trim_start().starts_with("http://"))
        .expect("the URL line");
    assert!(url.contains("state="), "the URL is on one line: {url}");
    for line in lines
        .iter()
        .filter(|l| !l.trim_start().starts_with("http://"))
    {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line:?}",
            line.chars().count()
        );
    }
    // The spinner drops words, never letters: each frame ends on a whole word.
    let frames: Vec<&String> = lines.iter().filter(|l| l.contains(" left ·")).collect();
    for frame in frames {
        assert!(
            ["cancels", "callback", "browser", "at", "for", "the", "waiting", "left"]
                .iter()
                .any(|w| frame.trim_end().ends_with(w)),
            "a cut word: {frame:?}"
        );
    }
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// The reports (status, doctor) wrap on a terminal with their continuations indented
/// under the text, and into a pipe keep one line per fact for scripts that grep them.
#[test]
fn status_and_doctor_fit_80_columns_and_stay_one_line_a_fact_in_a_pipe() {
    let env = TestEnv::new();
    env.login_basic();
    for (args, hang) in [(&["status"][..], "      "), (&["doctor"], "        ")] {
        let Some(out) = env.run_in_tty(args, &[]) else {
            return;
        };
        let lines = screen_lines(&out);
        assert_fits(&lines, args[0]);
        let piped = stdout(&env.run(env.cmd().args(args)));
        assert!(
            piped.lines().any(|l| l.chars().count() > 80),
            "{args:?}: a report with no long line tests nothing: {piped}"
        );
        // Each long line of the pipe is on the screen as its words, continued under its text.
        let screen: Vec<&str> = lines.iter().map(|l| l.trim_end()).collect();
        let joined = screen.join("\n");
        for line in piped.lines().filter(|l| l.chars().count() > 80) {
            let first = screen
                .iter()
                .position(|s| !s.trim().is_empty() && words(line).starts_with(&words(s)))
                .unwrap_or_else(|| panic!("{args:?}: {line:?} not on the screen:\n{joined}"));
            assert!(
                screen[first + 1].starts_with(hang),
                "{args:?}: the continuation of {line:?} is not indented:\n{joined}"
            );
        }
    }
}
