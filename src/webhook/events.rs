//! The events `webhook trigger` builds in: every App Instance webhook, with the `eventType`
//! strings and payload fields of Wix's own SDK (`@wix/auto_sdk_app-management_app-instances`
//! 1.0.49, pulled in by `@wix/app-management` 1.0.161: its `EventDefinition("AppInstalled", …)`
//! calls and `index.typings.d.ts`; README.md's "The webhook lab in detail" names each).
//! Payloads are made fresh for each delivery: new UUIDs, RFC 3339 times, the documented enum
//! values.

use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use crate::core::error::{Error, Result};
use crate::core::text::printable;

/// One built-in event.
pub(crate) struct BuiltIn {
    /// The `eventType` string (also what `trigger` takes as EVENT).
    pub name: &'static str,
    /// The SDK's typed handler for it.
    pub sdk_handler: &'static str,
    /// One line for `trigger --list`.
    pub about: &'static str,
    payload: fn(&Fresh) -> Value,
}

/// What a payload is made of: the app id, and fresh ids and times.
pub(crate) struct Fresh {
    pub app_id: String,
    pub now: SystemTime,
}

impl Fresh {
    fn time(&self, days_ahead: u64) -> String {
        let at = self.now + Duration::from_secs(days_ahead * 86_400);
        humantime::format_rfc3339_millis(at).to_string()
    }
}

/// A random (version 4) UUID from the OS CSPRNG.
pub(crate) fn uuid() -> String {
    let mut b = [0u8; 16];
    // getrandom only fails where there is no OS RNG at all; ids then still differ per run.
    if getrandom::fill(&mut b).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        b = nanos.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The plan a paid-plan event names (`vendorProductId`: the app's own pricing-plan id).
const PLAN: &str = "premium";
const PREVIOUS_PLAN: &str = "basic";

pub(crate) const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        name: "AppInstalled",
        sdk_handler: "onAppInstanceInstalled",
        about: "the app was installed on a site (payload: appId)",
        payload: |f| json!({"appId": f.app_id}),
    },
    BuiltIn {
        name: "AppRemoved",
        sdk_handler: "onAppInstanceRemoved",
        about: "the app was removed from a site (payload: appId)",
        payload: |f| json!({"appId": f.app_id}),
    },
    BuiltIn {
        name: "PaidPlanPurchased",
        sdk_handler: "onAppInstancePaidPlanPurchased",
        about: "the site owner bought a plan (vendorProductId, cycle, expiresOn, invoiceId, …)",
        payload: |f| {
            plan(
                f,
                "MONTHLY",
                json!({"expiresOn": f.time(30), "couponName": null, "invoiceId": uuid()}),
            )
        },
    },
    BuiltIn {
        name: "PaidPlanChanged",
        sdk_handler: "onAppInstancePaidPlanChanged",
        about: "the site owner changed plan (adds previousVendorProductId, previousCycle)",
        payload: |f| {
            let previous =
                json!({"previousVendorProductId": PREVIOUS_PLAN, "previousCycle": "MONTHLY"});
            let mut p = plan(f, "YEARLY", previous);
            merge(&mut p, json!({"couponName": null, "invoiceId": uuid()}));
            p
        },
    },
    BuiltIn {
        name: "PaidPlanAutoRenewalCancelled",
        sdk_handler: "onAppInstancePaidPlanAutoRenewalCancelled",
        about: "the plan will not renew (cancelReason, userReason, cancelledDuringFreeTrial, …)",
        payload: |f| {
            // cancelReason: one of the values the SDK documents; subscriptionCancellationType's
            // values are not documented, so it is null.
            let why = json!({
                "cancelReason": "USER_CANCEL",
                "userReason": null,
                "subscriptionCancellationType": null,
                "cancelledDuringFreeTrial": "NOT_DURING_FREE_TRIAL",
            });
            plan(f, "MONTHLY", why)
        },
    },
    BuiltIn {
        name: "PlanConvertedToPaid",
        sdk_handler: "onAppInstancePlanConvertedToPaid",
        about: "a free trial ended and the plan is now paid (vendorProductId, cycle, expiresOn)",
        payload: |f| plan(f, "MONTHLY", json!({"expiresOn": f.time(30)})),
    },
    BuiltIn {
        name: "PlanReactivated",
        sdk_handler: "onAppInstancePlanReactivated",
        about: "auto-renewal was turned back on (reason, expiresOn, invoiceId, …)",
        payload: |f| {
            let more = json!({"expiresOn": f.time(365), "invoiceId": uuid(), "reason": "AUTO_RENEW_TURNED_ON"});
            plan(f, "YEARLY", more)
        },
    },
    BuiltIn {
        name: "PlanTransferred",
        sdk_handler: "onAppInstancePlanTransferred",
        about: "the plan moved to another site (vendorProductId, cycle, invoiceId)",
        payload: |f| plan(f, "MONTHLY", json!({"invoiceId": uuid()})),
    },
];

