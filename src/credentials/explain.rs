//! "Why was I refused?": the block `wixauth api` prints after a refused call (and for any call
//! with `--explain`): what the credential is (Token Info, or "an API key for site …"), Wix's
//! error code and message, the request id, and the most likely cause with its fix from the
//! table below. A refusal the table does not know is shown as Wix's answer, never guessed at.
//!
//! The table, each row with where its facts come from (../shared/wix-oauth-reference.md; the
//! same list is in README.md):
//!
//! | Wix's answer | credential | cause / fix | source |
//! |---|---|---|---|
//! | `MISSING_METASITE_ID` (428) | any | a site-level call without `wix-site-id` / the key's `--site-id`, `WIX_SITE_ID`, or `-H` | §18, §13.2 |
//! | 401/403 | visitor or member token (Token Info) | an admin method needs an app or admin identity / another profile | §18 (admin operations), issue 18 |
//! | 401/403 naming a `SCOPE.…` permission | app, admin, key | the permission is missing / request it, re-approve (key: API Keys Manager) | §11.1 [S39] |
//! | "not installed" | app token | the app left the site / `logout --instance`, or reinstall | §11.2 [S29], §17 |
//! | 401, Token Info inactive or unknown | a token | expired or revoked / log in again | §11.1, §11.2 [S40] |
//! | 401 | API key | revoked or replaced / pipe the current key in | §18 (API keys) |

use super::{Session, Source, Target};
use crate::core::error::{Cmd, Fix, Invocation};
use crate::core::secret::Secret;
use crate::core::text::{expiry, printable};
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::wix::apps::{parse_token_info, TokenInfo};
use crate::wix::refusal::Refusal;
use crate::wix::Response;

/// The block, before it is rendered with the user's flags.
pub(crate) struct Explained {
    /// `credential: …`, `Wix's error: …`, `request id: …`.
    facts: Vec<String>,
    verdict: Verdict,
}

enum Verdict {
    /// The call worked (`--explain` on a 2xx).
    Accepted(u16),
    Cause(String, Fix),
    /// Not in the table: Wix's answer as it is.
    Unknown(String),
}

impl Explained {
    /// The lines for stderr; `cause:` and `fix:` lines start with those words.
    pub(crate) fn lines(&self, how: &Invocation) -> Vec<String> {
        let mut lines = self.facts.clone();
        match &self.verdict {
            Verdict::Accepted(status) => {
                lines.push(format!("Wix accepted the call (HTTP {status})."))
            }
            Verdict::Cause(cause, fix) => {
                lines.push(format!("cause: {cause}"));
                lines.push(format!("fix: {}", fix.render(how)));
            }
            Verdict::Unknown(body) => lines.push(format!("Wix's answer: {body}")),
        }
        lines
    }
}

/// What Token Info said of the token, or why it did not.
enum Described {
    Info(TokenInfo),
    Unknown(String),
    /// An API key: Token Info is for OAuth tokens, and is not asked.
    Key,
}

