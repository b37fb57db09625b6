//! `wixauth login`: store an app's credentials and authorise an app instance.

use std::io::BufRead;

use serde_json::json;

use crate::cache::{now_unix, CachedToken};
use crate::cli::LoginArgs;
use crate::config::{Config, Flow, Instance, Profile, StoreKind};
use crate::context::{Context, Io};
use crate::error::{Error, Result};
use crate::prompt;
use crate::secret::Secret;
use crate::store::{env_secret, SecretKey};
use crate::wix::TokenGrant;

pub struct LoginOptions {
    pub flow: Option<Flow>,
    pub app_id: Option<String>,
    pub instance_id: Option<String>,
    pub secret_stdin: bool,
    pub redirect_url: Option<String>,
    pub no_browser: bool,
    pub no_close_window: bool,
    pub timeout: u64,
    pub json: bool,
}

impl From<&LoginArgs> for LoginOptions {
    fn from(a: &LoginArgs) -> Self {
        LoginOptions {
            flow: a.flow,
            app_id: a.app_id.clone().filter(|s| !s.trim().is_empty()),
            instance_id: a.instance_id.clone().filter(|s| !s.trim().is_empty()),
            secret_stdin: a.secret_stdin,
            redirect_url: a.redirect_url.clone(),
            no_browser: a.no_browser,
            no_close_window: a.no_close_window,
            timeout: a.timeout,
            json: a.json,
        }
    }
}

/// What a login produced, before anything is stored.
pub struct Authorised {
    pub instance_id: String,
    pub grant: TokenGrant,
    /// Only the advanced flow has one.
    pub refresh_token: Option<Secret>,
}

pub fn run(opts: &LoginOptions, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let profile = ctx.active_profile().cloned().unwrap_or_default();
    let flow = choose_flow(opts, &profile, io)?;
    let app_id = app_id(opts, &profile, io)?;
    let secret = app_secret(opts, ctx, &profile, &app_id, io)?;

    let redirect_url = match flow {
        Flow::Advanced => {
            Some(crate::commands::browser_login::redirect_url(opts, ctx)?.to_string())
        }
        Flow::Basic => profile.redirect_url.clone(),
    };
    let mut stored_in = None;
    let authorised = match (flow, opts.instance_id.as_deref()) {
        (Flow::Basic, Some(instance)) => {
            let grant = ctx.wix()?.create_access_token(&app_id, &secret, instance)?;
            let authorised = Authorised {
                instance_id: instance.to_string(),
                grant,
                refresh_token: None,
            };
            stored_in = Some(save(
                ctx,
                &app_id,
                flow,
                redirect_url,
                &secret,
                &authorised,
            )?);
            authorised
        }
        _ => {
            let mut store = |authorised: &Authorised| -> Result<()> {
                stored_in = Some(save(
                    ctx,
                    &app_id,
                    flow,
                    redirect_url.clone(),
                    &secret,
                    authorised,
                )?);
                Ok(())
            };
            crate::commands::browser_login::run(opts, ctx, io, flow, &app_id, &secret, &mut store)?
        }
    };
    let stored_in =
        stored_in.ok_or_else(|| Error::failure("the login finished without storing anything"))?;
    ctx.reload_config()?;
    report(
        opts,
        ctx,
        io,
        &app_id,
        flow,
        &authorised.instance_id,
        stored_in,
    )
}

fn choose_flow(opts: &LoginOptions, profile: &Profile, io: &Io) -> Result<Flow> {
    if let Some(flow) = opts.flow {
        return Ok(flow);
    }
    // An instance id only makes sense for the basic flow.
    if opts.instance_id.is_some() {
        return Ok(Flow::Basic);
    }
    if let Some(flow) = profile.flow {
        return Ok(flow);
    }
    if io.can_prompt() {
        return prompt::flow();
    }
    Ok(Flow::Advanced)
}

fn app_id(opts: &LoginOptions, profile: &Profile, io: &Io) -> Result<String> {
    if let Some(id) = opts.app_id.clone().or_else(|| profile.app_id.clone()) {
        return Ok(id.trim().to_string());
    }
    if io.can_prompt() {
        let id = prompt::text("App ID (from the app dashboard's OAuth page)")?;
        if !id.is_empty() {
            return Ok(id);
        }
    }
    Err(Error::usage(
        "no app id: pass --app-id ID or set WIX_APP_ID",
    ))
}

