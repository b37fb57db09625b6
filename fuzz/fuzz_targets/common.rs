//! What the targets share: the fixed test key and the checks every outcome goes through.
#![allow(dead_code)] // each target uses some of it

use std::sync::OnceLock;

use wixauth::fuzz::{self, WebhookKey};

/// The webhook key the signed seeds were made with (make-webhook-seeds.sh).
pub fn key() -> &'static WebhookKey {
    static KEY: OnceLock<WebhookKey> = OnceLock::new();
    KEY.get_or_init(|| {
        fuzz::public_key(include_str!("../keys/webhook-public.pem")).expect("the test key parses")
    })
}

/// A line bound for the terminal (an error, a summary) holds no raw control character.
pub fn assert_terminal_safe(line: &str) {
    assert!(
        fuzz::terminal_safe(line),
        "raw control characters reach the terminal: {line:?}"
    );
}

/// An error: a documented exit code (1 failure, 2 usage, 3 rejected, 4 unavailable), one
/// terminal-safe line.
pub fn assert_failure(failure: &fuzz::Failure, exits: &[u8]) {
    assert!(
        exits.contains(&failure.exit),
        "exit {} for {:?}",
        failure.exit,
        failure.line
    );
    assert!(!failure.line.contains('\n'), "{:?}", failure.line);
    assert_terminal_safe(&failure.line);
}

/// The input's fields: its text split at newlines (lossy, so that any bytes make fields).
pub fn fields(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\n')
        .map(str::to_string)
        .collect()
}

/// The URL's host is this machine (what a secret may travel to in clear text).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
