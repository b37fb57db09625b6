//! How a command `exec` runs could not start, or how it ended, as the exit codes a shell
//! gives.

use crate::core::error::{Error, Exit};

/// Why the command could not start, with the exit code a shell would give.
pub(super) fn spawn_error(program: &std::ffi::OsStr, e: std::io::Error) -> Error {
    let shown = program.to_string_lossy();
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::new(Exit::CommandNotFound, format!("command not found: {shown}"))
        }
        std::io::ErrorKind::PermissionDenied => Error::new(
            Exit::CannotExecute,
            format!("cannot run {shown}: permission denied"),
        ),
        _ => Error::failure(format!("cannot run {shown}: {e}")),
    }
}

/// The command's exit code (128 + signal when a signal ended it).
pub(super) fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return code.clamp(0, 255) as u8;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return (128 + signal).clamp(0, 255) as u8;
        }
    }
    1
}
