//! What the fuzz targets (`fuzz/fuzz_targets/`, README "Fuzzing") call: thin pass-throughs to
//! the parsers of outside input, built only by `cargo fuzz` (`--cfg fuzzing`).
//!
//! They take bytes and text and answer with plain values (an error as its exit code and its
//! line), so that a target can check what comes out against the rule it stands for: no state
//! but the login's own accepted, no token sent off the API base, no raw control character in a
//! line for the terminal. None of them may panic, on any input: a panic is what the fuzzer
//! reports.

use std::path::Path;
use std::time::Duration;

use url::Url;

use crate::core::error::Error;

/// An error as the user sees it: its exit code and its one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub exit: u8,
    pub line: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            exit: e.exit as u8,
            line: e.message(),
        }
    }
}

pub type Outcome<T> = Result<T, Failure>;

/// Whether `line` may be printed on a terminal as it is: no C0/C1 control, DEL or bidi control
/// (what `core::text::printable` escapes).
pub fn terminal_safe(line: &str) -> bool {
    crate::core::text::printable(line, usize::MAX) == line
}

/// The most seconds a token is believed to live, whatever Wix says.
pub const MAX_TOKEN_LIFETIME: u64 = crate::settings::flow::MAX_TOKEN_LIFETIME;

// ---------------------------------------------------------------- webhooks

/// An app's webhook public key, parsed as `--public-key` takes it.
pub struct WebhookKey(crate::webhook::PublicKey);

impl WebhookKey {
    /// The key as stored (`-----BEGIN PUBLIC KEY-----` PEM).
    pub fn pem(&self) -> &str {
        &self.0.pem
    }
}

/// `--public-key TEXT`: PEM, base64 of a PEM, or base64 of the DER.
pub fn public_key(text: &str) -> Outcome<WebhookKey> {
    Ok(WebhookKey(crate::webhook::PublicKey::parse(
        text,
        "--public-key",
    )?))
}

/// A decoded event, as `webhook verify` prints it.
#[derive(Debug)]
pub struct Delivery {
    /// The contract's JSON line.
    pub json: String,
    /// The summary line `listen` prints on the terminal.
    pub summary: String,
    pub expires_at: Option<u64>,
}

fn delivery(event: crate::webhook::verify::Event) -> Delivery {
    Delivery {
        json: event.to_json().to_string(),
        summary: event.summary(),
        expires_at: event.expires_at,
    }
}

/// `webhook verify` of one request body against `key`.
pub fn webhook_verify(key: &WebhookKey, body: &[u8], ignore_expiry: bool) -> Outcome<Delivery> {
    Ok(delivery(crate::webhook::verify::verify(
        body,
        &key.0,
        ignore_expiry,
    )?))
}

/// The three-layer decode of claims that passed the signature check (`claims` as JSON text;
/// not JSON is a failure, as jsonwebtoken reports it).
pub fn webhook_decode(claims: &[u8]) -> Outcome<Delivery> {
    let claims: serde_json::Value = serde_json::from_slice(claims).map_err(|_| Failure {
        exit: 1,
        line: "the claims are not JSON".into(),
    })?;
    Ok(delivery(crate::webhook::verify::decode_event(&claims)?))
}

/// A delivery saved by `listen --save-deliveries`, as `trigger --replay` reads it back.
#[derive(Debug)]
pub struct Saved {
    pub headers: Vec<(String, String)>,
    /// The claims of its body, read without a signature check (they are re-signed), as JSON.
    pub claims: Option<String>,
}

/// A saved delivery file's text.
pub fn saved_delivery(text: &[u8]) -> Outcome<Saved> {
    use crate::webhook::{envelope, replay};
    let saved = replay::parse_saved(text, Path::new("saved.json"))?;
    Ok(Saved {
        headers: saved.headers,
        claims: envelope::claims_of_jwt(&saved.body).map(|c| c.to_string()),
    })
}

/// `webhook trigger --set KEY=VALUE...` over the JSON `payload` (not JSON: `{}`), the payload
/// after them as JSON.
pub fn trigger_set(payload: &[u8], assignments: &[String]) -> Outcome<String> {
    let mut payload = serde_json::from_slice(payload).unwrap_or_else(|_| serde_json::json!({}));
    for assignment in assignments {
        crate::webhook::events::set_field(&mut payload, assignment)?;
    }
    Ok(payload.to_string())
}

/// The webhook lab's handler URL (`trigger --to`, `test URL`) and `--header TEXT`, checked.
pub fn lab_options(url: &str, header: &str) -> (Outcome<Url>, Outcome<(String, String)>) {
    use crate::webhook::send;
    let header = send::parse_header(header).map(|(name, value)| {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        (name.as_str().to_string(), value)
    });
    (
        send::check_url(url).map_err(Failure::from),
        header.map_err(Failure::from),
    )
}

