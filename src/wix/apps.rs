//! What Wix's app APIs answer, parsed: Token Info, Get App Instance, Get My Member, and the
//! names Send BI Event takes. Values from Wix are bounded and never trusted to be well-formed.

use serde::Serialize;
use serde_json::Value;

use crate::core::text::rfc3339;

/// Wix's `eventName` values (apps.service.json).
pub(crate) const EVENTS: &[&str] = &[
    "APP_DASHBOARD_LOADED",
    "APP_FINISHED_CONFIGURATION",
    "APP_UPGRADED",
    "PRIMARY_ACTION_PERFORMED",
    "CUSTOM",
    "CHARGE",
    "FUNDS_RETURNED",
    "APP_DEPLOYED",
    "APP_SETUP_FINISHED",
    "APP_FINISH_BUSINESS_SETUP",
];

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct TokenInfo {
    pub active: bool,
    pub app_id: Option<String>,
    pub instance_id: Option<String>,
    pub site_id: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    /// RFC 3339.
    pub expires_at: Option<String>,
    pub issued_at: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct InstanceInfo {
    pub app_name: Option<String>,
    pub instance_id: Option<String>,
    pub site_name: Option<String>,
    pub site_url: Option<String>,
    pub permissions: Vec<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct MemberInfo {
    pub id: Option<String>,
    pub login_email: Option<String>,
    pub nickname: Option<String>,
}

pub(crate) fn parse_member(v: &Value) -> MemberInfo {
    let at = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    MemberInfo {
        id: at("/member/id"),
        login_email: at("/member/loginEmail"),
        nickname: at("/member/profile/nickname"),
    }
}

/// Wix sends `exp`/`iat` as numbers or numeric strings, and `active` as a bool or a string.
pub(crate) fn parse_token_info(v: &Value) -> TokenInfo {
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let time = |k: &str| {
        let secs = match v.get(k) {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }?;
        // A time out of range (Wix sends strings) is shown as unknown, never a panic.
        rfc3339(secs)
    };
    let active = match v.get("active") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    TokenInfo {
        active,
        app_id: text("clientId"),
        instance_id: text("instanceId"),
        site_id: text("siteId"),
        subject_type: text("subjectType"),
        subject_id: text("subjectId"),
        expires_at: time("exp"),
        issued_at: time("iat"),
    }
}

pub(crate) fn parse_instance(v: &Value) -> InstanceInfo {
    let at = |path: &[&str]| {
        let mut cur = v;
        for key in path {
            cur = cur.get(key)?;
        }
        cur.as_str().filter(|s| !s.is_empty()).map(str::to_string)
    };
    InstanceInfo {
        app_name: at(&["instance", "appName"]),
        instance_id: at(&["instance", "instanceId"]),
        site_name: at(&["site", "siteDisplayName"]),
        site_url: at(&["site", "url"]),
        permissions: v
            .pointer("/instance/permissions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}
