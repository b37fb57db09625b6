//! The commands and what they share: the clap model, completion, the context every command
//! gets, and the one dispatch from a parsed command line to a command's `run`.

pub(crate) mod candidates;
pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod complete;
pub(crate) mod context;

use crate::app::cli::{Cli, Command};
use crate::app::commands::{
    api, bi_event, exec, generate, install_url, login, logout, status, token, whoami,
};
use crate::app::context::Context;
use crate::core::error::Result;
use crate::settings::env::Env;
use crate::ui::Io;

pub(crate) fn run(cli: Cli, io: &mut Io) -> Result<u8> {
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
