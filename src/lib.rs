//! wixauth: Wix app authentication in one command.
//!
//! The binary is a thin shell over [`run`]; each piece lives in its own module:
//! `wix` (the HTTP client), `store` (secrets), `config`, `cache`, `session`
//! (credentials → fresh token), `listener` (the browser login) and `commands`.

pub mod browser;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod fsutil;
pub mod listener;
pub mod log;
pub mod pages;
pub mod prompt;
pub mod secret;
pub mod session;
pub mod store;
pub mod wix;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::{login, logout, status, token};
use crate::context::{Context, Io};
use crate::error::{Exit, Result};

/// Parses arguments, runs the command and reports a failure as one line on stderr.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes printed on stdout.
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
            let _ = e.print();
            return code.into();
        }
    };
    log::set_verbose(cli.verbose);
    let mut io = Io::system();
    match run(cli, &mut io) {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            io.note(&format!("wixauth: error: {e}"));
            e.exit.into()
        }
    }
}

pub fn run(cli: Cli, io: &mut Io) -> Result<()> {
    let mut ctx = Context::load(cli.profile.clone())?;
    let instance = cli.instance.clone().filter(|i| !i.trim().is_empty());
    match &cli.command {
        Command::Login(args) => login::run(&args.into(), &mut ctx, io),
        Command::Token(args) => {
            token::run(&token::TokenOptions::from_args(args, instance), &ctx, io)
        }
        Command::Status(args) => status::run(
            &status::StatusOptions {
                instance,
                json: args.json,
                check: args.check,
            },
            &ctx,
            io,
        ),
        Command::Logout(args) => logout::run(
            &logout::LogoutOptions {
                instance,
                all: args.all,
            },
            &mut ctx,
            io,
        ),
    }
}
