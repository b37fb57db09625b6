//! The webhook lab's inputs: a delivery file saved by `listen --save-deliveries` (its body came
//! from the tunnel) as `trigger --replay` reads it, `trigger --set KEY=VALUE` over a payload,
//! and the handler URL and `--header` of `trigger` / `test`.
//!
//! First byte `% 3`: 0 the rest is a saved file; 1 a JSON payload line, then one --set a line;
//! 2 a URL line and a header line.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => match fuzz::saved_delivery(rest) {
            Ok(saved) => {
                if let Some(claims) = saved.claims {
                    serde_json::from_str::<serde_json::Value>(&claims).expect("claims are JSON");
                }
                let _ = saved.headers;
            }
            Err(failure) => common::assert_failure(&failure, &[2]),
        },
        1 => {
            let fields = common::fields(rest);
            let (payload, sets) = fields
                .split_first()
                .map_or(("", &[][..]), |(p, s)| (p.as_str(), s));
            match fuzz::trigger_set(payload.as_bytes(), sets) {
                Ok(json) => {
                    serde_json::from_str::<serde_json::Value>(&json).expect("the payload is JSON");
                }
                Err(failure) => common::assert_failure(&failure, &[2]),
            }
        }
        _ => {
            let fields = common::fields(rest);
            let field = |n: usize| fields.get(n).map_or("", String::as_str);
            let (url, header) = fuzz::lab_options(field(0), field(1));
            match url {
                Ok(url) => {
                    let loopback = common::is_loopback(&url);
                    assert!(
                        url.scheme() == "https" || loopback,
                        "clear text off the machine: {url}"
                    );
                }
                Err(failure) => common::assert_failure(&failure, &[2]),
            }
            if let Err(failure) = header {
                common::assert_failure(&failure, &[2]);
            }
        }
    }
});
