//! The Wix REST client: token endpoints and authenticated calls, with the contract's
//! timeouts, retries and failure classification. No CLI code lives here.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use url::{Host, Url};

use crate::error::{Error, Result};
use crate::secret::Secret;

pub const DEFAULT_API_BASE: &str = "https://www.wixapis.com";
pub const DEFAULT_INSTALLER_BASE: &str = "https://www.wix.com";
/// Client-credentials tokens live 4 hours; Wix may omit `expires_in`.
pub const BASIC_TOKEN_LIFETIME: u64 = 14_400;
/// Legacy (`oauth/access`) tokens live 5 minutes and come without `expires_in`.
pub const ADVANCED_TOKEN_LIFETIME: u64 = 300;

const ATTEMPTS: u32 = 3;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// A base URL from `var` (or `default`): `https://`, or `http://` on a loopback host only,
/// so secrets never cross a network in clear text.
pub fn base_url(var: &str, default: &str) -> Result<Url> {
    let raw = std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    let text = raw.as_deref().unwrap_or(default).trim();
    let url = Url::parse(text)
        .map_err(|e| Error::usage(format!("{var}={text:?} is not a valid URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        _ => {
            return Err(Error::usage(format!(
                "{var}={text:?} is refused: only https:// URLs, or http:// on a loopback address (127.0.0.1, ::1, localhost), are allowed so secrets never travel in clear text"
            )))
        }
    }
    Ok(url)
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `base` + `/path`, keeping any path prefix the base has.
pub fn join(base: &Url, path: &str) -> String {
    format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// What a token endpoint gave us.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub token_type: String,
    pub expires_in: u64,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    refresh_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

/// A finished HTTP exchange (any status).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// Wix's error `message` (or an OAuth `error_description`/`error`), else the status.
    pub fn error_summary(&self) -> String {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&self.body).ok();
        let text = parsed.as_ref().and_then(|v| {
            ["message", "error_description", "errorDescription", "error"]
                .iter()
                .find_map(|k| v.get(k).and_then(|m| m.as_str()).filter(|m| !m.is_empty()))
                .map(str::to_string)
        });
        let status = format!("HTTP {}", self.status);
        match text {
            Some(m) => format!("{status}: {}", truncate(&m, 300)),
            None => status,
        }
    }
    /// A failed authenticated call as one line with the contract's exit code.
    pub fn failure(&self, what: &str) -> Error {
        let summary = self.error_summary();
        match self.status {
            401 => Error::rejected(format!(
                "{what}: Wix rejected the token ({summary}): run `wixauth login` again"
            )),
            403 => Error::failure(format!(
                "{what}: Wix refused ({summary}): the app needs the permission for this call (for app management, \"Manage Your App\") in its dashboard"
            )),
            429 | 500..=599 => Error::unavailable(format!(
                "{what}: Wix failed ({summary}) after retries; try again later"
            )),
            _ => Error::failure(format!("{what}: Wix answered {summary}")),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// One request to send; rebuilt for every attempt.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The access token for `Authorization` (raw, as Wix documents).
    pub auth: Option<Secret>,
    /// Sent as the body; may hold secrets, so never logged.
    pub body: Option<(String, Secret)>,
    /// Safe to send twice: then 429/5xx answers, timeouts and dropped connections are
    /// retried too. A connection that never opened is retried for every request.
    pub idempotent: bool,
}

pub struct WixClient {
    pub api: Url,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    timeout: Duration,
}

impl WixClient {
    pub fn new(api: Url) -> Result<WixClient> {
        let timeout = http_timeout()?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("wixauth/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could carry a credential-bearing request elsewhere.
            .redirect(reqwest::redirect::Policy::none())
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
        })
    }

    /// Create Access Token (client credentials): app id + secret + instance → 4-hour token.
    pub fn create_access_token(
        &self,
        app_id: &str,
        secret: &Secret,
        instance_id: &str,
    ) -> Result<TokenGrant> {
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": secret.expose(),
            "instance_id": instance_id,
        });
        self.token_request("oauth2/token", body, BASIC_TOKEN_LIFETIME)
            .map_err(|e| e.context("creating an access token"))
    }

    /// Request an Access Token: the authorization code from the installer redirect.
    pub fn exchange_code(
        &self,
        app_id: &str,
        secret: &Secret,
        code: &Secret,
    ) -> Result<TokenGrant> {
        let body = json!({
            "grant_type": "authorization_code",
            "client_id": app_id,
            "client_secret": secret.expose(),
            "code": code.expose(),
        });
        self.token_request("oauth/access", body, ADVANCED_TOKEN_LIFETIME)
            .map_err(|e| e.context("exchanging the authorization code"))
    }

    /// Refresh an Access Token with the stored refresh token.
    pub fn refresh_access_token(
        &self,
        app_id: &str,
        secret: &Secret,
        refresh: &Secret,
    ) -> Result<TokenGrant> {
        let body = json!({
            "grant_type": "refresh_token",
            "client_id": app_id,
            "client_secret": secret.expose(),
            "refresh_token": refresh.expose(),
        });
        self.token_request("oauth/access", body, ADVANCED_TOKEN_LIFETIME)
            .map_err(|e| e.context("refreshing the access token"))
    }

    fn token_request(
        &self,
        path: &str,
        body: serde_json::Value,
        default_lifetime: u64,
    ) -> Result<TokenGrant> {
        let response = self.send(&Request {
            method: reqwest::Method::POST,
            url: join(&self.api, path),
            headers: vec![],
            auth: None,
            body: Some(("application/json".into(), Secret::new(body.to_string()))),
            idempotent: true,
        })?;
        if !response.is_success() {
            let summary = response.error_summary();
            return Err(if response.status == 429 || response.status >= 500 {
                Error::unavailable(format!(
                    "Wix failed ({summary}) after {ATTEMPTS} attempts; try again later"
                ))
            } else {
                Error::rejected(format!(
                    "Wix rejected the credentials ({summary}); check the app id, secret and instance, then run `wixauth login` again"
                ))
            });
        }
        parse_grant(&response.body, default_lifetime)
    }

    /// Sends a request with bounded retries (see [`Request::idempotent`]).
    /// Returns the last answer, whatever its status.
    pub fn send(&self, request: &Request) -> Result<Response> {
        self.runtime.block_on(self.send_async(request))
    }

    async fn send_async(&self, request: &Request) -> Result<Response> {
        let shown = Url::parse(&request.url)
            .map(|u| crate::log::redact_url(&u))
            .unwrap_or_default();
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let outcome = self.attempt(request).await;
            let elapsed = started.elapsed();
            let wait = match outcome {
                Ok(r) => {
                    let request_id = r
                        .header("x-wix-request-id")
                        .map(|id| format!(" (x-wix-request-id {id})"))
                        .unwrap_or_default();
                    crate::debug!(
                        "{} {shown} → {} in {} ms{request_id} (attempt {attempt}/{ATTEMPTS})",
                        request.method,
                        r.status,
                        elapsed.as_millis()
                    );
                    let retryable = request.idempotent && (r.status == 429 || r.status >= 500);
                    if !retryable || attempt == ATTEMPTS {
                        return Ok(r);
                    }
                    retry_after(&r).unwrap_or_else(|| backoff(attempt))
                }
                Err((why, sent)) => {
                    crate::debug!(
                        "{} {shown} failed after {} ms: {why} (attempt {attempt}/{ATTEMPTS})",
                        request.method,
                        elapsed.as_millis()
                    );
                    if attempt == ATTEMPTS || (sent && !request.idempotent) {
                        return Err(Error::unavailable(format!(
                            "cannot reach Wix at {shown}: {why} (after {attempt} attempts); check your network or proxy and try again"
                        )));
                    }
                    backoff(attempt)
                }
            };
            crate::debug!("retrying in {} ms", wait.as_millis());
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One try. On failure: why, and whether the request may have reached the server.
    async fn attempt(&self, request: &Request) -> Result<Response, (String, bool)> {
        let mut builder = self.http.request(request.method.clone(), &request.url);
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
        let describe = |e: reqwest::Error| -> (String, bool) {
            // The root cause, without reqwest's wrapping (which repeats the URL).
            let mut root: &dyn std::error::Error = &e;
            while let Some(next) = root.source() {
                root = next;
            }
            if e.is_connect() {
                (format!("connection failed ({root})"), false)
            } else if e.is_timeout() {
                (
                    format!("no answer within {} s", self.timeout.as_secs_f64()),
                    true,
                )
            } else {
                (format!("connection dropped ({root})"), true)
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
        let body = response.bytes().await.map_err(describe)?.to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn parse_grant(body: &[u8], default_lifetime: u64) -> Result<TokenGrant> {
    let malformed = |what: &str| {
        Error::unavailable(format!(
            "Wix answered with a malformed token response ({what}); try again later"
        ))
    };
    let parsed: TokenBody =
        serde_json::from_slice(body).map_err(|_| malformed("not the expected JSON"))?;
    let access = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| malformed("no access_token"))?;
    // Tolerate a number, a numeric string, or nothing at all.
    let expires_in = match parsed.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|&s| s > 0)
    .unwrap_or(default_lifetime);
    Ok(TokenGrant {
        access_token: Secret::new(access),
        refresh_token: parsed
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(Secret::new),
        token_type: parsed.token_type.unwrap_or_else(|| "Bearer".to_string()),
        expires_in,
    })
}

/// `WIXAUTH_HTTP_TIMEOUT` (seconds per attempt), or the default 15 s.
pub fn http_timeout() -> Result<Duration> {
    match std::env::var("WIXAUTH_HTTP_TIMEOUT") {
        Err(_) => Ok(DEFAULT_TIMEOUT),
        Ok(v) if v.trim().is_empty() => Ok(DEFAULT_TIMEOUT),
        Ok(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                Error::usage(format!(
                    "WIXAUTH_HTTP_TIMEOUT={v:?} is not a number of seconds between 0 and 3600"
                ))
            }),
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
    fn expires_in_is_tolerant() {
        let g = parse_grant(
            br#"{"access_token":"t","token_type":"Bearer","expires_in":14400}"#,
            1,
        )
        .unwrap();
        assert_eq!(g.expires_in, 14400);
        let g = parse_grant(br#"{"access_token":"t"}"#, 300).unwrap();
        assert_eq!((g.expires_in, g.token_type.as_str()), (300, "Bearer"));
        let g = parse_grant(br#"{"access_token":"t","expires_in":"60"}"#, 300).unwrap();
        assert_eq!(g.expires_in, 60);
        let g = parse_grant(br#"{"access_token":"t","refresh_token":null}"#, 300).unwrap();
        assert!(g.refresh_token.is_none());
    }

    #[test]
    fn malformed_grants_are_exit_4() {
        for body in [
            &b"not json"[..],
            br#"{"token":"x"}"#,
            br#"{"access_token":""}"#,
        ] {
            let e = parse_grant(body, 300).unwrap_err();
            assert_eq!(e.exit, crate::error::Exit::Unavailable);
        }
    }

    #[test]
    fn error_summary_prefers_wix_message() {
        let r = Response {
            status: 400,
            headers: vec![],
            body: br#"{"message":"bad instance","details":{}}"#.to_vec(),
        };
        assert_eq!(r.error_summary(), "HTTP 400: bad instance");
        let r = Response {
            status: 503,
            headers: vec![],
            body: vec![],
        };
        assert_eq!(r.error_summary(), "HTTP 503");
    }

    #[test]
    fn loopback_rule() {
        for ok in [
            "https://www.wixapis.com",
            "http://127.0.0.1:1",
            "http://127.9.9.9",
            "http://[::1]:80",
            "http://LOCALHOST:5",
        ] {
            assert!(
                Url::parse(ok)
                    .map(|u| u.scheme() == "https" || is_loopback(&u))
                    .unwrap(),
                "{ok}"
            );
        }
        for bad in [
            "http://example.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "http://[::2]",
        ] {
            assert!(!is_loopback(&Url::parse(bad).unwrap()), "{bad}");
        }
    }

    #[test]
    fn join_keeps_prefix() {
        let base = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(
            join(&base, "/oauth2/token"),
            "http://127.0.0.1:9/prefix/oauth2/token"
        );
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
}
