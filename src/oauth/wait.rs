//! The login's wait: listen, show the URL (and hand the browser a private file that forwards
//! it), then answer each request until the right redirect, the timeout or Ctrl-C.

use std::time::{Duration, Instant};

use url::Url;

use super::callbacks::{Ask, Callbacks, Step};
use super::listener::Listener;
use super::login::{login_again, parse_redirect, Authorised, BrowserLogin, Store};
use super::member::{member_login_url, redirect_hint};
use super::{callback, pkce};
use crate::core::error::{Error, Result};
use crate::core::log::{debug, Notes};
use crate::core::secret::Secret;
use crate::settings::Flow;
use crate::ui::browser::Forwarder;
use crate::ui::interrupt::{self, OnInterrupt};
use crate::ui::spinner::{self, Spinner};
use crate::ui::{Io, Launch};
use crate::wix::urls;

/// Runs the browser login. `store` is called with the result before the browser is
/// answered, so a success page is only ever shown for credentials that were saved.
pub(crate) fn run(
    login: &BrowserLogin<'_>,
    io: &mut Io,
    notes: &Notes,
    store: &mut Store<'_>,
) -> Result<Authorised> {
    let redirect = parse_redirect(login.redirect_url)?;
    // Catch Ctrl-C before the URL is printed: a person may press it the moment they see it,
    // and an uncaught SIGINT would kill the process instead of exiting 130.
    interrupt::on_interrupt(OnInterrupt::Flag);
    let listener = Listener::bind(&redirect)?;
    let state = callback::new_state()?;
    let (install_url, verifier) = start_url(login, io, &state)?;
    // Kept until the login ends: the browser may read it late.
    let _forwarder = show_and_open(login, io, &install_url, &redirect)?;
    let session = Callbacks::new(
        login,
        &state,
        &redirect,
        &install_url,
        verifier.as_ref(),
        notes,
    );
    let result = wait(login, io, notes, &listener, &session, store, &redirect);
    // Whatever else is queued is answered "this login has already ended" when `listener`
    // drops (listener::Request's Drop), instead of a hung tab.
    result
}

/// The page the login starts on: Wix's installer (apps), or Wix's member login page with a
/// PKCE challenge (its verifier returned for the code exchange).
fn start_url(login: &BrowserLogin<'_>, io: &mut Io, state: &str) -> Result<(Url, Option<Secret>)> {
    match login.flow {
        Flow::Member => {
            let pkce = pkce::Pkce::new()?;
            let url = member_login_url(login, state, &pkce.challenge)?;
            io.note(&format!(
                "The redirect URI {:?} must be listed exactly under the client's allowed authorization redirect URIs; if Wix's page says \"Invalid redirect URI\", add it there.",
                login.redirect_url
            ));
            Ok((url, Some(pkce.verifier)))
        }
        Flow::Basic | Flow::Advanced | Flow::Visitor | Flow::Admin | Flow::ApiKey => {
            let url = urls::installer_url(
                login.installer,
                login.flow,
                login.app_id,
                login.redirect_url,
                Some(state),
            )?;
            Ok((url, None))
        }
    }
}

/// Prints the URL (the terminal is the user's own), then opens the browser on a private local
/// file that forwards it: the URL carries `state`, and a launcher's arguments are readable by
/// every user of the machine (`/proc/<pid>/cmdline`).
fn show_and_open(
    login: &BrowserLogin<'_>,
    io: &mut Io,
    url: &Url,
    redirect: &Url,
) -> Result<Option<Forwarder>> {
    let action = match login.flow {
        Flow::Advanced => "approve the app",
        Flow::Member => "log in as a site member",
        Flow::Basic | Flow::Visitor | Flow::Admin | Flow::ApiKey => "install the app on a site",
    };
    io.note(&format!("Open this URL in a browser to {action}:\n  {url}"));
    if !login.open_browser {
        io.note("(--no-browser: open it yourself; wixauth is waiting for the redirect back.)");
        return Ok(None);
    }
    let forwarder = Forwarder::new(url)?;
    match io.browser.open(&forwarder.path().to_string_lossy()) {
        Launch::Opened(how) => debug!("opened the login page with {how}"),
        Launch::Skipped(why) | Launch::Failed(why) => {
            io.note(&format!("Not opening a browser: {why}. Open the URL above on a machine that can reach {redirect}; wixauth keeps waiting."))
        }
    }
    Ok(Some(forwarder))
}

/// Answers requests until one ends the login, the timeout passes or Ctrl-C.
fn wait(
    login: &BrowserLogin<'_>,
    io: &mut Io,
    notes: &Notes,
    listener: &Listener,
    session: &Callbacks<'_>,
    store: &mut Store<'_>,
    redirect: &Url,
) -> Result<Authorised> {
    let deadline = Instant::now() + login.timeout;
    let width = match io.stderr_tty {
        true => spinner::terminal_width(),
        false => 80,
    };
    let mut spinner = Spinner::new(io.stderr_tty, redirect.as_str(), width);
    let result = loop {
        if interrupt::interrupted() {
            break Err(Error::interrupted());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(timed_out(login));
        }
        spinner.tick(&mut io.err, left);
        let Some(request) = listener.next(Duration::from_millis(100)) else {
            continue;
        };
        let step = {
            let mut ask = |question: &str| -> Result<Option<bool>> {
                if !io.can_prompt() {
                    return Ok(None);
                }
                spinner.clear(&mut io.err);
                let answer = io.prompter.select(question, &["no", "yes"], 0)?;
                Ok(Some(answer == 1))
            };
            let ask: &mut Ask<'_> = &mut ask;
            session.handle(request, store, ask)
        };
        if let Step::Done(outcome) = step {
            break outcome;
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
    result
}

/// No answer within `--timeout`: the likely cause for the flow, and the login again with a
/// longer wait.
fn timed_out(login: &BrowserLogin<'_>) -> Error {
    let hint = match login.flow {
        Flow::Member => redirect_hint(login.redirect_url),
        Flow::Advanced => format!(
            " (if Wix showed 'Invalid redirect URL', register exactly {} as a Redirect URL in the app dashboard's OAuth page)",
            login.redirect_url
        ),
        Flow::Basic | Flow::Visitor | Flow::Admin | Flow::ApiKey => String::new(),
    };
    let seconds = login.timeout.as_secs();
    Error::login_aborted(format!(
        "no answer from the browser within {seconds} s{hint}"
    ))
    .run(
        login_again(login.flow)
            .arg("--timeout")
            .arg(seconds.saturating_mul(2).max(60).to_string()),
    )
}
