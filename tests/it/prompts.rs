//! Prompts on a terminal: `login` asks for what is missing (the flow the first time, the
//! app id, the secret with echo off). A person is played by a small driver that waits for
//! each prompt on a pseudo-terminal (util-linux `script`) before typing the answer.

use crate::support::*;

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `wixauth ARGS` on a pseudo-terminal, with what it has printed so far.
struct Terminal {
    child: Child,
    keys: ChildStdin,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    fn start(env: &TestEnv, args: &[&str]) -> Option<Terminal> {
        let mut cmd = env.tty_command(args);
        let spawned = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(_) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping a terminal test: `script` (util-linux) is not installed");
                return None;
            }
            Err(e) => panic!("`script` (util-linux) is needed for the terminal tests: {e}"),
        };
        let keys = child.stdin.take().expect("stdin");
        let mut out = child.stdout.take().expect("stdout");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Some(Terminal {
            child,
            keys,
            screen,
        })
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until `text` is on the screen, then types `keys`.
    fn answer(&mut self, text: &str, keys: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.screen().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} on the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The prompt is drawn just before the terminal mode is set for reading it.
        std::thread::sleep(Duration::from_millis(300));
        self.keys.write_all(keys.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }

    fn wait(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50)); // let the reader drain
                return (status.code(), self.screen());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("wixauth did not finish:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn login_asks_for_the_app_id_and_a_hidden_secret() {
    let env = TestEnv::new();
    let Some(mut term) = Terminal::start(
        &env,
        &["login", "--flow", "basic", "--instance-id", INSTANCE],
    ) else {
        return;
    };
    term.answer("App ID", &format!("{APP_ID}\r"));
    term.answer("App secret (hidden)", &format!("{}\r", env.secret));
    let (code, screen) = term.wait();
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        !screen.contains(&env.secret),
        "the secret was echoed:\n{screen}"
    );
    assert!(screen.contains("Logged in"), "{screen}");
    env.assert_credentials_work();
}

/// At 80 columns, a prompt and a long answer stay on one line: the prompt is short (what it
/// asks for is said above it), so the terminal never wraps it and it is drawn once.
#[test]
fn a_long_answer_to_a_prompt_is_drawn_once() {
    let env = TestEnv::new();
    let Some(mut term) =
        Terminal::start(&env, &["login", "--flow", "basic", "--instance", INSTANCE])
    else {
        return;
    };
    let long_id = "app-".to_string() + &"7".repeat(60);
    term.answer("App ID", &format!("{long_id}\r"));
    term.answer("App secret (hidden)", &format!("{}\r", env.secret));
    let (_, screen) = term.wait();
    // dialoguer erases its line and draws it again on Enter: that is one row on the screen
    // only while prompt and answer fit the row; past 80 columns the first row would stay.
    for drawn in screen.split("\x1b[2K").filter(|d| d.contains("App ID: ")) {
        let row = drawn.split("\r\n").next().unwrap_or(drawn);
        assert!(
            row.chars().count() <= 80,
            "{} columns, drawn twice: {row:?}",
            row.chars().count()
        );
    }
    assert!(
        screen.contains("The app ID and secret are on the app dashboard's OAuth page."),
        "{screen}"
    );
}

/// The app secret was rotated in Wix's dashboard: on a terminal, `login` says the stored one
/// was refused and asks for the current one (hidden), instead of a loop of "log in again".
#[test]
fn a_rotated_secret_is_asked_for_again_on_a_terminal() {
    let env = TestEnv::new();
    env.login_basic();
    let rotated = format!("rotated-{}", env.secret);
    env.add_secret(&rotated);
    env.emu
        .register_app(APP_ID, &rotated, &["http://localhost:8338/callback"]);
    let Some(mut term) = Terminal::start(&env, &["login", "--instance", INSTANCE]) else {
        return;
    };
    term.answer("Current app secret (hidden)", &format!("{rotated}\r"));
    let (code, screen) = term.wait();
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("rejected the stored app secret"),
        "{screen}"
    );
    assert!(!screen.contains(&rotated), "echoed:\n{screen}");
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    assert!(
        out.status.success(),
        "the new secret was stored: {}",
        stderr(&out)
    );
}

#[test]
fn first_login_of_a_profile_asks_for_the_flow() {
    let env = TestEnv::new();
    let redirect = format!("http://localhost:{}/callback", free_port());
    let args = [
        "login",
        "--app-id",
        APP_ID,
        "--redirect-url",
        &redirect,
        "--no-browser",
        "--timeout",
        "1",
    ];
    let Some(mut term) = Terminal::start(&env, &args) else {
        return;
    };
    // Enter takes the first choice, basic; without an instance id that is the browser install.
    term.answer("How does this app get tokens?", "\r");
    term.answer("App secret (hidden)", &format!("{}\r", env.secret));
    let (code, screen) = term.wait();
    assert!(
        screen.contains("/app-installer?appId="),
        "basic was chosen:\n{screen}"
    );
    assert_eq!(
        code,
        Some(5),
        "nobody came back from the browser:\n{screen}"
    );
    // At 80 columns the menu's items fit a line each, with the details above it; only the
    // URL (copied whole) may be longer.
    assert!(screen.contains("The flows:"), "{screen}");
    for line in screen.split("\r\n") {
        let shown = line.rsplit('\r').next().unwrap_or(line);
        let visible: String = visible(shown);
        // A URL or a command to paste is never broken: it may stand alone on a longer line.
        let alone = visible.trim();
        if alone.starts_with("http")
            || alone.starts_with('`') && alone.trim_end_matches(['.', ';', ',']).ends_with('`')
        {
            continue;
        }
        assert!(
            visible.chars().count() <= 80,
            "{} columns: {visible:?}",
            visible.chars().count()
        );
    }
}

#[test]
fn ctrl_c_at_a_menu_or_a_hidden_prompt_restores_the_terminal_and_exits_130() {
    let env = TestEnv::new();
    // The first-time flow menu (raw keys, cursor hidden by the menu).
    let Some(mut term) = Terminal::start(&env, &["login", "--app-id", APP_ID]) else {
        return;
    };
    term.answer("How does this app get tokens?", "\x03");
    let (code, screen) = term.wait();
    assert_eq!(code, Some(130), "{screen}");
    assert!(screen.contains("interrupted"), "{screen}");
    let hidden = screen.rfind("\x1b[?25l");
    let shown = screen.rfind("\x1b[?25h");
    assert!(
        hidden.is_none() || shown > hidden,
        "the cursor was left hidden:\n{screen:?}"
    );
    assert_eq!(screen.matches("wixauth: ").count(), 1, "one line: {screen}");
    assert_eq!(
        screen.matches("interrupted").count(),
        1,
        "said once: {screen}"
    );
    assert!(!screen.contains("error"), "a stop, not an error: {screen}");

    // The hidden secret prompt (echo off): Ctrl-C is a signal there.
    let Some(mut term) = Terminal::start(
        &env,
        &[
            "login",
            "--flow",
            "basic",
            "--app-id",
            APP_ID,
            "--instance-id",
            INSTANCE,
        ],
    ) else {
        return;
    };
    term.answer("App secret (hidden)", "\x03");
    let (code, screen) = term.wait();
    assert_eq!(code, Some(130), "{screen}");
    assert_eq!(
        screen.matches("interrupted").count(),
        1,
        "said once: {screen}"
    );
    assert!(!env.config_file().exists(), "nothing is stored");
}
