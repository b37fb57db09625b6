//! `wixauth webhook test URL`: the battery. Each check sends what Wix sends (or what an
//! attacker or a retry would) and grades the handler's answer; the report card is rendered by
//! `report`. Check names are stable (`--only`, `--skip`, `--json`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::dev_key::DevKey;
use super::envelope::{self, Draft};
use super::events::{uuid, BuiltIn, Fresh, Identity, BUILT_IN};
use super::send::DELIVERY_CONTENT_TYPE;
use super::send::{format_ms, percentile, send_all, Answer, Handler, Outcome};
use crate::core::error::{Error, Result};

/// Every check, in the order they run; `true` marks the advisory one.
pub(crate) const CHECKS: &[(&str, bool)] = &[
    ("valid", false),
    ("all-events", false),
    ("wrong-key", false),
    ("alg-none", false),
    ("hs256-public-key", false),
    ("tampered", false),
    ("parsed-body", false),
    ("expired", true),
    ("duplicate", false),
    ("out-of-order", false),
    ("burst", false),
    ("oversized", false),
];

/// Wix's limit for an answer.
pub(crate) const WIX_BUDGET: Duration = Duration::from_millis(1250);
/// The oversized check's body (over 1 MiB).
const OVERSIZED: usize = 1024 * 1024 + 64 * 1024;
/// How many of the burst are in flight at once.
const BURST_PARALLEL: usize = 4;

/// One graded check.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub advisory: bool,
    /// The handler's last HTTP status, `None` when it did not answer.
    pub status: Option<u16>,
    pub ms: Option<f64>,
    /// What was sent → what came back.
    pub detail: String,
    pub fix: Option<&'static str>,
}

pub(crate) struct BatteryOptions {
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub burst: usize,
    pub app_id: String,
}

/// The checks `--only`/`--skip` select, or a usage error naming the known ones.
pub(crate) fn select(only: &[String], skip: &[String]) -> Result<Vec<&'static str>> {
    for name in only.iter().chain(skip) {
        if !CHECKS.iter().any(|(n, _)| n == name) {
            let names: Vec<&str> = CHECKS.iter().map(|(n, _)| *n).collect();
            return Err(Error::usage(format!(
                "unknown check {}: the checks are {}",
                crate::core::text::printable(name, 60),
                names.join(", ")
            )));
        }
    }
    Ok(CHECKS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| only.is_empty() || only.iter().any(|o| o == n))
        .filter(|n| !skip.iter().any(|s| s == n))
        .collect())
}

/// What every check uses.
struct Lab<'a> {
    handler: Arc<Handler>,
    key: &'a DevKey,
    app_id: String,
    /// How long one POST may take before it counts as a hang.
    limit: Duration,
}

impl Lab<'_> {
    fn draft(&self, event: &BuiltIn, instance: &str) -> Draft {
        let fresh = Fresh {
            app_id: self.app_id.clone(),
            now: std::time::SystemTime::now(),
        };
        Draft {
            event_type: event.name.to_string(),
            instance_id: instance.to_string(),
            payload: event.payload(&fresh),
            identity: Identity::App.layer(&self.app_id),
            account_info: None,
        }
    }

    fn signed(&self, event: &BuiltIn, instance: &str) -> Result<String> {
        self.key.sign(&self.draft(event, instance).claims(false))
    }

    async fn send(&self, body: String) -> Answer {
        self.post(body.into_bytes(), DELIVERY_CONTENT_TYPE, self.limit)
            .await
    }

    async fn post(&self, body: Vec<u8>, content_type: &str, limit: Duration) -> Answer {
        self.handler.post(body, content_type, limit).await
    }
}

fn installed() -> &'static BuiltIn {
    &BUILT_IN[0]
}

fn removed() -> &'static BuiltIn {
    &BUILT_IN[1]
}

fn check(
    name: &'static str,
    ok: bool,
    answer: &Answer,
    detail: String,
    fix: &'static str,
) -> Check {
    Check {
        name,
        ok,
        advisory: false,
        status: answer.status(),
        ms: Some(answer.ms),
        detail,
        fix: (!ok).then_some(fix),
    }
}

/// Runs the selected checks in order. `wrong` makes the other key of `wrong-key` (started at
/// once on its own thread: RSA key generation is the slowest part of the battery).
pub(crate) fn run(handler: Handler, key: &DevKey, opts: &BatteryOptions) -> Result<Vec<Check>> {
    let names = select(&opts.only, &opts.skip)?;
    let wrong = names
        .contains(&"wrong-key")
        .then(|| std::thread::spawn(DevKey::generate));
    let lab = Lab {
        handler: Arc::new(handler),
        key,
        app_id: opts.app_id.clone(),
        limit: WIX_BUDGET * 2,
    };
    let runtime = super::send::runtime()?;
    let mut wrong = wrong;
    let mut checks = Vec::new();
    for name in names {
        let done = match name {
            "wrong-key" => {
                let other = wrong
                    .take()
                    .and_then(|t| t.join().ok())
                    .unwrap_or_else(|| Err(Error::failure("cannot make the other key")))?;
                runtime.block_on(wrong_key(&lab, &other))?
            }
            name => runtime.block_on(one(&lab, name, opts))?,
        };
        checks.push(done);
    }
    Ok(checks)
}

