//! What the fleet commands (`token`, `api`, `bi-event`, `exec` with `--each-instance`, and
//! `instances refresh`) share above the credentials layer: their options, the list of ids,
//! and the person's side of a run: output as it comes, one progress line on a terminal, the
//! summary table, the retry file, the exit code. The scheduling, the rate limit and the
//! retries are `credentials::fleet`'s.

mod progress;
mod summary;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::app::cli::FleetArgs;
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Exit, Fix, Invocation, Result};
use crate::core::text::printable;
use crate::credentials::fleet::{
    parse_instance_ids, scan_instance_ids, Ended, Fleet, Ground, Ids, Job, Plan, Progress, Record,
    Report, Stream,
};
use crate::settings::Flow;
use crate::ui::Io;
use progress::ProgressLine;
use summary::{RetryFile, Row, Table};

/// The default of `--concurrency`.
pub(crate) const DEFAULT_CONCURRENCY: usize = 4;

/// A fleet run as the command line asks for it.
#[derive(Debug, Clone)]
pub(crate) struct FleetOptions {
    /// `--instances-from`: FILE, or `-` for stdin; `None`: the profile's instances.
    pub from: Option<String>,
    pub skip_invalid: bool,
    pub plan: Plan,
    pub retry_file: Option<PathBuf>,
    /// With the profile's instances: those marked removed too (`instances refresh`).
    pub include_removed: bool,
}

impl FleetOptions {
    /// `None` when the command runs for one instance; an error when a fleet flag came alone.
    pub(crate) fn parse(args: &FleetArgs) -> Result<Option<FleetOptions>> {
        if !args.each_instance && args.instances_from.is_none() {
            let alone = [
                (args.concurrency.is_some(), "--concurrency"),
                (args.rate.is_some(), "--rate"),
                (args.fail_fast, "--fail-fast"),
                (args.retry_file.is_some(), "--retry-file"),
                (args.skip_invalid, "--skip-invalid"),
            ];
            return match alone.iter().find(|(given, _)| *given) {
                Some((_, flag)) => Err(Error::usage(format!(
                    "{flag} goes with --each-instance or --instances-from FILE"
                ))),
                None => Ok(None),
            };
        }
        if args.skip_invalid && args.instances_from.is_none() {
            return Err(Error::usage(
                "--skip-invalid goes with --instances-from FILE",
            ));
        }
        Ok(Some(FleetOptions {
            from: args.instances_from.clone(),
            skip_invalid: args.skip_invalid,
            plan: Plan {
                concurrency: args.concurrency.map_or(DEFAULT_CONCURRENCY, usize::from),
                rate: args.rate,
                fail_fast: args.fail_fast,
            },
            retry_file: args.retry_file.clone(),
            include_removed: false,
        }))
    }

    /// A usage error when `flag` (given) does not go with a fleet run.
    pub(crate) fn refuse(given: bool, flag: &str, instead: &str) -> Result<()> {
        match given {
            true => Err(Error::usage(format!(
                "{flag} does not go with --each-instance / --instances-from"
            ))
            .hint(instead.to_string())),
            false => Ok(()),
        }
    }
}

/// What a finished run comes to.
pub(crate) struct Ran {
    /// 0, 130 when interrupted, else the highest exit code seen.
    pub code: u8,
    /// One line: how many, how it went, where the retry file is (already said when all
    /// succeeded or the run was interrupted).
    pub totals: String,
}

impl Ran {
    /// For `token`, `api`, `bi-event`: an error line (with the highest exit code) when an
    /// instance failed.
    pub(crate) fn into_result(self) -> Result<()> {
        match self.code {
            0 => Ok(()),
            130 => Err(Error::interrupted()),
            code => Err(Error::new(exit_of(code), self.totals)),
        }
    }

