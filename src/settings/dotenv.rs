//! Dotenv files (`.env.local`, `.env`, what `wix env pull` writes): `KEY=value` lines, `export `,
//! `#` comments, single quotes (literal) and double quotes (with `\n`-style escapes), a quoted
//! value may span lines. No `$VAR` expansion: a value is what the file says.
//!
//! A pure function of the text, so a fuzz target can call it. An error is the line number and
//! why, never any text of the line: values hold secrets.

/// The file's `(KEY, value)` pairs in order (a key given twice appears twice: the last wins
/// for whoever reads them), or the 1-based line of the first malformed entry and why.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut pairs = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let number = at + 1;
        let line = lines[at].trim_start();
        at += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let entry = strip_export(line);
        let Some((key, after)) = entry.split_once('=') else {
            return Err((number, "expected KEY=value".into()));
        };
        let key = key.trim_end();
        if !is_key(key) {
            return Err((
                number,
                "the name before `=` is not a variable name (letters, digits and _, not starting with a digit)".into(),
            ));
        }
        let after = after.trim_start();
        let value = match after.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let (value, used) =
                    quoted(&after[1..], quote, &lines[at..]).map_err(|why| (number, why))?;
                at += used;
                value
            }
            _ => unquoted(after),
        };
        pairs.push((key.to_string(), value));
    }
    Ok(pairs)
}

/// `export KEY=…` as a shell would source it.
fn strip_export(line: &str) -> &str {
    match line.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => line,
    }
}

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// An unquoted value: up to a `#` that follows a blank (a comment), trimmed.
fn unquoted(text: &str) -> String {
    let mut end = text.len();
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        if c == '#' && previous.is_whitespace() {
            end = i;
            break;
        }
        previous = c;
    }
    text[..end].trim().to_string()
}

/// A quoted value starting after its opening quote, on this line and, while the quote stays
/// open, the `next` ones. Returns the value and how many more lines it used.
fn quoted(first: &str, quote: char, next: &[&str]) -> Result<(String, usize), String> {
    let mut value = String::new();
    let mut text = first;
    let mut used = 0;
    loop {
        let mut chars = text.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                let rest = text[i + c.len_utf8()..].trim_start();
                if !(rest.is_empty() || rest.starts_with('#')) {
                    return Err(format!(
                        "text after the closing quote{}",
                        match used {
                            0 => String::new(),
                            n => format!(" (on line +{n} of this value)"),
                        }
                    ));
                }
                return Ok((value, used));
            }
            if c == '\\' && quote == '"' {
                match chars.next() {
                    Some((_, e)) => value.push_str(&unescape(e)),
                    // A backslash at the end of a line: the newline is part of the value.
                    None => value.push('\\'),
                }
                continue;
            }
            value.push(c);
        }
        let Some(line) = next.get(used) else {
            return Err(format!("the {quote} quote opened here is never closed"));
        };
        value.push('\n');
        text = line;
        used += 1;
    }
}

/// What `\e` stands for inside double quotes; an unknown escape is kept as it is.
fn unescape(e: char) -> String {
    match e {
        'n' => "\n".into(),
        'r' => "\r".into(),
        't' => "\t".into(),
        '"' | '\'' | '\\' | '$' => e.to_string(),
        other => format!("\\{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn what_wix_env_pull_writes() {
        // The keys as `wix env pull` writes them, with its WIX_ prefix left out here.
        let text = "# Wix\nCLIENT_ID=3bbcabc7-1d2f\nCLIENT_SECRET=\"s3cr=t#1\"\r\nexport CLIENT_INSTANCE_ID='i-1'  # the instance\n\n";
        assert_eq!(
            ok(text),
            pairs(&[
                ("CLIENT_ID", "3bbcabc7-1d2f"),
                ("CLIENT_SECRET", "s3cr=t#1"),
                ("CLIENT_INSTANCE_ID", "i-1"),
            ])
        );
    }

    #[test]
    fn quotes_comments_and_spaces() {
        assert_eq!(
            ok("\u{feff}A = plain value # note\nB=a#b\nC=\nD=\"x\\ny\\\"z\\q\"\nE='no \\n escape'\n  F=\t'  kept  '\n"),
            pairs(&[
                ("A", "plain value"),
                ("B", "a#b"),
                ("C", ""),
                ("D", "x\ny\"z\\q"),
                ("E", "no \\n escape"),
                ("F", "  kept  "),
            ])
        );
        assert_eq!(
            ok("K=\"line one\nline two\"\nL=1"),
            pairs(&[("K", "line one\nline two"), ("L", "1")])
        );
        assert_eq!(
            ok("export=1\nK=1\nK=2"),
            pairs(&[("export", "1"), ("K", "1"), ("K", "2")])
        );
    }

    #[test]
    fn malformed_lines_are_named_without_their_text() {
        for (text, line) in [
            ("A=1\nsecret-without-a-name\n", 2),
            ("A=1\n\n1BAD=secret\n", 3),
            ("A=\"secret\nstill open", 1),
            ("A='secret' trailing\n", 1),
            ("export secret\n", 1),
            ("A-B=secret", 1),
        ] {
            let (at, why) = parse(text).unwrap_err();
            assert_eq!(at, line, "{text:?}: {why}");
            assert!(!why.contains("secret"), "{why}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_names_a_line_in_it(text in "\\PC*(\n\\PC*){0,4}") {
            if let Err((line, _)) = parse(&text) {
                proptest::prop_assert!(line >= 1 && line <= text.split('\n').count());
            }
        }

        #[test]
        fn a_double_quoted_value_comes_back(value in "[^\\n\\r]{0,40}") {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            let parsed = parse(&format!("K=\"{escaped}\"\n")).unwrap();
            proptest::prop_assert_eq!(parsed, vec![("K".to_string(), value)]);
        }
    }
}
