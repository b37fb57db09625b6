//! The receiver's policy on the loopback server: `POST {path}` only, the body verified as a
//! Wix delivery, the instance saved (`--save-instances`), then 200. What is slow (a save that
//! outlasts [`SAVE_WAIT`], the relay to `--forward-to`) and the printing happen after the
//! answer is written. No `Host` check: a tunnel sends its own public host name.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::Method;
use tokio::sync::oneshot;

use super::forward::Forwarder;
use super::output::{Report, Reports, Stdout};
use crate::serve::{self, Answer, BodyError, Reply, Request};
use crate::webhook::instances::{SaveQueue, Saved};
use crate::webhook::replay::{self, DeliveryLog};
use crate::webhook::verify::{verify, Event};
use crate::webhook::PublicKey;

/// How long the answer waits for an instance to be saved (so that a failure can answer 500
/// and Wix delivers again); past that it answers 200 in time for Wix's 1250 ms anyway.
const SAVE_WAIT: Duration = Duration::from_millis(800);

/// What the answer and the work after it share, and the terminal loop reads.
pub(super) struct Out {
    pub(super) stdout: Stdout,
    /// stdout is a terminal: lines from Wix are escaped.
    pub(super) stdout_tty: bool,
    pub(super) reports: Reports,
    pub(super) forward: Option<Forwarder>,
    /// The profile instances are saved in, with `--save-instances`.
    pub(super) profile: Option<String>,
    /// `--once`: only the first event is printed (the one that claimed it); these say how far
    /// it got.
    pub(super) once: bool,
    pub(super) once_claimed: AtomicBool,
    pub(super) once_printed: AtomicBool,
    pub(super) once_relayed: AtomicBool,
}

pub(super) struct Receiver {
    pub(super) key: PublicKey,
    pub(super) path: String,
    /// The saver thread's queue, with `--save-instances`.
    pub(super) saver: Option<SaveQueue>,
    /// Where `--save-deliveries` keeps verified deliveries for `webhook test --replay`.
    pub(super) deliveries: Option<DeliveryLog>,
    pub(super) out: Arc<Out>,
}

/// A verified delivery, carried past its answer.
struct Delivery {
    event: Event,
    saved: Saving,
    body: Bytes,
    content_type: Option<HeaderValue>,
}

/// Where `--save-instances` is for a delivery when its answer is written.
enum Saving {
    Off,
    Done(Option<String>),
    /// Still running (a slow disk): reported once it ends, after the answer.
    Pending(oneshot::Receiver<std::result::Result<Saved, String>>),
}

impl serve::Policy for Receiver {
    async fn answer(&self, request: Request) -> Reply {
        if request.uri().path() != self.path {
            let what = format!("not found: wixauth receives webhooks at {}", self.path);
            return text(404, &what).into();
        }
        if request.method() != Method::POST {
            let mut response = text(405, "method not allowed: POST only");
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response.into();
        }
        let content_type = request.headers().get(CONTENT_TYPE).cloned();
        let saving = replay::pending(self.deliveries.as_ref(), request.headers());
        let body = match request.body().await {
            Ok(body) => body,
            Err(e) => return self.body_refused(e).into(),
        };
        let event = match verify(&body, &self.key, false) {
            Ok(event) => event,
            Err(e) => {
                self.note(format!("rejected a delivery (401): {e}"));
                let why = "unauthorized: not a Wix webhook signed with this app's key";
                return text(401, why).into();
            }
        };
        if let Some(note) = saving.and_then(|s| s.verified(&body)) {
            self.note(note);
        }
        let saved = match self.save(&event).await {
            Ok(saved) => saved,
            Err(why) => return self.save_failed(&event, &why).into(),
        };
        let delivery = Delivery {
            event,
            saved,
            body,
            content_type,
        };
        Reply {
            answer: text(200, "ok"),
            then: Some(Box::pin(after_the_answer(self.out.clone(), delivery))),
        }
    }
}

