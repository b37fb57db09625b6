//! Answering what reaches the listener during one login: the redirect with its code (or the
//! installed instance), Wix's App URL, and everything else.

use std::cell::Cell;
use std::time::Instant;

use url::Url;

use super::callback::{self, Callback, Expect};
use super::listener::{self, Request};
use super::login::{login_again, Authorised, BrowserLogin, Store};
use super::member::redirect_hint;
use super::pages;
use crate::core::error::{Cmd, Error, Invocation, Rejected, Result};
use crate::core::log::{debug, Notes};
use crate::core::secret::Secret;
use crate::core::text::printable;
use crate::settings::flow::Held;
use crate::settings::Flow;
use crate::wix::headless::require_refresh;
use crate::wix::urls::INSTALLED_PATH;
use crate::wix::WixClient;

/// The App URL path: an install started inside Wix lands here with Wix's `token`.
const APP_URL_PATH: &str = "/app";

/// Ends the login with `error`, after a failure page with the same what and next step.
fn fail(request: Request, status: u16, error: Error, how: &Invocation) -> Step {
    listener::respond_html(request, status, pages::error(&error, how));
    Step::Done(Err(error))
}

pub(super) enum Step {
    Wait,
    Done(Result<Authorised>),
}

/// Answers the requests that reach the listener during one login.
pub(super) struct Callbacks<'a> {
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

/// Asks the person at the terminal a yes/no question; `None` when there is no terminal.
pub(super) type Ask<'s> = dyn FnMut(&str) -> Result<Option<bool>> + 's;

impl<'a> Callbacks<'a> {
    pub(super) fn new(
        login: &'a BrowserLogin<'a>,
        state: &'a str,
        redirect: &'a Url,
        install_url: &'a Url,
        verifier: Option<&'a Secret>,
        notes: &'a Notes,
    ) -> Self {
        Callbacks {
            login,
            state,
            redirect,
            install_url,
            verifier,
            notes,
            app_forwarded: Cell::new(false),
            warned_bad_state: Cell::new(false),
        }
    }
}

