//! `wixauth login --flow visitor|member`: a Wix Headless client (OAuth client id, no secret).
//! A profile is either an app or a headless client; switching asks first and leaves nothing of
//! the old kind behind.

use std::time::Duration;

use serde_json::json;

use super::login::{stored_where, LoginOptions};
use crate::app::context::Context;
use crate::core::error::{Error, Exit, Result};
use crate::core::log::debug;
use crate::core::secret::Secret;
use crate::core::text::{is_wix_id, printable};
use crate::credentials::cache::{CacheKey, CachedToken, TokenCache};
use crate::credentials::headless::refresh_key;
use crate::credentials::store::SecretKey;
use crate::credentials::Cached;
use crate::oauth::{self, Authorised, BrowserLogin};
use crate::settings::config::{Config, Profile, StoreKind, DEFAULT_REDIRECT_URL};
use crate::settings::Flow;
use crate::ui::Io;
use crate::wix::headless::require_refresh;
use crate::wix::TokenGrant;

pub(crate) fn run(
    opts: &LoginOptions,
    flow: Option<Flow>,
    ctx: &mut Context,
    io: &mut Io,
    profile: &Profile,
) -> Result<()> {
    let flow = flow
        .or(profile.flow)
        .filter(|f| f.is_headless())
        .unwrap_or(Flow::Visitor);
    if flow == Flow::Visitor && opts.prompt.is_some() {
        return Err(Error::usage(
            "--prompt is for the member login: use --flow member",
        ));
    }
    let client_id = client_id(opts, ctx, profile, io)?;
    if profile.app_id.is_some() {
        confirm_switch(opts, ctx, io, "an app", "a Wix Headless client")?;
    }
    let same_client = profile.client_id.as_deref() == Some(client_id.as_str());
    let mut stored_in = None;
    match flow {
        Flow::Member => {
            let redirect_url = opts
                .redirect_url
                .clone()
                .or_else(|| profile.redirect_url.clone().filter(|_| same_client))
                .unwrap_or_else(|| DEFAULT_REDIRECT_URL.to_string());
            let login = BrowserLogin {
                flow,
                app_id: &client_id,
                secret: None,
                prompt: opts.prompt,
                redirect_url: &redirect_url,
                installer: &ctx.env.installer_base,
                wix: ctx.wix().get()?,
                open_browser: !opts.no_browser,
                close_window: false,
                timeout: Duration::from_secs(opts.timeout),
            };
            let mut store = |authorised: &Authorised| -> Result<()> {
                let refresh = require_refresh(&authorised.grant, "the member login")?;
                stored_in = Some(save(
                    ctx,
                    &client_id,
                    flow,
                    Some(redirect_url.clone()),
                    &refresh,
                    &authorised.grant,
                )?);
                Ok(())
            };
            oauth::run(&login, io, &ctx.notes, &mut store)?;
        }
        _ => {
            let (grant, kept) = visitor_grant(ctx, io, &client_id, same_client)?;
            // A refresh grant may come without a refresh token: the kept one stays valid.
            let refresh = match kept.filter(|_| grant.refresh_token.is_none()) {
                Some(old) => old,
                None => require_refresh(&grant, "the visitor")?,
            };
            stored_in = Some(save(ctx, &client_id, flow, None, &refresh, &grant)?);
        }
    }
    let stored_in =
        stored_in.ok_or_else(|| Error::failure("the login finished without storing anything"))?;
    io.flush_notes(&ctx.notes);
    ctx.reload_config()?;
    report(opts, ctx, io, &client_id, flow, stored_in)
}

