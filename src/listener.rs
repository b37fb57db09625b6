//! The temporary local redirect listener: loopback only, on the redirect URL's port,
//! answering on both 127.0.0.1 and ::1 for `localhost` (browsers pick either).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

use subtle::ConstantTimeEq;
use url::{Host, Url};

use crate::error::{Error, Result};
use crate::secret::Secret;

pub struct Listener {
    servers: Vec<Arc<tiny_http::Server>>,
    requests: Receiver<tiny_http::Request>,
    pub addresses: Vec<SocketAddr>,
}

/// Checks that a redirect URL is one wixauth can listen on: `http://` on a loopback host.
pub fn listen_addresses(redirect: &Url) -> Result<Vec<SocketAddr>> {
    let refuse = || {
        Error::usage(format!(
            "--redirect-url {redirect} must be an http:// URL on this machine (localhost, 127.0.0.1 or [::1]) so wixauth can listen there"
        ))
    };
    if redirect.scheme() != "http" {
        return Err(refuse());
    }
    let port = redirect.port_or_known_default().ok_or_else(refuse)?;
    let ips: Vec<IpAddr> = match redirect.host() {
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        }
        Some(Host::Ipv4(ip)) if ip.is_loopback() => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) if ip.is_loopback() => vec![IpAddr::V6(ip)],
        _ => return Err(refuse()),
    };
    Ok(ips
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

impl Listener {
    pub fn bind(redirect: &Url) -> Result<Listener> {
        let (tx, requests) = mpsc::channel();
        let mut servers = Vec::new();
        let mut addresses = Vec::new();
        for addr in listen_addresses(redirect)? {
            let socket = match TcpListener::bind(addr) {
                Ok(socket) => socket,
                // A machine without IPv6 still serves 127.0.0.1.
                Err(e) if addr.is_ipv6() && e.kind() == std::io::ErrorKind::AddrNotAvailable && !servers.is_empty() => {
                    crate::debug!("not listening on {addr}: {e}");
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    return Err(Error::usage(format!(
                        "port {} on {} is already in use (another program, or another wixauth login): free it, or pass --redirect-url with another port that is registered in the app dashboard",
                        addr.port(),
                        addr.ip()
                    )))
                }
                Err(e) => return Err(Error::usage(format!("cannot listen on {addr}: {e}; pass another --redirect-url"))),
            };
            let server = Arc::new(tiny_http::Server::from_listener(socket, None).map_err(|e| {
                Error::failure(format!("cannot start the listener on {addr}: {e}"))
            })?);
            let (feed, tx) = (server.clone(), tx.clone());
            std::thread::spawn(move || {
                for request in feed.incoming_requests() {
                    if tx.send(request).is_err() {
                        break;
                    }
                }
            });
            crate::debug!("listening on {addr}");
            addresses.push(addr);
            servers.push(server);
        }
        Ok(Listener {
            servers,
            requests,
            addresses,
        })
    }

    /// The next request, or `None` when `wait` passes without one.
    pub fn next(&self, wait: Duration) -> Option<tiny_http::Request> {
        self.requests.recv_timeout(wait).ok()
    }

    /// Requests already queued (answered after the login ends so none hangs).
    pub fn drain(&self) -> impl Iterator<Item = tiny_http::Request> + '_ {
        self.requests.try_iter()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        for server in &self.servers {
            server.unblock();
        }
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("static header is valid")
}

/// Headers on every page: Wix closes its window only with COOP `unsafe-none`, and a page
/// reached with a code in its URL must be neither cached nor leak it as a referrer.
fn with_common_headers<R: std::io::Read>(
    mut response: tiny_http::Response<R>,
) -> tiny_http::Response<R> {
    for (name, value) in [
        ("Cross-Origin-Opener-Policy", "unsafe-none"),
        ("Cache-Control", "no-store, max-age=0"),
        ("Pragma", "no-cache"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
    ] {
        response.add_header(header(name, value));
    }
    response
}

pub fn respond_html(request: tiny_http::Request, status: u16, html: String) {
    let response = tiny_http::Response::from_string(html)
        .with_status_code(status)
        .with_header(header("Content-Type", "text/html; charset=utf-8"));
    let _ = request.respond(with_common_headers(response));
}

pub fn respond_redirect(request: tiny_http::Request, location: &str) {
    let response = tiny_http::Response::empty(302).with_header(header("Location", location));
    let _ = request.respond(with_common_headers(response));
}

/// Splits a request target into its path and query.
pub fn split_target(target: &str) -> (&str, &str) {
    match target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (target, ""),
    }
}

/// What came back on the callback, checked state first, then `error`, then `code`.
#[derive(Debug, PartialEq, Eq)]
pub enum Callback {
    /// Advanced flow: an authorization code for an instance.
    Code {
        code: Secret,
        instance_id: Option<String>,
    },
    /// Basic flow (external install): the instance the app was installed on.
    Installed { instance_id: String },
    /// `state` missing, repeated or different: not our login.
    BadState,
    /// The user said no.
    Denied(String),
    /// Wix reported another error, or a required parameter is missing.
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Code,
    Installed,
}

/// Parses a callback query. Tolerates anything (bad percent-encoding, non-UTF-8, huge
/// input): the worst outcome is `BadState` or `Failed`, never a panic.
pub fn parse_callback(query: &str, expected_state: &str, expect: Expect) -> Callback {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let values = |key: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let one = |key: &str| -> Option<&str> {
        match values(key).as_slice() {
            [v] if !v.is_empty() => Some(v),
            _ => None,
        }
    };
    let state_ok =
        one("state").is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected_state.as_bytes())));
    if !state_ok {
        return Callback::BadState;
    }
    if let Some(error) = values("error").first() {
        let description = one("error_description").unwrap_or(error);
        let shown: String = description.chars().take(200).collect();
        let denied = ["access_denied", "denied", "cancel"]
            .iter()
            .any(|d| error.to_ascii_lowercase().contains(d));
        return if denied {
            Callback::Denied(shown)
        } else {
            Callback::Failed(shown)
        };
    }
    match expect {
        Expect::Code => match one("code") {
            Some(code) => Callback::Code {
                code: Secret::new(code),
                instance_id: one("instanceId").map(str::to_string),
            },
            None => Callback::Failed("the redirect carried no authorization code".into()),
        },
        Expect::Installed => match one("instanceId") {
            Some(id) => Callback::Installed {
                instance_id: id.to_string(),
            },
            None => Callback::Failed("the redirect carried no instanceId".into()),
        },
    }
}

