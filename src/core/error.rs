//! One error type for the whole tool: what failed, the one next step, and the contract's exit
//! code. The next step is a field chosen where the cause is known, never text to search for:
//! the terminal line, the browser page, `status` and `doctor` each render the same fields.

use std::fmt;
use std::process::ExitCode;

/// The exit codes of the CLI contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Success = 0,
    Failure = 1,
    /// Usage or configuration error: bad flag, missing credential, nothing logged in.
    Usage = 2,
    /// Wix rejected the credentials.
    Rejected = 3,
    /// Wix or the network failed after bounded retries.
    Unavailable = 4,
    /// The browser login timed out or the user denied it.
    LoginAborted = 5,
    /// `exec`: the command exists but cannot be run (as shells report it).
    CannotExecute = 126,
    /// `exec`: no such command (as shells report it).
    CommandNotFound = 127,
    Interrupted = 130,
    /// stdout was closed by its reader (128 + SIGPIPE, as a shell reports a writer it killed).
    ClosedPipe = 141,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// Which credential Wix turned down, as far as its answer says (its wording is UNCONFIRMED:
/// see README), so the next step names the one thing to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// "Invalid client": the app id or client id.
    Client,
    /// "Invalid client credentials": the app secret or client secret.
    Secret,
    /// "App instance not found" / "not installed": the instance.
    Instance,
    /// An authorization code that expired or was used.
    Code,
    /// A refresh token Wix no longer takes.
    RefreshToken,
    /// An access token or API key refused on a call.
    Token,
    /// Wix said no without saying which.
    Unknown,
}

/// The one next step of an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fix {
    /// Run wixauth with these arguments.
    Run(Cmd),
    /// Run wixauth with these arguments, or do what the words say (the CI way, say).
    RunOr(Cmd, String),
    /// Pipe something (a secret) into a wixauth command: "pipe the current app secret into …".
    Pipe(String, Cmd),
    /// Something to do that is not a wixauth command.
    Do(String),
}

/// A wixauth command line to print (`["login", "--flow", "advanced"]`), completed with the
/// user's own flags when it is rendered (see [`Invocation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cmd(Vec<String>);

/// How wixauth was called, so a printed next step runs when pasted: it carries the
/// `--profile` and `--instance` the user gave and, for a `login`, their login flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// `--profile` as given on the command line.
    pub profile: Option<String>,
    /// `--instance` as given on the command line.
    pub instance: Option<String>,
    /// Flags of a failing `login` (`--flow`, `--redirect-url`, `--app-id`, `--client-id`), with values.
    pub login: Vec<(String, String)>,
}

/// A failure the user sees as one line on stderr. Messages never contain secrets:
/// they are built from `Secret`'s redacting `Display` or from non-secret values.
#[derive(Debug, Clone)]
pub(crate) struct Error {
    pub(crate) exit: Exit,
    what: String,
    fix: Option<Fix>,
    rejected: Option<Rejected>,
    /// Lines printed after the error line (`api`'s "why was I refused?" block); the error
    /// itself stays one line.
    after: Vec<String>,
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// One line, whatever the source text holds.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Error {
    pub(crate) fn new(exit: Exit, what: impl Into<String>) -> Self {
        Error {
            exit,
            what: one_line(&what.into()),
            fix: None,
            rejected: None,
            after: Vec::new(),
        }
    }
    pub(crate) fn failure(what: impl Into<String>) -> Self {
        Self::new(Exit::Failure, what)
    }
    pub(crate) fn usage(what: impl Into<String>) -> Self {
        Self::new(Exit::Usage, what)
    }
    /// Wix turned the credentials down; `which` says which one, when its answer tells.
    pub(crate) fn rejected(what: impl Into<String>) -> Self {
        Self::new(Exit::Rejected, what)
    }
    pub(crate) fn unavailable(what: impl Into<String>) -> Self {
        Self::new(Exit::Unavailable, what)
    }
    pub(crate) fn login_aborted(what: impl Into<String>) -> Self {
        Self::new(Exit::LoginAborted, what)
    }
    /// Nothing to say: the reader of stdout went away.
    pub(crate) fn closed_pipe() -> Self {
        Self::new(Exit::ClosedPipe, "")
    }
    pub(crate) fn interrupted() -> Self {
        Self::new(Exit::Interrupted, "interrupted")
    }

    /// The same error with `fix` as its next step (replacing any before).
    pub(crate) fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
    /// Next step: run `wixauth ARGS`.
    pub(crate) fn run(self, cmd: Cmd) -> Self {
        self.fix(Fix::Run(cmd))
    }
    /// Next step in words (not a wixauth command).
    pub(crate) fn hint(self, text: impl Into<String>) -> Self {
        self.fix(Fix::Do(one_line(&text.into())))
    }
    /// Marks which credential Wix turned down.
    pub(crate) fn turned_down(mut self, which: Rejected) -> Self {
        self.rejected = Some(which);
        self
    }

    /// Lines to print after the error line (each one line of text, already escaped).
    pub(crate) fn followed_by(mut self, lines: Vec<String>) -> Self {
        self.after = lines.iter().map(|l| one_line(l)).collect();
        self
    }
    /// What is printed after the error line.
    pub(crate) fn after(&self) -> &[String] {
        &self.after
    }

