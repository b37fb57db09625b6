//! `status` for a person: one block per profile, in the words of its kind.

use super::report::{ProfileReport, Report};
use crate::core::error::{Cmd, Invocation};
use crate::core::fsutil;
use crate::credentials::store::Secrets;
use crate::settings::Flow;

pub(super) fn human(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    if report.profiles.is_empty() {
        out.push_str("No profiles are stored.\n");
    }
    for p in &report.profiles {
        let active = if p.active { " (active)" } else { "" };
        out.push_str(&format!("Profile {}{active}\n", p.name));
        if let Some(k) = &p.api_key {
            let mut sends = vec!["Authorization (the key)".to_string()];
            sends.extend(k.site_id.as_ref().map(|s| format!("wix-site-id: {s}")));
            sends.extend(
                k.account_id
                    .as_ref()
                    .map(|a| format!("wix-account-id: {a}")),
            );
            out.push_str(&format!("  API key: calls send {}\n", sends.join(", ")));
            let check = k
                .check
                .as_ref()
                .map(|c| format!("; check: {c}"))
                .unwrap_or_default();
            let held = held_where(p, secrets, "API key", Flow::ApiKey);
            out.push_str(&format!("  {held}{check}\n"));
            continue;
        }
        if let Some(h) = &p.headless {
            out.push_str(&format!(
                "  Wix Headless client: {}, flow {}\n",
                h.client_id.as_deref().unwrap_or("(none)"),
                h.flow
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "(unknown)".into())
            ));
            let flow = h.flow.unwrap_or(Flow::Visitor);
            let refresh = held_where(p, secrets, flow.held().noun(), flow);
            let cached = match h.cached_token_expires_in {
                Some(s) => format!("cached token expires {}", crate::core::text::relative(s)),
                None => "no cached token".into(),
            };
            let check = h
                .check
                .as_ref()
                .map(|c| format!(", check: {c}"))
                .unwrap_or_default();
            out.push_str(&format!("  {refresh}; {cached}{check}\n"));
            continue;
        }
        out.push_str(&format!(
            "  app id:  {}\n",
            p.app_id.as_deref().unwrap_or("(none)")
        ));
        let secret = match p.secret_location.as_str() {
            "keyring" => "in the OS keyring".to_string(),
            // The mode as it is now, not as it should be.
            "file" => {
                let mode = fsutil::mode_of(secrets.file_path())
                    .map(|m| format!(" (mode {m:04o})"))
                    .unwrap_or_default();
                format!(
                    "in PLAIN TEXT in {}{mode}, not in the OS keyring",
                    secrets.file_path().display()
                )
            }
            "environment" => "from the environment (WIX_APP_SECRET)".to_string(),
            "unreadable" => format!(
                "cannot be read: {}",
                p.store_error
                    .as_deref()
                    .unwrap_or("the secret store failed")
            ),
            _ => format!("missing: run `{}`", login(p, Flow::Basic)),
        };
        out.push_str(&format!("  secret:  {secret}\n"));
        if p.instances.is_empty() {
            out.push_str("  instances: none\n");
        }
        for i in &p.instances {
            let mark = if p.default_instance.as_ref() == Some(&i.instance_id) {
                "*"
            } else {
                " "
            };
            let refresh = match (i.flow.has_refresh_token(), i.refresh_token) {
                (false, _) => String::new(),
                (true, true) => ", refresh token held".into(),
                (true, false) => format!(", NO refresh token: run `{}`", login(p, i.flow)),
            };
            let cached = match i.cached_token_expires_in {
                Some(s) => format!(", cached token expires {}", crate::core::text::relative(s)),
                None => ", no cached token".into(),
            };
            let check = i
                .check
                .as_ref()
                .map(|c| format!(", check: {c}"))
                .unwrap_or_default();
            // Site names come from Wix: printed with control characters escaped.
            let site = i
                .site_name
                .as_deref()
                .map(|s| format!(" \"{}\"", crate::core::text::printable(s, 80)))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {mark} instance {}{site} ({}{refresh}{cached}{check})\n",
                i.instance_id, i.flow
            ));
        }
    }
    if let Some(env) = &report.environment {
        let mut parts = Vec::new();
        if let Some(a) = &env.app_id {
            parts.push(format!("app id {a}"));
        }
        if let Some(c) = &env.client_id {
            parts.push(format!("Wix Headless client {c}"));
        }
        if env.app_secret {
            parts.push("secret from WIX_APP_SECRET".into());
        }
        if env.refresh_token {
            parts.push("refresh token from WIX_REFRESH_TOKEN".into());
        }
        if env.client_secret {
            parts.push("client secret from WIX_CLIENT_SECRET".into());
        }
        if env.api_key {
            parts.push("API key from WIX_API_KEY".into());
        }
        if let Some(s) = &env.site_id {
            parts.push(format!("site {s}"));
        }
        if let Some(a) = &env.account_id {
            parts.push(format!("account {a}"));
        }
        if let Some(i) = &env.instance_id {
            parts.push(format!("instance {i}"));
        }
        out.push_str(&format!(
            "Environment (wins over stored credentials): {}\n",
            parts.join(", ")
        ));
    }
    if report.problem.is_none() {
        out.push_str(&format!(
            "Profile {} can produce tokens.\n",
            report.active_profile
        ));
    }
    out
}

/// Where a Headless client's or an API key's secret (`noun`) is held, or what to run when it is not.
fn held_where(p: &ProfileReport, secrets: &Secrets, noun: &str, flow: Flow) -> String {
    match p.secret_location.as_str() {
        "keyring" => format!("{noun} held in the OS keyring"),
        "file" => format!(
            "{noun} held in PLAIN TEXT in {} (mode 0600), not in the OS keyring",
            secrets.file_path().display()
        ),
        "unreadable" => format!(
            "{noun} cannot be read: {}",
            p.store_error
                .as_deref()
                .unwrap_or("the secret store failed")
        ),
        _ => format!("NO {noun}: run `{}`", login(p, flow)),
    }
}

/// The login that fixes `p`: with `--profile` unless it is the active one (which a bare
/// command acts for).
fn login(p: &ProfileReport, flow: Flow) -> String {
    let cmd = Cmd::new(flow.login_args());
    let cmd = match p.active {
        true => cmd,
        false => cmd.arg("--profile").arg(p.name.as_str()),
    };
    cmd.render(&Invocation::default())
}
