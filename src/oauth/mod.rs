//! The browser login: a temporary local redirect listener, the installer page opened in the
//! browser, then the callback — a code exchanged for tokens (advanced flow) or the instance
//! of Wix's external install (basic flow). It knows nothing of profiles or stores: the caller
//! gets an [`Authorised`] through `store` before the browser is answered.

mod callback;
mod listener;
pub(crate) mod pages;
mod pkce;

use std::cell::Cell;
use std::time::{Duration, Instant};

use url::Url;

use crate::core::error::{Error, Result};
use crate::core::log::{debug, Notes};
use crate::core::secret::Secret;
use crate::core::text::printable;
use crate::settings::Flow;
use crate::ui::interrupt::{self, OnInterrupt};
use crate::ui::spinner::{self, Spinner};
use crate::ui::{Io, Launch};
use crate::wix::headless::{require_refresh, AuthRequest};
use crate::wix::urls::{self, INSTALLED_PATH};
use crate::wix::{TokenGrant, WixClient};
use callback::{Callback, Expect};
use listener::{Listener, Request};

/// The App URL path: an install started inside Wix lands here with Wix's `token`.
const APP_URL_PATH: &str = "/app";

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
}

/// Parses a redirect URL given by the user or stored in a profile.
pub(crate) fn parse_redirect(text: &str) -> Result<Url> {
    Url::parse(text)
        .map_err(|e| Error::usage(format!("--redirect-url {text:?} is not a valid URL: {e}")))
}

/// Runs the browser login. `store` is called with the result before the browser is
/// answered, so a success page is only ever shown for credentials that were saved.
pub(crate) fn run(
    login: &BrowserLogin<'_>,
    io: &mut Io,
    notes: &Notes,
    store: &mut dyn FnMut(&Authorised) -> Result<()>,
) -> Result<Authorised> {
    let redirect = parse_redirect(login.redirect_url)?;
    // Catch Ctrl-C before the URL is printed: a person may press it the moment they see it,
    // and an uncaught SIGINT would kill the process instead of exiting 130.
    interrupt::on_interrupt(OnInterrupt::Flag);
    let listener = Listener::bind(&redirect)?;
    let state = callback::new_state()?;
    let mut verifier = None;
    let install_url = if login.flow == Flow::Member {
        let pkce = pkce::Pkce::new()?;
        let url = member_login_url(login, &state, &pkce.challenge)?;
        verifier = Some(pkce.verifier);
        io.note(&format!(
            "The redirect URI {:?} must be listed exactly under the client's allowed authorization redirect URIs; if Wix's page says \"Invalid redirect URI\", add it there.",
            login.redirect_url
        ));
        url
    } else {
        urls::installer_url(
            login.installer,
            login.flow,
            login.app_id,
            login.redirect_url,
            Some(&state),
        )?
    };

    let action = match login.flow {
        Flow::Advanced => "approve the app",
        Flow::Member => "log in as a site member",
        _ => "install the app on a site",
    };
    io.note(&format!(
        "Open this URL in a browser to {action}:\n  {install_url}"
    ));
    if !login.open_browser {
        io.note("(--no-browser: open it yourself; wixauth is waiting for the redirect back.)");
    } else {
        match io.browser.open(install_url.as_str()) {
            Launch::Opened(how) => debug!("opened the URL with {how}"),
            Launch::Skipped(why) | Launch::Failed(why) => {
                io.note(&format!("Not opening a browser: {why}. Open the URL above on a machine that can reach {redirect}; wixauth keeps waiting."))
            }
        }
    }

    let deadline = Instant::now() + login.timeout;
    let width = if io.stderr_tty {
        spinner::terminal_width()
    } else {
        80
    };
    let mut spinner = Spinner::new(io.stderr_tty, redirect.as_str(), width);
    let session = Callbacks {
        login,
        state: &state,
        redirect: &redirect,
        install_url: &install_url,
        verifier: verifier.as_ref(),
        notes,
        app_forwarded: Cell::new(false),
        warned_bad_state: Cell::new(false),
    };
    let result = loop {
        if interrupt::interrupted() {
            break Err(Error::interrupted());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let hint = match login.flow {
                Flow::Member => redirect_hint(login.redirect_url),
                Flow::Advanced => format!(
                    "; if Wix showed 'Invalid redirect URL', register exactly {} as a Redirect URL in the app dashboard (OAuth page)",
                    login.redirect_url
                ),
                Flow::Basic | Flow::Visitor => String::new(),
            };
            break Err(Error::login_aborted(format!(
                "no answer from the browser within {} s: run `wixauth login` again (and --timeout to wait longer){hint}",
                login.timeout.as_secs()
            )));
        }
        spinner.tick(&mut io.err, left);
        let Some(request) = listener.next(Duration::from_millis(100)) else {
            continue;
        };
        match session.handle(request, store) {
            Step::Wait => {}
            Step::Done(outcome) => break outcome,
        }
        // Warnings raised while storing (a keyring fallback) go on their own line.
        let queued = notes.take();
        if !queued.is_empty() {
            spinner.clear(&mut io.err);
            for text in queued {
                io.warn(&text);
            }
        }
    };
    spinner.clear(&mut io.err);
    // Whatever else is queued is answered "this login has already ended" when `listener`
    // drops (listener::Request's Drop), instead of a hung tab.
    result
}

