//! `wixauth api PATH`: an authenticated request to the Wix REST API, like `gh api`.

mod each;

use std::io::{Read, Write};

use crate::app::cli::{ApiArgs, FleetArgs};
use crate::app::context::Context;
use crate::core::error::{Error, Exit, Result};
use crate::core::secret::Secret;
use crate::ui::Io;
use crate::wix::urls::api_url;
use crate::wix::{self, Method, Request};

pub(crate) struct ApiOptions {
    pub path: String,
    pub method: Option<String>,
    pub data: Option<String>,
    pub headers: Vec<String>,
    pub include: bool,
    /// `--explain`: the "why" block after any answer, not only a refusal.
    pub explain: bool,
    /// `--each-instance` and the flags that go with it.
    pub fleet: FleetArgs,
}

/// The answers that get the "why was I refused?" block without `--explain`.
const EXPLAINED: [u16; 4] = [401, 403, 404, 428];

impl From<&ApiArgs> for ApiOptions {
    fn from(args: &ApiArgs) -> Self {
        ApiOptions {
            path: args.path.clone(),
            method: args.method.clone(),
            data: args.data.clone(),
            headers: args.headers.clone(),
            include: args.include,
            explain: args.explain,
            fleet: args.fleet.clone(),
        }
    }
}

/// The largest body `-d @file` or `@-` reads.
const MAX_BODY: u64 = 16 << 20;

/// The body from `-d`: literal JSON, `@file` or `@-` (stdin), at most [`MAX_BODY`]; it must be
/// valid JSON.
pub(crate) fn read_body(data: &str, stdin: &mut dyn Read) -> Result<String> {
    let bounded = |source: &mut dyn Read, name: &str| -> Result<String> {
        let mut text = String::new();
        source
            .take(MAX_BODY + 1)
            .read_to_string(&mut text)
            .map_err(|e| Error::usage(format!("cannot read the body from {name}: {e}")))?;
        match text.len() as u64 > MAX_BODY {
            true => Err(Error::usage(format!(
                "the body from {name} is over {} MiB, more than `wixauth api` sends",
                MAX_BODY >> 20
            ))),
            false => Ok(text),
        }
    };
    let text = if data == "@-" {
        bounded(stdin, "stdin")?
    } else if let Some(file) = data.strip_prefix('@') {
        let mut opened = std::fs::File::open(file)
            .map_err(|e| Error::usage(format!("cannot read the body file {file}: {e}")))?;
        bounded(&mut opened, file)?
    } else {
        data.to_string()
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| Error::usage(format!("the -d body is not valid JSON ({e})")))?;
    Ok(text)
}

/// `Name: value` headers; `Authorization` is wixauth's to set.
pub(crate) fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|h| {
            let (name, value) = h
                .split_once(':')
                .map(|(n, v)| (n.trim(), v.trim()))
                // As HTTP defines them: a bad one is the user's to fix (exit 2), not a network
                // failure to retry.
                .filter(|(n, v)| wix::valid_header(n, v))
                .ok_or_else(|| Error::usage(format!("-H {h:?} is not a `Name: value` header")))?;
            if name.eq_ignore_ascii_case("authorization") {
                return Err(Error::usage(
                    "-H Authorization is not allowed: wixauth sets it with a fresh token",
                ));
            }
            Ok((name.to_string(), value.to_string()))
        })
        .collect()
}

