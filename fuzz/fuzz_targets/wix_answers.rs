//! What Wix answers, parsed: a token grant (the access token goes into a header and onto a
//! line of its own), Token Info / Get App Instance / Get My Member, and the error line of a
//! failed call (Wix's words, escaped, reach the terminal).
//!
//! First byte even: a token endpoint's 2xx body (the rest). Odd: the next two bytes are the
//! status, then a request id line, then the body.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        match fuzz::parse_grant(rest, 300) {
            Ok(grant) => {
                let token = &grant.access_token;
                assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
                assert!((1..=fuzz::MAX_TOKEN_LIFETIME).contains(&grant.expires_in));
                assert!(grant.refresh_token.is_none_or(|t| !t.is_empty()));
            }
            Err(failure) => common::assert_failure(&failure, &[4]),
        }
        return;
    }
    let Some((status, rest)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let status = 100 + u16::from_be_bytes(*status) % 500;
    let (id, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (
            Some(String::from_utf8_lossy(&rest[..at]).into_owned()),
            &rest[at + 1..],
        ),
        None => (None, rest),
    };
    let (parsed, line) = fuzz::wix_answer(status, id.as_deref(), body);
    if let Some(parsed) = parsed {
        serde_json::from_str::<serde_json::Value>(&parsed).expect("the parsed answer is JSON");
    }
    assert!(!line.contains('\n'));
    common::assert_terminal_safe(&line);
});
