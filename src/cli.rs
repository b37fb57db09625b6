//! The command-line model. Completions, the man page and `--help` are all generated from it.

use clap::{Args, Parser, Subcommand};

use crate::config::Flow;

#[derive(Debug, Parser)]
#[command(
    name = "wixauth",
    version,
    about = "Wix app authentication in one command",
    long_about = "Wix app authentication in one command: log in once, then print fresh access tokens for scripts and CI.\n\nQuick start: `wixauth login`, then `curl -H \"Authorization: $(wixauth token)\" https://www.wixapis.com/...`",
    after_help = "Run `wixauth help environment` for the environment variables wixauth reads."
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
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
