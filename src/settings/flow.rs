//! How a profile gets tokens from Wix, and every rule that depends on it, in one place: adding
//! a flow is one arm in each `match` below, which the compiler asks for (no `_ =>` over `Flow`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a profile gets tokens from Wix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Flow {
    /// Client credentials: app id + app secret + instance id → 4-hour tokens.
    Basic,
    /// Legacy custom authentication: browser consent → refresh token → 5-minute tokens.
    Advanced,
    /// Wix Headless: an anonymous visitor of the client's site (refresh token kept).
    Visitor,
    /// Wix Headless: a site member, logged in on Wix's page (PKCE, refresh token kept).
    Member,
    /// Wix Headless admin: the client id and its client secret → short-lived admin tokens.
    Admin,
    /// A Wix API key (an account owner's): sent as it is, with `wix-site-id`/`wix-account-id`.
    #[serde(rename = "api-key")]
    ApiKey,
}

/// What a profile holds: a Wix app (its instances are sites), or a Wix Headless client (bound
/// to one site, no instances).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    App,
    Headless,
    /// An API key with the site and/or account it is for: no client, no instances.
    #[serde(rename = "api-key")]
    ApiKey,
}

/// The long-lived credential a profile keeps for a flow (in the secret store), which its
/// tokens come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// An app's secret (the advanced flow keeps a refresh token per instance besides).
    AppSecret,
    /// A Wix Headless visitor's or member's refresh token.
    RefreshToken,
    /// A Wix Headless client's client secret.
    ClientSecret,
    /// The API key itself: it is what goes in `Authorization`.
    ApiKey,
}

/// What `token --json` says of a flow beyond its common keys (the contract's shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extras {
    None,
    /// `client_id` (the admin flow).
    ClientId,
    /// `site_id` and `account_id`, and `app_id` null (an API key).
    SiteAndAccount,
}

/// Client-credentials tokens live 4 hours; Wix may omit `expires_in`.
pub(crate) const BASIC_TOKEN_LIFETIME: u64 = 14_400;
/// Legacy (`oauth/access`) tokens live 5 minutes and come without `expires_in`.
pub(crate) const ADVANCED_TOKEN_LIFETIME: u64 = 300;
/// No Wix token lives longer than a day; a larger `expires_in` is taken as this.
pub(crate) const MAX_TOKEN_LIFETIME: u64 = 86_400;
/// Headless admin tokens are "short-lived" (Wix states no number): without `expires_in`, the
/// shortest lifetime Wix-authored code mentions for a token minted without an instance (UNCONFIRMED).
pub(crate) const ADMIN_TOKEN_LIFETIME: u64 = 300;

impl Flow {
    /// Every flow, in the order the first login offers them (basic first: every app has it).
    pub(crate) const ALL: [Flow; 6] = [
        Flow::Basic,
        Flow::Advanced,
        Flow::Visitor,
        Flow::Member,
        Flow::Admin,
        Flow::ApiKey,
    ];

    pub(crate) fn kind(self) -> Kind {
        match self {
            Flow::Basic | Flow::Advanced => Kind::App,
            Flow::Visitor | Flow::Member | Flow::Admin => Kind::Headless,
            Flow::ApiKey => Kind::ApiKey,
        }
    }

    /// What the profile keeps for this flow's tokens.
    pub(crate) fn held(self) -> Held {
        match self {
            Flow::Basic | Flow::Advanced => Held::AppSecret,
            Flow::Visitor | Flow::Member => Held::RefreshToken,
            Flow::Admin => Held::ClientSecret,
            Flow::ApiKey => Held::ApiKey,
        }
    }

    /// The keys `token --json` adds for this flow.
    pub(crate) fn json_extras(self) -> Extras {
        match self {
            Flow::Basic | Flow::Advanced | Flow::Visitor | Flow::Member => Extras::None,
            Flow::Admin => Extras::ClientId,
            Flow::ApiKey => Extras::SiteAndAccount,
        }
    }

    /// Whether its credential expires (and so is minted and cached): an API key does not.
    pub(crate) fn expires(self) -> bool {
        match self {
            Flow::Basic | Flow::Advanced | Flow::Visitor | Flow::Member | Flow::Admin => true,
            Flow::ApiKey => false,
        }
    }

