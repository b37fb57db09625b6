//! The pages the browser sees during a login: self-contained HTML, every value escaped.

use crate::core::error::{Error, Invocation};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a page looks: done, failed (one next step follows), or calm (the login goes on).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tone {
    Ok,
    Bad,
    Waiting,
}

fn page(title: &str, tone: Tone, heading: &str, body_html: &str) -> String {
    let (class, mark) = match tone {
        Tone::Ok => ("ok", "&#10004;"),
        Tone::Bad => ("bad", "&#10008;"),
        Tone::Waiting => ("wait", "&#8987;"),
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · wixauth</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f6fb;color:#1d2433;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}}
main{{background:#fff;border-radius:14px;box-shadow:0 6px 30px rgba(20,30,60,.12);padding:2.2rem 2.6rem;max-width:34rem}}
h1{{font-size:1.45rem;margin:.2rem 0 1rem}} .mark{{font-size:2.2rem}} .ok{{color:#1a7f37}} .bad{{color:#b42318}} .wait{{color:#5b6478}}
p{{line-height:1.5}} code{{background:#eef1f7;border-radius:4px;padding:.1rem .35rem}} small{{color:#5b6478}}
</style></head>
<body><main><div class="mark {class}">{mark}</div><h1>{heading}</h1>{body_html}
<p><small>You can close this tab. This page was served by wixauth on your own machine.</small></p></main></body></html>
"#,
        title = escape(title),
        heading = escape(heading),
    )
}

/// After an app login: which site was authorised (`site` names it, or says Wix did not).
pub(crate) fn success(app_id: &str, instance_id: &str, site: &str) -> String {
    page(
        "Logged in",
        Tone::Ok,
        "wixauth is logged in",
        &format!(
            "<p>App <code>{}</code> is authorised for {} (instance <code>{}</code>), and its credentials are stored on your machine.</p><p>If that is not the site you meant, run <code>wixauth logout</code> in the terminal.</p><p>Back in the terminal, <code>wixauth token</code> prints a fresh access token.</p>",
            escape(app_id),
            escape(site),
            escape(instance_id)
        ),
    )
}

/// After a Wix Headless member login: who is logged in (`who` names the member).
pub(crate) fn member_success(client_id: &str, who: &str) -> String {
    page(
        "Logged in",
        Tone::Ok,
        "wixauth is logged in",
        &format!(
            "<p>You are logged in as {} for client <code>{}</code>, and the refresh token is stored on your machine.</p><p>Back in the terminal, <code>wixauth token</code> prints a fresh member token.</p>",
            escape(who),
            escape(client_id)
        ),
    )
}

/// A failure page for an error that ended the login: what failed, as a sentence, and its one
/// next step, rendered from the same fields as the terminal's error line.
pub(crate) fn error(error: &Error, how: &Invocation) -> String {
    let next = match error.next_step() {
        Some(fix) => format!("Next: {}.", capitalised(&fix.render(how))),
        None => "Back in the terminal, wixauth says what to do next.".to_string(),
    };
    failure(error.what(), &next)
}

/// A failure page: what happened, in a sentence for a person, and the one next step.
pub(crate) fn failure(what: &str, next: &str) -> String {
    page(
        "Login failed",
        Tone::Bad,
        "wixauth could not log in",
        &format!("<p>{}</p><p>{}</p>", prose(&sentence(what)), prose(next)),
    )
}

/// A request the login set aside (a reload, another page's redirect, a stray address): calm,
/// since the login goes on.
pub(crate) fn still_waiting(what: &str, next: &str) -> String {
    page(
        "Still waiting",
        Tone::Waiting,
        "wixauth is still waiting for your login",
        &format!("<p>{}</p><p>{}</p>", prose(what), prose(next)),
    )
}

/// A line as a sentence: the first letter capitalised, ending with a stop.
fn sentence(text: &str) -> String {
    let mut out = capitalised(text.trim().trim_end_matches(['.', ':', ';', ' ']));
    out.push('.');
    out
}

fn capitalised(text: &str) -> String {
    let mut out = text.to_string();
    if let Some(first) = out.chars().next() {
        out.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
    }
    out
}

/// Escaped text where a `command` becomes <code>command</code> (no literal backticks).
fn prose(text: &str) -> String {
    escape(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

pub(crate) fn not_found() -> String {
    page(
        "Not found",
        Tone::Waiting,
        "Nothing here",
        "<p>This address belongs to a wixauth login that is waiting for Wix's redirect back; nothing else is served here.</p><p>To log in, open the URL wixauth printed in the terminal.</p>",
    )
}

/// The answer to a request that arrives after the login has ended.
pub(crate) fn ended() -> String {
    failure(
        "This login has already ended.",
        "Run `wixauth login` again to start a new one.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text a person sees: tags dropped.
    fn visible(html: &str) -> String {
        let body = &html[html.find("<body>").unwrap_or(0)..];
        let mut out = String::new();
        let mut in_tag = false;
        for c in body.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn pages_read_as_written_for_a_person() {
        let e = Error::rejected(
            "exchanging the authorization code: Wix rejected the credentials (HTTP 400, request id r1: invalid code)",
        )
        .run(crate::core::error::Cmd::login());
        let how = Invocation {
            profile: Some("shop".into()),
            ..Invocation::default()
        };
        let page = error(&e, &how);
        let text = visible(&page);
        assert!(!text.contains('`'), "{text}");
        assert!(text.contains("Exchanging the authorization code: Wix rejected the credentials (HTTP 400, request id r1: invalid code)."), "{text}");
        assert_eq!(
            text.matches("wixauth --profile shop login").count(),
            1,
            "one instruction, with the user's own flags: {text}"
        );
        assert!(
            page.contains("<code>wixauth --profile shop login</code>"),
            "{page}"
        );
        let text = visible(&not_found());
        assert!(
            text.contains("open the URL wixauth printed in the terminal"),
            "{text}"
        );
        for page in [
            ended(),
            failure("the install was not approved", "Run `wixauth login` again."),
        ] {
            let text = visible(&page);
            assert!(!text.contains('`'), "{text}");
        }
    }

    #[test]
    fn values_are_escaped() {
        let html = failure("<script>alert('x')</script>", "a & b \"c\"");
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("a &amp; b &quot;c&quot;"));
        let html = success("<app>", "<i>", "site \"<b>\"");
        assert!(!html.contains("<app>") && !html.contains("<i>"));
    }

    #[test]
    fn pages_are_self_contained() {
        for html in [success("a", "i", "s"), failure("x", "y"), not_found()] {
            assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("@import"));
            assert!(html.contains("close this tab"));
        }
    }
}
