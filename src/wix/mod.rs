//! The Wix REST client: requests with the contract's timeouts, retries and failure
//! classification. The only module that knows reqwest; no CLI code lives here.

pub(crate) mod apps;
pub(crate) mod headless;
pub(crate) mod pace;
pub(crate) mod refusal;
mod tokens;
pub(crate) mod urls;

use std::cell::OnceCell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use url::Url;

use crate::core::error::{Error, Rejected, Result};
use crate::core::log::{debug, redact_url};
use crate::core::secret::Secret;
use crate::core::text::printable;

pub(crate) use tokens::TokenGrant;
/// What the fuzz targets reach of the token answers (src/fuzz.rs).
#[cfg(fuzzing)]
pub(crate) use tokens::{parse_grant, rejection};

const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The most of one answer wixauth holds (`wixauth api` can fetch large listings).
const MAX_BODY: usize = 64 << 20;
/// The next step after Wix failed on its side.
pub(crate) const TRY_LATER: &str = "try again later";

/// An HTTP method (a thin wrapper, so no reqwest type leaves this module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Method(reqwest::Method);

impl Method {
    pub(crate) const GET: Method = Method(reqwest::Method::GET);
    pub(crate) const POST: Method = Method(reqwest::Method::POST);

    /// A method name as given on the command line (`-X`), upper-cased.
    pub(crate) fn parse(name: &str) -> Option<Method> {
        reqwest::Method::from_bytes(name.to_ascii_uppercase().as_bytes())
            .ok()
            .map(Method)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Whether `name: value` is a header HTTP allows.
pub(crate) fn valid_header(name: &str, value: &str) -> bool {
    reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
        && reqwest::header::HeaderValue::from_str(value).is_ok()
}

/// One request to send; rebuilt for every attempt.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The access token for `Authorization` (raw, as Wix documents).
    pub auth: Option<Secret>,
    /// Content type and body; the body may hold secrets, so it is never logged.
    pub body: Option<(String, Secret)>,
    /// Safe to send twice: then 429/5xx answers, timeouts and dropped connections are
    /// retried too. A connection that never opened is retried for every request.
    pub idempotent: bool,
}

impl Request {
    pub(crate) fn get(url: String) -> Request {
        Request {
            method: Method::GET,
            url,
            headers: vec![],
            auth: None,
            body: None,
            idempotent: true,
        }
    }

    /// A JSON POST; `idempotent` says whether sending it twice is harmless.
    pub(crate) fn post_json(url: String, body: &serde_json::Value, idempotent: bool) -> Request {
        Request {
            method: Method::POST,
            url,
            headers: vec![],
            auth: None,
            body: Some(("application/json".into(), Secret::new(body.to_string()))),
            idempotent,
        }
    }
}

/// A finished HTTP exchange (any status).
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `HTTP 400, request id …: Wix's message` — the status and request id are what Wix
    /// support asks for; the message is Wix's `message` (or an OAuth `error_description`/`error`).
    pub(crate) fn error_summary(&self) -> String {
        let text = self.wix_message();
        let mut status = format!("HTTP {}", self.status);
        if let Some(id) = self.header("x-wix-request-id") {
            status.push_str(&format!(", request id {}", printable(id, 80)));
        }
        match text {
            Some(m) => format!("{status}: {}", printable(&m, 300)),
            None => status,
        }
    }

    /// Wix's own words in an error answer: `message` (or an OAuth `error_description`/`error`).
    pub(crate) fn wix_message(&self) -> Option<String> {
        let parsed: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        ["message", "error_description", "errorDescription", "error"]
            .iter()
            .find_map(|k| {
                parsed
                    .get(k)
                    .and_then(|m| m.as_str())
                    .filter(|m| !m.is_empty())
            })
            .map(str::to_string)
    }

