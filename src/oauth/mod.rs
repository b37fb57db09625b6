//! The browser login: a temporary local redirect listener, the installer page opened in the
//! browser, then the callback — a code exchanged for tokens (advanced flow) or the instance
//! of Wix's external install (basic flow). It knows nothing of profiles or stores: the caller
//! gets an [`Authorised`] through `store` before the browser is answered.

mod callback;
mod listener;
pub(crate) use listener::listen_addresses;
pub(crate) mod pages;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::config::Flow;
use crate::error::{Error, Result};
use crate::log::{debug, Notes};
use crate::secret::Secret;
use crate::ui::spinner::{self, Spinner};
use crate::ui::{Io, Launch};
use crate::wix::urls::{self, INSTALLED_PATH};
use crate::wix::{TokenGrant, WixClient};
use callback::{Callback, Expect};
use listener::{Listener, Request};

/// The App URL path: an install started inside Wix lands here with Wix's `token`.
const APP_URL_PATH: &str = "/app";

/// What a login produced, before anything is stored.
pub(crate) struct Authorised {
    pub instance_id: String,
    pub grant: TokenGrant,
    /// Only the advanced flow has one.
    pub refresh_token: Option<Secret>,
}

/// One browser login's settings.
pub(crate) struct BrowserLogin<'a> {
    pub flow: Flow,
    pub app_id: &'a str,
    pub secret: &'a Secret,
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
    let interrupted = interrupt_flag();
    let listener = Listener::bind(&redirect)?;
    let state = callback::new_state()?;
    let install_url = urls::installer_url(
        login.installer,
        login.flow,
        login.app_id,
        login.redirect_url,
        Some(&state),
    )?;

    let action = if login.flow == Flow::Advanced {
        "approve the app"
    } else {
        "install the app on a site"
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
    };
    let result = loop {
        if interrupted.load(Ordering::SeqCst) {
            break Err(Error::interrupted());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(Error::login_aborted(format!(
                "no answer from the browser within {} s: run `wixauth login` again (and --timeout to wait longer)",
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
    // Whatever else is queued gets an answer instead of a hung tab.
    for request in listener.drain() {
        listener::respond_html(request, 410, pages::ended());
    }
    result
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
            Flow::Advanced => self.redirect.path(),
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
            Some(token) => {
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
        let expect = if login.flow == Flow::Advanced {
            Expect::Code
        } else {
            Expect::Installed
        };
        let fail = |request: Request, status: u16, error: Error| {
            listener::respond_html(
                request,
                status,
                pages::failure(
                    error.message(),
                    "Run `wixauth login` again in the terminal.",
                ),
            );
            Step::Done(Err(error))
        };
        let authorised = match callback::parse_callback(query, self.state, expect) {
            Callback::BadState => {
                return fail(request, 400, Error::rejected(
                    "the browser came back with a missing or wrong state, so this redirect did not come from this login (possible cross-site request): run `wixauth login` again",
                ))
            }
            Callback::Denied(why) => {
                return fail(request, 403, Error::login_aborted(format!("the install was not approved in the browser ({why}): run `wixauth login` again to retry")))
            }
            Callback::Failed(why) => return fail(request, 400, Error::rejected(format!("Wix reported a problem with the install ({why}): run `wixauth login` again"))),
            Callback::Code { code, instance_id } => {
                let Some(instance_id) = instance_id else {
                    return fail(request, 400, Error::rejected("Wix's redirect carried no instanceId: run `wixauth login` again"));
                };
                let grant = match login.wix.exchange_code(login.app_id, login.secret, &code) {
                    Ok(grant) => grant,
                    Err(e) => return fail(request, 502, e),
                };
                let Some(refresh_token) = grant.refresh_token.clone() else {
                    return fail(request, 502, Error::unavailable("Wix returned no refresh token for the code: run `wixauth login` again"));
                };
                Authorised { instance_id, grant, refresh_token: Some(refresh_token) }
            }
            Callback::Installed { instance_id } => match login.wix.create_access_token(login.app_id, login.secret, &instance_id) {
                Ok(grant) => Authorised { instance_id, grant, refresh_token: None },
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
            let mut close = match Url::parse(&urls::join(login.installer, "installer/close-window"))
            {
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
            pages::success(login.app_id, &authorised.instance_id),
        );
        Step::Done(Ok(authorised))
    }
}

/// Ctrl-C sets a flag the wait loop polls, so the listener closes and we exit 130.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let setter = flag.clone();
    if let Err(e) = ctrlc::set_handler(move || setter.store(true, Ordering::SeqCst)) {
        debug!("cannot catch Ctrl-C: {e}");
    }
    flag
}
