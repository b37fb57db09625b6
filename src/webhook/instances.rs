//! `webhook listen --save-instances`: what an `AppInstalled` or `AppRemoved` delivery asks of
//! the profile, saved on a thread of its own so the answer to Wix never waits on the disk. The
//! change itself is the profile lifecycle's (`credentials::instances`).

use url::Url;

use super::is_app_id;
use super::verify::Event;
use crate::core::text::is_wix_id;
use crate::credentials::instances::{InstanceEvent, InstanceStore, Saved as Change};
use crate::settings::config::Paths;
use crate::settings::env::StoreMode;

/// What became of the profile when `--save-instances` handled an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Saved {
    Changed(Change),
    /// Nothing stored: the event's instance id is missing or not a Wix instance id.
    Unusable,
    /// Not an install or uninstall event.
    Ignored,
}

impl Saved {
    pub(crate) fn describe(&self, profile: &str) -> Option<String> {
        Some(match self {
            Saved::Changed(Change::Added { default: true }) => {
                format!("saved in profile {profile} as its default instance")
            }
            Saved::Changed(Change::Added { default: false }) => format!("saved in profile {profile}"),
            Saved::Changed(Change::Duplicate) => format!("already saved in profile {profile}"),
            Saved::Changed(Change::Removed { was_default: false }) => {
                format!("forgotten by profile {profile}, with its refresh token and cached tokens")
            }
            Saved::Changed(Change::Removed { was_default: true }) => format!(
                "forgotten by profile {profile}, with its refresh token and cached tokens; it was the default instance, so the profile has none now (`wixauth switch --instance ID` sets one)"
            ),
            Saved::Changed(Change::NotKnown) => format!("profile {profile} did not have it"),
            Saved::Changed(Change::Skipped(why)) => format!("not saved: {why}"),
            Saved::Unusable => {
                "not saved: the event's instance id is missing or not a Wix instance id".into()
            }
            Saved::Ignored => return None,
        })
    }
}

/// The instance change an event asks for, or why there is none.
fn change_for(event: &Event) -> Result<InstanceEvent, Saved> {
    let installed = match event.event_type.as_str() {
        "AppInstalled" => true,
        "AppRemoved" => false,
        _ => return Err(Saved::Ignored),
    };
    let instance = event
        .instance_id
        .clone()
        .filter(|i| is_wix_id(i))
        .ok_or(Saved::Unusable)?;
    let app = event.app_id().filter(|a| is_app_id(a)).map(str::to_string);
    Ok(match installed {
        true => InstanceEvent::Installed { instance, app },
        false => InstanceEvent::Removed { instance, app },
    })
}

/// Where and how the saver thread stores (it builds its own stores).
pub(crate) struct Saver {
    pub paths: Paths,
    pub store_mode: StoreMode,
    pub keyring_service: String,
    pub api: Url,
    pub profile: String,
}

type SaveReply = tokio::sync::oneshot::Sender<std::result::Result<Saved, String>>;
/// Where handlers queue events for the saver thread.
pub(crate) type SaveQueue = std::sync::mpsc::Sender<(Event, SaveReply)>;

/// The thread that saves instances. The config file is fsync'ed on every write, which can
/// take a second on a busy disk, so events that queue up while one write runs are saved
/// together in the next one.
pub(crate) fn start_saver(saver: Saver) -> SaveQueue {
    let (tx, rx) = std::sync::mpsc::channel::<(Event, SaveReply)>();
    let spawned = std::thread::Builder::new()
        .name("save instances".into())
        .spawn(move || {
            let store = InstanceStore::new(
                saver.paths,
                saver.store_mode,
                &saver.keyring_service,
                saver.api,
            );
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                batch.extend(rx.try_iter());
                let (events, replies): (Vec<Event>, Vec<SaveReply>) = batch.into_iter().unzip();
                let asked: Vec<Result<InstanceEvent, Saved>> =
                    events.iter().map(change_for).collect();
                let changes: Vec<InstanceEvent> =
                    asked.iter().filter_map(|a| a.clone().ok()).collect();
                let outcome = store.apply(&saver.profile, &changes);
                let mut applied = match outcome {
                    Ok(saved) => saved
                        .into_iter()
                        .map(|s| Ok(Saved::Changed(s)))
                        .collect::<Vec<_>>(),
                    Err(e) => changes.iter().map(|_| Err(e.to_string())).collect(),
                }
                .into_iter();
                for (reply, asked) in replies.into_iter().zip(asked) {
                    let answer = match asked {
                        Ok(_) => applied
                            .next()
                            .unwrap_or(Err("the saver lost an event".into())),
                        Err(saved) => Ok(saved),
                    };
                    let _ = reply.send(answer);
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

    #[test]
    fn only_installs_and_removals_of_wix_like_ids_change_anything() {
        let a = "aaaaaaaa-0000-4000-8000-000000000001";
        assert_eq!(
            change_for(&event("AppInstalled", a, "app1")),
            Ok(InstanceEvent::Installed {
                instance: a.into(),
                app: Some("app1".into())
            })
        );
        assert!(matches!(
            change_for(&event("AppRemoved", a, "app1")),
            Ok(InstanceEvent::Removed { .. })
        ));
        assert_eq!(
            change_for(&event("SomethingElse", a, "app1")),
            Err(Saved::Ignored)
        );
        assert_eq!(
            change_for(&event("AppInstalled", "x/../y", "app1")),
            Err(Saved::Unusable)
        );
    }
}
