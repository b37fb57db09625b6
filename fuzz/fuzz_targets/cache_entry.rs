//! A token cache file (`tokens/<stem>.json`) as read back: corrupt is a miss, never a panic;
//! the key it records names a file inside the cache folder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(entry) = fuzz::cache_entry(text) else {
        return;
    };
    // readable ids (at most 40 characters each) and 32 hex digits of the key's hash
    let parts: Vec<&str> = entry.stem.split('.').collect();
    assert_eq!(parts.len(), 3, "{:?}", entry.stem);
    assert!(parts[..2].iter().all(|p| p.chars().count() <= 40));
    assert!(parts[2].len() == 32 && parts[2].bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(
        entry
            .stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "{:?}",
        entry.stem
    );
    let (at_zero, at_end) = entry.ttls;
    assert!(at_zero >= 0 && at_end <= 0);
    let _ = (entry.app_id, entry.instance_id, entry.expires_at);
});
