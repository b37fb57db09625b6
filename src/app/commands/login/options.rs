//! What every `login` shares: its options, the secret (app secret, client secret or API key)
//! read from stdin, the environment, a dotenv file, the store or a hidden prompt, asking again
//! when Wix turns a stored one down, the question before a profile switches kind, and where
//! the secrets went.

use std::path::PathBuf;

use crate::app::cli::LoginArgs;
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Fix, Result};
use crate::core::secret::Secret;
use crate::core::text::{is_wix_id, printable};
use crate::credentials::store::SecretKey;
use crate::settings::config::{Profile, StoreKind};
use crate::settings::flow::{Held, Kind};
use crate::settings::Flow;
use crate::ui::Io;

/// The longest secret `--secret-stdin` reads (Wix's are UUIDs; API keys are longer JWT-likes).
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
    pub site_id: Option<String>,
    pub account_id: Option<String>,
    pub check: Option<String>,
    /// `--env-file` (`Some(None)`: the default search).
    pub env_file: Option<Option<PathBuf>>,
    /// What `--env-file` gave, once it is read.
    pub from_file: Option<FromFile>,
}

/// A dotenv file's part in a login.
#[derive(Clone, Debug)]
pub(crate) struct FromFile {
    /// As the user named it (or the default found).
    pub path: String,
    /// The variables its values stand in for (`WIX_APP_SECRET` for a `WIX_CLIENT_SECRET` read
    /// as an app's).
    pub gave: Vec<&'static str>,
    /// Its Wix keys the flow does not use.
    pub unused: Vec<&'static str>,
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
            site_id: given(&a.site_id),
            account_id: given(&a.account_id),
            check: given(&a.check),
            env_file: a.env_file.clone(),
            from_file: None,
        }
    }
}

impl LoginOptions {
    /// The dotenv file gave `key`.
    pub(crate) fn file_gave(&self, key: &str) -> Option<&str> {
        self.from_file
            .as_ref()
            .filter(|f| f.gave.contains(&key))
            .map(|f| f.path.as_str())
    }

    /// Flags that belong to other flows than `flow`: a usage error naming them.
    pub(crate) fn refuse_flags_of_other_flows(&self, flow: Flow) -> Result<()> {
        let flags = [
            ("--app-id", self.app_id.is_some(), Kind::App),
            ("--client-id", self.client_id.is_some(), Kind::Headless),
            ("--site-id", self.site_id.is_some(), Kind::ApiKey),
            ("--account-id", self.account_id.is_some(), Kind::ApiKey),
            ("--check", self.check.is_some(), Kind::ApiKey),
        ];
        let wrong: Vec<&str> = flags
            .iter()
            .filter(|(_, given, kind)| *given && *kind != flow.kind())
            .map(|(flag, _, _)| *flag)
            .collect();
        if wrong.is_empty() {
            return Ok(());
        }
        Err(Error::usage(format!(
            "{} {} not for the {flow} flow",
            wrong.join(", "),
            if wrong.len() == 1 { "is" } else { "are" }
        ))
        .hint("drop them, or pass the --flow they belong to"))
    }
}

