//! The profile lifecycle: every write to config.toml and the secret store goes through here —
//! logins (app and Headless, switching a profile's kind), logouts (one instance, all), a
//! rotated refresh token, site names, `switch`, the webhook key and the webhook receiver's
//! installs and removals.
//!
//! One order everywhere: the new secrets first, then the config that names them, and only
//! then what the previous state left behind. A failure at any step leaves a usable login.

use url::Url;

use super::cache::{self, now_unix, CacheKey, CachedToken, TokenCache};
use super::store::{SecretKey, Secrets};
use super::{forget_cached, Cached, Session};
use crate::core::error::Result;
use crate::core::fsutil;
use crate::core::log::{debug, Notes};
use crate::core::secret::Secret;
use crate::settings::config::{
    Config, DevKeyRecord, Instance, InstanceSource, Paths, Profile, StoreKind,
};
use crate::settings::flow::{Held, Kind};
use crate::settings::Flow;
use crate::wix::TokenGrant;

/// What the lifecycle needs: where files live, the stores, the API base logins bind to.
pub(crate) struct Lifecycle<'a> {
    pub paths: &'a Paths,
    pub secrets: &'a Secrets,
    pub api: &'a Url,
    pub notes: &'a Notes,
    pub profile: &'a str,
    /// config.toml as the command loaded it: the state being replaced.
    pub before: &'a Config,
    /// `WIXAUTH_NO_CACHE`: the login's token is not cached either.
    pub no_cache: bool,
}

impl Session<'_> {
    pub(crate) fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle {
            paths: self.paths,
            secrets: self.secrets,
            api: &self.env.api_base,
            notes: self.notes,
            profile: self.profile,
            before: self.config,
            no_cache: self.env.no_cache,
        }
    }
}

/// An app login to store (basic or advanced).
pub(crate) struct AppLogin<'a> {
    pub app_id: &'a str,
    pub flow: Flow,
    pub redirect_url: Option<String>,
    pub secret: &'a Secret,
    pub instance_id: &'a str,
    /// Advanced only.
    pub refresh_token: Option<&'a Secret>,
    /// The token that proved the login: cached, so the first `token` needs no request.
    pub grant: &'a TokenGrant,
}

/// A Headless login to store (visitor, member or admin).
pub(crate) struct HeadlessLogin<'a> {
    pub client_id: &'a str,
    pub flow: Flow,
    pub redirect_url: Option<String>,
    /// The visitor's or member's refresh token, or (admin) the client secret.
    pub secret: &'a Secret,
    pub grant: &'a TokenGrant,
}

/// An API key login to store: the key and what its calls are for.
pub(crate) struct KeyLogin<'a> {
    pub key: &'a Secret,
    pub site_id: Option<&'a str>,
    pub account_id: Option<&'a str>,
}

/// What `forget_instance` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Forgotten {
    /// The profile had the instance.
    pub was_stored: bool,
    /// It was the default: the profile now has none (another site is never promoted silently).
    pub was_default: bool,
}

