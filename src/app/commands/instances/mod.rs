//! `wixauth instances`: the instances (sites) of the profile's app, which fleet runs go
//! through: `list` (the default), `add` (ids from the developer's records), `remove`,
//! `refresh` (ask Wix about each) and `prune` (forget those marked removed). Every write is
//! the profile lifecycle's. Not for a Wix Headless profile: it acts for one site.

mod refresh;

use serde::Serialize;

use crate::app::cli::{InstancesArgs, InstancesCommand};
use crate::app::context::Context;
use crate::app::fleet::{self, site_shown, DEFAULT_CONCURRENCY};
use crate::core::error::{Cmd, Error, Fix, Result};
use crate::core::text::{is_wix_id, printable, relative, rfc3339};
use crate::credentials::cache::now_unix;
use crate::credentials::fleet::Plan;
use crate::settings::config::{Instance, InstanceSource, Profile};
use crate::ui::Io;

pub(crate) enum InstancesOptions {
    List {
        json: bool,
    },
    Add {
        ids: Vec<String>,
        from: Option<String>,
        skip_invalid: bool,
    },
    Remove {
        ids: Vec<String>,
    },
    Refresh {
        plan: Plan,
    },
    Prune {
        json: bool,
    },
}

impl From<&InstancesArgs> for InstancesOptions {
    fn from(args: &InstancesArgs) -> Self {
        match &args.command {
            None => InstancesOptions::List { json: args.json },
            Some(InstancesCommand::List(a)) => InstancesOptions::List { json: a.json },
            Some(InstancesCommand::Add(a)) => InstancesOptions::Add {
                ids: a.ids.clone(),
                from: a.from.clone(),
                skip_invalid: a.skip_invalid,
            },
            Some(InstancesCommand::Remove(a)) => InstancesOptions::Remove { ids: a.ids.clone() },
            Some(InstancesCommand::Refresh(a)) => InstancesOptions::Refresh {
                plan: Plan {
                    concurrency: a.concurrency.map_or(DEFAULT_CONCURRENCY, usize::from),
                    rate: a.rate,
                    fail_fast: false,
                },
            },
            Some(InstancesCommand::Prune(a)) => InstancesOptions::Prune { json: a.json },
        }
    }
}

pub(crate) fn run(opts: &InstancesOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    ctx.session().app_only("wixauth instances")?;
    match opts {
        InstancesOptions::List { json } => list(ctx, io, *json),
        InstancesOptions::Add {
            ids,
            from,
            skip_invalid,
        } => add(ctx, io, ids, from.as_deref(), *skip_invalid),
        InstancesOptions::Remove { ids } => remove(ctx, io, ids),
        InstancesOptions::Refresh { plan } => refresh::run(*plan, ctx, io),
        InstancesOptions::Prune { json } => prune(ctx, io, *json),
    }
}

/// One instance, as `instances --json` shows it (the contract's keys).
#[derive(Serialize)]
struct Listed<'a> {
    instance_id: &'a str,
    site_name: Option<&'a str>,
    site_url: Option<&'a str>,
    source: Option<InstanceSource>,
    last_seen: Option<String>,
    removed: bool,
}

fn listed<'a>(id: &'a str, i: &'a Instance) -> Listed<'a> {
    Listed {
        instance_id: id,
        site_name: i.site_name.as_deref(),
        site_url: i.site_url.as_deref(),
        source: i.source,
        last_seen: i.last_seen.and_then(rfc3339),
        removed: i.removed,
    }
}

fn list(ctx: &Context, io: &mut Io, json: bool) -> Result<()> {
    let Some(profile) = ctx.active_profile() else {
        return Err(Error::usage(format!(
            "nothing is logged in for profile {:?}",
            ctx.profile
        ))
        .fix(Fix::RunOr(
            Cmd::login(),
            "add instance ids with `wixauth instances add ID…`".into(),
        )));
    };
    if json {
        let all: Vec<Listed> = profile
            .instances
            .iter()
            .map(|(id, i)| listed(id, i))
            .collect();
        return io.print_json(&all, io.stdout_tty);
    }
    if profile.instances.is_empty() {
        io.note(&format!(
            "Profile {} has no instances: `wixauth instances add ID…` imports some, `wixauth webhook listen --save-instances` saves each site that installs the app.",
            ctx.profile
        ));
        return Ok(());
    }
    io.print(&table(profile))
}

