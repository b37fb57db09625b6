//! Instances learnt from outside a login: Wix's `AppInstalled` / `AppRemoved` deliveries
//! (`webhook listen --save-instances`), and `wixauth instances` (ids imported from the
//! developer's own records, what `refresh` learnt of each site, `remove` and `prune`). Each
//! batch is one read-modify-write under the config lock, so parallel deliveries (and other
//! wixauth processes) never lose one another's change, and a duplicate delivery changes
//! nothing; a removal forgets the instance's refresh token and cached tokens too, as `logout
//! --instance` does: the config first, then what it named.

use url::Url;

use std::collections::BTreeSet;

use super::cache::now_unix;
use super::profile::Lifecycle;
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

/// What `instances refresh` learnt of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Learnt {
    /// Wix minted a token for it: the app is installed there.
    Installed {
        instance: String,
        site_name: Option<String>,
        site_url: Option<String>,
    },
    /// Wix said the app is not installed there: marked removed, kept until pruned.
    NotInstalled { instance: String },
}

impl Lifecycle<'_> {
    /// `instances add`: ids from the developer's own records (`source: import`, the basic flow:
    /// the app secret is all a token needs). The profile takes `app_id` when it has none.
    /// Returns how many were new; known ones are left as they are.
    pub(crate) fn import_instances(&self, app_id: &str, ids: &[String]) -> Result<usize> {
        let name = self.profile.to_string();
        Config::update(self.paths, |c| {
            let p = c.profiles.entry(name).or_default();
            if p.app_id.is_none() {
                p.app_id = Some(app_id.to_string());
            }
            let now = now_unix();
            let before = p.instances.len();
            for id in ids {
                p.instances.entry(id.clone()).or_insert_with(|| Instance {
                    // Not seen with Wix yet: `instances refresh` or a fleet run will.
                    last_seen: None,
                    ..Instance::new(Flow::Basic, InstanceSource::Import, now)
                });
            }
            p.instances.len() - before
        })
    }

    /// `instances refresh`: site names and URLs as Wix gave them, and the sites the app left
    /// marked `removed` (a reinstall clears the mark: the instance id stays the same).
    pub(crate) fn learn_instances(&self, learnt: &[Learnt]) -> Result<()> {
        if learnt.is_empty() {
            return Ok(());
        }
        let name = self.profile.to_string();
        Config::update(self.paths, |c| {
            let Some(p) = c.profiles.get_mut(&name) else {
                return;
            };
            let now = now_unix();
            for fact in learnt {
                match fact {
                    Learnt::Installed {
                        instance,
                        site_name,
                        site_url,
                    } => {
                        if let Some(i) = p.instances.get_mut(instance) {
                            i.site_name = site_name.clone().or(i.site_name.take());
                            i.site_url = site_url.clone().or(i.site_url.take());
                            i.last_seen = Some(now);
                            i.removed = false;
                        }
                    }
                    Learnt::NotInstalled { instance } => {
                        if let Some(i) = p.instances.get_mut(instance) {
                            i.removed = true;
                        }
                    }
                }
            }
        })
    }

    /// `instances remove`: each id's entry, then its refresh token and cached tokens. Returns
    /// the ids the profile had.
    pub(crate) fn forget_instances(&self, ids: &[String]) -> Result<Vec<String>> {
        let name = self.profile.to_string();
        let gone = Config::update(self.paths, |c| {
            let Some(p) = c.profiles.get_mut(&name) else {
                return Vec::new();
            };
            let gone: Vec<String> = ids
                .iter()
                .filter(|id| p.instances.remove(*id).is_some())
                .cloned()
                .collect();
            if p.default_instance.as_ref().is_some_and(|d| ids.contains(d)) {
                p.default_instance = None;
            }
            gone
        })?;
        self.forget_leftovers_of(ids)?;
        Ok(gone)
    }

    /// `instances prune`: every instance marked removed, with its refresh token and cached
    /// tokens. Returns each one's id and site name.
    pub(crate) fn prune_instances(&self) -> Result<Vec<(String, Option<String>)>> {
        let name = self.profile.to_string();
        let pruned = Config::update(self.paths, |c| {
            let Some(p) = c.profiles.get_mut(&name) else {
                return Vec::new();
            };
            let marked: Vec<(String, Option<String>)> = p
                .instances
                .iter()
                .filter(|(_, i)| i.removed)
                .map(|(id, i)| (id.clone(), i.site_name.clone()))
                .collect();
            for (id, _) in &marked {
                p.instances.remove(id);
                if p.default_instance.as_ref() == Some(id) {
                    p.default_instance = None;
                }
            }
            marked
        })?;
        let ids: Vec<String> = pruned.iter().map(|(id, _)| id.clone()).collect();
        self.forget_leftovers_of(&ids)?;
        Ok(pruned)
    }

    /// What instances no longer in the config left: refresh tokens and cached tokens.
    fn forget_leftovers_of(&self, ids: &[String]) -> Result<()> {
        let before = self.before.profile(self.profile);
        let hint = before.and_then(|p| p.secret_store);
        for id in ids {
            self.secrets
                .delete_everywhere(&SecretKey::refresh_token(self.profile, id), hint)?;
        }
        let set: BTreeSet<String> = ids.iter().cloned().collect();
        match before.and_then(|p| p.app_id.as_deref()) {
            Some(app) if !set.is_empty() => {
                forget_cached(self.paths, Some(self.api), app, Cached::Instances(&set))
            }
            _ => Ok(()),
        }
    }
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
