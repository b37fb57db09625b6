//! `wixauth logout`: forget an instance, or with `--all` a whole profile, from every local store.

use crate::app::cli::LogoutArgs;
use crate::app::context::Context;
use crate::core::error::{Error, Exit, Result};
use crate::core::fsutil;
use crate::credentials::store::SecretKey;
use crate::credentials::Cached;
use crate::settings::config::Config;
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

pub(crate) fn run(opts: &LogoutOptions, ctx: &mut Context, io: &mut Io) -> Result<()> {
    if opts.all && opts.instance_flag {
        return Err(Error::usage(
            "--all forgets the whole profile and --instance one instance: pass one of them",
        ));
    }
    if opts.all && !opts.yes && io.can_prompt() {
        if let Some(profile) = ctx.active_profile() {
            let question = format!(
                "Forget profile {} (app secret, {} instance(s), cached tokens)?",
                ctx.profile,
                profile.instances.len()
            );
            let answer = io
                .prompter
                .select(&question, &["no, keep it", "yes, forget it"], 0)?;
            if answer != 1 {
                return Err(Error::new(
                    Exit::Failure,
                    "logout cancelled: nothing was removed (pass --yes to skip the question)",
                ));
            }
        }
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
        return print_json(io, opts, &profile, None);
    };
    let name = ctx.profile.clone();
    if profile.is_headless() {
        // A headless client has one refresh token and no instances: both forms forget it all.
        super::headless_login::forget(ctx, &name)?;
        Config::update(&ctx.paths, |c| remove_profile(c, &name))?;
        ctx.reload_config()?;
        io.flush_notes(&ctx.notes);
        io.note(&format!("Logged out of profile {name}: the Wix Headless refresh token and cached tokens are removed. This removes local state only: Wix documents no public revocation route for them."));
        return print_json(io, opts, &name, None);
    }
    let secrets = ctx.secrets();
    let session = ctx.session();
    let name = ctx.profile.clone();
    let hint = profile.secret_store;

    if opts.all {
        for instance in profile.instances.keys() {
            secrets.delete_everywhere(&SecretKey::refresh_token(&name, instance), hint)?;
            if let Some(app_id) = &profile.app_id {
                session.forget_cached(app_id, Cached::Instance(instance))?;
            }
        }
        secrets.delete_everywhere(&SecretKey::app_secret(&name), hint)?;
        // Whatever else the profile ever wrote: secrets of instances a later login dropped,
        // cached tokens minted with other credentials or another API base.
        secrets.delete_file_entries_of(&name)?;
        if let Some(app_id) = &profile.app_id {
            session.forget_cached(app_id, Cached::EveryInstance)?;
        }
        Config::update(&ctx.paths, |c| remove_profile(c, &name))?;
        io.flush_notes(&ctx.notes);
        io.note(&format!("Logged out of profile {name}: app secret, refresh tokens and cached tokens removed. {LOCAL_ONLY}"));
        return print_json(io, opts, &name, None);
    }

    let Some(instance) = ctx.instance.clone().or(profile.default_instance.clone()) else {
        io.note(&format!("Nothing to log out: profile {name} has no instance. Use --all to forget the app secret too."));
        return print_json(io, opts, &name, None);
    };
    secrets.delete_everywhere(&SecretKey::refresh_token(&name, &instance), hint)?;
    if let Some(app_id) = &profile.app_id {
        session.forget_cached(app_id, Cached::Instance(&instance))?;
    }
    Config::update(&ctx.paths, |c| {
        if let Some(p) = c.profiles.get_mut(&name) {
            p.instances.remove(&instance);
            if p.default_instance.as_deref() == Some(instance.as_str()) {
                p.default_instance = p.instances.keys().next().cloned();
            }
        }
    })?;
    ctx.reload_config()?;
    io.flush_notes(&ctx.notes);
    io.note(&format!(
        "Logged out instance {instance} of profile {name}; the app secret is kept (use --all to remove it). {LOCAL_ONLY}"
    ));
    print_json(io, opts, &name, Some(&instance))
}

/// Removes a profile; a removed profile is no longer the one `wixauth switch` made active.
fn remove_profile(config: &mut Config, name: &str) {
    config.profiles.remove(name);
    if config.active_profile.as_deref() == Some(name) {
        config.active_profile = None;
    }
}
