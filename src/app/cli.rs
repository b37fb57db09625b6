//! The command-line model. Completions, the man page and `--help` are all generated from it.

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

use crate::settings::Flow;

mod fleet;
mod webhook;
pub(crate) use fleet::*;
pub(crate) use webhook::*;

pub(crate) use crate::credentials::DEFAULT_MIN_TTL;
/// No Wix token lives longer than this: a larger `--min-ttl` could never be met.
const MAX_MIN_TTL: u64 = crate::settings::flow::MAX_TOKEN_LIFETIME;

#[derive(Debug, Parser)]
#[command(
    name = "wixauth",
    version,
    about = "Wix app authentication in one command",
    long_about = "Wix app authentication in one command: log in once, then print fresh access tokens for scripts and CI.\n\nQuick start: `wixauth login`, then `curl -H \"Authorization: $(wixauth token)\" https://www.wixapis.com/...`",
    after_help = "Run `wixauth help environment` for the environment variables wixauth reads.",
    disable_help_subcommand = true
)]
pub(crate) struct Cli {
    /// Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]
    #[arg(long, global = true, value_name = "NAME", add = ArgValueCandidates::new(crate::app::candidates::profiles))]
    pub profile: Option<String>,

    /// App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile's last logged-in instance]
    #[arg(long, global = true, value_name = "ID", add = ArgValueCandidates::new(crate::app::candidates::instances))]
    pub instance: Option<String>,

    /// Debug log on stderr (requests, cache, store); secrets are redacted
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Store credentials: an app and one of its instances, a Wix Headless client, or an API key
    Login(Deferred<LoginArgs>),
    /// Print a valid access token (and nothing else) on stdout
    Token(Deferred<TokenArgs>),
    /// Show what is stored for each profile
    Status(Deferred<StatusArgs>),
    /// Forget an instance (or with --all, the whole profile) from every local store
    Logout(Deferred<LogoutArgs>),
    /// Send a BI event for the instance (`finished` marks setup complete)
    #[command(name = "bi-event")]
    BiEvent(Deferred<BiEventArgs>),
    /// Make an authenticated request to the Wix REST API
    Api(Deferred<ApiArgs>),
    /// Run a command with WIX_ACCESS_TOKEN, WIX_APP_ID and WIX_INSTANCE_ID in its environment
    Exec(Deferred<ExecArgs>),
    /// Show what Wix says about the token and the app instance
    Whoami(Deferred<WhoamiArgs>),
    /// Print the installer URL for the profile (to share, or to open by hand)
    #[command(name = "install-url")]
    InstallUrl(Deferred<InstallUrlArgs>),
    /// Wix's signed webhook events: verify, receive behind a tunnel, and send test events to your handler
    Webhook(Deferred<WebhookArgs>),
    /// Choose the active profile and the profile's default instance
    Switch(Deferred<SwitchArgs>),
    /// List, import and check the app's instances (sites), which fleet runs go through
    Instances(Deferred<InstancesArgs>),
    /// Check the secret store, files, clock, credentials, port, browser and proxies
    Doctor(Deferred<DoctorArgs>),
    /// Print a shell completion script
    #[command(after_long_help = completions_install_help())]
    Completions(Deferred<CompletionsArgs>),
    /// Help for a command, or a topic: `wixauth help environment`
    Help(Deferred<HelpArgs>),
}

/// The command line, parsed by clap. The model clap builds, and what it matched, are left for
/// the process's exit to free: dropping them is hundreds of frees at every start.
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    let mut command = <Cli as clap::CommandFactory>::command();
    // Only a run that prints help asks for the terminal's width (a cache hit never does).
    if std::env::args_os().any(|a| a == "-h" || a == "--help") {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal();
        let columns = console::Term::stdout()
            .size_checked()
            .map(|(_, c)| usize::from(c));
        command = command.term_width(help_width(tty, columns.unwrap_or(80)));
    }
    let command = Box::leak(Box::new(command));
    let matches = Box::leak(Box::new(
        command.try_get_matches_from_mut(std::env::args_os())?,
    ));
    Cli::from_arg_matches_mut(matches).map_err(|e| e.format(command))
}