fn app_secret(
    opts: &LoginOptions,
    ctx: &Context,
    profile: &Profile,
    app_id: &str,
    io: &Io,
) -> Result<Secret> {
    if opts.secret_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::failure(format!("cannot read the app secret from stdin: {e}")))?;
        let secret = Secret::new(line.trim());
        if secret.is_empty() {
            return Err(Error::usage(
                "--secret-stdin read an empty line: pipe the app secret into wixauth login",
            ));
        }
        return Ok(secret);
    }
    if let Some(secret) = env_secret("WIX_APP_SECRET") {
        return Ok(secret);
    }
    // Adding another instance of an app already logged in reuses its secret.
    if profile.app_id.as_deref() == Some(app_id) {
        if let Some((secret, _)) = ctx
            .secrets()?
            .get(&SecretKey::app_secret(&ctx.profile), profile.secret_store)?
        {
            return Ok(secret);
        }
    }
    if io.can_prompt() {
        let secret = prompt::secret("App secret (hidden)")?;
        if !secret.is_empty() {
            return Ok(secret);
        }
    }
    Err(Error::usage("no app secret: pipe it with --secret-stdin or set WIX_APP_SECRET (it is never accepted as an argument)"))
}

/// Stores the secrets first and the config last, so a failure leaves the previous login usable.
fn save(
    ctx: &Context,
    app_id: &str,
    flow: Flow,
    redirect_url: Option<String>,
    secret: &Secret,
    authorised: &Authorised,
) -> Result<StoreKind> {
    let secrets = ctx.secrets()?;
    let stored_in = secrets.put(&SecretKey::app_secret(&ctx.profile), secret)?;
    if let Some(refresh) = &authorised.refresh_token {
        secrets.put(
            &SecretKey::refresh_token(&ctx.profile, &authorised.instance_id),
            refresh,
        )?;
    }
    let profile_name = ctx.profile.clone();
    let instance = authorised.instance_id.clone();
    Config::update(&ctx.paths, |config: &mut Config| {
        let profile = config.profiles.entry(profile_name).or_default();
        if profile.app_id.as_deref().is_some_and(|old| old != app_id) {
            // The instances of another app cannot be used with this one.
            profile.instances.clear();
        }
        profile.app_id = Some(app_id.to_string());
        profile.flow = Some(flow);
        profile.secret_store = Some(stored_in);
        profile.redirect_url = redirect_url;
        profile.default_instance = Some(instance.clone());
        profile.instances.insert(instance, Instance::new(flow));
    })?;
    // The token that proved the login is good: the first `wixauth token` needs no request.
    let token = CachedToken {
        access_token: authorised.grant.access_token.clone(),
        token_type: authorised.grant.token_type.clone(),
        expires_at: now_unix() + authorised.grant.expires_in,
        app_id: app_id.to_string(),
        instance_id: Some(authorised.instance_id.clone()),
        flow,
    };
    let cache = ctx.cache();
    let key = crate::cache::TokenCache::key(app_id, Some(&authorised.instance_id));
    if let Err(e) = cache.save(&key, &token) {
        crate::debug!("cannot cache the login token: {e}");
    }
    Ok(stored_in)
}

fn report(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    app_id: &str,
    flow: Flow,
    instance: &str,
    stored_in: StoreKind,
) -> Result<()> {
    let secrets = ctx.secrets()?;
    let location = match stored_in {
        StoreKind::Keyring => "the OS keyring".to_string(),
        StoreKind::File => format!(
            "the plain-text file {} (mode 0600)",
            secrets.file_path().display()
        ),
    };
    io.note(&format!(
        "Logged in: profile {}, app {app_id}, instance {instance}, flow {flow}; secrets stored in {location}.",
        ctx.profile
    ));
    if opts.json {
        let value = json!({
            "profile": ctx.profile,
            "app_id": app_id,
            "instance_id": instance,
            "flow": flow,
            "secret_store": stored_in,
            "secrets_file": (stored_in == StoreKind::File).then(|| secrets.file_path().display().to_string()),
        });
        io.print(&format!("{value}\n"))?;
    }
    Ok(())
}
