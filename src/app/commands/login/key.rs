//! `wixauth login --flow api-key`: a Wix API key (an account owner's: not for third-party
//! apps) with the site and/or account its calls are for. A key has its own set of permissions,
//! so no fixed call proves it: it is stored without asking Wix, unless `--check PATH` names a
//! GET the key should be allowed to make.

use serde_json::json;

use super::options::{
    ask_again, confirm_kind, login_secret, stored_secret, stored_where, Chosen, LoginOptions,
};
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Result};
use crate::core::secret::Secret;
use crate::credentials::check_ids;
use crate::credentials::profile::KeyLogin;
use crate::credentials::store::SecretKey;
use crate::credentials::Source;
use crate::settings::config::{Profile, StoreKind};
use crate::settings::flow::{Held, Kind};
use crate::settings::Flow;
use crate::ui::Io;
use crate::wix::{urls, Request};

pub(super) fn run(chosen: Chosen<'_>, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let Chosen { opts, profile, .. } = chosen;
    opts.refuse_flags_of_other_flows(Flow::ApiKey)?;
    opts.refuse_browser_flags(Flow::ApiKey)?;
    let was_key = profile.kind() == Kind::ApiKey;
    let (site, account, from) = ids(opts, ctx, profile, was_key);
    check_ids(site.as_deref(), account.as_deref(), from)?;
    confirm_kind(opts, ctx, io, profile, Kind::ApiKey)?;
    let stored = || match was_key {
        true => stored_secret(ctx, profile, &[SecretKey::api_key(&ctx.profile)]),
        false => Ok(None),
    };
    let (mut key, mut from) = login_secret(opts, ctx, io, Held::ApiKey, stored)?;
    // It goes into a header as it is: one printable word (never echoed when it is not).
    if !key.expose().bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::usage(
            "the API key has spaces, control or non-ASCII characters: it is not a Wix API key",
        )
        .hint("copy it again from the account's API Keys Manager"));
    }
    if let Some(path) = &opts.check {
        while let Err(e) = check(ctx, path, &key, site.as_deref(), account.as_deref()) {
            (key, from) = match e.exit {
                crate::core::error::Exit::Rejected => ask_again(
                    e,
                    &from,
                    Held::ApiKey,
                    "the account's API Keys Manager",
                    Cmd::new(Flow::ApiKey.login_args()),
                    io,
                )?,
                _ => return Err(e),
            };
        }
    }
    let stored_in = ctx.session().lifecycle().save_key_login(&KeyLogin {
        key: &key,
        site_id: site.as_deref(),
        account_id: account.as_deref(),
    })?;
    io.flush_notes(&ctx.notes);
    ctx.reload_config()?;
    report(
        opts,
        ctx,
        io,
        site.as_deref(),
        account.as_deref(),
        stored_in,
    )
}

/// The site and account: the flags, else `WIX_SITE_ID`/`WIX_ACCOUNT_ID` (or the dotenv file's),
/// else what the profile's key had.
fn ids(
    opts: &LoginOptions,
    ctx: &Context,
    profile: &Profile,
    was_key: bool,
) -> (Option<String>, Option<String>, Source) {
    if opts.site_id.is_some() || opts.account_id.is_some() {
        return (opts.site_id.clone(), opts.account_id.clone(), Source::Flag);
    }
    if ctx.env.site_id.is_some() || ctx.env.account_id.is_some() {
        return (
            ctx.env.site_id.clone(),
            ctx.env.account_id.clone(),
            Source::Env,
        );
    }
    match was_key {
        true => (
            profile.site_id.clone(),
            profile.account_id.clone(),
            Source::Stored,
        ),
        false => (None, None, Source::Flag),
    }
}

/// `--check PATH`: one GET with the key and its headers. 401/403 is Wix rejecting the key
/// (exit 3); any other failure is said as it is; nothing is stored either way.
fn check(
    ctx: &Context,
    path: &str,
    key: &Secret,
    site: Option<&str>,
    account: Option<&str>,
) -> Result<()> {
    let wix = ctx.wix().get()?;
    let url = urls::api_url(&wix.api, path)?;
    let mut request = Request::get(url.to_string());
    request.auth = Some(key.clone());
    for (name, id) in [("wix-site-id", site), ("wix-account-id", account)] {
        if let Some(id) = id {
            request.headers.push((name.to_string(), id.to_string()));
        }
    }
    let response = wix.send(&request)?;
    if response.is_success() {
        return Ok(());
    }
    let what = format!("checking the API key with GET {}", url.path());
    match response.status {
        401 | 403 => Err(Error::rejected(format!(
            "{what}: Wix rejected the API key ({}); nothing was stored",
            response.error_summary()
        ))),
        _ => Err(response
            .failure(&what)
            .context_after("; nothing was stored")),
    }
}

fn report(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    site: Option<&str>,
    account: Option<&str>,
    stored_in: StoreKind,
) -> Result<()> {
    let (location, secrets_file) = stored_where(ctx, stored_in);
    let mut headers = vec!["Authorization: the key".to_string()];
    headers.extend(site.map(|s| format!("wix-site-id: {s}")));
    headers.extend(account.map(|a| format!("wix-account-id: {a}")));
    let checked = match &opts.check {
        Some(path) => format!("Wix took it for GET {path}"),
        None => "not checked with Wix (a key has its own permissions: --check PATH tries one GET it should be allowed)".to_string(),
    };
    io.note(&format!(
        "Logged in: profile {} ({}), an API key, flow api-key; calls send {}; {checked}; the key is stored in {location}.",
        ctx.profile,
        ctx.profile_from,
        headers.join(", ")
    ));
    if opts.json {
        let value = json!({
            "profile": ctx.profile,
            "kind": "api-key",
            "flow": Flow::ApiKey,
            "site_id": site,
            "account_id": account,
            "checked": opts.check,
            "secret_store": stored_in,
            "secrets_file": (stored_in == StoreKind::File).then_some(secrets_file),
        });
        io.print(&format!("{value}\n"))?;
    }
    Ok(())
}