/// The human list: the default instance marked `*`, times relative, outside text escaped.
fn table(profile: &Profile) -> String {
    let now = now_unix();
    let rows: Vec<[String; 6]> = profile
        .instances
        .iter()
        .map(|(id, i)| {
            let default = profile.default_instance.as_deref() == Some(id.as_str());
            let seen = i.last_seen.map_or("-".into(), |t| {
                relative(i64::try_from(t).unwrap_or(0) - i64::try_from(now).unwrap_or(0))
            });
            [
                format!("{} {id}", if default { "*" } else { " " }),
                site_shown(i.site_name.as_deref()),
                i.site_url
                    .as_deref()
                    .map_or("-".into(), |u| printable(u, 80)),
                i.source.map_or("-", InstanceSource::name).to_string(),
                seen,
                if i.removed { "removed" } else { "" }.to_string(),
            ]
        })
        .collect();
    let header = ["  instance", "site", "url", "source", "last seen", ""].map(String::from);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Ids from the command line, each checked.
fn checked(ids: &[String]) -> Result<Vec<String>> {
    match ids.iter().find(|id| !is_wix_id(id)) {
        Some(bad) => Err(Error::usage(format!(
            "{:?} does not look like a Wix instance id (letters, digits and dashes, at most 64)",
            printable(bad, 80)
        ))),
        None => Ok(ids.to_vec()),
    }
}

fn add(
    ctx: &Context,
    io: &mut Io,
    ids: &[String],
    from: Option<&str>,
    skip_invalid: bool,
) -> Result<()> {
    let session = ctx.session();
    let Some(app) = session.app_and_profile().0 else {
        return Err(Error::usage(format!(
            "profile {:?} has no app to add instances to",
            ctx.profile
        ))
        .fix(Fix::RunOr(Cmd::login(), "set WIX_APP_ID".into())));
    };
    let ids = match from {
        None => checked(ids)?,
        Some(from) => {
            let ids = fleet::read_ids(from, skip_invalid, io)?;
            if ids.is_empty() {
                let shown = if from == "-" { "stdin" } else { from };
                return Err(Error::usage(format!("{shown} holds no instance ids"))
                    .hint("one instance id a line, or a JSON array of them"));
            }
            ids
        }
    };
    let added = session.lifecycle().import_instances(&app, &ids)?;
    let known = ids.len() - added;
    let already = match known {
        0 => String::new(),
        n => format!(" ({n} already there)"),
    };
    io.note(&format!(
        "Added {added} instance{} to profile {}{already}.",
        if added == 1 { "" } else { "s" },
        ctx.profile
    ));
    Ok(())
}

fn remove(ctx: &Context, io: &mut Io, ids: &[String]) -> Result<()> {
    let ids = checked(ids)?;
    let session = ctx.session();
    let default = ctx
        .active_profile()
        .and_then(|p| p.default_instance.clone())
        .filter(|d| ids.contains(d));
    let gone = session.lifecycle().forget_instances(&ids)?;
    for id in ids.iter().filter(|id| !gone.contains(id)) {
        io.note(&format!("not stored: {id}"));
    }
    io.note(&format!(
        "Removed {} instance{} from profile {}, with their refresh tokens and cached tokens.",
        gone.len(),
        if gone.len() == 1 { "" } else { "s" },
        ctx.profile
    ));
    if let Some(d) = default.filter(|d| gone.contains(d)) {
        io.note(&format!(
            "{d} was the default instance, so the profile has none now (`wixauth switch --instance ID` sets one)."
        ));
    }
    Ok(())
}

fn prune(ctx: &Context, io: &mut Io, json: bool) -> Result<()> {
    let pruned = ctx.session().lifecycle().prune_instances()?;
    if json {
        let shown: Vec<serde_json::Value> = pruned
            .iter()
            .map(|(id, site)| serde_json::json!({"instance_id": id, "site_name": site}))
            .collect();
        return io.print_json(&shown, io.stdout_tty);
    }
    if pruned.is_empty() {
        io.note("No instance is marked removed (`wixauth instances refresh` marks the sites the app left).");
    }
    for (id, site) in &pruned {
        io.note(&format!(
            "Forgot {id} (site {}).",
            site_shown(site.as_deref())
        ));
    }
    Ok(())
}
