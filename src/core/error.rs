//! One error type for the whole tool: a one-line message plus the contract's exit code.

use std::fmt;
use std::process::ExitCode;

/// The exit codes of the CLI contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Success = 0,
    Failure = 1,
    /// Usage or configuration error: bad flag, missing credential, nothing logged in.
    Usage = 2,
    /// Wix rejected the credentials.
    Rejected = 3,
    /// Wix or the network failed after bounded retries.
    Unavailable = 4,
    /// The browser login timed out or the user denied it.
    LoginAborted = 5,
    /// `exec`: the command exists but cannot be run (as shells report it).
    CannotExecute = 126,
    /// `exec`: no such command (as shells report it).
    CommandNotFound = 127,
    Interrupted = 130,
    /// stdout was closed by its reader (128 + SIGPIPE, as a shell reports a writer it killed).
    ClosedPipe = 141,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A failure the user sees as one line on stderr. Messages never contain secrets:
/// they are built from `Secret`'s redacting `Display` or from non-secret values.
#[derive(Debug, Clone)]
pub(crate) struct Error {
    pub(crate) exit: Exit,
    message: String,
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Self {
        // Keep the promise of one line whatever the source text holds.
        let message = message
            .into()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Error { exit, message }
    }
    pub(crate) fn failure(message: impl Into<String>) -> Self {
        Self::new(Exit::Failure, message)
    }
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }
    pub(crate) fn rejected(message: impl Into<String>) -> Self {
        Self::new(Exit::Rejected, message)
    }
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Exit::Unavailable, message)
    }
    pub(crate) fn login_aborted(message: impl Into<String>) -> Self {
        Self::new(Exit::LoginAborted, message)
    }
    /// Nothing to say: the reader of stdout went away.
    pub(crate) fn closed_pipe() -> Self {
        Self::new(Exit::ClosedPipe, "")
    }
    pub(crate) fn interrupted() -> Self {
        Self::new(Exit::Interrupted, "interrupted")
    }
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
    /// Prefixes the message with what was being done, keeping the exit code.
    pub(crate) fn context(self, what: impl fmt::Display) -> Self {
        Error::new(self.exit, format!("{what}: {}", self.message))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Formats an I/O failure on a path as a one-line message.
pub(crate) fn io_error(what: &str, path: &std::path::Path, err: &std::io::Error) -> Error {
    Error::failure(format!("{what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let e = Error::usage("first\nsecond\r\n  third");
        assert_eq!(e.message(), "first second third");
        assert_eq!(e.exit, Exit::Usage);
    }

    #[test]
    fn context_keeps_exit_code() {
        let e = Error::rejected("bad secret").context("creating a token");
        assert_eq!(e.to_string(), "creating a token: bad secret");
        assert_eq!(e.exit, Exit::Rejected);
    }
}
