//! From "which profile and instance" to a fresh access token, and every write to what a profile
//! stores. A token request goes one way down: command → [`Session`] → cache | secret store |
//! Wix client, none of which calls back up.
//!
//! - `resolve`: which app instance or Headless client a command acts for (the environment wins);
//! - `mint`: a fresh token from the cache or from Wix, under a lock, and authorised calls;
//! - `advice`: the one next step when Wix turns a credential down, chosen by where it came from;
//! - `explain`: "why was I refused?": what the credential is, and the likely cause of a refusal;
//! - `profile`: the profile lifecycle, the only writer of config.toml and the secret store;
//! - `fleet`: one job per instance on a few threads, under Wix's rate limit;
//! - `cache`, `store`: the token cache and the secret stores.

mod advice;
pub(crate) mod cache;
pub(crate) mod explain;
pub(crate) mod fleet;
pub(crate) mod instances;
mod mint;
pub(crate) mod profile;
mod resolve;
pub(crate) mod store;

pub(crate) use resolve::check_ids;

use crate::core::error::{Cmd, Error, Result};
use crate::core::fsutil::FileLock;
use crate::core::log::Notes;
use crate::core::secret::Secret;
use crate::settings::config::{Config, DevKeyRecord, Paths, StoreKind};
use crate::settings::env::Env;
use crate::settings::flow::Held;
use crate::settings::Flow;
use crate::wix::LazyClient;
use cache::{CacheKey, TokenCache};
use store::Secrets;

/// Where a credential of a [`Target`] came from: what the next step after a rejection names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A command-line flag (`--instance`).
    Flag,
    /// A `WIX_*` variable.
    Env,
    /// The profile (config.toml and the secret store).
    Stored,
}

/// The app instance (or Wix Headless client) a command acts for, and how to get its tokens.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub profile: String,
    /// The app id, or a Headless client's OAuth client id.
    pub app_id: String,
    pub app_from: Source,
    /// `None` for a Headless client, and in CI with `WIX_REFRESH_TOKEN` and no instance id.
    pub instance_id: Option<String>,
    pub instance_from: Source,
    pub flow: Flow,
    /// Where login put the profile's secrets; `None` when unknown.
    pub store_hint: Option<StoreKind>,
    /// An API key's site (`wix-site-id`) and account (`wix-account-id`); `None` otherwise.
    pub site_id: Option<String>,
    pub account_id: Option<String>,
    /// Where the site and account ids came from (`WIX_SITE_ID`/`WIX_ACCOUNT_ID`, or stored).
    pub ids_from: Source,
}

impl Target {
    /// The headers besides `Authorization` that every call of this target carries: an API
    /// key's `wix-site-id` and `wix-account-id`.
    pub(crate) fn headers(&self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if let Some(site) = &self.site_id {
            headers.push(("wix-site-id".to_string(), site.clone()));
        }
        if let Some(account) = &self.account_id {
            headers.push(("wix-account-id".to_string(), account.clone()));
        }
        headers
    }

