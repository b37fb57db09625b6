//! `wixauth login --flow basic|advanced`: an app's credentials and one of its instances.

use std::time::Duration;

use serde_json::json;

use super::options::{
    ask_again, confirm_kind, login_secret, stored_secret, stored_where, Chosen, LoginOptions,
    SecretFrom,
};
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Rejected, Result};
use crate::core::secret::Secret;
use crate::core::text::{is_wix_id, printable};
use crate::credentials::profile::AppLogin;
use crate::credentials::store::SecretKey;
use crate::oauth::{self, Authorised, BrowserLogin};
use crate::settings::config::{Profile, StoreKind, DEFAULT_REDIRECT_URL};
use crate::settings::flow::{Held, Kind};
use crate::settings::Flow;
use crate::ui::Io;
use crate::wix::apps::{parse_instance, InstanceInfo};
use crate::wix::{Request, TokenGrant};

pub(super) fn run(chosen: Chosen<'_>, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let (opts, flow, profile) = (chosen.opts, chosen.flow, chosen.profile);
    if opts.client_id.is_some() || opts.prompt.is_some() {
        return Err(Error::usage(format!(
            "--client-id and --prompt are for Wix Headless clients (--flow visitor|member), not the {flow} flow"
        )));
    }
    opts.refuse_flags_of_other_flows(flow)?;
    confirm_kind(opts, ctx, io, profile, Kind::App)?;
    let app_id = app_id(opts, ctx, profile, io)?;
    let sources = sources(opts, ctx, io, profile, &app_id, flow);
    // A later basic login of the same app finishes with the instance Wix gave before.
    let instance = opts.instance_id.clone().or_else(|| {
        (flow == Flow::Basic && profile.app_id.as_deref() == Some(app_id.as_str()))
            .then(|| profile.default_instance.clone())
            .flatten()
    });
    if opts.instance_id.is_none() {
        match &instance {
            Some(i) => io.note(&format!("Using the profile's instance {i} (--instance ID for another; `wixauth install-url` installs on another site).")),
            None => io.note(&format!(
                "Logging in: profile {} ({}), app {} ({}), flow {flow} ({}).",
                ctx.profile,
                sources.profile,
                printable(&app_id, 80),
                sources.app,
                sources.flow
            )),
        }
    }
    let (mut secret, mut secret_from) = app_secret(opts, ctx, profile, &app_id, io)?;
    // The user's string as given: Wix compares it with the registered one character for character.
    let redirect_url = opts
        .redirect_url
        .clone()
        .or_else(|| profile.redirect_url.clone())
        .unwrap_or_else(|| DEFAULT_REDIRECT_URL.to_string());
    if instance.is_none() && profile.redirect_url.is_none() {
        register_first(io, flow, &redirect_url);
    }
    let stored_redirect = match flow.keeps_redirect_url() {
        true => Some(redirect_url.clone()),
        false => profile.redirect_url.clone(),
    };
    let mut stored = None;
    let authorised = match instance.as_deref().filter(|_| flow == Flow::Basic) {
        Some(instance) => {
            let grant = loop {
                match ctx
                    .wix()
                    .get()?
                    .create_access_token(&app_id, &secret, instance)
                {
                    Ok(grant) => break grant,
                    Err(e) => {
                        (secret, secret_from) = rotated_secret(e, &secret_from, instance, io)?
                    }
                }
            };
            let authorised = Authorised {
                instance_id: Some(instance.to_string()),
                grant,
                refresh_token: None,
            };
            stored = Some(save(
                ctx,
                &app_id,
                flow,
                stored_redirect,
                &secret,
                &authorised,
            )?);
            authorised
        }
        None => {
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
                how: &ctx.how,
                accept_app_url: opts.accept_app_url,
            };
            let mut store = |authorised: &Authorised| -> Result<String> {
                let saved = save(
                    ctx,
                    &app_id,
                    flow,
                    stored_redirect.clone(),
                    &secret,
                    authorised,
                )?;
                let label = site_label(&saved.1);
                stored = Some(saved);
                Ok(label)
            };
            oauth::run(&login, io, &ctx.notes, &mut store)?
        }
    };
    let (stored_in, site) =
        stored.ok_or_else(|| Error::failure("the login finished without storing anything"))?;
    io.flush_notes(&ctx.notes);
    ctx.reload_config()?;
    let instance = authorised.instance_id.as_deref().unwrap_or_default();
    report(opts, ctx, io, &app_id, instance, stored_in, &sources, &site)
}

