//! Wix Headless clients (visitor and member flows): which client a command acts for, and the
//! refresh grant with the profile's stored refresh token (or `WIX_REFRESH_TOKEN` in CI). It
//! never mints a new visitor: that would lose the visitor's cart and session.

use super::{Session, Target};
use crate::core::error::{Error, Result};
use crate::core::log::debug;
use crate::core::secret::Secret;
use crate::settings::config::Profile;
use crate::settings::Flow;
use crate::wix::TokenGrant;
use store::SecretKey;

use super::store;

/// The secret-store entry of a headless profile's refresh token is named like an instance's,
/// with this in the instance's place (not a Wix id shape clash: it is never an instance).
const ENTRY: &str = "headless-client";

/// Where a headless profile's refresh token is kept.
pub(crate) fn refresh_key(profile: &str) -> SecretKey {
    SecretKey::refresh_token(profile, ENTRY)
}

impl<'a> Session<'a> {
    /// The headless profile, when it is the one to use: `WIX_CLIENT_ID` names its client
    /// (or is unset), and no `WIX_APP_ID` asks for an app instead.
    pub(crate) fn headless_profile(&self) -> Option<&'a Profile> {
        if self.env.app_id.is_some() {
            return None;
        }
        self.config
            .profile(self.profile)
            .filter(|p| p.is_headless())
            .filter(|p| self.env.client_id.is_none() || p.client_id == self.env.client_id)
    }

    /// Whether this run acts for a headless client rather than an app.
    pub(crate) fn is_headless(&self) -> bool {
        self.env.client_id.is_some() || self.headless_profile().is_some()
    }

    /// The headless client to act for: `WIX_CLIENT_ID` (with `WIX_REFRESH_TOKEN` in CI) wins,
    /// then the profile.
    pub(crate) fn resolve_headless(
        &self,
        instance: Option<&str>,
        flow: Option<Flow>,
    ) -> Result<Target> {
        if let Some(id) = instance {
            return Err(Error::usage(format!(
                "a Wix Headless client has no app instances, but instance {:?} was given: drop --instance / WIX_INSTANCE_ID",
                crate::core::text::printable(id, 80)
            )));
        }
        if let Some(flow) = flow.filter(|f| !f.is_headless()) {
            return Err(Error::usage(format!(
                "--flow {flow} is for app profiles; profile {:?} is a Wix Headless client (visitor/member)",
                self.profile
            )));
        }
        let profile = self.headless_profile();
        let client_id = self
            .env
            .client_id
            .clone()
            .or_else(|| profile.and_then(|p| p.client_id.clone()));
        let Some(client_id) = client_id else {
            return Err(self.nothing_logged_in());
        };
        if profile.is_none() && self.env.refresh_token.is_none() {
            return Err(Error::usage(format!(
                "nothing is logged in for client {client_id} in profile {:?}: run `wixauth login --flow visitor` (or member), or set WIX_REFRESH_TOKEN (CI)",
                self.profile
            )));
        }
        Ok(Target {
            profile: self.profile.to_string(),
            app_id: client_id,
            instance_id: None,
            flow: flow
                .or(profile.and_then(|p| p.flow))
                .unwrap_or(Flow::Visitor),
            store_hint: profile.and_then(|p| p.secret_store),
        })
    }

    /// Whether a token can be had without asking anyone: a refresh token is at hand.
    pub(crate) fn headless_ready(&self, target: &Target) -> Result<()> {
        if self.env.refresh_token.is_some() {
            return Ok(());
        }
        match self.secrets.get(&refresh_key(&target.profile), target.store_hint)? {
            Some(_) => Ok(()),
            None => Err(Error::usage(format!(
                "no refresh token is stored for client {} in profile {:?}: run `wixauth login --flow {}` again",
                target.app_id, target.profile, target.flow
            ))),
        }
    }

    fn nothing_logged_in(&self) -> Error {
        Error::usage(format!(
            "nothing is logged in for profile {:?}: run `wixauth login`, or set WIX_CLIENT_ID and WIX_REFRESH_TOKEN (CI)",
            self.profile
        ))
    }

    /// A new access token by the refresh grant. A rotated refresh token is stored only once it
    /// has arrived; one from the environment is never stored.
    pub(crate) fn headless_token(&self, target: &Target) -> Result<TokenGrant> {
        let wix = self.wix.get()?;
        if let Some(refresh) = &self.env.refresh_token {
            debug!("headless refresh token from WIX_REFRESH_TOKEN");
            return wix.headless_refresh(
                &target.app_id,
                refresh,
                "WIX_REFRESH_TOKEN may have been revoked or belong to another client than WIX_CLIENT_ID",
            );
        }
        let key = refresh_key(&target.profile);
        let Some((refresh, kind)) = self.secrets.get(&key, target.store_hint)? else {
            // After logout: exit 2, and no new visitor behind the user's back.
            return Err(Error::usage(format!(
                "no refresh token is stored for client {} in profile {:?}: run `wixauth login --flow {}` again",
                target.app_id, target.profile, target.flow
            )));
        };
        let check = format!(
            "the stored refresh token was kept; run `wixauth login --flow {}` for a new one",
            target.flow
        );
        let grant = wix.headless_refresh(&target.app_id, &refresh, &check)?;
        store_rotated(self, &key, &refresh, &grant, kind)?;
        Ok(grant)
    }
}

fn store_rotated(
    session: &Session<'_>,
    key: &SecretKey,
    old: &Secret,
    grant: &TokenGrant,
    kind: crate::settings::config::StoreKind,
) -> Result<()> {
    if let Some(next) = grant.refresh_token.as_ref().filter(|next| *next != old) {
        debug!("Wix returned a new refresh token; storing it in the {kind}");
        session.secrets.put(key, next)?;
    }
    Ok(())
}