impl Lifecycle<'_> {
    fn previous(&self) -> Option<&Profile> {
        self.before.profile(self.profile)
    }

    /// Read-modify-write of this profile under the config lock.
    fn update_profile<T>(&self, change: impl FnOnce(&mut Profile) -> T) -> Result<T> {
        let name = self.profile.to_string();
        Config::update(self.paths, |c| change(c.profiles.entry(name).or_default()))
    }

    /// Stores an app login. Returns where the secrets went.
    pub(crate) fn save_app_login(&self, login: &AppLogin) -> Result<StoreKind> {
        let secrets = self.secrets;
        let stored_in = secrets.put(
            &SecretKey::app_secret(self.profile, login.app_id),
            login.secret,
        )?;
        if let Some(refresh) = login.refresh_token {
            secrets.put(
                &SecretKey::refresh_token(self.profile, login.instance_id),
                refresh,
            )?;
        }
        let api = self.api.as_str().to_string();
        self.update_profile(|p| {
            if p.app_id.as_deref() != Some(login.app_id) {
                // The instances of another app (or of none) cannot be used with this one.
                p.instances.clear();
            }
            p.app_id = Some(login.app_id.to_string());
            p.client_id = None;
            p.site_id = None;
            p.account_id = None;
            p.secret_fingerprint = None;
            p.flow = Some(login.flow);
            p.secret_store = Some(stored_in);
            p.redirect_url = login.redirect_url.clone();
            p.api_base = Some(api);
            p.default_instance = Some(login.instance_id.to_string());
            let now = now_unix();
            let instance = p
                .instances
                .entry(login.instance_id.to_string())
                .or_insert_with(|| Instance::new(login.flow, InstanceSource::Login, now));
            // A re-login keeps what was learnt of the site.
            instance.flow = login.flow;
            instance.last_seen = Some(now);
            instance.removed = false;
        })?;
        // Only now that the new login is stored: what the previous state of the profile left.
        if let Some(old) = self.previous() {
            self.forget_headless_leftovers(old, None)?;
            if old.app_id.as_deref().is_some_and(|a| a != login.app_id) {
                self.forget_app_leftovers(old, Some(login.instance_id))?;
            }
        }
        // The 0.1 name of the app secret is replaced by the one with the app id.
        let hint = self.previous().and_then(|p| p.secret_store);
        secrets.delete_everywhere(&SecretKey::legacy_app_secret(self.profile), hint)?;
        let key = CacheKey::new(self.api, login.app_id, Some(login.instance_id), &[]);
        self.cache_login_token(
            &key,
            login.grant,
            login.app_id,
            Some(login.instance_id),
            login.flow,
        );
        Ok(stored_in)
    }

    /// Stores a Headless login. Returns where its refresh token or client secret went.
    pub(crate) fn save_headless_login(&self, login: &HeadlessLogin) -> Result<StoreKind> {
        let held = login.flow.held();
        let entry = match held {
            Held::ClientSecret => SecretKey::client_secret(self.profile, login.client_id),
            Held::RefreshToken | Held::AppSecret | Held::ApiKey => {
                SecretKey::headless_refresh(self.profile)
            }
        };
        let stored_in = self.secrets.put(&entry, login.secret)?;
        // A client secret is named in the cache by its fingerprint (never the secret).
        let fingerprint = match held {
            Held::ClientSecret => cache::fingerprint(&[login.secret]),
            Held::RefreshToken | Held::AppSecret | Held::ApiKey => None,
        };
        let api = self.api.as_str().to_string();
        self.update_profile(|p| {
            p.app_id = None;
            p.instances.clear();
            p.default_instance = None;
            p.site_id = None;
            p.account_id = None;
            p.client_id = Some(login.client_id.to_string());
            p.flow = Some(login.flow);
            p.secret_store = Some(stored_in);
            p.redirect_url = login.redirect_url.clone();
            p.api_base = Some(api);
            p.secret_fingerprint = fingerprint.clone();
        })?;
        if let Some(old) = self.previous() {
            self.forget_identity_secrets(old, Some(&entry))?;
            // Another client's tokens, or this client's of another flow (a visitor's, say).
            let other_flow = old.flow.map(Flow::held) != Some(held);
            let old_client = old.client_id.as_deref();
            if let Some(old_client) = old_client.filter(|c| *c != login.client_id || other_flow) {
                forget_cached(
                    self.paths,
                    Some(self.api),
                    old_client,
                    Cached::OfProfile(self.profile),
                )?;
            }
            if old.app_id.is_some() {
                self.forget_app_leftovers(old, None)?;
            }
        }
        let key = CacheKey::new(self.api, login.client_id, None, &[]);
        let key = match held {
            Held::ClientSecret => key.minted_with(fingerprint),
            Held::RefreshToken | Held::AppSecret | Held::ApiKey => key.held_by(self.profile),
        };
        self.cache_login_token(&key, login.grant, login.client_id, None, login.flow);
        Ok(stored_in)
    }

    /// Stores an API key login (no token: a key is used as it is). Returns where the key went.
    pub(crate) fn save_key_login(&self, login: &KeyLogin) -> Result<StoreKind> {
        let entry = SecretKey::api_key(self.profile);
        let stored_in = self.secrets.put(&entry, login.key)?;
        let api = self.api.as_str().to_string();
        self.update_profile(|p| {
            p.app_id = None;
            p.client_id = None;
            p.instances.clear();
            p.default_instance = None;
            p.redirect_url = None;
            p.secret_fingerprint = None;
            p.flow = Some(Flow::ApiKey);
            p.secret_store = Some(stored_in);
            p.api_base = Some(api);
            p.site_id = login.site_id.map(str::to_string);
            p.account_id = login.account_id.map(str::to_string);
        })?;
        if let Some(old) = self.previous() {
            self.forget_headless_leftovers(old, Some(&entry))?;
            if old.app_id.is_some() {
                self.forget_app_leftovers(old, None)?;
            }
        }
        Ok(stored_in)
    }

    fn cache_login_token(
        &self,
        key: &CacheKey,
        grant: &TokenGrant,
        id: &str,
        instance: Option<&str>,
        flow: Flow,
    ) {
        let cache = TokenCache {
            dir: self.paths.cache_dir(),
            writes: !self.no_cache,
            notes: self.notes.clone(),
        };
        let token = CachedToken::from_grant(grant, id, instance, flow);
        if let Err(e) = cache.save(key, &token) {
            debug!("cannot cache the login token: {e}");
        }
    }

    /// Everything an app left in the profile: its secret, refresh tokens (but `keep`'s, which
    /// the new login just wrote) and cached tokens.
    fn forget_app_leftovers(&self, old: &Profile, keep: Option<&str>) -> Result<()> {
        let hint = old.secret_store;
        for instance in old.instances.keys().filter(|i| Some(i.as_str()) != keep) {
            self.secrets
                .delete_everywhere(&SecretKey::refresh_token(self.profile, instance), hint)?;
        }
        if let Some(app) = &old.app_id {
            self.secrets
                .delete_everywhere(&SecretKey::app_secret(self.profile, app), hint)?;
            forget_cached(self.paths, Some(self.api), app, Cached::EveryInstance)?;
        }
        self.secrets
            .delete_everywhere(&SecretKey::legacy_app_secret(self.profile), hint)
    }

    /// Everything a Headless client or an API key left in the profile: its refresh token,
    /// client secret or key (but `keep`, which a new login just wrote) and cached tokens.
    fn forget_headless_leftovers(&self, old: &Profile, keep: Option<&SecretKey>) -> Result<()> {
        self.forget_identity_secrets(old, keep)?;
        match &old.client_id {
            Some(client) => forget_cached(
                self.paths,
                Some(self.api),
                client,
                Cached::OfProfile(self.profile),
            ),
            None => Ok(()),
        }
    }

    /// The secrets of the identity a profile held before, as far as they are not an app's:
    /// a Headless client's refresh token and client secret, an API key; all but `keep`.
    fn forget_identity_secrets(&self, old: &Profile, keep: Option<&SecretKey>) -> Result<()> {
        let entries = match old.kind() {
            Kind::App => vec![],
            Kind::Headless => {
                let mut entries = vec![SecretKey::headless_refresh(self.profile)];
                if let Some(client) = &old.client_id {
                    entries.push(SecretKey::client_secret(self.profile, client));
                }
                entries
            }
            Kind::ApiKey => vec![SecretKey::api_key(self.profile)],
        };
        for entry in entries.iter().filter(|e| Some(*e) != keep) {
            self.secrets.delete_everywhere(entry, old.secret_store)?;
        }
        Ok(())
    }

    /// `logout --all` (and any logout of a Headless profile): every secret and cached token
    /// the profile ever wrote, then the profile itself (and its place as the active one).
    pub(crate) fn forget_profile(&self) -> Result<()> {
        if let Some(old) = self.previous() {
            self.forget_headless_leftovers(old, None)?;
            self.forget_app_leftovers(old, None)?;
        }
        if let Some(dev) = self.previous().and_then(|p| p.webhook_dev_key.as_ref()) {
            let key = SecretKey::webhook_dev_key(self.profile, &dev.id);
            self.secrets.delete_everywhere(&key, Some(dev.store))?;
        }
        // Whatever else it wrote: secrets of instances a later login dropped.
        self.secrets.delete_file_entries_of(self.profile)?;
        let name = self.profile.to_string();
        Config::update(self.paths, |c| {
            c.profiles.remove(&name);
            if c.active_profile.as_deref() == Some(name.as_str()) {
                c.active_profile = None;
            }
        })
    }

    /// `logout --instance` and `AppRemoved`: the instance's refresh token, cached tokens and
    /// its entry in config.toml.
    pub(crate) fn forget_instance(&self, instance: &str) -> Result<Forgotten> {
        let previous = self.previous();
        self.secrets.delete_everywhere(
            &SecretKey::refresh_token(self.profile, instance),
            previous.and_then(|p| p.secret_store),
        )?;
        if let Some(app) = previous.and_then(|p| p.app_id.as_deref()) {
            forget_cached(self.paths, Some(self.api), app, Cached::Instance(instance))?;
        }
        let name = self.profile.to_string();
        Config::update(self.paths, |c| {
            let Some(p) = c.profiles.get_mut(&name) else {
                return Forgotten {
                    was_stored: false,
                    was_default: false,
                };
            };
            let was_stored = p.instances.remove(instance).is_some();
            let was_default = p.default_instance.as_deref() == Some(instance);
            if was_default {
                p.default_instance = None;
            }
            Forgotten {
                was_stored,
                was_default,
            }
        })
    }

    /// A rotated refresh token, which replaces the old one (already revoked by Wix, perhaps):
    /// retried once, and when the store still fails kept in a 0600 recovery file that the next
    /// run picks up ([`Lifecycle::recovered_refresh_token`]), never thrown away.
    pub(crate) fn keep_rotated_refresh_token(&self, key: &SecretKey, next: &Secret) -> Result<()> {
        let first = match self.secrets.put(key, next) {
            Ok(_) => return self.drop_recovery_file(key),
            Err(e) => e,
        };
        debug!("storing the rotated refresh token failed ({first}); trying once more");
        if self.secrets.put(key, next).is_ok() {
            return self.drop_recovery_file(key);
        }
        let file = self.recovery_file(key);
        fsutil::write_private_atomic(&file, next.expose().as_bytes())
            .map_err(|e| e.context("keeping the rotated refresh token"))?;
        self.notes.warn(format!(
            "Wix rotated the refresh token and the secret store refused it ({}); it is kept in {} (mode 0600) until the store works again, and the next wixauth run uses it",
            first.what(),
            file.display()
        ));
        Ok(())
    }

    fn recovery_file(&self, key: &SecretKey) -> std::path::PathBuf {
        self.paths.dir.join(format!(
            "recovered-{}.secret",
            fsutil::safe_file_stem(&key.entry_name())
        ))
    }

    /// A refresh token a failed store left in its recovery file, stored now if the store
    /// works again.
    pub(crate) fn recovered_refresh_token(&self, key: &SecretKey) -> Result<Option<Secret>> {
        let Some(text) = fsutil::read_private(&self.recovery_file(key), self.notes)? else {
            return Ok(None);
        };
        let token = Secret::new(text.trim());
        if self.secrets.put(key, &token).is_ok() {
            self.drop_recovery_file(key)?;
        }
        Ok(Some(token))
    }

    fn drop_recovery_file(&self, key: &SecretKey) -> Result<()> {
        fsutil::remove_if_exists(&self.recovery_file(key))
    }

    /// What a login, `whoami` or `status --check` learnt of a site.
    pub(crate) fn remember_site(
        &self,
        instance: &str,
        name: Option<&str>,
        url: Option<&str>,
    ) -> Result<()> {
        if name.is_none() && url.is_none() {
            return Ok(());
        }
        let name_now = name.map(str::to_string);
        let url_now = url.map(str::to_string);
        self.update_profile(|p| {
            if let Some(i) = p.instances.get_mut(instance) {
                i.site_name = name_now.or(i.site_name.take());
                i.site_url = url_now.or(i.site_url.take());
            }
        })
    }

    /// `switch`: the active profile and/or this profile's default instance.
    pub(crate) fn switch(&self, make_active: bool, default_instance: Option<&str>) -> Result<()> {
        let name = self.profile.to_string();
        Config::update(self.paths, |c| {
            if make_active {
                c.active_profile = Some(name.clone());
            }
            if let (Some(id), Some(p)) = (default_instance, c.profiles.get_mut(&name)) {
                p.default_instance = Some(id.to_string());
            }
        })
    }

    /// `webhook dev-key`: a new development key pair. The private key goes to the secret store
    /// first, then config.toml names it, then a rotated-out key's entry is removed. Without
    /// `replace`, a key another run stored meanwhile wins (checked under the config lock) and
    /// ours is removed again. Returns the record now in force.
    pub(crate) fn save_dev_key(
        &self,
        id: &str,
        private_pem: &Secret,
        public_pem: &str,
        replace: bool,
    ) -> Result<DevKeyRecord> {
        let ours = SecretKey::webhook_dev_key(self.profile, id);
        let store = self.secrets.put(&ours, private_pem)?;
        let record = DevKeyRecord {
            id: id.to_string(),
            public_key: public_pem.to_string(),
            store,
            unknown: toml::Table::new(),
        };
        let (kept, replaced) = self.update_profile(|p| match p.webhook_dev_key.clone() {
            Some(existing) if !replace => (existing, None),
            old => {
                p.webhook_dev_key = Some(record.clone());
                (record.clone(), old)
            }
        })?;
        let leftover = match (&replaced, kept.id == id) {
            (Some(old), true) => Some(SecretKey::webhook_dev_key(self.profile, &old.id)),
            (_, false) => Some(ours),
            (None, true) => None,
        };
        if let Some(left) = leftover {
            let hint = replaced.as_ref().map(|o| o.store).unwrap_or(store);
            self.secrets.delete_everywhere(&left, Some(hint))?;
        }
        Ok(kept)
    }

    /// `webhook set-key`: the app's webhook public key (public: config.toml).
    pub(crate) fn set_webhook_key(&self, pem: &str) -> Result<()> {
        self.update_profile(|p| p.webhook_public_key = Some(pem.to_string()))
    }
}