/// Ends the login with `error`, after a failure page that says what to run next.
fn fail(request: Request, status: u16, error: Error, next: &str) -> Step {
    listener::respond_html(request, status, pages::failure(error.message(), next));
    Step::Done(Err(error))
}

enum Step {
    Wait,
    Done(Result<Authorised>),
}

/// Answers the requests that reach the listener during one login.
struct Callbacks<'a> {
    login: &'a BrowserLogin<'a>,
    state: &'a str,
    redirect: &'a Url,
    install_url: &'a Url,
    /// Member flow: the PKCE verifier for the code exchange.
    verifier: Option<&'a Secret>,
    /// Warnings go through the wait loop, which clears the spinner first.
    notes: &'a Notes,
    /// `/app` hands out our `state` once per login: a second asker gets an error page.
    app_forwarded: Cell<bool>,
    /// One warning for redirects with a wrong state, however many arrive.
    warned_bad_state: Cell<bool>,
}

impl Callbacks<'_> {
    fn handle(&self, request: Request, store: &mut dyn FnMut(&Authorised) -> Result<()>) -> Step {
        let target = request.target().to_string();
        let (path, query) = listener::split_target(&target);
        debug!(
            "listener: {} {path} ({} bytes of query)",
            request.method(),
            query.len()
        );
        if request.method() != "GET" {
            listener::respond_html(
                request,
                405,
                pages::failure(
                    "wixauth only answers the browser's GET redirect here.",
                    "Nothing was changed.",
                ),
            );
            return Step::Wait;
        }
        let callback_path = match self.login.flow {
            Flow::Advanced | Flow::Member | Flow::Visitor => self.redirect.path(),
            Flow::Basic => INSTALLED_PATH,
        };
        if path == callback_path {
            return self.callback(request, query, store);
        }
        if path == APP_URL_PATH && self.login.flow == Flow::Advanced {
            return self.app_url(request, query);
        }
        listener::respond_html(request, 404, pages::not_found());
        Step::Wait
    }

    /// The App URL: forward Wix's `token` to the installer with our app id, redirect URL and state.
    fn app_url(&self, request: Request, query: &str) -> Step {
        let token = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned());
        match token {
            Some(_) if self.app_forwarded.get() => listener::respond_html(
                request,
                409,
                pages::failure(
                    "This login was already forwarded to Wix's installer once; wixauth forwards only the first request, so its state is not handed to whoever asks.",
                    "Finish the install in the tab that was forwarded first, or run `wixauth login` again in the terminal.",
                ),
            ),
            Some(token) => {
                self.app_forwarded.set(true);
                let mut url = self.install_url.clone();
                url.query_pairs_mut().append_pair("token", &token);
                listener::respond_redirect(request, url.as_str());
            }
            None => listener::respond_html(
                request,
                400,
                pages::failure("This is wixauth's App URL, but Wix's token is missing.", "Start the install from Wix, or open the installer URL printed in the terminal."),
            ),
        }
        Step::Wait
    }

    fn callback(
        &self,
        request: Request,
        query: &str,
        store: &mut dyn FnMut(&Authorised) -> Result<()>,
    ) -> Step {
        let started = Instant::now();
        let login = self.login;
        let expect = if login.flow == Flow::Basic {
            Expect::Installed
        } else {
            Expect::Code
        };
        if login.flow == Flow::Member {
            return self.member_callback(request, query, store);
        }
        let fail = |request, status, error| {
            fail(
                request,
                status,
                error,
                "Run `wixauth login` again in the terminal.",
            )
        };
        // App logins always carry the secret; only the member flow has none.
        let Some(secret) = login.secret else {
            return fail(
                request,
                500,
                Error::failure("the login has no app secret: run `wixauth login` again"),
            );
        };
        let authorised = match callback::parse_callback(query, self.state, expect) {
            Callback::BadState => return self.bad_state(request),
            Callback::Denied(why) => {
                return fail(request, 403, Error::login_aborted(format!("the install was not approved in the browser ({why}): run `wixauth login` again to retry")))
            }
            Callback::Failed(why) => return fail(request, 400, Error::rejected(format!("Wix reported a problem with the install ({why}): run `wixauth login` again"))),
            Callback::Code { code, instance_id } => {
                let Some(instance_id) = instance_id else {
                    return fail(request, 400, Error::rejected("Wix's redirect carried no instanceId: run `wixauth login` again"));
                };
                let grant = match login.wix.exchange_code(login.app_id, secret, &code) {
                    Ok(grant) => grant,
                    Err(e) => return fail(request, 502, e),
                };
                let Some(refresh_token) = grant.refresh_token.clone() else {
                    return fail(request, 502, Error::unavailable("Wix returned no refresh token for the code: run `wixauth login` again"));
                };
                // The instance is the one Wix ties to the new token, never the redirect's word alone:
                // a forged redirect could name a site the user did not approve.
                let instance_id = match confirmed_instance(login.wix, &grant.access_token, &instance_id) {
                    Ok(id) => id,
                    Err(e) => return fail(request, 400, e),
                };
                Authorised { instance_id: Some(instance_id), grant, refresh_token: Some(refresh_token) }
            }
            Callback::Installed { instance_id } => match login.wix.create_access_token(login.app_id, secret, &instance_id) {
                Ok(grant) => Authorised { instance_id: Some(instance_id), grant, refresh_token: None },
                Err(e) => return fail(request, 502, e),
            },
        };
        if let Err(e) = store(&authorised) {
            return fail(request, 500, e);
        }
        debug!(
            "callback to tokens stored in {} ms",
            started.elapsed().as_millis()
        );
        if login.flow == Flow::Advanced && login.close_window {
            let mut close = match Url::parse(&crate::core::net::join(
                login.installer,
                "installer/close-window",
            )) {
                Ok(url) => url,
                Err(_) => login.installer.clone(),
            };
            close
                .query_pairs_mut()
                .append_pair("access_token", authorised.grant.access_token.expose());
            listener::respond_redirect(request, close.as_str());
            return Step::Done(Ok(authorised));
        }
        listener::respond_html(
            request,
            200,
            pages::success(
                login.app_id,
                authorised.instance_id.as_deref().unwrap_or_default(),
            ),
        );
        Step::Done(Ok(authorised))
    }
}