    /// A Wix Headless client flow (OAuth client id, no app secret, no instance).
    pub(crate) fn is_headless(self) -> bool {
        self.kind() == Kind::Headless
    }

    /// The name on the command line and in config.toml.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flow::Basic => "basic",
            Flow::Advanced => "advanced",
            Flow::Visitor => "visitor",
            Flow::Member => "member",
            Flow::Admin => "admin",
            Flow::ApiKey => "api-key",
        }
    }

    /// Its item in the first login's menu: short, so the menu fits any terminal.
    pub(crate) fn menu_item(self) -> &'static str {
        match self {
            Flow::Basic => "basic (every app has it)",
            Flow::Advanced => "advanced (legacy custom authentication)",
            Flow::Visitor => "visitor (Wix Headless)",
            Flow::Member => "member (Wix Headless)",
            Flow::Admin => "admin (Wix Headless, client secret)",
            Flow::ApiKey => "api-key (API Keys Manager)",
        }
    }

    /// What it is, in one line, shown before the first login's menu.
    pub(crate) fn menu_line(self) -> &'static str {
        match self {
            Flow::Basic => {
                "basic: app secret + instance id → 4-hour tokens (Wix's OAuth, what every app has)"
            }
            Flow::Advanced => {
                "advanced: custom authentication (legacy, existing apps only) → 5-minute tokens"
            }
            Flow::Visitor => {
                "visitor: a Wix Headless client's anonymous visitor (client id, no secret)"
            }
            Flow::Member => "member: a Wix Headless client's site member, logged in on Wix's page",
            Flow::Admin => "admin: a Wix Headless client's id + client secret → admin tokens",
            Flow::ApiKey => {
                "api-key: an account's API key (API Keys Manager; not for third-party apps)"
            }
        }
    }

    /// Seconds a token lives when Wix's answer does not say.
    pub(crate) fn default_lifetime(self) -> u64 {
        match self {
            Flow::Basic | Flow::Visitor | Flow::Member => BASIC_TOKEN_LIFETIME,
            Flow::Advanced => ADVANCED_TOKEN_LIFETIME,
            Flow::Admin => ADMIN_TOKEN_LIFETIME,
            // Never asked: a key is not minted (it does not expire).
            Flow::ApiKey => MAX_TOKEN_LIFETIME,
        }
    }

    /// Whether its login waits on the local redirect listener (so the redirect URL's port must
    /// be free): always for the consent and member logins, for basic only without an instance
    /// id (Wix's external install comes back to it).
    pub(crate) fn uses_listener(self, instance_given: bool) -> bool {
        match self {
            Flow::Advanced | Flow::Member => true,
            Flow::Basic => !instance_given,
            Flow::Visitor | Flow::Admin | Flow::ApiKey => false,
        }
    }

    /// Whether a profile of this flow keeps its redirect URL (the listener's address).
    pub(crate) fn keeps_redirect_url(self) -> bool {
        match self {
            Flow::Advanced | Flow::Member => true,
            Flow::Basic | Flow::Visitor | Flow::Admin | Flow::ApiKey => false,
        }
    }

    /// Whether tokens come from a refresh token the store keeps (per instance for advanced,
    /// per profile for a Headless client).
    pub(crate) fn has_refresh_token(self) -> bool {
        match self {
            Flow::Advanced | Flow::Visitor | Flow::Member => true,
            Flow::Basic | Flow::Admin | Flow::ApiKey => false,
        }
    }

    /// Commands that belong to an app instance (BI events, the installer): `Err` with why not.
    pub(crate) fn allows_app_command(self, command: &str) -> Result<(), String> {
        match self.kind() {
            Kind::App => Ok(()),
            Kind::Headless => Err(format!(
                "{command} is for app profiles (basic/advanced): a Wix Headless client ({self} flow) has no app instance and no installer"
            )),
            Kind::ApiKey => Err(format!(
                "{command} is for app profiles (basic/advanced): an API key has no app instance and no installer"
            )),
        }
    }

    /// The `login` arguments that log in again with this flow (`--flow` only where the
    /// profile's own flow would not be chosen anyway).
    pub(crate) fn login_args(self) -> &'static [&'static str] {
        match self {
            Flow::Basic => &["login"],
            Flow::Advanced => &["login", "--flow", "advanced"],
            Flow::Visitor => &["login", "--flow", "visitor"],
            Flow::Member => &["login", "--flow", "member"],
            Flow::Admin => &["login", "--flow", "admin"],
            Flow::ApiKey => &["login", "--flow", "api-key"],
        }
    }
}

