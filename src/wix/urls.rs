//! The one builder of the installer URL a person opens, and the rule for what a call may be
//! sent to: a URL under the API base.

use url::Url;

use crate::core::error::{Error, Result};
use crate::settings::Flow;

/// Where the basic flow's external install comes back to on the local listener.
pub(crate) const INSTALLED_PATH: &str = "/installed";

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
        Flow::Visitor | Flow::Member | Flow::Admin | Flow::ApiKey => {
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

/// `PATH` as a URL under the API base; any other origin is refused so a token never leaves Wix.
pub(crate) fn api_url(api: &Url, path: &str) -> Result<Url> {
    let refuse = || {
        Error::usage(format!(
            "refusing to send a Wix token to {path:?}: give a path like /apps/v1/instance or a URL under {api}"
        ))
    };
    // Only a scheme before the path makes it a URL: `/x?next=https://…` is still a path.
    let before_query = path.split(['?', '#']).next().unwrap_or_default();
    let url = if before_query.contains("://") {
        Url::parse(path).map_err(|_| refuse())?
    } else if path.starts_with("//") {
        return Err(refuse());
    } else {
        Url::parse(&crate::core::net::join(api, path)).map_err(|_| refuse())?
    };
    let same_origin = url.scheme() == api.scheme()
        && url.host() == api.host()
        && url.port_or_known_default() == api.port_or_known_default();
    // A path under the base's, segment by segment: `/prefixevil` is not under `/prefix/`.
    let base_path = api.path().trim_end_matches('/');
    let under_base = url.path() == base_path
        || url
            .path()
            .strip_prefix(base_path)
            .is_some_and(|rest| rest.starts_with('/'));
    if !same_origin || !under_base || url.username() != "" || url.password().is_some() {
        return Err(refuse());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_stay_under_the_api() {
        let api = Url::parse("https://www.wixapis.com").unwrap();
        assert_eq!(
            api_url(&api, "/apps/v1/instance").unwrap().as_str(),
            "https://www.wixapis.com/apps/v1/instance"
        );
        assert_eq!(
            api_url(&api, "apps/v1/instance?x=1").unwrap().as_str(),
            "https://www.wixapis.com/apps/v1/instance?x=1"
        );
        assert!(api_url(&api, "https://www.wixapis.com/stores/v1/products").is_ok());
        assert_eq!(
            api_url(&api, "/x?next=https://evil.com/y")
                .unwrap()
                .as_str(),
            "https://www.wixapis.com/x?next=https://evil.com/y"
        );
        for bad in [
            "https://evil.com/x",
            "//evil.com/x",
            "http://www.wixapis.com/x",
            "https://www.wixapis.com.evil.com/x",
            "https://user:pw@www.wixapis.com/x",
            "https://www.wixapis.com:444/x",
        ] {
            assert!(api_url(&api, bad).is_err(), "{bad}");
        }
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
