//! `config.toml` as any command loads it. A file that loads is written back by the next
//! change (`Config::update`), and what is written must load again and be written the same: a
//! config wixauth cannot rewrite would stop every login and logout.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    // The file is read as UTF-8 text (a file that is not is refused before parsing).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match fuzz::config_toml(text) {
        Ok(written) => {
            let written = written.expect("a config.toml that loads cannot be written back");
            let again = fuzz::config_toml(&written)
                .unwrap_or_else(|e| panic!("the rewritten config does not load: {e:?}\n{written}"));
            assert_eq!(
                again.as_deref(),
                Some(written.as_str()),
                "a rewrite changes it again"
            );
        }
        Err(failure) => common::assert_failure(&failure, &[2]),
    }
});
