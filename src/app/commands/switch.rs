//! `wixauth switch`: the active profile (config.toml's `active_profile`) and a profile's
//! default instance, by flags or, on a terminal, by picking from what is logged in.

use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Result};
use crate::core::text::printable;
use crate::ui::Io;

pub(crate) struct SwitchOptions {
    /// The global `--profile` (not `WIXAUTH_PROFILE`): the profile to make active.
    pub profile: Option<String>,
    /// The global `--instance` (not `WIX_INSTANCE_ID`): the profile's new default instance.
    pub instance: Option<String>,
}

pub(crate) fn run(opts: &SwitchOptions, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    // `set_active`: whether the active profile changes (not with `--instance` alone).
    let (name, instance, set_active) = match (given(&opts.profile), given(&opts.instance)) {
        (None, None) => pick(ctx, io)?,
        (Some(profile), instance) => (profile, instance, true),
        (None, instance) => (ctx.profile.clone(), instance, false),
    };
    let Some(stored) = ctx.config.profile(&name) else {
        let known: Vec<&str> = ctx.config.profiles.keys().map(String::as_str).collect();
        let known = match known.is_empty() {
            true => String::new(),
            false => format!(" (profiles: {})", known.join(", ")),
        };
        return Err(Error::usage(format!(
            "profile {:?} is not logged in{known}",
            printable(&name, 80)
        ))
        .run(Cmd::login().arg("--profile").arg(name.as_str())));
    };
    if let Some(id) = &instance {
        if !stored.instances.contains_key(id) {
            let known: Vec<&str> = stored.instances.keys().map(String::as_str).collect();
            let known = match known.is_empty() {
                true => "none".to_string(),
                false => known.join(", "),
            };
            return Err(Error::usage(format!(
                "instance {:?} is not logged in for profile {name} (logged in: {known})",
                printable(id, 80)
            ))
            .run(
                Cmd::login()
                    .arg("--profile")
                    .arg(name.as_str())
                    .arg("--instance")
                    .arg(id.as_str()),
            ));
        }
    }
    ctx.session()
        .for_profile(&name)
        .lifecycle()
        .switch(set_active, instance.as_deref())?;
    ctx.reload_config()?;
    let stored = ctx.config.profile(&name);
    let default = stored.and_then(|p| p.default_instance.clone());
    let site = |id: &str| {
        stored
            .and_then(|p| p.instances.get(id))
            .and_then(|i| i.site_name.as_deref())
            .map(|s| format!(" (site \"{}\")", printable(s, 80)))
            .unwrap_or_default()
    };
    let shown = match (&default, stored.is_some_and(|p| p.is_headless())) {
        (_, true) => ", a Wix Headless client".to_string(),
        (Some(i), false) => format!(", instance {i}{}", site(i)),
        (None, false) => ", no default instance".to_string(),
    };
    let overridden = match (set_active, &ctx.env.profile) {
        (true, Some(env)) if *env != name => format!(
            " (WIXAUTH_PROFILE={} still wins in this shell)",
            printable(env, 80)
        ),
        _ => String::new(),
    };
    let what = match set_active {
        true => "Active",
        false => "Default instance set",
    };
    io.note(&format!("{what}: profile {name}{shown}.{overridden}"));
    Ok(())
}

/// Asks which profile (when there are several) and which of its instances (when there are
/// several); both become active.
fn pick(ctx: &Context, io: &mut Io) -> Result<(String, Option<String>, bool)> {
    if !io.can_prompt() {
        return Err(
            Error::usage("no terminal to ask on").hint("pass --profile NAME and/or --instance ID")
        );
    }
    let names: Vec<&str> = ctx.config.profiles.keys().map(String::as_str).collect();
    if names.is_empty() {
        return Err(Error::usage("no profile is logged in").run(Cmd::login()));
    }
    let current = names.iter().position(|n| *n == ctx.profile).unwrap_or(0);
    let chosen = match names.len() {
        1 => 0,
        _ => io.prompter.select("Active profile", &names, current)?,
    };
    let name = names
        .get(chosen)
        .ok_or_else(|| Error::failure("the prompt chose no profile"))?
        .to_string();
    let Some(profile) = ctx.config.profile(&name) else {
        return Ok((name, None, true));
    };
    let ids: Vec<&str> = profile.instances.keys().map(String::as_str).collect();
    let instance = match ids.len() {
        0 => None,
        1 => ids.first().map(|i| i.to_string()),
        _ => {
            let current = ids
                .iter()
                .position(|i| Some(*i) == profile.default_instance.as_deref())
                .unwrap_or(0);
            let label = format!("Default instance of profile {name}");
            // Site names come from Wix: shown escaped, after the id.
            let shown: Vec<String> = ids
                .iter()
                .map(|id| {
                    match profile
                        .instances
                        .get(*id)
                        .and_then(|i| i.site_name.as_deref())
                    {
                        Some(site) => format!("{id} ({})", printable(site, 60)),
                        None => id.to_string(),
                    }
                })
                .collect();
            let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
            let at = io.prompter.select(&label, &shown, current)?;
            ids.get(at).map(|i| i.to_string())
        }
    };
    Ok((name, instance, true))
}
