//! Lists of instance ids from outside: `instances add --from`, `--instances-from` and the
//! retry file. One id a line (blank lines and `#` comments skipped, CRLF and a BOM taken), or a
//! JSON array of strings. Every id must look like a Wix id; a bad one is named by its line,
//! never skipped silently. Duplicates are dropped (a fleet runs each instance once).

use std::collections::HashSet;

use crate::core::text::{is_wix_id, printable};

/// The ids of an import file, in order and without repeats, or the first bad line (1-based)
/// and what is wrong with it. Pure: no I/O, no panic on any input.
pub(crate) fn parse_instance_ids(text: &str) -> Result<Vec<String>, (usize, String)> {
    let (ids, mut bad) = scan_instance_ids(text);
    match bad.is_empty() {
        true => Ok(ids),
        false => Err(bad.swap_remove(0)),
    }
}

/// Every good id, and every bad line with what is wrong with it (`--skip-invalid` names
/// each one it skips).
pub(crate) fn scan_instance_ids(text: &str) -> (Vec<String>, Vec<(usize, String)>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let entries = match text.trim_start().starts_with('[') {
        true => json_entries(text),
        false => line_entries(text),
    };
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    for (line, entry) in entries {
        match entry {
            Ok(id) if is_wix_id(&id) => {
                if seen.insert(id.clone()) {
                    ids.push(id);
                }
            }
            Ok(id) => bad.push((
                line,
                format!(
                    "{:?} does not look like a Wix instance id (letters, digits and dashes, at most 64)",
                    printable(&id, 80)
                ),
            )),
            Err(why) => bad.push((line, why)),
        }
    }
    (ids, bad)
}

type Entry = (usize, Result<String, String>);

fn line_entries(text: &str) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(n, line)| (n, Ok(line.to_string())))
        .collect()
}

/// The strings of a JSON array, each with the line it starts on. Anything else in the array
/// (a number, an object) is a bad entry; text that is not a JSON array is one bad line.
fn json_entries(text: &str) -> Vec<Entry> {
    if let Err(e) = serde_json::from_str::<Vec<serde_json::Value>>(text) {
        let why = format!("not a JSON array of instance ids ({e})");
        return vec![(e.line().max(1), Err(why))];
    }
    // Valid JSON: walk it once more for where each element starts.
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut line = 1;
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'[' | b'{' => {
                if depth == 1 {
                    out.push((line, Err("not a string".to_string())));
                }
                depth += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                let end = string_end(bytes, i);
                if depth == 1 {
                    let literal = &text[i..end];
                    let value = serde_json::from_str::<String>(literal).map_err(|e| e.to_string());
                    out.push((line, value));
                }
                i = end;
                continue;
            }
            b',' | b' ' | b'\t' | b'\r' => {}
            _ if depth == 1 => {
                // A number, true, false or null: up to the next separator.
                out.push((line, Err("not a string".to_string())));
                while i < bytes.len() && !matches!(bytes[i], b',' | b']' | b'\n') {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The index just past the string literal starting at `start` (a `"`).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_a_line_with_blanks_comments_crlf_and_repeats() {
        let text = "\u{feff}# exported 2026-12-07\r\ninst-1\r\n\r\n  inst-2  \ninst-1\n";
        assert_eq!(
            parse_instance_ids(text).unwrap(),
            vec!["inst-1".to_string(), "inst-2".to_string()]
        );
        assert_eq!(parse_instance_ids("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_bad_line_is_named() {
        let (line, why) = parse_instance_ids("inst-1\ninst-2\ninstance_id\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(why.contains("\"instance_id\""), "{why}");
        let (ids, bad) = scan_instance_ids("a-1\nbad id\nb-2\n../../etc\n");
        assert_eq!(ids, vec!["a-1", "b-2"]);
        assert_eq!(bad.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 4]);
        // What is shown of a bad line is escaped and bounded.
        let (_, why) = parse_instance_ids(&format!("\x1b[2J{}", "x".repeat(500))).unwrap_err();
        assert!(!why.contains('\x1b') && why.len() < 300, "{why}");
    }

    #[test]
    fn a_json_array_of_ids() {
        assert_eq!(
            parse_instance_ids("[\"inst-1\", \"inst-2\",\n \"inst-1\"]").unwrap(),
            vec!["inst-1", "inst-2"]
        );
        assert_eq!(
            parse_instance_ids("  [\n\"a-1\",\n\"b\\u002d2\"\n]").unwrap(),
            vec!["a-1", "b-2"]
        );
        let (line, why) = parse_instance_ids("[\n\"a-1\",\n42,\n\"b-2\"]").unwrap_err();
        assert_eq!((line, why.as_str()), (3, "not a string"));
        let (line, _) = parse_instance_ids("[\n\"a-1\",\n{\"id\": \"x\"}]").unwrap_err();
        assert_eq!(line, 3);
        let (line, why) = parse_instance_ids("[\"a-1\",\n\"bad/id\"]").unwrap_err();
        assert_eq!(line, 2, "{why}");
        let (line, why) = parse_instance_ids("[\"a-1\",\n\"b-2\"").unwrap_err();
        assert!(line >= 1 && why.contains("JSON"), "{line} {why}");
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_an_answer_never_a_panic(text in ".{0,200}") {
            if let Ok(ids) = parse_instance_ids(&text) {
                for id in ids {
                    proptest::prop_assert!(is_wix_id(&id));
                }
            }
        }

        #[test]
        fn any_json_array_is_an_answer_never_a_panic(items in proptest::collection::vec("[a-z0-9\\[\\]{},: \"-]{0,12}", 0..6)) {
            let _ = parse_instance_ids(&format!("[{}]", items.join(",")));
        }
    }
}
