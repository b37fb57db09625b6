//! The command-line model. Completions, the man page and `--help` are all generated from it.

use clap::{Args, Parser, Subcommand};

use crate::config::Flow;

/// Seconds a cached token must still be valid for by default.
pub const DEFAULT_MIN_TTL: u64 = 60;

#[derive(Debug, Parser)]
#[command(
    name = "wixauth",
    version,
    about = "Wix app authentication in one command",
    long_about = "Wix app authentication in one command: log in once, then print fresh access tokens for scripts and CI.\n\nQuick start: `wixauth login`, then `curl -H \"Authorization: $(wixauth token)\" https://www.wixapis.com/...`",
    after_help = "Run `wixauth help environment` for the environment variables wixauth reads.",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Profile: a named app configuration (one Wix app)
    #[arg(long, global = true, env = "WIXAUTH_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// App instance (site) to act for [default: the profile's last logged-in instance]
    #[arg(long, global = true, env = "WIX_INSTANCE_ID", value_name = "ID")]
    pub instance: Option<String>,

    /// Debug log on stderr (requests, cache, store); secrets are redacted
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store an app's credentials and authorise an app instance
    Login(LoginArgs),
    /// Print a valid access token (and nothing else) on stdout
    Token(TokenArgs),
    /// Show what is stored for each profile
    Status(StatusArgs),
    /// Forget an instance (or with --all, the whole profile) from every local store
    Logout(LogoutArgs),
    /// Send a BI event for the instance (`finished` marks setup complete)
    #[command(name = "bi-event")]
    BiEvent(BiEventArgs),
    /// Make an authenticated request to the Wix REST API
    Api(ApiArgs),
    /// Run a command with WIX_ACCESS_TOKEN, WIX_APP_ID and WIX_INSTANCE_ID in its environment
    Exec(ExecArgs),
    /// Show what Wix says about the token and the app instance
    Whoami(WhoamiArgs),
    /// Print the installer URL for the profile (to share, or to open by hand)
    #[command(name = "install-url")]
    InstallUrl(InstallUrlArgs),
    /// Verify and decode Wix's signed webhook events; a local receiver that saves installs
    Webhook(WebhookArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Help for a command, or a topic: `wixauth help environment`
    Help(HelpArgs),
}

#[derive(Debug, Args)]
pub struct BiEventArgs {
    /// `finished` (APP_FINISHED_CONFIGURATION) or an upper-case Wix event name
    #[arg(value_name = "EVENT")]
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
}

