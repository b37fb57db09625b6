//! Posting deliveries to a developer's handler, as Wix does: the raw JWT as the body, one POST
//! per delivery (never retried), redirects not followed. What the handler answers is read only
//! as far as its first line (at most [`FIRST_LINE_BYTES`]), within the delivery's time limit,
//! and escaped before it reaches a terminal.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use url::{Host, Url};

use crate::core::error::{Error, Result};
use crate::core::net::is_loopback;
use crate::core::text::printable;

/// The Content-Type of a delivery (Wix's own is unconfirmed; handlers must read the raw body
/// whatever it says): a JWT is text.
pub(crate) const DELIVERY_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
/// At most this much of an answer is read, for its first line.
pub(crate) const FIRST_LINE_BYTES: usize = 1024;
/// The first line is shown cut to this many characters.
const FIRST_LINE_SHOWN: usize = 120;

/// Checks a handler URL: `https://` anywhere, `http://` only on this machine.
pub(crate) fn check_url(text: &str) -> Result<Url> {
    let url = Url::parse(text).map_err(|_| {
        Error::usage(format!(
            "{} is not a URL: give your handler's, e.g. http://localhost:3000/webhooks",
            printable(text, 120)
        ))
    })?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::usage(format!(
            "{} is refused: http:// only to this machine (localhost, 127.0.0.1, [::1]); a handler elsewhere needs https://",
            printable(text, 120)
        ))),
        _ => Err(Error::usage(format!(
            "{} is refused: give an http:// (this machine) or https:// URL",
            printable(text, 120)
        ))),
    }
}

/// `--header 'Name: value'`, checked.
pub(crate) fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue)> {
    let bad = || {
        Error::usage(format!(
            "--header {} must be 'Name: value'",
            printable(text, 80)
        ))
    };
    let (name, value) = text.split_once(':').ok_or_else(bad)?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| bad())?;
    Ok((name, value))
}

/// What became of one POST.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The handler answered with this status.
    Answered(u16),
    /// No answer within the limit.
    TimedOut,
    /// Nothing listens there (connection refused, no such host).
    Unreachable(String),
    /// The connection broke before an answer (closed, reset).
    Broken(String),
}

/// One POST's answer: outcome, time to the answer's head, its first line (escaped, cut).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub outcome: Outcome,
    pub ms: f64,
    pub first_line: String,
}