impl Session<'_> {
    /// Explains Wix's `response` to `path`, called with `token` for `target`. At most one
    /// Token Info call (none for an API key).
    pub(crate) fn explain(
        &self,
        target: &Target,
        response: &Response,
        token: &Secret,
        path: &str,
    ) -> Explained {
        let refusal = Refusal::of(response);
        let described = match target.flow.kind() {
            Kind::ApiKey => Described::Key,
            Kind::App | Kind::Headless => match self.wix.get().and_then(|w| w.token_info(token)) {
                Ok(v) => Described::Info(parse_token_info(&v)),
                Err(e) => Described::Unknown(e.what().to_string()),
            },
        };
        let mut facts = vec![format!("credential: {}", credential(target, &described))];
        match (&refusal.code, &refusal.message) {
            (Some(code), Some(message)) => facts.push(format!("Wix's error: {code}: {message}")),
            (Some(text), None) | (None, Some(text)) if !response.is_success() => {
                facts.push(format!("Wix's error: {text}"))
            }
            _ => {}
        }
        if let Some(id) = &refusal.request_id {
            facts.push(format!("request id: {id}"));
        }
        let verdict = match response.is_success() {
            true => Verdict::Accepted(response.status),
            false => match self.cause(target, &described, &refusal, path) {
                Some((cause, fix)) => Verdict::Cause(cause, fix),
                None => Verdict::Unknown(refusal.body.clone()),
            },
        };
        Explained { facts, verdict }
    }

    /// The table's row for this refusal, first match wins; `None` when none fits.
    fn cause(
        &self,
        target: &Target,
        described: &Described,
        refusal: &Refusal,
        path: &str,
    ) -> Option<(String, Fix)> {
        let denied = matches!(refusal.status, 401 | 403);
        let info = match described {
            Described::Info(info) => Some(info),
            Described::Unknown(_) | Described::Key => None,
        };
        let subject = info.and_then(|i| i.subject_type.as_deref()).unwrap_or("");
        if refusal.has_code("MISSING_METASITE_ID") {
            return Some(self.missing_site(target));
        }
        if denied && matches!(subject, "VISITOR" | "MEMBER") {
            return Some(self.needs_admin(subject, path));
        }
        if let Some(permission) = refusal.permission.as_deref().filter(|_| denied) {
            return Some(missing_permission(target, permission));
        }
        let instance = target
            .instance_id
            .clone()
            .or_else(|| info.and_then(|i| i.instance_id.clone()));
        if let Some(instance) = instance.filter(|_| refusal.says_not_installed()) {
            return Some((
                format!("the app is no longer installed on the site of instance {instance}"),
                Fix::RunOr(
                    Cmd::new(&["logout", "--instance", instance.as_str()]),
                    "install the app on that site again (its instance id stays the same)".into(),
                ),
            ));
        }
        if refusal.status != 401 {
            return None;
        }
        match described {
            Described::Key => Some(key_refused(target)),
            Described::Info(i) if i.active => None,
            Described::Info(_) | Described::Unknown(_) => Some((
                "Wix no longer takes this token: it has expired or was revoked".into(),
                match target.app_from {
                    Source::Env => Fix::Do(format!(
                        "check the {} variables this run was given",
                        target.flow.kind().noun()
                    )),
                    Source::Flag | Source::Stored => Fix::Run(Cmd::new(target.flow.login_args())),
                },
            )),
        }
    }

    /// 428 `MISSING_METASITE_ID`: the call is site-level and went without `wix-site-id`.
    fn missing_site(&self, target: &Target) -> (String, Fix) {
        let cause = "this is a site-level API, and the call had no wix-site-id header".to_string();
        let fix = match (target.flow, target.ids_from) {
            (Flow::ApiKey, Source::Env) => Fix::Do(
                "set WIX_SITE_ID (the id after /dashboard/ in the site's dashboard URL)".into(),
            ),
            (Flow::ApiKey, Source::Flag | Source::Stored) => {
                let mut login = Cmd::new(Flow::ApiKey.login_args()).arg("--site-id").arg("SITE_ID");
                if let Some(account) = &target.account_id {
                    login = login.arg("--account-id").arg(account.as_str());
                }
                Fix::RunOr(
                    login,
                    "set WIX_SITE_ID (the site id is the part after /dashboard/ in its dashboard URL)"
                        .into(),
                )
            }
            _ => Fix::Do(
                "send the site with -H 'wix-site-id: SITE_ID' (the id after /dashboard/ in the site's dashboard URL)".into(),
            ),
        };
        (cause, fix)
    }

    /// A visitor's or member's token on a method that needs an app or admin identity: another
    /// profile of this machine that has one, else how to make one.
    fn needs_admin(&self, subject: &str, path: &str) -> (String, Fix) {
        let who = match subject {
            "VISITOR" => "a site visitor's token",
            _ => "a site member's token",
        };
        let cause = format!("{who} cannot call this method: it needs an app or admin identity");
        let other = self.config.profiles.iter().find(|(name, p)| {
            name.as_str() != self.profile && (p.kind() == Kind::App || p.flow == Some(Flow::Admin))
        });
        let fix = match other {
            Some((name, _)) => Fix::Run(Cmd::new(&["--profile", name.as_str(), "api", path])),
            None => Fix::RunOr(
                Cmd::new(&["--profile", "admin"])
                    .arg("login")
                    .arg("--flow")
                    .arg("admin"),
                "use `--profile <an app or admin profile>`".into(),
            ),
        };
        (cause, fix)
    }
}

