//! `wixauth status`: what is stored for each profile. Never prints a secret.

use serde::Serialize;

use crate::app::cli::StatusArgs;
use crate::app::context::Context;
use crate::core::error::{Error, Exit, Result};
use crate::core::fsutil;
use crate::credentials::cache::now_unix;
use crate::credentials::headless;
use crate::credentials::store::{SecretKey, Secrets};
use crate::credentials::Freshness;
use crate::settings::config::{Config, Profile, StoreKind};
use crate::settings::Flow;
use crate::ui::Io;

pub(crate) struct StatusOptions {
    pub json: bool,
    pub check: bool,
}

impl From<&StatusArgs> for StatusOptions {
    fn from(args: &StatusArgs) -> Self {
        StatusOptions {
            json: args.json,
            check: args.check,
        }
    }
}

#[derive(Serialize)]
struct Report {
    active_profile: String,
    /// Whether the active profile can produce a token.
    ready: bool,
    problem: Option<String>,
    profiles: Vec<ProfileReport>,
    /// CI credentials from `WIX_*` variables, which win over stored ones.
    environment: Option<EnvReport>,
}

#[derive(Serialize)]
struct EnvReport {
    app_id: Option<String>,
    client_id: Option<String>,
    app_secret: bool,
    refresh_token: bool,
    instance_id: Option<String>,
}

#[derive(Serialize)]
struct ProfileReport {
    name: String,
    active: bool,
    /// `app` (basic/advanced) or `headless` (a Wix Headless client: visitor/member).
    kind: &'static str,
    app_id: Option<String>,
    /// Headless profiles: the OAuth client id, the flow, the refresh token and cached token.
    #[serde(skip_serializing_if = "Option::is_none")]
    headless: Option<HeadlessReport>,
    /// keyring, file, environment, or missing.
    secret_location: String,
    secrets_file: Option<String>,
    default_instance: Option<String>,
    instances: Vec<InstanceReport>,
    /// Why the secret store could not be read (an unreachable or locked keyring); the JSON
    /// says `secret_location: "unreadable"` and keeps its documented keys.
    #[serde(skip)]
    store_error: Option<String>,
}

#[derive(Serialize)]
struct HeadlessReport {
    client_id: Option<String>,
    flow: Option<Flow>,
    refresh_token: bool,
    cached_token_expires_in: Option<i64>,
    check: Option<String>,
}

#[derive(Serialize)]
struct InstanceReport {
    instance_id: String,
    flow: Flow,
    refresh_token: bool,
    cached_token_expires_in: Option<i64>,
    check: Option<String>,
    /// The site's name, when a `status --check` learnt it from Wix.
    site_name: Option<String>,
}

pub(crate) fn run(opts: &StatusOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    let secrets = ctx.secrets();
    let session = ctx.session();
    let env_secret_set = ctx.env.app_secret.is_some();
    let mut profiles = Vec::new();
    for (name, profile) in &ctx.config.profiles {
        profiles.push(profile_report(ctx, name, profile, env_secret_set, secrets)?);
    }

    // The active profile: can it produce a token, and (with --check) does Wix agree?
    let mut problem = None;
    let mut check_failure: Option<Error> = None;
    let headless = session.is_headless();
    match session
        .resolve(ctx.instance.as_deref(), None)
        .and_then(|t| {
            if headless {
                session.headless_ready(&t).map(|_| t)
            } else {
                session.app_secret(&t).map(|_| t)
            }
        }) {
        Ok(target) if opts.check => {
            let outcome = session.fresh_token(
                &target,
                Freshness {
                    min_ttl: 0,
                    force: true,
                },
            );
            let verdict = match &outcome {
                Ok(_) => "ok".to_string(),
                Err(e) => e.to_string(),
            };
            if let Some(report) = profiles.iter_mut().find(|p| p.name == ctx.profile) {
                if let Some(h) = report.headless.as_mut() {
                    h.check = Some(verdict.clone());
                }
                for i in report
                    .instances
                    .iter_mut()
                    .filter(|i| Some(&i.instance_id) == target.instance_id.as_ref())
                {
                    i.check = Some(verdict.clone());
                }
            }
            match outcome {
                Err(e) => {
                    problem = Some(e.to_string());
                    check_failure = Some(e);
                }
                Ok(_) => remember_site_name(ctx, &target, &mut profiles),
            }
        }
        Ok(_) => {}
        Err(e) => problem = Some(e.to_string()),
    }
    let environment = EnvReport {
        app_id: ctx.env.app_id.clone(),
        client_id: ctx.env.client_id.clone(),
        app_secret: env_secret_set,
        refresh_token: ctx.env.refresh_token.is_some(),
        instance_id: ctx.env.instance_id.clone(),
    };
    let any_env = environment.app_id.is_some()
        || environment.client_id.is_some()
        || environment.app_secret
        || environment.refresh_token;
    let report = Report {
        active_profile: ctx.profile.clone(),
        ready: problem.is_none(),
        problem,
        profiles,
        environment: any_env.then_some(environment),
    };

    io.flush_notes(&ctx.notes);
    if opts.json {
        io.print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ))?;
    } else {
        io.print(&human(&report, secrets))?;
    }
    if let Some(e) = check_failure {
        let flow = ctx
            .active_profile()
            .and_then(|p| p.flow)
            .unwrap_or(Flow::Basic);
        return Err(short_check_error(&e, &ctx.profile, flow));
    }
    match &report.problem {
        None => Ok(()),
        Some(p) => Err(Error::new(Exit::Usage, p.clone())),
    }
}

