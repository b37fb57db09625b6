//! `wixauth logout`: forget an instance, or with `--all` a whole profile, from every local store.

use crate::app::cli::LogoutArgs;
use crate::app::context::Context;
use crate::core::error::{Error, Exit, Result};
use crate::core::fsutil;
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::ui::Io;

pub(crate) struct LogoutOptions {
    pub all: bool,
    pub json: bool,
    /// `--yes`: no question before `--all` on a terminal.
    pub yes: bool,
    /// The global `--instance` flag was given.
    pub instance_flag: bool,
}

impl From<&LogoutArgs> for LogoutOptions {
    fn from(args: &LogoutArgs) -> Self {
        LogoutOptions {
            all: args.all,
            json: args.json,
            yes: args.yes,
            instance_flag: false,
        }
    }
}

/// The `--json` report: what was forgotten (`null` when there was nothing to forget).
fn print_json(
    io: &mut Io,
    opts: &LogoutOptions,
    profile: &str,
    instance: Option<&str>,
) -> Result<()> {
    if opts.json {
        let value = serde_json::json!({"profile": profile, "instance_id": instance, "all": opts.all, "local_only": true});
        io.print(&format!("{value}\n"))?;
    }
    Ok(())
}

/// A write killed between its temporary file and the rename leaves `.wixauth-*` behind,
/// possibly holding a secret: logout removes them all, whatever their age.
fn sweep_temp_files(ctx: &Context) -> Result<()> {
    fsutil::sweep_all_temp_files(&ctx.paths.dir)?;
    fsutil::sweep_all_temp_files(&ctx.paths.cache_dir())?;
    Ok(())
}

const LOCAL_ONLY: &str = "This removes local state only: Wix has no revocation endpoint for app tokens; uninstall the app from the site to revoke them.";

/// Returns the exit code: 1 when the person declined the question (nothing was removed).
pub(crate) fn run(opts: &LogoutOptions, ctx: &mut Context, io: &mut Io) -> Result<u8> {
    if opts.all && opts.instance_flag {
        return Err(
            Error::usage("--all forgets the whole profile and --instance one instance")
                .hint("pass one of them"),
        );
    }
    if opts.all && !opts.yes && io.can_prompt() && !confirmed(ctx, io)? {
        // A person's answer, not a failure: said plainly, exit 1 as the contract says.
        io.note("Logout cancelled: nothing was removed (--yes skips the question).");
        return Ok(Exit::Failure as u8);
    }
    // First, so that also "nothing to log out" leaves no secret in a leftover.
    sweep_temp_files(ctx)?;
    let Some(profile) = ctx.active_profile().cloned() else {
        io.note(&format!(
            "Nothing to log out: profile {:?} is not logged in.",
            ctx.profile
        ));
        // Scripts get the documented shape whatever there was to forget.
        let profile = ctx.profile.clone();
        return print_json(io, opts, &profile, None).map(|()| 0);
    };
    let name = ctx.profile.clone();
    let session = ctx.session();
    let lifecycle = session.lifecycle();
    if !profile.kind().has_instances() || opts.all {
        // A Headless client or an API key has one secret and no instances: both forms forget it all.
        lifecycle.forget_profile()?;
        io.flush_notes(&ctx.notes);
        let held = profile.flow.unwrap_or(Flow::Visitor).held().noun();
        match profile.kind() {
            Kind::Headless => io.note(&format!("Logged out of profile {name}: the Wix Headless {held} and cached tokens are removed. This removes local state only: Wix documents no public revocation route for them.")),
            Kind::ApiKey => io.note(&format!("Logged out of profile {name}: the API key is removed from this machine. This removes local state only: the key still works until it is revoked in the account's API Keys Manager.")),
            Kind::App => io.note(&format!("Logged out of profile {name}: app secret, refresh tokens and cached tokens removed. {LOCAL_ONLY}")),
        }
        ctx.reload_config()?;
        return print_json(io, opts, &name, None).map(|()| 0);
    }
    let Some(instance) = ctx.instance.clone().or(profile.default_instance.clone()) else {
        io.note(&format!("Nothing to log out: profile {name} has no default instance. Pass --instance ID, or --all to forget the app secret too."));
        return print_json(io, opts, &name, None).map(|()| 0);
    };
    let forgotten = lifecycle.forget_instance(&instance)?;
    ctx.reload_config()?;
    io.flush_notes(&ctx.notes);
    if !forgotten.was_stored {
        // Idempotent (exit 0), and truthful: nothing of it was stored.
        io.note(&format!("not logged in: instance {instance} is not stored in profile {name}; nothing to log out"));
        return print_json(io, opts, &name, Some(&instance)).map(|()| 0);
    }
    io.note(&format!(
        "Logged out instance {instance} of profile {name}; the app secret is kept (use --all to remove it). {LOCAL_ONLY}"
    ));
    if forgotten.was_default {
        io.note("It was the profile's default instance, so the profile has none now: `wixauth switch --instance ID` sets one.");
    }
    print_json(io, opts, &name, Some(&instance)).map(|()| 0)
}

/// On a terminal `logout --all` asks first, in the words of the profile's kind.
fn confirmed(ctx: &Context, io: &mut Io) -> Result<bool> {
    let Some(profile) = ctx.active_profile() else {
        return Ok(true);
    };
    let held = profile.flow.unwrap_or(Flow::Visitor).held().noun();
    let what = match profile.kind() {
        Kind::Headless => format!("its Wix Headless {held} and cached tokens"),
        Kind::ApiKey => "its API key".to_string(),
        Kind::App => format!(
            "app secret, {} instance(s), cached tokens",
            profile.instances.len()
        ),
    };
    let question = format!("Forget profile {} ({what})?", ctx.profile);
    let answer = io
        .prompter
        .select(&question, &["no, keep it", "yes, forget it"], 0)?;
    Ok(answer == 1)
}
