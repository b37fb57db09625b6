//! What `status` reports, for its JSON and its human rendering alike.

use serde::Serialize;

use crate::settings::Flow;

#[derive(Serialize)]
pub(super) struct Report {
    pub(super) active_profile: String,
    /// Whether the active profile can produce a token.
    pub(super) ready: bool,
    pub(super) problem: Option<String>,
    pub(super) profiles: Vec<ProfileReport>,
    /// CI credentials from `WIX_*` variables, which win over stored ones.
    pub(super) environment: Option<EnvReport>,
}

#[derive(Serialize)]
pub(super) struct EnvReport {
    pub(super) app_id: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) app_secret: bool,
    pub(super) refresh_token: bool,
    pub(super) instance_id: Option<String>,
    // The admin and API key variables: listed only when set, so the shape of the other flows
    // stays as it was.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) client_secret: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) api_key: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) site_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) account_id: Option<String>,
}

#[derive(Serialize)]
pub(super) struct ProfileReport {
    pub(super) name: String,
    pub(super) active: bool,
    /// `app` (basic/advanced), `headless` (a Wix Headless client: visitor/member/admin) or
    /// `api-key`.
    pub(super) kind: &'static str,
    pub(super) app_id: Option<String>,
    /// Headless profiles: the OAuth client id, the flow, the refresh token and cached token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) headless: Option<HeadlessReport>,
    /// API key profiles: the headers its calls send (never the key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) api_key: Option<KeyReport>,
    /// keyring, file, environment, or missing.
    pub(super) secret_location: String,
    pub(super) secrets_file: Option<String>,
    pub(super) default_instance: Option<String>,
    pub(super) instances: Vec<InstanceReport>,
    /// Why the secret store could not be read (an unreachable or locked keyring); the JSON
    /// says `secret_location: "unreadable"` and keeps its documented keys.
    #[serde(skip)]
    pub(super) store_error: Option<String>,
}

#[derive(Serialize)]
pub(super) struct HeadlessReport {
    pub(super) client_id: Option<String>,
    pub(super) flow: Option<Flow>,
    pub(super) refresh_token: bool,
    /// The admin flow's client secret is held (listed for that flow only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) client_secret: bool,
    pub(super) cached_token_expires_in: Option<i64>,
    pub(super) check: Option<String>,
}

#[derive(Serialize)]
pub(super) struct KeyReport {
    pub(super) site_id: Option<String>,
    pub(super) account_id: Option<String>,
    /// The header names each call sends: `Authorization`, `wix-site-id`, `wix-account-id`.
    pub(super) headers: Vec<&'static str>,
    pub(super) check: Option<String>,
}

#[derive(Serialize)]
pub(super) struct InstanceReport {
    pub(super) instance_id: String,
    pub(super) flow: Flow,
    pub(super) refresh_token: bool,
    pub(super) cached_token_expires_in: Option<i64>,
    pub(super) check: Option<String>,
    /// The site's name, when a `status --check` learnt it from Wix.
    pub(super) site_name: Option<String>,
}
