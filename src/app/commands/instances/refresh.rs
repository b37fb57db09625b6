//! `wixauth instances refresh`: for each instance, a new token (a cached one would not say
//! whether the app is still there) and Get App Instance. Site names and URLs are learnt; an
//! instance whose token request Wix answers "not installed" is marked `removed`, never
//! deleted (`prune` does that). What is learnt is written in batches as it comes, so an
//! interrupted refresh keeps it.

use crate::app::context::Context;
use crate::app::fleet::{self, FleetOptions, Shape};
use crate::core::error::{Invocation, Rejected, Result};
use crate::credentials::fleet::{Job, JobRun, Plan, Record};
use crate::credentials::instances::Learnt;
use crate::credentials::{Freshness, DEFAULT_MIN_TTL};
use crate::ui::Io;
use crate::wix::apps::parse_instance;
use crate::wix::Request;

/// What is written to config.toml at once.
const BATCH: usize = 200;

struct Refresh;

impl Job for Refresh {
    type Out = Learnt;

    fn run(&self, run: &JobRun) -> Result<Learnt> {
        let (session, target) = (run.session, run.target);
        let instance = run.instance().to_string();
        let fresh = Freshness {
            min_ttl: DEFAULT_MIN_TTL,
            force: true,
        };
        match session.fresh_token(target, fresh) {
            Err(e) if e.rejection() == Some(Rejected::Instance) => {
                return Ok(Learnt::NotInstalled { instance })
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let url = crate::core::net::join(session.wix.api(), "apps/v1/instance");
        let (response, _) = session.authorised_send(target, Request::get(url))?;
        if !response.is_success() {
            session.notes.warn(format!(
                "Wix refused Get App Instance (HTTP {}): site names need the app's \"Manage Your App\" permission",
                response.status
            ));
            return Ok(Learnt::Installed {
                instance,
                site_name: None,
                site_url: None,
            });
        }
        let info = serde_json::from_slice(&response.body)
            .map(|v| parse_instance(&v))
            .ok();
        let info = info.filter(|i| i.instance_id.as_deref().is_none_or(|id| id == instance));
        Ok(Learnt::Installed {
            instance,
            site_name: info.as_ref().and_then(|i| i.site_name.clone()),
            site_url: info.and_then(|i| i.site_url),
        })
    }
}

pub(super) fn run(plan: Plan, ctx: &Context, io: &mut Io) -> Result<()> {
    let opts = FleetOptions {
        from: None,
        skip_invalid: false,
        plan,
        retry_file: None,
        include_removed: true,
    };
    let lifecycle_session = ctx.session();
    let lifecycle = lifecycle_session.lifecycle();
    let mut batch: Vec<Learnt> = Vec::new();
    let (mut named, mut marked) = (0usize, 0usize);
    let mut keep = |r: &Record<Learnt>| -> Result<()> {
        if let Ok(learnt) = &r.result {
            match learnt {
                Learnt::Installed { site_name, .. } => named += usize::from(site_name.is_some()),
                Learnt::NotInstalled { .. } => marked += 1,
            }
            batch.push(learnt.clone());
        }
        if batch.len() >= BATCH {
            lifecycle.learn_instances(&batch)?;
            batch.clear();
        }
        Ok(())
    };
    let describe = |l: &Learnt| match l {
        Learnt::Installed { .. } => "installed".to_string(),
        Learnt::NotInstalled { .. } => "marked removed: the app is not installed there".into(),
    };
    let mut line = |_: &Record<Learnt>, _: &Invocation| None;
    let shape = Shape {
        line: &mut line,
        prefix: false,
        note_failures: true,
        keep: Some(&mut keep),
        describe: Some(&describe),
    };
    let ran = fleet::run(ctx, io, &opts, None, Refresh, shape);
    // What was learnt is kept, however the run ended.
    lifecycle.learn_instances(&batch)?;
    let ran = ran?;
    if ran.code != 130 {
        let prune = match marked {
            0 => String::new(),
            _ => " (`wixauth instances prune` forgets them, with their secrets)".into(),
        };
        io.note(&format!(
            "Site names known for {named}; {marked} marked removed{prune}."
        ));
    }
    ran.into_result()
}
