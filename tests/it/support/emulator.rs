//! A Wix emulator for tests and benchmarks: real HTTP on 127.0.0.1 (random port),
//! the endpoints wixauth talks to, request counters and injectable faults.
//!
//! It checks requests the way Wix documents them (exact JSON keys, content type,
//! registered redirect URLs, single-use codes that expire after 10 minutes) so that a
//! wixauth that drifts from the contract fails here.
#![allow(dead_code)]
// Error replies are whole HTTP responses built once per request; boxing them buys nothing.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// Fleet runs: many installs, a per-instance rate limit, an answer delay (tests and benches).
#[path = "emulator_fleet.rs"]
mod fleet;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

// Headless admin, API keys and Wix-shaped refusals (issue 18).
#[path = "emulator_ids.rs"]
mod ids;
#[allow(unused_imports)]
pub use ids::PRODUCTS_SCOPE;

/// A failure to inject into the next request to a path.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and an empty body (Wix's 5xx have none).
    Status(u16),
    /// 429 with a `Retry-After` header.
    TooManyRequests { retry_after_secs: u64 },
    /// 200 with a body that is not JSON.
    Malformed,
    /// Wait this long before handling the request normally.
    Slow(Duration),
    /// Close the connection without answering.
    Drop,
    /// Wait until the test calls [`Hold::release`], then handle the request normally: the
    /// test knows the request is in flight (see [`Hold::wait_arrived`]) for as long as it needs.
    Hold(Hold),
    /// 302 to this path of the emulator (a redirect wixauth must not follow).
    Redirect(String),
    /// A Wix-style error with this status and message.
    Message(u16, String),
    /// This status and exactly this body, as text/plain.
    Body(u16, String),
}

/// A gate for [`Fault::Hold`]: the emulator says when a request reached it and keeps it
/// waiting until the test releases it, so tests synchronise on events instead of sleeping.
#[derive(Clone)]
pub struct Hold {
    arrived: Arc<(Mutex<usize>, std::sync::Condvar)>,
    released: Arc<tokio::sync::watch::Sender<bool>>,
}

impl std::fmt::Debug for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hold")
    }
}

impl Default for Hold {
    fn default() -> Self {
        Self::new()
    }
}

impl Hold {
    pub fn new() -> Hold {
        Hold {
            arrived: Arc::new((Mutex::new(0), std::sync::Condvar::new())),
            released: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    /// Blocks (bounded) until a held request has reached the emulator; panics otherwise.
    pub fn wait_arrived(&self) {
        let (count, cond) = &*self.arrived;
        let guard = count.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, timeout) = cond
            .wait_timeout_while(guard, Duration::from_secs(20), |n| *n == 0)
            .unwrap_or_else(|p| p.into_inner());
        assert!(
            !timeout.timed_out() || *guard > 0,
            "the held request never reached the emulator"
        );
    }

    /// Lets every held request (and any later one) go on.
    pub fn release(&self) {
        self.released.send_replace(true);
    }

    async fn hold(&self) {
        let mut released = self.released.subscribe();
        {
            let (count, cond) = &*self.arrived;
            *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            cond.notify_all();
        }
        let _ = released.wait_for(|r| *r).await;
    }
}

#[derive(Debug, Clone)]
struct App {
    secret: String,
    redirect_urls: Vec<String>,
}

#[derive(Debug, Clone)]
struct Code {
    app_id: String,
    instance_id: String,
    issued_at: u64,
    used: bool,
}

#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub app_id: String,
    pub instance_id: String,
    pub iat: u64,
    pub exp: u64,
}

/// A request as the emulator saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    apps: HashMap<String, App>,
    installed: HashSet<(String, String)>,
    codes: HashMap<String, Code>,
    refresh_tokens: HashMap<String, (String, String)>,
    tokens: HashMap<String, IssuedToken>,
    faults: HashMap<String, VecDeque<Fault>>,
    counts: HashMap<String, usize>,
    seen: Vec<Seen>,
    closed_windows: Vec<String>,
    bi_events: Vec<Value>,
    clock_offset: u64,
    serial: u64,
    next_instance: Option<String>,
    /// The `instanceId` the next installer redirect claims, whatever its code is for.
    callback_instance: Option<String>,
    omit_expires_in: bool,
    /// Client credentials answer with this `expires_in` instead of 14400.
    expires_in: Option<u64>,
    /// Token Info sends this `exp` (as Wix does, a string) instead of the real one.
    token_info_exp: Option<String>,
    /// Get App Instance's `siteDisplayName`.
    site_name: Option<String>,
    rotate_refresh_tokens: bool,
    deny_instance_read: bool,
    /// Per instance, the token `/unauthorized-once` refuses (the first one it saw).
    unauthorized_once: HashMap<String, String>,
    headless: Headless,
    ids: ids::Ids,
    fleet: fleet::FleetState,
}