/// At least 128 bits from the OS CSPRNG, hex-encoded.
pub fn new_state() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::failure(format!("cannot get random bytes from the OS: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STATE: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn state_is_checked_first() {
        assert_eq!(
            parse_callback("code=c&error=access_denied", STATE, Expect::Code),
            Callback::BadState
        );
        assert_eq!(
            parse_callback(&format!("state={STATE}x&code=c"), STATE, Expect::Code),
            Callback::BadState
        );
        assert_eq!(
            parse_callback(
                &format!("state={STATE}&state={STATE}&code=c"),
                STATE,
                Expect::Code
            ),
            Callback::BadState
        );
        assert_eq!(
            parse_callback("state=&code=c", STATE, Expect::Code),
            Callback::BadState
        );
    }

    #[test]
    fn error_before_code() {
        let q = format!("state={STATE}&error=access_denied&code=c");
        assert!(matches!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Denied(_)
        ));
        let q = format!("state={STATE}&error=server_error");
        assert!(matches!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Failed(_)
        ));
    }

    #[test]
    fn code_and_instance() {
        let q = format!("code=abc%2Fd&instanceId=i-1&state={STATE}");
        assert_eq!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Code {
                code: Secret::new("abc/d"),
                instance_id: Some("i-1".into())
            }
        );
        assert!(matches!(
            parse_callback(&format!("state={STATE}"), STATE, Expect::Code),
            Callback::Failed(_)
        ));
        let q = format!("appId=a&tenantId=t&instanceId=i-2&state={STATE}");
        assert_eq!(
            parse_callback(&q, STATE, Expect::Installed),
            Callback::Installed {
                instance_id: "i-2".into()
            }
        );
    }

    #[test]
    fn states_are_random_and_long() {
        let (a, b) = (new_state().unwrap(), new_state().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn only_loopback_http_redirects() {
        let ok = |u: &str| listen_addresses(&Url::parse(u).unwrap());
        assert_eq!(ok("http://localhost:8338/callback").unwrap().len(), 2);
        assert_eq!(
            ok("http://127.0.0.1:9/cb").unwrap(),
            vec!["127.0.0.1:9".parse().unwrap()]
        );
        assert_eq!(
            ok("http://[::1]:9/cb").unwrap(),
            vec!["[::1]:9".parse().unwrap()]
        );
        for bad in [
            "https://localhost:8338/cb",
            "http://example.com/cb",
            "http://0.0.0.0:1/",
            "http://10.1.2.3:1/",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_never_accepts_without_the_state(query in ".{0,400}") {
            let outcome = parse_callback(&query, STATE, Expect::Code);
            if !query.contains(STATE) {
                prop_assert_eq!(outcome, Callback::BadState);
            }
        }

        #[test]
        fn right_state_and_code_always_parse(code in "[A-Za-z0-9._~-]{1,64}", noise in "[a-z]{1,8}") {
            prop_assume!(!["code", "state", "error"].contains(&noise.as_str()));
            let q = format!("{noise}=x&code={code}&state={STATE}&instanceId=i");
            let outcome = parse_callback(&q, STATE, Expect::Code);
            prop_assert_eq!(outcome, Callback::Code { code: Secret::new(code), instance_id: Some("i".into()) });
        }

        #[test]
        fn arbitrary_bytes_are_tolerated(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let query = String::from_utf8_lossy(&bytes);
            let _ = parse_callback(&query, STATE, Expect::Installed);
        }
    }
}
