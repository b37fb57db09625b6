//! `wixauth webhook trigger`: signed deliveries POSTed to the developer's handler, one stderr
//! line per delivery (`HTTP <status> in <ms> ms: <first line>`), a summary after a burst, and
//! the events on stdout with `--json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::envelope::Signed;
use super::send::DELIVERY_CONTENT_TYPE;
use super::send::{format_ms, percentile, runtime, send_all, Answer, Handler, Outcome};
use crate::core::error::{Error, Result};
use crate::ui::Io;

pub(crate) struct TriggerOptions {
    /// A delivery is good when it gets a 2xx within this (Wix's is 1250 ms).
    pub budget: Duration,
    /// How long one POST may take at all: the budget plus the HTTP timeout.
    pub limit: Duration,
    pub concurrency: usize,
    /// Each delivery twice, as Wix may retry.
    pub duplicate: bool,
    pub json: bool,
}

/// Sends `deliveries` (in their order, `concurrency` at a time) and reports. Exit codes: 0
/// when every one got a 2xx within the budget; 4 when the handler could not be reached; 1
/// otherwise.
pub(crate) fn run(
    handler: Handler,
    deliveries: &[Signed],
    opts: &TriggerOptions,
    io: &mut Io,
) -> Result<()> {
    let copies = if opts.duplicate { 2 } else { 1 };
    let mut bodies = Vec::with_capacity(deliveries.len() * copies);
    let mut order = Vec::with_capacity(deliveries.len() * copies);
    for (i, d) in deliveries.iter().enumerate() {
        for _ in 0..copies {
            bodies.push(d.jwt.clone().into_bytes());
            order.push(i);
        }
    }
    let handler = Arc::new(handler);
    let runtime = runtime()?;
    let started = Instant::now();
    let answers = runtime.block_on(send_all(
        &handler,
        bodies,
        DELIVERY_CONTENT_TYPE,
        opts.concurrency,
        opts.limit,
        |_, answer| io.note(&answer.line()),
    ));
    let elapsed = started.elapsed();
    drop(runtime);
    if opts.json {
        let mut out = String::new();
        for i in &order {
            out.push_str(&deliveries[*i].event.to_json().to_string());
            out.push('\n');
        }
        io.print(&out)?;
    }
    if answers.len() > 1 {
        io.note(&summary(&answers, elapsed, opts.budget));
    }
    verdict(&answers, opts.budget, &handler.url)
}

/// `1000 deliveries in 0.41 s (2439 a second): 1000 got 2xx within 1250 ms; p50 …`.
pub(crate) fn summary(answers: &[Answer], elapsed: Duration, budget: Duration) -> String {
    let ms: Vec<f64> = answers
        .iter()
        .filter(|a| a.status().is_some())
        .map(|a| a.ms)
        .collect();
    let good = answers.iter().filter(|a| a.ok_within(budget)).count();
    let seconds = elapsed.as_secs_f64().max(1e-9);
    format!(
        "{} deliveries in {:.2} s ({:.0} a second): {good} got 2xx within {} ms; answer times p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        answers.len(),
        seconds,
        answers.len() as f64 / seconds,
        budget.as_millis(),
        format_ms(percentile(&ms, 50.0)),
        format_ms(percentile(&ms, 95.0)),
        format_ms(percentile(&ms, 99.0)),
        format_ms(percentile(&ms, 100.0)),
    )
}

fn verdict(answers: &[Answer], budget: Duration, url: &url::Url) -> Result<()> {
    let bad: Vec<&Answer> = answers.iter().filter(|a| !a.ok_within(budget)).collect();
    // An unreachable handler is its own exit code, whatever else happened.
    let unreachable = bad
        .iter()
        .find(|a| matches!(a.outcome, Outcome::Unreachable(_)));
    let Some(first) = unreachable.or(bad.first()) else {
        return Ok(());
    };
    let of = match answers.len() {
        1 => "the delivery".to_string(),
        n => format!("{} of {n} deliveries", bad.len()),
    };
    let what = match &first.outcome {
        Outcome::Unreachable(_) => {
            return Err(Error::unavailable(format!(
                "{of} could not reach {url}: {}",
                first.line()
            ))
            .hint("start your handler, or check --to"));
        }
        Outcome::Answered(s) if (200..300).contains(s) => format!(
            "{of} got no 2xx within {} ms (Wix retries a delivery answered later): the first took {} ms",
            budget.as_millis(),
            format_ms(first.ms)
        ),
        Outcome::Answered(_) => format!("{of} got no 2xx: {}", first.line()),
        _ => format!("{of} got no answer: {}", first.line()),
    };
    Err(Error::failure(what))
}
