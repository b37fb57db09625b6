//! `wixauth login --flow visitor|member`: a Wix Headless client (OAuth client id, no secret;
//! the admin flow, with the client's secret, is `admin.rs`).
//! A profile is either an app or a Headless client; switching asks first, and the profile
//! lifecycle leaves nothing of the old kind behind.

use std::time::Duration;

use serde_json::json;

use super::options::{client_id, confirm_kind, stored_where, Chosen, LoginOptions};
use crate::app::context::Context;
use crate::core::error::{Error, Exit, Result};
use crate::core::secret::Secret;
use crate::core::text::printable;
use crate::credentials::profile::HeadlessLogin;
use crate::credentials::store::SecretKey;
use crate::oauth::{self, Authorised, BrowserLogin};
use crate::settings::config::{StoreKind, DEFAULT_REDIRECT_URL};
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::ui::Io;
use crate::wix::apps::parse_member;
use crate::wix::headless::require_refresh;
use crate::wix::TokenGrant;

pub(super) fn run(chosen: Chosen<'_>, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let (opts, flow, profile) = (chosen.opts, chosen.flow, chosen.profile);
    if flow == Flow::Visitor && opts.prompt.is_some() {
        return Err(Error::usage("--prompt is for the member login").hint("use --flow member"));
    }
    opts.refuse_flags_of_other_flows(flow)?;
    let client_id = client_id(opts, ctx, profile, io)?;
    confirm_kind(opts, ctx, io, profile, Kind::Headless)?;
    let same_client = profile.client_id.as_deref() == Some(client_id.as_str());
    let mut stored = None;
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
                how: &ctx.how,
                accept_app_url: opts.accept_app_url,
            };
            let mut store = |authorised: &Authorised| -> Result<String> {
                let refresh = require_refresh(&authorised.grant, "the member login")?;
                let redirect = Some(redirect_url.clone());
                let kind = save(ctx, &client_id, flow, redirect, &refresh, &authorised.grant)?;
                let who = member_label(ctx, &authorised.grant);
                stored = Some((kind, who.clone()));
                Ok(who)
            };
            oauth::run(&login, io, &ctx.notes, &mut store)?;
        }
        Flow::Visitor | Flow::Basic | Flow::Advanced | Flow::Admin | Flow::ApiKey => {
            let (grant, kept) = visitor_grant(ctx, io, &client_id, same_client)?;
            // A refresh grant may come without a refresh token: the kept one stays valid.
            let refresh = match kept.filter(|_| grant.refresh_token.is_none()) {
                Some(old) => old,
                None => require_refresh(&grant, "the visitor")?,
            };
            let kind = save(ctx, &client_id, Flow::Visitor, None, &refresh, &grant)?;
            stored = Some((kind, "an anonymous visitor".to_string()));
        }
    }
    let (stored_in, who) =
        stored.ok_or_else(|| Error::failure("the login finished without storing anything"))?;
    io.flush_notes(&ctx.notes);
    ctx.reload_config()?;
    report(opts, ctx, io, &client_id, flow, stored_in, &who)
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
    let stored = match same_client {
        true => ctx
            .secrets()
            .get(&SecretKey::headless_refresh(&ctx.profile), None)?
            .map(|(s, _)| s),
        false => None,
    };
    if let Some(refresh) = stored {
        // A rejection is handled here (a new visitor), so its advice is never shown.
        match wix.headless_refresh(client_id, &refresh) {
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
    let grant = wix.visitor_token(client_id).map_err(|e| match e.exit {
        Exit::Rejected => {
            e.hint("check the client id (Headless Settings → OAuth apps in the site's dashboard)")
        }
        _ => e,
    })?;
    Ok((grant, None))
}

fn save(
    ctx: &Context,
    client_id: &str,
    flow: Flow,
    redirect_url: Option<String>,
    refresh: &Secret,
    grant: &TokenGrant,
) -> Result<StoreKind> {
    ctx.session()
        .lifecycle()
        .save_headless_login(&HeadlessLogin {
            client_id,
            flow,
            redirect_url,
            secret: refresh,
            grant,
        })
}

/// Get My Member with the new token: who logged in, so a wrong account is visible. Best
/// effort: Wix not saying leaves "a member".
fn member_label(ctx: &Context, grant: &TokenGrant) -> String {
    let member = ctx
        .wix()
        .get()
        .and_then(|w| w.my_member(&grant.access_token))
        .map(|v| parse_member(&v))
        .ok();
    let name = member.as_ref().and_then(|m| m.nickname.clone());
    let email = member.as_ref().and_then(|m| m.login_email.clone());
    match (name, email) {
        (Some(n), Some(e)) => format!("member {} <{}>", printable(&n, 80), printable(&e, 120)),
        (Some(n), None) => format!("member {}", printable(&n, 80)),
        (None, Some(e)) => format!("member <{}>", printable(&e, 120)),
        (None, None) => "a member Wix did not name".into(),
    }
}

fn report(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    client_id: &str,
    flow: Flow,
    stored_in: StoreKind,
    who: &str,
) -> Result<()> {
    let (location, secrets_file) = stored_where(ctx, stored_in);
    io.note(&format!(
        "Logged in: profile {}, Wix Headless client {client_id}, flow {flow}, as {who}; refresh token stored in {location}.",
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
