//! The member login's page: Wix's redirect session for a PKCE authorization request.

use url::Url;

use super::login::BrowserLogin;
use crate::core::error::{Error, Result};
use crate::wix::headless::AuthRequest;

/// A visitor token, then Wix's redirect session: the member login page's URL.
pub(super) fn member_login_url(
    login: &BrowserLogin<'_>,
    state: &str,
    challenge: &str,
) -> Result<Url> {
    let visitor = login.wix.visitor_token(login.app_id)?;
    let auth = AuthRequest {
        client_id: login.app_id,
        redirect_uri: login.redirect_url,
        code_challenge: challenge,
        state,
        prompt: login.prompt,
    };
    let url = login
        .wix
        .member_login_url(&visitor.access_token, &auth)
        .map_err(|e| {
            let hint = redirect_hint(login.redirect_url);
            e.context_after(hint)
        })?;
    Url::parse(&url).map_err(|_| {
        Error::unavailable("Wix's member login URL is not a valid URL").hint("try again later")
    })
}

/// What to add in Wix's dashboard when its login page refuses the redirect URI.
pub(crate) fn redirect_hint(redirect_url: &str) -> String {
    format!(
        " (if Wix's page said \"Invalid redirect URI\": add exactly {redirect_url} to the client's allowed authorization redirect URIs in the dashboard's Headless Settings, or pass the listed one with --redirect-url)"
    )
}
