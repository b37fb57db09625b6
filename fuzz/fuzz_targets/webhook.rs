//! `webhook verify` / `listen`'s check of one delivery with the fixed test key, and the
//! three-layer decode of claims past the signature (which the fuzzer cannot forge).
//!
//! First byte: `& 3` 0 verify, 2 verify with --ignore-expiry, 1 or 3 decode the rest as claims.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let outcome = match mode & 3 {
        0 => fuzz::webhook_verify(common::key(), body, false),
        2 => fuzz::webhook_verify(common::key(), body, true),
        _ => fuzz::webhook_decode(body),
    };
    match outcome {
        Ok(delivery) => {
            // One JSON line on stdout; the summary goes to the terminal.
            let line: serde_json::Value =
                serde_json::from_str(&delivery.json).expect("the event line is JSON");
            assert!(line.is_object() && !delivery.json.contains('\n'));
            common::assert_terminal_safe(&delivery.summary);
            if mode & 3 == 0 {
                assert!(
                    delivery.expires_at.is_some(),
                    "a delivery without exp was accepted"
                );
            }
        }
        Err(failure) => common::assert_failure(&failure, &[1, 2]),
    }
});
