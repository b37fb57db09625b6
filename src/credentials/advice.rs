//! The one next step when a token cannot be had, chosen by which credential Wix turned down
//! and where that credential came from: a wrong `WIX_APP_SECRET` is checked there, a stored
//! secret that was rotated is replaced by logging in again, an instance the app left is logged
//! out. This is the only place that knows both.

use super::{Session, Source, Target};
use crate::core::error::{Cmd, Error, Exit, Fix, Rejected, Result};
use crate::settings::env::DEFAULT_API_BASE;
use crate::settings::flow::{Held, Kind};
use crate::settings::Flow;
use crate::wix::Response;

impl Session<'_> {
    /// `e` with the next step for `target`'s credentials, when Wix turned them down.
    pub(crate) fn advise(&self, target: &Target, e: Error) -> Error {
        if e.exit != Exit::Rejected {
            return e;
        }
        let which = e.rejection().unwrap_or(Rejected::Unknown);
        let login = || Cmd::new(target.flow.login_args());
        let env_secret = self.env.app_secret.is_some();
        let env_refresh = self.env.refresh_token.is_some();
        match (which, target.flow) {
            (_, Flow::ApiKey) => self.key_rejected(target, e),
            (Rejected::Secret, Flow::Admin) => match self.env.client_secret.is_some() {
                true => e.hint(format!("check WIX_CLIENT_ID and WIX_CLIENT_SECRET ({})", Held::ClientSecret.place())),
                false => e.fix(Fix::Pipe(
                    "the current client secret (it may have been generated again in Headless Settings)".into(),
                    Cmd::new(target.flow.login_args()).arg("--secret-stdin"),
                )),
            },
            (Rejected::Client | Rejected::Instance | Rejected::RefreshToken | Rejected::Code | Rejected::Token | Rejected::Unknown, Flow::Admin) => {
                match self.env.client_secret.is_some() {
                    true => e.hint("check WIX_CLIENT_ID and WIX_CLIENT_SECRET (the client's id and secret in Headless Settings)"),
                    false => e.run(login()),
                }
            }
            (Rejected::Client, Flow::Visitor | Flow::Member) => e.hint(match target.app_from {
                Source::Env => "check WIX_CLIENT_ID (Headless Settings → OAuth apps in the site's dashboard)",
                _ => "check the client id (Headless Settings → OAuth apps in the site's dashboard)",
            }),
            (Rejected::Client, Flow::Basic | Flow::Advanced) => match target.app_from {
                Source::Env => e.hint("check WIX_APP_ID (the app dashboard's OAuth page)"),
                _ => e.run(login().arg("--app-id").arg("ID")),
            },
            (Rejected::Secret, Flow::Basic | Flow::Advanced | Flow::Visitor | Flow::Member) if env_secret => {
                e.hint("check WIX_APP_SECRET (the app dashboard's OAuth page)")
            }
            (Rejected::Secret, Flow::Basic | Flow::Advanced | Flow::Visitor | Flow::Member) => e.fix(Fix::RunOr(
                login(),
                "pipe the current secret into `wixauth login --secret-stdin` (it may have been rotated in the app dashboard)".into(),
            )),
            (Rejected::Instance, Flow::Basic | Flow::Advanced | Flow::Visitor | Flow::Member) => match target.instance_from {
                Source::Env => e.hint("check WIX_INSTANCE_ID: the app may not be installed on that site"),
                Source::Flag => e.hint("check --instance: the app may not be installed on that site"),
                Source::Stored => self.instance_gone(target, e),
            },
            (Rejected::RefreshToken | Rejected::Code | Rejected::Token | Rejected::Unknown, Flow::Visitor | Flow::Member) => {
                match env_refresh {
                    true => e.hint("check WIX_REFRESH_TOKEN: it may have been revoked, or belong to another client than WIX_CLIENT_ID"),
                    false => e.run(login()),
                }
            }
            (Rejected::RefreshToken | Rejected::Code | Rejected::Token | Rejected::Unknown, Flow::Advanced) if env_refresh => {
                e.hint("check WIX_REFRESH_TOKEN: it may have been revoked, or belong to another app than WIX_APP_ID")
            }
            (Rejected::RefreshToken | Rejected::Code, Flow::Advanced) => self.instance_gone(target, e),
            (Rejected::RefreshToken | Rejected::Code | Rejected::Token | Rejected::Unknown, Flow::Basic | Flow::Advanced) => {
                match env_secret {
                    true => e.hint("check WIX_APP_ID, WIX_APP_SECRET and WIX_INSTANCE_ID"),
                    false => e.run(login()),
                }
            }
        }
    }

    /// `e` for one instance of a fleet: an instance Wix says the app is not installed on gets
    /// `instances refresh` (which marks such instances; `prune` then forgets them).
    pub(crate) fn advise_fleet(&self, e: Error) -> Error {
        match e.rejection() {
            Some(Rejected::Instance) => e.run(Cmd::new(&["instances", "refresh"])),
            _ => e,
        }
    }

    /// The stored instance Wix no longer takes: the app was likely uninstalled from that site.
    /// Reinstalled, the instance keeps its id, and client credentials work again; a refresh
    /// token does not, so the advanced flow logs in again.
    fn instance_gone(&self, target: &Target, e: Error) -> Error {
        let instance = target.instance_id.clone().unwrap_or_default();
        let logout = Cmd::new(&["logout", "--instance", instance.as_str()]);
        match target.flow {
            Flow::Advanced => e.fix(Fix::RunOr(
                Cmd::new(target.flow.login_args()),
                format!(
                    "if the app is gone from that site, `{}`",
                    logout.render(&Default::default())
                ),
            )),
            Flow::Basic | Flow::Visitor | Flow::Member | Flow::Admin | Flow::ApiKey => {
                e.fix(Fix::RunOr(
                    logout,
                    "install the app on that site again (its instance id stays the same)".into(),
                ))
            }
        }
    }

    /// Wix turned an API key down: a stored one was revoked or replaced in the API Keys
    /// Manager (piped in again it is stored again); `WIX_API_KEY` is checked there.
    fn key_rejected(&self, target: &Target, e: Error) -> Error {
        match target.app_from {
            Source::Env => e.hint(
                "check WIX_API_KEY: it may have been revoked in the account's API Keys Manager",
            ),
            Source::Flag | Source::Stored => e.fix(Fix::Pipe(
                "the current API key".into(),
                Cmd::new(Flow::ApiKey.login_args()).arg("--secret-stdin"),
            )),
        }
    }

    /// A failed authenticated call, with the next step for this target's credentials. An API
    /// key's 401 says which key Wix rejected; its 403 needs the permission on the key itself,
    /// not on an app.
    pub(crate) fn call_failure(&self, target: &Target, response: &Response, what: &str) -> Error {
        let e = response.failure(what);
        let which = match target.app_from {
            Source::Env => "WIX_API_KEY",
            Source::Flag | Source::Stored => {
                "the stored API key (revoked or replaced in the API Keys Manager?)"
            }
        };
        match (response.status, target.flow.kind()) {
            (401, Kind::ApiKey) => self.advise(
                target,
                Error::rejected(format!(
                    "{what}: Wix rejected {which} ({})",
                    response.error_summary()
                ))
                .turned_down(Rejected::Token),
            ),
            (403, Kind::ApiKey) => e.hint(
                "the API key needs the permission for this call: add it to the key in the account's API Keys Manager",
            ),
            _ => self.advise(target, e),
        }
    }

    /// Nothing is stored where the flow needs it (a logged-out profile, a store emptied by hand).
    pub(crate) fn nothing_stored(&self, target: &Target) -> Error {
        let held = target.flow.held();
        Error::usage(format!(
            "no {} is stored for profile {:?}",
            held.noun(),
            target.profile
        ))
        .fix(Fix::RunOr(
            Cmd::new(target.flow.login_args()),
            format!("set {} (CI)", held.variable()),
        ))
    }

    /// No secret is stored for an app profile.
    pub(crate) fn no_stored_secret(&self, target: &Target) -> Error {
        Error::usage(format!(
            "no app secret is stored for profile {:?}",
            target.profile
        ))
        .fix(Fix::RunOr(Cmd::login(), "set WIX_APP_SECRET (CI)".into()))
    }

    /// No refresh token is stored where the flow needs one (after logout, say).
    pub(crate) fn no_stored_refresh_token(&self, target: &Target) -> Error {
        let login = Cmd::new(target.flow.login_args());
        let what = match &target.instance_id {
            Some(instance) => format!("no refresh token is stored for instance {instance}"),
            None => format!(
                "no refresh token is stored for client {} in profile {:?}",
                target.app_id, target.profile
            ),
        };
        Error::usage(what).fix(Fix::RunOr(login, "set WIX_REFRESH_TOKEN (CI)".into()))
    }

    /// A stored secret goes only to the API base it was stored for (gh binds credentials to
    /// their host): another `WIXAUTH_API_BASE` would receive the app secret or refresh token.
    pub(crate) fn stored_base_matches(&self) -> Result<()> {
        let Some(profile) = self.config.profile(self.profile) else {
            return Ok(());
        };
        let recorded = profile.api_base.as_deref().unwrap_or(DEFAULT_API_BASE);
        if crate::core::net::same_base(recorded, &self.env.api_base) {
            return Ok(());
        }
        Err(Error::usage(format!(
            "profile {:?} was logged in at {recorded}, and its stored secrets are sent only there, not to {} (WIXAUTH_API_BASE)",
            self.profile,
            self.env.api_base.as_str().trim_end_matches('/')
        ))
        .fix(Fix::RunOr(
            Cmd::login(),
            "unset WIXAUTH_API_BASE (logging in again binds the profile to this base)".into(),
        )))
    }
}
