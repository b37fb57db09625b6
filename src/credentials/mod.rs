//! From "which profile and instance" to a fresh access token: credential resolution (the
//! environment wins, then config.toml and the secret store) and the cached, locked refresh.
//! A token request goes one way down: command → [`Session`] → cache | secret store | Wix
//! client, none of which calls back up.

pub(crate) mod cache;
pub(crate) mod headless;
pub(crate) mod store;

use crate::core::error::{Error, Result};
use crate::core::fsutil::FileLock;
use crate::core::log::{debug, Notes};
use crate::core::secret::Secret;
use crate::core::text::{is_wix_id, printable};
use crate::settings::config::{Config, Paths, Profile, StoreKind};
use crate::settings::env::Env;
use crate::settings::Flow;
use crate::wix::{LazyClient, Request, Response, TokenGrant, WixClient};
use cache::{now_unix, CacheKey, CachedToken, TokenCache};
use store::{SecretKey, Secrets};

/// The app instance a command acts for, and how to get its tokens.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub profile: String,
    pub app_id: String,
    /// `None` only in CI with `WIX_REFRESH_TOKEN` and no instance id.
    pub instance_id: Option<String>,
    pub flow: Flow,
    /// Where login put the profile's secrets; `None` when unknown.
    pub store_hint: Option<StoreKind>,
}

impl Target {
    /// The instance id, or a usage error saying how to give one.
    pub(crate) fn require_instance(&self) -> Result<&str> {
        self.instance_id.as_deref().ok_or_else(|| {
            Error::usage("no app instance given: pass --instance ID or set WIX_INSTANCE_ID")
        })
    }
}

/// Seconds a token must still be valid for when the user does not say (`--min-ttl`).
pub(crate) const DEFAULT_MIN_TTL: u64 = 60;

/// Options of a token request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Freshness {
    /// Seconds the token must still be valid for.
    pub min_ttl: u64,
    /// Skip the cache and always ask Wix.
    pub force: bool,
}

/// What the credential logic needs of a run, borrowed from the `Context`.
pub(crate) struct Session<'a> {
    pub env: &'a Env,
    pub paths: &'a Paths,
    pub config: &'a Config,
    pub profile: &'a str,
    pub secrets: &'a Secrets,
    pub wix: &'a LazyClient,
    pub notes: &'a Notes,
}

impl<'a> Session<'a> {
    /// Forgets cached tokens of an app or Headless client; see [`forget_cached`].
    pub(crate) fn forget_cached(&self, app_id: &str, which: Cached) -> Result<()> {
        forget_cached(self.paths, Some(&self.env.api_base), app_id, which)
    }

    pub(crate) fn cache(&self) -> TokenCache {
        TokenCache {
            dir: self.paths.cache_dir(),
            writes: !self.env.no_cache,
            notes: self.notes.clone(),
        }
    }

    /// The cache entry for tokens of `app_id`/`instance` minted with this run's credentials.
    pub(crate) fn cache_key(&self, app_id: &str, instance: Option<&str>) -> CacheKey {
        let from_env: Vec<&Secret> = [&self.env.app_secret, &self.env.refresh_token]
            .into_iter()
            .flatten()
            .collect();
        CacheKey::new(&self.env.api_base, app_id, instance, &from_env)
    }

    /// The cache entry for `target`'s tokens: [`Session::cache_key`], and for a Wix Headless
    /// client whose refresh token is the profile's (not `WIX_REFRESH_TOKEN`), that profile.
    pub(crate) fn cache_key_for(&self, target: &Target) -> CacheKey {
        let key = self.cache_key(&target.app_id, target.instance_id.as_deref());
        match target.flow.is_headless() && self.env.refresh_token.is_none() {
            true => key.held_by(&target.profile),
            false => key,
        }
    }

    /// The app id (`WIX_APP_ID` wins) and the active profile, when it belongs to that app:
    /// a profile for another app than `WIX_APP_ID` names is not consulted at all.
    pub(crate) fn app_and_profile(&self) -> (Option<String>, Option<&'a Profile>) {
        let profile = self
            .config
            .profile(self.profile)
            .filter(|p| self.env.app_id.is_none() || p.app_id == self.env.app_id);
        let app_id = self
            .env
            .app_id
            .clone()
            .or_else(|| profile.and_then(|p| p.app_id.clone()));
        (app_id, profile)
    }

