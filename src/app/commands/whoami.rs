//! `wixauth whoami`: what Wix says about the token (Token Info) and the instance (Get App
//! Instance); for an API key, what the profile sends (no Wix call: Token Info is for OAuth
//! tokens). `--token -` describes a token read from stdin instead, one from the user's own code.

use serde::Serialize;
use serde_json::Value;

use crate::app::cli::WhoamiArgs;
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Fix, Result};
use crate::core::text::printable;
use crate::credentials::explain::describe;
use crate::credentials::Target;
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::ui::Io;
use crate::wix::apps::{
    parse_instance, parse_member, parse_token_info, InstanceInfo, MemberInfo, TokenInfo,
};
use crate::wix::Request;

pub(crate) struct WhoamiOptions {
    pub json: bool,
    /// `--token` as given: only `-` (stdin) is taken, so no token is ever an argument.
    pub token: Option<String>,
}

impl From<&WhoamiArgs> for WhoamiOptions {
    fn from(args: &WhoamiArgs) -> Self {
        WhoamiOptions {
            json: args.json,
            token: args.token.clone(),
        }
    }
}

/// The longest token `--token -` reads.
const MAX_TOKEN_LINE: usize = 16 << 10;

#[derive(Serialize)]
struct Report {
    /// `None` for a token from stdin (it is nobody's profile).
    profile: Option<String>,
    flow: Option<Flow>,
    /// `None` for an API key.
    token: Option<TokenInfo>,
    instance: Option<InstanceInfo>,
    /// Headless member tokens: Get My Member.
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<MemberInfo>,
    /// API key profiles: what the calls are for.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<KeyInfo>,
    warnings: Vec<String>,
    /// What the credential is, for a person (a token from stdin, an API key).
    #[serde(skip)]
    what: Option<String>,
}

#[derive(Serialize)]
struct KeyInfo {
    site_id: Option<String>,
    account_id: Option<String>,
    /// The headers each call sends (the key itself is never shown).
    headers: Vec<String>,
}

pub(crate) fn run(opts: &WhoamiOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    if let Some(given) = opts.token.as_deref() {
        return pasted(given, opts, ctx, io);
    }
    let session = ctx.session();
    let target = session.resolve(ctx.instance.as_deref(), None)?;
    if target.flow.kind() == Kind::ApiKey {
        session.ready(&target)?;
        return show(opts, io, &key_report(ctx, &target));
    }
    let client = ctx.wix().get()?;
    let mut member = None;
    let (instance_response, token) = if target.flow.is_headless() {
        // No app instance behind a headless token; a member has a member record instead.
        let token = session
            .fresh_token(
                &target,
                crate::credentials::Freshness {
                    min_ttl: crate::credentials::DEFAULT_MIN_TTL,
                    force: false,
                },
            )?
            .access_token;
        if target.flow == crate::settings::Flow::Member {
            member = Some(parse_member(&client.my_member(&token)?));
        }
        (None, token)
    } else {
        let instance_request = Request::get(client.url("apps/v1/instance"));
        let (r, t) = session.authorised_send(&target, instance_request)?;
        (Some(r), t)
    };
    // Get App Instance first: it tells whether Wix still takes the cached token (a 401 gets
    // one new token and one more try), so that Token Info then describes the token wixauth
    // actually hands out.
    io.flush_notes(&ctx.notes);
    let mut warnings = Vec::new();
    let instance = match instance_response.as_ref().map(|r| r.status) {
        None => None,
        Some(status) => match status {
            200..=299 => instance_response
                .as_ref()
                .and_then(|r| serde_json::from_slice::<Value>(&r.body).ok())
                .map(|v| parse_instance(&v)),
            403 => {
                warnings.push("Get App Instance was refused (HTTP 403): give the app the \"Manage Your App\" permission in its dashboard to see the app and site names".to_string());
                None
            }
            _ => {
                return Err(instance_response
                    .as_ref()
                    .map(|r| session.call_failure(&target, r, "reading the app instance"))
                    .unwrap_or_else(|| {
                        crate::core::error::Error::failure("reading the app instance")
                    }))
            }
        },
    };

    let token_info = parse_token_info(&client.token_info(&token)?);

    let report = Report {
        profile: Some(ctx.profile.clone()),
        flow: Some(target.flow),
        token: Some(token_info),
        instance,
        member,
        api_key: None,
        warnings,
        what: None,
    };
    // Warnings are notes for a person: stderr, in both modes (JSON also lists them).
    for w in &report.warnings {
        io.warn(w);
    }
    // What Wix said of the site is kept for `status`, `switch` and completion.
    if let (Some(i), Some(id)) = (&report.instance, &target.instance_id) {
        let remembered =
            session
                .lifecycle()
                .remember_site(id, i.site_name.as_deref(), i.site_url.as_deref());
        if let Err(e) = remembered {
            crate::core::log::debug!("cannot keep the site name: {e}");
        }
    }
    show(opts, io, &report)
}

fn show(opts: &WhoamiOptions, io: &mut Io, report: &Report) -> Result<()> {
    if opts.json {
        return io.print_json(report, true);
    }
    io.print_report(&human(report), 14)
}

