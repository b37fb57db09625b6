//! The pages the browser sees during a login: self-contained HTML, every value escaped.

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

fn page(title: &str, tone: &str, heading: &str, body_html: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · wixauth</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f6fb;color:#1d2433;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}}
main{{background:#fff;border-radius:14px;box-shadow:0 6px 30px rgba(20,30,60,.12);padding:2.2rem 2.6rem;max-width:34rem}}
h1{{font-size:1.45rem;margin:.2rem 0 1rem}} .mark{{font-size:2.2rem}} .ok{{color:#1a7f37}} .bad{{color:#b42318}}
p{{line-height:1.5}} code{{background:#eef1f7;border-radius:4px;padding:.1rem .35rem}} small{{color:#5b6478}}
</style></head>
<body><main><div class="mark {tone}">{mark}</div><h1>{heading}</h1>{body_html}
<p><small>You can close this tab. This page was served by wixauth on your own machine.</small></p></main></body></html>
"#,
        title = escape(title),
        mark = if tone == "ok" { "&#10004;" } else { "&#10008;" },
        heading = escape(heading),
    )
}

pub(crate) fn success(app_id: &str, instance_id: &str) -> String {
    page(
        "Logged in",
        "ok",
        "wixauth is logged in",
        &format!(
            "<p>App <code>{}</code> is authorised for instance <code>{}</code>, and its credentials are stored on your machine.</p><p>Back in the terminal, <code>wixauth token</code> prints a fresh access token.</p>",
            escape(app_id),
            escape(instance_id)
        ),
    )
}

/// After a Wix Headless member login.
pub(crate) fn member_success(client_id: &str) -> String {
    page(
        "Logged in",
        "ok",
        "wixauth is logged in",
        &format!(
            "<p>You are logged in as a site member for client <code>{}</code>, and the refresh token is stored on your machine.</p><p>Back in the terminal, <code>wixauth token</code> prints a fresh member token.</p>",
            escape(client_id)
        ),
    )
}

pub(crate) fn failure(what: &str, next: &str) -> String {
    page(
        "Login failed",
        "bad",
        "wixauth could not log in",
        &format!("<p>{}</p><p>{}</p>", escape(what), escape(next)),
    )
}

pub(crate) fn not_found() -> String {
    page(
        "Not found",
        "bad",
        "Nothing here",
        "<p>This address belongs to a wixauth login that is waiting for Wix's redirect. Nothing is served here.</p>",
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

    #[test]
    fn values_are_escaped() {
        let html = failure("<script>alert('x')</script>", "a & b \"c\"");
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("a &amp; b &quot;c&quot;"));
        let html = success("<app>", "<i>");
        assert!(!html.contains("<app>") && !html.contains("<i>"));
    }

    #[test]
    fn pages_are_self_contained() {
        for html in [success("a", "i"), failure("x", "y"), not_found()] {
            assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("@import"));
            assert!(html.contains("close this tab"));
        }
    }
}
