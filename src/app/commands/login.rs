//! `wixauth login`: store an app's credentials and authorise an app instance.

use std::time::Duration;

use serde_json::json;

use crate::app::cli::LoginArgs;
use crate::app::context::Context;
use crate::core::error::{Error, Result};
use crate::core::log::debug;
use crate::core::secret::Secret;
use crate::core::text::{is_wix_id, printable};
use crate::credentials::cache::{CacheKey, CachedToken};
use crate::credentials::store::SecretKey;
use crate::credentials::Cached;
use crate::oauth::{self, Authorised, BrowserLogin};
use crate::settings::config::{Config, Instance, Profile, StoreKind, DEFAULT_REDIRECT_URL};
use crate::settings::Flow;
use crate::ui::Io;

/// The longest app secret `--secret-stdin` reads (Wix's are UUIDs).
const MAX_SECRET_LINE: usize = 4096;

#[derive(Clone)]
pub(crate) struct LoginOptions {
    pub flow: Option<Flow>,
    pub app_id: Option<String>,
    pub client_id: Option<String>,
    pub prompt: Option<&'static str>,
    pub force: bool,
    pub instance_id: Option<String>,
    pub secret_stdin: bool,
    pub redirect_url: Option<String>,
    pub no_browser: bool,
    pub no_close_window: bool,
    pub timeout: u64,
    pub json: bool,
}

impl From<&LoginArgs> for LoginOptions {
    fn from(a: &LoginArgs) -> Self {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        LoginOptions {
            flow: a.flow.map(Flow::from),
            app_id: given(&a.app_id),
            client_id: given(&a.client_id),
            prompt: a.prompt.map(|p| p.as_str()),
            force: a.force,
            instance_id: given(&a.instance_id),
            secret_stdin: a.secret_stdin,
            redirect_url: given(&a.redirect_url),
            no_browser: a.no_browser,
            no_close_window: a.no_close_window,
            timeout: a.timeout,
            json: a.json,
        }
    }
}

