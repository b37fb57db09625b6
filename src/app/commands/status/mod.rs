//! `wixauth status`: what is stored for each profile. Never prints a secret.

mod human;
mod report;

use report::{EnvReport, HeadlessReport, InstanceReport, KeyReport, ProfileReport, Report};

use crate::app::cli::StatusArgs;
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Exit, Fix, Result};
use crate::credentials::cache::now_unix;
use crate::credentials::store::{SecretKey, Secrets};
use crate::credentials::Freshness;
use crate::settings::config::{Profile, StoreKind};
use crate::settings::flow::{Held, Kind};
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

pub(crate) fn run(opts: &StatusOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    let secrets = ctx.secrets();
    let env_secret_set = ctx.env.app_secret.is_some();
    let mut profiles = Vec::new();
    for (name, profile) in &ctx.config.profiles {
        profiles.push(profile_report(ctx, name, profile, env_secret_set, secrets)?);
    }
    // The active profile: can it produce a token, and (with --check) does Wix agree?
    let outcome = check_active(opts, ctx, &mut profiles);
    let report = Report {
        active_profile: ctx.profile.clone(),
        ready: outcome.is_ok(),
        problem: outcome.as_ref().err().map(|e| e.render(&ctx.how)),
        profiles,
        environment: env_report(ctx),
    };
    io.flush_notes(&ctx.notes);
    if opts.json {
        io.print_json(&report, true)?;
    } else {
        io.print_report(&human::human(&report, secrets), 4)?;
    }
    outcome.map_err(|e| match opts.check {
        true => short_check_error(e),
        // Without --check: the contract's one code for "cannot produce a token".
        false => e.exit_as(Exit::Usage),
    })
}

/// Whether the active profile can produce a token; with `--check`, whether Wix mints one
/// (the verdict goes on the profile's line, and the site's name is learnt).
fn check_active(opts: &StatusOptions, ctx: &Context, profiles: &mut [ProfileReport]) -> Result<()> {
    let session = ctx.session();
    let target = session.resolve(ctx.instance.as_deref(), None)?;
    session.ready(&target)?;
    if !opts.check {
        return Ok(());
    }
    if !target.flow.expires() {
        // A key has its own permissions: no fixed call proves it, and none is made.
        let verdict = "not checked with Wix: an API key has no fixed call to prove it (`wixauth login --flow api-key --check PATH` tries one GET)";
        for report in profiles.iter_mut().filter(|p| p.name == ctx.profile) {
            if let Some(k) = report.api_key.as_mut() {
                k.check = Some(verdict.to_string());
            }
        }
        return Ok(());
    }
    let fresh = Freshness {
        min_ttl: 0,
        force: true,
    };
    let outcome = session.fresh_token(&target, fresh);
    let verdict = match &outcome {
        Ok(_) => "ok".to_string(),
        Err(e) => e.render(&ctx.how),
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
    outcome?;
    remember_site_name(ctx, &target, profiles);
    Ok(())
}

fn env_report(ctx: &Context) -> Option<EnvReport> {
    let environment = EnvReport {
        app_id: ctx.env.app_id.clone(),
        client_id: ctx.env.client_id.clone(),
        app_secret: ctx.env.app_secret.is_some(),
        refresh_token: ctx.env.refresh_token.is_some(),
        instance_id: ctx.env.instance_id.clone(),
        client_secret: ctx.env.client_secret.is_some(),
        api_key: ctx.env.api_key.is_some(),
        site_id: ctx.env.site_id.clone(),
        account_id: ctx.env.account_id.clone(),
    };
    let any = environment.app_id.is_some()
        || environment.client_id.is_some()
        || environment.app_secret
        || environment.refresh_token
        || environment.client_secret
        || environment.api_key;
    any.then_some(environment)
}

/// Get App Instance for the checked instance, its site name kept (through the profile
/// lifecycle) so that `status` and `switch` can show it. Best effort: a missing permission
/// only leaves it unknown.
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
    let site = match session.authorised_send(target, request) {
        Ok((r, _)) if r.is_success() => serde_json::from_slice(&r.body)
            .ok()
            .map(|v| crate::wix::apps::parse_instance(&v)),
        _ => None,
    };
    let Some(name) = site.as_ref().and_then(|s| s.site_name.clone()) else {
        crate::core::log::debug!("no site name for instance {id}");
        return;
    };
    let url = site.as_ref().and_then(|s| s.site_url.as_deref());
    if let Err(e) = session.lifecycle().remember_site(&id, Some(&name), url) {
        ctx.notes
            .warn(format!("cannot keep the site name in config.toml: {e}"));
    }
    for p in profiles.iter_mut().filter(|p| p.name == ctx.profile) {
        for i in p.instances.iter_mut().filter(|i| i.instance_id == id) {
            i.site_name = Some(name.clone());
        }
    }
}

/// Most of an error line is allowed this many characters (the contract's "about 160").
const CHECK_LINE: usize = 160;