/// Wix Headless: OAuth clients, visitors and members, the member login page.
#[derive(Default)]
struct Headless {
    /// Client id → its allowed authorization redirect URIs.
    clients: HashMap<String, Vec<String>>,
    /// Refresh token → (client id, subject type, subject id).
    refresh: HashMap<String, (String, String, String)>,
    /// Access token → (client id, subject type, subject id).
    tokens: HashMap<String, (String, String, String)>,
    /// Redirect session id → its auth request.
    sessions: HashMap<String, Value>,
    /// Code → (client, redirect URI, challenge, issued at, used).
    codes: HashMap<String, (String, String, String, u64, bool)>,
    deny_login: bool,
    malformed_session: bool,
    /// Codes remember a challenge that no verifier matches (a PKCE mismatch).
    corrupt_challenge: bool,
    /// The refresh grant answers without `refresh_token` (as Wix's SDK assumes it may).
    refresh_without_refresh_token: bool,
    member_email: String,
}

/// A running emulator; it stops when the test process ends.
#[derive(Clone)]
pub struct Emulator {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Emulator {
    /// Starts on 127.0.0.1 with a random port, serving from a background thread.
    pub fn start() -> Emulator {
        Self::start_on("127.0.0.1:0")
    }

    pub fn start_on(bind: &str) -> Emulator {
        let listener = std::net::TcpListener::bind(bind).expect("bind emulator");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let state = shared.clone();
                    tokio::spawn(async move {
                        let service =
                            hyper::service::service_fn(move |req| handle(state.clone(), req));
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    });
                }
            });
        });
        Emulator { addr, state }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers an app with its secret and the redirect URLs its dashboard lists.
    pub fn register_app(&self, app_id: &str, secret: &str, redirect_urls: &[&str]) {
        self.lock().apps.insert(
            app_id.into(),
            App {
                secret: secret.into(),
                redirect_urls: redirect_urls.iter().map(|s| s.to_string()).collect(),
            },
        );
    }

    /// Marks the app as installed on an instance (a site).
    pub fn install(&self, app_id: &str, instance_id: &str) {
        self.lock()
            .installed
            .insert((app_id.into(), instance_id.into()));
    }

    pub fn uninstall(&self, app_id: &str, instance_id: &str) {
        let mut s = self.lock();
        s.installed
            .remove(&(app_id.to_string(), instance_id.to_string()));
        s.refresh_tokens
            .retain(|_, (a, i)| !(a == app_id && i == instance_id));
    }

    /// The instance id the next installer run creates.
    pub fn set_next_instance(&self, instance_id: &str) {
        self.lock().next_instance = Some(instance_id.into());
    }

    /// Makes the next installer redirect carry `instance_id` while its code is for the real
    /// instance (a steered login).
    pub fn set_callback_instance(&self, instance_id: &str) {
        self.lock().callback_instance = Some(instance_id.into());
    }

    pub fn push_fault(&self, path: &str, fault: Fault) {
        self.lock()
            .faults
            .entry(path.into())
            .or_default()
            .push_back(fault);
    }

    /// Requests seen for a path (faulted ones included).
    pub fn count(&self, path: &str) -> usize {
        self.lock().counts.get(path).copied().unwrap_or(0)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// Access tokens Wix's close-window page received.
    pub fn closed_windows(&self) -> Vec<String> {
        self.lock().closed_windows.clone()
    }

    pub fn bi_events(&self) -> Vec<Value> {
        self.lock().bi_events.clone()
    }

    pub fn token_info(&self, token: &str) -> Option<IssuedToken> {
        self.lock().tokens.get(token).cloned()
    }

    pub fn refresh_tokens(&self) -> Vec<String> {
        let s = self.lock();
        s.refresh_tokens
            .keys()
            .chain(s.headless.refresh.keys())
            .cloned()
            .collect()
    }

    /// Registers a Wix Headless OAuth client with its allowed authorization redirect URIs.
    pub fn register_headless(&self, client_id: &str, redirect_uris: &[&str]) {
        let mut s = self.lock();
        s.headless.clients.insert(
            client_id.into(),
            redirect_uris.iter().map(|u| u.to_string()).collect(),
        );
        s.headless.member_email = "member@example.com".into();
    }

    /// Wix's login page sends the browser back with `error=access_denied`.
    pub fn deny_member_login(&self, on: bool) {
        self.lock().headless.deny_login = on;
    }

    /// Codes are issued for a challenge other than the one sent, so the exchange's verifier
    /// fails Wix's PKCE check.
    pub fn corrupt_challenges(&self, on: bool) {
        self.lock().headless.corrupt_challenge = on;
    }

    /// The headless refresh grant answers without a `refresh_token`.
    pub fn headless_refresh_without_refresh_token(&self, on: bool) {
        self.lock().headless.refresh_without_refresh_token = on;
    }

    /// The redirect session answers 200 without `fullUrl`.
    pub fn malformed_redirect_session(&self, on: bool) {
        self.lock().headless.malformed_session = on;
    }

    /// Forgets a headless refresh token, as a revocation would.
    pub fn revoke_headless_refresh(&self, token: &str) {
        self.lock().headless.refresh.remove(token);
    }

    /// Visitor/member refresh tokens issued so far, and the subject each stands for.
    pub fn headless_subjects(&self) -> Vec<(String, String)> {
        self.lock()
            .headless
            .refresh
            .values()
            .map(|(_, t, id)| (t.clone(), id.clone()))
            .collect()
    }

    /// Moves the emulator's clock forward (code and token expiry).
    pub fn advance_clock(&self, secs: u64) {
        self.lock().clock_offset += secs;
    }

    /// Answers client-credentials requests without `expires_in`, as one report says Wix does.
    pub fn omit_expires_in(&self, on: bool) {
        self.lock().omit_expires_in = on;
    }

    /// Client credentials answer with this `expires_in` (a hostile or broken Wix).
    pub fn set_expires_in(&self, seconds: u64) {
        self.lock().expires_in = Some(seconds);
    }

    /// Token Info answers with this `exp`.
    pub fn set_token_info_exp(&self, exp: &str) {
        self.lock().token_info_exp = Some(exp.into());
    }

    /// Get App Instance names the site this way.
    pub fn set_site_name(&self, name: &str) {
        self.lock().site_name = Some(name.into());
    }

    /// Makes the refresh grant return a new refresh token (Wix does not; other servers do).
    pub fn rotate_refresh_tokens(&self, on: bool) {
        self.lock().rotate_refresh_tokens = on;
    }

    /// Get App Instance answers 403, as for an app without "Manage Your App".
    pub fn deny_instance_read(&self, on: bool) {
        self.lock().deny_instance_read = on;
    }

    /// Issues a refresh token for an install, as a consent would (for CI-style tests).
    pub fn issue_refresh_token(&self, app_id: &str, instance_id: &str) -> String {
        let mut s = self.lock();
        let token = unique(&mut s, "Rq");
        s.installed.insert((app_id.into(), instance_id.into()));
        s.refresh_tokens
            .insert(token.clone(), (app_id.into(), instance_id.into()));
        token
    }

    /// Issues a code for an install as the installer would (for tests that skip the browser).
    pub fn issue_code(&self, app_id: &str, instance_id: &str) -> String {
        let mut s = self.lock();
        issue_code(&mut s, app_id, instance_id)
    }
}

