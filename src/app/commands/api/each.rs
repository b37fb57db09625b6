//! `wixauth api --each-instance PATH`: the same request for every instance, one JSON line
//! per instance with Wix's answer (`body`) or what failed (`error`).

use url::Url;

use crate::app::cli::FleetArgs;
use crate::app::context::Context;
use crate::app::fleet::{self, FleetOptions, LineOut, Shape};
use crate::core::error::{Exit, Invocation, Result};
use crate::core::secret::Secret;
use crate::credentials::fleet::{Job, JobRun, Record};
use crate::ui::Io;
use crate::wix::{Method, Request};

/// The fleet options, checked before the body is read: `-d @-` and `--instances-from -`
/// cannot both have stdin, and `--include` and `--explain` have no place in a JSON line.
pub(super) fn options(
    args: &FleetArgs,
    (include, explain): (bool, bool),
    data: Option<&str>,
) -> Result<Option<FleetOptions>> {
    let Some(each) = FleetOptions::parse(args)? else {
        return Ok(None);
    };
    FleetOptions::refuse(
        include,
        "--include",
        "each line has the status; drop --include",
    )?;
    FleetOptions::refuse(
        explain,
        "--explain",
        "each failed instance's line has Wix's answer; run `wixauth api --explain` for one instance",
    )?;
    FleetOptions::refuse(
        data == Some("@-") && each.from.as_deref() == Some("-"),
        "-d @- with --instances-from -",
        "stdin can hold one of them: put the body or the ids in a file",
    )?;
    Ok(Some(each))
}

/// The request to send for each instance.
pub(super) struct Call {
    request: Request,
    /// `GET /path`, for an error line.
    what: String,
}

impl Call {
    pub(super) fn new(
        url: Url,
        method: Method,
        headers: Vec<(String, String)>,
        content_type: String,
        body: Option<String>,
    ) -> Call {
        let what = format!("{method} {}", url.path());
        Call {
            request: Request {
                idempotent: method == Method::GET,
                method,
                url: url.to_string(),
                headers,
                auth: None,
                body: body.map(|b| (content_type, Secret::new(b))),
            },
            what,
        }
    }
}

impl Job for Call {
    /// Wix's answer as JSON text on one line (keys in Wix's order); not JSON, as a string.
    type Out = String;
    fn run(&self, run: &JobRun) -> Result<String> {
        let (session, target) = (run.session, run.target);
        let (response, _) = session.authorised_send(target, self.request.clone())?;
        if !response.is_success() {
            // As for one instance: any non-2xx is exit 1, its line says what Wix said.
            return Err(session
                .call_failure(target, &response, &self.what)
                .exit_as(Exit::Failure));
        }
        Ok(match response.body.is_empty() {
            true => "null".into(),
            false => fleet::compact_json(&response.body)
                .unwrap_or_else(|| fleet::json_text(&String::from_utf8_lossy(&response.body))),
        })
    }
}

pub(super) fn run(each: &FleetOptions, call: Call, ctx: &Context, io: &mut Io) -> Result<()> {
    let mut line = |r: &Record<String>, how: &Invocation| {
        Some(LineOut::Json(fleet::json_line(
            r,
            how,
            "body",
            Clone::clone,
        )))
    };
    let shape = Shape::lines(&mut line, false);
    fleet::run(ctx, io, each, None, call, shape)?.into_result()
}
