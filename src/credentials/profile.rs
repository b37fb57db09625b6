//! The profile lifecycle: every write to config.toml and the secret store goes through here —
//! logins (app and Headless, switching a profile's kind), logouts (one instance, all), a
//! rotated refresh token, site names, `switch`, the webhook key and the webhook receiver's
//! installs and removals.
//!
//! One order everywhere: the new secrets first, then the config that names them, and only
//! then what the previous state left behind. A failure at any step leaves a usable login.

use url::Url;

use super::cache::{now_unix, CacheKey, CachedToken, TokenCache};
use super::store::{SecretKey, Secrets};
use super::{forget_cached, Cached, Session};
use crate::core::error::Result;
use crate::core::fsutil;
use crate::core::log::{debug, Notes};
use crate::core::secret::Secret;
use crate::settings::config::{
    Config, DevKeyRecord, Instance, InstanceSource, Paths, Profile, StoreKind,
};
use crate::settings::flow::Kind;
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

/// A Headless login to store (visitor or member).
pub(crate) struct HeadlessLogin<'a> {
    pub client_id: &'a str,
    pub flow: Flow,
    pub redirect_url: Option<String>,
    pub refresh_token: &'a Secret,
    pub grant: &'a TokenGrant,
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
            self.forget_headless_leftovers(old)?;
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

    /// Stores a Headless login. Returns where the refresh token went.
    pub(crate) fn save_headless_login(&self, login: &HeadlessLogin) -> Result<StoreKind> {
        let stored_in = self.secrets.put(
            &SecretKey::headless_refresh(self.profile),
            login.refresh_token,
        )?;
        let api = self.api.as_str().to_string();
        self.update_profile(|p| {
            p.app_id = None;
            p.instances.clear();
            p.default_instance = None;
            p.client_id = Some(login.client_id.to_string());
            p.flow = Some(login.flow);
            p.secret_store = Some(stored_in);
            p.redirect_url = login.redirect_url.clone();
            p.api_base = Some(api);
        })?;
        if let Some(old) = self.previous() {
            if old
                .client_id
                .as_deref()
                .is_some_and(|c| c != login.client_id)
            {
                let old_client = old.client_id.as_deref().unwrap_or_default();
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
        let key = CacheKey::new(self.api, login.client_id, None, &[]).held_by(self.profile);
        self.cache_login_token(&key, login.grant, login.client_id, None, login.flow);
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

    /// Everything a Headless client left in the profile: its refresh token and cached tokens.
    fn forget_headless_leftovers(&self, old: &Profile) -> Result<()> {
        if !old.is_headless() {
            return Ok(());
        }
        self.secrets
            .delete_everywhere(&SecretKey::headless_refresh(self.profile), old.secret_store)?;
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

    /// `logout --all` (and any logout of a Headless profile): every secret and cached token
    /// the profile ever wrote, then the profile itself (and its place as the active one).
    pub(crate) fn forget_profile(&self) -> Result<()> {
        if let Some(old) = self.previous() {
            self.forget_headless_leftovers(old)?;
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
/// `wixauth` it runs acts for the same profile; never the long-lived credentials.
pub(crate) struct ChildEnv {
    pub set: Vec<(&'static str, Secret)>,
    pub removed: Vec<&'static str>,
}

pub(crate) fn child_env(target: &super::Target, token: &Secret) -> ChildEnv {
    let mut set = vec![
        ("WIX_ACCESS_TOKEN", token.clone()),
        ("WIX_APP_ID", Secret::new(target.app_id.as_str())),
    ];
    let mut removed = vec!["WIX_APP_SECRET", "WIX_REFRESH_TOKEN"];
    match target.flow.kind() {
        // A Headless client's id is its OAuth client id; `WIX_APP_ID` then names the same.
        Kind::Headless => set.push(("WIX_CLIENT_ID", Secret::new(target.app_id.as_str()))),
        Kind::App => {}
    }
    match &target.instance_id {
        Some(instance) => set.push(("WIX_INSTANCE_ID", Secret::new(instance.as_str()))),
        None => removed.push("WIX_INSTANCE_ID"),
    }
    ChildEnv { set, removed }
}