    /// Works out the app, instance and flow: `WIX_*` variables win, then the profile.
    pub(crate) fn resolve(&self, instance: Option<&str>, flow: Option<Flow>) -> Result<Target> {
        if self.is_headless() || flow.is_some_and(Flow::is_headless) {
            return self.resolve_headless(instance, flow);
        }
        let (app_id, profile) = self.app_and_profile();
        let app_id = app_id.ok_or_else(|| {
            Error::usage(format!(
                "nothing is logged in for profile {:?}: run `wixauth login`, or set WIX_APP_ID and WIX_APP_SECRET (CI)",
                self.profile
            ))
        })?;
        let env_secret = self.env.app_secret.is_some();
        // A WIX_REFRESH_TOKEN is always the token used (unless --flow basic says otherwise),
        // and it names its own instance: the profile's default is not assumed for it.
        let env_refresh = self.env.refresh_token.is_some() && flow != Some(Flow::Basic);
        if let Some(id) = instance.filter(|id| !is_wix_id(id)) {
            return Err(Error::usage(format!(
                "instance {:?} does not look like a Wix instance id (letters, digits and dashes): check --instance or WIX_INSTANCE_ID",
                printable(id, 80)
            )));
        }
        let instance_id = instance.map(str::to_string).or_else(|| {
            (!env_refresh)
                .then(|| profile.and_then(|p| p.default_instance.clone()))
                .flatten()
        });
        let stored = instance_id
            .as_deref()
            .and_then(|i| profile.and_then(|p| p.instances.get(i)));
        if let Some(id) = instance_id.as_deref() {
            if stored.is_none() && !env_secret {
                return Err(Error::usage(format!(
                    "instance {id} is not logged in for profile {:?}: run `wixauth login --instance-id {id}`, or set WIX_APP_SECRET (CI)",
                    self.profile
                )));
            }
        }
        let flow = flow
            .or(env_refresh.then_some(Flow::Advanced))
            .or(stored.map(|i| i.flow))
            .or(profile.and_then(|p| p.flow))
            .unwrap_or(Flow::Basic);
        let target = Target {
            profile: self.profile.to_string(),
            app_id,
            instance_id,
            flow,
            store_hint: profile.and_then(|p| p.secret_store),
        };
        if target.instance_id.is_none() && (flow == Flow::Basic || !env_refresh) {
            if profile.is_some_and(|p| p.instances.is_empty()) && !env_secret {
                return Err(Error::usage(format!(
                    "profile {:?} has no logged-in instance: run `wixauth login` (or `wixauth login --instance-id ID` for the basic flow)",
                    self.profile
                )));
            }
            target.require_instance()?;
        }
        Ok(target)
    }

    /// The app secret: `WIX_APP_SECRET`, else the secret store.
    pub(crate) fn app_secret(&self, target: &Target) -> Result<Secret> {
        if let Some(secret) = &self.env.app_secret {
            debug!("app secret from WIX_APP_SECRET");
            return Ok(secret.clone());
        }
        let key = SecretKey::app_secret(&target.profile);
        match self.secrets.get(&key, target.store_hint)? {
            Some((secret, _)) => Ok(secret),
            None => Err(Error::usage(format!(
                "no app secret is stored for profile {:?}: run `wixauth login`, or set WIX_APP_SECRET (CI)",
                target.profile
            ))),
        }
    }

    /// A token valid for at least `min_ttl` seconds: from the cache when it can, else from Wix
    /// under a per-instance lock, re-reading the cache once the lock is ours so that parallel
    /// callers make one request between them.
    pub(crate) fn fresh_token(&self, target: &Target, want: Freshness) -> Result<CachedToken> {
        let cache = self.cache();
        let key = self.cache_key_for(target);
        let min_ttl = i64::try_from(want.min_ttl).unwrap_or(i64::MAX);
        let usable = |t: &CachedToken| t.flow == target.flow && t.ttl(now_unix()) >= min_ttl;
        if !want.force {
            if let Some(token) = cache.load(&key)?.filter(usable) {
                debug!(
                    "token cache hit for {} ({} s left)",
                    key.stem(),
                    token.ttl(now_unix())
                );
                return Ok(token);
            }
            debug!("token cache miss for {}", key.stem());
        }
        let (_lock, waited) = FileLock::acquire(&self.paths.lock_file(&key.stem()))?;
        if waited {
            debug!("waited for another wixauth refreshing {}", key.stem());
        }
        // Re-read even when the lock was free: another wixauth may have refreshed and released
        // it between our miss above and taking the lock.
        if !want.force {
            if let Some(token) = cache.load(&key)?.filter(usable) {
                debug!("token cache hit for {} after the lock", key.stem());
                return Ok(token);
            }
        }
        let grant = self.request_token(target)?;
        let token = CachedToken::from_grant(
            &grant,
            &target.app_id,
            target.instance_id.as_deref(),
            target.flow,
        );
        if let Err(e) = cache.save(&key, &token) {
            self.notes.warn(format!(
                "cannot cache the token ({e}); the next call will ask Wix again"
            ));
        }
        if grant.expires_in < want.min_ttl {
            self.notes.warn(format!(
                "Wix issues tokens valid for {} s, less than the {} s asked for with --min-ttl",
                grant.expires_in, want.min_ttl
            ));
        }
        Ok(token)
    }

