//! Wix Headless OAuth (visitor, member and admin tokens): the camelCase grants on
//! `oauth2/token`, the admin client-credentials grant, the redirect session that gives the
//! member login page, and Get My Member.

use serde_json::{json, Value};

use super::tokens::TokenGrant;
use super::{Request, WixClient, TRY_LATER};
use crate::core::error::{Error, Result};
use crate::core::secret::Secret;
use crate::core::text::printable;
use crate::settings::Flow;

/// What the member login asks Wix's redirect session for.
pub(crate) struct AuthRequest<'a> {
    pub client_id: &'a str,
    /// The redirect URI as the user gave it: Wix compares it character for character.
    pub redirect_uri: &'a str,
    pub code_challenge: &'a str,
    pub state: &'a str,
    /// `login` or `none`, Wix's `auth.prompt`.
    pub prompt: Option<&'a str>,
}

impl WixClient {
    /// The anonymous grant: a new visitor's access and refresh token.
    pub(crate) fn visitor_token(&self, client_id: &str) -> Result<TokenGrant> {
        let body = json!({"clientId": client_id, "grantType": "anonymous"});
        self.headless_grant(body)
            .map_err(|e| e.context("getting a visitor token"))
    }

    /// The refresh grant, for a visitor or a member.
    pub(crate) fn headless_refresh(&self, client_id: &str, refresh: &Secret) -> Result<TokenGrant> {
        let body = json!({
            "clientId": client_id,
            "grantType": "refresh_token",
            "refreshToken": refresh.expose(),
        });
        self.headless_grant(body)
            .map_err(|e| e.context("refreshing the headless token"))
    }

    /// Headless admin: the client id and its client secret, Create Access Token's snake_case
    /// keys and no `instance_id` (the client is bound to one site). Lifetime: `expires_in`.
    pub(crate) fn admin_token(&self, client_id: &str, secret: &Secret) -> Result<TokenGrant> {
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret.expose(),
        });
        self.grant("oauth2/token", &body, Flow::Admin.default_lifetime())
            .map_err(|e| e.context("creating an admin access token"))
    }

    /// The member login's code exchange (PKCE).
    pub(crate) fn member_code(
        &self,
        client_id: &str,
        redirect_uri: &str,
        code: &Secret,
        verifier: &Secret,
    ) -> Result<TokenGrant> {
        let body = json!({
            "clientId": client_id,
            "grantType": "authorization_code",
            "redirectUri": redirect_uri,
            "code": code.expose(),
            "codeVerifier": verifier.expose(),
        });
        self.headless_grant(body)
            .map_err(|e| e.context("exchanging the member login code"))
    }

    /// The redirect session: the URL of Wix's member login page for this request.
    pub(crate) fn member_login_url(
        &self,
        visitor: &Secret,
        auth: &AuthRequest<'_>,
    ) -> Result<String> {
        let mut body = json!({"auth": {"authRequest": {
            "redirectUri": auth.redirect_uri,
            "clientId": auth.client_id,
            "codeChallenge": auth.code_challenge,
            "codeChallengeMethod": "S256",
            "responseMode": "query",
            "responseType": "code",
            "scope": "offline_access",
            "state": auth.state,
        }}});
        if let Some(prompt) = auth.prompt {
            body["auth"]["prompt"] = json!(prompt);
        }
        let mut request = Request::post_json(
            self.url("_api/redirects-api/v1/redirect-session"),
            &body,
            true,
        );
        request.auth = Some(visitor.clone());
        let response = self.send(&request)?;
        if !response.is_success() {
            return Err(response.failure("creating the member login session"));
        }
        let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
        let url = parsed
            .as_ref()
            .and_then(|v| v.pointer("/redirectSession/fullUrl"))
            .and_then(Value::as_str)
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| u.scheme() == "https" || crate::core::net::is_loopback(u));
        url.map(|u| u.to_string()).ok_or_else(|| {
            Error::unavailable(format!(
                "Wix answered the member login session without a usable redirectSession.fullUrl ({})",
                response.error_summary()
            ))
            .hint(TRY_LATER)
        })
    }

    /// Get My Member (`fieldsets=FULL`, the only way to get the login email) as Wix sends it.
    pub(crate) fn my_member(&self, token: &Secret) -> Result<Value> {
        let mut request = Request::get(self.url("members/v1/members/my?fieldsets=FULL"));
        request.auth = Some(token.clone());
        let response = self.send(&request)?;
        if !response.is_success() {
            return Err(response.failure("reading the member (Get My Member)"));
        }
        serde_json::from_slice(&response.body).map_err(|_| {
            Error::unavailable("Wix answered Get My Member with malformed JSON").hint(TRY_LATER)
        })
    }

    fn headless_grant(&self, body: Value) -> Result<TokenGrant> {
        self.grant("oauth2/token", &body, Flow::Visitor.default_lifetime())
    }
}

/// A headless grant must carry a refresh token: without one the visitor or member cannot be
/// kept across runs.
pub(crate) fn require_refresh(grant: &TokenGrant, what: &str) -> Result<Secret> {
    grant.refresh_token.clone().ok_or_else(|| {
        Error::unavailable(format!(
            "Wix returned no refresh token for {}",
            printable(what, 80)
        ))
        .hint(TRY_LATER)
    })
}
