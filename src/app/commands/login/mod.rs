//! `wixauth login`: store an app's credentials and authorise an app instance (`app.rs`), a
//! Wix Headless client's visitor or member (`headless.rs`) or its admin secret (`admin.rs`), or
//! an API key (`key.rs`), the values perhaps from a dotenv file (`envfile.rs`). This file
//! picks which.

mod admin;
mod app;
mod envfile;
mod headless;
mod key;
mod options;

pub(crate) use options::LoginOptions;

use crate::app::context::Context;
use crate::core::error::{Error, Result};
use crate::core::text::{is_wix_id, printable};
use crate::settings::config::Profile;
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::ui::Io;

pub(crate) fn run(opts: &LoginOptions, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let mut opts = opts.clone();
    envfile::apply(&mut opts, ctx, io)?;
    // One name for one idea: the global --instance / WIX_INSTANCE_ID is the basic flow's
    // instance too (`--instance-id` stays as a hidden alias).
    if opts.instance_id.is_none() && ctx.instance.is_some() {
        opts.instance_id = ctx.instance.clone();
    }
    if let Some(id) = opts.instance_id.as_deref().filter(|id| !is_wix_id(id)) {
        return Err(Error::usage(format!(
            "--instance {:?} does not look like a Wix instance id (letters, digits and dashes)",
            printable(id, 80)
        )));
    }
    let profile = ctx.active_profile().cloned().unwrap_or_default();
    let flow = match opts.flow.or_else(|| implied_flow(&opts, ctx, &profile)) {
        Some(flow) => flow,
        None => choose_flow(&opts, &profile, io)?,
    };
    let chosen = options::Chosen {
        opts: &opts,
        flow,
        profile: &profile,
    };
    match flow {
        Flow::Visitor | Flow::Member => headless::run(chosen, ctx, io),
        Flow::Admin => admin::run(chosen, ctx, io),
        Flow::ApiKey => key::run(chosen, ctx, io),
        Flow::Basic | Flow::Advanced => app::run(chosen, ctx, io),
    }
}

/// The flow the given values imply without `--flow`: an API key (its flags, or `WIX_API_KEY`),
/// or a Wix Headless client (a client id and no app id): admin with `WIX_CLIENT_SECRET`, else
/// the profile's Headless flow, else visitor.
fn implied_flow(opts: &LoginOptions, ctx: &Context, profile: &Profile) -> Option<Flow> {
    let no_app = opts.app_id.is_none() && ctx.env.app_id.is_none();
    let no_client = opts.client_id.is_none() && ctx.env.client_id.is_none();
    let key_flags = opts.site_id.is_some() || opts.account_id.is_some() || opts.check.is_some();
    let key_profile = profile.kind() == Kind::ApiKey;
    if key_flags || (no_app && no_client && (ctx.env.api_key.is_some() || key_profile)) {
        return Some(Flow::ApiKey);
    }
    let headless = no_app && (!no_client || profile.is_headless());
    let env_secret = ctx.env.client_secret.is_some() && ctx.env.refresh_token.is_none();
    match headless {
        true if env_secret => Some(Flow::Admin),
        true => Some(
            profile
                .flow
                .filter(|f| f.is_headless())
                .unwrap_or(Flow::Visitor),
        ),
        false => None,
    }
}

fn choose_flow(opts: &LoginOptions, profile: &Profile, io: &mut Io) -> Result<Flow> {
    // An instance id only makes sense for the basic flow.
    if opts.instance_id.is_some() {
        return Ok(Flow::Basic);
    }
    if let Some(flow) = profile.flow {
        return Ok(flow);
    }
    if io.can_prompt() {
        // The details above the menu; its items stay short enough for one line each.
        let details: Vec<String> = Flow::ALL
            .iter()
            .map(|f| format!("  {}", f.menu_line()))
            .collect();
        io.note(&format!("The flows:\n{}", details.join("\n")));
        let items: Vec<&str> = Flow::ALL.iter().map(|f| f.menu_item()).collect();
        let choice = io
            .prompter
            .select("How does this app get tokens?", &items, 0)?;
        return Ok(Flow::ALL.get(choice).copied().unwrap_or(Flow::Basic));
    }
    // Wix no longer offers custom authentication to new apps: the default is the flow every app has.
    Ok(Flow::Basic)
}