impl Callbacks<'_> {
    pub(super) fn handle(
        &self,
        request: Request,
        store: &mut Store<'_>,
        ask: &mut Ask<'_>,
    ) -> Step {
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
            Flow::Advanced | Flow::Member | Flow::Visitor | Flow::Admin | Flow::ApiKey => {
                self.redirect.path()
            }
            Flow::Basic => INSTALLED_PATH,
        };
        if path == callback_path {
            return self.callback(request, query, store);
        }
        if path == APP_URL_PATH && self.login.flow == Flow::Advanced {
            return self.app_url(request, query, ask);
        }
        listener::respond_html(request, 404, pages::not_found());
        Step::Wait
    }

    /// The App URL: forward Wix's `token` to the installer with our app id, redirect URL and state.
    fn app_url(&self, request: Request, query: &str, ask: &mut Ask<'_>) -> Step {
        let token = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned());
        match token {
            Some(_) if self.app_forwarded.get() => listener::respond_html(
                request,
                409,
                pages::still_waiting(
                    "This login was already forwarded to Wix's installer once; wixauth forwards only the first request, so its state is not handed to whoever asks.",
                    "Finish the install in the tab that was forwarded first, or run `wixauth login` again in the terminal.",
                ),
            ),
            Some(token) => match self.confirm_app_url(ask) {
                Ok(true) => {
                    self.app_forwarded.set(true);
                    let mut url = self.install_url.clone();
                    url.query_pairs_mut().append_pair("token", &token);
                    listener::respond_redirect(request, url.as_str());
                }
                Ok(false) => listener::respond_html(
                    request,
                    403,
                    pages::still_waiting(
                        "wixauth did not forward this App URL request: it was not confirmed in the terminal that started the login.",
                        "If you started an install inside Wix, confirm it in the terminal (or run `wixauth login --accept-app-url`); otherwise nothing is needed.",
                    ),
                ),
                Err(e) => return fail(request, 500, e, self.login.how),
            },
            None => listener::respond_html(
                request,
                400,
                pages::still_waiting("This is wixauth's App URL, but Wix's token is missing.", "Start the install from Wix, or open the installer URL printed in the terminal."),
            ),
        }
        Step::Wait
    }

    /// A Wix-initiated `/app` hands out this login's `state`, and anyone on the machine can
    /// call it: only a person at the login's terminal (or `--accept-app-url`) lets it through.
    fn confirm_app_url(&self, ask: &mut Ask<'_>) -> Result<bool> {
        if self.login.accept_app_url {
            return Ok(true);
        }
        let question = "Wix opened the App URL (an install started inside Wix). Send that browser on to Wix's installer to approve the app?";
        match ask(question)? {
            Some(answer) => Ok(answer),
            None => {
                self.notes.warn("refused a request to the App URL: without a terminal to confirm it, only `wixauth login --accept-app-url` forwards it");
                Ok(false)
            }
        }
    }

    fn callback(&self, request: Request, query: &str, store: &mut Store<'_>) -> Step {
        let started = Instant::now();
        let login = self.login;
        let outcome = match login.flow {
            Flow::Member => self.member_tokens(query),
            Flow::Basic | Flow::Advanced | Flow::Visitor | Flow::Admin | Flow::ApiKey => {
                self.app_tokens(query)
            }
        };
        let authorised = match outcome {
            Ok(authorised) => authorised,
            Err(Refused::BadState) => return self.bad_state(request),
            Err(Refused::Failed(status, e)) => return fail(request, status, e, login.how),
        };
        let label = match store(&authorised) {
            Ok(label) => label,
            Err(e) => return fail(request, 500, e, login.how),
        };
        debug!(
            "callback to tokens stored in {} ms",
            started.elapsed().as_millis()
        );
        let page = match login.flow {
            Flow::Member => pages::member_success(login.app_id, &label),
            Flow::Advanced if login.close_window => {
                let mut close = Url::parse(&crate::core::net::join(
                    login.installer,
                    "installer/close-window",
                ))
                .unwrap_or_else(|_| login.installer.clone());
                close
                    .query_pairs_mut()
                    .append_pair("access_token", authorised.grant.access_token.expose());
                listener::respond_redirect(request, close.as_str());
                return Step::Done(Ok(authorised));
            }
            Flow::Basic | Flow::Advanced | Flow::Visitor | Flow::Admin | Flow::ApiKey => {
                pages::success(
                    login.app_id,
                    authorised.instance_id.as_deref().unwrap_or_default(),
                    &label,
                )
            }
        };
        listener::respond_html(request, 200, page);
        Step::Done(Ok(authorised))
    }

    /// An app's redirect: the code exchanged (advanced), or the installed instance's first
    /// token (basic), checked against what Wix says the token is for.
    fn app_tokens(&self, query: &str) -> Result<Authorised, Refused> {
        let login = self.login;
        let again = || login_again(login.flow);
        let failed = |status, e: Error| Refused::Failed(status, e);
        // App logins always carry the secret; only the member flow has none.
        let secret = login.secret.ok_or_else(|| {
            failed(
                500,
                Error::failure("the login has no app secret").run(again()),
            )
        })?;
        let expect = match login.flow {
            Flow::Basic => Expect::Installed,
            Flow::Advanced | Flow::Member | Flow::Visitor | Flow::Admin | Flow::ApiKey => {
                Expect::Code
            }
        };
        match callback::parse_callback(query, self.state, expect) {
            Callback::BadState => Err(Refused::BadState),
            Callback::Denied(why) => Err(failed(
                403,
                Error::login_aborted(format!(
                    "the install was not approved in the browser ({why})"
                ))
                .run(again()),
            )),
            Callback::Failed(why) => Err(failed(
                400,
                Error::rejected(format!("Wix reported a problem with the install ({why})"))
                    .run(again()),
            )),
            Callback::Code { code, instance_id } => {
                let instance_id = instance_id.ok_or_else(|| {
                    failed(
                        400,
                        Error::rejected("Wix's redirect carried no instanceId").run(again()),
                    )
                })?;
                let grant = login
                    .wix
                    .exchange_code(login.app_id, secret, &code)
                    .map_err(|e| failed(502, code_refused(e, login.flow)))?;
                let refresh_token = grant.refresh_token.clone().ok_or_else(|| {
                    failed(
                        502,
                        Error::unavailable("Wix returned no refresh token for the code")
                            .run(again()),
                    )
                })?;
                // The instance is the one Wix ties to the new token, never the redirect's word alone:
                // a forged redirect could name a site the user did not approve.
                let instance_id = confirmed_instance(login.wix, &grant.access_token, &instance_id)
                    .map_err(|e| failed(400, e.run(again())))?;
                Ok(Authorised {
                    instance_id: Some(instance_id),
                    grant,
                    refresh_token: Some(refresh_token),
                })
            }
            Callback::Installed { instance_id } => {
                let grant = login
                    .wix
                    .create_access_token(login.app_id, secret, &instance_id)
                    .map_err(|e| failed(502, installed_but_refused(e, &instance_id)))?;
                Ok(Authorised {
                    instance_id: Some(instance_id),
                    grant,
                    refresh_token: None,
                })
            }
        }
    }

    /// The member login's redirect: `code` and `state` (or `error`), then the PKCE exchange.
    fn member_tokens(&self, query: &str) -> Result<Authorised, Refused> {
        let login = self.login;
        let again = || login_again(Flow::Member);
        let failed = |status, e: Error| Refused::Failed(status, e);
        let code = match callback::parse_callback(query, self.state, Expect::Code) {
            Callback::BadState => return Err(Refused::BadState),
            Callback::Denied(why) => {
                return Err(failed(
                    403,
                    Error::login_aborted(format!(
                        "the member login was cancelled in the browser ({why})"
                    ))
                    .run(again()),
                ))
            }
            Callback::Failed(why) => {
                return Err(failed(
                    400,
                    Error::rejected(format!(
                        "Wix reported a problem with the member login ({why}){}",
                        redirect_hint(login.redirect_url)
                    ))
                    .run(again()),
                ))
            }
            Callback::Code { code, .. } => code,
            Callback::Installed { .. } => {
                return Err(failed(
                    500,
                    Error::failure("the member login got an install callback").run(again()),
                ))
            }
        };
        let verifier = self.verifier.ok_or_else(|| {
            failed(
                500,
                Error::failure("the member login lost its PKCE verifier").run(again()),
            )
        })?;
        let grant = login
            .wix
            .member_code(login.app_id, login.redirect_url, &code, verifier)
            .map_err(|e| failed(502, code_refused(e, Flow::Member)))?;
        let refresh_token =
            require_refresh(&grant, "the member login").map_err(|e| failed(502, e))?;
        Ok(Authorised {
            instance_id: None,
            grant,
            refresh_token: Some(refresh_token),
        })
    }
}

