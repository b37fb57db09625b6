//! `webhook listen --save-instances`: what an `AppInstalled` or `AppRemoved` delivery changes in
//! the profile, saved on a thread of its own so the answer to Wix never waits on the disk.

use super::is_app_id;
use super::verify::Event;
use crate::core::error::Result;
use crate::core::text::is_wix_id;
use crate::settings::config::{Config, Instance, Paths};
use crate::settings::Flow;

/// What became of the profile when `--save-instances` handled an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    Added {
        default: bool,
    },
    Duplicate,
    Removed,
    /// `AppRemoved` for an instance the profile does not have.
    NotKnown,
    /// Nothing stored: why (an unusable instance id, another app's event).
    Skipped(String),
    /// Not an install or uninstall event.
    Ignored,
}

impl Saved {
    pub(crate) fn describe(&self, profile: &str) -> Option<String> {
        Some(match self {
            Saved::Added { default: true } => {
                format!("saved in profile {profile} as its default instance")
            }
            Saved::Added { default: false } => format!("saved in profile {profile}"),
            Saved::Duplicate => format!("already saved in profile {profile}"),
            Saved::Removed => {
                format!("forgotten by profile {profile}, with its cached token")
            }
            Saved::NotKnown => format!("profile {profile} did not have it"),
            Saved::Skipped(why) => format!("not saved: {why}"),
            Saved::Ignored => return None,
        })
    }
}

/// What one event asks of the profile, worked out before the config lock is taken.
enum Change {
    Add(String, Option<String>),
    Remove(String, Option<String>),
    Done(Saved),
}

fn change_for(event: &Event) -> Change {
    let installed = match event.event_type.as_str() {
        "AppInstalled" => true,
        "AppRemoved" => false,
        _ => return Change::Done(Saved::Ignored),
    };
    let Some(id) = event.instance_id.clone().filter(|i| is_wix_id(i)) else {
        return Change::Done(Saved::Skipped(
            "the event's instance id is missing or not a Wix instance id".into(),
        ));
    };
    let app = event.app_id().filter(|a| is_app_id(a)).map(str::to_string);
    if installed {
        Change::Add(id, app)
    } else {
        Change::Remove(id, app)
    }
}

/// Applies one change to the profile; returns what became of it and, for a removal, the
/// cached token to delete.
fn apply(config: &mut Config, profile: &str, change: Change) -> (Saved, Option<(String, String)>) {
    let (id, app, installed) = match change {
        Change::Done(saved) => return (saved, None),
        Change::Add(id, app) => (id, app, true),
        Change::Remove(id, app) => (id, app, false),
    };
    if !installed && !config.profiles.contains_key(profile) {
        return (Saved::NotKnown, None);
    }
    let p = config.profiles.entry(profile.to_string()).or_default();
    match (&p.app_id, &app) {
        (Some(mine), Some(theirs)) if mine != theirs => {
            return (
                Saved::Skipped(format!(
                "the event is for app {theirs}, profile {profile} for app {mine} (use --profile)"
            )),
                None,
            )
        }
        (None, Some(theirs)) if installed => p.app_id = Some(theirs.clone()),
        _ => {}
    }
    if installed {
        let default_missing = p
            .default_instance
            .as_ref()
            .is_none_or(|d| !p.instances.contains_key(d));
        let saved = if p.instances.contains_key(&id) {
            Saved::Duplicate
        } else {
            p.instances.insert(id.clone(), Instance::new(Flow::Basic));
            Saved::Added {
                default: default_missing,
            }
        };
        if default_missing {
            p.default_instance = Some(id);
        }
        return (saved, None);
    }
    let uncache = p.app_id.clone().map(|app| (app, id.clone()));
    if p.instances.remove(&id).is_none() {
        return (Saved::NotKnown, uncache);
    }
    if p.default_instance.as_deref() == Some(id.as_str()) {
        p.default_instance = p.instances.keys().next().cloned();
    }
    (Saved::Removed, uncache)
}