    /// The same error with another exit code.
    pub(crate) fn exit_as(mut self, exit: Exit) -> Self {
        self.exit = exit;
        self
    }
    /// What failed, without the next step.
    pub(crate) fn what(&self) -> &str {
        &self.what
    }
    pub(crate) fn next_step(&self) -> Option<&Fix> {
        self.fix.as_ref()
    }
    /// Which credential Wix turned down, when this is such a rejection.
    pub(crate) fn rejection(&self) -> Option<Rejected> {
        self.rejected
    }
    /// The whole line as a plain rendering (no flags of the user's added).
    pub(crate) fn message(&self) -> String {
        self.render(&Invocation::default())
    }
    /// The whole line, the next step carrying the user's flags.
    pub(crate) fn render(&self, how: &Invocation) -> String {
        match &self.fix {
            None => self.what.clone(),
            Some(fix) if self.what.is_empty() => fix.render(how),
            Some(fix) => format!("{}; {}", self.what, fix.render(how)),
        }
    }
    /// Adds words after what failed (a likely cause), keeping the exit code and next step.
    pub(crate) fn context_after(mut self, more: impl fmt::Display) -> Self {
        self.what = one_line(&format!("{}{more}", self.what));
        self
    }
    /// Prefixes what failed with what was being done, keeping the exit code and next step.
    pub(crate) fn context(mut self, doing: impl fmt::Display) -> Self {
        self.what = format!("{doing}: {}", self.what);
        self
    }
}

impl Fix {
    /// As a person reads it: "run `wixauth login`", or the words.
    pub(crate) fn render(&self, how: &Invocation) -> String {
        match self {
            Fix::Run(cmd) => format!("run `{}`", cmd.render(how)),
            Fix::RunOr(cmd, or) => format!("run `{}`, or {or}", cmd.render(how)),
            Fix::Pipe(what, cmd) => format!("pipe {what} into `{}`", cmd.render(how)),
            Fix::Do(text) => text.clone(),
        }
    }
}

impl Cmd {
    /// `wixauth` followed by `args`.
    pub(crate) fn new<S: AsRef<str>>(args: &[S]) -> Cmd {
        Cmd(args.iter().map(|a| a.as_ref().to_string()).collect())
    }
    pub(crate) fn login() -> Cmd {
        Cmd::new(&["login"])
    }
    /// This command with one more argument (a flag, or a flag's value).
    pub(crate) fn arg(mut self, arg: impl Into<String>) -> Cmd {
        self.0.push(arg.into());
        self
    }
    fn has(&self, flag: &str) -> bool {
        self.0
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    }
    /// `wixauth [--profile P] ARGS [the user's login flags] [--instance I]`, each word quoted for
    /// a POSIX shell when it needs it. Flags the command names itself win over the user's.
    pub(crate) fn render(&self, how: &Invocation) -> String {
        let mut words = vec!["wixauth".to_string()];
        if let Some(profile) = how.profile.as_ref().filter(|_| !self.has("--profile")) {
            words.extend(["--profile".to_string(), profile.clone()]);
        }
        words.extend(self.0.iter().cloned());
        if self.0.first().map(String::as_str) == Some("login") {
            for (flag, value) in &how.login {
                if !self.has(flag) {
                    words.extend([flag.clone(), value.clone()]);
                }
            }
        }
        let takes_instance = !matches!(
            self.0.first().map(String::as_str),
            Some("doctor" | "status" | "help" | "completions")
        );
        if let Some(instance) = how.instance.as_ref().filter(|_| takes_instance) {
            if !self.has("--instance") && !self.has("--all") {
                words.extend(["--instance".to_string(), instance.clone()]);
            }
        }
        words
            .iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A word as a POSIX shell reads it back: as it is when plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    match plain {
        true => word.to_string(),
        false => format!("'{}'", word.replace('\'', r"'\''")),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

/// Formats an I/O failure on a path as a one-line message.
pub(crate) fn io_error(what: &str, path: &std::path::Path, err: &std::io::Error) -> Error {
    Error::failure(format!("{what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let e = Error::usage("first\nsecond\r\n  third").hint("do\nthis");
        assert_eq!(e.message(), "first second third; do this");
        assert_eq!(e.exit, Exit::Usage);
    }

    #[test]
    fn context_keeps_exit_code_and_next_step() {
        let e = Error::rejected("bad secret")
            .run(Cmd::login())
            .context("creating a token");
        assert_eq!(
            e.to_string(),
            "creating a token: bad secret; run `wixauth login`"
        );
        assert_eq!(e.what(), "creating a token: bad secret");
        assert_eq!(e.exit, Exit::Rejected);
    }

    #[test]
    fn a_next_step_carries_the_users_flags_and_runs_as_pasted() {
        let how = Invocation {
            profile: Some("my shop".into()),
            instance: Some("i-1".into()),
            login: vec![
                ("--flow".into(), "advanced".into()),
                ("--redirect-url".into(), "http://localhost:9/cb".into()),
            ],
        };
        assert_eq!(
            Cmd::login().render(&how),
            "wixauth --profile 'my shop' login --flow advanced --redirect-url http://localhost:9/cb --instance i-1"
        );
        // The command's own flags win; doctor takes no instance.
        assert_eq!(
            Cmd::login().arg("--flow").arg("member").render(&how),
            "wixauth --profile 'my shop' login --flow member --redirect-url http://localhost:9/cb --instance i-1"
        );
        assert_eq!(
            Cmd::new(&["doctor"]).render(&how),
            "wixauth --profile 'my shop' doctor"
        );
        assert_eq!(
            Cmd::new(&["token"]).render(&Invocation::default()),
            "wixauth token"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