    fn request_token(&self, target: &Target) -> Result<TokenGrant> {
        match target.flow {
            Flow::Basic => {
                let secret = self.app_secret(target)?;
                let wix = self.wix.get()?;
                wix.create_access_token(&target.app_id, &secret, target.require_instance()?)
            }
            Flow::Advanced => {
                let secret = self.app_secret(target)?;
                self.refresh(target, &secret, self.wix.get()?)
            }
            Flow::Visitor | Flow::Member => self.headless_token(target),
        }
    }

    fn refresh(&self, target: &Target, secret: &Secret, wix: &WixClient) -> Result<TokenGrant> {
        if let Some(refresh) = &self.env.refresh_token {
            debug!("refresh token from WIX_REFRESH_TOKEN");
            return wix.refresh_access_token(
                &target.app_id,
                secret,
                refresh,
                crate::wix::CHECK_CREDENTIALS,
            );
        }
        let instance = target.require_instance()?;
        let key = SecretKey::refresh_token(&target.profile, instance);
        let Some((refresh, kind)) = self.secrets.get(&key, target.store_hint)? else {
            return Err(Error::usage(format!(
                "no refresh token is stored for instance {instance}: run `wixauth login --flow advanced` again, or set WIX_REFRESH_TOKEN (CI)"
            )));
        };
        let grant = wix.refresh_access_token(
            &target.app_id,
            secret,
            &refresh,
            "the stored refresh token was kept; if the app was uninstalled from the site, run `wixauth login --flow advanced` again",
        )?;
        // Wix does not rotate refresh tokens today; if it ever does, keep the successor,
        // written only now that it has arrived.
        if let Some(next) = grant
            .refresh_token
            .as_ref()
            .filter(|next| **next != refresh)
        {
            debug!("Wix returned a new refresh token; storing it in the {kind}");
            self.secrets.put(&key, next)?;
        }
        Ok(grant)
    }

    /// An authenticated call for the target instance: a fresh token in `Authorization`, and
    /// on a 401 (a token Wix no longer takes) one new token and one more try. Returns Wix's
    /// answer and the token that got it.
    pub(crate) fn authorised_send(
        &self,
        target: &Target,
        request: Request,
    ) -> Result<(Response, Secret)> {
        let fresh = |force| {
            self.fresh_token(
                target,
                Freshness {
                    min_ttl: DEFAULT_MIN_TTL,
                    force,
                },
            )
            .map(|t| t.access_token)
        };
        let token = fresh(false)?;
        let wix = self.wix.get()?;
        let response = wix.send(&Request {
            auth: Some(token.clone()),
            ..request.clone()
        })?;
        if response.status != 401 {
            return Ok((response, token));
        }
        debug!("Wix answered 401: getting a new token and trying once more");
        let token = fresh(true)?;
        let response = wix.send(&Request {
            auth: Some(token.clone()),
            ..request
        })?;
        Ok((response, token))
    }
}

/// Which cached tokens [`forget_cached`] removes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cached<'a> {
    /// One instance's.
    Instance(&'a str),
    /// Every instance's.
    EveryInstance,
    /// A Wix Headless client's, but none another profile's stored refresh token minted.
    OfProfile(&'a str),
}

/// Forgets the cached tokens of an app or Headless client that `which` names, whatever
/// credentials or API base minted them. Each is removed under the lock `token` takes for it;
/// with `api`, the entry of the stored credentials at that base is locked first, so a
/// refresh in flight cannot write it back after we removed it.
pub(crate) fn forget_cached(
    paths: &Paths,
    api: Option<&url::Url>,
    app_id: &str,
    which: Cached,
) -> Result<()> {
    let cache = TokenCache {
        dir: paths.cache_dir(),
        writes: true,
        notes: Notes::default(),
    };
    let stored_key = |api| match which {
        Cached::Instance(i) => Some(CacheKey::new(api, app_id, Some(i), &[])),
        Cached::OfProfile(p) => Some(CacheKey::new(api, app_id, None, &[]).held_by(p)),
        Cached::EveryInstance => None,
    };
    let held = api.and_then(stored_key).map(|k| k.stem());
    let _held = match &held {
        Some(stem) => Some(FileLock::acquire(&paths.lock_file(stem))?),
        None => None,
    };
    let ours = |k: &CacheKey| {
        k.app_id == app_id
            && match which {
                Cached::Instance(i) => k.instance_id.as_deref() == Some(i),
                Cached::EveryInstance => true,
                Cached::OfProfile(p) => k.holder.as_deref().is_none_or(|h| h == p),
            }
    };
    for stem in cache.entries_where(ours) {
        // A second lock on the file we hold would wait for ourselves.
        let _lock = match held.as_deref() == Some(stem.as_str()) {
            true => None,
            false => Some(FileLock::acquire(&paths.lock_file(&stem))?),
        };
        cache.remove(&stem)?;
    }
    Ok(())
}
