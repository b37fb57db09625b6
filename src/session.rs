//! From "which profile and instance" to a fresh access token: credential resolution
//! (environment first, then config and the secret store) and the cached, locked refresh.

use crate::cache::{now_unix, CachedToken, TokenCache};
use crate::config::{Flow, StoreKind};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::fsutil::FileLock;
use crate::secret::Secret;
use crate::store::{env_secret, SecretKey};
use crate::wix::{Request, Response, TokenGrant, WixClient};

/// The app instance a command acts for, and how to get its tokens.
#[derive(Debug, Clone)]
pub struct Target {
    pub profile: String,
    pub app_id: String,
    /// `None` only in CI with `WIX_REFRESH_TOKEN` and no instance id.
    pub instance_id: Option<String>,
    pub flow: Flow,
    /// Where login put the profile's secrets; `None` when unknown.
    pub store_hint: Option<StoreKind>,
}

impl Target {
    pub fn cache_key(&self) -> String {
        TokenCache::key(&self.app_id, self.instance_id.as_deref())
    }

    /// The instance id, or a usage error saying how to give one.
    pub fn require_instance(&self) -> Result<&str> {
        self.instance_id.as_deref().ok_or_else(|| {
            Error::usage("no app instance given: pass --instance ID or set WIX_INSTANCE_ID")
        })
    }
}

fn env_value(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Works out the app, instance and flow: `WIX_*` variables win, then the profile.
pub fn resolve(ctx: &Context, instance: Option<&str>, flow: Option<Flow>) -> Result<Target> {
    let env_app = env_value("WIX_APP_ID");
    // A profile for another app than WIX_APP_ID names is not consulted at all.
    let profile = ctx
        .active_profile()
        .filter(|p| env_app.is_none() || p.app_id == env_app);
    let app_id = env_app.or_else(|| profile.and_then(|p| p.app_id.clone())).ok_or_else(|| {
        Error::usage(format!(
            "nothing is logged in for profile {:?}: run `wixauth login`, or set WIX_APP_ID and WIX_APP_SECRET (CI)",
            ctx.profile
        ))
    })?;
    let env_secrets = env_secret("WIX_APP_SECRET").is_some();
    let env_refresh = env_secret("WIX_REFRESH_TOKEN").is_some();
    let instance_id = instance
        .map(str::to_string)
        .filter(|i| !i.trim().is_empty())
        .or_else(|| profile.and_then(|p| p.default_instance.clone()));
    let stored = instance_id
        .as_deref()
        .and_then(|i| profile.and_then(|p| p.instances.get(i)));
    if let Some(id) = instance_id.as_deref() {
        if stored.is_none() && !env_secrets {
            return Err(Error::usage(format!(
                "instance {id} is not logged in for profile {:?}: run `wixauth login --instance-id {id}`, or set WIX_APP_SECRET (CI)",
                ctx.profile
            )));
        }
    }
    let flow = flow
        .or(stored.map(|i| i.flow))
        .or(if env_refresh {
            Some(Flow::Advanced)
        } else {
            None
        })
        .or(profile.and_then(|p| p.flow))
        .unwrap_or(Flow::Basic);
    let target = Target {
        profile: ctx.profile.clone(),
        app_id,
        instance_id,
        flow,
        store_hint: profile.and_then(|p| p.secret_store),
    };
    if target.instance_id.is_none() && (flow == Flow::Basic || !env_refresh) {
        if profile.is_some_and(|p| p.instances.is_empty()) && !env_secrets {
            return Err(Error::usage(format!(
                "profile {:?} has no logged-in instance: run `wixauth login` (or `wixauth login --instance-id ID` for the basic flow)",
                ctx.profile
            )));
        }
        target.require_instance()?;
    }
    Ok(target)
}

/// The app secret: `WIX_APP_SECRET`, else the secret store.
pub fn app_secret(ctx: &Context, target: &Target) -> Result<Secret> {
    if let Some(secret) = env_secret("WIX_APP_SECRET") {
        crate::debug!("app secret from WIX_APP_SECRET");
        return Ok(secret);
    }
    let key = SecretKey::app_secret(&target.profile);
    match ctx.secrets()?.get(&key, target.store_hint)? {
        Some((secret, _)) => Ok(secret),
        None => Err(Error::usage(format!(
            "no app secret is stored for profile {:?}: run `wixauth login`, or set WIX_APP_SECRET (CI)",
            target.profile
        ))),
    }
}

/// Options of a token request.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    /// Seconds the token must still be valid for.
    pub min_ttl: u64,
    /// Skip the cache and always ask Wix.
    pub force: bool,
}