/// Why a redirect did not end the login well.
enum Refused {
    /// Not this login's: the login goes on.
    BadState,
    /// It failed: the page's status and the error.
    Failed(u16, Error),
}

/// A code Wix would not exchange: it expires after 10 minutes and works once.
fn code_refused(e: Error, flow: Flow) -> Error {
    match e.exit {
        crate::core::error::Exit::Rejected => Error::rejected(format!(
            "{} (the code may have expired or been used already)",
            e.what()
        ))
        .run(login_again(flow)),
        _ => e,
    }
}

/// Wix installed the app, then refused the secret (or the instance): what Wix gave is kept in
/// the next step, so the install need not be done again.
fn installed_but_refused(e: Error, instance_id: &str) -> Error {
    // Which credential Wix turned down, named: the next step is taken by the instance.
    let place = Held::AppSecret.place();
    let which = match e.rejection() {
        Some(Rejected::Secret) => format!(
            " (the {} is wrong: check it on {place})",
            Held::AppSecret.noun()
        ),
        Some(Rejected::Client) => format!(" (the app id is wrong: check it on {place})"),
        _ => String::new(),
    };
    if e.exit != crate::core::error::Exit::Rejected {
        return e;
    }
    let kept = Error::rejected(format!(
        "Wix installed the app on instance {instance_id}, then: {}{which}",
        e.what()
    ))
    .run(Cmd::login().arg("--instance").arg(instance_id));
    match e.rejection() {
        Some(turned_down) => kept.turned_down(turned_down),
        None => kept,
    }
}

impl Callbacks<'_> {
    /// A redirect whose `state` is missing or wrong: any web page can make the browser send
    /// one, so it gets a calm page and the login goes on waiting.
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
            "Wix's Token Info named no instance for the new token, so nothing was stored",
        ));
    };
    if reported != claimed {
        return Err(Error::rejected(format!(
            "the redirect named instance {:?} but Wix issued the token for instance {:?}, so nothing was stored (another page or program may have tried to steer the login)",
            printable(claimed, 80),
            printable(reported, 80)
        )));
    }
    Ok(reported.to_string())
}