pub(crate) fn run(opts: &LoginOptions, ctx: &mut Context, io: &mut Io) -> Result<()> {
    // One name for one idea: the global --instance / WIX_INSTANCE_ID is the basic flow's
    // instance too (`--instance-id` stays as a hidden alias).
    let with_instance;
    let opts = if opts.instance_id.is_none() && ctx.instance.is_some() {
        with_instance = LoginOptions {
            instance_id: ctx.instance.clone(),
            ..opts.clone()
        };
        &with_instance
    } else {
        opts
    };
    if let Some(id) = opts.instance_id.as_deref().filter(|id| !is_wix_id(id)) {
        return Err(Error::usage(format!(
            "--instance-id {:?} does not look like a Wix instance id (letters, digits and dashes)",
            printable(id, 80)
        )));
    }
    let profile = ctx.active_profile().cloned().unwrap_or_default();
    // A client id (and no app id) means a Wix Headless client.
    let headless_hint = opts.app_id.is_none()
        && ctx.env.app_id.is_none()
        && (opts.client_id.is_some() || ctx.env.client_id.is_some() || profile.is_headless());
    if opts.flow.is_some_and(Flow::is_headless) || (opts.flow.is_none() && headless_hint) {
        return super::headless_login::run(opts, opts.flow, ctx, io, &profile);
    }
    let flow = choose_flow(opts, &profile, io)?;
    if flow.is_headless() {
        return super::headless_login::run(opts, Some(flow), ctx, io, &profile);
    }
    if opts.client_id.is_some() || opts.prompt.is_some() {
        return Err(Error::usage(format!(
            "--client-id and --prompt are for Wix Headless clients (--flow visitor|member), not the {flow} flow"
        )));
    }
    if profile.is_headless() {
        super::headless_login::confirm_switch(opts, ctx, io, "a Wix Headless client", "an app")?;
    }
    let app_id = app_id(opts, ctx, &profile, io)?;
    let sources = sources(opts, ctx, io, &profile, &app_id, flow);
    if opts.instance_id.is_none() {
        // The browser login waits: say now what it is for.
        io.note(&format!(
            "Logging in: profile {} ({}), app {} ({}), flow {flow} ({}).",
            ctx.profile,
            sources.profile,
            printable(&app_id, 80),
            sources.app,
            sources.flow
        ));
    }
    let secret = app_secret(opts, ctx, &profile, &app_id, io)?;
    // The user's string as given: Wix compares it with the registered one character for character.
    let redirect_url = opts
        .redirect_url
        .clone()
        .or_else(|| profile.redirect_url.clone())
        .unwrap_or_else(|| DEFAULT_REDIRECT_URL.to_string());
    if opts.instance_id.is_none() && profile.redirect_url.is_none() {
        register_first(io, flow, &redirect_url);
    }
    let stored_redirect = match flow {
        Flow::Advanced => Some(redirect_url.clone()),
        Flow::Basic | Flow::Visitor | Flow::Member => profile.redirect_url.clone(),
    };

    let mut stored_in = None;
    let authorised = match (flow, opts.instance_id.as_deref()) {
        (Flow::Basic, Some(instance)) => {
            let grant = ctx
                .wix()
                .get()?
                .create_access_token(&app_id, &secret, instance)?;
            let authorised = Authorised {
                instance_id: Some(instance.to_string()),
                grant,
                refresh_token: None,
            };
            stored_in = Some(save(
                ctx,
                &app_id,
                flow,
                stored_redirect,
                &secret,
                &authorised,
            )?);
            authorised
        }
        _ => {
            let login = BrowserLogin {
                flow,
                app_id: &app_id,
                secret: Some(&secret),
                prompt: None,
                redirect_url: &redirect_url,
                installer: &ctx.env.installer_base,
                wix: ctx.wix().get()?,
                open_browser: !opts.no_browser,
                close_window: !opts.no_close_window,
                timeout: Duration::from_secs(opts.timeout),
            };
            let mut store = |authorised: &Authorised| -> Result<()> {
                stored_in = Some(save(
                    ctx,
                    &app_id,
                    flow,
                    stored_redirect.clone(),
                    &secret,
                    authorised,
                )?);
                Ok(())
            };
            oauth::run(&login, io, &ctx.notes, &mut store)?
        }
    };
    let stored_in =
        stored_in.ok_or_else(|| Error::failure("the login finished without storing anything"))?;
    io.flush_notes(&ctx.notes);
    ctx.reload_config()?;
    report(
        opts,
        ctx,
        io,
        &app_id,
        authorised.instance_id.as_deref().unwrap_or_default(),
        stored_in,
        &sources,
    )
}

/// Where a login's profile, app and flow came from (flag, environment, stored…).
struct Sources {
    profile: &'static str,
    app: &'static str,
    /// The flow used, and where it came from.
    used: Flow,
    flow: &'static str,
}

fn sources(
    opts: &LoginOptions,
    ctx: &Context,
    io: &Io,
    profile: &Profile,
    app_id: &str,
    flow: Flow,
) -> Sources {
    let app_from = if opts.app_id.is_some() {
        "--app-id"
    } else if ctx.env.app_id.is_some() {
        "WIX_APP_ID"
    } else if profile.app_id.as_deref() == Some(app_id) {
        "stored"
    } else {
        "typed"
    };
    let flow_from = if opts.flow.is_some() {
        "--flow"
    } else if opts.instance_id.is_some() {
        "an instance id was given"
    } else if profile.flow == Some(flow) {
        "stored"
    } else if io.can_prompt() {
        "chosen"
    } else {
        "the default"
    };
    Sources {
        profile: ctx.profile_from,
        app: app_from,
        used: flow,
        flow: flow_from,
    }
}

