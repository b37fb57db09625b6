//! The browser half of `wixauth login`: the local redirect listener, the installer page,
//! the callback and the code exchange (advanced flow), or Wix's external install (basic).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::browser::{self, Launch};
use crate::callback::{self, Callback, Expect};
use crate::commands::login::{Authorised, LoginOptions};
use crate::config::{Flow, DEFAULT_REDIRECT_URL};
use crate::context::{Context, Io};
use crate::error::{Error, Result};
use crate::listener::{self, Listener, Request};
use crate::pages;
use crate::secret::Secret;
use crate::wix;

/// Where the basic flow's external install comes back to.
const INSTALLED_PATH: &str = "/installed";
/// The App URL path: an install started inside Wix lands here with Wix's `token`.
const APP_URL_PATH: &str = "/app";

/// The redirect URL for a login: the flag, else the profile's, else the default.
pub fn redirect_url(opts: &LoginOptions, ctx: &Context) -> Result<Url> {
    let text = opts
        .redirect_url
        .clone()
        .or_else(|| ctx.active_profile().and_then(|p| p.redirect_url.clone()))
        .unwrap_or_else(|| DEFAULT_REDIRECT_URL.to_string());
    Url::parse(&text)
        .map_err(|e| Error::usage(format!("--redirect-url {text:?} is not a valid URL: {e}")))
}

/// The installer URL a person opens: `/installer/install` (advanced) or `/app-installer` (basic).
pub fn installer_url(
    installer: &Url,
    flow: Flow,
    app_id: &str,
    redirect: &Url,
    state: &str,
) -> String {
    let mut url = installer.clone();
    url.set_query(None);
    match flow {
        Flow::Advanced => {
            url.set_path(&format!(
                "{}/installer/install",
                installer.path().trim_end_matches('/')
            ));
            url.query_pairs_mut()
                .append_pair("appId", app_id)
                .append_pair("redirectUrl", redirect.as_str())
                .append_pair("state", state);
        }
        Flow::Basic => {
            let mut back = redirect.clone();
            back.set_path(INSTALLED_PATH);
            back.set_query(None);
            back.query_pairs_mut().append_pair("state", state);
            url.set_path(&format!(
                "{}/app-installer",
                installer.path().trim_end_matches('/')
            ));
            url.query_pairs_mut()
                .append_pair("appId", app_id)
                .append_pair("postInstallationUrl", back.as_str());
        }
    }
    url.to_string()
}

/// Runs the browser login. `store` is called with the result before the browser is
/// answered, so a success page is only ever shown for credentials that were saved.
pub fn run(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    flow: Flow,
    app_id: &str,
    secret: &Secret,
    store: &mut dyn FnMut(&Authorised) -> Result<()>,
) -> Result<Authorised> {
    let redirect = redirect_url(opts, ctx)?;
    let installer = ctx.installer_base()?;
    let wix = ctx.wix()?;
    // Catch Ctrl-C before the URL is printed: a person may press it the moment they see it,
    // and an uncaught SIGINT would kill the process instead of exiting 130.
    let interrupted = interrupt_flag();
    let listener = Listener::bind(&redirect)?;
    let state = callback::new_state()?;
    let install_url = installer_url(&installer, flow, app_id, &redirect, &state);

    let action = if flow == Flow::Advanced {
        "approve the app"
    } else {
        "install the app on a site"
    };
    io.note(&format!(
        "Open this URL in a browser to {action}:\n  {install_url}"
    ));
    if opts.no_browser {
        io.note("(--no-browser: open it yourself; wixauth is waiting for the redirect back.)");
    } else {
        match browser::open(&install_url) {
            Launch::Opened(how) => crate::debug!("opened the URL with {how}"),
            Launch::Skipped(why) | Launch::Failed(why) => {
                io.note(&format!("Not opening a browser: {why}. Open the URL above on a machine that can reach {redirect}; wixauth keeps waiting."))
            }
        }
    }

    let deadline = Instant::now() + Duration::from_secs(opts.timeout);
    let mut spinner = Spinner::new(io.stderr_tty, redirect.as_str());
    let session = Session {
        flow,
        app_id,
        secret,
        wix: &wix,
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
                opts.timeout
            )));
        }
        spinner.tick(&mut io.err, left);
        let Some(request) = listener.next(Duration::from_millis(100)) else {
            continue;
        };
        match session.handle(request, opts, store) {
            Step::Wait => {}
            Step::Done(outcome) => break outcome,
        }
    };
    spinner.clear(&mut io.err);
    // Whatever else is queued gets an answer instead of a hung tab.
    for request in listener.drain() {
        listener::respond_html(
            request,
            410,
            pages::failure(
                "This login has already ended.",
                "Run `wixauth login` again to start a new one.",
            ),
        );
    }
    result
}

enum Step {
    Wait,
    Done(Result<Authorised>),
}

