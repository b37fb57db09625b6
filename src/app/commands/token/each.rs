//! `wixauth token --each-instance`: each instance's token, from the cache when it can be, as
//! `<instance_id> <token>` lines or (`--json`) one JSON line per instance.

use crate::app::context::Context;
use crate::app::fleet::{self, FleetOptions, LineOut, Shape};
use crate::core::error::{Invocation, Result};
use crate::credentials::cache::CachedToken;
use crate::credentials::fleet::{Job, JobRun, Record};
use crate::credentials::Freshness;
use crate::settings::Flow;
use crate::ui::Io;

struct Tokens(Freshness);

impl Job for Tokens {
    type Out = CachedToken;
    fn run(&self, run: &JobRun) -> Result<CachedToken> {
        run.session.fresh_token(run.target, self.0)
    }
}

/// `(json, header)`: `--json`, `--header`.
pub(super) fn run(
    each: &FleetOptions,
    flow: Option<Flow>,
    freshness: Freshness,
    (json, header): (bool, bool),
    ctx: &Context,
    io: &mut Io,
) -> Result<()> {
    FleetOptions::refuse(
        header,
        "--header",
        "use --json (a line per instance) or the plain `<instance_id> <token>` lines",
    )?;
    let mut line = |r: &Record<CachedToken>, how: &Invocation| match json {
        true => Some(LineOut::Json(fleet::json_line(
            r,
            how,
            "access_token",
            |t| fleet::json_text(t.access_token.expose()),
        ))),
        false => r
            .result
            .as_ref()
            .ok()
            .map(|t| LineOut::Text(format!("{} {}\n", r.instance, t.access_token.expose()))),
    };
    let shape = Shape::lines(&mut line, !json);
    fleet::run(ctx, io, each, flow, Tokens(freshness), shape)?.into_result()
}