/// What the credential is, as a person reads it.
fn credential(target: &Target, described: &Described) -> String {
    match described {
        Described::Key => {
            let mut parts = Vec::new();
            if let Some(site) = &target.site_id {
                parts.push(format!("site {site} (wix-site-id)"));
            }
            if let Some(account) = &target.account_id {
                parts.push(format!("account {account} (wix-account-id)"));
            }
            let from = match target.app_from {
                Source::Env => "WIX_API_KEY",
                Source::Flag | Source::Stored => "the stored key",
            };
            format!("an API key for {} ({from})", parts.join(" and "))
        }
        Described::Unknown(why) => format!(
            "an access token of profile {} ({} flow) that Token Info did not describe: {}",
            target.profile,
            target.flow,
            printable(why, 200)
        ),
        Described::Info(info) => describe(info),
    }
}

/// A token as Token Info describes it: `an app's token (Token Info: subjectType APP, client …,
/// instance …, site …, expires in 3h 59m (…))`.
pub(crate) fn describe(i: &TokenInfo) -> String {
    let subject = i.subject_type.as_deref().unwrap_or("UNKNOWN");
    let noun = match subject {
        "APP" => "an app's token",
        "VISITOR" => "a site visitor's token",
        "MEMBER" => "a site member's token",
        "USER" => "a Wix user's token",
        _ => "a token",
    };
    let mut parts = vec![format!("subjectType {}", printable(subject, 40))];
    let shown = |label: &str, v: &Option<String>| {
        v.as_deref()
            .map(|v| format!("{label} {}", printable(v, 80)))
    };
    parts.extend(shown("client", &i.app_id));
    parts.extend(shown("instance", &i.instance_id));
    parts.extend(shown("site", &i.site_id));
    parts.push(match (i.active, &i.expires_at) {
        (false, _) => "not active (expired or revoked)".into(),
        (true, Some(at)) => format!("expires {}", expiry(at)),
        (true, None) => "active".into(),
    });
    format!("{noun} (Token Info: {})", parts.join(", "))
}

/// A call refused for want of a `SCOPE.…` permission Wix named.
fn missing_permission(target: &Target, permission: &str) -> (String, Fix) {
    match target.flow.kind() {
        Kind::ApiKey => (
            format!("the API key does not have the permission {permission} this call needs"),
            Fix::Do(format!(
                "add {permission} to the key in the account's API Keys Manager, or use a key that has it"
            )),
        ),
        Kind::App | Kind::Headless => (
            format!("the app does not have the permission {permission} this call needs"),
            Fix::Do(format!(
                "request {permission} in the app dashboard (Permissions), then have the site owner approve the app's permissions again; a new token carries it"
            )),
        ),
    }
}

/// A 401 for an API key: revoked or replaced in the API Keys Manager.
fn key_refused(target: &Target) -> (String, Fix) {
    let cause = "Wix rejected the API key: it was revoked or replaced in the API Keys Manager, or is mistyped".to_string();
    let fix = match target.app_from {
        Source::Env => Fix::Do("check WIX_API_KEY (the account's API Keys Manager)".into()),
        Source::Flag | Source::Stored => Fix::Pipe(
            "the current API key".into(),
            Cmd::new(Flow::ApiKey.login_args()).arg("--secret-stdin"),
        ),
    };
    (cause, fix)
}