impl Callbacks<'_> {
    /// A redirect whose `state` is missing or wrong: any web page can make the browser send
    /// one, so it gets an error page and the login goes on waiting.
    fn bad_state(&self, request: Request) -> Step {
        if !self.warned_bad_state.replace(true) {
            self.notes.warn("ignored a redirect to the listener whose state is missing or wrong (it did not come from this login); still waiting for Wix's redirect");
        }
        listener::respond_html(
            request,
            400,
            pages::still_waiting(
                "This redirect did not come from the login wixauth is waiting for (its state is missing or wrong), so it was ignored. The login is still waiting.",
                "Finish the login in the tab wixauth opened, or open the URL printed in the terminal (run `wixauth login` again if that tab is gone).",
            ),
        );
        Step::Wait
    }

    /// The member login's redirect: `code` and `state` (or `error`), then the PKCE exchange.
    fn member_callback(
        &self,
        request: Request,
        query: &str,
        store: &mut dyn FnMut(&Authorised) -> Result<()>,
    ) -> Step {
        let login = self.login;
        let fail = |request, status, error| {
            fail(
                request,
                status,
                error,
                "Run `wixauth login --flow member` again in the terminal.",
            )
        };
        let (code, verifier) = match (callback::parse_callback(query, self.state, Expect::Code), self.verifier) {
            (Callback::BadState, _) => return self.bad_state(request),
            (Callback::Denied(why), _) => {
                return fail(request, 403, Error::login_aborted(format!("the member login was cancelled in the browser ({why}): run `wixauth login --flow member` again to retry")))
            }
            (Callback::Failed(why), _) => {
                return fail(request, 400, Error::rejected(format!("Wix reported a problem with the member login ({why}): run `wixauth login --flow member` again{}", redirect_hint(login.redirect_url))))
            }
            (Callback::Code { code, .. }, Some(verifier)) => (code, verifier),
            _ => return fail(request, 500, Error::failure("the member login lost its PKCE verifier: run `wixauth login --flow member` again")),
        };
        let grant = match login
            .wix
            .member_code(login.app_id, login.redirect_url, &code, verifier)
        {
            Ok(grant) => grant,
            Err(e) => return fail(request, 502, e),
        };
        let refresh_token = match require_refresh(&grant, "the member login") {
            Ok(r) => r,
            Err(e) => return fail(request, 502, e),
        };
        let authorised = Authorised {
            instance_id: None,
            grant,
            refresh_token: Some(refresh_token),
        };
        if let Err(e) = store(&authorised) {
            return fail(request, 500, e);
        }
        listener::respond_html(request, 200, pages::member_success(login.app_id));
        Step::Done(Ok(authorised))
    }
}

