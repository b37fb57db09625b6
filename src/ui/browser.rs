//! Opening a URL in the user's browser. The URL is always printed first by the caller;
//! a launcher that fails or is missing is reported and never ends the login.

use std::process::{Command, Stdio};

use crate::core::error::{Error, Result};
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
    for name in crate::settings::env::SECRET_VARIABLES {
        command.env_remove(name);
    }
    let mut child = command
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

/// A private local file that sends the browser on to a URL: the launcher is given its path,
/// never the URL, since a launcher's arguments are readable by every user of the machine
/// (`/proc/<pid>/cmdline`) and the URL carries the login's `state`. The folder is 0700, the
/// file 0600; both go when the login ends.
pub(crate) struct Forwarder {
    dir: tempfile::TempDir,
}

const FORWARDER_FILE: &str = "wixauth-login.html";

impl Forwarder {
    pub(crate) fn new(url: &url::Url) -> Result<Forwarder> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("wixauth-login-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder
            .tempdir()
            .map_err(|e| Error::failure(format!("cannot create the browser's login file: {e}")))?;
        // A URL's serialisation has no `<`, `>` or quotes left unescaped, so it is safe in both
        // the attribute and the JSON string; both are escaped anyway.
        let js = serde_json::to_string(url.as_str()).unwrap_or_default();
        let html = format!(
            "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><title>wixauth login</title><meta http-equiv=\"refresh\" content=\"0;url={}\"><script>location.replace({})</script><p>Opening Wix&hellip;</p>\n",
            html_attr(url.as_str()),
            js.replace('<', "\\u003c")
        );
        crate::core::fsutil::write_private_atomic(
            &dir.path().join(FORWARDER_FILE),
            html.as_bytes(),
        )?;
        Ok(Forwarder { dir })
    }

    pub(crate) fn path(&self) -> std::path::PathBuf {
        self.dir.path().join(FORWARDER_FILE)
    }
}

fn html_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The URL a forwarder file sends the browser to (what a test's browser follows).
#[cfg(test)]
pub(crate) fn forwarded_url(path: &str) -> Option<String> {
    let html = std::fs::read_to_string(path).ok()?;
    let json = html
        .split("location.replace(")
        .nth(1)?
        .split(")</script>")
        .next()?;
    serde_json::from_str(&json.replace("\\u003c", "<")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forwarder_is_private_and_names_the_url_only_inside() {
        let url = url::Url::parse("http://127.0.0.1:9/installer/install?appId=a&state=s3cr3t\"x")
            .unwrap();
        let f = Forwarder::new(&url).unwrap();
        let path = f.path();
        assert!(!path.to_string_lossy().contains("s3cr3t"));
        assert_eq!(
            forwarded_url(&path.to_string_lossy()).as_deref(),
            Some(url.as_str())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        let dir = path.parent().unwrap().to_path_buf();
        drop(f);
        assert!(!dir.exists(), "the file goes with the login");
    }
}