/// A subcommand's arguments, added to the clap model only when that subcommand runs
/// ([`clap::Command::defer`]): parsing builds one subcommand's arguments instead of every
/// one's, a large share of the start-up of `wixauth token`. Help, completions and the man page
/// build them all.
#[derive(Debug)]
pub(crate) struct Deferred<T>(pub T);

impl<T> std::ops::Deref for Deferred<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Deferred<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }
    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }
    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args_for_update)
    }
}

#[derive(Debug, Args)]
pub(crate) struct BiEventArgs {
    /// `finished` (APP_FINISHED_CONFIGURATION) or an upper-case Wix event name
    #[arg(value_name = "EVENT", add = ArgValueCandidates::new(crate::app::candidates::events))]
    pub event: String,

    /// The custom event's name (required with CUSTOM)
    #[arg(long, value_name = "NAME")]
    pub custom_name: Option<String>,

    /// Event data as key=value (repeatable), e.g. --data cycle_name=monthly
    #[arg(long = "data", value_name = "KEY=VALUE")]
    pub data: Vec<String>,

    /// Print the result as JSON on stdout
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub fleet: FleetArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// API path (`/apps/v1/instance`) or a full URL under the API base
    #[arg(value_name = "PATH")]
    pub path: String,

    /// HTTP method [default: GET, or POST when a body is given]
    #[arg(short = 'X', long, value_name = "METHOD")]
    pub method: Option<String>,

    /// JSON body: literal JSON, @file, or @- for stdin
    #[arg(short = 'd', long = "data", value_name = "JSON|@FILE|@-")]
    pub data: Option<String>,

    /// Extra request header `Name: value` (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Print the status line and response headers before the body
    #[arg(short = 'i', long)]
    pub include: bool,

    /// Explain on stderr what the credential is and, for a refusal, the likely cause and fix
    /// (automatic on HTTP 401, 403, 404 and 428)
    #[arg(long)]
    pub explain: bool,

    #[command(flatten)]
    pub fleet: FleetArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// The token must stay valid for at least this many seconds (e.g. the job's length)
    #[arg(long, default_value_t = DEFAULT_MIN_TTL, value_name = "SECONDS", value_parser = min_ttl())]
    pub min_ttl: u64,

    #[command(flatten)]
    pub fleet: FleetArgs,

    /// With --each-instance: each instance's output unprefixed, one instance after another
    #[arg(long, help_heading = "Fleet")]
    pub raw: bool,

    /// The command and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub(crate) struct WhoamiArgs {
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,

    /// Describe a token read from stdin (`--token -`; never an argument) instead of the profile's
    #[arg(long, value_name = "-", allow_hyphen_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InstallUrlArgs {
    /// Which installer [default: the profile's flow]
    #[arg(long, value_enum)]
    pub flow: Option<FlowArg>,

    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,
}

/// Where each shell's script goes (`wixauth completions --help` and its man page).
pub(crate) const COMPLETIONS_INSTALL: &[(&str, &str)] = &[
    (
        "bash",
        "wixauth completions bash > ~/.local/share/bash-completion/completions/wixauth",
    ),
    (
        "zsh (after compinit)",
        "echo 'source <(wixauth completions zsh)' >> ~/.zshrc",
    ),
    (
        "fish",
        "wixauth completions fish > ~/.config/fish/completions/wixauth.fish",
    ),
    ("powershell", "wixauth completions powershell >> $PROFILE"),
    (
        "elvish",
        "wixauth completions elvish >> ~/.config/elvish/rc.elv",
    ),
];

/// What the completion scripts do, before the install lines.
pub(crate) const COMPLETIONS_ABOUT: &str = "The script asks `wixauth` (found through PATH) for candidates as you type, so profiles, instances, bi-event names and help topics are always current. Install it once, then open a new shell:";

fn completions_install_help() -> String {
    let mut help = format!("{COMPLETIONS_ABOUT}\n\n");
    // Each command on a line of its own, short of 80 columns: copied and pasted whole.
    for (shell, line) in COMPLETIONS_INSTALL {
        help.push_str(&format!("{shell}:\n  {line}\n"));
    }
    help.push_str("\nPackagers: the same scripts are in the source tree under completions/.");
    help
}

