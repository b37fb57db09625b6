//! The commands and what they share: the clap model, completion, the context every command
//! gets, and the one dispatch from a parsed command line to a command's `run`.

pub(crate) mod candidates;
pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod complete;
pub(crate) mod context;
pub(crate) mod fleet;

use crate::app::cli::{Cli, Command};
use crate::app::commands::{
    api, bi_event, exec, generate, install_url, login, logout, status, token, whoami,
};
use crate::app::context::Context;
use crate::core::error::{Exit, Invocation, Result};
use crate::settings::env::Env;
use crate::ui::Io;

/// Runs the command line; a failure is one line on stderr, its next step carrying the user's
/// own flags. Returns the exit code.
pub(crate) fn run(cli: Cli, io: &mut Io) -> u8 {
    let how = invocation(&cli);
    match run_command(cli, how.clone(), io) {
        Ok(code) => code,
        Err(e) if e.exit == Exit::ClosedPipe => e.exit as u8,
        // A person's Ctrl-C is a stop, not an error: one line, said once.
        Err(e) if e.exit == Exit::Interrupted => {
            if crate::ui::interrupt::first_to_say() {
                io.note(crate::ui::interrupt::SAID_LINE);
            }
            e.exit as u8
        }
        Err(e) => {
            io.note(&format!("wixauth: error: {}", e.render(&how)));
            for line in e.after() {
                io.note(line);
            }
            e.exit as u8
        }
    }
}

/// The flags a printed next step repeats: the global ones, and a login's own.
fn invocation(cli: &Cli) -> Invocation {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut login = Vec::new();
    let mut instance = given(&cli.instance);
    if let Command::Login(args) = &cli.command {
        // The hidden `--instance-id` is printed as the one flag for it, `--instance`.
        instance = instance.or_else(|| given(&args.instance_id));
        let flags = [
            (
                "--flow",
                args.flow
                    .map(|f| crate::settings::Flow::from(f).name().to_string()),
            ),
            ("--redirect-url", given(&args.redirect_url)),
            ("--app-id", given(&args.app_id)),
            ("--client-id", given(&args.client_id)),
        ];
        for (flag, value) in flags {
            if let Some(value) = value {
                login.push((flag.to_string(), value));
            }
        }
    }
    Invocation {
        profile: given(&cli.profile),
        instance,
        login,
    }
}

fn run_command(cli: Cli, how: Invocation, io: &mut Io) -> Result<u8> {
    // Commands that need no environment or config work even when those are broken.
    match &cli.command {
        Command::Completions(args) => return generate::completions(args.shell, io).map(|()| 0),
        Command::Help(args) => return generate::help(&args.topic, io).map(|()| 0),
        _ => {}
    }
    let env = Env::from_process()?;
    io.set_browser_env(&env);
    let (profile, instance) = (cli.profile.as_deref(), cli.instance.as_deref());
    let mut ctx = match &cli.command {
        Command::Doctor(_) => Context::load_for_doctor(env, profile, instance)?,
        _ => Context::load(env, profile, instance)?,
    };
    ctx.how = how;
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
            logout::run(&opts, &mut ctx, io)
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
        Command::Instances(args) => commands::instances::run(&(&**args).into(), ctx, io)?,
        Command::Webhook(args) => {
            let opts = commands::webhook::WebhookOptions::from_args(args)?;
            commands::webhook::run(&opts, ctx, io)?
        }
        Command::Doctor(args) => return commands::doctor::run(&(&**args).into(), ctx, io),
        Command::Completions(_) | Command::Help(_) | Command::Switch(_) | Command::Logout(_) => {}
    }
    Ok(0)
}