#[derive(Debug, Args)]
pub struct ApiArgs {
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
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The token must stay valid for at least this many seconds (e.g. the job's length)
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub min_ttl: u64,

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
pub struct WhoamiArgs {
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InstallUrlArgs {
    /// Which installer [default: the profile's flow]
    #[arg(long, value_enum)]
    pub flow: Option<Flow>,

    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WebhookArgs {
    #[command(subcommand)]
    pub command: WebhookCommand,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Store the app's webhook public key in the profile (config.toml: the key is public)
    #[command(name = "set-key")]
    SetKey(WebhookSetKeyArgs),
    /// Verify one delivery (the raw request body, a JWT) and print the event as JSON
    Verify(WebhookVerifyArgs),
    /// Receive deliveries on localhost behind a tunnel: verify, print, forward, save instances
    Listen(WebhookListenArgs),
}

#[derive(Debug, Args)]
pub struct WebhookSetKeyArgs {
    /// File holding the key from the app dashboard (PEM, or base64 of it); - for stdin
    // Key text given here by mistake must reach wixauth's own error, which never echoes it.
    #[arg(value_name = "FILE|-", allow_hyphen_values = true)]
    pub file: Option<std::path::PathBuf>,

    /// The key itself (PEM or base64 of it), or @FILE, instead of FILE
    // A PEM starts with dashes; clap would otherwise echo it back as an unknown argument.
    #[arg(long, value_name = "PEM|@FILE", allow_hyphen_values = true)]
    pub public_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct WebhookVerifyArgs {
    /// File holding the delivery's raw body [default: stdin]
    #[arg(value_name = "FILE|-")]
    pub file: Option<std::path::PathBuf>,

    /// Accept an expired event (replaying an old delivery)
    #[arg(long)]
    pub ignore_expiry: bool,

    /// The app's webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile's]
    // A PEM starts with dashes; clap would otherwise echo it back as an unknown argument.
    #[arg(long, value_name = "PEM|@FILE", allow_hyphen_values = true)]
    pub public_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct WebhookListenArgs {
    /// Port on 127.0.0.1 and ::1 (point the tunnel here)
    #[arg(long, default_value_t = 8339, value_name = "PORT")]
    pub port: u16,

    /// URL path Wix posts to
    #[arg(long, default_value = "/webhook", value_name = "PATH")]
    pub path: String,

    /// Also relay each valid delivery (raw body and content type) to your own server on this machine
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<String>,

    /// Add installed instances to the profile (and forget removed ones)
    #[arg(long)]
    pub save_instances: bool,

    /// Exit after the first valid event
    #[arg(long)]
    pub once: bool,

    /// The app's webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile's]
    // A PEM starts with dashes; clap would otherwise echo it back as an unknown argument.
    #[arg(long, value_name = "PEM|@FILE", allow_hyphen_values = true)]
    pub public_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct HelpArgs {
    /// A command name, or the topic `environment`
    #[arg(value_name = "COMMAND|TOPIC")]
    pub topic: Vec<String>,
}

/// Every environment variable wixauth reads (`wixauth help environment`).
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("WIXAUTH_PROFILE", "Profile to use, like --profile (default: default)."),
    ("WIX_INSTANCE_ID", "App instance to act for, like --instance (default: the profile's last logged-in instance)."),
    ("WIX_APP_ID", "App ID. With WIX_APP_SECRET it lets every command run without a config file (CI)."),
    ("WIX_APP_SECRET", "App secret for CI; wins over the stored one. Never pass it as an argument."),
    ("WIX_REFRESH_TOKEN", "Refresh token for the advanced flow in CI, instead of an instance id."),
    ("WIXAUTH_CONFIG_DIR", "Folder for config.toml, cached tokens, locks and the file secret store (default: the platform config dir + /wixauth)."),
    ("WIXAUTH_SECRET_STORE", "auto (default: the OS keyring, else a 0600 file with a warning), keyring (fail without it), or file."),
    ("WIXAUTH_KEYRING_SERVICE", "Keyring service name (default: wixauth)."),
    ("WIXAUTH_API_BASE", "Wix REST API base URL (default: https://www.wixapis.com). http:// only on loopback."),
    ("WIXAUTH_INSTALLER_BASE", "Wix installer base URL (default: https://www.wix.com). http:// only on loopback."),
    ("WIXAUTH_HTTP_TIMEOUT", "Seconds each HTTP attempt may take (default: 15)."),
    ("WIXAUTH_NO_CACHE", "When set to 1, access tokens are never written to the cache."),
    ("WIX_WEBHOOK_PUBLIC_KEY", "The app's webhook public key (PEM, or base64 of it) for `wixauth webhook`, like --public-key; wins over the profile's stored key."),
    ("BROWSER", "Command that opens the login URL (the URL is its argument)."),
    ("DISPLAY, WAYLAND_DISPLAY", "On Linux, without either no browser launch is tried (SSH, containers)."),
    ("NO_COLOR", "Honoured: turns off the colour of --help and usage errors, the only colour wixauth prints."),
];

/// The `environment` help topic.
pub fn environment_help() -> String {
    let mut out = String::from("Environment variables read by wixauth:\n\n");
    for (name, what) in ENVIRONMENT {
        out.push_str(&format!("  {name}\n      {what}\n"));
    }
    out.push_str("\nExit codes: 0 success, 1 other failure, 2 usage or configuration error, 3 Wix rejected the credentials,\n4 Wix or the network failed after retries, 5 browser login timed out or denied, 130 interrupted.\n");
    out
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// How the app gets tokens [default: the profile's; asked the first time on a TTY; else advanced]
    #[arg(long, value_enum)]
    pub flow: Option<Flow>,

    /// App ID from the app dashboard
    #[arg(long, env = "WIX_APP_ID", value_name = "ID")]
    pub app_id: Option<String>,

    /// Basic flow: the instance to authorise, without a browser
    #[arg(long, value_name = "ID")]
    pub instance_id: Option<String>,

    /// Read the app secret from the first line of stdin (never pass it as an argument)
    #[arg(long)]
    pub secret_stdin: bool,

    /// Redirect URL registered in the app dashboard; the local listener binds its host and port
    #[arg(long, value_name = "URL")]
    pub redirect_url: Option<String>,

    /// Print the installer URL instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,

    /// Show a local success page instead of redirecting to Wix's close-window page
    #[arg(long)]
    pub no_close_window: bool,

    /// Seconds to wait for the browser
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,

    /// Print the summary as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Print `Authorization: <token>` (for `curl -H @-`)
    #[arg(long, conflicts_with = "json")]
    pub header: bool,

    /// Print the token and its metadata as JSON
    #[arg(long)]
    pub json: bool,

    /// Reuse a cached token only with at least this many seconds left
    #[arg(long, default_value_t = DEFAULT_MIN_TTL, value_name = "SECONDS")]
    pub min_ttl: u64,

    /// Always get a new token from Wix
    #[arg(long)]
    pub no_cache: bool,

    /// Override the instance's flow
    #[arg(long, value_enum)]
    pub flow: Option<Flow>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,

    /// Also ask Wix whether the credentials work
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Forget the whole profile, app secret included
    #[arg(long)]
    pub all: bool,

    /// Print what was removed as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

/// `wixauth token` with no options is what `$(wixauth token)` runs over and over; it is
/// parsed here without building the whole clap model, which is most of a cache hit's
/// start-up. Anything else returns `None` and goes to clap (a test checks both agree).
pub fn parse_plain_token(args: &[std::ffi::OsString]) -> Option<Cli> {
    if args.len() != 2 || args[1] != "token" {
        return None;
    }
    // As clap's `env = …`: an unset or empty variable is no value; a non-UTF-8 one is clap's to report.
    let env = |name: &str| match std::env::var_os(name) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v.into_string().map(Some),
    };
    Some(Cli {
        profile: env("WIXAUTH_PROFILE").ok()?,
        instance: env("WIX_INSTANCE_ID").ok()?,
        verbose: false,
        command: Command::Token(TokenArgs {
            header: false,
            json: false,
            min_ttl: DEFAULT_MIN_TTL,
            no_cache: false,
            flow: None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn plain_token_parses_as_clap_does() {
        let argv = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        let fast = parse_plain_token(&argv(&["wixauth", "token"])).expect("fast path taken");
        let slow = Cli::try_parse_from(argv(&["wixauth", "token"])).unwrap();
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
        for other in [
            &["wixauth", "token", "--json"][..],
            &["wixauth", "status"],
            &["wixauth"],
            &["wixauth", "token", "-v"],
        ] {
            assert!(parse_plain_token(&argv(other)).is_none(), "{other:?}");
        }
    }

    #[test]
    fn model_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn secret_has_no_argument_form() {
        let err = Cli::try_parse_from(["wixauth", "login", "--secret", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
    }
}