/// Adds (`AppInstalled`) or forgets (`AppRemoved`, with its cached token) each event's
/// instance in the profile, in one read-modify-write under the config lock: parallel
/// deliveries (and other wixauth processes) never lose one another's change, and a
/// duplicate delivery changes nothing.
pub fn save_instances(paths: &Paths, profile: &str, events: &[Event]) -> Result<Vec<Saved>> {
    let changes: Vec<Change> = events.iter().map(change_for).collect();
    let (saved, uncache): (Vec<Saved>, Vec<Option<(String, String)>>) =
        Config::update(paths, |config| {
            changes
                .into_iter()
                .map(|change| apply(config, profile, change))
                .unzip()
        })?;
    for (app, instance) in uncache.into_iter().flatten() {
        crate::credentials::forget_cached(
            paths,
            None,
            &app,
            crate::credentials::Cached::Instance(&instance),
        )?;
    }
    Ok(saved)
}

type SaveReply = tokio::sync::oneshot::Sender<std::result::Result<Saved, String>>;
/// Where handlers queue events for the saver thread.
pub(crate) type SaveQueue = std::sync::mpsc::Sender<(Event, SaveReply)>;

/// The thread that saves instances. The config file is fsync'ed on every write, which can
/// take a second on a busy disk, so events that queue up while one write runs are saved
/// together in the next one.
pub(crate) fn start_saver(paths: Paths, profile: String) -> SaveQueue {
    let (tx, rx) = std::sync::mpsc::channel::<(Event, SaveReply)>();
    let spawned = std::thread::Builder::new()
        .name("save instances".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                batch.extend(rx.try_iter());
                let (events, replies): (Vec<Event>, Vec<SaveReply>) = batch.into_iter().unzip();
                match save_instances(&paths, &profile, &events) {
                    Ok(saved) => {
                        for (reply, saved) in replies.into_iter().zip(saved) {
                            let _ = reply.send(Ok(saved));
                        }
                    }
                    Err(e) => {
                        for reply in replies {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        // Every save then fails (the sender's receiver is gone) and says so.
        crate::core::log::debug!("cannot start the saver thread: {e}");
    }
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event_type: &str, instance: &str, app: &str) -> Event {
        Event {
            event_type: event_type.into(),
            instance_id: Some(instance.into()),
            identity: serde_json::Value::Null,
            data: serde_json::json!({ "appId": app }),
            account_info: serde_json::Value::Null,
            issued_at: None,
            expires_at: None,
        }
    }

    const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const B: &str = "bbbbbbbb-0000-4000-8000-000000000002";

    #[test]
    fn installs_and_removals_keep_a_default_and_stay_with_their_app() {
        let mut config = Config::default();
        let run = |config: &mut Config, e: Event| apply(config, "p", change_for(&e)).0;
        assert_eq!(
            run(&mut config, event("AppInstalled", A, "app1")),
            Saved::Added { default: true }
        );
        assert_eq!(
            run(&mut config, event("AppInstalled", B, "app1")),
            Saved::Added { default: false }
        );
        assert_eq!(
            run(&mut config, event("AppInstalled", B, "app1")),
            Saved::Duplicate
        );
        let p = &config.profiles["p"];
        assert_eq!(p.app_id.as_deref(), Some("app1"));
        assert_eq!(p.default_instance.as_deref(), Some(A));
        // Another app's event changes nothing.
        assert!(matches!(
            run(&mut config, event("AppRemoved", A, "app2")),
            Saved::Skipped(_)
        ));
        assert!(config.profiles["p"].instances.contains_key(A));
        // Removing the default makes another instance the default; removing twice is a no-op.
        let (saved, uncache) = apply(
            &mut config,
            "p",
            change_for(&event("AppRemoved", A, "app1")),
        );
        assert_eq!(saved, Saved::Removed);
        assert_eq!(uncache, Some(("app1".to_string(), A.to_string())));
        assert_eq!(config.profiles["p"].default_instance.as_deref(), Some(B));
        assert_eq!(
            run(&mut config, event("AppRemoved", A, "app1")),
            Saved::NotKnown
        );
        assert_eq!(
            run(&mut config, event("SomethingElse", A, "app1")),
            Saved::Ignored
        );
        assert!(matches!(
            run(&mut config, event("AppInstalled", "x/../y", "app1")),
            Saved::Skipped(_)
        ));
        // A removal for a profile that does not exist creates none.
        assert_eq!(
            apply(
                &mut config,
                "q",
                change_for(&event("AppRemoved", A, "app1"))
            )
            .0,
            Saved::NotKnown
        );
        assert!(!config.profiles.contains_key("q"));
    }
}
