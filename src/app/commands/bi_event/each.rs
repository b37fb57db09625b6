//! `wixauth bi-event EVENT --each-instance`: the event for every instance; `--json` writes one
//! line per instance (`event`, or `error`).

use crate::app::context::Context;
use crate::app::fleet::{self, FleetOptions, LineOut, Shape};
use crate::core::error::{Invocation, Result};
use crate::credentials::fleet::{Job, JobRun, Record};
use crate::ui::Io;
use crate::wix::Request;

struct Events {
    url: String,
    body: serde_json::Value,
    event: String,
}

impl Job for Events {
    type Out = String;
    fn run(&self, run: &JobRun) -> Result<String> {
        // Reporting the same event twice is harmless; losing it to a blip is not.
        let request = Request::post_json(self.url.clone(), &self.body, true);
        let (response, _) = run.session.authorised_send(run.target, request)?;
        match response.is_success() {
            true => Ok(self.event.clone()),
            false => Err(run.session.call_failure(
                run.target,
                &response,
                &format!("sending {}", self.event),
            )),
        }
    }
}

pub(super) fn run(
    each: &FleetOptions,
    json: bool,
    body: serde_json::Value,
    ctx: &Context,
    io: &mut Io,
) -> Result<()> {
    let event = body["eventName"].as_str().unwrap_or_default().to_string();
    let job = Events {
        url: crate::core::net::join(ctx.wix().api(), "apps/v1/bi-event"),
        body,
        event,
    };
    let mut line = |r: &Record<String>, how: &Invocation| {
        json.then(|| LineOut::Json(fleet::json_line(r, how, "event", fleet::json_text)))
    };
    let shape = Shape::lines(&mut line, !json);
    fleet::run(ctx, io, each, None, job, shape)?.into_result()
}
