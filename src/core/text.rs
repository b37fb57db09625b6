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
        if unsafe_for_terminal(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a character must not reach a terminal as it is: C0 and C1 controls, DEL, and the
/// bidi controls that can make a line read as something else.
fn unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// JSON for a terminal: what a JSON writer leaves raw inside strings (DEL, C1 controls, bidi
/// overrides) as `\uXXXX` escapes, so the text stays valid JSON and writes nothing to the
/// terminal but itself. (A pipe or a file gets the bytes as they are: see the callers.)
pub(crate) fn json_for_terminal(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '\n' | '\t' | '\r' => out.push(c),
            c if unsafe_for_terminal(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// An id as Wix issues them (UUID-like: ASCII letters, digits and dashes, at most 64), so it is
/// safe in a file name, a config key and a terminal.
pub(crate) fn is_wix_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `text` wrapped at word boundaries to `width` columns, for a person's terminal. Each line
/// keeps its indent on its continuations; a word is never split: a `command in backticks`
/// counts as one word (it is copied and pasted whole), a URL line is left as it is, and a word
/// wider than the line goes on a line of its own.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    wrap_hanging(text, width, 0)
}

/// [`wrap`], each continuation indented `hang` columns past its line's own indent (a report's
/// `ok      name: detail` lines continue under the detail, not under the mark).
pub(crate) fn wrap_hanging(text: &str, width: usize, hang: usize) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim_start_matches(' ');
        if body.starts_with("http://") || body.starts_with("https://") || columns(line) <= width {
            out.push_str(line);
            continue;
        }
        let mut room = width.saturating_sub(indent).max(20);
        let mut current = 0;
        let mut end = 0;
        out.push_str(&line[..indent]);
        for word in words(body) {
            // The spaces before the word as written (a report's aligned columns keep theirs).
            let start = word.as_ptr() as usize - body.as_ptr() as usize;
            let gap = &body[end..start];
            end = start + word.len();
            let w = columns(word);
            if current > 0 && current + columns(gap) + w > room {
                out.push('\n');
                out.push_str(&line[..indent]);
                out.push_str(&" ".repeat(hang));
                room = width.saturating_sub(indent + hang).max(20);
                current = 0;
            }
            if current > 0 {
                out.push_str(gap);
                current += columns(gap);
            }
            out.push_str(word);
            current += w;
        }
    }
    out
}

/// The 1-based line of `text` that byte `byte` is on (where a parser's error points).
pub(crate) fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Columns a string takes (one per character: wixauth prints no wide characters of its own).
fn columns(text: &str) -> usize {
    text.chars().count()
}

/// Space-separated words, a backtick span (with its spaces) being one word.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut in_code = false;
    for (i, c) in text.char_indices() {
        match c {
            '`' => {
                in_code = !in_code;
                start.get_or_insert(i);
            }
            ' ' if !in_code => {
                if let Some(s) = start.take() {
                    out.push(&text[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
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
    fn json_for_a_terminal_stays_json_and_holds_no_control() {
        let value = serde_json::json!({"site": "a\u{9b}31m\u{202e}b\u{7f}", "n": 1});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let shown = json_for_terminal(&text);
        assert!(
            !shown.chars().any(unsafe_for_terminal_but_layout),
            "{shown:?}"
        );
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, value);
    }

    fn unsafe_for_terminal_but_layout(c: char) -> bool {
        unsafe_for_terminal(c) && !matches!(c, '\n' | '\t' | '\r')
    }

    #[test]
    fn wrapping_breaks_between_words_and_never_inside_a_command_or_url() {
        let text = "wixauth: error: the stored app secret no longer works (rotated in the app dashboard?); pipe the current app secret into `wixauth --profile shop login --secret-stdin --instance inst-22222222`";
        let wrapped = wrap(text, 80);
        for line in wrapped.lines() {
            assert!(
                line.chars().count() <= 80 || line.starts_with('`'),
                "{line:?}"
            );
        }
        assert!(wrapped
            .contains("`wixauth --profile shop login --secret-stdin --instance inst-22222222`"));
        assert_eq!(
            wrapped.replace('\n', " "),
            text,
            "only spaces became line breaks"
        );
        let url = "  http://127.0.0.1:1/installer/install?appId=a&redirectUrl=http%3A%2F%2Flocalhost%3A8338%2Fcallback&state=0123456789abcdef";
        assert_eq!(wrap(url, 80), url);
        let indented = format!("  {}", "word ".repeat(30).trim_end());
        assert!(wrap(&indented, 40).lines().all(|l| l.starts_with("  word")));
        assert_eq!(wrap("short", 80), "short");
    }

    #[test]
    fn a_hanging_wrap_continues_under_the_text() {
        let line = format!("ok      secret store: {}", "word ".repeat(20).trim_end());
        let wrapped = wrap_hanging(&line, 40, 8);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 2, "{wrapped}");
        assert!(lines[0].starts_with("ok      secret store:"));
        for l in &lines[1..] {
            assert!(
                l.starts_with("        word") && l.chars().count() <= 40,
                "{l:?}"
            );
        }
        assert_eq!(wrap_hanging("short", 40, 8), "short");
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