/// Make a profile the active one, or an instance the profile's default: what commands act
/// for when no --profile or --instance is given.
#[derive(Debug, Args)]
#[command(
    after_help = "With neither flag, wixauth asks on a terminal, listing each profile and each instance with its site name.\n\n  wixauth switch --profile shop          make profile shop the active one (WIXAUTH_PROFILE still wins)\n  wixauth switch --instance ID           make ID the active profile's default instance\n  wixauth switch --profile shop --instance ID"
)]
// `switch` reads the global --profile and --instance as what to make active.
pub(crate) struct SwitchArgs {}

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Print the checks as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct HelpArgs {
    /// A command name, or the topic `environment`
    #[arg(value_name = "COMMAND|TOPIC", add = ArgValueCandidates::new(help_topics))]
    pub topic: Vec<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "API keys (--flow api-key) are for a Wix account owner's own scripts and automation: third-party Wix apps cannot use them (they use the basic or advanced flow)."
)]
pub(crate) struct LoginArgs {
    /// How the app gets tokens [default: the profile's; asked the first time on a TTY; else basic]
    #[arg(long, value_enum)]
    pub flow: Option<FlowArg>,

    /// App ID from the app dashboard [env: WIX_APP_ID]
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,

    /// Wix Headless flows (visitor/member/admin): the OAuth client id [env: WIX_CLIENT_ID]
    #[arg(long, value_name = "ID", conflicts_with = "app_id")]
    pub client_id: Option<String>,

    /// API key flow: the site its calls are for, sent as wix-site-id (the id after /dashboard/ in the site's dashboard URL) [env: WIX_SITE_ID]
    #[arg(long, value_name = "ID")]
    pub site_id: Option<String>,

    /// API key flow: the account its calls are for, sent as wix-account-id (shown in the API Keys Manager) [env: WIX_ACCOUNT_ID]
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,

    /// API key flow: GET this path with the key before storing it (401/403: nothing is stored, exit 3)
    #[arg(long, value_name = "PATH")]
    pub check: Option<String>,

    /// Take the login's values from a dotenv file, as `wix env pull` writes it (the file is not changed) [default: .env.local, else .env]
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub env_file: Option<Option<std::path::PathBuf>>,

    /// Member flow: `login` forces Wix's login form, `none` uses an existing Wix session only
    #[arg(long, value_enum, value_name = "PROMPT")]
    pub prompt: Option<PromptArg>,

    /// Switch the profile between an app and a Wix Headless client without asking (the old kind's secrets are removed)
    #[arg(long)]
    pub force: bool,

    /// Basic flow: the instance to authorise, without a browser (the global --instance does the same)
    #[arg(long, value_name = "ID", hide = true)]
    pub instance_id: Option<String>,

    /// Read the app secret, client secret or API key from the first line of stdin (never pass it as an argument)
    #[arg(long)]
    pub secret_stdin: bool,

    /// Redirect URL registered in the app dashboard; the local listener binds its host and port.
    /// Member flow: it must be listed, character for character, under the Headless client's
    /// "Allowed authorization redirect URIs" (default http://localhost:8338/callback)
    #[arg(long, value_name = "URL")]
    pub redirect_url: Option<String>,

    /// Print the installer URL instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,

    /// Show a local success page instead of redirecting to Wix's close-window page
    #[arg(long)]
    pub no_close_window: bool,

    /// Advanced flow: forward an install started inside Wix (its App URL request) without asking in the terminal
    #[arg(long)]
    pub accept_app_url: bool,

    /// Seconds to wait for the browser
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,

    /// Print the summary as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// Print `Authorization: <token>` (for `curl -H @-`)
    #[arg(long, conflicts_with = "json")]
    pub header: bool,

    /// Print the token and its metadata as JSON
    #[arg(long)]
    pub json: bool,

    /// Reuse a cached token only with at least this many seconds left
    #[arg(long, default_value_t = DEFAULT_MIN_TTL, value_name = "SECONDS", value_parser = min_ttl())]
    pub min_ttl: u64,

    /// Always get a new token from Wix
    #[arg(long)]
    pub no_cache: bool,

    /// Override the instance's flow
    #[arg(long, value_enum)]
    pub flow: Option<FlowArg>,

    #[command(flatten)]
    pub fleet: FleetArgs,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,

