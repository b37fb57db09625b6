//! The `-v` debug log: one line per event on stderr. Callers pass only non-secret
//! values (a `Secret` formats as `(redacted)`, URLs go through [`redact_url`]).

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub(crate) fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// `debug!(…)`: a line on stderr with `-v`, nothing otherwise.
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::core::log::verbose() {
            eprintln!("wixauth: debug: {}", format_args!($($arg)*));
        }
    };
}
pub(crate) use debug;

/// Warnings for the person at the terminal, raised below the command layer (a keyring that
/// fell back to the file, a cache that could not be written). Commands print them through their
/// `Io`, so every line on stderr goes through one injected stream.
#[derive(Debug, Default, Clone)]
pub(crate) struct Notes(std::rc::Rc<std::cell::RefCell<Vec<String>>>);

impl Notes {
    /// Queues `text` to be printed as a `wixauth: warning:` line.
    pub(crate) fn warn(&self, text: impl Into<String>) {
        self.0.borrow_mut().push(text.into());
    }

    /// The warnings queued so far, oldest first, leaving none.
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// Query parameters whose values are credentials or one-time codes.
const SENSITIVE_PARAMS: &[&str] = &[
    "access_token",
    "code",
    "token",
    "refresh_token",
    "state",
    "client_secret",
];

/// A URL safe to log: sensitive query values replaced by `(redacted)`.
pub(crate) fn redact_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if SENSITIVE_PARAMS.contains(&k.as_ref()) {
                    "(redacted)".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_sensitive_query_values_only() {
        let url =
            url::Url::parse("http://127.0.0.1:1/cb?code=abc&instanceId=i1&state=s3cr3t").unwrap();
        let shown = redact_url(&url);
        assert!(
            !shown.contains("abc") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert!(shown.contains("instanceId=i1"), "{shown}");
    }
}