async fn one(lab: &Lab<'_>, name: &'static str, opts: &BatteryOptions) -> Result<Check> {
    match name {
        "valid" => valid(lab).await,
        "all-events" => all_events(lab).await,
        "alg-none" | "hs256-public-key" | "tampered" | "parsed-body" => forged(lab, name).await,
        "expired" => expired(lab).await,
        "duplicate" => duplicate(lab).await,
        "out-of-order" => out_of_order(lab).await,
        "burst" => burst(lab, opts.burst).await,
        "oversized" => oversized(lab).await,
        _ => Err(Error::usage(format!("unknown check {name}"))),
    }
}

const FIX_VALID: &str = "verify the raw body with the app's public key (here: the dev key's, `wixauth webhook dev-key`) and answer 2xx once it verifies";
const FIX_SLOW: &str = "answer within 1250 ms: acknowledge first and do slow work afterwards (a queue), or Wix retries the delivery";

async fn valid(lab: &Lab<'_>) -> Result<Check> {
    let answer = lab.send(lab.signed(installed(), &uuid())?).await;
    let ok = answer.ok_within(WIX_BUDGET);
    let fix = if answer.is_2xx() { FIX_SLOW } else { FIX_VALID };
    let detail = format!("AppInstalled signed with the dev key → {}", answer.line());
    Ok(check("valid", ok, &answer, detail, fix))
}

async fn all_events(lab: &Lab<'_>) -> Result<Check> {
    let instance = uuid();
    let mut last = None;
    for event in BUILT_IN {
        let answer = lab.send(lab.signed(event, &instance)?).await;
        if !answer.ok_within(WIX_BUDGET) {
            let detail = format!("{} → {}", event.name, answer.line());
            let fix = "answer 2xx to every event type Wix sends you, also those you ignore (Wix retries the others)";
            return Ok(check("all-events", false, &answer, detail, fix));
        }
        last = Some(answer);
    }
    let answer = last.unwrap_or_else(|| unreachable!("BUILT_IN is not empty"));
    let detail = format!(
        "the {} built-in events, each signed with the dev key → all 2xx within 1250 ms",
        BUILT_IN.len()
    );
    Ok(check("all-events", true, &answer, detail, ""))
}

/// A check that passes on any answer but a 2xx (a 4xx is expected).
fn refused(name: &'static str, sent: &str, answer: &Answer, fix: &'static str) -> Check {
    let ok = matches!(answer.outcome, Outcome::Answered(_)) && !answer.is_2xx();
    let came = match &answer.outcome {
        Outcome::Answered(_) if ok => format!("{} (refused, as it must be)", answer.line()),
        Outcome::Answered(_) => format!("{}: accepted", answer.line()),
        _ => format!("{}: refuse it with 401 at once", answer.line()),
    };
    check(name, ok, answer, format!("{sent} → {came}"), fix)
}

async fn wrong_key(lab: &Lab<'_>, other: &DevKey) -> Result<Check> {
    let claims = lab.draft(installed(), &uuid()).claims(false);
    let answer = lab.send(other.sign(&claims)?).await;
    Ok(refused(
        "wrong-key",
        "AppInstalled signed with another RSA key",
        &answer,
        "verify the RS256 signature with the app's public key before trusting the event (a verifier stub that accepts everything lets anyone forge installs)",
    ))
}

async fn forged(lab: &Lab<'_>, name: &'static str) -> Result<Check> {
    let claims = lab.draft(installed(), &uuid()).claims(false);
    let (body, content_type, sent, fix) = match name {
        "alg-none" => (
            envelope::alg_none(&claims),
            DELIVERY_CONTENT_TYPE,
            "AppInstalled with alg none and no signature",
            "accept RS256 only: never take the algorithm from the token's header",
        ),
        "hs256-public-key" => (
            envelope::hs256_with_public_key(&claims, &lab.key.public.pem)?,
            DELIVERY_CONTENT_TYPE,
            "AppInstalled signed HS256 with the public key as the HMAC secret",
            "pin the algorithm to RS256 (e.g. jwt.verify(body, key, {algorithms: ['RS256']})); an HMAC keyed with the public key is a forgery",
        ),
        "tampered" => {
            let good = lab.key.sign(&claims)?;
            let body = envelope::tampered(&good)
                .ok_or_else(|| Error::failure("cannot change the event for the tampered check"))?;
            (
                body,
                DELIVERY_CONTENT_TYPE,
                "AppInstalled with one byte of its payload changed, signature kept",
                "verify the signature over the raw body bytes and refuse the event when it does not match",
            )
        }
        _ => (
            claims.to_string(),
            "application/json",
            "the event's JSON claims as the body instead of the JWT",
            "the body is the JWT: verify it, and never fall back to reading plain JSON when it does not verify",
        ),
    };
    let answer = lab.post(body.into_bytes(), content_type, lab.limit).await;
    Ok(refused(name, sent, &answer, fix))
}

