//! Instances learnt from outside a login: Wix's `AppInstalled` / `AppRemoved` deliveries
//! (`webhook listen --save-instances`). Each batch is one read-modify-write under the config
//! lock, so parallel deliveries (and other wixauth processes) never lose one another's change,
//! and a duplicate delivery changes nothing; a removal forgets the instance's refresh token and
//! cached tokens too, as `logout --instance` does.

use url::Url;

use super::cache::now_unix;
use super::store::{SecretKey, Secrets};
use super::{forget_cached, Cached};
use crate::core::error::Result;
use crate::core::log::Notes;
use crate::settings::config::{Config, Instance, InstanceSource, Paths, StoreKind};
use crate::settings::env::StoreMode;
use crate::settings::Flow;

/// One instance event, checked (a Wix-like id, the app id when the event named one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InstanceEvent {
    Installed {
        instance: String,
        app: Option<String>,
    },
    Removed {
        instance: String,
        app: Option<String>,
    },
}

/// What became of the profile for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Saved {
    Added {
        default: bool,
    },
    Duplicate,
    /// `was_default`: the profile now has no default instance (another site is never made
    /// the default behind the user's back).
    Removed {
        was_default: bool,
    },
    /// `AppRemoved` for an instance the profile does not have.
    NotKnown,
    /// Nothing stored: why (another app's event, a Headless profile).
    Skipped(String),
}

/// The stores of a receiver thread (they are built on it: the keyring client and the notes
/// are not shared across threads).
pub(crate) struct InstanceStore {
    paths: Paths,
    secrets: Secrets,
    api: Url,
}

impl InstanceStore {
    pub(crate) fn new(paths: Paths, mode: StoreMode, service: &str, api: Url) -> InstanceStore {
        let secrets = Secrets::new(mode, service, &paths, Notes::default());
        InstanceStore {
            paths,
            secrets,
            api,
        }
    }

    /// Applies each event to `profile`, then forgets what the removed instances left.
    pub(crate) fn apply(&self, profile: &str, events: &[InstanceEvent]) -> Result<Vec<Saved>> {
        let mut removed: Vec<(Option<String>, String, Option<StoreKind>)> = Vec::new();
        let saved = Config::update(&self.paths, |config| {
            events
                .iter()
                .map(|event| apply_one(config, profile, event, &mut removed))
                .collect::<Vec<_>>()
        })?;
        for (app, instance, hint) in removed {
            self.secrets
                .delete_everywhere(&SecretKey::refresh_token(profile, &instance), hint)?;
            if let Some(app) = app {
                forget_cached(
                    &self.paths,
                    Some(&self.api),
                    &app,
                    Cached::Instance(&instance),
                )?;
            }
        }
        Ok(saved)
    }
}

/// One event's change to the config; a removal is noted in `removed` (app, instance, store).
fn apply_one(
    config: &mut Config,
    profile: &str,
    event: &InstanceEvent,
    removed: &mut Vec<(Option<String>, String, Option<StoreKind>)>,
) -> Saved {
    let (id, app, installed) = match event {
        InstanceEvent::Installed { instance, app } => (instance, app, true),
        InstanceEvent::Removed { instance, app } => (instance, app, false),
    };
    if !installed && !config.profiles.contains_key(profile) {
        return Saved::NotKnown;
    }
    let p = config.profiles.entry(profile.to_string()).or_default();
    if !p.kind().has_instances() {
        return Saved::Skipped(format!(
            "profile {profile} is {}, which has no app instances",
            p.kind().noun()
        ));
    }
    if let (Some(mine), Some(theirs)) = (&p.app_id, app) {
        if mine != theirs {
            return Saved::Skipped(format!(
                "the event is for app {theirs}, profile {profile} for app {mine} (use --profile)"
            ));
        }
    }
    if installed {
        if p.app_id.is_none() {
            p.app_id.clone_from(app);
        }
        let default_missing = p
            .default_instance
            .as_ref()
            .is_none_or(|d| !p.instances.contains_key(d));
        let saved = match p.instances.get_mut(id) {
            Some(known) => {
                known.last_seen = Some(now_unix());
                Saved::Duplicate
            }
            None => {
                let new = Instance::new(Flow::Basic, InstanceSource::Webhook, now_unix());
                p.instances.insert(id.clone(), new);
                Saved::Added {
                    default: default_missing,
                }
            }
        };
        if default_missing {
            p.default_instance = Some(id.clone());
        }
        return saved;
    }
    if p.instances.remove(id).is_none() {
        return Saved::NotKnown;
    }
    removed.push((p.app_id.clone(), id.clone(), p.secret_store));
    let was_default = p.default_instance.as_deref() == Some(id.as_str());
    if was_default {
        p.default_instance = None;
    }
    Saved::Removed { was_default }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const B: &str = "bbbbbbbb-0000-4000-8000-000000000002";

    fn installed(instance: &str, app: &str) -> InstanceEvent {
        InstanceEvent::Installed {
            instance: instance.into(),
            app: Some(app.into()),
        }
    }

    fn removed(instance: &str, app: &str) -> InstanceEvent {
        InstanceEvent::Removed {
            instance: instance.into(),
            app: Some(app.into()),
        }
    }

    #[test]
    fn installs_and_removals_stay_with_their_app_and_never_promote_another_site() {
        let mut config = Config::default();
        let mut gone = Vec::new();
        let mut run = |config: &mut Config, e: InstanceEvent| apply_one(config, "p", &e, &mut gone);
        assert_eq!(
            run(&mut config, installed(A, "app1")),
            Saved::Added { default: true }
        );
        assert_eq!(
            run(&mut config, installed(B, "app1")),
            Saved::Added { default: false }
        );
        assert_eq!(run(&mut config, installed(B, "app1")), Saved::Duplicate);
        let p = &config.profiles["p"];
        assert_eq!(p.app_id.as_deref(), Some("app1"));
        assert_eq!(p.default_instance.as_deref(), Some(A));
        assert_eq!(p.instances[A].source, Some(InstanceSource::Webhook));
        // Another app's events change nothing, an install included.
        assert!(matches!(
            run(&mut config, removed(A, "app2")),
            Saved::Skipped(_)
        ));
        let other = "cccccccc-0000-4000-8000-000000000003";
        assert!(matches!(
            run(&mut config, installed(other, "app2")),
            Saved::Skipped(_)
        ));
        assert!(!config.profiles["p"].instances.contains_key(other));
        assert!(config.profiles["p"].instances.contains_key(A));
        // Removing the default leaves none; removing twice is a no-op.
        assert_eq!(
            run(&mut config, removed(A, "app1")),
            Saved::Removed { was_default: true }
        );
        assert_eq!(config.profiles["p"].default_instance, None);
        assert_eq!(run(&mut config, removed(A, "app1")), Saved::NotKnown);
        // A removal for a profile that does not exist creates none.
        let mut gone_q = Vec::new();
        assert_eq!(
            apply_one(&mut config, "q", &removed(A, "app1"), &mut gone_q),
            Saved::NotKnown
        );
        assert!(!config.profiles.contains_key("q"));
        assert_eq!(gone, vec![(Some("app1".to_string()), A.to_string(), None)]);
    }

    #[test]
    fn a_headless_profile_gets_no_instances() {
        let mut config = Config::default();
        config.profiles.entry("h".into()).or_default().client_id = Some("client".into());
        let mut gone = Vec::new();
        assert!(matches!(
            apply_one(&mut config, "h", &installed(A, "app1"), &mut gone),
            Saved::Skipped(_)
        ));
        assert!(config.profiles["h"].instances.is_empty());
    }
}
