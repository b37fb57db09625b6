//! `wixauth exec -- COMMAND`: run a command with a fresh token in its environment.

use std::ffi::OsString;
use std::process::Command;

use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::session::{self, Freshness};

pub struct ExecOptions {
    pub instance: Option<String>,
    pub min_ttl: u64,
    pub command: Vec<OsString>,
}

/// Runs the command and returns its exit code (128 + signal when a signal ended it).
pub fn run(opts: &ExecOptions, ctx: &Context) -> Result<u8> {
    let Some((program, args)) = opts.command.split_first() else {
        return Err(Error::usage(
            "exec needs a command: wixauth exec -- COMMAND [ARGS...]",
        ));
    };
    let target = session::resolve(ctx, opts.instance.as_deref(), None)?;
    let token = session::fresh_token(
        ctx,
        &target,
        Freshness {
            min_ttl: opts.min_ttl,
            force: false,
        },
    )?;
    let mut child = Command::new(program);
    child
        .args(args)
        .env("WIX_ACCESS_TOKEN", token.access_token.expose())
        .env("WIX_APP_ID", &target.app_id)
        // The child needs the token, not the long-lived credentials that made it.
        .env_remove("WIX_APP_SECRET")
        .env_remove("WIX_REFRESH_TOKEN");
    match &target.instance_id {
        Some(instance) => child.env("WIX_INSTANCE_ID", instance),
        None => child.env_remove("WIX_INSTANCE_ID"),
    };
    // Ctrl-C goes to the child (same process group); we stay to report how it ended.
    let _ = ctrlc::set_handler(|| {});
    let shown = program.to_string_lossy();
    let status = child.status().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::new(Exit::CommandNotFound, format!("command not found: {shown}"))
        }
        std::io::ErrorKind::PermissionDenied => Error::new(
            Exit::CannotExecute,
            format!("cannot run {shown}: permission denied"),
        ),
        _ => Error::failure(format!("cannot run {shown}: {e}")),
    })?;
    if let Some(code) = status.code() {
        return Ok(code.clamp(0, 255) as u8);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Ok((128 + signal).clamp(0, 255) as u8);
        }
    }
    Ok(1)
}