    /// The instance id, or a usage error saying how to give one.
    pub(crate) fn require_instance(&self) -> Result<&str> {
        self.instance_id.as_deref().ok_or_else(|| {
            Error::usage("no app instance given").hint("pass --instance ID or set WIX_INSTANCE_ID")
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
    /// The instance came from `--instance` (not `WIX_INSTANCE_ID`).
    pub instance_flag: bool,
    pub secrets: &'a Secrets,
    pub wix: &'a LazyClient,
    pub notes: &'a Notes,
}

impl<'a> Session<'a> {
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

    /// The cache entry for `target`'s tokens: [`Session::cache_key`]; for a Wix Headless
    /// client whose refresh token is the profile's (not `WIX_REFRESH_TOKEN`), that profile's;
    /// for a client secret, its fingerprint (`WIX_CLIENT_SECRET`'s, or the stored one's).
    pub(crate) fn cache_key_for(&self, target: &Target) -> CacheKey {
        let key = self.cache_key(&target.app_id, target.instance_id.as_deref());
        match target.flow.held() {
            Held::AppSecret | Held::ApiKey => key,
            Held::RefreshToken if self.env.refresh_token.is_some() => key,
            Held::RefreshToken => key.held_by(&target.profile),
            Held::ClientSecret => self.client_secret_cache_key(&target.app_id),
        }
    }

    /// An admin token's entry: API base, client id and the client secret's fingerprint.
    fn client_secret_cache_key(&self, client: &str) -> CacheKey {
        let credential = match &self.env.client_secret {
            Some(secret) => cache::fingerprint(&[secret]),
            None => self
                .config
                .profile(self.profile)
                .filter(|p| p.client_id.as_deref() == Some(client))
                .and_then(|p| p.secret_fingerprint.clone()),
        };
        CacheKey::new(&self.env.api_base, client, None, &[]).minted_with(credential)
    }

    /// The cache entry of the token a stored login minted (what a later run with the stored
    /// credentials looks up).
    pub(crate) fn stored_cache_key(
        &self,
        flow: Flow,
        app_id: &str,
        instance: Option<&str>,
    ) -> CacheKey {
        let key = CacheKey::new(&self.env.api_base, app_id, instance, &[]);
        match flow.held() {
            Held::AppSecret | Held::ApiKey => key,
            Held::RefreshToken => key.held_by(self.profile),
            Held::ClientSecret => {
                let stored = self.config.profile(self.profile);
                key.minted_with(stored.and_then(|p| p.secret_fingerprint.clone()))
            }
        }
    }

    /// The profile's webhook development key: where it is and its private key (PEM); `None`
    /// when `webhook dev-key` never made one. One that cannot be read is a usage error whose
    /// fix makes a new one.
    pub(crate) fn webhook_dev_key(&self) -> Result<Option<(DevKeyRecord, Secret)>> {
        let Some(record) = self
            .config
            .profile(self.profile)
            .and_then(|p| p.webhook_dev_key.clone())
        else {
            return Ok(None);
        };
        let rotate = || Cmd::new(&["webhook", "dev-key", "--rotate"]);
        let key = store::SecretKey::webhook_dev_key(self.profile, &record.id);
        match self.secrets.get(&key, Some(record.store)) {
            Ok(Some((secret, _))) => Ok(Some((record, secret))),
            Ok(None) => Err(Error::usage(format!(
                "the webhook dev key of profile {} is not in the {} store any more",
                self.profile, record.store
            ))
            .run(rotate())),
            Err(e) => {
                let e = e
                    .context(format!(
                        "reading the webhook dev key of profile {}",
                        self.profile
                    ))
                    .exit_as(crate::core::error::Exit::Usage);
                Err(match e.next_step() {
                    Some(_) => e,
                    None => e.run(rotate()),
                })
            }
        }
    }

    /// The same run acting for another profile (doctor checks each).
    pub(crate) fn for_profile<'b>(&self, profile: &'b str) -> Session<'b>
    where
        'a: 'b,
    {
        Session { profile, ..*self }
    }
}

/// Which cached tokens [`forget_cached`] removes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cached<'a> {
    /// One instance's.
    Instance(&'a str),
    /// These instances' (`instances remove`, `prune`).
    Instances(&'a std::collections::BTreeSet<String>),
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
        Cached::EveryInstance | Cached::Instances(_) => None,
    };
    let held = api.and_then(stored_key).map(|k| k.stem());
    let _held = match &held {
        Some(stem) => Some(FileLock::acquire(&paths.lock_file(stem))?),
        None => None,
    };
    if let (Cached::Instances(ids), Some(api)) = (which, api) {
        // Each one's stored entry under its lock first: a refresh in flight finishes first.
        for id in ids {
            let stem = CacheKey::new(api, app_id, Some(id), &[]).stem();
            let _lock = FileLock::acquire(&paths.lock_file(&stem))?;
            cache.remove(&stem)?;
        }
    }
    let ours = |k: &CacheKey| {
        k.app_id == app_id
            && match which {
                Cached::Instance(i) => k.instance_id.as_deref() == Some(i),
                Cached::Instances(ids) => k.instance_id.as_ref().is_some_and(|i| ids.contains(i)),
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
