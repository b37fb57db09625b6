//! One browser login's settings and its result, shared by the wait loop and the callbacks.

use std::time::Duration;

use url::Url;

use crate::core::error::{Cmd, Error, Invocation, Result};
use crate::core::secret::Secret;
use crate::core::text::printable;
use crate::settings::Flow;
use crate::wix::{TokenGrant, WixClient};

/// What a login produced, before anything is stored.
pub(crate) struct Authorised {
    /// `None` for a member login: a headless client has no instance.
    pub instance_id: Option<String>,
    pub grant: TokenGrant,
    /// Only the advanced flow has one.
    pub refresh_token: Option<Secret>,
}

/// One browser login's settings.
pub(crate) struct BrowserLogin<'a> {
    pub flow: Flow,
    /// The app id, or for the member flow the Headless OAuth client id.
    pub app_id: &'a str,
    /// `None` for the member flow (a Headless client has no secret).
    pub secret: Option<&'a Secret>,
    /// Member flow: Wix's `auth.prompt` (`login` or `none`).
    pub prompt: Option<&'a str>,
    /// The redirect URL as the user gave it (Wix compares it character for character).
    pub redirect_url: &'a str,
    pub installer: &'a Url,
    pub wix: &'a WixClient,
    pub open_browser: bool,
    /// Send the browser to Wix's close-window page after an advanced login.
    pub close_window: bool,
    pub timeout: Duration,
    /// How wixauth was called: pages render next steps with the user's flags.
    pub how: &'a Invocation,
    /// `--accept-app-url`: forward a Wix-initiated `/app` without asking the terminal.
    pub accept_app_url: bool,
}

/// What the login's caller does with the result before the browser is answered: store it,
/// and say what was logged in (the site, the member) for the success page.
pub(crate) type Store<'s> = dyn FnMut(&Authorised) -> Result<String> + 's;

/// Parses a redirect URL given by the user or stored in a profile.
pub(crate) fn parse_redirect(text: &str) -> Result<Url> {
    Url::parse(text).map_err(|e| {
        let error = Error::usage(format!("--redirect-url {text:?} is not a valid URL: {e}"));
        match text.contains("://") {
            true => error,
            // The text as typed, escaped: it reaches the terminal outside the quotes above.
            false => error.hint(format!("did you mean http://{}?", printable(text, 200))),
        }
    })
}

/// The login to run again after this one failed.
pub(super) fn login_again(flow: Flow) -> Cmd {
    Cmd::new(flow.login_args())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the urls fuzz target: the "did you mean" hint repeated the text raw.
    #[test]
    fn a_redirect_url_without_a_scheme_is_shown_escaped() {
        let err = parse_redirect("127.0.0.1:8338/cb\u{2}\u{1b}[2J\u{202e}").unwrap_err();
        let line = err.message();
        assert_eq!(printable(&line, usize::MAX), line);
        assert!(
            line.contains("did you mean http://127.0.0.1:8338/cb\\u{2}"),
            "{line}"
        );
    }
}
