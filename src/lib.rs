//! wixauth: Wix app authentication in one command.
//!
//! `main` parses the command line and hands it to [`run`], which reads the environment once
//! ([`env::Env`]), loads the context and dispatches to one module per command. Below the
//! commands: `credentials` (resolution, secret stores, token cache), `oauth` (the browser
//! login and its loopback listener), `wix` (the HTTP client), `ui` (streams, prompts, browser).

pub mod commands;
mod complete;
mod config;
mod context;
mod credentials;
mod env;
mod error;
mod fsutil;
mod log;
mod nss;
mod oauth;
mod secret;
mod text;
mod ui;
mod webhook;
mod wix;

mod cli;

use crate::cli::{Cli, Command};
use crate::commands::{
    api, bi_event, exec, generate, install_url, login, logout, status, token, whoami,
};
use crate::context::Context;
use crate::env::Env;
use crate::error::{Exit, Result};
use crate::ui::Io;

/// Parses arguments, runs the command and reports a failure as one line on stderr; returns the
/// exit code (`src/main.rs` may be a C entry point, which needs it as a number).
pub fn main() -> u8 {
    harden_process();
    // A shell asking for completion candidates gets them and nothing else.
    complete::run_if_requested();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes printed on stdout.
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
            let _ = e.print();
            return code as u8;
        }
    };
    log::set_verbose(cli.verbose);
    let mut io = Io::system();
    match run(cli, &mut io) {
        Ok(code) => code,
        Err(e) if e.exit == Exit::ClosedPipe => e.exit as u8,
        Err(e) => {
            io.note(&format!("wixauth: error: {e}"));
            e.exit as u8
        }
    }
}

fn run(cli: Cli, io: &mut Io) -> Result<u8> {
    // Commands that need no environment or config work even when those are broken.
    match &cli.command {
        Command::Completions(args) => return generate::completions(args.shell, io).map(|()| 0),
        Command::Help(args) => return generate::help(&args.topic, io).map(|()| 0),
        _ => {}
    }
    let env = Env::from_process()?;
    io.set_browser_env(&env);
    let mut ctx = Context::load(env, cli.profile.as_deref(), cli.instance.as_deref())?;
    let outcome = match &cli.command {
        // The flags themselves, not the environment: they say what to make active.
        Command::Switch(_) => {
            let opts = commands::switch::SwitchOptions {
                profile: cli.profile.clone(),
                instance: cli.instance.clone(),
            };
            commands::switch::run(&opts, &mut ctx, io).map(|()| 0)
        }
        // `--all` conflicts with the global `--instance` flag (not with WIX_INSTANCE_ID).
        Command::Logout(args) => {
            let opts = logout::LogoutOptions {
                instance_flag: cli.instance.is_some(),
                ..logout::LogoutOptions::from(&**args)
            };
            logout::run(&opts, &mut ctx, io).map(|()| 0)
        }
        command => dispatch(command, &mut ctx, io),
    };
    // Warnings raised on the way still reach the person, also when the command failed.
    io.flush_notes(&ctx.notes);
    outcome
}

fn dispatch(command: &Command, ctx: &mut Context, io: &mut Io) -> Result<u8> {
    // Each command builds its options from its own arguments (`From<&XArgs>`).
    match command {
        Command::Login(args) => login::run(&(&**args).into(), ctx, io)?,
        Command::Token(args) => token::run(&(&**args).into(), ctx, io)?,
        Command::Status(args) => status::run(&(&**args).into(), ctx, io)?,
        Command::BiEvent(args) => bi_event::run(&(&**args).into(), ctx, io)?,
        Command::Api(args) => api::run(&(&**args).into(), ctx, io)?,
        Command::Exec(args) => return exec::run(&(&**args).into(), ctx, io),
        Command::Whoami(args) => whoami::run(&(&**args).into(), ctx, io)?,
        Command::InstallUrl(args) => install_url::run(&(&**args).into(), ctx, io)?,
        Command::Webhook(args) => {
            let opts = commands::webhook::WebhookOptions::from_args(args)?;
            commands::webhook::run(&opts, ctx, io)?
        }
        Command::Doctor(args) => return commands::doctor::run(&(&**args).into(), ctx, io),
        Command::Completions(_) | Command::Help(_) | Command::Switch(_) | Command::Logout(_) => {}
    }
    Ok(0)
}

/// Keeps secrets in this process: no core file that could hold them, and (Linux) no other
/// process of the same user reading our memory or `/proc/<pid>/environ` (the dumpable flag
/// also gates ptrace). Windows has neither; the secrets there are protected by the user's
/// account alone.
fn harden_process() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; failure leaves the limit as it was.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_SET_DUMPABLE takes plain integers and touches only this process.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_is_not_dumpable_and_leaves_no_core() {
        super::harden_process();
        // SAFETY: a query of this process's own flag.
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }, 0);
        let mut limit = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY: getrlimit writes into the struct we own.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) }, 0);
        assert_eq!((limit.rlim_cur, limit.rlim_max), (0, 0));
    }
}