/// Get App Instance for the checked instance, its site name kept in config.toml so that
/// `status` and `switch` can show it. Best effort: a missing permission only leaves it unknown.
fn remember_site_name(
    ctx: &Context,
    target: &crate::credentials::Target,
    profiles: &mut [ProfileReport],
) {
    let Some(id) = target.instance_id.clone() else {
        return;
    };
    let session = ctx.session();
    let Ok(client) = ctx.wix().get() else {
        return;
    };
    let request = crate::wix::Request::get(client.url("apps/v1/instance"));
    let name = match session.authorised_send(target, request) {
        Ok((r, _)) if r.is_success() => serde_json::from_slice(&r.body)
            .ok()
            .and_then(|v| crate::wix::apps::parse_instance(&v).site_name),
        _ => None,
    };
    let Some(name) = name else {
        crate::core::log::debug!("no site name for instance {id}");
        return;
    };
    let profile = ctx.profile.clone();
    let saved = Config::update(&ctx.paths, |c| {
        if let Some(i) = c
            .profiles
            .get_mut(&profile)
            .and_then(|p| p.instances.get_mut(&id))
        {
            i.site_name = Some(name.clone());
        }
    });
    if let Err(e) = saved {
        ctx.notes
            .warn(format!("cannot keep the site name in config.toml: {e}"));
    }
    for p in profiles.iter_mut().filter(|p| p.name == profile) {
        for i in p.instances.iter_mut().filter(|i| i.instance_id == id) {
            i.site_name = Some(name.clone());
        }
    }
}

/// Most of an error line is allowed this many characters (the contract's "about 160").
const CHECK_LINE: usize = 160;

/// A `--check` failure as one short line: what Wix said, then the one command to run
/// (`login` for credentials Wix refuses, `doctor` for a network or Wix failure). The full
/// text stays in `--json`'s `check` and in `-v`.
fn short_check_error(e: &Error, profile: &str, flow: Flow) -> Error {
    let command = match e.exit {
        Exit::Rejected | Exit::Usage => {
            let mut c = String::from("wixauth");
            if profile != crate::settings::config::DEFAULT_PROFILE {
                c.push_str(&format!(" --profile {profile}"));
            }
            c.push_str(" login");
            if flow == Flow::Advanced {
                c.push_str(" --flow advanced");
            }
            c
        }
        _ => "wixauth doctor".to_string(),
    };
    // The instruction the lower layers appended is replaced by the one command.
    let message = e.message();
    let cut = [": run `", "; run `", " (the stored", "; check ", "; try "]
        .iter()
        .filter_map(|m| message.find(m))
        .min()
        .unwrap_or(message.len());
    let what = &message[..cut];
    let tail = format!("; run `{command}`");
    // "wixauth: error: " is printed before it.
    let budget = CHECK_LINE.saturating_sub(tail.len() + 16);
    let what = match what.chars().count() > budget {
        true => format!(
            "{}…",
            what.chars()
                .take(budget.saturating_sub(1))
                .collect::<String>()
        ),
        false => what.to_string(),
    };
    Error::new(e.exit, format!("{what}{tail}"))
}