impl Receiver {
    fn note(&self, line: String) {
        self.out.reports.send(Report::Note(line));
    }

    fn body_refused(&self, e: BodyError) -> Answer {
        let why = match e {
            BodyError::TooLarge => {
                self.note("refused a delivery (413): its body is over 1 MiB".into());
                "payload too large: a Wix delivery is at most 1 MiB"
            }
            BodyError::Timeout => "request timeout: the body did not arrive",
            BodyError::Broken => "bad request: the body did not arrive",
        };
        text(e.status(), why)
    }

    /// Queues the event for the saver thread and waits for it up to [`SAVE_WAIT`]; `Err`: it
    /// failed before the answer.
    async fn save(&self, event: &Event) -> std::result::Result<Saving, String> {
        let (Some(saver), Some(profile)) = (&self.saver, &self.out.profile) else {
            return Ok(Saving::Off);
        };
        let gone = || "the saver thread is gone".to_string();
        let (reply, mut outcome) = oneshot::channel();
        saver.send((event.clone(), reply)).map_err(|_| gone())?;
        match tokio::time::timeout(SAVE_WAIT, &mut outcome).await {
            Ok(Ok(Ok(saved))) => Ok(Saving::Done(saved.describe(profile))),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(gone()),
            // Answer in time anyway; the outcome is reported when it comes.
            Err(_) => Ok(Saving::Pending(outcome)),
        }
    }

    /// A save that failed before the answer: 500, so that Wix delivers the event again.
    fn save_failed(&self, event: &Event, why: &str) -> Answer {
        self.note(format!(
            "{}: cannot save it: {why}; answered 500 so that Wix delivers it again",
            event.summary()
        ));
        text(500, "the event could not be saved")
    }
}

fn text(status: u16, body: &str) -> Answer {
    let body = Bytes::from(format!("{body}\n"));
    serve::answer(status, Some("text/plain; charset=utf-8"), body)
}

/// The answer has been written (or the client is gone): print the event, then relay it.
async fn after_the_answer(out: Arc<Out>, delivery: Delivery) {
    // When it came and which delivery it was (Wix retries send the same body again).
    let when =
        crate::core::text::rfc3339(crate::credentials::cache::now_unix()).unwrap_or_default();
    let id = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(&delivery.body)[..6]);
    let mut summary = format!("{when} {}, delivery {id}", delivery.event.summary());
    let saved = match delivery.saved {
        Saving::Off => None,
        Saving::Done(saved) => saved,
        Saving::Pending(outcome) => match outcome.await {
            Ok(Ok(saved)) => out.profile.as_deref().and_then(|p| saved.describe(p)),
            Ok(Err(why)) => Some(format!(
                "cannot save it: {why}; run `wixauth login --instance ID` for it"
            )),
            Err(_) => Some("cannot save it: the saver thread is gone".to_string()),
        },
    };
    if let Some(saved) = saved {
        summary.push_str(&format!("; {saved}"));
    }
    // With --once, the first event is the only one printed (and the one whose relay ends it).
    let first = !out.once || !out.once_claimed.swap(true, Ordering::SeqCst);
    if first {
        let line = delivery.event.to_json().to_string();
        let line = match out.stdout_tty {
            // Wix's strings may hold C1 or bidi controls: escaped for a terminal, still JSON.
            true => crate::core::text::json_for_terminal(&line),
            false => line,
        };
        out.stdout.offer(format!("{line}\n"));
        out.reports.send(Report::Event(summary));
        // Set after the line is queued: the loop that sees it flushes stdout, then exits.
        out.once_printed.store(true, Ordering::SeqCst);
    }
    if let Some(forward) = &out.forward {
        let line = forward.relay(delivery.body, delivery.content_type).await;
        out.reports.send(Report::Forwarded(line));
        if first {
            out.once_relayed.store(true, Ordering::SeqCst);
        }
    }
}
