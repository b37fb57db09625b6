//! `wixauth login --flow admin`: a Wix Headless client with its client secret (Wix's way for
//! admin work in a Headless project). The secret is proven by minting a token before anything
//! is stored; a stored one Wix turns down is asked for again on a terminal.

use serde_json::json;

use super::options::{
    ask_again, client_id, confirm_kind, login_secret, stored_secret, stored_where, Chosen,
    LoginOptions, SecretFrom,
};
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Exit, Fix, Rejected, Result};
use crate::core::secret::Secret;
use crate::core::text::printable;
use crate::credentials::profile::HeadlessLogin;
use crate::credentials::store::SecretKey;
use crate::settings::config::StoreKind;
use crate::settings::flow::{Held, Kind};
use crate::settings::Flow;
use crate::ui::Io;
use crate::wix::TokenGrant;

pub(super) fn run(chosen: Chosen<'_>, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let Chosen { opts, profile, .. } = chosen;
    let flow = Flow::Admin;
    opts.refuse_flags_of_other_flows(flow)?;
    opts.refuse_browser_flags(flow)?;
    let client_id = client_id(opts, ctx, profile, io)?;
    confirm_kind(opts, ctx, io, profile, Kind::Headless)?;
    // A login again with the same client reuses its stored secret.
    let same_client =
        profile.flow == Some(flow) && profile.client_id.as_deref() == Some(client_id.as_str());
    let stored = || match same_client {
        true => stored_secret(
            ctx,
            profile,
            &[SecretKey::client_secret(&ctx.profile, &client_id)],
        ),
        false => Ok(None),
    };
    let (secret, from) = login_secret(opts, ctx, io, Held::ClientSecret, stored)?;
    let (grant, secret, from) =
        prove(ctx, io, &client_id, secret, from).map_err(|e| other_reading(opts, e))?;
    let stored_in = ctx
        .session()
        .lifecycle()
        .save_headless_login(&HeadlessLogin {
            client_id: &client_id,
            flow,
            redirect_url: None,
            secret: &secret,
            grant: &grant,
        })?;
    io.flush_notes(&ctx.notes);
    ctx.reload_config()?;
    report(opts, ctx, io, &client_id, stored_in, &from)
}

/// An admin token minted with the secret: nothing is stored until Wix takes it. A stored
/// secret Wix turns down is asked for again (a terminal) or named (`--secret-stdin`).
fn prove(
    ctx: &Context,
    io: &mut Io,
    client_id: &str,
    mut secret: Secret,
    mut from: SecretFrom,
) -> Result<(TokenGrant, Secret, SecretFrom)> {
    let wix = ctx.wix().get()?;
    loop {
        let e = match wix.admin_token(client_id, &secret) {
            Ok(grant) => return Ok((grant, secret, from)),
            Err(e) => e,
        };
        (secret, from) = match e.rejection() {
            Some(Rejected::Secret) => ask_again(
                e,
                &from,
                Held::ClientSecret,
                "the project's Headless Settings",
                Cmd::new(Flow::Admin.login_args()),
                io,
            )?,
            Some(Rejected::Client) => {
                return Err(e.hint(
                    "check the client id (--client-id, WIX_CLIENT_ID; Headless Settings → the OAuth app)",
                ))
            }
            _ => return Err(e),
        };
    }
}

/// A `wix env pull` file's client id, secret and instance id that Wix turned down as an
/// admin client may be an app's client credentials (which reading Wix means is UNCONFIRMED):
/// the next step is the login that reads them so.
fn other_reading(opts: &LoginOptions, e: Error) -> Error {
    let file = opts
        .from_file
        .as_ref()
        .filter(|f| f.unused.contains(&"WIX_CLIENT_INSTANCE_ID"));
    match file {
        Some(file) if e.exit == Exit::Rejected => e
            .context_after(" (the file's client id, secret and instance id may be an app's)")
            .fix(Fix::RunOr(
                Cmd::login()
                    .arg("--flow")
                    .arg("basic")
                    .arg("--env-file")
                    .arg(file.path.as_str()),
                format!(
                    "check WIX_CLIENT_ID and WIX_CLIENT_SECRET in {}",
                    printable(&file.path, 200)
                ),
            )),
        _ => e,
    }
}

fn report(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    client_id: &str,
    stored_in: StoreKind,
    from: &SecretFrom,
) -> Result<()> {
    let (location, secrets_file) = stored_where(ctx, stored_in);
    let source = match from {
        SecretFrom::Stdin => "--secret-stdin".to_string(),
        SecretFrom::Env => "WIX_CLIENT_SECRET".to_string(),
        SecretFrom::File(path) => path.clone(),
        SecretFrom::Stored => "stored".to_string(),
        SecretFrom::Typed => "typed".to_string(),
    };
    io.note(&format!(
        "Logged in: profile {} ({}), Wix Headless client {client_id}, flow admin; Wix minted an admin token with the client secret ({source}), stored in {location}.",
        ctx.profile, ctx.profile_from
    ));
    if opts.json {
        let value = json!({
            "profile": ctx.profile,
            "kind": "headless",
            "client_id": client_id,
            "flow": Flow::Admin,
            "secret_store": stored_in,
            "secrets_file": (stored_in == StoreKind::File).then_some(secrets_file),
        });
        io.print(&format!("{value}\n"))?;
    }
    Ok(())
}
