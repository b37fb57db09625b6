//! Text from outside (Wix's messages, site names, callback parameters) made safe to print:
//! control characters escaped so nothing can write escape sequences to the user's terminal,
//! and length bounded.

/// `text` with every control character (C0, DEL, C1, and the bidi overrides that can disguise
/// a line) shown as a `\u{…}` escape, cut to `max` characters.
pub(crate) fn printable(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for (n, c) in text.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// An id as Wix issues them (UUID-like: ASCII letters, digits and dashes, at most 64), so it is
/// safe in a file name, a config key and a terminal.
pub(crate) fn is_wix_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Unix seconds as RFC 3339 (`2026-12-01T19:00:00Z`), or `None` past the year 9999 (a
/// number from Wix or a file that no real expiry can be).
pub(crate) fn rfc3339(unix_seconds: u64) -> Option<String> {
    const YEAR_10000: u64 = 253_402_300_800;
    (unix_seconds < YEAR_10000).then(|| {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds);
        humantime::format_rfc3339_seconds(at).to_string()
    })
}

/// `in 3h 59m (2026-12-01T23:59:00Z)`: an RFC 3339 time relative to now for a person, the exact
/// time beside it (as it is, when it does not parse).
pub(crate) fn expiry(at: &str) -> String {
    let relative = humantime::parse_rfc3339(at).ok().map(|t| {
        let now = std::time::SystemTime::now();
        let secs = match t.duration_since(now) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        relative(secs)
    });
    match relative {
        Some(r) => format!("{r} ({at})"),
        None => printable(at, 80),
    }
}

/// Seconds from now as a person reads them: `in 3h 59m`, `in 45s`, `2d 1h ago`, `now`.
/// The two largest units, as `gh` and `stripe` show expiries.
pub(crate) fn relative(seconds: i64) -> String {
    let n = seconds.unsigned_abs();
    if n == 0 {
        return "now".into();
    }
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = n;
    for (size, name) in units {
        if rest >= size || !parts.is_empty() {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    // "3h 0m" reads as noise: drop a zero second unit.
    if parts.len() == 2 && parts[1].starts_with('0') {
        parts.pop();
    }
    let text = parts.join(" ");
    match seconds > 0 {
        true => format!("in {text}"),
        false => format!("{text} ago"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        assert_eq!(relative(14_340), "in 3h 59m");
        assert_eq!(relative(45), "in 45s");
        assert_eq!(relative(3_600), "in 1h");
        assert_eq!(relative(-90_000), "1d 1h ago");
        assert_eq!(relative(0), "now");
        assert_eq!(relative(i64::MIN), "106751991167300d 15h ago");
    }

    #[test]
    fn times_in_range_only() {
        assert_eq!(rfc3339(1715096067).as_deref(), Some("2024-05-07T15:34:27Z"));
        assert_eq!(rfc3339(u64::MAX), None);
        assert_eq!(
            rfc3339(253_402_300_799).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
    }

    #[test]
    fn controls_are_escaped_and_length_bounded() {
        assert_eq!(printable("ok", 10), "ok");
        assert_eq!(printable("a\x1b[31mb", 10), "a\\u{1b}[31mb");
        assert_eq!(printable("x\ny\u{202e}", 10), "x\\u{a}y\\u{202e}");
        assert_eq!(printable("abcdef", 3), "abc…");
        assert_eq!(printable("é\u{9b}", 10), "é\\u{9b}");
    }

    #[test]
    fn wix_ids() {
        assert!(is_wix_id("3bbcabc7-1d2f-4e5a-9b8c-0123456789ab"));
        assert!(is_wix_id("inst-22222222"));
        for bad in ["", "../etc", "a b", "a\x1b", "a.b", &"a".repeat(65)] {
            assert!(!is_wix_id(bad), "{bad:?}");
        }
    }
}