/// The visitor's token: the stored visitor kept when its refresh token still works (a new
/// visitor loses the cart), else the anonymous grant.
fn visitor_grant(
    ctx: &Context,
    io: &mut Io,
    client_id: &str,
    same_client: bool,
) -> Result<(TokenGrant, Option<Secret>)> {
    let wix = ctx.wix().get()?;
    let stored = if same_client {
        ctx.secrets()
            .get(&refresh_key(&ctx.profile), None)?
            .map(|(s, _)| s)
    } else {
        None
    };
    if let Some(refresh) = stored {
        // A rejection is handled here (a new visitor), so its advice is never shown.
        match wix.headless_refresh(client_id, &refresh, "") {
            Ok(grant) => {
                io.note("Kept the stored visitor (its refresh token still works).");
                return Ok((grant, Some(refresh)));
            }
            Err(e) if e.exit == Exit::Rejected => {
                io.note(
                    "The stored visitor's refresh token no longer works: starting a new visitor.",
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok((wix.visitor_token(client_id)?, None))
}

fn client_id(opts: &LoginOptions, ctx: &Context, profile: &Profile, io: &mut Io) -> Result<String> {
    let mut id = opts
        .client_id
        .clone()
        .or_else(|| ctx.env.client_id.clone())
        .or_else(|| profile.client_id.clone());
    if id.is_none() && io.can_prompt() {
        let typed = io
            .prompter
            .text("Client ID (site dashboard → Headless Settings → OAuth apps)")?;
        id = Some(typed).filter(|t| !t.is_empty());
    }
    let Some(id) = id else {
        return Err(Error::usage(
            "no client id: pass --client-id ID or set WIX_CLIENT_ID (the OAuth app's client id in the site dashboard's Headless Settings)",
        ));
    };
    if !is_wix_id(&id) {
        return Err(Error::usage(format!(
            "client id {:?} does not look like a Wix OAuth client id (letters, digits and dashes): check --client-id or WIX_CLIENT_ID",
            printable(&id, 80)
        )));
    }
    Ok(id)
}

/// A profile switches between an app and a headless client only when the person says so:
/// on a TTY by answering, without one by `--force`.
pub(crate) fn confirm_switch(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    from: &str,
    to: &str,
) -> Result<()> {
    if opts.force {
        return Ok(());
    }
    let question = format!(
        "Profile {} holds {from}. Switch it to {to}? Its stored secrets and cached tokens are removed.",
        ctx.profile
    );
    if io.can_prompt() {
        let answer = io
            .prompter
            .select(&question, &["no, keep it", "yes, switch"], 0)?;
        if answer == 1 {
            return Ok(());
        }
        return Err(Error::usage(format!(
            "profile {} was kept as it is: use --profile NAME to log in to {to} beside it",
            ctx.profile
        )));
    }
    Err(Error::usage(format!(
        "profile {} holds {from}: pass --force to switch it to {to} (its stored secrets are removed), or use --profile NAME",
        ctx.profile
    )))
}

/// Removes what a headless client left in the profile (refresh token, cached tokens).
pub(crate) fn forget(ctx: &Context, profile: &str) -> Result<()> {
    let Some(p) = ctx.config.profile(profile).filter(|p| p.is_headless()) else {
        return Ok(());
    };
    ctx.secrets()
        .delete_everywhere(&refresh_key(profile), p.secret_store)?;
    if let Some(client) = &p.client_id {
        ctx.session()
            .forget_cached(client, Cached::OfProfile(profile))?;
    }
    Ok(())
}

/// Removes what an app left in the profile (secret, refresh tokens, cached tokens).
fn forget_app(ctx: &Context) -> Result<()> {
    let Some(p) = ctx
        .config
        .profile(&ctx.profile)
        .filter(|p| p.app_id.is_some())
    else {
        return Ok(());
    };
    let secrets = ctx.secrets();
    for instance in p.instances.keys() {
        secrets.delete_everywhere(
            &SecretKey::refresh_token(&ctx.profile, instance),
            p.secret_store,
        )?;
    }
    secrets.delete_everywhere(&SecretKey::app_secret(&ctx.profile), p.secret_store)?;
    if let Some(app) = &p.app_id {
        ctx.session().forget_cached(app, Cached::EveryInstance)?;
    }
    Ok(())
}

/// The cache entry of a headless client's token minted with `profile`'s stored refresh token
/// (a client has no instance; each profile holds its own visitor or member).
pub(crate) fn cache_key(ctx: &Context, client_id: &str, profile: &str) -> CacheKey {
    CacheKey::new(&ctx.env.api_base, client_id, None, &[]).held_by(profile)
}

/// The refresh token first, then the config, and only then what the previous login left that
/// this one replaces: a failure leaves the previous login usable.
fn save(
    ctx: &Context,
    client_id: &str,
    flow: Flow,
    redirect_url: Option<String>,
    refresh: &Secret,
    grant: &TokenGrant,
) -> Result<StoreKind> {
    let previous = ctx.active_profile();
    let other_client =
        previous.is_some_and(|p| p.client_id.as_deref().is_some_and(|c| c != client_id));
    let stored_in = ctx.secrets().put(&refresh_key(&ctx.profile), refresh)?;
    let name = ctx.profile.clone();
    Config::update(&ctx.paths, |config: &mut Config| {
        let profile = config.profiles.entry(name).or_default();
        profile.app_id = None;
        profile.instances.clear();
        profile.default_instance = None;
        profile.client_id = Some(client_id.to_string());
        profile.flow = Some(flow);
        profile.secret_store = Some(stored_in);
        profile.redirect_url = redirect_url;
    })?;
    // Only now that the new login is stored (`ctx.config` still holds the old one): another
    // client's cached tokens, and everything of an app the profile was logged in to.
    if other_client {
        if let Some(old) = ctx.active_profile().and_then(|p| p.client_id.as_deref()) {
            ctx.session()
                .forget_cached(old, Cached::OfProfile(&ctx.profile))?;
        }
    }
    forget_app(ctx)?;
    // The login's token: the first `wixauth token` needs no request.
    let token = CachedToken::from_grant(grant, client_id, None, flow);
    let cache: TokenCache = ctx.session().cache();
    if let Err(e) = cache.save(&cache_key(ctx, client_id, &ctx.profile), &token) {
        debug!("cannot cache the login token: {e}");
    }
    Ok(stored_in)
}

fn report(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    client_id: &str,
    flow: Flow,
    stored_in: StoreKind,
) -> Result<()> {
    let (location, secrets_file) = stored_where(ctx, stored_in);
    io.note(&format!(
        "Logged in: profile {}, Wix Headless client {client_id}, flow {flow}; refresh token stored in {location}.",
        ctx.profile
    ));
    if opts.json {
        let value = json!({
            "profile": ctx.profile,
            "kind": "headless",
            "client_id": client_id,
            "flow": flow,
            "secret_store": stored_in,
            "secrets_file": (stored_in == StoreKind::File).then_some(secrets_file),
        });
        io.print(&format!("{value}\n"))?;
    }
    Ok(())
}