    /// For `exec`: the highest of the commands' own exit codes, the totals said as a note.
    pub(crate) fn into_code(self, io: &mut Io) -> Result<u8> {
        match self.code {
            0 => Ok(0),
            130 => Err(Error::interrupted()),
            code => {
                io.note(&format!("wixauth: {}", self.totals));
                Ok(code)
            }
        }
    }
}

/// The contract's exit code for a number an instance ended with.
fn exit_of(code: u8) -> Exit {
    match code {
        2 => Exit::Usage,
        3 => Exit::Rejected,
        4 => Exit::Unavailable,
        5 => Exit::LoginAborted,
        126 => Exit::CannotExecute,
        127 => Exit::CommandNotFound,
        141 => Exit::ClosedPipe,
        _ => Exit::Failure,
    }
}

/// What sees every record first (`instances refresh`).
pub(crate) type Keep<'a, O> = dyn FnMut(&Record<O>) -> Result<()> + 'a;

/// How a command shows each instance.
pub(crate) struct Shape<'a, O> {
    /// Each instance's stdout line(s), or nothing.
    pub line: &'a mut dyn FnMut(&Record<O>, &Invocation) -> Option<LineOut>,
    /// Output lines of a command (`exec`) get `<instance_id>: ` before them.
    pub prefix: bool,
    /// A failure also gets a line of its own on stderr (when the stdout line does not say it).
    pub note_failures: bool,
    /// Called with every record before it is shown (`instances refresh` keeps what it learnt).
    pub keep: Option<&'a mut Keep<'a, O>>,
    /// The summary's word for a success, when not "ok".
    pub describe: Option<&'a dyn Fn(&O) -> String>,
}

impl<'a, O> Shape<'a, O> {
    /// A line on stdout per instance (or none), nothing else.
    pub(crate) fn lines(
        line: &'a mut dyn FnMut(&Record<O>, &Invocation) -> Option<LineOut>,
        note_failures: bool,
    ) -> Self {
        Shape {
            line,
            prefix: false,
            note_failures,
            keep: None,
            describe: None,
        }
    }
}

/// A line for stdout: JSON (escaped for a terminal) or text.
pub(crate) enum LineOut {
    /// One line of JSON text (see [`json_line`]).
    Json(String),
    Text(String),
}

/// Runs `job` for the fleet the options name, showing it as `shape` says.
pub(crate) fn run<J: Job>(
    ctx: &Context,
    io: &mut Io,
    opts: &FleetOptions,
    flow: Option<Flow>,
    job: J,
    shape: Shape<'_, J::Out>,
) -> Result<Ran> {
    if ctx.instance_flag {
        return Err(Error::usage(
            "--instance names one instance, and --each-instance / --instances-from run for many",
        )
        .hint("drop --instance (a file of ids for --instances-from picks some)"));
    }
    let session = ctx.session();
    session.fleet_allowed()?;
    let ground = Arc::new(Ground {
        env: ctx.env.clone(),
        paths: ctx.paths.clone(),
        config: ctx.config.clone(),
        profile: ctx.profile.clone(),
        flow,
    });
    // Every id of a file is checked before anything runs; of the profile, the first (they
    // are all the profile's).
    let ids = match &opts.from {
        Some(from) => {
            let list = read_ids(from, opts.skip_invalid, io)?;
            let check: Vec<&str> = list.iter().map(String::as_str).collect();
            if check.is_empty() {
                return Err(nothing_to_run(ctx, Some(from)));
            }
            session.fleet_preflight(&check, flow)?;
            Ids::listed(list)
        }
        None => {
            let first = first_of_profile(ctx, opts.include_removed)
                .ok_or_else(|| nothing_to_run(ctx, None))?;
            session.fleet_preflight(&[first.as_str()], flow)?;
            match opts.include_removed {
                true => Ids::listed(
                    ctx.active_profile()
                        .map_or_else(Vec::new, |p| p.instances.keys().cloned().collect()),
                ),
                false => Ids::of_profile(&ground),
            }
        }
    };
    io.flush_notes(&ctx.notes);
    let retry = opts
        .retry_file
        .as_deref()
        .map(RetryFile::create)
        .transpose()?;
    let total = ids.total;
    let fleet = Fleet::new(ground, ids, opts.plan);
    let interrupter = fleet.interrupter();
    crate::ui::interrupt::on_interrupt_wake(move || interrupter.press());
    let mut report = Reporter::new(io, &ctx.how, shape, retry, total);
    let ended = fleet.run(job, &mut report);
    report.finish(ended)
}