/// A visitor token, then Wix's redirect session: the member login page's URL.
fn member_login_url(login: &BrowserLogin<'_>, state: &str, challenge: &str) -> Result<Url> {
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
            Error::new(e.exit, format!("{}{hint}", e.message()))
        })?;
    Url::parse(&url).map_err(|_| {
        Error::unavailable("Wix's member login URL is not a valid URL; try again later")
    })
}

/// What to add in Wix's dashboard when its login page refuses the redirect URI.
pub(crate) fn redirect_hint(redirect_url: &str) -> String {
    format!(
        " (if Wix's page said \"Invalid redirect URI\": add exactly {redirect_url} to the client's allowed authorization redirect URIs in the dashboard's Headless Settings, or pass the listed one with --redirect-url)"
    )
}

/// The instance Token Info reports for `token`; an error when it is missing or differs from
/// what the redirect said.
fn confirmed_instance(wix: &WixClient, token: &Secret, claimed: &str) -> Result<String> {
    let info = wix.token_info(token)?;
    let Some(reported) = info
        .get("instanceId")
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
    else {
        return Err(Error::rejected(
            "Wix's Token Info named no instance for the new token, so nothing was stored: run `wixauth login` again",
        ));
    };
    if reported != claimed {
        return Err(Error::rejected(format!(
            "the redirect named instance {:?} but Wix issued the token for instance {:?}, so nothing was stored (another page or program may have tried to steer the login): run `wixauth login` again",
            printable(claimed, 80),
            printable(reported, 80)
        )));
    }
    Ok(reported.to_string())
}