impl Answer {
    pub(crate) fn status(&self) -> Option<u16> {
        match self.outcome {
            Outcome::Answered(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_2xx(&self) -> bool {
        self.status().is_some_and(|s| (200..300).contains(&s))
    }

    /// 2xx within `budget`.
    pub(crate) fn ok_within(&self, budget: Duration) -> bool {
        self.is_2xx() && self.ms <= budget.as_secs_f64() * 1000.0
    }

    /// `HTTP 200 in 3 ms: ok` (or what happened instead): one line, safe for a terminal.
    pub(crate) fn line(&self) -> String {
        let ms = format_ms(self.ms);
        match &self.outcome {
            Outcome::Answered(status) => format!("HTTP {status} in {ms} ms: {}", self.first_line),
            Outcome::TimedOut => format!("no answer in {ms} ms"),
            Outcome::Unreachable(why) => format!("cannot connect: {why}"),
            Outcome::Broken(why) => format!("no answer ({why}) after {ms} ms"),
        }
    }
}

pub(crate) fn format_ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// Where deliveries go, and how.
pub(crate) struct Handler {
    pub url: Url,
    client: reqwest::Client,
    headers: HeaderMap,
}

impl Handler {
    /// `limit` bounds each POST from connect to the first line of the answer.
    pub(crate) fn new(
        url: Url,
        headers: Vec<(HeaderName, HeaderValue)>,
        limit: Duration,
    ) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(limit)
            .connect_timeout(limit)
            .tcp_nodelay(true)
            .user_agent(concat!("wixauth-webhook-lab/", env!("CARGO_PKG_VERSION")));
        if is_loopback(&url) {
            // A delivery for this machine never goes through a proxy.
            builder = builder.no_proxy();
        }
        if let (Some(Host::Domain(name)), Some(port)) = (url.host(), url.port_or_known_default()) {
            if name.eq_ignore_ascii_case("localhost") {
                // Both loopback addresses, whatever the resolver says (Node binds ::1 or both).
                let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
                let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port);
                builder = builder.resolve_to_addrs(name, &[v4, v6]);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::failure(format!("cannot set up the HTTP client: {e}")))?;
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(name, value);
        }
        Ok(Handler {
            url,
            client,
            headers: map,
        })
    }

    /// POSTs any body within `limit` (from the start to the answer's first line).
    pub(crate) async fn post(&self, body: Vec<u8>, content_type: &str, limit: Duration) -> Answer {
        let started = Instant::now();
        let mut headers = self.headers.clone();
        if let Ok(ct) = HeaderValue::from_str(content_type) {
            headers.entry(CONTENT_TYPE).or_insert(ct);
        }
        let request = self
            .client
            .post(self.url.clone())
            .headers(headers)
            .body(body)
            .send();
        let answered = tokio::time::timeout(limit, request).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let response = match answered {
            Err(_) => return answer(Outcome::TimedOut, ms),
            Ok(Err(e)) => return answer(classify(&e), ms),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        let rest = limit.saturating_sub(started.elapsed());
        let first_line = first_line(response, rest).await;
        Answer {
            outcome: Outcome::Answered(status),
            ms,
            first_line,
        }
    }
}

fn answer(outcome: Outcome, ms: f64) -> Answer {
    Answer {
        outcome,
        ms,
        first_line: String::new(),
    }
}

fn classify(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        return Outcome::TimedOut;
    }
    // The innermost cause, without the URL reqwest puts in front.
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let why = printable(&cause.to_string(), 120);
    if e.is_connect() {
        Outcome::Unreachable(why)
    } else {
        Outcome::Broken(why)
    }
}

/// The answer's first line: read in chunks until a newline, [`FIRST_LINE_BYTES`] or the end
/// of the time left, whichever comes first; the rest is never read (the connection is
/// dropped), so a never-ending answer cannot hold the command.
async fn first_line(mut response: reqwest::Response, limit: Duration) -> String {
    let mut bytes = Vec::new();
    let reading = async {
        while bytes.len() < FIRST_LINE_BYTES && !bytes.contains(&b'\n') {
            match response.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(limit, reading).await;
    bytes.truncate(FIRST_LINE_BYTES);
    let text = String::from_utf8_lossy(&bytes);
    let line = text.split(['\n', '\r']).next().unwrap_or_default().trim();
    if line.is_empty() {
        return "(empty)".to_string();
    }
    printable(line, FIRST_LINE_SHOWN)
}

/// A current-thread runtime for one command's deliveries.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failure(format!("cannot start the HTTP client: {e}")))
}

/// POSTs each body once, `concurrency` at a time, started in their order; `each` sees every
/// answer as it comes (index, answer). Returns the answers in the bodies' order.
pub(crate) async fn send_all(
    handler: &std::sync::Arc<Handler>,
    bodies: Vec<Vec<u8>>,
    content_type: &'static str,
    concurrency: usize,
    limit: Duration,
    mut each: impl FnMut(usize, &Answer),
) -> Vec<Answer> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let total = bodies.len();
    let bodies = std::sync::Arc::new(bodies);
    let next = std::sync::Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..concurrency.clamp(1, total.max(1)) {
        let (handler, bodies, next, tx) =
            (handler.clone(), bodies.clone(), next.clone(), tx.clone());
        tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let answer = handler.post(body.clone(), content_type, limit).await;
                if tx.send((i, answer)).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut answers: Vec<Option<Answer>> = vec![None; total];
    while let Some((i, answer)) = rx.recv().await {
        each(i, &answer);
        answers[i] = Some(answer);
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| answer(Outcome::Broken("not sent".into()), 0.0)))
        .collect()
}

/// The p-th percentile (0..=100) of `ms`, nearest rank; 0 for none.
pub(crate) fn percentile(ms: &[f64], p: f64) -> f64 {
    if ms.is_empty() {
        return 0.0;
    }
    let mut sorted = ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_on_this_machine() {
        let cases = [
            ("https://example.com/webhooks", true),
            ("http://[::1]:3000/", true),
            ("http://127.0.0.9:9/x", true),
            ("http://localhost:3000/webhooks", true),
            ("http://10.0.0.1/x", false),
            ("http://localhost.example.com/", false),
            ("ftp://localhost/", false),
            ("localhost:3000", false),
            ("", false),
        ];
        for (url, ok) in cases {
            match check_url(url) {
                Ok(_) => assert!(ok, "{url} was accepted"),
                Err(e) => assert!(
                    !ok && e.exit == crate::core::error::Exit::Usage,
                    "{url}: {e}"
                ),
            }
        }
    }

    #[test]
    fn headers_and_percentiles() {
        assert!(parse_header("X-Test: 1").is_ok());
        for bad in ["nocolon", "Bad Name: x", "X: \u{7}"] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
        let ms = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&ms, 50.0), 3.0);
        assert_eq!(percentile(&ms, 95.0), 5.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
