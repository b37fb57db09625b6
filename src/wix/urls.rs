//! Wix's URLs: the base-URL rule (secrets never in clear text off the machine), joining
//! paths, and the one builder of the installer URL a person opens.

use std::net::IpAddr;

use url::{Host, Url};

use crate::config::Flow;
use crate::error::{Error, Result};

/// Where the basic flow's external install comes back to on the local listener.
pub(crate) const INSTALLED_PATH: &str = "/installed";

/// A base URL from variable `name`: `https://`, or `http://` on a loopback host only.
pub(crate) fn checked_base(name: &str, text: &str) -> Result<Url> {
    let url = Url::parse(text)
        .map_err(|e| Error::usage(format!("{name}={text:?} is not a valid URL: {e}")))?;
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

/// `base` + `/path`, keeping any path prefix the base has.
pub(crate) fn join(base: &Url, path: &str) -> String {
    format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The installer URL: `/installer/install?appId&redirectUrl&state` (advanced) or
/// `/app-installer?appId&postInstallationUrl` (basic). `redirect` is the user's redirect URL
/// string as given: Wix compares it with the registered one character for character.
/// Without `state` (`wixauth install-url`) the basic flow has no post-installation URL.
pub(crate) fn installer_url(
    installer: &Url,
    flow: Flow,
    app_id: &str,
    redirect: &str,
    state: Option<&str>,
) -> Result<Url> {
    let mut url = installer.clone();
    url.set_query(None);
    let base_path = installer.path().trim_end_matches('/').to_string();
    match flow {
        Flow::Visitor | Flow::Member => {
            return Err(Error::usage(format!(
                "the {flow} flow has no installer URL: install-url is for app profiles (basic/advanced)"
            )))
        }
        Flow::Advanced => {
            url.set_path(&format!("{base_path}/installer/install"));
            let mut pairs = url.query_pairs_mut();
            pairs
                .append_pair("appId", app_id)
                .append_pair("redirectUrl", redirect);
            if let Some(state) = state {
                pairs.append_pair("state", state);
            }
        }
        Flow::Basic => {
            url.set_path(&format!("{base_path}/app-installer"));
            url.query_pairs_mut().append_pair("appId", app_id);
            if let Some(state) = state {
                let mut back = Url::parse(redirect).map_err(|e| {
                    Error::usage(format!("redirect URL {redirect:?} is not a valid URL: {e}"))
                })?;
                back.set_path(INSTALLED_PATH);
                back.set_query(None);
                back.set_fragment(None);
                back.query_pairs_mut().append_pair("state", state);
                url.query_pairs_mut()
                    .append_pair("postInstallationUrl", back.as_str());
            }
        }
    }
    Ok(url)
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

    #[test]
    fn join_keeps_prefix() {
        let base = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(
            join(&base, "/oauth2/token"),
            "http://127.0.0.1:9/prefix/oauth2/token"
        );
    }

    #[test]
    fn installer_urls_keep_the_redirect_url_as_given() {
        let installer = Url::parse("https://www.wix.com").unwrap();
        // Wix compares character for character: no trailing slash added, no lower-casing.
        let redirect = "http://LocalHost:8338";
        let advanced =
            installer_url(&installer, Flow::Advanced, "app", redirect, Some("st")).unwrap();
        assert_eq!(advanced.path(), "/installer/install");
        let q: Vec<(String, String)> = advanced.query_pairs().into_owned().collect();
        assert_eq!(
            q,
            vec![
                ("appId".into(), "app".into()),
                ("redirectUrl".into(), redirect.into()),
                ("state".into(), "st".into())
            ]
        );
        let shared = installer_url(&installer, Flow::Advanced, "app", redirect, None).unwrap();
        assert!(!shared.as_str().contains("state"), "{shared}");

        let basic = installer_url(
            &installer,
            Flow::Basic,
            "app",
            "http://localhost:8338/callback",
            Some("st"),
        )
        .unwrap();
        assert_eq!(basic.path(), "/app-installer");
        let post = basic
            .query_pairs()
            .find(|(k, _)| k == "postInstallationUrl")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(post, "http://localhost:8338/installed?state=st");
        let plain = installer_url(&installer, Flow::Basic, "app", "x", None).unwrap();
        assert_eq!(
            plain.as_str(),
            "https://www.wix.com/app-installer?appId=app"
        );
    }
}