fn now(s: &State) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + s.clock_offset
}

/// A fresh value. Secrets get a prefix of their own (`Rq`, `Hq`): the tests' leak check looks
/// for every 8-character piece of a secret, which a common word would match by accident.
fn unique(s: &mut State, prefix: &str) -> String {
    s.serial += 1;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos:x}", s.serial)
}

fn issue_code(s: &mut State, app_id: &str, instance_id: &str) -> String {
    let code = unique(s, "code");
    let issued_at = now(s);
    s.codes.insert(
        code.clone(),
        Code {
            app_id: app_id.into(),
            instance_id: instance_id.into(),
            issued_at,
            used: false,
        },
    );
    code
}

fn issue_token(
    s: &mut State,
    prefix: &str,
    app_id: &str,
    instance_id: &str,
    lifetime: u64,
) -> String {
    let token = unique(s, prefix);
    let iat = now(s);
    s.tokens.insert(
        token.clone(),
        IssuedToken {
            app_id: app_id.into(),
            instance_id: instance_id.into(),
            iat,
            exp: iat + lifetime,
        },
    );
    token
}

type Reply = Response<Full<Bytes>>;

fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .header("x-wix-request-id", "emulator")
        .body(Full::new(body.into()))
        .expect("response")
}

fn json_reply(status: u16, value: Value) -> Reply {
    reply(status, "application/json", value.to_string())
}

fn wix_error(status: u16, message: &str) -> Reply {
    json_reply(
        status,
        json!({"message": message, "details": {"applicationError": {"code": "UNAUTHENTICATED", "description": message}}}),
    )
}

