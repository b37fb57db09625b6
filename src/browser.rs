//! Opening a URL in the user's browser. The URL is always printed first by the caller;
//! a launcher that fails or is missing is reported and never ends the login.

use std::process::{Command, Stdio};

/// What happened when we tried to open the browser.
#[derive(Debug, PartialEq, Eq)]
pub enum Launch {
    Opened(String),
    Skipped(String),
    Failed(String),
}

/// `$BROWSER` when set (the URL as its argument), else the system opener; no launch on
/// Linux without a display (an SSH session or a container), where it could only hang or fail.
pub fn open(url: &str) -> Launch {
    if let Some(browser) = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        // $BROWSER may list several commands separated by ':'; the first one is used.
        let command = browser
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let mut parts = command.split_whitespace();
        let Some(program) = parts.next() else {
            return Launch::Failed("$BROWSER is empty".into());
        };
        let mut args: Vec<String> = parts.map(str::to_string).collect();
        if args.iter().any(|a| a.contains("%s")) {
            args = args.iter().map(|a| a.replace("%s", url)).collect();
        } else {
            args.push(url.to_string());
        }
        return match Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(mut child) => {
                // Reap it in the background so it never becomes a zombie or blocks the listener.
                std::thread::spawn(move || child.wait());
                Launch::Opened(format!("$BROWSER ({program})"))
            }
            Err(e) => Launch::Failed(format!("$BROWSER ({program}) could not start: {e}")),
        };
    }
    if cfg!(all(unix, not(target_os = "macos"))) && !has_display() {
        return Launch::Skipped("no DISPLAY or WAYLAND_DISPLAY (SSH session or container?)".into());
    }
    match open::that_detached(url) {
        Ok(()) => Launch::Opened("the system browser".into()),
        Err(e) => Launch::Failed(format!("could not open a browser: {e}")),
    }
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}
