//! A fresh token for a [`Target`]: from the cache when it can, else from Wix under a
//! per-target lock, and authenticated calls that get a new token once on a 401.

use super::cache::{now_unix, CachedToken};
use super::store::SecretKey;
use super::{Freshness, Session, Target, DEFAULT_MIN_TTL};
use crate::core::error::{Error, Result};
use crate::core::fsutil::FileLock;
use crate::core::log::debug;
use crate::core::secret::Secret;
use crate::settings::flow::Held;
use crate::settings::Flow;
use crate::wix::{Request, Response, TokenGrant};

impl Session<'_> {
    /// The app secret: `WIX_APP_SECRET`, else the secret store (the name with the app id, then
    /// the name wixauth 0.1 wrote).
    pub(crate) fn app_secret(&self, target: &Target) -> Result<Secret> {
        if let Some(secret) = &self.env.app_secret {
            debug!("app secret from WIX_APP_SECRET");
            return Ok(secret.clone());
        }
        self.stored_base_matches()?;
        for key in [
            SecretKey::app_secret(&target.profile, &target.app_id),
            SecretKey::legacy_app_secret(&target.profile),
        ] {
            if let Some((secret, _)) = self.secrets.get(&key, target.store_hint)? {
                return Ok(secret);
            }
        }
        Err(self.no_stored_secret(target))
    }

    /// A Wix Headless client's secret (admin flow): `WIX_CLIENT_SECRET`, else the store's.
    pub(crate) fn client_secret(&self, target: &Target) -> Result<Secret> {
        let key = SecretKey::client_secret(&target.profile, &target.app_id);
        self.variable_or_stored(target, &self.env.client_secret, key)
    }

    /// The API key: `WIX_API_KEY`, else the store's.
    pub(crate) fn api_key(&self, target: &Target) -> Result<Secret> {
        let key = SecretKey::api_key(&target.profile);
        self.variable_or_stored(target, &self.env.api_key, key)
    }

    /// The flow's secret from its variable, else from the store (only for the API base it was
    /// stored for).
    fn variable_or_stored(
        &self,
        target: &Target,
        variable: &Option<Secret>,
        key: SecretKey,
    ) -> Result<Secret> {
        let held = target.flow.held();
        if let Some(secret) = variable {
            debug!("{} from {}", held.noun(), held.variable());
            return Ok(secret.clone());
        }
        self.stored_base_matches()?;
        match self.secrets.get(&key, target.store_hint)? {
            Some((secret, _)) => Ok(secret),
            None => Err(self.nothing_stored(target)),
        }
    }

    /// Whether a token can be had without asking anyone: the secret or refresh token is at hand.
    pub(crate) fn ready(&self, target: &Target) -> Result<()> {
        match target.flow.held() {
            Held::AppSecret => self.app_secret(target).map(|_| ()),
            Held::RefreshToken => self.headless_refresh_token(target).map(|_| ()),
            Held::ClientSecret => self.client_secret(target).map(|_| ()),
            Held::ApiKey => self.api_key(target).map(|_| ()),
        }
    }

    /// A token valid for at least `min_ttl` seconds: from the cache when it can, else from Wix
    /// under a per-instance lock, re-reading the cache once the lock is ours so that parallel
    /// callers make one request between them.
    pub(crate) fn fresh_token(&self, target: &Target, want: Freshness) -> Result<CachedToken> {
        if !target.flow.expires() {
            // An API key: nothing to mint, and no cache file.
            return Ok(CachedToken::lasting(self.api_key(target)?, target.flow));
        }
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
        let grant = self
            .request_token(target)
            .map_err(|e| self.advise(target, e))?;
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
                self.refresh(target, &secret)
            }
            Flow::Visitor | Flow::Member => self.headless_token(target),
            Flow::Admin => {
                let secret = self.client_secret(target)?;
                self.wix.get()?.admin_token(&target.app_id, &secret)
            }
            // `fresh_token` hands a key out as it is.
            Flow::ApiKey => Err(Error::failure(
                "an API key is not minted: it is used as it is",
            )),
        }
    }

    /// The advanced flow's refresh grant: `WIX_REFRESH_TOKEN`, else the instance's stored one.
    fn refresh(&self, target: &Target, secret: &Secret) -> Result<TokenGrant> {
        let wix = self.wix.get()?;
        if let Some(refresh) = &self.env.refresh_token {
            debug!("refresh token from WIX_REFRESH_TOKEN");
            return wix.refresh_access_token(&target.app_id, secret, refresh);
        }
        let instance = target.require_instance()?;
        let key = SecretKey::refresh_token(&target.profile, instance);
        let Some(refresh) = self.stored_refresh_token(&key, target)? else {
            return Err(self.no_stored_refresh_token(target));
        };
        let grant = wix.refresh_access_token(&target.app_id, secret, &refresh)?;
        self.keep_rotated(&key, &refresh, &grant)?;
        Ok(grant)
    }

    /// A Headless client's refresh token: `WIX_REFRESH_TOKEN`, else the profile's.
    fn headless_refresh_token(&self, target: &Target) -> Result<(Secret, bool)> {
        if let Some(refresh) = &self.env.refresh_token {
            return Ok((refresh.clone(), false));
        }
        let key = SecretKey::headless_refresh(&target.profile);
        match self.stored_refresh_token(&key, target)? {
            Some(refresh) => Ok((refresh, true)),
            // After logout: exit 2, and no new visitor behind the user's back.
            None => Err(self.no_stored_refresh_token(target)),
        }
    }

    /// A stored refresh token: one a failed store kept in its recovery file first (it is the
    /// newer), else the store's.
    fn stored_refresh_token(&self, key: &SecretKey, target: &Target) -> Result<Option<Secret>> {
        self.stored_base_matches()?;
        if let Some(recovered) = self.lifecycle().recovered_refresh_token(key)? {
            debug!("refresh token from the recovery file");
            return Ok(Some(recovered));
        }
        Ok(self.secrets.get(key, target.store_hint)?.map(|(s, _)| s))
    }

    /// A Headless token by the refresh grant. It never mints a new visitor: that would lose
    /// the visitor's cart and session.
    fn headless_token(&self, target: &Target) -> Result<TokenGrant> {
        let (refresh, stored) = self.headless_refresh_token(target)?;
        let grant = self.wix.get()?.headless_refresh(&target.app_id, &refresh)?;
        if stored {
            self.keep_rotated(
                &SecretKey::headless_refresh(&target.profile),
                &refresh,
                &grant,
            )?;
        }
        Ok(grant)
    }

    /// Wix does not rotate refresh tokens today (UNCONFIRMED); if it does, the successor is
    /// kept, written only now that it has arrived. One from the environment is never stored.
    fn keep_rotated(&self, key: &SecretKey, old: &Secret, grant: &TokenGrant) -> Result<()> {
        if let Some(next) = grant.refresh_token.as_ref().filter(|next| *next != old) {
            debug!("Wix returned a new refresh token; storing it");
            self.lifecycle().keep_rotated_refresh_token(key, next)?;
        }
        Ok(())
    }

    /// An authenticated call for the target: a fresh token in `Authorization` (with an API
    /// key's site and account headers, unless the request names its own), and on a 401 (a token
    /// Wix no longer takes) one new token and one more try; a key is not tried twice. Returns
    /// Wix's answer and the token that got it.
    pub(crate) fn authorised_send(
        &self,
        target: &Target,
        mut request: Request,
    ) -> Result<(Response, Secret)> {
        for (name, value) in target.headers() {
            if !request
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(&name))
            {
                request.headers.push((name, value));
            }
        }
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
        if response.status != 401 || !target.flow.expires() {
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