fn redirect(location: &str) -> Reply {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", location)
        .body(Full::new(Bytes::new()))
        .expect("response")
}

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let seen = Seen {
        method: method.to_string(),
        path: path.clone(),
        query,
        headers,
        body,
        at: std::time::Instant::now(),
    };
    if let Some(answer) = fleet::early(&state, &seen).await {
        return Ok(answer);
    }

    let (fault, limited) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        *s.counts.entry(path.clone()).or_default() += 1;
        s.seen.push(seen.clone());
        let limited = fleet::limited(&mut s, &seen);
        (s.faults.get_mut(&path).and_then(|q| q.pop_front()), limited)
    };
    if let Some(answer) = limited {
        return Ok(answer);
    }
    match fault {
        Some(Fault::Status(code)) => return Ok(reply(code, "application/json", "")),
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut r = wix_error(429, "too many requests");
            r.headers_mut().insert(
                "retry-after",
                retry_after_secs.to_string().parse().expect("header"),
            );
            return Ok(r);
        }
        Some(Fault::Malformed) => {
            return Ok(reply(200, "application/json", "{\"access_token\": \"trunc"))
        }
        Some(Fault::Message(status, message)) => return Ok(wix_error(status, &message)),
        Some(Fault::Body(status, body)) => return Ok(reply(status, "text/plain", body)),
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::Drop) => {
            // An error from the service makes hyper close the connection unanswered.
            return Err(std::io::Error::other("dropping the connection on purpose"));
        }
        Some(Fault::Hold(hold)) => hold.hold().await,
        Some(Fault::Redirect(to)) => {
            let host = seen.header("host").unwrap_or("127.0.0.1").to_string();
            return Ok(redirect(&format!("http://{host}{to}")));
        }
        None => {}
    }
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    Ok(route(&mut s, &method, &path, &seen))
}

fn query_map(query: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Parses a JSON body with exactly these keys, as Wix's documented requests have.
fn exact_json(seen: &Seen, keys: &[&str]) -> Result<serde_json::Map<String, Value>, Reply> {
    let ct = seen.header("content-type").unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(wix_error(415, "content type must be application/json"));
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&seen.body) else {
        return Err(wix_error(400, "body is not a JSON object"));
    };
    let mut got: Vec<&str> = map.keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = keys.to_vec();
    want.sort_unstable();
    if got != want {
        return Err(wix_error(
            400,
            &format!("expected keys {want:?}, got {got:?}"),
        ));
    }
    if map.values().any(|v| !v.is_string()) {
        return Err(wix_error(400, "every value must be a string"));
    }
    Ok(map)
}

fn field<'a>(map: &'a serde_json::Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Wix's words for the three ways client credentials fail (as the issue quotes them; the exact
/// wording is UNCONFIRMED): the id, then the secret.
fn check_client(s: &State, map: &serde_json::Map<String, Value>) -> Result<(), Reply> {
    match s.apps.get(field(map, "client_id")) {
        Some(app) if app.secret == field(map, "client_secret") => Ok(()),
        Some(_) => Err(wix_error(401, "Invalid client credentials")),
        None => Err(wix_error(401, "Invalid client")),
    }
}

/// The instance a request's `Authorization` token belongs to.
fn authorise(s: &State, seen: &Seen) -> Result<(String, IssuedToken), Reply> {
    let raw = seen.header("authorization").unwrap_or("");
    let token = raw
        .strip_prefix("Bearer ")
        .unwrap_or(raw)
        .trim()
        .to_string();
    match s.tokens.get(&token) {
        Some(t) if t.exp > now(s) => Ok((token, t.clone())),
        Some(_) => Err(json_reply(
            401,
            json!({"message": "token expired", "errorDescription": "invalid_token"}),
        )),
        None => Err(json_reply(
            401,
            json!({"message": "not authenticated", "errorDescription": "invalid_token"}),
        )),
    }
}

