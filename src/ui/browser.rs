//! Opening a URL in the user's browser. The URL is always printed first by the caller;
//! a launcher that fails or is missing is reported and never ends the login.

use std::process::{Command, Stdio};

use crate::settings::env::Env;

/// What happened when we tried to open the browser.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Launch {
    Opened(String),
    Skipped(String),
    Failed(String),
}

/// Opens URLs for a person (a trait so tests can play the browser).
pub(crate) trait Browser {
    fn open(&mut self, url: &str) -> Launch;
}

/// `$BROWSER` when set (the URL as its argument), else the system opener; no launch on
/// Linux without a display (an SSH session or a container), where it could only hang or fail.
pub(crate) struct System {
    browser: Option<String>,
    has_display: bool,
}

impl System {
    pub(crate) fn new(env: &Env) -> System {
        System {
            browser: env.browser.clone(),
            has_display: env.has_display,
        }
    }

    /// Before the environment is read: opens nothing (no command opens a browser then).
    pub(crate) fn none() -> System {
        System {
            browser: None,
            has_display: false,
        }
    }
}

impl Browser for System {
    fn open(&mut self, url: &str) -> Launch {
        if let Some(browser) = &self.browser {
            return launch_browser_var(browser, url);
        }
        if cfg!(all(unix, not(target_os = "macos"))) && !self.has_display {
            return Launch::Skipped(
                "no DISPLAY or WAYLAND_DISPLAY (SSH session or container?)".into(),
            );
        }
        let mut last_error = String::from("no opener for this platform");
        for command in open::commands(url) {
            match spawn_without_secrets(command) {
                Ok(()) => return Launch::Opened("the system browser".into()),
                Err(e) => last_error = e.to_string(),
            }
        }
        Launch::Failed(format!("could not open a browser: {last_error}"))
    }
}

/// Starts a launcher with no stdio and without the long-lived credentials in its environment,
/// and reaps it in the background so it never becomes a zombie or blocks the listener.
fn spawn_without_secrets(mut command: Command) -> std::io::Result<()> {
    let mut child = command
        .env_remove("WIX_APP_SECRET")
        .env_remove("WIX_REFRESH_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// `$BROWSER` may list several commands separated by `:`; the first one is used. Its words:
/// the program, then its arguments.
pub(crate) fn browser_var_words(browser: &str) -> std::str::SplitWhitespace<'_> {
    browser
        .split(':')
        .next()
        .unwrap_or_default()
        .split_whitespace()
}

/// The first `$BROWSER` command ([`browser_var_words`]), with `%s` replaced by the URL, or
/// the URL appended.
fn launch_browser_var(browser: &str, url: &str) -> Launch {
    let mut parts = browser_var_words(browser);
    let Some(program) = parts.next() else {
        return Launch::Failed("$BROWSER is empty".into());
    };
    let mut args: Vec<String> = parts.map(str::to_string).collect();
    if args.iter().any(|a| a.contains("%s")) {
        args = args.iter().map(|a| a.replace("%s", url)).collect();
    } else {
        args.push(url.to_string());
    }
    let mut command = Command::new(program);
    command.args(&args);
    match spawn_without_secrets(command) {
        Ok(()) => Launch::Opened(format!("$BROWSER ({program})")),
        Err(e) => Launch::Failed(format!("$BROWSER ({program}) could not start: {e}")),
    }
}
