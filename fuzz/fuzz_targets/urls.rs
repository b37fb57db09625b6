//! The URL builders and base-URL checks: the installer URL a person opens, `--redirect-url`
//! and the addresses listened on for it, `WIXAUTH_API_BASE`, and `webhook listen`'s options.
//!
//! Fields, one a line: installer, flow (its first byte), app id, redirect URL, state (an empty
//! line: none), API base, path, recorded base, --forward-to, --path.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use url::Url;
use wixauth::fuzz;

fn field(fields: &[String], n: usize) -> &str {
    fields.get(n).map_or("", String::as_str)
}

/// The values of `key` in `url`'s query.
fn values(url: &Url, key: &str) -> Vec<String> {
    url.query_pairs()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn installer(fields: &[String]) {
    // As WIXAUTH_INSTALLER_BASE is read: https, or http on loopback (a URL of another
    // scheme, which the url crate does not always print as it parsed it, never gets here).
    let Ok(installer) = fuzz::checked_base(field(fields, 0)) else {
        return;
    };
    let flow = field(fields, 1).bytes().next().unwrap_or(0) % 4;
    let (app_id, redirect) = (field(fields, 2), field(fields, 3));
    let state = Some(field(fields, 4)).filter(|s| !s.is_empty());
    match fuzz::installer_url(&installer, flow, app_id, redirect, state) {
        Ok(url) => {
            assert!(flow < 2, "visitor and member logins have no installer");
            // What a browser opens is what was built.
            assert_eq!(Url::parse(url.as_str()).as_ref(), Ok(&url));
            assert_eq!(
                (url.scheme(), url.host(), url.port()),
                (installer.scheme(), installer.host(), installer.port())
            );
            assert_eq!(values(&url, "appId"), [app_id]);
            if flow == 1 {
                assert_eq!(values(&url, "redirectUrl"), [redirect]);
                assert_eq!(values(&url, "state"), state.into_iter().collect::<Vec<_>>());
            } else if let (Some(state), true) = (state, fuzz::redirect_url(redirect).is_ok()) {
                // With a state it is a login's, whose listener is on the redirect URL: an
                // http:// loopback URL (the login checks that before it builds this).
                let back = values(&url, "postInstallationUrl");
                let back = Url::parse(&back[0]).expect("the post-installation URL parses");
                let redirect = Url::parse(redirect).expect("only a redirect URL that parses");
                assert_eq!(
                    (back.host(), back.port()),
                    (redirect.host(), redirect.port())
                );
                assert_eq!(back.path(), "/installed");
                let pairs: Vec<(String, String)> = back.query_pairs().into_owned().collect();
                assert_eq!(pairs, [("state".to_string(), state.to_string())]);
            }
        }
        Err(failure) => common::assert_failure(&failure, &[2]),
    }
    match fuzz::redirect_url(redirect) {
        Ok((url, addresses)) => {
            assert_eq!(url.scheme(), "http");
            assert!(!addresses.is_empty() && addresses.iter().all(|a| a.ip().is_loopback()));
        }
        Err(failure) => common::assert_failure(&failure, &[2]),
    }
}

fn bases(fields: &[String]) {
    match fuzz::checked_base(field(fields, 5)) {
        Ok(base) => {
            // Secrets go over https, or in clear text only to this machine.
            let loopback = common::is_loopback(&base);
            assert!(
                base.scheme() == "https" || base.scheme() == "http" && loopback,
                "{base}"
            );
            let path = field(fields, 6);
            let joined = fuzz::join(&base, path);
            assert!(joined.starts_with(base.as_str().trim_end_matches('/')));
            if fuzz::same_base(field(fields, 7), &base) {
                let recorded = Url::parse(field(fields, 7)).expect("a same base parses");
                assert_eq!(
                    (recorded.scheme(), recorded.host()),
                    (base.scheme(), base.host())
                );
            }
            assert!(
                fuzz::same_base(base.as_str(), &base),
                "a base is its own base"
            );
        }
        Err(failure) => common::assert_failure(&failure, &[2]),
    }
    let (forward, path) = fuzz::listen_options(field(fields, 8), field(fields, 9));
    match forward {
        Ok(url) => assert!(matches!(url.scheme(), "http" | "https")),
        Err(failure) => common::assert_failure(&failure, &[2]),
    }
    if let Err(failure) = path {
        common::assert_failure(&failure, &[2]);
    }
}

fuzz_target!(|data: &[u8]| {
    let fields = common::fields(data);
    installer(&fields);
    bases(&fields);
});