fn route(s: &mut State, method: &Method, path: &str, seen: &Seen) -> Reply {
    if let Some(answer) = ids::route(s, path, seen) {
        return answer.unwrap_or_else(|e| e);
    }
    let result = match (method, path) {
        (&Method::POST, "/oauth2/token") if seen.body.contains("\"grantType\"") => {
            headless_token(s, seen)
        }
        (&Method::POST, "/oauth2/token") if ids::is_admin_grant(seen) => ids::admin_grant(s, seen),
        (&Method::POST, "/oauth2/token") => client_credentials(s, seen),
        (&Method::POST, "/_api/redirects-api/v1/redirect-session") => redirect_session(s, seen),
        (&Method::GET, "/headless-login") => headless_login_page(s, seen),
        (&Method::GET, "/members/v1/members/my") => my_member(s, seen),
        (&Method::POST, "/oauth/access") => oauth_access(s, seen),
        (&Method::POST, "/oauth2/token-info") => token_info(s, seen),
        (&Method::GET, "/installer/install") => installer(s, seen),
        (&Method::GET, "/app-installer") => app_installer(s, seen),
        (&Method::GET, "/installer/close-window") => {
            let q = query_map(&seen.query);
            s.closed_windows
                .push(q.get("access_token").cloned().unwrap_or_default());
            Ok(reply(
                200,
                "text/html",
                "<html><body>Wix closes this window.</body></html>",
            ))
        }
        (&Method::POST, "/apps/v1/bi-event") => bi_event(s, seen),
        (&Method::GET, "/apps/v1/instance") => app_instance(s, seen),
        (_, "/echo") => authorise(s, seen).map(|_| {
            json_reply(
                200,
                json!({"method": seen.method, "query": seen.query, "body": seen.body,
                "content_type": seen.header("content-type"), "x_custom": seen.header("x-custom")}),
            )
        }),
        // Test-only: how many requests a path has seen, for clients outside this process (the
        // npm tests' Node code, the standalone example).
        (&Method::GET, "/__count") => {
            let q = query_map(&seen.query);
            let path = q.get("path").cloned().unwrap_or_default();
            Ok(json_reply(
                200,
                json!({"path": path, "count": s.counts.get(&path).copied().unwrap_or(0)}),
            ))
        }
        (_, "/status/404") => Ok(json_reply(404, json!({"message": "no such thing"}))),
        (_, "/status/500") => Ok(reply(500, "application/json", "")),
        // The first token an instance sends here is refused, then and ever after, as if Wix
        // had revoked it; any newer token of the instance is accepted.
        (_, "/unauthorized-once") => authorise(s, seen).map(|(token, issued)| {
            let refused = s
                .unauthorized_once
                .entry(issued.instance_id)
                .or_insert_with(|| token.clone());
            if *refused == token {
                json_reply(401, json!({"message": "token expired"}))
            } else {
                json_reply(200, json!({"ok": true}))
            }
        }),
        _ => Ok(json_reply(
            404,
            json!({"message": format!("emulator has no {method} {path}")}),
        )),
    };
    result.unwrap_or_else(|e| e)
}

fn client_credentials(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let map = exact_json(
        seen,
        &["grant_type", "client_id", "client_secret", "instance_id"],
    )?;
    if field(&map, "grant_type") != "client_credentials" {
        return Err(wix_error(400, "unsupported grant_type"));
    }
    check_client(s, &map)?;
    let (app, instance) = (
        field(&map, "client_id").to_string(),
        field(&map, "instance_id").to_string(),
    );
    if !s.installed.contains(&(app.clone(), instance.clone())) {
        return Err(wix_error(
            400,
            "App instance not found: the app is not installed on this instance",
        ));
    }
    let token = issue_token(s, "OauthNG.JWS.cc", &app, &instance, 14_400);
    Ok(if s.omit_expires_in {
        json_reply(200, json!({"access_token": token, "token_type": "Bearer"}))
    } else {
        json_reply(
            200,
            json!({"access_token": token, "token_type": "Bearer", "expires_in": s.expires_in.unwrap_or(14400)}),
        )
    })
}

