//! The plain-text secret store, `secrets.toml`. Its error never quotes the file (it holds
//! secrets): it names the file and the line only. A file that loads is rewritten on the next
//! change, and the rewrite must hold the same entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match fuzz::secrets_toml(text) {
        Ok(secrets) => {
            let written = secrets
                .rewritten
                .expect("a secrets.toml that loads cannot be rewritten");
            let again = fuzz::secrets_toml(&written).expect("the rewritten secrets.toml loads");
            assert_eq!(
                again.entries, secrets.entries,
                "a rewrite loses or changes a secret"
            );
        }
        Err(failure) => {
            assert_eq!(failure.exit, 2);
            let rest = failure
                .line
                .strip_prefix("secrets file secrets.toml is malformed")
                .unwrap_or_else(|| panic!("{:?}", failure.line));
            let line = rest.strip_prefix(" at line ").unwrap_or("1");
            assert!(
                rest.is_empty() || line.parse::<usize>().is_ok(),
                "the error says more than where: {:?}",
                failure.line
            );
        }
    }
});