/// The `WIX_*` variables a child of `exec` gets: the token and what names its target, so a
/// `wixauth` it runs acts for the same profile; never the long-lived credentials (an API key is
/// the exception: it is the token, in `WIX_ACCESS_TOKEN`).
pub(crate) struct ChildEnv {
    pub set: Vec<(&'static str, Secret)>,
    pub removed: Vec<&'static str>,
}

pub(crate) fn child_env(target: &super::Target, token: &Secret) -> ChildEnv {
    let mut set = vec![("WIX_ACCESS_TOKEN", token.clone())];
    let mut removed = crate::settings::env::SECRET_VARIABLES.to_vec();
    match target.flow.kind() {
        Kind::App => set.push(("WIX_APP_ID", Secret::new(target.app_id.as_str()))),
        // A Headless client's id is its OAuth client id; `WIX_APP_ID` then names the same.
        Kind::Headless => {
            set.push(("WIX_APP_ID", Secret::new(target.app_id.as_str())));
            set.push(("WIX_CLIENT_ID", Secret::new(target.app_id.as_str())));
        }
        Kind::ApiKey => {
            for (name, id) in [
                ("WIX_SITE_ID", &target.site_id),
                ("WIX_ACCOUNT_ID", &target.account_id),
            ] {
                match id {
                    Some(id) => set.push((name, Secret::new(id.as_str()))),
                    None => removed.push(name),
                }
            }
        }
    }
    match &target.instance_id {
        Some(instance) => set.push(("WIX_INSTANCE_ID", Secret::new(instance.as_str()))),
        None => removed.push("WIX_INSTANCE_ID"),
    }
    ChildEnv { set, removed }
}
