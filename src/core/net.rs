//! The loopback and base-URL rules: which addresses are this machine, and which base URLs a
//! secret may be sent to (https://, or http:// on loopback only: never clear text off the machine).

use std::net::IpAddr;

use url::{Host, Url};

use crate::core::error::{Error, Result};

/// A base URL from variable `name`: `https://`, or `http://` on a loopback host only.
pub(crate) fn checked_base(name: &str, text: &str) -> Result<Url> {
    let url = Url::parse(text).map_err(|e| {
        let error = Error::usage(format!("{name}={text:?} is not a valid URL: {e}"));
        match text.contains("://") {
            true => error,
            // `127.0.0.1:8080`: the scheme was left out.
            // The text as typed, escaped: it reaches the terminal outside the quotes above.
            false => error.hint(format!(
                "did you mean {name}=http://{} ?",
                crate::core::text::printable(text, 200)
            )),
        }
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(Error::usage(format!(
            "{name}={text:?} is refused: only https:// URLs, or http:// on a loopback address (127.0.0.1, ::1, localhost), are allowed so secrets never travel in clear text"
        ))),
    }
}

/// The URL's host is this machine: `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    loopback_ips(url).is_some()
}

/// The addresses a loopback URL's host stands for (both families for `localhost`), or `None`
/// when the host is not loopback.
pub(crate) fn loopback_ips(url: &Url) -> Option<Vec<IpAddr>> {
    match url.host()? {
        Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => Some(vec![
            IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ]),
        Host::Ipv4(ip) if ip.is_loopback() => Some(vec![IpAddr::V4(ip)]),
        Host::Ipv6(ip) if ip.is_loopback() => Some(vec![IpAddr::V6(ip)]),
        _ => None,
    }
}

/// Whether a recorded base URL is the same place as `base` for a secret: same scheme, host
/// and port (a trailing `/` or a path does not make another host).
pub(crate) fn same_base(recorded: &str, base: &Url) -> bool {
    Url::parse(recorded).is_ok_and(|r| {
        r.scheme() == base.scheme()
            && r.host() == base.host()
            && r.port_or_known_default() == base.port_or_known_default()
    })
}

/// `base` + `/path`, keeping any path prefix the base has.
pub(crate) fn join(base: &Url, path: &str) -> String {
    format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_rule() {
        for ok in [
            "https://www.wixapis.com",
            "http://127.0.0.1:1",
            "http://127.9.9.9",
            "http://[::1]:80",
            "http://LOCALHOST:5",
        ] {
            assert!(checked_base("X", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "http://[::2]",
            "ftp://127.0.0.1",
        ] {
            assert!(checked_base("X", bad).is_err(), "{bad}");
        }
        assert_eq!(
            loopback_ips(&Url::parse("http://localhost:1/").unwrap())
                .unwrap()
                .len(),
            2
        );
    }

    /// Found by the urls fuzz target: the "did you mean" hint repeated the text raw.
    #[test]
    fn a_base_without_a_scheme_is_shown_escaped() {
        let err = checked_base("X", "127.0.0.1:8080\u{2}\u{1b}[2J\u{202e}").unwrap_err();
        let line = err.message();
        assert_eq!(crate::core::text::printable(&line, usize::MAX), line);
        assert!(line.contains("X=http://127.0.0.1:8080\\u{2}"), "{line}");
    }

    #[test]
    fn join_keeps_prefix() {
        let base = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(
            join(&base, "/oauth2/token"),
            "http://127.0.0.1:9/prefix/oauth2/token"
        );
    }
}