pub(crate) fn run(opts: &ApiOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    let not_for_fleets = (opts.include, opts.explain);
    let fleet = each::options(&opts.fleet, not_for_fleets, opts.data.as_deref())?;
    let url = api_url(ctx.wix().api(), &opts.path)?;
    let body = opts
        .data
        .as_deref()
        .map(|d| read_body(d, &mut io.stdin))
        .transpose()?;
    let mut headers = parse_headers(&opts.headers)?;
    let method_name = opts
        .method
        .clone()
        .unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into())
        .to_ascii_uppercase();
    let method = Method::parse(&method_name)
        .ok_or_else(|| Error::usage(format!("-X {method_name:?} is not an HTTP method")))?;
    let content_type = headers
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|i| headers.remove(i).1)
        .unwrap_or_else(|| "application/json".into());
    if let Some(fleet) = fleet {
        let call = each::Call::new(url, method, headers, content_type, body);
        return each::run(&fleet, call, ctx, io);
    }
    let session = ctx.session();
    let target = session.resolve(ctx.instance.as_deref(), None)?;
    let request = Request {
        method: method.clone(),
        url: url.to_string(),
        headers,
        auth: None,
        body: body.map(|b| (content_type, Secret::new(b))),
        // Only GET is repeated on 429/5xx: a POST may not be safe to send twice.
        idempotent: method == Method::GET,
    };
    let (response, token) = session.authorised_send(&target, request)?;
    // At most one more call (Token Info), and none for a 2xx unless asked.
    let explained = (opts.explain || EXPLAINED.contains(&response.status))
        .then(|| session.explain(&target, &response, &token, url.path()))
        .map(|e| e.lines(&ctx.how))
        .unwrap_or_default();
    io.flush_notes(&ctx.notes);

    let mut out = String::new();
    if opts.include {
        out.push_str(&format!("HTTP/1.1 {}\n", response.status));
        // Header values are Wix's text: escaped on a terminal, raw into a pipe.
        let tty = io.stdout_tty || !response.is_success() && io.stderr_tty;
        for (name, value) in &response.headers {
            let value = match tty {
                true => crate::core::text::printable(value, usize::MAX),
                false => value.clone(),
            };
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
    }
    if !response.is_success() {
        // A failure leaves stdout empty: the status (and with --include the headers) and the
        // body go to stderr, ahead of the one error line.
        let _ = io.err.write_all(out.as_bytes());
        let body = for_terminal(&response.body, io.stderr_tty);
        let _ = io.err.write_all(&body);
        if !body.is_empty() && !body.ends_with(b"\n") {
            io.note("");
        }
        // The contract's exit for any non-2xx is 1; the line says what Wix said and what to do.
        let what = format!("{method} {}", url.path());
        return Err(session
            .call_failure(&target, &response, &what)
            .exit_as(Exit::Failure)
            .followed_by(explained));
    }
    for line in &explained {
        io.note(line);
    }
    io.print(&out)?;
    let pretty = io
        .stdout_tty
        .then(|| serde_json::from_slice::<serde_json::Value>(&response.body).ok())
        .flatten();
    match pretty {
        Some(value) => io.print_json(&value, true),
        None => io.write_out(&for_terminal(&response.body, io.stdout_tty)),
    }
}

/// What Wix sent, for a stream: byte for byte into a pipe or file; on a terminal, each line
/// with its control characters escaped (no escape sequence from a response reaches it).
fn for_terminal(body: &[u8], tty: bool) -> std::borrow::Cow<'_, [u8]> {
    if !tty {
        return body.into();
    }
    let mut shown = String::new();
    for line in String::from_utf8_lossy(body).split_inclusive('\n') {
        let (text, newline) = match line.strip_suffix('\n') {
            Some(text) => (text.strip_suffix('\r').unwrap_or(text), "\n"),
            None => (line, ""),
        };
        shown.push_str(&crate::core::text::printable(text, usize::MAX));
        shown.push_str(newline);
    }
    shown.into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_gets_no_escape_sequence_from_wix() {
        let body = b"{\"message\":\"\x1b]0;owned\x07\"}\r\nline two\n\x1b[2J";
        assert_eq!(for_terminal(body, false).as_ref(), body);
        let shown = String::from_utf8(for_terminal(body, true).into_owned()).unwrap();
        assert_eq!(
            shown,
            "{\"message\":\"\\u{1b}]0;owned\\u{7}\"}\nline two\n\\u{1b}[2J"
        );
    }

    #[test]
    fn bodies_must_be_json() {
        assert_eq!(
            read_body("{\"a\":1}", &mut std::io::empty()).unwrap(),
            "{\"a\":1}"
        );
        assert!(read_body("{oops", &mut std::io::empty()).is_err());
        assert!(read_body("@/nonexistent/file.json", &mut std::io::empty()).is_err());
        assert_eq!(read_body("@-", &mut "[1]".as_bytes()).unwrap(), "[1]");
    }

    #[test]
    fn headers_need_a_colon() {
        assert_eq!(
            parse_headers(&["X-A: b c".into()]).unwrap(),
            vec![("X-A".into(), "b c".into())]
        );
        assert!(parse_headers(&["nocolon".into()]).is_err());
        assert!(parse_headers(&[": v".into()]).is_err());
        assert!(parse_headers(&["X(1): v".into()]).is_err());
        assert!(parse_headers(&["X-A: a\u{1}b".into()]).is_err());
        assert!(parse_headers(&["Authorization: x".into()]).is_err());
    }
}