fn first_of_profile(ctx: &Context, include_removed: bool) -> Option<String> {
    ctx.active_profile()
        .and_then(|p| {
            p.instances
                .iter()
                .find(|(_, i)| include_removed || !i.removed)
        })
        .map(|(id, _)| id.clone())
}

/// The ids of FILE (or stdin for `-`): `--instances-from`, `instances add --from`. Every
/// line is checked before anything runs: a bad one is an error naming it, or with
/// `skip_invalid` a warning naming it.
pub(crate) fn read_ids(from: &str, skip_invalid: bool, io: &mut Io) -> Result<Vec<String>> {
    let text = read_list(from, io)?;
    let shown = match from {
        "-" => "stdin",
        file => file,
    };
    if !skip_invalid {
        return parse_instance_ids(&text).map_err(|(line, why)| {
            Error::usage(format!("{shown} line {line}: {why}"))
                .hint("fix or remove that line (one instance id a line, or a JSON array of them), or pass --skip-invalid to leave such lines out")
        });
    }
    let (ids, bad) = scan_instance_ids(&text);
    for (line, why) in &bad {
        io.warn(&format!("{shown} line {line} left out: {why}"));
    }
    Ok(ids)
}

/// The text of FILE, or of stdin for `-` (at most 64 MiB).
pub(crate) fn read_list(from: &str, io: &mut Io) -> Result<String> {
    const MAX: u64 = 64 << 20;
    let mut text = String::new();
    let read = match from {
        "-" => (&mut io.stdin).take(MAX).read_to_string(&mut text),
        file => std::fs::File::open(file).and_then(|f| f.take(MAX).read_to_string(&mut text)),
    };
    read.map_err(|e| {
        Error::usage(format!("cannot read the instance ids from {from}: {e}"))
            .hint("give a text file of instance ids, one a line")
    })?;
    Ok(text)
}

/// An empty list: what to do to have some.
fn nothing_to_run(ctx: &Context, from: Option<&str>) -> Error {
    if let Some(from) = from {
        let shown = if from == "-" { "stdin" } else { from };
        return Error::usage(format!("{shown} holds no instance ids"))
            .hint("one instance id a line, or a JSON array of them");
    }
    let marked = ctx
        .active_profile()
        .map_or(0, |p| p.instances.values().filter(|i| i.removed).count());
    let what = match marked {
        0 => format!("profile {:?} has no instances to run for", ctx.profile),
        n => format!(
            "profile {:?} has no instances to run for ({n} marked removed: `wixauth instances refresh` checks them again)",
            ctx.profile
        ),
    };
    Error::usage(what).fix(Fix::RunOr(
        Cmd::new(&["instances", "add", "ID"]),
        "let `wixauth webhook listen --save-instances` collect them as sites install the app"
            .into(),
    ))
}

/// One JSON line of `token --json` and `api` (the contract's keys, in its order).
#[derive(Serialize)]
struct JsonLine<'a> {
    instance_id: &'a str,
    site_name: Option<&'a str>,
    ok: bool,
    exit: u8,
    status: Option<u16>,
    request_id: Option<&'a str>,
}

