//! The one loopback HTTP/1 server under the login listener and `webhook listen`.

use std::net::SocketAddr;

use url::Url;

use crate::core::error::{Error, Result};
use crate::core::net::loopback_ips;

/// Checks that a redirect URL is one wixauth can listen on: `http://` on a loopback host.
pub(crate) fn listen_addresses(redirect: &Url) -> Result<Vec<SocketAddr>> {
    let refuse = || {
        Error::usage(format!(
            "--redirect-url {redirect} must be an http:// URL on this machine (localhost, 127.0.0.1 or [::1]) so wixauth can listen there"
        ))
    };
    if redirect.scheme() != "http" {
        return Err(refuse());
    }
    let port = redirect.port_or_known_default().ok_or_else(refuse)?;
    let ips = loopback_ips(redirect).ok_or_else(refuse)?;
    Ok(ips
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