/// A token valid for at least `min_ttl` seconds: from the cache when it can, else from Wix
/// under a per-instance lock, re-reading the cache once the lock is ours so that parallel
/// callers make one request between them.
pub fn fresh_token(ctx: &Context, target: &Target, want: Freshness) -> Result<CachedToken> {
    // A bad setting is an error on a cache hit too, not hours later when the cache runs out.
    // These checks only read environment variables: a hit stays free of network and keyring.
    ctx.api_base()?;
    crate::store::StoreMode::from_env()?;
    crate::wix::http_timeout()?;
    let cache = ctx.cache();
    let key = target.cache_key();
    let usable =
        |t: &CachedToken| t.flow == target.flow && t.ttl(now_unix()) >= want.min_ttl as i64;
    if !want.force {
        if let Some(token) = cache.load(&key).filter(usable) {
            crate::debug!(
                "token cache hit for {key} ({} s left)",
                token.ttl(now_unix())
            );
            return Ok(token);
        }
        crate::debug!("token cache miss for {key}");
    }
    let (_lock, waited) = FileLock::acquire(&ctx.paths.lock_file(&key))?;
    if waited {
        crate::debug!("waited for another wixauth refreshing {key}");
    }
    // Re-read even when the lock was free: another wixauth may have refreshed and released
    // it between our miss above and taking the lock.
    if !want.force {
        if let Some(token) = cache.load(&key).filter(usable) {
            crate::debug!("token cache hit for {key} after the lock");
            return Ok(token);
        }
    }
    let grant = request_token(ctx, target)?;
    let token = CachedToken {
        access_token: grant.access_token,
        token_type: grant.token_type,
        expires_at: now_unix() + grant.expires_in,
        app_id: target.app_id.clone(),
        instance_id: target.instance_id.clone(),
        flow: target.flow,
    };
    if crate::cache::writes_disabled() {
        crate::debug!("WIXAUTH_NO_CACHE set: not caching the token");
    } else if let Err(e) = cache.save(&key, &token) {
        eprintln!(
            "wixauth: warning: cannot cache the token ({e}); the next call will ask Wix again"
        );
    }
    if grant.expires_in < want.min_ttl {
        eprintln!(
            "wixauth: warning: Wix issues tokens valid for {} s, less than the {} s asked for with --min-ttl",
            grant.expires_in, want.min_ttl
        );
    }
    Ok(token)
}

fn request_token(ctx: &Context, target: &Target) -> Result<TokenGrant> {
    let secret = app_secret(ctx, target)?;
    let wix = ctx.wix()?;
    match target.flow {
        Flow::Basic => wix.create_access_token(&target.app_id, &secret, target.require_instance()?),
        Flow::Advanced => refresh(ctx, target, &secret, &wix),
    }
}

fn refresh(
    ctx: &Context,
    target: &Target,
    secret: &Secret,
    wix: &crate::wix::WixClient,
) -> Result<TokenGrant> {
    if let Some(refresh) = env_secret("WIX_REFRESH_TOKEN") {
        crate::debug!("refresh token from WIX_REFRESH_TOKEN");
        return wix.refresh_access_token(&target.app_id, secret, &refresh);
    }
    let instance = target.require_instance()?;
    let key = SecretKey::refresh_token(&target.profile, instance);
    let secrets = ctx.secrets()?;
    let Some((refresh, kind)) = secrets.get(&key, target.store_hint)? else {
        return Err(Error::usage(format!(
            "no refresh token is stored for instance {instance}: run `wixauth login --flow advanced` again, or set WIX_REFRESH_TOKEN (CI)"
        )));
    };
    let grant = wix.refresh_access_token(&target.app_id, secret, &refresh).map_err(|e| {
        if e.exit == crate::error::Exit::Rejected {
            Error::rejected(format!(
                "{e} (the stored refresh token was kept; if the app was uninstalled from the site, run `wixauth login --flow advanced` again)"
            ))
        } else {
            e
        }
    })?;
    // Wix does not rotate refresh tokens today; if it ever does, keep the successor,
    // written only now that it has arrived.
    if let Some(next) = grant
        .refresh_token
        .as_ref()
        .filter(|next| **next != refresh)
    {
        crate::debug!("Wix returned a new refresh token; storing it in the {kind}");
        secrets.put(&key, next)?;
    }
    Ok(grant)
}

/// An authenticated call for the target instance: a fresh token in `Authorization`, and
/// on a 401 (a token Wix no longer takes) one new token and one more try. Returns Wix's
/// answer and the token that got it.
pub fn authorised_send(
    ctx: &Context,
    target: &Target,
    wix: &WixClient,
    request: Request,
) -> Result<(Response, Secret)> {
    let fresh =
        |force| fresh_token(ctx, target, Freshness { min_ttl: 60, force }).map(|t| t.access_token);
    let token = fresh(false)?;
    let response = wix.send(&Request {
        auth: Some(token.clone()),
        ..request.clone()
    })?;
    if response.status != 401 {
        return Ok((response, token));
    }
    crate::debug!("Wix answered 401: getting a new token and trying once more");
    let token = fresh(true)?;
    let response = wix.send(&Request {
        auth: Some(token.clone()),
        ..request
    })?;
    Ok((response, token))
}