/// The JSON line for `record`: `key` holds the JSON text `value` makes of a success (on one
/// line, its keys in their order); a failure has `error`, its one line.
pub(crate) fn json_line<O>(
    record: &Record<O>,
    how: &Invocation,
    key: &str,
    value: impl FnOnce(&O) -> String,
) -> String {
    let head = serde_json::to_string(&JsonLine {
        instance_id: &record.instance,
        site_name: record.site_name.as_deref(),
        ok: record.exit == 0,
        exit: record.exit,
        status: record.status,
        request_id: record.request_id.as_deref(),
    })
    .unwrap_or_default();
    let (key, text) = match &record.result {
        Ok(out) => (key, value(out)),
        Err(e) => ("error", json_text(&e.render(how))),
    };
    let open = head.strip_suffix('}').unwrap_or(&head);
    format!("{open},{}:{text}}}", json_text(key))
}

/// `value` as JSON text.
pub(crate) fn json_text<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Valid JSON on one line, as it was (keys in their order, nothing but whitespace outside
/// strings removed); `None` when it is not JSON.
pub(crate) fn compact_json(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).ok()?;
    let text = std::str::from_utf8(bytes).ok()?;
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') | (false, _, '"') => in_string = !in_string,
            (false, _, c) if c.is_whitespace() => continue,
            _ => {}
        }
        out.push(c);
    }
    Some(out)
}

/// The person's side of a run.
struct Reporter<'a, 'b, O> {
    io: &'a mut Io,
    how: &'a Invocation,
    shape: Shape<'b, O>,
    bar: ProgressLine,
    table: Table,
    retry: Option<RetryFile>,
    warned: HashSet<String>,
}

impl<'a, 'b, O> Reporter<'a, 'b, O> {
    fn new(
        io: &'a mut Io,
        how: &'a Invocation,
        shape: Shape<'b, O>,
        retry: Option<RetryFile>,
        total: usize,
    ) -> Self {
        let columns = crate::ui::spinner::terminal_width();
        Reporter {
            bar: ProgressLine::new(io.stderr_tty, columns),
            io,
            how,
            shape,
            table: Table::new(total),
            retry,
            warned: HashSet::new(),
        }
    }

    fn result_text(&self, record: &Record<O>) -> String {
        match &record.result {
            Ok(out) if record.exit == 0 => self.shape.describe.map_or("ok".into(), |d| d(out)),
            Ok(_) => format!("exit {}", record.exit),
            Err(e) => format!("exit {}: {}", record.exit, e.render(self.how)),
        }
    }

    /// The summary and the retry file; the run's exit code and totals line.
    fn finish(mut self, ended: Result<Ended>) -> Result<Ran> {
        self.bar.clear(&mut self.io.err);
        let ended = ended?;
        let table = self.table.render();
        let _ = self.io.err.write_all(table.as_bytes());
        let retry = self.retry.take().map(RetryFile::finish).transpose()?;
        let code = match ended.interrupted {
            true => 130,
            false => ended.worst,
        };
        let totals = totals(&ended, retry.as_ref().map(|(p, _)| p.as_path()));
        if code == 0 || code == 130 {
            self.io.note(&format!("wixauth: {totals}"));
        }
        Ok(Ran { code, totals })
    }
}

/// `1000 instances in 3.2 s: 997 succeeded, 3 failed (highest exit 3); …`.
fn totals(ended: &Ended, retry: Option<&std::path::Path>) -> String {
    let p = &ended.progress;
    let ok = p.done - p.failed;
    let mut text = format!(
        "{} instance{} in {}: ",
        p.total,
        if p.total == 1 { "" } else { "s" },
        summary::human_ms(p.elapsed)
    );
    match (p.failed, ended.not_run) {
        (0, 0) => text.push_str("all succeeded"),
        (failed, not_run) => {
            text.push_str(&format!("{ok} succeeded, {failed} failed"));
            if failed > 0 {
                text.push_str(&format!(" (highest exit {})", ended.worst));
            }
            if not_run > 0 {
                text.push_str(&format!(", {not_run} not run"));
            }
        }
    }
    if ended.throttled > 0 {
        text.push_str(&format!(
            "; Wix asked {} time{} to slow down",
            ended.throttled,
            if ended.throttled == 1 { "" } else { "s" }
        ));
    }
    match (retry, p.failed + ended.not_run) {
        (_, 0) => {}
        (Some(path), _) => text.push_str(&format!(
            "; run them again with --instances-from {}",
            crate::core::text::printable(&path.display().to_string(), 200)
        )),
        (None, _) => text.push_str("; --retry-file PATH keeps their ids for --instances-from PATH"),
    }
    text
}