struct Session<'a> {
    flow: Flow,
    app_id: &'a str,
    secret: &'a Secret,
    wix: &'a wix::WixClient,
    state: &'a str,
    redirect: &'a Url,
    install_url: &'a str,
}

impl Session<'_> {
    fn handle(
        &self,
        request: Request,
        opts: &LoginOptions,
        store: &mut dyn FnMut(&Authorised) -> Result<()>,
    ) -> Step {
        let target = request.target().to_string();
        let (path, query) = listener::split_target(&target);
        crate::debug!(
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
        let callback_path = match self.flow {
            Flow::Advanced => self.redirect.path(),
            Flow::Basic => INSTALLED_PATH,
        };
        if path == callback_path {
            return self.callback(request, query, opts, store);
        }
        if path == APP_URL_PATH && self.flow == Flow::Advanced {
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
                let mut url = Url::parse(self.install_url).expect("installer URL was built from a valid URL");
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
        opts: &LoginOptions,
        store: &mut dyn FnMut(&Authorised) -> Result<()>,
    ) -> Step {
        let started = Instant::now();
        let expect = if self.flow == Flow::Advanced {
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
                let grant = match self.wix.exchange_code(self.app_id, self.secret, &code) {
                    Ok(grant) => grant,
                    Err(e) => return fail(request, 502, e),
                };
                let Some(refresh_token) = grant.refresh_token.clone() else {
                    return fail(request, 502, Error::unavailable("Wix returned no refresh token for the code: run `wixauth login` again"));
                };
                Authorised { instance_id, grant, refresh_token: Some(refresh_token) }
            }
            Callback::Installed { instance_id } => match self.wix.create_access_token(self.app_id, self.secret, &instance_id) {
                Ok(grant) => Authorised { instance_id, grant, refresh_token: None },
                Err(e) => return fail(request, 502, e),
            },
        };
        if let Err(e) = store(&authorised) {
            return fail(request, 500, e);
        }
        crate::debug!(
            "callback to tokens stored in {} ms",
            started.elapsed().as_millis()
        );
        if self.flow == Flow::Advanced && !opts.no_close_window {
            if let Ok(installer) =
                crate::wix::base_url("WIXAUTH_INSTALLER_BASE", wix::DEFAULT_INSTALLER_BASE)
            {
                let mut close = Url::parse(&wix::join(&installer, "installer/close-window"))
                    .unwrap_or(installer);
                close
                    .query_pairs_mut()
                    .append_pair("access_token", authorised.grant.access_token.expose());
                listener::respond_redirect(request, close.as_str());
                return Step::Done(Ok(authorised));
            }
        }
        listener::respond_html(
            request,
            200,
            pages::success(self.app_id, &authorised.instance_id),
        );
        Step::Done(Ok(authorised))
    }
}

/// Ctrl-C sets a flag the wait loop polls, so the listener closes and we exit 130.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let setter = flag.clone();
    if let Err(e) = ctrlc::set_handler(move || setter.store(true, Ordering::SeqCst)) {
        crate::debug!("cannot catch Ctrl-C: {e}");
    }
    flag
}

/// A one-line spinner on stderr, only when it is a terminal.
struct Spinner {
    enabled: bool,
    what: String,
    frame: usize,
}

impl Spinner {
    fn new(enabled: bool, waiting_for: &str) -> Self {
        Spinner {
            enabled,
            what: waiting_for.to_string(),
            frame: 0,
        }
    }

    fn tick(&mut self, err: &mut dyn Write, left: Duration) {
        if !self.enabled {
            return;
        }
        const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
        self.frame = (self.frame + 1) % FRAMES.len();
        let secs = left.as_secs();
        let _ = write!(
            err,
            "\r\x1b[2K{} Waiting for the browser to come back to {} ({}:{:02} left, Ctrl-C to cancel)",
            FRAMES[self.frame],
            self.what,
            secs / 60,
            secs % 60
        );
        let _ = err.flush();
    }

    fn clear(&self, err: &mut dyn Write) {
        if self.enabled {
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installer_urls() {
        let installer = Url::parse("https://www.wix.com").unwrap();
        let redirect = Url::parse("http://localhost:8338/callback").unwrap();
        let advanced = Url::parse(&installer_url(
            &installer,
            Flow::Advanced,
            "app",
            &redirect,
            "st",
        ))
        .unwrap();
        assert_eq!(advanced.path(), "/installer/install");
        let q: Vec<(String, String)> = advanced.query_pairs().into_owned().collect();
        assert_eq!(
            q,
            vec![
                ("appId".into(), "app".into()),
                ("redirectUrl".into(), redirect.to_string()),
                ("state".into(), "st".into())
            ]
        );

        let basic = Url::parse(&installer_url(
            &installer,
            Flow::Basic,
            "app",
            &redirect,
            "st",
        ))
        .unwrap();
        assert_eq!(basic.path(), "/app-installer");
        let post = basic
            .query_pairs()
            .find(|(k, _)| k == "postInstallationUrl")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(post, "http://localhost:8338/installed?state=st");
    }
}
