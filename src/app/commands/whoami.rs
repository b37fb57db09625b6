//! `wixauth whoami`: what Wix says about the token (Token Info) and the instance (Get App Instance).

use serde::Serialize;
use serde_json::Value;

use crate::app::cli::WhoamiArgs;
use crate::app::context::Context;
use crate::core::error::Result;
use crate::core::text::printable;
use crate::ui::Io;
use crate::wix::apps::{
    parse_instance, parse_member, parse_token_info, InstanceInfo, MemberInfo, TokenInfo,
};
use crate::wix::Request;

pub(crate) struct WhoamiOptions {
    pub json: bool,
}

impl From<&WhoamiArgs> for WhoamiOptions {
    fn from(args: &WhoamiArgs) -> Self {
        WhoamiOptions { json: args.json }
    }
}

#[derive(Serialize)]
struct Report {
    profile: String,
    flow: crate::settings::Flow,
    token: TokenInfo,
    instance: Option<InstanceInfo>,
    /// Headless member tokens: Get My Member.
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<MemberInfo>,
    warnings: Vec<String>,
}

pub(crate) fn run(opts: &WhoamiOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    let session = ctx.session();
    let target = session.resolve(ctx.instance.as_deref(), None)?;
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
        profile: ctx.profile.clone(),
        flow: target.flow,
        token: token_info,
        instance,
        member,
        warnings,
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
    if opts.json {
        return io.print_json(&report, true);
    }
    io.print(&human(&report))
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
        ("profile", report.profile.clone()),
        ("flow", report.flow.to_string()),
        ("app id", dash(&report.token.app_id)),
        ("instance", dash(&report.token.instance_id)),
        ("site id", dash(&report.token.site_id)),
        ("token active", report.token.active.to_string()),
        ("token expires", expiry(&report.token.expires_at)),
    ];
    if report.flow.is_headless() {
        rows[2].0 = "client id";
        rows[3] = (
            "subject",
            format!(
                "{} {}",
                dash(&report.token.subject_type),
                dash(&report.token.subject_id)
            ),
        );
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

/// `in 3h 59m (2026-12-01T23:59:00Z)`: relative for a person, the exact time beside it.
fn expiry(at: &Option<String>) -> String {
    let Some(at) = at else {
        return "-".into();
    };
    let relative = humantime::parse_rfc3339(at).ok().map(|t| {
        let now = std::time::SystemTime::now();
        let secs = match t.duration_since(now) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        crate::core::text::relative(secs)
    });
    match relative {
        Some(r) => format!("{r} ({at})"),
        None => at.clone(),
    }
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