impl<O> Report<O> for Reporter<'_, '_, O> {
    fn output(&mut self, instance: &str, stream: Stream, bytes: &[u8]) -> Result<()> {
        self.bar.clear(&mut self.io.err);
        let mut chunk = Vec::with_capacity(bytes.len() + instance.len() + 3);
        if self.shape.prefix {
            chunk.extend_from_slice(instance.as_bytes());
            chunk.extend_from_slice(b": ");
        }
        chunk.extend_from_slice(bytes);
        if self.shape.prefix && !chunk.ends_with(b"\n") {
            chunk.push(b'\n');
        }
        match stream {
            Stream::Out => self.io.write_out(&chunk),
            Stream::Err => {
                let _ = self.io.err.write_all(&chunk);
                Ok(())
            }
        }
    }

    fn finished(&mut self, record: Record<O>) -> Result<()> {
        self.bar.clear(&mut self.io.err);
        for warning in &record.warnings {
            if self.warned.insert(warning.clone()) {
                self.io.warn(warning);
            }
        }
        if let Some(keep) = self.shape.keep.as_mut() {
            keep(&record)?;
        }
        let failed = record.exit != 0;
        if failed {
            if let Some(retry) = self.retry.as_mut() {
                retry.add(&record.instance)?;
            }
            if let (true, Err(e)) = (self.shape.note_failures, &record.result) {
                self.io.note(&format!(
                    "wixauth: {}: {}",
                    record.instance,
                    e.render(self.how)
                ));
            }
        }
        match (self.shape.line)(&record, self.how) {
            Some(LineOut::Json(line)) => {
                let line = match self.io.stdout_tty {
                    true => crate::core::text::json_for_terminal(&line),
                    false => line,
                };
                self.io.print(&format!("{line}\n"))?
            }
            Some(LineOut::Text(text)) => self.io.print(&text)?,
            None => {}
        }
        let row = Row {
            result: self.result_text(&record),
            instance: record.instance,
            site: record.site_name,
            elapsed: Some(record.elapsed),
        };
        self.table.add(row, failed);
        Ok(())
    }

    fn not_run(&mut self, instance: &str) -> Result<()> {
        if let Some(retry) = self.retry.as_mut() {
            retry.add(instance)?;
        }
        let row = Row {
            instance: instance.to_string(),
            site: None,
            result: "not run".into(),
            elapsed: None,
        };
        self.table.add(row, true);
        Ok(())
    }

    fn block(&mut self, _instance: &str, out: &mut dyn Read, err: &mut dyn Read) -> Result<()> {
        self.bar.clear(&mut self.io.err);
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = out.read(&mut buf).map_err(spool_error)?;
            if n == 0 {
                break;
            }
            self.io.write_out(&buf[..n])?;
        }
        let _ = std::io::copy(err, &mut self.io.err);
        Ok(())
    }

    fn tick(&mut self, progress: &Progress) {
        self.bar.draw(&mut self.io.err, progress);
    }
}

fn spool_error(e: std::io::Error) -> Error {
    Error::failure(format!("cannot read a command's kept output back: {e}"))
}

/// Site names as a person reads them (escaped, bounded).
pub(crate) fn site_shown(name: Option<&str>) -> String {
    name.map_or("-".into(), |n| printable(n, 60))
}