fn profile_report(
    ctx: &Context,
    name: &str,
    profile: &Profile,
    env_secret_set: bool,
    secrets: &Secrets,
) -> Result<ProfileReport> {
    if profile.is_headless() {
        return headless_report(ctx, name, profile, secrets);
    }
    // A store that cannot be read is reported on the profile, and the listing goes on.
    let mut store_error = None;
    let found = match secrets.get(&SecretKey::app_secret(name), profile.secret_store) {
        Ok(found) => found.map(|(_, kind)| kind),
        Err(e) => {
            store_error = Some(e.to_string());
            None
        }
    };
    let secret_location = match (env_secret_set, found, &store_error) {
        (true, _, _) => "environment",
        (false, Some(StoreKind::Keyring), _) => "keyring",
        (false, Some(StoreKind::File), _) => "file",
        (false, None, Some(_)) => "unreadable",
        (false, None, None) => "missing",
    };
    let session = ctx.session();
    let cache = session.cache();
    let now = now_unix();
    let mut instances = Vec::new();
    for (id, instance) in &profile.instances {
        let refresh_token = instance.flow == Flow::Advanced
            && store_error.is_none()
            && match secrets.get(&SecretKey::refresh_token(name, id), profile.secret_store) {
                Ok(found) => found.is_some(),
                Err(e) => {
                    store_error = Some(e.to_string());
                    false
                }
            };
        let cached = match profile.app_id.as_deref() {
            Some(app) => cache.load(&session.cache_key(app, Some(id)))?,
            None => None,
        }
        .map(|t| t.ttl(now))
        .filter(|&ttl| ttl > 0);
        instances.push(InstanceReport {
            instance_id: id.clone(),
            flow: instance.flow,
            refresh_token,
            cached_token_expires_in: cached,
            check: None,
            site_name: instance.site_name.clone(),
        });
    }
    Ok(ProfileReport {
        name: name.to_string(),
        active: name == ctx.profile,
        kind: "app",
        app_id: profile.app_id.clone(),
        headless: None,
        secret_location: secret_location.to_string(),
        secrets_file: (secret_location == "file")
            .then(|| secrets.file_path().display().to_string()),
        default_instance: profile.default_instance.clone(),
        instances,
        store_error,
    })
}

/// A headless profile: the client, its flow, and where its refresh token is.
fn headless_report(
    ctx: &Context,
    name: &str,
    profile: &Profile,
    secrets: &Secrets,
) -> Result<ProfileReport> {
    // As for an app profile: an unreadable store is reported, and the listing goes on.
    let mut store_error = None;
    let found = match secrets.get(&headless::refresh_key(name), profile.secret_store) {
        Ok(found) => found.map(|(_, kind)| kind),
        Err(e) => {
            store_error = Some(e.to_string());
            None
        }
    };
    let secret_location = match (found, &store_error) {
        (Some(StoreKind::Keyring), _) => "keyring",
        (Some(StoreKind::File), _) => "file",
        (None, Some(_)) => "unreadable",
        (None, None) => "missing",
    };
    let cached = match profile.client_id.as_deref() {
        Some(client) => ctx
            .session()
            .cache()
            .load(&crate::app::commands::headless_login::cache_key(
                ctx, client, name,
            ))?
            .map(|t| t.ttl(now_unix()))
            .filter(|&ttl| ttl > 0),
        None => None,
    };
    Ok(ProfileReport {
        name: name.to_string(),
        active: name == ctx.profile,
        kind: "headless",
        app_id: None,
        headless: Some(HeadlessReport {
            client_id: profile.client_id.clone(),
            flow: profile.flow,
            refresh_token: found.is_some(),
            cached_token_expires_in: cached,
            check: None,
        }),
        secret_location: secret_location.to_string(),
        secrets_file: (secret_location == "file")
            .then(|| secrets.file_path().display().to_string()),
        default_instance: None,
        instances: Vec::new(),
        store_error,
    })
}

fn human(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    if report.profiles.is_empty() {
        out.push_str("No profiles are stored.\n");
    }
    for p in &report.profiles {
        let active = if p.active { " (active)" } else { "" };
        out.push_str(&format!("Profile {}{active}\n", p.name));
        if let Some(h) = &p.headless {
            out.push_str(&format!(
                "  Wix Headless client: {}, flow {}\n",
                h.client_id.as_deref().unwrap_or("(none)"),
                h.flow
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "(unknown)".into())
            ));
            let refresh = match p.secret_location.as_str() {
                "keyring" => "refresh token held in the OS keyring".to_string(),
                "file" => format!(
                    "refresh token held in PLAIN TEXT in {} (mode 0600), not in the OS keyring",
                    secrets.file_path().display()
                ),
                "unreadable" => format!(
                    "refresh token cannot be read: {}",
                    p.store_error
                        .as_deref()
                        .unwrap_or("the secret store failed")
                ),
                _ => "NO refresh token: run `wixauth login --flow visitor` (or member)".to_string(),
            };
            let cached = match h.cached_token_expires_in {
                Some(s) => format!(
                    "cached token valid {}",
                    humantime::format_duration(std::time::Duration::from_secs(s as u64))
                ),
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
            _ => "missing: run `wixauth login`".to_string(),
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
            let refresh = match (i.flow, i.refresh_token) {
                (Flow::Basic | Flow::Visitor | Flow::Member, _) => String::new(),
                (Flow::Advanced, true) => ", refresh token held".into(),
                (Flow::Advanced, false) => {
                    ", NO refresh token: run `wixauth login --flow advanced`".into()
                }
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
        let mut parts = vec![format!(
            "app id {}",
            env.app_id.as_deref().unwrap_or("(unset)")
        )];
        if let Some(c) = &env.client_id {
            parts.push(format!("Wix Headless client {c}"));
        }
        if env.app_secret {
            parts.push("secret from WIX_APP_SECRET".into());
        }
        if env.refresh_token {
            parts.push("refresh token from WIX_REFRESH_TOKEN".into());
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
