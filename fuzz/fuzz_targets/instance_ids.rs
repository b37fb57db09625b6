//! An instance-id import file as `instances add --from`, `--instances-from` and the retry file
//! are read: one id a line or a JSON array. Every id accepted looks like a Wix id and comes
//! once; a refusal names a line of the file and says why in one terminal-safe line.
#![no_main]

#[path = "common.rs"]
mod common;

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match fuzz::instance_ids(text) {
        Ok(ids) => {
            let mut seen = HashSet::new();
            for id in &ids {
                assert!(fuzz::is_wix_id(id), "not a Wix id: {id:?}");
                assert!(seen.insert(id), "{id:?} twice");
            }
        }
        Err((line, why)) => {
            let lines = text.split('\n').count();
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
            assert!(!why.contains('\n'), "{why:?}");
            common::assert_terminal_safe(&why);
        }
    }
});