// ---------------------------------------------------------------- the login's callback

/// What the login makes of a callback query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    Code {
        code: String,
        instance_id: Option<String>,
    },
    Installed {
        instance_id: String,
    },
    BadState,
    /// The words shown for Wix's error (on the terminal and the page).
    Denied(String),
    Failed(String),
}

/// The callback `query` of a login whose state is `state`: the advanced flow's (a code) or,
/// `installed`, the basic flow's `/installed`.
pub fn callback(query: &str, state: &str, installed: bool) -> Callback {
    use crate::oauth::{parse_callback, Callback as C, Expect};
    let expect = if installed {
        Expect::Installed
    } else {
        Expect::Code
    };
    match parse_callback(query, state, expect) {
        C::Code { code, instance_id } => Callback::Code {
            code: code.expose().to_string(),
            instance_id,
        },
        C::Installed { instance_id } => Callback::Installed { instance_id },
        C::BadState => Callback::BadState,
        C::Denied(words) => Callback::Denied(words),
        C::Failed(words) => Callback::Failed(words),
    }
}

// ---------------------------------------------------------------- the files

/// `config.toml`'s text: what `Config::update` would write back after loading it (`Ok(None)`:
/// it loads but cannot be written back).
pub fn config_toml(text: &str) -> Outcome<Option<String>> {
    let path = Path::new("config.toml");
    let config = crate::settings::config::Config::parse(text, path)?;
    Ok(config.text(path).ok())
}

/// The secrets file as read: its entries, and what a rewrite would write (`None`: it cannot).
#[derive(Debug)]
pub struct Secrets {
    pub entries: Vec<(String, String)>,
    pub rewritten: Option<String>,
}

/// `secrets.toml`'s text.
pub fn secrets_toml(text: &str) -> Outcome<Secrets> {
    let path = Path::new("secrets.toml");
    let entries = crate::credentials::store::parse_entries(text, path).map_err(|e| Failure {
        exit: crate::core::error::Exit::Usage as u8,
        line: e.to_string(),
    })?;
    Ok(Secrets {
        rewritten: crate::credentials::store::entries_text(&entries).ok(),
        entries: entries.into_iter().collect(),
    })
}

/// A cache entry as read back.
#[derive(Debug)]
pub struct CacheEntry {
    /// The file name its recorded key is stored under (without `.json`).
    pub stem: String,
    pub app_id: String,
    pub instance_id: Option<String>,
    pub expires_at: u64,
    /// Seconds left at time 0 and at `u64::MAX` (its arithmetic at both ends).
    pub ttls: (i64, i64),
}

/// A token cache file's text; `None` is a miss.
pub fn cache_entry(text: &str) -> Option<CacheEntry> {
    let (key, token) = crate::credentials::cache::parse_entry(text)?;
    Some(CacheEntry {
        stem: key.stem(),
        app_id: token.app_id.clone(),
        instance_id: token.instance_id.clone(),
        expires_at: token.expires_at,
        ttls: (token.ttl(0), token.ttl(u64::MAX)),
    })
}

// ---------------------------------------------------------------- URLs

/// `WIXAUTH_API_BASE` (or another base URL variable) as checked.
pub fn checked_base(text: &str) -> Outcome<Url> {
    Ok(crate::core::net::checked_base("WIXAUTH_API_BASE", text)?)
}

/// `base` + `/path`.
pub fn join(base: &Url, path: &str) -> String {
    crate::core::net::join(base, path)
}

/// Whether a recorded base is where `base` sends secrets.
pub fn same_base(recorded: &str, base: &Url) -> bool {
    crate::core::net::same_base(recorded, base)
}

/// The installer URL for `flow` (0 basic, 1 advanced, 2 visitor, 3 member; the rest wraps).
pub fn installer_url(
    installer: &Url,
    flow: u8,
    app_id: &str,
    redirect: &str,
    state: Option<&str>,
) -> Outcome<Url> {
    let flow = crate::settings::Flow::ALL[usize::from(flow) % crate::settings::Flow::ALL.len()];
    Ok(crate::wix::urls::installer_url(
        installer, flow, app_id, redirect, state,
    )?)
}

/// `--redirect-url TEXT` and the addresses the login listens on for it.
pub fn redirect_url(text: &str) -> Outcome<(Url, Vec<std::net::SocketAddr>)> {
    let url = crate::oauth::parse_redirect(text)?;
    let addresses = crate::serve::listen_addresses(&url)?;
    Ok((url, addresses))
}

