//! `wixauth bi-event EVENT`: Send BI Event for the instance (`finished` marks setup complete).

mod each;

use std::collections::BTreeMap;

use serde_json::json;

use crate::app::cli::{BiEventArgs, FleetArgs};
use crate::app::context::Context;
use crate::core::error::{Error, Result};
use crate::ui::Io;
use crate::wix::apps::EVENTS;
use crate::wix::Request;

/// The known name a typo is closest to (`finsihed` → `finished`), when one is close.
fn closest(typed: &str) -> Option<&'static str> {
    let typed_upper = typed.to_ascii_uppercase();
    std::iter::once("finished")
        .chain(EVENTS.iter().copied())
        .map(|name| {
            let theirs = match name {
                "finished" => typed.to_ascii_lowercase(),
                _ => typed_upper.clone(),
            };
            (strsim::damerau_levenshtein(&theirs, name), name)
        })
        .filter(|(distance, name)| *distance <= 2.max(name.len() / 6))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

pub(crate) struct BiEventOptions {
    pub event: String,
    pub custom_name: Option<String>,
    pub data: Vec<String>,
    pub json: bool,
    /// `--each-instance` and the flags that go with it.
    pub fleet: FleetArgs,
}

impl From<&BiEventArgs> for BiEventOptions {
    fn from(args: &BiEventArgs) -> Self {
        BiEventOptions {
            event: args.event.clone(),
            custom_name: args.custom_name.clone(),
            data: args.data.clone(),
            json: args.json,
            fleet: args.fleet.clone(),
        }
    }
}

/// The request body, checked before any token is fetched.
pub(crate) fn event_body(opts: &BiEventOptions) -> Result<serde_json::Value> {
    let name = match opts.event.as_str() {
        "finished" => "APP_FINISHED_CONFIGURATION",
        upper if EVENTS.contains(&upper) => upper,
        other => {
            let other = crate::core::text::printable(other, 80);
            let known = EVENTS.join(", ");
            // With a likely name the suggestion is the next step, the list only a reminder.
            return Err(match closest(&other) {
                Some(near) => Error::usage(format!(
                    "unknown event {other:?} (known: finished, {known})"
                ))
                .hint(format!("did you mean `{near}`?")),
                None => Error::usage(format!(
                    "unknown event {other:?}: use `finished` or one of {known}"
                )),
            });
        }
    };
    let mut data = BTreeMap::new();
    for pair in &opts.data {
        let (key, value) = pair
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| Error::usage(format!("--data {pair:?} is not KEY=VALUE")))?;
        data.insert(key.trim().to_string(), value.to_string());
    }
    let mut body = json!({ "eventName": name });
    match (name, opts.custom_name.as_deref()) {
        ("CUSTOM", Some(custom)) if custom.trim().chars().count() >= 2 => {
            body["customEventName"] = json!(custom.trim())
        }
        ("CUSTOM", _) => {
            return Err(Error::usage(
                "CUSTOM needs --custom-name NAME (at least 2 characters)",
            ))
        }
        (_, Some(_)) => {
            return Err(Error::usage(
                "--custom-name only goes with the CUSTOM event",
            ))
        }
        _ => {}
    }
    if matches!(name, "CHARGE" | "FUNDS_RETURNED") && !data.contains_key("sum") {
        return Err(Error::usage(format!("{name} needs --data sum=AMOUNT")));
    }
    if !data.is_empty() {
        body["eventData"] = json!(data);
    }
    Ok(body)
}

pub(crate) fn run(opts: &BiEventOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    let body = event_body(opts)?;
    if let Some(fleet) = crate::app::fleet::FleetOptions::parse(&opts.fleet)? {
        return each::run(&fleet, opts.json, body, ctx, io);
    }
    let session = ctx.session();
    let target = session.resolve(ctx.instance.as_deref(), None)?;
    target
        .flow
        .allows_app_command("bi-event")
        .map_err(|why| Error::usage(format!("profile {:?}: {why}", ctx.profile)))?;
    let url = crate::core::net::join(ctx.wix().api(), "apps/v1/bi-event");
    // Reporting the same event twice is harmless; losing it to a blip is not.
    let request = Request::post_json(url, &body, true);
    let (response, _) = session.authorised_send(&target, request)?;
    io.flush_notes(&ctx.notes);
    let event = body["eventName"].as_str().unwrap_or_default().to_string();
    let instance = target.instance_id.clone().unwrap_or_default();
    if !response.is_success() {
        return Err(session.call_failure(&target, &response, &format!("sending {event}")));
    }
    let site = ctx
        .active_profile()
        .and_then(|p| p.instances.get(&instance))
        .and_then(|i| i.site_name.as_deref())
        .map(|s| format!(" (site \"{}\")", crate::core::text::printable(s, 80)))
        .unwrap_or_default();
    io.note(&format!(
        "Sent {event} for instance {instance}{site} of app {}.",
        target.app_id
    ));
    if opts.json {
        let value =
            json!({"event": event, "app_id": target.app_id, "instance_id": instance, "sent": true});
        io.print(&format!("{value}\n"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(event: &str, custom: Option<&str>, data: &[&str]) -> BiEventOptions {
        BiEventOptions {
            event: event.into(),
            custom_name: custom.map(str::to_string),
            data: data.iter().map(|s| s.to_string()).collect(),
            json: false,
            fleet: Default::default(),
        }
    }

    #[test]
    fn finished_is_an_alias() {
        assert_eq!(
            event_body(&opts("finished", None, &[])).unwrap(),
            json!({"eventName": "APP_FINISHED_CONFIGURATION"})
        );
    }

    #[test]
    fn custom_and_data() {
        let body = event_body(&opts("CUSTOM", Some("synced"), &["a=1", "b=x=y"])).unwrap();
        assert_eq!(
            body,
            json!({"eventName": "CUSTOM", "customEventName": "synced", "eventData": {"a": "1", "b": "x=y"}})
        );
    }

    #[test]
    fn a_typo_gets_the_name_it_is_closest_to() {
        let e = event_body(&opts("finsihed", None, &[])).unwrap_err();
        assert!(e.message().ends_with("did you mean `finished`?"), "{e}");
        assert_eq!(
            e.message().matches("`finished`").count(),
            1,
            "said twice: {e}"
        );
        let e = event_body(&opts("app_upgrade", None, &[])).unwrap_err();
        assert!(e.message().ends_with("did you mean `APP_UPGRADED`?"), "{e}");
        let e = event_body(&opts("something-else", None, &[])).unwrap_err();
        assert!(!e.message().contains("did you mean"), "{e}");
        assert!(e.message().contains("use `finished` or one of"), "{e}");
    }

    #[test]
    fn bad_input_is_usage() {
        for o in [
            opts("NOT_AN_EVENT", None, &[]),
            opts("app_upgraded", None, &[]),
            opts("CUSTOM", None, &[]),
            opts("CUSTOM", Some("x"), &[]),
            opts("APP_UPGRADED", Some("name"), &[]),
            opts("APP_UPGRADED", None, &["novalue"]),
            opts("CHARGE", None, &["currency=USD"]),
        ] {
            assert_eq!(
                event_body(&o).unwrap_err().exit,
                crate::core::error::Exit::Usage,
                "{}",
                o.event
            );
        }
    }
}