    /// Also ask Wix whether the credentials work
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LogoutArgs {
    /// Forget the whole profile, app secret included (not with --instance)
    #[arg(long)]
    pub all: bool,

    /// Do not ask before forgetting the whole profile on a terminal
    #[arg(short, long)]
    pub yes: bool,

    /// Print what was removed as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

/// `--prompt` of the member login (Wix's `auth.prompt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PromptArg {
    /// Always show Wix's login form.
    Login,
    /// Use the browser's existing Wix member session only.
    None,
}

impl PromptArg {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PromptArg::Login => "login",
            PromptArg::None => "none",
        }
    }
}

/// The `--flow` values; the domain's `Flow` stays free of clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FlowArg {
    /// Client credentials: app id + app secret + instance id → 4-hour tokens.
    Basic,
    /// Legacy custom authentication: browser consent → refresh token → 5-minute tokens.
    Advanced,
    /// Wix Headless visitor: client id → anonymous visitor token, its refresh token kept.
    Visitor,
    /// Wix Headless member: client id → Wix's login page in the browser (PKCE) → member token.
    Member,
    /// Wix Headless admin: client id + client secret → short-lived admin tokens.
    Admin,
    /// A Wix API key with --site-id and/or --account-id (an account owner's scripts; not for third-party apps).
    ApiKey,
}

impl From<FlowArg> for Flow {
    fn from(flow: FlowArg) -> Flow {
        match flow {
            FlowArg::Basic => Flow::Basic,
            FlowArg::Advanced => Flow::Advanced,
            FlowArg::Visitor => Flow::Visitor,
            FlowArg::Member => Flow::Member,
            FlowArg::Admin => Flow::Admin,
            FlowArg::ApiKey => Flow::ApiKey,
        }
    }
}

/// `help` topics: every visible command, and `environment`.
pub(crate) fn help_topics() -> Vec<CompletionCandidate> {
    let command = <Cli as clap::CommandFactory>::command();
    command
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .map(|c| CompletionCandidate::new(c.get_name()).help(c.get_about().cloned()))
        .chain(std::iter::once(
            CompletionCandidate::new("environment")
                .help(Some("environment variables wixauth reads".into())),
        ))
        .collect()
}

/// Help wraps to the terminal on a terminal (at most 100 columns), at 80 into a pipe.
pub(crate) fn help_width(tty: bool, columns: usize) -> usize {
    match tty {
        true => columns.clamp(40, 100),
        false => 80,
    }
}

fn min_ttl() -> clap::builder::RangedU64ValueParser {
    clap::value_parser!(u64).range(0..=MAX_MIN_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn min_ttl_is_bounded() {
        // 2^63 once became a negative i64 and made any cached token "fresh".
        for ttl in ["9223372036854775808", "86401"] {
            let err = Cli::try_parse_from(["wixauth", "token", "--min-ttl", ttl]).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{ttl}");
        }
        assert!(Cli::try_parse_from(["wixauth", "exec", "--min-ttl", "86400", "--", "x"]).is_ok());
    }

    #[test]
    fn model_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn secret_has_no_argument_form() {
        for flag in ["--secret", "--client-secret", "--api-key", "--key"] {
            let err = Cli::try_parse_from(["wixauth", "login", flag, "x"]).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{flag}"
            );
        }
    }

    #[test]
    fn env_file_takes_an_optional_path() {
        let login = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Command::Login(a) => a.0.env_file,
            _ => unreachable!(),
        };
        assert_eq!(login(&["wixauth", "login"]), None);
        assert_eq!(login(&["wixauth", "login", "--env-file"]), Some(None));
        assert_eq!(
            login(&["wixauth", "login", "--env-file", "ci.env"]),
            Some(Some("ci.env".into()))
        );
        let flow = Cli::try_parse_from(["wixauth", "login", "--flow", "api-key"]).unwrap();
        assert!(matches!(flow.command, Command::Login(a) if a.0.flow == Some(FlowArg::ApiKey)));
    }

    #[test]
    fn help_topics_are_a_handful() {
        let topics: Vec<String> = help_topics()
            .iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect();
        assert!(topics.contains(&"login".to_string()), "{topics:?}");
        assert!(topics.contains(&"environment".to_string()), "{topics:?}");
        assert!(!topics.contains(&"help".to_string()), "{topics:?}");
        assert!(topics.len() < 20, "{topics:?}");
    }
}
