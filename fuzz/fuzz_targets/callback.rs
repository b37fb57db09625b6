//! The browser's redirect back to the login listener: the query checked state first (in
//! constant time), then Wix's error, then the code or the instance id.
//!
//! First byte: odd, the basic flow's `/installed`; even, the advanced flow's callback.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz::{self, Callback};

/// A login's state, as `new_state` makes them: 32 hex digits.
const STATE: &str = "0123456789abcdef0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, query)) = data.split_first() else {
        return;
    };
    let query = String::from_utf8_lossy(query);
    let outcome = fuzz::callback(&query, STATE, mode & 1 == 1);
    if outcome != Callback::BadState {
        // Only a query with exactly one state, exactly ours, gets past the check.
        let states: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(states, [STATE], "another state was accepted: {query:?}");
    }
    match outcome {
        Callback::Denied(words) | Callback::Failed(words) => common::assert_terminal_safe(&words),
        Callback::Code { code, instance_id } => {
            assert!(!code.is_empty());
            assert!(instance_id.is_none_or(|id| !id.is_empty()));
        }
        Callback::Installed { instance_id } => assert!(!instance_id.is_empty()),
        Callback::BadState => {}
    }
});