/// The first browser login of a profile: the exact strings the app dashboard must hold, so a
/// first-timer does not land on Wix's "Invalid redirect URL" page.
fn register_first(io: &mut Io, flow: Flow, redirect_url: &str) {
    match flow {
        Flow::Advanced => {
            let app_url = oauth::parse_redirect(redirect_url)
                .map(|mut u| {
                    u.set_path("/app");
                    u.set_query(None);
                    u.to_string()
                })
                .unwrap_or_default();
            io.note(&format!(
                "First browser login of this profile: in the app dashboard (OAuth page) register exactly
  Redirect URL: {redirect_url}
  App URL:      {app_url}"
            ));
        }
        Flow::Basic => io.note(
            "No instance id given: the browser installs the app on a site (Wix's external install); pass --instance ID to skip the browser.",
        ),
        Flow::Visitor | Flow::Member => {}
    }
}

fn choose_flow(opts: &LoginOptions, profile: &Profile, io: &mut Io) -> Result<Flow> {
    if let Some(flow) = opts.flow {
        return Ok(flow);
    }
    // An instance id only makes sense for the basic flow.
    if opts.instance_id.is_some() {
        return Ok(Flow::Basic);
    }
    if let Some(flow) = profile.flow {
        return Ok(flow);
    }
    if io.can_prompt() {
        let choice = io.prompter.select(
            "How does this app get tokens?",
            &[
                "basic: app secret + instance id → 4-hour tokens (Wix's OAuth, what every app has)",
                "advanced: custom authentication (legacy, only for existing apps that already use it): browser consent → refresh token → 5-minute tokens",
                "visitor: a Wix Headless client's anonymous visitor (client id, no secret)",
                "member: a Wix Headless client's site member, logged in on Wix's page in the browser",
            ],
            0,
        )?;
        return Ok(match choice {
            0 => Flow::Basic,
            1 => Flow::Advanced,
            2 => Flow::Visitor,
            _ => Flow::Member,
        });
    }
    // Wix no longer offers custom authentication to new apps: the default is the flow every app has.
    Ok(Flow::Basic)
}

fn app_id(opts: &LoginOptions, ctx: &Context, profile: &Profile, io: &mut Io) -> Result<String> {
    if let Some(id) = opts
        .app_id
        .clone()
        .or_else(|| ctx.env.app_id.clone())
        .or_else(|| profile.app_id.clone())
    {
        return Ok(id.trim().to_string());
    }
    if io.can_prompt() {
        let id = io
            .prompter
            .text("App ID (from the app dashboard's OAuth page)")?;
        if !id.is_empty() {
            return Ok(id);
        }
    }
    Err(Error::usage(
        "no app id: pass --app-id ID or set WIX_APP_ID",
    ))
}

fn app_secret(
    opts: &LoginOptions,
    ctx: &Context,
    profile: &Profile,
    app_id: &str,
    io: &mut Io,
) -> Result<Secret> {
    if opts.secret_stdin {
        let secret = io.read_secret_line(MAX_SECRET_LINE, "--secret-stdin")?;
        if secret.is_empty() {
            return Err(Error::usage(
                "--secret-stdin read an empty line: pipe the app secret into wixauth login",
            ));
        }
        return Ok(secret);
    }
    if let Some(secret) = &ctx.env.app_secret {
        return Ok(secret.clone());
    }
    // Adding another instance of an app already logged in reuses its secret.
    if profile.app_id.as_deref() == Some(app_id) {
        if let Some((secret, _)) = ctx
            .secrets()
            .get(&SecretKey::app_secret(&ctx.profile), profile.secret_store)?
        {
            return Ok(secret);
        }
    }
    if io.can_prompt() {
        let secret = io.prompter.secret("App secret (hidden)")?;
        if !secret.is_empty() {
            return Ok(secret);
        }
    }
    Err(Error::usage("no app secret: pipe it with --secret-stdin or set WIX_APP_SECRET (it is never accepted as an argument)"))
}

