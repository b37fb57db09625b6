//! `wixauth exec -- COMMAND`: run a command with a fresh token in its environment.

mod child;
mod each;

use std::ffi::OsString;
use std::process::Command;

use crate::app::cli::{ExecArgs, FleetArgs};
use crate::app::context::Context;
use crate::core::error::{Error, Result};
use crate::credentials::profile::child_env;
use crate::credentials::Freshness;
use crate::ui::Io;
use child::{exit_code, spawn_error};

pub(crate) struct ExecOptions {
    pub min_ttl: u64,
    pub command: Vec<OsString>,
    /// `--each-instance` and the flags that go with it.
    pub fleet: FleetArgs,
    /// `--raw`: a fleet's output unprefixed, one instance after another.
    pub raw: bool,
}

impl From<&ExecArgs> for ExecOptions {
    fn from(args: &ExecArgs) -> Self {
        ExecOptions {
            min_ttl: args.min_ttl,
            command: args.command.clone(),
            fleet: args.fleet.clone(),
            raw: args.raw,
        }
    }
}

/// Runs the command and returns its exit code (128 + signal when a signal ended it).
pub(crate) fn run(opts: &ExecOptions, ctx: &Context, io: &mut Io) -> Result<u8> {
    let Some((program, args)) = opts.command.split_first() else {
        return Err(Error::usage(
            "exec needs a command: wixauth exec -- COMMAND [ARGS...]",
        ));
    };
    if let Some(fleet) = crate::app::fleet::FleetOptions::parse(&opts.fleet)? {
        return each::run(&fleet, &opts.command, opts.min_ttl, opts.raw, ctx, io);
    }
    if opts.raw {
        return Err(Error::usage(
            "--raw goes with --each-instance or --instances-from FILE",
        ));
    }
    let session = ctx.session();
    let target = session.resolve(ctx.instance.as_deref(), None)?;
    let token = session.fresh_token(
        &target,
        Freshness {
            min_ttl: opts.min_ttl,
            force: false,
        },
    )?;
    io.flush_notes(&ctx.notes);
    let mut child = Command::new(program);
    child.args(args);
    let vars = child_env(&target, &token.access_token);
    for (name, value) in &vars.set {
        child.env(name, value.expose());
    }
    for name in vars.removed {
        child.env_remove(name);
    }
    // Ctrl-C goes to the child (same process group); we stay to report how it ended.
    crate::ui::interrupt::on_interrupt(crate::ui::interrupt::OnInterrupt::Ignore);
    let status = spawn_forwarding_signals(&mut child, |e| spawn_error(program, e))?;
    Ok(exit_code(status))
}

/// Runs the child and waits for it; a SIGTERM or SIGHUP sent to wixauth (a CI runner
/// cancelling the job) is passed on, so the child never runs on with its token after wixauth is
/// gone. The signals are caught before the child starts: one arriving at any moment is passed
/// on, never kills wixauth alone.
#[cfg(unix)]
fn spawn_forwarding_signals(
    command: &mut Command,
    spawn_error: impl FnOnce(std::io::Error) -> Error,
) -> Result<std::process::ExitStatus> {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP])
        .map_err(|e| Error::failure(format!("cannot pass signals on to the command: {e}")))?;
    let handle = signals.handle();
    let mut child = command.spawn().map_err(spawn_error)?;
    let pid = libc::pid_t::try_from(child.id()).unwrap_or(0);
    let forwarder = std::thread::spawn(move || {
        for signal in signals.forever() {
            if pid > 0 {
                // SAFETY: kill(2) takes plain integers; the worst outcome is an error return.
                unsafe {
                    libc::kill(pid, signal);
                }
            }
        }
    });
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    status.map_err(|e| Error::failure(format!("cannot wait for the command: {e}")))
}

#[cfg(not(unix))]
fn spawn_forwarding_signals(
    command: &mut Command,
    spawn_error: impl FnOnce(std::io::Error) -> Error,
) -> Result<std::process::ExitStatus> {
    let mut child = command.spawn().map_err(spawn_error)?;
    child
        .wait()
        .map_err(|e| Error::failure(format!("cannot wait for the command: {e}")))
}