fn oauth_access(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let grant = serde_json::from_str::<Value>(&seen.body)
        .ok()
        .and_then(|v| {
            v.get("grant_type")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    match grant.as_str() {
        "authorization_code" => {
            let map = exact_json(seen, &["grant_type", "client_id", "client_secret", "code"])?;
            check_client(s, &map)?;
            let now = now(s);
            let code = field(&map, "code").to_string();
            let info = match s.codes.get_mut(&code) {
                None => return Err(wix_error(400, "invalid authorization code")),
                Some(c) if c.used => return Err(wix_error(400, "authorization code already used")),
                Some(c) if now > c.issued_at + 600 => {
                    return Err(wix_error(400, "authorization code expired"))
                }
                Some(c) if c.app_id != field(&map, "client_id") => {
                    return Err(wix_error(400, "code belongs to another app"))
                }
                Some(c) => {
                    c.used = true;
                    c.clone()
                }
            };
            s.installed
                .insert((info.app_id.clone(), info.instance_id.clone()));
            let refresh = s
                .refresh_tokens
                .iter()
                .find(|(_, (a, i))| *a == info.app_id && *i == info.instance_id)
                .map(|(r, _)| r.clone())
                .unwrap_or_else(|| {
                    let r = unique(s, "Rq");
                    s.refresh_tokens
                        .insert(r.clone(), (info.app_id.clone(), info.instance_id.clone()));
                    r
                });
            let access = issue_token(s, "OauthNG.JWS.ac", &info.app_id, &info.instance_id, 300);
            Ok(json_reply(
                200,
                json!({"access_token": access, "refresh_token": refresh}),
            ))
        }
        "refresh_token" => {
            let map = exact_json(
                seen,
                &["grant_type", "client_id", "client_secret", "refresh_token"],
            )?;
            check_client(s, &map)?;
            let refresh = field(&map, "refresh_token").to_string();
            let Some((app, instance)) = s.refresh_tokens.get(&refresh).cloned() else {
                return Err(wix_error(400, "invalid refresh token"));
            };
            if app != field(&map, "client_id") {
                return Err(wix_error(400, "refresh token belongs to another app"));
            }
            let returned = if s.rotate_refresh_tokens {
                s.refresh_tokens.remove(&refresh);
                let next = unique(s, "Rq");
                s.refresh_tokens
                    .insert(next.clone(), (app.clone(), instance.clone()));
                next
            } else {
                refresh
            };
            let access = issue_token(s, "OauthNG.JWS.ar", &app, &instance, 300);
            Ok(json_reply(
                200,
                json!({"access_token": access, "refresh_token": returned}),
            ))
        }
        _ => Err(wix_error(400, "unsupported grant_type")),
    }
}

fn token_info(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let map = exact_json(seen, &["token"])?;
    if let Some((client, kind, subject)) = s.headless.tokens.get(field(&map, "token")).cloned() {
        let t = s.tokens.get(field(&map, "token")).cloned().expect("issued");
        return Ok(json_reply(
            200,
            json!({"active": t.exp > now(s), "subjectType": kind, "subjectId": subject,
                "exp": t.exp.to_string(), "iat": t.iat.to_string(), "clientId": client,
                "siteId": format!("site-of-{client}")}),
        ));
    }
    let Some(t) = s.tokens.get(field(&map, "token")).cloned() else {
        return Err(wix_error(400, "invalid token"));
    };
    // Wix's example encodes exp as a string and we send iat as a number: clients must take both.
    Ok(json_reply(
        200,
        json!({
            "active": t.exp > now(s),
            "subjectType": "APP",
            "subjectId": t.app_id,
            "exp": s.token_info_exp.clone().unwrap_or_else(|| t.exp.to_string()),
            "iat": t.iat,
            "clientId": t.app_id,
            "siteId": format!("site-of-{}", t.instance_id),
            "instanceId": t.instance_id,
        }),
    ))
}

fn installer(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let q = query_map(&seen.query);
    let app_id = q.get("appId").cloned().unwrap_or_default();
    let redirect_url = q.get("redirectUrl").cloned().unwrap_or_default();
    let Some(app) = s.apps.get(&app_id) else {
        return Err(reply(400, "text/html", "<p>Unknown app</p>"));
    };
    if !app.redirect_urls.contains(&redirect_url) {
        return Err(reply(
            400,
            "text/html",
            "<p>This redirect URL is not registered for the app</p>",
        ));
    }
    let instance = s
        .next_instance
        .take()
        .unwrap_or_else(|| unique(s, "instance"));
    let code = issue_code(s, &app_id, &instance);
    let claimed = s
        .callback_instance
        .take()
        .unwrap_or_else(|| instance.clone());
    let mut target =
        url::Url::parse(&redirect_url).map_err(|_| reply(400, "text/html", "bad redirectUrl"))?;
    {
        let mut pairs = target.query_pairs_mut();
        pairs
            .append_pair("code", &code)
            .append_pair("instanceId", &claimed);
        if let Some(state) = q.get("state") {
            pairs.append_pair("state", state);
        }
    }
    Ok(redirect(target.as_str()))
}

fn app_installer(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let q = query_map(&seen.query);
    let app_id = q.get("appId").cloned().unwrap_or_default();
    if !s.apps.contains_key(&app_id) {
        return Err(reply(400, "text/html", "<p>Unknown app</p>"));
    }
    let instance = s
        .next_instance
        .take()
        .unwrap_or_else(|| unique(s, "instance"));
    s.installed.insert((app_id.clone(), instance.clone()));
    let Some(post) = q.get("postInstallationUrl") else {
        return Ok(reply(200, "text/html", "<p>Installed</p>"));
    };
    let mut target =
        url::Url::parse(post).map_err(|_| reply(400, "text/html", "bad postInstallationUrl"))?;
    target
        .query_pairs_mut()
        .append_pair("appId", &app_id)
        .append_pair("tenantId", &format!("site-of-{instance}"))
        .append_pair("instanceId", &instance);
    Ok(redirect(target.as_str()))
}

fn bi_event(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let (_, token) = authorise(s, seen)?;
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&seen.body) else {
        return Err(wix_error(400, "body is not a JSON object"));
    };
    let allowed = ["eventName", "customEventName", "eventData"];
    if let Some(k) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(wix_error(400, &format!("unknown field {k}")));
    }
    let name = body.get("eventName").and_then(Value::as_str).unwrap_or("");
    const EVENTS: &[&str] = &[
        "APP_DASHBOARD_LOADED",
        "APP_FINISHED_CONFIGURATION",
        "APP_UPGRADED",
        "PRIMARY_ACTION_PERFORMED",
        "CUSTOM",
        "CHARGE",
        "FUNDS_RETURNED",
        "APP_DEPLOYED",
        "APP_SETUP_FINISHED",
    ];
    if !EVENTS.contains(&name) {
        return Err(wix_error(400, "invalid eventName"));
    }
    if name == "CUSTOM"
        && body
            .get("customEventName")
            .and_then(Value::as_str)
            .is_none_or(|n| n.len() < 2)
    {
        return Err(wix_error(400, "customEventName is required for CUSTOM"));
    }
    let mut event = Value::Object(body);
    event["instanceId"] = json!(token.instance_id);
    s.bi_events.push(event);
    Ok(json_reply(200, json!({})))
}