/// A `--check` failure as one short line: what failed, cut to fit, then its one next step
/// (the one the credentials chose; for a network or Wix failure, `doctor`). The full text
/// stays in `--json`'s `check` and in `-v`.
fn short_check_error(e: Error) -> Error {
    // The command alone (an alternative in words stays in --json's `check`).
    let fix = match (e.exit, e.next_step()) {
        (Exit::Unavailable, _) => Some(Fix::Run(Cmd::new(&["doctor"]))),
        (_, Some(Fix::Run(c) | Fix::RunOr(c, _) | Fix::Pipe(_, c))) => Some(Fix::Run(c.clone())),
        (_, other) => other.cloned(),
    };
    let tail = fix
        .as_ref()
        .map(|f| f.render(&Default::default()).chars().count() + 2)
        .unwrap_or(0);
    // "wixauth: error: " is printed before it.
    let budget = CHECK_LINE.saturating_sub(tail + 16).max(40);
    // Too long: what was being done goes first ("creating an access token: "), Wix's words last.
    let mut what = e.what();
    while what.chars().count() > budget {
        match what.split_once(": ") {
            Some((_, rest)) if rest.contains("Wix") => what = rest,
            _ => break,
        }
    }
    let what = match what.chars().count() > budget {
        true => format!(
            "{}…",
            what.chars()
                .take(budget.saturating_sub(1))
                .collect::<String>()
        ),
        false => what.to_string(),
    };
    let short = Error::new(e.exit, what);
    match fix {
        Some(fix) => short.fix(fix),
        None => short,
    }
}

fn profile_report(
    ctx: &Context,
    name: &str,
    profile: &Profile,
    env_secret_set: bool,
    secrets: &Secrets,
) -> Result<ProfileReport> {
    match profile.kind() {
        Kind::Headless => return headless_report(ctx, name, profile, secrets),
        Kind::ApiKey => return Ok(key_report(ctx, name, profile, secrets)),
        Kind::App => {}
    }
    // A store that cannot be read is reported on the profile, and the listing goes on.
    let mut store_error = None;
    let app_key = SecretKey::app_secret(name, profile.app_id.as_deref().unwrap_or_default());
    let legacy = secrets.get(&SecretKey::legacy_app_secret(name), profile.secret_store);
    let found = match secrets
        .get(&app_key, profile.secret_store)
        .and_then(|f| match f {
            Some(f) => Ok(Some(f)),
            None => legacy,
        }) {
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
        let refresh_token = instance.flow.has_refresh_token()
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
        api_key: None,
        secret_location: secret_location.to_string(),
        secrets_file: (secret_location == "file")
            .then(|| secrets.file_path().display().to_string()),
        default_instance: profile.default_instance.clone(),
        instances,
        store_error,
    })
}

/// A headless profile: the client, its flow, and where its refresh token (or, admin, its
/// client secret) is.
fn headless_report(
    ctx: &Context,
    name: &str,
    profile: &Profile,
    secrets: &Secrets,
) -> Result<ProfileReport> {
    let flow = profile.flow.unwrap_or(Flow::Visitor);
    let entry = match (flow.held(), &profile.client_id) {
        (Held::ClientSecret, Some(client)) => SecretKey::client_secret(name, client),
        _ => SecretKey::headless_refresh(name),
    };
    let (found, store_error) = locate(secrets, &entry, profile);
    let cached = match profile.client_id.as_deref() {
        Some(client) => ctx
            .session()
            .cache()
            .load(
                &ctx.session()
                    .for_profile(name)
                    .stored_cache_key(flow, client, None),
            )?
            .map(|t| t.ttl(now_unix()))
            .filter(|&ttl| ttl > 0),
        None => None,
    };
    let held = found.is_some();
    Ok(ProfileReport {
        headless: Some(HeadlessReport {
            client_id: profile.client_id.clone(),
            flow: profile.flow,
            refresh_token: held && flow.held() == Held::RefreshToken,
            client_secret: held && flow.held() == Held::ClientSecret,
            cached_token_expires_in: cached,
            check: None,
        }),
        ..no_instances(ctx, name, "headless", (found, store_error), secrets)
    })
}

/// An API key profile: where the key is, and which headers its calls send (never the key).
fn key_report(ctx: &Context, name: &str, profile: &Profile, secrets: &Secrets) -> ProfileReport {
    let (found, store_error) = locate(secrets, &SecretKey::api_key(name), profile);
    let mut headers = vec!["Authorization"];
    headers.extend(profile.site_id.as_ref().map(|_| "wix-site-id"));
    headers.extend(profile.account_id.as_ref().map(|_| "wix-account-id"));
    ProfileReport {
        api_key: Some(KeyReport {
            site_id: profile.site_id.clone(),
            account_id: profile.account_id.clone(),
            headers,
            check: None,
        }),
        ..no_instances(ctx, name, "api-key", (found, store_error), secrets)
    }
}

/// The report of a profile without app instances (a Headless client, an API key), from where
/// its one secret is; the caller adds what its kind holds.
fn no_instances(
    ctx: &Context,
    name: &str,
    kind: &'static str,
    (found, store_error): (Option<StoreKind>, Option<String>),
    secrets: &Secrets,
) -> ProfileReport {
    ProfileReport {
        name: name.to_string(),
        active: name == ctx.profile,
        kind,
        app_id: None,
        headless: None,
        api_key: None,
        secret_location: location(found, &store_error).to_string(),
        secrets_file: found
            .filter(|k| *k == StoreKind::File)
            .map(|_| secrets.file_path().display().to_string()),
        default_instance: None,
        instances: Vec::new(),
        store_error,
    }
}

/// Where a secret is: the store holding it, or why the store could not say (the listing
/// goes on either way).
fn locate(
    secrets: &Secrets,
    entry: &SecretKey,
    profile: &Profile,
) -> (Option<StoreKind>, Option<String>) {
    match secrets.get(entry, profile.secret_store) {
        Ok(found) => (found.map(|(_, kind)| kind), None),
        Err(e) => (None, Some(e.to_string())),
    }
}

fn location(found: Option<StoreKind>, store_error: &Option<String>) -> &'static str {
    match (found, store_error) {
        (Some(StoreKind::Keyring), _) => "keyring",
        (Some(StoreKind::File), _) => "file",
        (None, Some(_)) => "unreadable",
        (None, None) => "missing",
    }
}