impl Kind {
    /// What a person calls it.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::App => "an app",
            Kind::Headless => "a Wix Headless client",
            Kind::ApiKey => "a Wix API key",
        }
    }

    /// The CI variables that stand in for a stored login of this kind.
    pub(crate) fn ci_variables(self) -> &'static str {
        match self {
            Kind::App => "WIX_APP_ID and WIX_APP_SECRET",
            Kind::Headless => "WIX_CLIENT_ID and WIX_REFRESH_TOKEN or WIX_CLIENT_SECRET",
            Kind::ApiKey => "WIX_API_KEY and WIX_SITE_ID and/or WIX_ACCOUNT_ID",
        }
    }

    /// Whether a profile of this kind has app instances (sites the app is installed on): an
    /// app does; a Headless client and an API key name their site themselves.
    pub(crate) fn has_instances(self) -> bool {
        match self {
            Kind::App => true,
            Kind::Headless | Kind::ApiKey => false,
        }
    }
}

impl Held {
    /// What a person calls it.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Held::AppSecret => "app secret",
            Held::RefreshToken => "refresh token",
            Held::ClientSecret => "client secret",
            Held::ApiKey => "API key",
        }
    }

    /// The variable that gives it in CI (and wins over the stored one).
    pub(crate) fn variable(self) -> &'static str {
        match self {
            Held::AppSecret => "WIX_APP_SECRET",
            Held::RefreshToken => "WIX_REFRESH_TOKEN",
            Held::ClientSecret => "WIX_CLIENT_SECRET",
            Held::ApiKey => "WIX_API_KEY",
        }
    }

    /// Where a person finds the current one.
    pub(crate) fn place(self) -> &'static str {
        match self {
            Held::AppSecret => "the app dashboard's OAuth page",
            Held::RefreshToken => "a new login",
            Held::ClientSecret => {
                "the project dashboard: Settings → Development & integrations → Headless Settings → the client → Client secret"
            }
            Held::ApiKey => "the account's API Keys Manager",
        }
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_config() {
        for flow in Flow::ALL {
            let text = serde_json::to_string(&flow).unwrap();
            assert_eq!(text, format!("\"{}\"", flow.name()));
            assert_eq!(serde_json::from_str::<Flow>(&text).unwrap(), flow);
            assert!(flow.login_args().starts_with(&["login"]));
        }
    }

    #[test]
    fn the_member_login_needs_the_listener_and_the_visitor_does_not() {
        assert!(Flow::Member.uses_listener(false) && Flow::Advanced.uses_listener(true));
        assert!(!Flow::Visitor.uses_listener(false) && !Flow::Basic.uses_listener(true));
        assert!(Flow::Basic.uses_listener(false));
        assert!(Flow::Member.allows_app_command("bi-event").is_err());
        assert!(Flow::Basic.allows_app_command("bi-event").is_ok());
        assert!(!Flow::Admin.uses_listener(false) && !Flow::ApiKey.uses_listener(false));
        assert!(Flow::ApiKey.allows_app_command("bi-event").is_err());
    }

    #[test]
    fn the_new_identities_keep_their_own_credential() {
        assert_eq!(serde_json::to_string(&Flow::ApiKey).unwrap(), "\"api-key\"");
        assert_eq!(Flow::Admin.kind(), Kind::Headless);
        assert_eq!(Flow::Admin.held(), Held::ClientSecret);
        assert_eq!(Flow::ApiKey.held(), Held::ApiKey);
        assert!(!Flow::ApiKey.expires() && Flow::Admin.expires());
        assert!(!Kind::ApiKey.has_instances() && Kind::App.has_instances());
    }
}