fn app_instance(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let (_, token) = authorise(s, seen)?;
    if s.deny_instance_read {
        return Err(json_reply(
            403,
            json!({"message": "missing permission SCOPE.DC.MANAGE-YOUR-APP"}),
        ));
    }
    Ok(json_reply(
        200,
        json!({
            "instance": {"instanceId": token.instance_id, "appName": "Emulated App", "appVersion": "1.2.3",
                "isFree": true, "permissions": ["WIX_DEVELOPERS.MANAGE_APP_INSTANCE"]},
            "site": {"siteId": format!("site-of-{}", token.instance_id), "siteDisplayName": s.site_name.clone().unwrap_or_else(|| "Emulated Site".into()),
                "url": "https://example.wixsite.com/emulated", "locale": "en"}
        }),
    ))
}

// ---------------------------------------------------------------- Wix Headless

fn headless_tokens(s: &mut State, client: &str, kind: &str, subject: &str) -> Value {
    let access = issue_token(
        s,
        "OauthNG.JWS.hl",
        client,
        &format!("site-of-{client}"),
        14_400,
    );
    s.headless
        .tokens
        .insert(access.clone(), (client.into(), kind.into(), subject.into()));
    let refresh = unique(s, "Hq");
    s.headless.refresh.insert(
        refresh.clone(),
        (client.into(), kind.into(), subject.into()),
    );
    json!({"access_token": access, "refresh_token": refresh, "expires_in": 14400})
}