impl LoginOptions {
    /// `--prompt` and `--redirect-url` belong to browser logins: a usage error for `flow`,
    /// which has none (admin, api-key).
    pub(crate) fn refuse_browser_flags(&self, flow: Flow) -> Result<()> {
        match self.prompt.is_some() || self.redirect_url.is_some() {
            true => Err(Error::usage(format!(
                "--prompt and --redirect-url are for browser logins, not the {flow} flow"
            ))),
            false => Ok(()),
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

/// Where a login's secret came from: a stored one Wix turns down may have been rotated, and
/// is asked for again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretFrom {
    Stdin,
    Env,
    /// A dotenv file (`--env-file`), by its path.
    File(String),
    Stored,
    Typed,
}

/// "App secret", "API key": the noun for the start of a prompt.
fn capitalised(noun: &str) -> String {
    let mut chars = noun.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The login's secret of kind `held`: `--secret-stdin`, else its `WIX_*` variable (or the
/// dotenv file's), else what `stored` reads (the profile's, for the same app or client), else
/// a hidden prompt on a terminal. Never an argument.
pub(crate) fn login_secret(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    held: Held,
    stored: impl FnOnce() -> Result<Option<Secret>>,
) -> Result<(Secret, SecretFrom)> {
    if opts.secret_stdin {
        return Ok((secret_from_stdin(io, held.noun())?, SecretFrom::Stdin));
    }
    let from_env = match held {
        Held::AppSecret => &ctx.env.app_secret,
        Held::ClientSecret => &ctx.env.client_secret,
        Held::ApiKey => &ctx.env.api_key,
        Held::RefreshToken => &ctx.env.refresh_token,
    };
    if let Some(secret) = from_env {
        let from = match opts.file_gave(held.variable()) {
            Some(path) => SecretFrom::File(path.to_string()),
            None => SecretFrom::Env,
        };
        return Ok((secret.clone(), from));
    }
    if let Some(secret) = stored()? {
        return Ok((secret, SecretFrom::Stored));
    }
    if io.can_prompt() {
        let secret = io
            .prompter
            .secret(&format!("{} (hidden)", capitalised(held.noun())))?;
        if !secret.is_empty() {
            return Ok((secret, SecretFrom::Typed));
        }
    }
    Err(Error::usage(format!("no {}", held.noun())).hint(format!(
        "pipe it with --secret-stdin or set {} (it is never accepted as an argument)",
        held.variable()
    )))
}

/// The profile's stored secret under `key`, read only for the API base it was stored for.
pub(crate) fn stored_secret(
    ctx: &Context,
    profile: &Profile,
    keys: &[SecretKey],
) -> Result<Option<Secret>> {
    ctx.session().stored_base_matches()?;
    for key in keys {
        if let Some((secret, _)) = ctx.secrets().get(key, profile.secret_store)? {
            return Ok(Some(secret));
        }
    }
    Ok(None)
}

/// Wix turned the login's secret down (`e`). A stored one may have been rotated: on a
/// terminal the current one is asked for (and returned, to try again); without one, the error
/// names `--secret-stdin`. Any other source gets the one thing to check.
pub(crate) fn ask_again(
    e: Error,
    from: &SecretFrom,
    held: Held,
    rotated_in: &str,
    login: Cmd,
    io: &mut Io,
) -> Result<(Secret, SecretFrom)> {
    let noun = held.noun();
    let place = held.place();
    let e = match from {
        SecretFrom::Stored if io.can_prompt() => {
            io.note(&format!(
                "Wix rejected the stored {noun} ({}); it may have been rotated in {rotated_in}.",
                e.what()
            ));
            let typed = io.prompter.secret(&format!("Current {noun} (hidden)"))?;
            if !typed.is_empty() {
                return Ok((typed, SecretFrom::Typed));
            }
            return Err(Error::usage(format!("no {noun} was typed")).run(login));
        }
        SecretFrom::Stored => Error::rejected(format!(
            "{}: the stored {noun} no longer works (rotated in {rotated_in}?)",
            e.what()
        ))
        .fix(Fix::Pipe(
            format!("the current {noun}"),
            login.arg("--secret-stdin"),
        )),
        SecretFrom::Env => e.hint(format!("check {} ({place})", held.variable())),
        SecretFrom::File(path) => e.hint(format!(
            "check {} in {} ({place})",
            held.variable(),
            printable(path, 200)
        )),
        SecretFrom::Stdin => e.fix(Fix::Pipe(
            format!("the {noun} from {place}"),
            login.arg("--secret-stdin"),
        )),
        SecretFrom::Typed => {
            Error::rejected(format!("{} (check the {noun} on {place})", e.what())).run(login)
        }
    };
    Err(e)
}

/// The Wix Headless client id: `--client-id`, `WIX_CLIENT_ID` (or the dotenv file's), the
/// profile's, or typed on a terminal; it must look like a Wix id.
pub(crate) fn client_id(
    opts: &LoginOptions,
    ctx: &Context,
    profile: &Profile,
    io: &mut Io,
) -> Result<String> {
    let mut id = opts
        .client_id
        .clone()
        .or_else(|| ctx.env.client_id.clone())
        .or_else(|| profile.client_id.clone());
    if id.is_none() && io.can_prompt() {
        io.note("The client ID is in the site dashboard: Headless Settings → OAuth apps.");
        let typed = io.prompter.text("Client ID")?;
        id = Some(typed).filter(|t| !t.is_empty());
    }
    let Some(id) = id else {
        return Err(Error::usage("no client id").hint(
            "pass --client-id ID or set WIX_CLIENT_ID (the OAuth app's client id in the site dashboard's Headless Settings)",
        ));
    };
    if !is_wix_id(&id) {
        return Err(Error::usage(format!(
            "client id {:?} does not look like a Wix OAuth client id (letters, digits and dashes)",
            printable(&id, 80)
        ))
        .hint("check --client-id or WIX_CLIENT_ID"));
    }
    Ok(id)
}

/// The kind a profile holds now, when a login of `to` would replace it (an empty profile
/// holds nothing).
pub(crate) fn switching(profile: &Profile, to: Kind) -> Option<Kind> {
    let holds_something =
        profile.flow.is_some() || profile.app_id.is_some() || profile.client_id.is_some();
    Some(profile.kind()).filter(|k| holds_something && *k != to)
}

/// A profile switches between an app, a Headless client and an API key only when the
/// person says so: on a TTY by answering, without one by `--force`.
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

/// Asks before `profile` switches to `to` (see [`confirm_switch`]), when it holds another kind.
pub(crate) fn confirm_kind(
    opts: &LoginOptions,
    ctx: &Context,
    io: &mut Io,
    profile: &Profile,
    to: Kind,
) -> Result<()> {
    match switching(profile, to) {
        Some(from) => confirm_switch(opts, ctx, io, from.noun(), to.noun()),
        None => Ok(()),
    }
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