/// `webhook listen --forward-to TEXT` and `--path TEXT`, checked.
pub fn listen_options(forward_to: &str, path: &str) -> (Outcome<Url>, Outcome<()>) {
    (
        crate::webhook::listen::check_forward_to(forward_to).map_err(Failure::from),
        crate::webhook::listen::check_path(path).map_err(Failure::from),
    )
}

// ---------------------------------------------------------------- Wix's answers

/// A token grant as parsed.
#[derive(Debug)]
pub struct Grant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub token_type: String,
    pub expires_in: u64,
}

/// A token endpoint's 2xx body.
pub fn parse_grant(body: &[u8], default_lifetime: u64) -> Outcome<Grant> {
    let grant = crate::wix::parse_grant(body, default_lifetime)?;
    Ok(Grant {
        access_token: grant.access_token.expose().to_string(),
        refresh_token: grant.refresh_token.map(|t| t.expose().to_string()),
        token_type: grant.token_type,
        expires_in: grant.expires_in,
    })
}

/// What the app parsers make of one answer body: Token Info, Get App Instance and Get My
/// Member as JSON (`None`: the body is not JSON), and the error line of a failed call with
/// `status`.
pub fn wix_answer(status: u16, request_id: Option<&str>, body: &[u8]) -> (Option<String>, String) {
    use crate::wix::apps;
    let parsed = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .map(|v| {
            serde_json::json!([
                apps::parse_token_info(&v),
                apps::parse_instance(&v),
                apps::parse_member(&v),
            ])
            .to_string()
        });
    let response = crate::wix::Response {
        status,
        headers: request_id
            .map(|id| vec![("x-wix-request-id".to_string(), id.to_string())])
            .unwrap_or_default(),
        body: body.to_vec(),
    };
    let _ = crate::wix::rejection(&response);
    (parsed, response.failure("calling Wix").message())
}

// ---------------------------------------------------------------- wixauth api

/// `wixauth api PATH` under the API base `api`: the URL the token would be sent to.
pub fn api_url(api: &Url, path: &str) -> Outcome<Url> {
    Ok(crate::wix::urls::api_url(api, path)?)
}

/// `wixauth api -H LINE...`.
pub fn parse_headers(lines: &[String]) -> Outcome<Vec<(String, String)>> {
    Ok(crate::app::commands::api::parse_headers(lines)?)
}

// ---------------------------------------------------------------- the loopback server

/// Which policy answers on the loopback server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// The login listener on port 8338 with no login behind it (what it routes gets 410).
    Login,
    /// `webhook listen` at `/webhook` with `key`, printing nowhere; `small_body` shrinks its
    /// body limit to 4 KiB so that short inputs reach the limit's edges.
    Webhook { small_body: bool },
}

/// One connection of the server from memory: `request` in, everything it wrote out (empty: it
/// closed without an answer). `None`: the exchange outlasted `bound` (a hang), or the server
/// could not start.
pub fn serve(server: Server, key: &WebhookKey, request: &[u8], bound: Duration) -> Option<Vec<u8>> {
    use crate::serve::memory::exchange;
    match server {
        Server::Login => {
            let (limits, policy) = crate::oauth::policy_without_login(8338);
            exchange(limits, policy, request, bound)
        }
        Server::Webhook { small_body } => {
            let (mut limits, policy) =
                crate::webhook::listen::quiet_receiver(key.0.clone(), "/webhook")?;
            if small_body {
                limits.max_body = 4096;
            }
            exchange(limits, policy, request, bound)
        }
    }
}

/// The bounds the server documents (a request head, a webhook body).
pub const MAX_HEAD: usize = crate::serve::Limits::DEFAULT.max_head;
pub const MAX_WEBHOOK_BODY: usize = crate::webhook::listen::MAX_BODY;

// ---------------------------------------------------------------- files of lists

/// A dotenv file as `login --env-file` reads it: its `(KEY, value)` pairs, or the 1-based line
/// of the first bad entry and why (never any text of the line: values hold secrets).
pub fn dotenv(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    crate::settings::dotenv::parse(text)
}

/// An instance-id import file as `instances add --from` and `--instances-from` read it: the ids
/// in order without repeats, or the first bad line and why.
pub fn instance_ids(text: &str) -> Result<Vec<String>, (usize, String)> {
    crate::credentials::fleet::parse_instance_ids(text)
}

/// Whether `id` looks like a Wix id (what every imported instance id must).
pub fn is_wix_id(id: &str) -> bool {
    crate::core::text::is_wix_id(id)
}
