//! How a profile gets tokens from Wix, and every rule that depends on it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How an app gets tokens from Wix.
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
}

impl Flow {
    /// A Wix Headless client flow (OAuth client id, no secret, no instance).
    pub(crate) fn is_headless(self) -> bool {
        matches!(self, Flow::Visitor | Flow::Member)
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flow::Basic => "basic",
            Flow::Advanced => "advanced",
            Flow::Visitor => "visitor",
            Flow::Member => "member",
        })
    }
}