/// Stores the secrets first, then the config, and only then removes what the previous login
/// left that this one replaces: a failure leaves the previous login usable.
fn save(
    ctx: &Context,
    app_id: &str,
    flow: Flow,
    redirect_url: Option<String>,
    secret: &Secret,
    authorised: &Authorised,
) -> Result<StoreKind> {
    // The id becomes a config key and part of file names: it must look like Wix's.
    let instance_id = authorised.instance_id.as_deref().unwrap_or_default();
    if !is_wix_id(instance_id) {
        return Err(Error::rejected(format!(
            "the instance id {:?} does not look like a Wix instance id, so nothing was stored: run `wixauth login` again",
            printable(instance_id, 80)
        )));
    }
    let secrets = ctx.secrets();
    let session = ctx.session();
    let stored_in = secrets.put(&SecretKey::app_secret(&ctx.profile), secret)?;
    if let Some(refresh) = &authorised.refresh_token {
        secrets.put(
            &SecretKey::refresh_token(&ctx.profile, instance_id),
            refresh,
        )?;
    }
    let profile_name = ctx.profile.clone();
    let instance = instance_id.to_string();
    Config::update(&ctx.paths, |config: &mut Config| {
        let profile = config.profiles.entry(profile_name).or_default();
        if profile.app_id.as_deref().is_some_and(|old| old != app_id) {
            // The instances of another app cannot be used with this one.
            profile.instances.clear();
        }
        profile.app_id = Some(app_id.to_string());
        profile.client_id = None;
        profile.flow = Some(flow);
        profile.secret_store = Some(stored_in);
        profile.redirect_url = redirect_url;
        profile.default_instance = Some(instance.clone());
        profile.instances.insert(instance, Instance::new(flow));
    })?;
    // Only now that the new login is stored (`ctx.config` still holds the old one): nothing of
    // a headless client stays behind in a profile that is now an app's, and logging a profile
    // into another app drops the old app's instances, their secrets and cached tokens.
    super::headless_login::forget(ctx, &ctx.profile)?;
    if let Some(old) = ctx
        .active_profile()
        .filter(|p| p.app_id.as_deref() != Some(app_id))
    {
        for instance in old.instances.keys().filter(|i| *i != instance_id) {
            secrets.delete_everywhere(
                &SecretKey::refresh_token(&ctx.profile, instance),
                old.secret_store,
            )?;
        }
        if let Some(old_app) = &old.app_id {
            session.forget_cached(old_app, Cached::EveryInstance)?;
        }
    }
    // The token that proved the login is good: the first `wixauth token` needs no request.
    let token = CachedToken::from_grant(&authorised.grant, app_id, Some(instance_id), flow);
    // Keyed as a later run with the stored credentials looks it up: those are what minted it.
    let key = CacheKey::new(&ctx.env.api_base, app_id, Some(instance_id), &[]);
    let session = ctx.session();
    if let Err(e) = session.cache().save(&key, &token) {
        debug!("cannot cache the login token: {e}");
    }
    Ok(stored_in)
}

/// Where a login put its secrets, for a person ("the OS keyring" / "the plain-text file …"),
/// and the file's path (JSON's `secrets_file`).
pub(crate) fn stored_where(ctx: &Context, stored_in: StoreKind) -> (String, String) {
    let secrets_file = ctx.secrets().file_path().display().to_string();
    let location = match stored_in {
        StoreKind::Keyring => "the OS keyring".to_string(),
        StoreKind::File => format!("the plain-text file {secrets_file} (mode 0600)"),
    };
    (location, secrets_file)
}

fn report(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    app_id: &str,
    instance: &str,
    stored_in: StoreKind,
    sources: &Sources,
) -> Result<()> {
    let flow = sources.used;
    let (location, secrets_file) = stored_where(ctx, stored_in);
    io.note(&format!(
        "Logged in: profile {} ({}), app {app_id} ({}), instance {instance}, flow {flow} ({}); secrets stored in {location}.",
        ctx.profile,
        sources.profile,
        sources.app,
        sources.flow
    ));
    if opts.json {
        let value = json!({
            "profile": ctx.profile,
            "app_id": app_id,
            "instance_id": instance,
            "flow": flow,
            "secret_store": stored_in,
            "secrets_file": (stored_in == StoreKind::File).then_some(secrets_file),
        });
        io.print(&format!("{value}\n"))?;
    }
    Ok(())
}
