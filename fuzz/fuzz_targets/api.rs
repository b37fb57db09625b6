//! `wixauth api PATH -H ...`: the URL a token is sent to stays on the API base's origin and
//! under its path, segment by segment, as the HTTP client will parse it again; headers are
//! HTTP's and never `Authorization`.
//!
//! Fields, one a line: the API base, PATH, then one -H value a line.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use url::Url;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    let fields = common::fields(data);
    let Some(Ok(api)) = fields.first().map(|b| fuzz::checked_base(b)) else {
        return;
    };
    let path = fields.get(1).map_or("", String::as_str);
    match fuzz::api_url(&api, path) {
        Ok(url) => {
            // The client sends to the URL's text, parsed again.
            let sent = Url::parse(url.as_str()).expect("the URL parses again");
            assert_eq!(sent, url);
            assert_eq!(
                (sent.scheme(), sent.host(), sent.port_or_known_default()),
                (api.scheme(), api.host(), api.port_or_known_default()),
                "the token leaves the API's origin: {path:?}"
            );
            assert!(sent.username().is_empty() && sent.password().is_none());
            // The base's path with its trailing slashes dropped (as `join` drops them).
            let base: Vec<&str> = api.path().trim_end_matches('/').split('/').collect();
            let under: Vec<&str> = sent.path().split('/').collect();
            assert!(
                under.len() >= base.len() && under[..base.len()] == base[..],
                "{path:?} under {api} is {sent}: not under the base's path"
            );
        }
        Err(failure) => common::assert_failure(&failure, &[2]),
    }
    let lines = fields.get(2..).unwrap_or_default().to_vec();
    match fuzz::parse_headers(&lines) {
        Ok(headers) => {
            assert_eq!(headers.len(), lines.len());
            for (name, value) in headers {
                assert!(
                    http::HeaderName::from_bytes(name.as_bytes()).is_ok(),
                    "{name:?}"
                );
                assert!(http::HeaderValue::from_str(&value).is_ok(), "{value:?}");
                assert!(!name.eq_ignore_ascii_case("authorization"));
            }
        }
        Err(failure) => common::assert_failure(&failure, &[2]),
    }
});
