//! Which app instance or Wix Headless client a command acts for: `WIX_*` variables win, then
//! the profile. Nothing here asks Wix or a person.

use super::{Session, Source, Target};
use crate::core::error::{Cmd, Error, Fix, Result};
use crate::core::text::{is_wix_id, printable};
use crate::settings::config::Profile;
use crate::settings::flow::Kind;
use crate::settings::Flow;

impl<'a> Session<'a> {
    /// The app id (`WIX_APP_ID` wins) and the active profile, when it belongs to that app:
    /// a profile for another app than `WIX_APP_ID` names is not consulted at all.
    pub(crate) fn app_and_profile(&self) -> (Option<String>, Option<&'a Profile>) {
        let profile = self
            .config
            .profile(self.profile)
            .filter(|p| p.kind() == Kind::App)
            .filter(|p| self.env.app_id.is_none() || p.app_id == self.env.app_id);
        let app_id = self
            .env
            .app_id
            .clone()
            .or_else(|| profile.and_then(|p| p.app_id.clone()));
        (app_id, profile)
    }

    /// The Headless profile, when it is the one to use: `WIX_CLIENT_ID` names its client (or
    /// is unset), and `WIX_APP_ID` is unset or names the same client (as `exec` exports it).
    pub(crate) fn headless_profile(&self) -> Option<&'a Profile> {
        let names_it = |var: &Option<String>, p: &Profile| var.is_none() || *var == p.client_id;
        self.config
            .profile(self.profile)
            .filter(|p| p.is_headless())
            .filter(|p| names_it(&self.env.client_id, p) && names_it(&self.env.app_id, p))
    }

    /// The API key profile, when it is the one to use: no `WIX_APP_ID` or `WIX_CLIENT_ID`
    /// names an app or client instead.
    pub(crate) fn api_key_profile(&self) -> Option<&'a Profile> {
        self.config
            .profile(self.profile)
            .filter(|p| p.kind() == Kind::ApiKey)
            .filter(|_| self.env.app_id.is_none() && self.env.client_id.is_none())
    }

    /// What this run acts for: an API key (`WIX_API_KEY` alone, or an API key profile), an
    /// app, or a Headless client (`WIX_CLIENT_ID` without `WIX_APP_ID`, or a Headless profile).
    pub(crate) fn kind(&self) -> Kind {
        let env_key =
            self.env.api_key.is_some() && self.env.app_id.is_none() && self.env.client_id.is_none();
        let env_client = self.env.client_id.is_some() && self.env.app_id.is_none();
        if env_key || self.api_key_profile().is_some() {
            Kind::ApiKey
        } else if env_client || self.headless_profile().is_some() {
            Kind::Headless
        } else {
            Kind::App
        }
    }

    /// Where `instance` came from: the flag, else `WIX_INSTANCE_ID`.
    fn instance_source(&self) -> Source {
        match self.instance_flag {
            true => Source::Flag,
            false => Source::Env,
        }
    }

    /// Works out the app, instance and flow: `WIX_*` variables win, then the profile.
    pub(crate) fn resolve(&self, instance: Option<&str>, flow: Option<Flow>) -> Result<Target> {
        let kind = match flow {
            Some(flow) if flow.kind() != Kind::App => flow.kind(),
            _ => self.kind(),
        };
        match kind {
            Kind::ApiKey => return self.resolve_api_key(instance, flow),
            Kind::Headless => return self.resolve_headless(instance, flow),
            Kind::App => {}
        }
        let (app_id, profile) = self.app_and_profile();
        let app_id = app_id.ok_or_else(|| self.nothing_logged_in(Kind::App))?;
        let env_secret = self.env.app_secret.is_some();
        // A WIX_REFRESH_TOKEN is always the token used (unless --flow basic says otherwise),
        // and it names its own instance: the profile's default is not assumed for it.
        let env_refresh = self.env.refresh_token.is_some() && flow != Some(Flow::Basic);
        if let Some(id) = instance.filter(|id| !is_wix_id(id)) {
            return Err(Error::usage(format!(
                "instance {:?} does not look like a Wix instance id (letters, digits and dashes)",
                printable(id, 80)
            ))
            .hint("check --instance or WIX_INSTANCE_ID"));
        }
        let (instance_id, instance_from) = match instance {
            Some(id) => (Some(id.to_string()), self.instance_source()),
            None if env_refresh => (None, Source::Env),
            None => (
                profile.and_then(|p| p.default_instance.clone()),
                Source::Stored,
            ),
        };
        let stored = instance_id
            .as_deref()
            .and_then(|i| profile.and_then(|p| p.instances.get(i)));
        if let Some(id) = instance_id.as_deref() {
            if stored.is_none() && !env_secret {
                return Err(Error::usage(format!(
                    "instance {id} is not logged in for profile {:?}",
                    self.profile
                ))
                .fix(Fix::RunOr(
                    Cmd::login().arg("--instance").arg(id),
                    "set WIX_APP_SECRET (CI)".into(),
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
            app_from: match self.env.app_id.is_some() {
                true => Source::Env,
                false => Source::Stored,
            },
            app_id,
            instance_id,
            instance_from,
            flow,
            store_hint: profile.and_then(|p| p.secret_store),
            site_id: None,
            account_id: None,
            ids_from: Source::Stored,
        };
        if target.instance_id.is_none() && (flow == Flow::Basic || !env_refresh) {
            if let Some(p) = profile.filter(|_| !env_secret) {
                return Err(no_default_instance(self.profile, p));
            }
            target.require_instance()?;
        }
        Ok(target)
    }

    /// The Headless client to act for: `WIX_CLIENT_ID` (with `WIX_REFRESH_TOKEN` or
    /// `WIX_CLIENT_SECRET` in CI) wins, then the profile.
    fn resolve_headless(&self, instance: Option<&str>, flow: Option<Flow>) -> Result<Target> {
        self.no_instance_for(Kind::Headless, instance)?;
        if let Some(flow) = flow.filter(|f| !f.is_headless()) {
            return Err(Error::usage(format!(
                "--flow {flow} is not for profile {:?}: it is a Wix Headless client (visitor/member/admin)",
                self.profile
            ))
            .hint("drop --flow, or pass --profile NAME of another profile"));
        }
        let profile = self.headless_profile();
        let client_id = self
            .env
            .client_id
            .clone()
            .or_else(|| profile.and_then(|p| p.client_id.clone()))
            .ok_or_else(|| self.nothing_logged_in(Kind::Headless))?;
        let env_refresh = self.env.refresh_token.is_some();
        let env_secret = self.env.client_secret.is_some() && !env_refresh;
        if profile.is_none() && !env_refresh && !env_secret {
            return Err(Error::usage(format!(
                "nothing is logged in for client {client_id} in profile {:?}",
                self.profile
            ))
            .fix(Fix::RunOr(
                Cmd::new(Flow::Visitor.login_args()),
                "set WIX_REFRESH_TOKEN or WIX_CLIENT_SECRET (CI)".into(),
            )));
        }
        let stored_flow = profile.and_then(|p| p.flow);
        // A WIX_REFRESH_TOKEN is always the token used; WIX_CLIENT_SECRET without one, the admin grant.
        let flow = flow
            .or(env_refresh
                .then(|| stored_flow.filter(|f| f.has_refresh_token()))
                .flatten())
            .or(env_refresh.then_some(Flow::Visitor))
            .or(env_secret.then_some(Flow::Admin))
            .or(stored_flow)
            .unwrap_or(Flow::Visitor);
        Ok(Target {
            profile: self.profile.to_string(),
            app_from: match self.env.client_id.is_some() {
                true => Source::Env,
                false => Source::Stored,
            },
            app_id: client_id,
            instance_id: None,
            instance_from: Source::Stored,
            flow,
            store_hint: profile.and_then(|p| p.secret_store),
            site_id: None,
            account_id: None,
            ids_from: Source::Stored,
        })
    }

    /// The API key to act for: `WIX_API_KEY` wins, then the profile; `WIX_SITE_ID` and
    /// `WIX_ACCOUNT_ID` win over the profile's ids. Ids that do not look like Wix's are refused
    /// before they reach a header.
    fn resolve_api_key(&self, instance: Option<&str>, flow: Option<Flow>) -> Result<Target> {
        self.no_instance_for(Kind::ApiKey, instance)?;
        if let Some(flow) = flow.filter(|f| *f != Flow::ApiKey) {
            return Err(Error::usage(format!(
                "--flow {flow} is not for profile {:?}: it holds a Wix API key",
                self.profile
            ))
            .hint("drop --flow, or pass --profile NAME of another profile"));
        }
        let profile = self.api_key_profile();
        if profile.is_none() && self.env.api_key.is_none() {
            return Err(self.nothing_logged_in(Kind::ApiKey));
        }
        let env_ids = self.env.site_id.is_some() || self.env.account_id.is_some();
        let (site_id, account_id) = match env_ids {
            true => (self.env.site_id.clone(), self.env.account_id.clone()),
            false => (
                profile.and_then(|p| p.site_id.clone()),
                profile.and_then(|p| p.account_id.clone()),
            ),
        };
        let ids_from = match env_ids {
            true => Source::Env,
            false => Source::Stored,
        };
        check_ids(site_id.as_deref(), account_id.as_deref(), ids_from)?;
        Ok(Target {
            profile: self.profile.to_string(),
            app_from: match self.env.api_key.is_some() {
                true => Source::Env,
                false => Source::Stored,
            },
            app_id: String::new(),
            instance_id: None,
            instance_from: Source::Stored,
            flow: Flow::ApiKey,
            store_hint: profile.and_then(|p| p.secret_store),
            site_id,
            account_id,
            ids_from,
        })
    }

    /// A Headless client or an API key has no app instances: one given is a mistake.
    fn no_instance_for(&self, kind: Kind, instance: Option<&str>) -> Result<()> {
        match instance {
            None => Ok(()),
            Some(id) => Err(Error::usage(format!(
                "{} has no app instances, but instance {:?} was given",
                kind.noun(),
                printable(id, 80)
            ))
            .hint("drop --instance / WIX_INSTANCE_ID")),
        }
    }

    /// Nothing to act for: the login to run, or the CI variables; an unknown profile name is
    /// shown beside the ones that exist (a typo is the likely cause).
    fn nothing_logged_in(&self, kind: Kind) -> Error {
        let mut what = format!("nothing is logged in for profile {:?}", self.profile);
        let known: Vec<&str> = self.config.profiles.keys().map(String::as_str).collect();
        if self.config.profile(self.profile).is_none() && !known.is_empty() {
            what.push_str(&format!(" (profiles: {})", known.join(", ")));
        }
        Error::usage(what).fix(Fix::RunOr(
            Cmd::login(),
            format!("set {} (CI)", kind.ci_variables()),
        ))
    }
}

/// An API key needs a site or an account to act for, and each must look like a Wix id before
/// it goes into a header.
pub(crate) fn check_ids(site: Option<&str>, account: Option<&str>, from: Source) -> Result<()> {
    let (site_from, account_from) = match from {
        Source::Env => ("WIX_SITE_ID", "WIX_ACCOUNT_ID"),
        Source::Flag | Source::Stored => ("--site-id", "--account-id"),
    };
    if site.is_none() && account.is_none() {
        return Err(Error::usage(
            "an API key needs the site or the account its calls are for",
        )
        .hint(format!(
            "pass {site_from} ID (site-level APIs, most of them) and/or {account_from} ID (account-level APIs)"
        )));
    }
    for (id, what, from) in [
        (site, "site", site_from),
        (account, "account", account_from),
    ] {
        if let Some(id) = id.filter(|id| !is_wix_id(id)) {
            return Err(Error::usage(format!(
                "{what} id {:?} does not look like a Wix {what} id (letters, digits and dashes)",
                printable(id, 80)
            ))
            .hint(format!("check {from}")));
        }
    }
    Ok(())
}

/// The profile has no instance to act for: none at all (log one in), or no default (one was
/// logged out, or a delivery removed it: choose one).
fn no_default_instance(name: &str, p: &Profile) -> Error {
    let ids: Vec<&str> = p.instances.keys().map(String::as_str).collect();
    match ids.first() {
        None => {
            Error::usage(format!("profile {name:?} has no logged-in instance")).run(Cmd::login())
        }
        Some(first) => Error::usage(format!(
            "profile {name:?} has no default instance (logged in: {})",
            ids.join(", ")
        ))
        .fix(Fix::RunOr(
            Cmd::new(&["switch", "--instance", first]),
            "pass --instance ID".into(),
        )),
    }
}
