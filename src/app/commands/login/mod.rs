//! `wixauth login`: store an app's credentials and authorise an app instance (`app.rs`), or a
//! Wix Headless client's visitor or member (`headless.rs`). This file picks which.

mod app;
mod headless;
mod options;

pub(crate) use options::LoginOptions;

use crate::app::context::Context;
use crate::core::error::{Error, Result};
use crate::core::text::{is_wix_id, printable};
use crate::settings::config::Profile;
use crate::settings::Flow;
use crate::ui::Io;

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
            "--instance {:?} does not look like a Wix instance id (letters, digits and dashes)",
            printable(id, 80)
        )));
    }
    let profile = ctx.active_profile().cloned().unwrap_or_default();
    // A client id (and no app id) means a Wix Headless client.
    let headless_hint = opts.app_id.is_none()
        && ctx.env.app_id.is_none()
        && (opts.client_id.is_some() || ctx.env.client_id.is_some() || profile.is_headless());
    let flow = match opts.flow {
        Some(flow) => flow,
        None if headless_hint => profile
            .flow
            .filter(|f| f.is_headless())
            .unwrap_or(Flow::Visitor),
        None => choose_flow(opts, &profile, io)?,
    };
    let chosen = options::Chosen {
        opts,
        flow,
        profile: &profile,
    };
    match flow {
        Flow::Visitor | Flow::Member => headless::run(chosen, ctx, io),
        Flow::Basic | Flow::Advanced => app::run(chosen, ctx, io),
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