/// Wix turned the login down: the secret (asked for again when it was the stored one, see
/// [`ask_again`]), or the app id or instance, each named.
fn rotated_secret(
    e: Error,
    from: &SecretFrom,
    instance: &str,
    io: &mut Io,
) -> Result<(Secret, SecretFrom)> {
    match e.rejection() {
        Some(Rejected::Secret) => ask_again(
            e,
            from,
            Held::AppSecret,
            "the app dashboard",
            Cmd::login(),
            io,
        ),
        Some(Rejected::Client) => {
            Err(e.hint("check the app id (--app-id, WIX_APP_ID; the app dashboard's OAuth page)"))
        }
        Some(Rejected::Instance) => Err(e.hint(format!(
            "check the instance {instance}: is the app installed on that site?"
        ))),
        _ => Err(e),
    }
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
        Flow::Visitor | Flow::Member | Flow::Admin | Flow::ApiKey => {}
    }
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
        // A short prompt: with the id typed after it, it stays on one line.
        io.note("The app ID and secret are on the app dashboard's OAuth page.");
        let id = io.prompter.text("App ID")?;
        if !id.is_empty() {
            return Ok(id);
        }
    }
    Err(Error::usage("no app id").hint("pass --app-id ID or set WIX_APP_ID"))
}

fn app_secret(
    opts: &LoginOptions,
    ctx: &Context,
    profile: &Profile,
    app_id: &str,
    io: &mut Io,
) -> Result<(Secret, SecretFrom)> {
    // Adding another instance of an app already logged in reuses its secret.
    let stored = || match profile.app_id.as_deref() == Some(app_id) {
        true => stored_secret(
            ctx,
            profile,
            &[
                SecretKey::app_secret(&ctx.profile, app_id),
                SecretKey::legacy_app_secret(&ctx.profile),
            ],
        ),
        false => Ok(None),
    };
    login_secret(opts, ctx, io, Held::AppSecret, stored)
}

/// Stores the login (through the profile lifecycle) and learns the site's name and URL.
fn save(
    ctx: &Context,
    app_id: &str,
    flow: Flow,
    redirect_url: Option<String>,
    secret: &Secret,
    authorised: &Authorised,
) -> Result<(StoreKind, InstanceInfo)> {
    // The id becomes a config key and part of file names: it must look like Wix's.
    let instance_id = authorised.instance_id.as_deref().unwrap_or_default();
    if !is_wix_id(instance_id) {
        return Err(Error::rejected(format!(
            "the instance id {:?} does not look like a Wix instance id, so nothing was stored",
            printable(instance_id, 80)
        ))
        .run(Cmd::login()));
    }
    let session = ctx.session();
    let lifecycle = session.lifecycle();
    let stored_in = lifecycle.save_app_login(&AppLogin {
        app_id,
        flow,
        redirect_url,
        secret,
        instance_id,
        refresh_token: authorised.refresh_token.as_ref(),
        grant: &authorised.grant,
    })?;
    let site = site_of(ctx, &authorised.grant);
    if let Err(e) = lifecycle.remember_site(
        instance_id,
        site.site_name.as_deref(),
        site.site_url.as_deref(),
    ) {
        ctx.notes
            .warn(format!("cannot keep the site name in config.toml: {e}"));
    }
    Ok((stored_in, site))
}

/// Get App Instance with the login's own token: which site was just authorised, so a wrong
/// one is visible. Best effort: without the permission the site stays unknown.
fn site_of(ctx: &Context, grant: &TokenGrant) -> InstanceInfo {
    let unknown = || parse_instance(&json!({}));
    let Ok(wix) = ctx.wix().get() else {
        return unknown();
    };
    let mut request = Request::get(wix.url("apps/v1/instance"));
    request.auth = Some(grant.access_token.clone());
    match wix.send(&request) {
        Ok(r) if r.is_success() => serde_json::from_slice(&r.body)
            .map(|v| parse_instance(&v))
            .unwrap_or_else(|_| unknown()),
        _ => unknown(),
    }
}

/// The site as a person reads it: `"My Shop" (https://…)`, or that Wix did not say.
fn site_label(site: &InstanceInfo) -> String {
    match (&site.site_name, &site.site_url) {
        (Some(name), Some(url)) => {
            format!("site \"{}\" ({})", printable(name, 80), printable(url, 120))
        }
        (Some(name), None) => format!("site \"{}\"", printable(name, 80)),
        (None, Some(url)) => format!("site {}", printable(url, 120)),
        (None, None) => "a site Wix did not name (the app cannot read Get App Instance)".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    app_id: &str,
    instance: &str,
    stored_in: StoreKind,
    sources: &Sources,
    site: &InstanceInfo,
) -> Result<()> {
    let flow = sources.used;
    let (location, secrets_file) = stored_where(ctx, stored_in);
    io.note(&format!(
        "Logged in: profile {} ({}), app {app_id} ({}), instance {instance} ({}), flow {flow} ({}); secrets stored in {location}.",
        ctx.profile,
        sources.profile,
        sources.app,
        site_label(site),
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
            "site_name": site.site_name,
            "site_url": site.site_url,
        });
        io.print(&format!("{value}\n"))?;
    }
    Ok(())
}
