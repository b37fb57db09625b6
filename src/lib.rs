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
pub mod webhook;
pub mod wix;

use clap::Parser;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

use crate::commands::{
    api, bi_event, exec, generate, install_url, login, logout, status, token, whoami,
};
use crate::context::{Context, Io};
use crate::error::{Exit, Result};

/// Parses arguments, runs the command and reports a failure as one line on stderr.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = cli::parse_plain_token(&args)
        .map(Ok)
        .unwrap_or_else(|| Cli::try_parse_from(&args));
    let cli = match parsed {
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
        Ok(code) => code,
        Err(e) => {
            io.note(&format!("wixauth: error: {e}"));
            e.exit.into()
        }
    }
}

pub fn run(cli: Cli, io: &mut Io) -> Result<ExitCode> {
    // Commands that need no config work even when config.toml is broken.
    match &cli.command {
        Command::Completions(args) => {
            return generate::completions(args.shell, io).map(|()| ExitCode::SUCCESS)
        }
        Command::Help(args) => return generate::help(&args.topic, io).map(|()| ExitCode::SUCCESS),
        _ => {}
    }
    let mut ctx = Context::load(cli.profile.clone())?;
    let instance = cli.instance.clone().filter(|i| !i.trim().is_empty());
    match &cli.command {
        Command::Login(args) => login::run(&args.into(), &mut ctx, io)?,
        Command::Token(args) => {
            token::run(&token::TokenOptions::from_args(args, instance), &ctx, io)?
        }
        Command::Status(args) => status::run(
            &status::StatusOptions {
                instance,
                json: args.json,
                check: args.check,
            },
            &ctx,
            io,
        )?,
        Command::Logout(args) => logout::run(
            &logout::LogoutOptions {
                instance,
                all: args.all,
                json: args.json,
            },
            &mut ctx,
            io,
        )?,
        Command::BiEvent(args) => bi_event::run(
            &bi_event::BiEventOptions::from_args(args, instance),
            &ctx,
            io,
        )?,
        Command::Api(args) => api::run(&api::ApiOptions::from_args(args, instance), &ctx, io)?,
        Command::Exec(args) => {
            let opts = exec::ExecOptions {
                instance,
                min_ttl: args.min_ttl,
                command: args.command.clone(),
            };
            return exec::run(&opts, &ctx).map(ExitCode::from);
        }
        Command::Whoami(args) => whoami::run(
            &whoami::WhoamiOptions {
                instance,
                json: args.json,
            },
            &ctx,
            io,
        )?,
        Command::InstallUrl(args) => install_url::run(
            &install_url::InstallUrlOptions {
                flow: args.flow,
                json: args.json,
            },
            &ctx,
            io,
        )?,
        Command::Webhook(args) => commands::webhook::run(
            &commands::webhook::WebhookOptions::from_args(args)?,
            &mut ctx,
            io,
        )?,
        Command::Completions(_) | Command::Help(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}
