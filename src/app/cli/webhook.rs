//! The clap model of `wixauth webhook`: set-key, verify and listen, and the webhook lab's
//! dev-key, trigger and test.

use clap::{Args, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

#[derive(Debug, Args)]
pub(crate) struct WebhookArgs {
    #[command(subcommand)]
    pub command: WebhookCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Store the app's webhook public key in the profile (config.toml: the key is public)
    #[command(name = "set-key")]
    SetKey(WebhookSetKeyArgs),
    /// Verify one delivery (the raw request body, a JWT) and print the event as JSON
    Verify(WebhookVerifyArgs),
    /// Receive deliveries on localhost behind a tunnel: verify, print, forward, save instances
    Listen(WebhookListenArgs),
    /// Make (once per profile) and print the development key pair that trigger and test sign with
    #[command(name = "dev-key")]
    DevKey(WebhookDevKeyArgs),
    /// Send a signed event to your handler, as Wix sends it
    Trigger(WebhookTriggerArgs),
    /// Grade your handler: signatures, forgeries, retries, order, speed, size
    Test(WebhookTestArgs),
}

#[derive(Debug, Args)]
pub(crate) struct WebhookSetKeyArgs {
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
pub(crate) struct WebhookVerifyArgs {
    /// File holding the delivery's raw body [default: stdin]
    #[arg(value_name = "FILE|-")]
    pub file: Option<std::path::PathBuf>,

    /// Accept an expired event (replaying an old delivery)
    #[arg(long)]
    pub ignore_expiry: bool,

    /// Verify with the profile's development key (`wixauth webhook dev-key`)
    #[arg(long, conflicts_with = "public_key")]
    pub dev_key: bool,

    /// The app's webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile's]
    // A PEM starts with dashes; clap would otherwise echo it back as an unknown argument.
    #[arg(long, value_name = "PEM|@FILE", allow_hyphen_values = true)]
    pub public_key: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct WebhookListenArgs {
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

    /// Verify with the profile's development key (`wixauth webhook dev-key`)
    #[arg(long, conflicts_with = "public_key")]
    pub dev_key: bool,

    /// Write each verified delivery (raw body, headers, time) as one file in DIR (made 0700), for `trigger --replay`
    #[arg(long, value_name = "DIR")]
    pub save_deliveries: Option<std::path::PathBuf>,

    /// The app's webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile's]
    // A PEM starts with dashes; clap would otherwise echo it back as an unknown argument.
    #[arg(long, value_name = "PEM|@FILE", allow_hyphen_values = true)]
    pub public_key: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The private key stays in the secret store (never in config.toml, never printed). It is for development only: production handlers verify with the app's key from the dashboard."
)]
pub(crate) struct WebhookDevKeyArgs {
    /// Make a new key pair, replacing the profile's (handlers given the old public key then refuse new deliveries)
    #[arg(long)]
    pub rotate: bool,

    /// How to print the public key: PEM lines, or base64 of the PEM on one line (a WIX_PUBLIC_KEY variable)
    #[arg(long, value_enum, default_value_t = KeyFormatArg::Pem)]
    pub format: KeyFormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyFormatArg {
    Pem,
    Base64,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Built-in events: `wixauth webhook trigger --list`. The POST body is the JWT (RS256, signed with `wixauth webhook dev-key`), Content-Type text/plain; one stderr line per delivery. Exit 0 when every delivery got a 2xx within --budget-ms, 1 otherwise, 4 when the URL could not be reached."
)]
pub(crate) struct WebhookTriggerArgs {
    /// A built-in event (AppInstalled, PaidPlanPurchased, …; see --list)
    #[arg(value_name = "EVENT", add = ArgValueCandidates::new(event_names), conflicts_with_all = ["event_type", "replay"])]
    pub event: Option<String>,

    /// Your handler's URL: http:// on this machine, or https:// anywhere
    #[arg(long, value_name = "URL", required_unless_present = "list")]
    pub to: Option<String>,

    /// Any other event type, with its payload from --data
    #[arg(long, value_name = "NAME", conflicts_with = "replay")]
    pub event_type: Option<String>,

    /// The payload (the inner `data`): JSON, or @FILE; over a built-in event's, its fields win
    #[arg(long, value_name = "@FILE|JSON", conflicts_with = "replay")]
    pub data: Option<String>,

    /// Set one payload field (repeatable): KEY=VALUE, VALUE is JSON when it parses as JSON, else text
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "replay")]
    pub set: Vec<String>,

    /// Extra request header `Name: value` (repeatable)
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Who the event's identity layer names
    #[arg(long, value_enum, default_value_t = IdentityArg::App, conflicts_with = "replay")]
    pub identity: IdentityArg,

    /// A delivery passes with a 2xx within this many milliseconds (Wix's limit)
    #[arg(long, default_value_t = 1250, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub budget_ms: u64,

    /// Send this many events (each fresh: new ids)
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub count: u64,

    /// How many deliveries are in flight at once
    #[arg(long, default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,

    /// Send each delivery twice, byte for byte (as Wix may retry)
    #[arg(long)]
    pub duplicate: bool,

    /// Sign it with an exp in the past (issued two hours ago)
    #[arg(long, conflicts_with = "replay")]
    pub expired: bool,

    /// Print each delivered event on stdout as JSON (the `webhook verify` shape)
    #[arg(long)]
    pub json: bool,

    /// List the built-in events and exit
    #[arg(long, exclusive = true)]
    pub list: bool,

    /// Re-sign and send deliveries saved by `webhook listen --save-deliveries DIR` (a file, or all of DIR in order)
    #[arg(long, value_name = "FILE|DIR")]
    pub replay: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IdentityArg {
    /// identityType APP with the app id
    App,
    /// identityType ANONYMOUS_VISITOR with a fresh anonymousVisitorId
    Visitor,
    /// identityType MEMBER with a fresh memberId
    Member,
    /// identityType WIX_USER with a fresh wixUserId
    WixUser,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Checks: valid, all-events, wrong-key, alg-none, hs256-public-key, tampered, parsed-body, expired (advisory: WARN, never a failure), duplicate, out-of-order, burst, oversized. Exit 0 when every required check passed, 1 otherwise: run it in your CI against your handler."
)]
pub(crate) struct WebhookTestArgs {
    /// Your handler's URL: http:// on this machine, or https:// anywhere
    #[arg(value_name = "URL")]
    pub url: String,

    /// Print the report as JSON on stdout
    #[arg(long)]
    pub json: bool,

    /// Run only this check (repeatable)
    #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(check_names))]
    pub only: Vec<String>,

    /// Leave this check out (repeatable)
    #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(check_names))]
    pub skip: Vec<String>,

    /// How many events the burst check sends (4 at a time)
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub burst: u64,
}

fn event_names() -> Vec<CompletionCandidate> {
    crate::webhook::events::BUILT_IN
        .iter()
        .map(|e| CompletionCandidate::new(e.name).help(Some(e.about.into())))
        .collect()
}

fn check_names() -> Vec<CompletionCandidate> {
    crate::webhook::battery::CHECKS
        .iter()
        .map(|(name, _)| CompletionCandidate::new(*name))
        .collect()
}
