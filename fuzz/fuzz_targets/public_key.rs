//! `--public-key TEXT` / `webhook set-key`: any text into `PublicKey::parse`. A key it accepts
//! is stored as PEM that must load again as the same key; a refusal never echoes the text (it
//! may be a private key pasted by mistake).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match fuzz::public_key(&text) {
        Ok(key) => {
            let again = fuzz::public_key(key.pem()).expect("the stored PEM loads again");
            assert_eq!(again.pem(), key.pem());
        }
        Err(failure) => {
            common::assert_failure(&failure, &[2]);
            // No word of the input long enough to be key material is in the message. (A PEM
            // label of plain upper-case words may be named: `EC PRIVATE KEY` is no secret.)
            for word in text.split(|c: char| c.is_whitespace() || c == '-') {
                let label = word
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
                assert!(
                    word.chars().count() < 20 || label || !failure.line.contains(word),
                    "the error echoes the input: {:?}",
                    failure.line
                );
            }
        }
    }
});