fn headless_token(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let grant = serde_json::from_str::<Value>(&seen.body)
        .ok()
        .and_then(|v| {
            v.get("grantType")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    let keys: &[&str] = match grant.as_str() {
        "anonymous" => &["clientId", "grantType"],
        "refresh_token" => &["clientId", "grantType", "refreshToken"],
        "authorization_code" => &[
            "clientId",
            "grantType",
            "redirectUri",
            "code",
            "codeVerifier",
        ],
        _ => return Err(wix_error(400, "unsupported grantType")),
    };
    let map = exact_json(seen, keys)?;
    let client = field(&map, "clientId").to_string();
    if !s.headless.clients.contains_key(&client) {
        return Err(wix_error(400, "invalid clientId"));
    }
    match grant.as_str() {
        "anonymous" => {
            let visitor = unique(s, "visitor");
            Ok(json_reply(
                200,
                headless_tokens(s, &client, "VISITOR", &visitor),
            ))
        }
        "refresh_token" => {
            let refresh = field(&map, "refreshToken").to_string();
            let Some((owner, kind, subject)) = s.headless.refresh.get(&refresh).cloned() else {
                return Err(wix_error(400, "invalid refresh token"));
            };
            if owner != client {
                return Err(wix_error(400, "refresh token belongs to another client"));
            }
            let access = issue_token(
                s,
                "OauthNG.JWS.hr",
                &client,
                &format!("site-of-{client}"),
                14_400,
            );
            s.headless.tokens.insert(
                access.clone(),
                (client.clone(), kind.clone(), subject.clone()),
            );
            let returned = if s.rotate_refresh_tokens {
                s.headless.refresh.remove(&refresh);
                let next = unique(s, "Hq");
                s.headless
                    .refresh
                    .insert(next.clone(), (client, kind, subject));
                next
            } else {
                refresh
            };
            if s.headless.refresh_without_refresh_token {
                return Ok(json_reply(
                    200,
                    json!({"access_token": access, "expires_in": 14400}),
                ));
            }
            Ok(json_reply(
                200,
                json!({"access_token": access, "refresh_token": returned, "expires_in": 14400}),
            ))
        }
        _ => {
            let now = now(s);
            let code = field(&map, "code").to_string();
            let Some(info) = s.headless.codes.get_mut(&code) else {
                return Err(wix_error(400, "invalid authorization code"));
            };
            let (owner, redirect, challenge, issued, used) = info.clone();
            if used {
                return Err(wix_error(400, "authorization code already used"));
            }
            if now > issued + 600 {
                return Err(wix_error(400, "authorization code expired"));
            }
            if owner != client || redirect != field(&map, "redirectUri") {
                return Err(wix_error(
                    400,
                    "redirectUri or clientId does not match the code",
                ));
            }
            if pkce_s256(field(&map, "codeVerifier")) != challenge {
                return Err(wix_error(400, "invalid code_verifier"));
            }
            info.4 = true;
            let member = unique(s, "member");
            Ok(json_reply(
                200,
                headless_tokens(s, &client, "MEMBER", &member),
            ))
        }
    }
}

fn pkce_s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn redirect_session(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let (token, _) = authorise(s, seen)?;
    let Some((client, kind, _)) = s.headless.tokens.get(&token).cloned() else {
        return Err(wix_error(403, "a visitor token is required"));
    };
    if kind != "VISITOR" {
        return Err(wix_error(403, "a visitor token is required"));
    }
    let body: Value = serde_json::from_str(&seen.body).map_err(|_| wix_error(400, "not JSON"))?;
    let Some(auth) = body.get("auth").and_then(Value::as_object) else {
        return Err(wix_error(400, "auth is required"));
    };
    if auth.keys().any(|k| k != "authRequest" && k != "prompt")
        || body.as_object().map(|o| o.len()) != Some(1)
    {
        return Err(wix_error(400, "unexpected keys"));
    }
    if let Some(p) = auth.get("prompt") {
        if !matches!(p.as_str(), Some("login" | "none")) {
            return Err(wix_error(400, "invalid prompt"));
        }
    }
    let req = auth.get("authRequest").cloned().unwrap_or(Value::Null);
    let mut keys: Vec<&str> = req
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    let want = [
        "clientId",
        "codeChallenge",
        "codeChallengeMethod",
        "redirectUri",
        "responseMode",
        "responseType",
        "scope",
        "state",
    ];
    if keys != want {
        return Err(wix_error(400, &format!("authRequest keys {keys:?}")));
    }
    let f = |k: &str| req.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    if f("clientId") != client
        || f("codeChallengeMethod") != "S256"
        || f("responseMode") != "query"
        || f("responseType") != "code"
        || f("scope") != "offline_access"
        || f("codeChallenge").len() != 43
    {
        return Err(wix_error(400, "invalid authRequest"));
    }
    if s.headless.malformed_session {
        return Ok(json_reply(200, json!({"redirectSession": {"id": "x"}})));
    }
    let id = unique(s, "session");
    s.headless.sessions.insert(id.clone(), req);
    let host = seen.header("host").unwrap_or("127.0.0.1").to_string();
    Ok(json_reply(
        200,
        json!({"redirectSession": {"id": id, "fullUrl": format!("http://{host}/headless-login?session={id}")}}),
    ))
}

fn headless_login_page(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let q = query_map(&seen.query);
    let id = q.get("session").cloned().unwrap_or_default();
    let Some(req) = s.headless.sessions.get(&id).cloned() else {
        return Err(reply(
            404,
            "text/html",
            "<p>This login session has expired</p>",
        ));
    };
    let f = |k: &str| req.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (client, redirect_uri) = (f("clientId"), f("redirectUri"));
    let allowed = s.headless.clients.get(&client).cloned().unwrap_or_default();
    if !allowed.contains(&redirect_uri) {
        return Err(reply(
            400,
            "text/html",
            "<html><body><h1>Invalid redirect URI</h1></body></html>",
        ));
    }
    let mut target =
        url::Url::parse(&redirect_uri).map_err(|_| reply(400, "text/html", "bad redirect"))?;
    if s.headless.deny_login {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The member cancelled the login")
            .append_pair("state", &f("state"));
    } else {
        let code = unique(s, "hl-code");
        let issued = now(s);
        let challenge = if s.headless.corrupt_challenge {
            format!("x{}", f("codeChallenge"))
        } else {
            f("codeChallenge")
        };
        s.headless.codes.insert(
            code.clone(),
            (client, redirect_uri.clone(), challenge, issued, false),
        );
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &f("state"));
    }
    Ok(redirect(target.as_str()))
}

fn my_member(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let (token, _) = authorise(s, seen)?;
    let Some((_, kind, subject)) = s.headless.tokens.get(&token).cloned() else {
        return Err(wix_error(403, "a member token is required"));
    };
    if kind != "MEMBER" {
        return Err(wix_error(403, "a member token is required"));
    }
    let full = query_map(&seen.query).get("fieldsets").map(String::as_str) == Some("FULL");
    let mut member =
        json!({"id": subject, "profile": {"nickname": "Emulated Member"}, "status": "APPROVED"});
    if full {
        member["loginEmail"] = json!(s.headless.member_email);
    }
    Ok(json_reply(200, json!({"member": member})))
}