    /// A failed authenticated call as one line with the contract's exit code. A 401 is marked
    /// as a token Wix turned down: the caller, who knows what minted it, says what to do.
    pub(crate) fn failure(&self, what: &str) -> Error {
        let summary = self.error_summary();
        match self.status {
            401 => Error::rejected(format!("{what}: Wix rejected the token ({summary})"))
                .turned_down(Rejected::Token),
            403 => Error::failure(format!("{what}: Wix refused ({summary})")).hint(
                "the app needs the permission for this call (for app management, \"Manage Your App\") in its dashboard",
            ),
            429 | 500..=599 => {
                Error::unavailable(format!("{what}: Wix failed ({summary}) after retries"))
                    .hint(TRY_LATER)
            }
            _ => Error::failure(format!("{what}: Wix answered {summary}")),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why one attempt failed.
enum Failed {
    /// Why, and whether the request may have reached the server.
    Network(String, bool),
    /// The answer is over [`MAX_BODY`].
    TooLarge,
}

/// The client, built on first use: a cache hit never pays for the HTTP stack or the runtime.
pub(crate) struct LazyClient {
    api: Url,
    timeout: Duration,
    client: OnceCell<WixClient>,
    pacer: Option<Rc<dyn pace::Pacer>>,
}

impl LazyClient {
    pub(crate) fn new(api: Url, timeout: Duration) -> LazyClient {
        LazyClient {
            api,
            timeout,
            client: OnceCell::new(),
            pacer: None,
        }
    }

    /// A client whose every attempt waits for `pacer`'s turn (a fleet worker's).
    pub(crate) fn paced(api: Url, timeout: Duration, pacer: Rc<dyn pace::Pacer>) -> LazyClient {
        LazyClient {
            pacer: Some(pacer),
            ..LazyClient::new(api, timeout)
        }
    }

    pub(crate) fn api(&self) -> &Url {
        &self.api
    }

    pub(crate) fn get(&self) -> Result<&WixClient> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let mut client = WixClient::new(self.api.clone(), self.timeout)?;
        client.pacer = self.pacer.clone();
        Ok(self.client.get_or_init(|| client))
    }
}

pub(crate) struct WixClient {
    pub api: Url,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    timeout: Duration,
    pacer: Option<Rc<dyn pace::Pacer>>,
}

impl WixClient {
    pub(crate) fn new(api: Url, timeout: Duration) -> Result<WixClient> {
        // Before the resolver's first lookup (it runs on the runtime's blocking threads).
        crate::core::nss::builtin_services_only();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("wixauth/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could carry a credential-bearing request elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        if api.scheme() == "http" {
            // Only loopback bases may be http:// (core::net::checked_base): reach them directly, so
            // no proxy ever sees a secret in clear text.
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| Error::failure(format!("cannot set up the HTTP client: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::failure(format!("cannot start the async runtime: {e}")))?;
        Ok(WixClient {
            api,
            http,
            runtime,
            timeout,
            pacer: None,
        })
    }

    /// Said after the URL in "cannot reach Wix" when the base is not Wix's own: the override
    /// is the first thing to check.
    fn overridden(&self) -> &'static str {
        let default = Url::parse(crate::settings::env::DEFAULT_API_BASE).ok();
        match default.as_ref() == Some(&self.api) {
            true => "",
            false => " (set by WIXAUTH_API_BASE)",
        }
    }

    /// `{api}/path`.
    pub(crate) fn url(&self, path: &str) -> String {
        crate::core::net::join(&self.api, path)
    }

    /// Sends a request with bounded retries (see [`Request::idempotent`]).
    /// Returns the last answer, whatever its status.
    pub(crate) fn send(&self, request: &Request) -> Result<Response> {
        self.runtime.block_on(self.send_async(request))
    }

    async fn send_async(&self, request: &Request) -> Result<Response> {
        let shown = Url::parse(&request.url)
            .map(|u| redact_url(&u))
            .unwrap_or_default();
        let mut attempt = 1;
        loop {
            self.wait_turn().await;
            let started = Instant::now();
            let outcome = self.attempt(request).await;
            let elapsed = started.elapsed();
            let wait = match outcome {
                Ok(r) => {
                    let request_id = r
                        .header("x-wix-request-id")
                        .map(|id| format!(" (x-wix-request-id {})", printable(id, 80)))
                        .unwrap_or_default();
                    debug!(
                        "{} {shown} → {} in {} ms{request_id} (attempt {attempt}/{ATTEMPTS})",
                        request.method,
                        r.status,
                        elapsed.as_millis()
                    );
                    if self.paced_retry(&r) {
                        // The pacer holds the whole fleet back for as long as Wix asked.
                        continue;
                    }
                    let retryable = request.idempotent && (r.status == 429 || r.status >= 500);
                    if !retryable || attempt == ATTEMPTS {
                        return Ok(r);
                    }
                    retry_after(&r).unwrap_or_else(|| backoff(attempt))
                }
                Err(Failed::TooLarge) => {
                    // Asking again would fetch it again: once is enough to know.
                    return Err(Error::unavailable(format!(
                        "Wix's answer at {shown} is over {} MiB, more than wixauth holds",
                        MAX_BODY >> 20
                    ))
                    .hint("ask for less (a page size, a filter), or use curl with `wixauth token` for a large download"));
                }
                Err(Failed::Network(why, sent)) => {
                    debug!(
                        "{} {shown} failed after {} ms: {why} (attempt {attempt}/{ATTEMPTS})",
                        request.method,
                        elapsed.as_millis()
                    );
                    if attempt == ATTEMPTS || (sent && !request.idempotent) {
                        return Err(Error::unavailable(format!(
                            "cannot reach Wix at {shown}{}: {why} (after {attempt} attempts)",
                            self.overridden()
                        ))
                        .hint("check your network or proxy and try again"));
                    }
                    backoff(attempt)
                }
            };
            debug!("retrying in {} ms", wait.as_millis());
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Waits until the pacer (a fleet's rate limit), if any, lets the next attempt go.
    async fn wait_turn(&self) {
        let Some(pacer) = &self.pacer else {
            return;
        };
        while let Some(wait) = pacer.turn() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Tells the pacer, if any, what Wix answered; whether it wants a 429 tried again.
    fn paced_retry(&self, r: &Response) -> bool {
        let Some(pacer) = &self.pacer else {
            return false;
        };
        let retry_after = r
            .header("retry-after")
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs);
        pacer.answered(r.status, r.header("x-wix-request-id"), retry_after) && r.status == 429
    }

    /// One try.
    async fn attempt(&self, request: &Request) -> Result<Response, Failed> {
        let mut builder = self.http.request(request.method.0.clone(), &request.url);
        if let Some(token) = &request.auth {
            builder = builder.header("authorization", token.expose());
        }
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some((content_type, body)) = &request.body {
            builder = builder
                .header("content-type", content_type)
                .body(body.expose().to_string());
        }
        let describe = |e: reqwest::Error| -> Failed {
            // The root cause, without reqwest's wrapping (which repeats the URL).
            let mut root: &dyn std::error::Error = &e;
            while let Some(next) = root.source() {
                root = next;
            }
            if e.is_connect() {
                Failed::Network(format!("connection failed ({root})"), false)
            } else if e.is_timeout() {
                let why = format!("no answer within {} s", self.timeout.as_secs_f64());
                Failed::Network(why, true)
            } else {
                Failed::Network(format!("connection dropped ({root})"), true)
            }
        };
        let response = builder.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // Bounded: an answer is held in memory whole.
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Failed::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

impl WixClient {
    /// Wix's clock: the `Date` header of its answer to an empty Token Info request (any
    /// status will do; no credential is sent). `None` when the answer has no usable `Date`.
    pub(crate) fn server_date(&self) -> Result<Option<std::time::SystemTime>> {
        let request =
            Request::post_json(self.url("oauth2/token-info"), &serde_json::json!({}), true);
        let response = self.send(&request)?;
        Ok(response
            .header("date")
            .and_then(|d| httpdate::parse_http_date(d.trim()).ok()))
    }
}

fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF * 2u32.pow(attempt - 1)
}

fn retry_after(response: &Response) -> Option<Duration> {
    let seconds: u64 = response.header("retry-after")?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_summary_prefers_wix_message_and_names_the_request() {
        let r = Response {
            status: 400,
            headers: vec![("x-wix-request-id".into(), "abc123".into())],
            body: br#"{"message":"bad instance","details":{}}"#.to_vec(),
        };
        assert_eq!(
            r.error_summary(),
            "HTTP 400, request id abc123: bad instance"
        );
        let r = Response {
            status: 503,
            headers: vec![],
            body: vec![],
        };
        assert_eq!(r.error_summary(), "HTTP 503");
        let r = Response {
            status: 400,
            headers: vec![],
            body: br#"{"message":"evil\u001b[2Jtext"}"#.to_vec(),
        };
        assert_eq!(r.error_summary(), "HTTP 400: evil\\u{1b}[2Jtext");
    }

    #[test]
    fn retry_after_is_capped() {
        let r = Response {
            status: 429,
            headers: vec![("Retry-After".into(), "120".into())],
            body: vec![],
        };
        assert_eq!(retry_after(&r), Some(MAX_RETRY_AFTER));
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
    }

    #[test]
    fn methods_and_headers() {
        assert_eq!(Method::parse("patch").unwrap().to_string(), "PATCH");
        assert!(Method::parse("BAD METHOD").is_none());
        assert!(valid_header("X-A", "b c"));
        assert!(!valid_header("X(1)", "v"));
        assert!(!valid_header("X-A", "a\u{1}b"));
    }
}