/// `--token -`: Token Info on a token read from stdin (never echoed), described as the
/// "why was I refused?" block describes a credential.
fn pasted(given: &str, opts: &WhoamiOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    if given != "-" {
        return Err(Error::usage(
            "--token takes only `-`: a token on the command line would show in `ps` and shell history",
        )
        .fix(Fix::Pipe("the token".into(), Cmd::new(&["whoami", "--token", "-"]))));
    }
    let token = io.read_secret_line(MAX_TOKEN_LINE, "--token -")?;
    if token.is_empty() {
        return Err(Error::usage("--token - read an empty line").fix(Fix::Pipe(
            "the token".into(),
            Cmd::new(&["whoami", "--token", "-"]),
        )));
    }
    let info = parse_token_info(&ctx.wix().get()?.token_info(&token)?);
    let report = Report {
        profile: None,
        flow: None,
        what: Some(describe(&info)),
        token: Some(info),
        instance: None,
        member: None,
        api_key: None,
        warnings: Vec::new(),
    };
    show(opts, io, &report)
}

/// An API key profile: what its calls send. Wix is not asked (Token Info is for OAuth tokens).
fn key_report(ctx: &Context, target: &Target) -> Report {
    let mut headers = vec!["Authorization: (the key)".to_string()];
    headers.extend(target.headers().iter().map(|(n, v)| format!("{n}: {v}")));
    let what = match (&target.site_id, &target.account_id) {
        (Some(s), Some(a)) => format!("an API key for site {s} and account {a}"),
        (Some(s), None) => format!("an API key for site {s}"),
        (None, Some(a)) => format!("an API key for account {a}"),
        (None, None) => "an API key".to_string(),
    };
    Report {
        profile: Some(ctx.profile.clone()),
        flow: Some(target.flow),
        token: None,
        instance: None,
        member: None,
        api_key: Some(KeyInfo {
            site_id: target.site_id.clone(),
            account_id: target.account_id.clone(),
            headers,
        }),
        warnings: Vec::new(),
        what: Some(what),
    }
}

/// One row per fact, for a person.
fn human(report: &Report) -> String {
    // Names and URLs come from Wix: printed with control characters escaped.
    let dash = |v: &Option<String>| {
        v.as_deref()
            .map(|v| printable(v, 200))
            .unwrap_or_else(|| "-".into())
    };
    let mut rows = vec![
        ("profile", dash(&report.profile)),
        ("flow", dash(&report.flow.map(|f| f.to_string()))),
    ];
    if let Some(what) = &report.what {
        rows.push(("what it is", what.clone()));
    }
    if let Some(key) = &report.api_key {
        rows.push(("sends", key.headers.join(", ")));
    }
    if let Some(token) = &report.token {
        // A Wix Headless token (or one from stdin) has a subject, not an app instance.
        let headless = report.flow.is_none_or(Flow::is_headless);
        rows.push(match headless {
            true => ("client id", dash(&token.app_id)),
            false => ("app id", dash(&token.app_id)),
        });
        rows.push(match headless {
            true => (
                "subject",
                format!("{} {}", dash(&token.subject_type), dash(&token.subject_id)),
            ),
            false => ("instance", dash(&token.instance_id)),
        });
        rows.push(("site id", dash(&token.site_id)));
        rows.push(("token active", token.active.to_string()));
        rows.push(("token expires", expiry(&token.expires_at)));
    }
    if let Some(m) = &report.member {
        rows.push(("login email", dash(&m.login_email)));
        rows.push(("nickname", dash(&m.nickname)));
        rows.push(("member id", dash(&m.id)));
    }
    if let Some(i) = &report.instance {
        rows.push(("app name", dash(&i.app_name)));
        rows.push(("site name", dash(&i.site_name)));
        rows.push(("site url", dash(&i.site_url)));
        rows.push((
            "permissions",
            if i.permissions.is_empty() {
                "-".into()
            } else {
                printable(&i.permissions.join(", "), 2000)
            },
        ));
    }
    rows.iter().map(|(k, v)| format!("{k:<14}{v}\n")).collect()
}

/// `in 3h 59m (2026-12-01T23:59:00Z)`, or `-` when Wix did not say.
fn expiry(at: &Option<String>) -> String {
    at.as_deref()
        .map(crate::core::text::expiry)
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exp_and_iat_as_numbers_or_strings() {
        let a = parse_token_info(
            &json!({"active": "true", "exp": "1715096067", "iat": 1715081667, "clientId": "app"}),
        );
        assert!(a.active);
        assert_eq!(a.expires_at.as_deref(), Some("2024-05-07T15:34:27Z"));
        assert_eq!(a.issued_at.as_deref(), Some("2024-05-07T11:34:27Z"));
        let b = parse_token_info(&json!({"active": false, "exp": "soon"}));
        assert!(!b.active);
        assert_eq!(b.expires_at, None);
        // Once a panic: a time past any real expiry is unknown.
        let c = parse_token_info(&json!({"exp": "18446744073709551615", "iat": u64::MAX}));
        assert_eq!((c.expires_at, c.issued_at), (None, None));
    }

    #[test]
    fn instance_fields() {
        let i = parse_instance(
            &json!({"instance": {"appName": "A", "instanceId": "i", "permissions": ["P"]}, "site": {"siteDisplayName": "S", "url": ""}}),
        );
        assert_eq!(i.app_name.as_deref(), Some("A"));
        assert_eq!(i.site_url, None);
        assert_eq!(i.permissions, vec!["P"]);
    }
}