async fn expired(lab: &Lab<'_>) -> Result<Check> {
    let claims = lab.draft(installed(), &uuid()).claims(true);
    let answer = lab.send(lab.key.sign(&claims)?).await;
    let what = match &answer.outcome {
        Outcome::Answered(_) if answer.is_2xx() => "accepted, as Wix's example app does (it verifies with ignoreExpiration); Wix's SDK refuses expired events",
        Outcome::Answered(_) => "refused, as Wix's SDK does (jose checks exp)",
        _ => "no answer",
    };
    Ok(Check {
        name: "expired",
        ok: true,
        advisory: true,
        status: answer.status(),
        ms: Some(answer.ms),
        detail: format!(
            "AppInstalled whose exp passed an hour ago → {}: {what}",
            answer.line()
        ),
        fix: None,
    })
}

async fn duplicate(lab: &Lab<'_>) -> Result<Check> {
    let jwt = lab.signed(installed(), &uuid())?;
    let fix = "make the handler idempotent: answer 2xx to a delivery it has already seen (Wix may deliver twice)";
    let sent = "the same AppInstalled delivery twice";
    Ok(both_ok(lab, "duplicate", sent, [jwt.clone(), jwt], fix).await)
}

async fn out_of_order(lab: &Lab<'_>) -> Result<Check> {
    let instance = uuid();
    let bodies = [
        lab.signed(removed(), &instance)?,
        lab.signed(installed(), &instance)?,
    ];
    let fix = "answer 2xx to an event for an instance you have not seen installed (events arrive late and out of order); reconcile, do not refuse";
    let sent = "AppRemoved for a new instance, then its AppInstalled";
    Ok(both_ok(lab, "out-of-order", sent, bodies, fix).await)
}

/// Two deliveries, one after the other, that must both get a 2xx in time.
async fn both_ok(
    lab: &Lab<'_>,
    name: &'static str,
    sent: &str,
    [one, two]: [String; 2],
    fix: &'static str,
) -> Check {
    let first = lab.send(one).await;
    let second = lab.send(two).await;
    let ok = first.ok_within(WIX_BUDGET) && second.ok_within(WIX_BUDGET);
    let detail = format!("{sent} → {}; then {}", first.line(), second.line());
    let last = match first.ok_within(WIX_BUDGET) {
        true => &second,
        false => &first,
    };
    check(name, ok, last, detail, fix)
}

async fn burst(lab: &Lab<'_>, count: usize) -> Result<Check> {
    let instance = uuid();
    let mut bodies = Vec::with_capacity(count);
    for i in 0..count {
        bodies.push(
            lab.signed(&BUILT_IN[i % BUILT_IN.len()], &instance)?
                .into_bytes(),
        );
    }
    let answers = send_all(
        &lab.handler,
        bodies,
        DELIVERY_CONTENT_TYPE,
        BURST_PARALLEL,
        lab.limit,
        |_, _| {},
    )
    .await;
    let ms: Vec<f64> = answers.iter().map(|a| a.ms).collect();
    let (p50, p95) = (percentile(&ms, 50.0), percentile(&ms, 95.0));
    let good = answers.iter().filter(|a| a.is_2xx()).count();
    let ok = good == count && p95 <= WIX_BUDGET.as_secs_f64() * 1000.0;
    let mut detail = format!(
        "{count} events, {BURST_PARALLEL} at a time → {good} of {count} got 2xx; p50 {} ms, p95 {} ms (budget 1250 ms)",
        format_ms(p50),
        format_ms(p95)
    );
    if let Some(bad) = answers.iter().find(|a| !a.is_2xx()) {
        detail.push_str(&format!("; e.g. {}", bad.line()));
    }
    let fix = "answer within 1250 ms under load: acknowledge at once and queue the work";
    let last = answers.last().cloned().unwrap_or_else(|| Answer {
        outcome: Outcome::Broken("nothing sent".into()),
        ms: 0.0,
        first_line: String::new(),
    });
    let mut done = check("burst", ok, &last, detail, fix);
    done.ms = Some(p95);
    Ok(done)
}

async fn oversized(lab: &Lab<'_>) -> Result<Check> {
    let mut draft = lab.draft(installed(), &uuid());
    draft.payload["padding"] = json!("x".repeat(OVERSIZED));
    let jwt = lab.key.sign(&draft.claims(false))?;
    let size = jwt.len();
    let answer = lab
        .post(jwt.into_bytes(), DELIVERY_CONTENT_TYPE, WIX_BUDGET)
        .await;
    let ok = !matches!(answer.outcome, Outcome::TimedOut);
    let came = match &answer.outcome {
        Outcome::Broken(_) => "the connection was closed (fine: no hang)".to_string(),
        _ => answer.line(),
    };
    let detail = format!(
        "a signed AppInstalled of {:.2} MiB → {came}",
        size as f64 / (1024.0 * 1024.0)
    );
    let fix = "cap the body size (Wix's deliveries are a few KB; 1 MiB is plenty) and answer 413 past it, instead of waiting";
    Ok(check("oversized", ok, &answer, detail, fix))
}
