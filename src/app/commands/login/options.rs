//! What every `login` shares: its options, the secret read from stdin or a hidden prompt, the
//! question before a profile switches kind, and where the secrets went.

use crate::app::cli::LoginArgs;
use crate::app::context::Context;
use crate::core::error::{Error, Result};
use crate::core::secret::Secret;
use crate::settings::config::{Profile, StoreKind};
use crate::settings::Flow;
use crate::ui::Io;

/// The longest secret `--secret-stdin` reads (Wix's are UUIDs).
const MAX_SECRET_LINE: usize = 4096;

#[derive(Clone)]
pub(crate) struct LoginOptions {
    pub flow: Option<Flow>,
    pub app_id: Option<String>,
    pub client_id: Option<String>,
    pub prompt: Option<&'static str>,
    pub force: bool,
    pub instance_id: Option<String>,
    pub secret_stdin: bool,
    pub redirect_url: Option<String>,
    pub no_browser: bool,
    pub no_close_window: bool,
    pub accept_app_url: bool,
    pub timeout: u64,
    pub json: bool,
}

impl From<&LoginArgs> for LoginOptions {
    fn from(a: &LoginArgs) -> Self {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        LoginOptions {
            flow: a.flow.map(Flow::from),
            app_id: given(&a.app_id),
            client_id: given(&a.client_id),
            prompt: a.prompt.map(|p| p.as_str()),
            force: a.force,
            instance_id: given(&a.instance_id),
            secret_stdin: a.secret_stdin,
            redirect_url: given(&a.redirect_url),
            no_browser: a.no_browser,
            no_close_window: a.no_close_window,
            accept_app_url: a.accept_app_url,
            timeout: a.timeout,
            json: a.json,
        }
    }
}

/// What the dispatcher hands a login: the options, the flow it chose, the profile as it was.
pub(crate) struct Chosen<'a> {
    pub opts: &'a LoginOptions,
    pub flow: Flow,
    pub profile: &'a Profile,
}

/// The first line of stdin for `--secret-stdin`: never empty, never echoed in an error.
pub(crate) fn secret_from_stdin(io: &mut Io, what: &str) -> Result<Secret> {
    let secret = io.read_secret_line(MAX_SECRET_LINE, "--secret-stdin")?;
    if secret.is_empty() {
        return Err(Error::usage("--secret-stdin read an empty line")
            .hint(format!("pipe the {what} into wixauth login")));
    }
    Ok(secret)
}

/// A profile switches between an app and a Headless client only when the person says so:
/// on a TTY by answering, without one by `--force`.
pub(crate) fn confirm_switch(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    from: &str,
    to: &str,
) -> Result<()> {
    if opts.force {
        return Ok(());
    }
    let question = format!(
        "Profile {} holds {from}. Switch it to {to}? Its stored secrets and cached tokens are removed.",
        ctx.profile
    );
    if io.can_prompt() {
        let answer = io
            .prompter
            .select(&question, &["no, keep it", "yes, switch"], 0)?;
        if answer == 1 {
            return Ok(());
        }
        return Err(
            Error::usage(format!("profile {} was kept as it is", ctx.profile))
                .hint(format!("use --profile NAME to log in to {to} beside it")),
        );
    }
    Err(
        Error::usage(format!("profile {} holds {from}", ctx.profile)).hint(format!(
        "pass --force to switch it to {to} (its stored secrets are removed), or use --profile NAME"
    )),
    )
}

/// Where a login put its secrets, for a person ("the OS keyring" / "the plain-text file …"),
/// and the file's path (JSON's `secrets_file`).
pub(crate) fn stored_where(ctx: &Context, stored_in: StoreKind) -> (String, String) {
    let secrets_file = ctx.secrets().file_path().display().to_string();
    let location = match stored_in {
        StoreKind::Keyring => "the OS keyring".to_string(),
        StoreKind::File => format!("the plain-text file {secrets_file} (mode 0600)"),
    };
    (location, secrets_file)
}
