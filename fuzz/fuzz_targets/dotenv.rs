//! A dotenv file as `login --env-file` reads it (`.env.local`, what `wix env pull` writes).
//! Every pair's key is a variable name; a refusal names a line of the file and says why in
//! one terminal-safe line that quotes nothing of the file (values hold secrets).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

const REASONS: &[&str] = &[
    "expected KEY=value",
    "the name before `=` is not a variable name (letters, digits and _, not starting with a digit)",
    "text after the closing quote",
    "the \" quote opened here is never closed",
    "the ' quote opened here is never closed",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match fuzz::dotenv(text) {
        Ok(pairs) => {
            for (key, _) in &pairs {
                let mut chars = key.chars();
                assert!(
                    chars
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'),
                    "not a variable name: {key:?}"
                );
                assert!(text.contains(key.as_str()), "a key the file does not hold");
            }
        }
        Err((line, why)) => {
            let lines = text.split('\n').count();
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
            assert!(!why.contains('\n'), "{why:?}");
            common::assert_terminal_safe(&why);
            // Quoting nothing of the file: every reason is one of the parser's own sentences,
            // a line count its only variable part.
            let mut shape = String::new();
            for c in why.chars() {
                match c.is_ascii_digit() {
                    true if shape.ends_with('#') => {}
                    true => shape.push('#'),
                    false => shape.push(c),
                }
            }
            let shape = shape.replace(" (on line +# of this value)", "");
            assert!(
                REASONS.contains(&shape.as_str()),
                "a reason of its own: {why:?}"
            );
        }
    }
});