/// What every paid-plan event carries (`operationTimeStamp`, `vendorProductId`, `cycle`), and
/// `more`.
fn plan(f: &Fresh, cycle: &str, more: Value) -> Value {
    let mut payload =
        json!({"operationTimeStamp": f.time(0), "vendorProductId": PLAN, "cycle": cycle});
    merge(&mut payload, more);
    payload
}

impl BuiltIn {
    /// The built-in event named `name` (as Wix spells it; case-insensitive), or a usage error
    /// that lists them.
    pub(crate) fn find(name: &str) -> Result<&'static BuiltIn> {
        BUILT_IN
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown event {}: the built-in events are {}",
                    printable(name, 80),
                    names().join(", ")
                ))
                .hint("for any other event pass --event-type NAME with --data @FILE (its payload)")
            })
    }

    /// A fresh payload.
    pub(crate) fn payload(&self, fresh: &Fresh) -> Value {
        (self.payload)(fresh)
    }
}

pub(crate) fn names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|e| e.name).collect()
}

/// `trigger --list`: one line per event.
pub(crate) fn list() -> String {
    let mut out = String::new();
    for e in BUILT_IN {
        out.push_str(&format!(
            "{:<30} {} (Wix's SDK: {})\n",
            e.name, e.about, e.sdk_handler
        ));
    }
    out
}

/// Which identity a delivery carries (`--identity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity {
    App,
    Visitor,
    Member,
    WixUser,
}

impl Identity {
    /// The `identity` layer: `identityType` and its one id.
    pub(crate) fn layer(self, app_id: &str) -> Value {
        let (kind, field, id) = match self {
            Identity::App => ("APP", "appId", app_id.to_string()),
            Identity::Visitor => ("ANONYMOUS_VISITOR", "anonymousVisitorId", uuid()),
            Identity::Member => ("MEMBER", "memberId", uuid()),
            // Not `WIX_` + `USER"` in one literal: that reads as an environment variable.
            Identity::WixUser => (concat!("WIX", "_USER"), "wixUserId", uuid()),
        };
        json!({"identityType": kind, field: id})
    }
}

/// `--set KEY=VALUE` over `payload`: KEY may be a dotted path into objects; VALUE is JSON
/// when it parses as JSON (`3`, `true`, `null`, `{…}`), else a string.
pub(crate) fn set_field(payload: &mut Value, assignment: &str) -> Result<()> {
    let Some((path, raw)) = assignment.split_once('=') else {
        return Err(Error::usage(format!(
            "--set {} must be KEY=VALUE",
            printable(assignment, 80)
        )));
    };
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(Error::usage(format!(
            "--set {}: the key must be a field name or a dotted path (plan.cycle)",
            printable(assignment, 80)
        )));
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    let mut at = payload;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        at = at
            .as_object_mut()
            .map(|o| o.entry(part.to_string()).or_insert_with(|| json!({})))
            .unwrap_or_else(|| unreachable!("made an object above"));
    }
    if !at.is_object() {
        *at = Value::Object(Map::new());
    }
    if let Some(object) = at.as_object_mut() {
        object.insert(parts[parts.len() - 1].to_string(), value);
    }
    Ok(())
}

/// `--data` over a built-in payload: the given top-level fields win.
pub(crate) fn merge(payload: &mut Value, given: Value) {
    match (payload.as_object_mut(), given) {
        (Some(base), Value::Object(over)) => base.extend(over),
        (_, given) => *payload = given,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_has_a_payload_of_fresh_values() {
        let fresh = Fresh {
            app_id: "app-1".into(),
            now: SystemTime::now(),
        };
        for event in BUILT_IN {
            let a = event.payload(&fresh);
            assert!(a.is_object(), "{}", event.name);
            if let Some(at) = a.get("operationTimeStamp").and_then(Value::as_str) {
                assert!(humantime::parse_rfc3339(at).is_ok(), "{at}");
            }
            if a.get("invoiceId").is_some() {
                assert_ne!(a["invoiceId"], event.payload(&fresh)["invoiceId"]);
            }
        }
        assert_eq!(BUILT_IN.len(), 8);
        assert_eq!(BuiltIn::find("appinstalled").unwrap().name, "AppInstalled");
        let err = BuiltIn::find("Nope").err().unwrap();
        assert!(err.message().contains("PlanTransferred"), "{err}");
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(crate::core::text::is_wix_id(&id));
        assert_ne!(id, uuid());
    }

    #[test]
    fn set_takes_json_or_text_and_dotted_paths() {
        let mut p = json!({"cycle": "MONTHLY"});
        set_field(&mut p, "cycle=YEARLY").unwrap();
        set_field(&mut p, "count=3").unwrap();
        set_field(&mut p, "plan.name=gold").unwrap();
        set_field(&mut p, "couponName=null").unwrap();
        assert_eq!(
            p,
            json!({"cycle": "YEARLY", "count": 3, "plan": {"name": "gold"}, "couponName": null})
        );
        for bad in ["novalue", "=x", "a..b=1"] {
            assert!(set_field(&mut p, bad).is_err(), "{bad}");
        }
    }
}
