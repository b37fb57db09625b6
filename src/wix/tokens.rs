//! Wix's token endpoints: client credentials (`oauth2/token`), and the legacy code exchange and
//! refresh (`oauth/access`).

use serde::Deserialize;
use serde_json::json;

use super::{Request, WixClient, ATTEMPTS, TRY_LATER};
use crate::core::error::{Error, Rejected, Result};
use crate::core::secret::Secret;
use crate::settings::flow::MAX_TOKEN_LIFETIME;
use crate::settings::Flow;

/// What a token endpoint gave us.
#[derive(Debug, Clone)]
pub(crate) struct TokenGrant {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub token_type: String,
    /// Seconds, at most [`MAX_TOKEN_LIFETIME`].
    pub expires_in: u64,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    refresh_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

impl WixClient {
    /// Create Access Token (client credentials): app id + secret + instance → 4-hour token.
    pub(crate) fn create_access_token(
        &self,
        app_id: &str,
        secret: &Secret,
        instance_id: &str,
    ) -> Result<TokenGrant> {
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": secret.expose(),
            "instance_id": instance_id,
        });
        self.grant("oauth2/token", &body, Flow::Basic.default_lifetime())
            .map_err(|e| e.context("creating an access token"))
    }

    /// Request an Access Token: the authorization code from the installer redirect.
    pub(crate) fn exchange_code(
        &self,
        app_id: &str,
        secret: &Secret,
        code: &Secret,
    ) -> Result<TokenGrant> {
        let body = json!({
            "grant_type": "authorization_code",
            "client_id": app_id,
            "client_secret": secret.expose(),
            "code": code.expose(),
        });
        self.grant("oauth/access", &body, Flow::Advanced.default_lifetime())
            .map_err(|e| e.context("exchanging the authorization code"))
    }

    /// Refresh an Access Token with a refresh token.
    pub(crate) fn refresh_access_token(
        &self,
        app_id: &str,
        secret: &Secret,
        refresh: &Secret,
    ) -> Result<TokenGrant> {
        let body = json!({
            "grant_type": "refresh_token",
            "client_id": app_id,
            "client_secret": secret.expose(),
            "refresh_token": refresh.expose(),
        });
        self.grant("oauth/access", &body, Flow::Advanced.default_lifetime())
            .map_err(|e| e.context("refreshing the access token"))
    }

    /// Token Info: what Wix knows about an access token (JSON as Wix sends it).
    pub(crate) fn token_info(&self, token: &Secret) -> Result<serde_json::Value> {
        let body = json!({"token": token.expose()});
        let response = self.send(&Request::post_json(
            self.url("oauth2/token-info"),
            &body,
            true,
        ))?;
        if !response.is_success() {
            return Err(response.failure("reading token info"));
        }
        serde_json::from_slice(&response.body).map_err(|_| {
            Error::unavailable("Wix answered token info with malformed JSON").hint(TRY_LATER)
        })
    }

    /// POSTs a token grant and reads its answer. A token request is never retried after a 4xx
    /// other than 429: that is Wix rejecting it (exit 3, marked with which credential its
    /// answer names; the caller, who knows where each came from, says what to check);
    /// 429/5xx after the retries is Wix failing (exit 4).
    pub(super) fn grant(
        &self,
        path: &str,
        body: &serde_json::Value,
        default_lifetime: u64,
    ) -> Result<TokenGrant> {
        let response = self.send(&Request::post_json(self.url(path), body, true))?;
        if !response.is_success() {
            let summary = response.error_summary();
            return Err(if response.status == 429 || response.status >= 500 {
                Error::unavailable(format!("Wix failed ({summary}) after {ATTEMPTS} attempts"))
                    .hint(TRY_LATER)
            } else {
                Error::rejected(format!("Wix rejected the credentials ({summary})"))
                    .turned_down(rejection(&response))
            });
        }
        parse_grant(&response.body, default_lifetime)
    }
}

/// Which credential a token endpoint's refusal names. Wix documents no endpoint-specific
/// errors, so this reads its message (UNCONFIRMED wording, README): "Invalid client
/// credentials" is the secret, "Invalid client" the id, an instance "not found" or "not
/// installed" the instance.
pub(crate) fn rejection(response: &super::Response) -> Rejected {
    let text = response
        .wix_message()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let has = |w: &str| text.contains(w);
    if has("instance") || has("not installed") {
        Rejected::Instance
    } else if has("client credentials") || has("secret") {
        Rejected::Secret
    } else if has("refresh token") || has("refresh_token") {
        Rejected::RefreshToken
    } else if has("code") {
        Rejected::Code
    } else if has("client") {
        Rejected::Client
    } else {
        Rejected::Unknown
    }
}

pub(crate) fn parse_grant(body: &[u8], default_lifetime: u64) -> Result<TokenGrant> {
    let malformed = |what: &str| {
        Error::unavailable(format!(
            "Wix answered with a malformed token response ({what})"
        ))
        .hint(TRY_LATER)
    };
    let parsed: TokenBody =
        serde_json::from_slice(body).map_err(|_| malformed("not the expected JSON"))?;
    let access = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| malformed("no access_token"))?;
    // `wixauth token` prints it as one line and it goes into an Authorization header: a
    // newline or an escape sequence in it would break both, and could write to the terminal.
    if !access.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(
            "an access_token with spaces, control or non-ASCII characters",
        ));
    }
    // Tolerate a number, a numeric string, or nothing at all; never more than a day.
    let expires_in = match parsed.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|&s| s > 0)
    .unwrap_or(default_lifetime)
    .min(MAX_TOKEN_LIFETIME);
    Ok(TokenGrant {
        access_token: Secret::new(access),
        refresh_token: parsed
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(Secret::new),
        token_type: parsed.token_type.unwrap_or_else(|| "Bearer".to_string()),
        expires_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_token_that_is_not_one_printable_word_is_refused() {
        for token in ["a\nb", "\u{1b}[31mred", "two words", "caf\u{e9}"] {
            let body = serde_json::json!({"access_token": token}).to_string();
            let err = parse_grant(body.as_bytes(), 300).unwrap_err();
            assert_eq!(err.exit, crate::core::error::Exit::Unavailable, "{token:?}");
            assert!(!err.message().contains(token), "{err}");
        }
    }

    #[test]
    fn expires_in_is_tolerant_and_bounded() {
        let g = parse_grant(
            br#"{"access_token":"t","token_type":"Bearer","expires_in":14400}"#,
            1,
        )
        .unwrap();
        assert_eq!(g.expires_in, 14400);
        let g = parse_grant(br#"{"access_token":"t"}"#, 300).unwrap();
        assert_eq!((g.expires_in, g.token_type.as_str()), (300, "Bearer"));
        let g = parse_grant(br#"{"access_token":"t","expires_in":"60"}"#, 300).unwrap();
        assert_eq!(g.expires_in, 60);
        let g = parse_grant(br#"{"access_token":"t","refresh_token":null}"#, 300).unwrap();
        assert!(g.refresh_token.is_none());
        for huge in [
            r#"{"access_token":"t","expires_in":300000000000}"#,
            r#"{"access_token":"t","expires_in":"18446744073709551615"}"#,
        ] {
            let g = parse_grant(huge.as_bytes(), 300).unwrap();
            assert_eq!(g.expires_in, MAX_TOKEN_LIFETIME, "{huge}");
        }
    }

    #[test]
    fn malformed_grants_are_exit_4() {
        for body in [
            &b"not json"[..],
            br#"{"token":"x"}"#,
            br#"{"access_token":""}"#,
        ] {
            let e = parse_grant(body, 300).unwrap_err();
            assert_eq!(e.exit, crate::core::error::Exit::Unavailable);
        }
    }
}
