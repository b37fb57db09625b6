//! Everything generated from the clap model: completion scripts, the man page, help topics.

use clap::CommandFactory;
use clap_complete::Shell;
use roff::{bold, italic, roman, Roff};

use crate::app::cli::Cli;
use crate::core::error::{Error, Result};
use crate::ui::Io;

/// The script `wixauth completions SHELL` prints (and `completions/` holds): it registers a
/// function that asks `wixauth` itself for candidates (see `crate::app::complete`).
pub fn completion_script(shell: Shell) -> Vec<u8> {
    crate::app::complete::registration(shell)
}

/// Exit codes as `EXIT STATUS` lists them (the contract's table).
const EXIT_CODES: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "Any other failure (for exec: the command's own status is passed through).",
    ),
    (
        "2",
        "Usage or configuration error: a bad flag, a missing credential, nothing logged in.",
    ),
    ("3", "Wix rejected the credentials."),
    ("4", "Wix or the network failed after bounded retries."),
    ("5", "The browser login timed out or was denied."),
    (
        "126, 127",
        "exec: the command cannot be run, or does not exist.",
    ),
    ("130", "Interrupted (Ctrl-C)."),
];

const FILES: &[(&str, &str)] = &[
    ("$WIXAUTH_CONFIG_DIR, else the platform config folder + /wixauth", "Where everything below lives: ~/.config/wixauth on Linux, ~/Library/Application Support/wixauth on macOS, %APPDATA%\\wixauth on Windows."),
    ("config.toml", "Profiles: app id (or a Wix Headless client id, or an API key's site and account ids), flow, redirect URL, instances, the default instance. No secrets."),
    ("secrets.toml", "The plain-text secret store (mode 0600), used only when the OS keyring cannot be."),
    ("tokens/", "Cached access tokens, one 0600 file per app and instance."),
    ("locks/", "Lock files that keep concurrent wixauth runs from racing."),
];

/// (what it does, the command line) for each command's EXAMPLES; `wixauth` itself is "".
const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    ("", &[
        ("Log in once (asks for the flow, the app id and the secret on a TTY):", "wixauth login"),
        ("Call the Wix REST API with a fresh token:", "curl -H \"Authorization: $(wixauth token)\" https://www.wixapis.com/apps/v1/instance"),
        ("CI without a config file:", "WIX_APP_ID=... WIX_APP_SECRET=... WIX_INSTANCE_ID=... wixauth token"),
        ("Run a script with WIX_ACCESS_TOKEN in its environment:", "wixauth exec -- ./deploy.sh"),
    ]),
    ("login", &[
        ("Basic flow (client credentials), secret from a password manager:", "pass wix/secret | wixauth login --flow basic --app-id APP_ID --instance INSTANCE_ID --secret-stdin"),
        ("Advanced flow through the browser, on another profile:", "wixauth --profile shop login --flow advanced"),
        ("On a machine without a browser: print the URL to open elsewhere:", "wixauth login --no-browser"),
        ("Wix Headless admin (orders, members, products): the client id and its client secret:", "pass wix/client-secret | wixauth --profile admin login --flow admin --client-id CLIENT_ID --secret-stdin"),
        ("An account owner's API key for one site (API keys are not for third-party apps):", "pass wix/api-key | wixauth --profile key login --flow api-key --site-id SITE_ID --secret-stdin"),
        ("From the .env.local that `wix env pull` wrote (the file is not changed):", "wixauth login --env-file"),
    ]),
    ("token", &[
        ("A token for curl:", "curl -H \"Authorization: $(wixauth token)\" https://www.wixapis.com/apps/v1/instance"),
        ("The header line, read by curl from stdin:", "wixauth token --header | curl -H @- https://www.wixapis.com/apps/v1/instance"),
        ("A token valid for the next 10 minutes, with its metadata:", "wixauth token --min-ttl 600 --json"),
        ("Every instance's token, one JSON line each:", "wixauth token --each-instance --json"),
    ]),
    ("status", &[
        ("What is stored, for every profile:", "wixauth status"),
        ("Also ask Wix whether the credentials work (exit 0 when they do):", "wixauth status --check"),
    ]),
    ("logout", &[
        ("Forget the default instance of the active profile:", "wixauth logout"),
        ("Forget a whole profile, app secret included:", "wixauth --profile shop logout --all"),
    ]),
    ("bi-event", &[
        ("Mark the app's setup as finished for the instance:", "wixauth bi-event finished"),
        ("A custom event with data:", "wixauth bi-event CUSTOM --custom-name synced --data items=42"),
        ("Setup finished, for each site listed in a file:", "wixauth bi-event finished --instances-from finished.txt"),
    ]),
    ("api", &[
        ("Get the app instance:", "wixauth api /apps/v1/instance"),
        ("POST a JSON body from a file:", "wixauth api /stores/v1/products/query -d @query.json"),
        ("What the credential is, and why Wix refused (automatic on 401, 403, 404, 428):", "wixauth api /stores/v1/products/query -d @query.json --explain"),
        ("The same call for every instance, 8 at once, at most 20 requests a second:", "wixauth api --each-instance --concurrency 8 --rate 20 /apps/v1/instance"),
    ]),
    ("exec", &[
        ("Run a script with WIX_ACCESS_TOKEN, WIX_APP_ID and WIX_INSTANCE_ID set:", "wixauth exec -- ./sync.sh"),
        ("A token that lasts the whole job:", "wixauth exec --min-ttl 3600 -- make deploy"),
        ("A migration for every site, the failed ones' ids kept:", "wixauth exec --each-instance --retry-file failed.txt -- ./migrate.sh"),
        ("Then again for exactly those:", "wixauth exec --instances-from failed.txt --retry-file failed.txt -- ./migrate.sh"),
    ]),
    ("whoami", &[
        ("What Wix says about the token and the instance:", "wixauth whoami"),
        ("The same as JSON:", "wixauth whoami --json"),
        ("Describe a token from your own code (read from stdin, never an argument):", "wl-paste | wixauth whoami --token -"),
    ]),
    ("install-url", &[
        ("The installer URL to send to a site owner:", "wixauth install-url"),
        ("The advanced flow's installer, as JSON:", "wixauth install-url --flow advanced --json"),
    ]),
    ("completions", &[
        ("Install bash completion for the current user:", "wixauth completions bash > ~/.local/share/bash-completion/completions/wixauth"),
        ("Load zsh completion from ~/.zshrc (after compinit):", "source <(wixauth completions zsh)"),
    ]),
    ("help", &[
        ("Help for one command:", "wixauth help token"),
        ("The environment variables wixauth reads:", "wixauth help environment"),
    ]),
    ("webhook", &[
        ("Store the app's webhook public key, copied from the app dashboard:", "wixauth webhook set-key public-key.pem"),
        ("Receive deliveries behind a tunnel and keep the profile's instances in step:", "wixauth webhook listen --save-instances"),
    ]),
    ("webhook set-key", &[
        ("From a file saved from the dashboard:", "wixauth webhook set-key public-key.pem"),
        ("From the clipboard (Wayland):", "wl-paste | wixauth webhook set-key -"),
    ]),
    ("webhook verify", &[
        ("Check a saved delivery and print its event:", "wixauth webhook verify delivery.jwt"),
        ("Replay an old delivery:", "wixauth webhook verify --ignore-expiry < delivery.jwt"),
    ]),
    ("webhook listen", &[
        ("Listen on 127.0.0.1:8339/webhook (point the tunnel there):", "wixauth webhook listen"),
        ("Relay each valid delivery to a local server, and stop after one:", "wixauth webhook listen --forward-to http://127.0.0.1:3000/hooks --once"),
    ]),
    ("webhook dev-key", &[
        ("Print the development public key (made the first time):", "wixauth webhook dev-key"),
        ("Give it to a Node handler as one line:", "export WIX_PUBLIC_KEY=\"$(wixauth webhook dev-key --format base64)\""),
    ]),
    ("webhook trigger", &[
        ("Send an install to your handler, as Wix sends it:", "wixauth webhook trigger AppInstalled --to http://localhost:3000/webhooks"),
        ("A burst of 100 purchases, 8 at a time, each delivered twice:", "wixauth webhook trigger PaidPlanPurchased --to http://localhost:3000/webhooks --count 100 --concurrency 8 --duplicate"),
        ("Replay deliveries saved by `webhook listen --save-deliveries saved/`:", "wixauth webhook trigger --replay saved/ --to http://localhost:3000/webhooks"),
    ]),
    ("webhook test", &[
        ("Grade your handler (exit 1 when a required check fails):", "wixauth webhook test http://localhost:3000/webhooks"),
        ("Only the signature checks, as JSON:", "wixauth webhook test http://localhost:3000/webhooks --only wrong-key --only tampered --json"),
    ]),
    ("instances", &[
        ("Each instance with its site, where it came from and when it was last seen:", "wixauth instances"),
        ("Import ids from your own database, one a line:", "psql -Atc 'select instance_id from sites' | wixauth instances add --from -"),
    ]),
    ("instances list", &[
        ("The list as JSON:", "wixauth instances list --json"),
    ]),
    ("instances add", &[
        ("Two ids:", "wixauth instances add 3bbcabc7-0000-4000-8000-000000000001 3bbcabc7-0000-4000-8000-000000000002"),
        ("A file of ids, leaving out (and naming) lines that are not ids:", "wixauth instances add --from ids.txt --skip-invalid"),
    ]),
    ("instances remove", &[
        ("Forget one instance with its tokens:", "wixauth instances remove 3bbcabc7-0000-4000-8000-000000000001"),
    ]),
    ("instances refresh", &[
        ("Learn site names and mark the sites the app left:", "wixauth instances refresh"),
        ("Eight at once:", "wixauth instances refresh --concurrency 8"),
    ]),
    ("instances prune", &[
        ("Forget the instances marked removed:", "wixauth instances prune"),
    ]),
    ("switch", &[
        ("Make a profile the active one:", "wixauth switch --profile shop"),
        ("Choose the profile's default instance interactively:", "wixauth switch"),
    ]),
    ("doctor", &[
        ("Check the secret store, files, clock, credentials and browser:", "wixauth doctor"),
        ("The same checks as JSON, for a bug report:", "wixauth doctor --json"),
    ]),
];

/// The examples of a command ("" for wixauth itself); every visible command has some.
pub fn examples(command: &str) -> Option<&'static [(&'static str, &'static str)]> {
    EXAMPLES
        .iter()
        .find(|(n, _)| *n == command)
        .map(|(_, e)| *e)
}

/// Every man page, as (file name, roff): `wixauth.1`, and one `wixauth-COMMAND.1` per command
/// and per subcommand (`wixauth-webhook-listen.1`), as the pages' SUBCOMMANDS sections name them.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut command = Cli::command();
    // Building names the subcommands `wixauth-login` etc. and propagates the global options.
    command.build();
    let commands: Vec<clap::Command> = visible_subcommands(&command);
    let mut pages = vec![(
        "wixauth.1".to_string(),
        main_page(command.clone(), &commands),
    )];
    for sub in commands {
        command_pages(sub, String::new(), &mut pages);
    }
    pages
}

fn visible_subcommands(command: &clap::Command) -> Vec<clap::Command> {
    command
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect()
}

/// `command`'s page and its subcommands' pages; `parent` is the path above it, as EXAMPLES
/// keys pages ("webhook listen").
fn command_pages(command: clap::Command, parent: String, pages: &mut Vec<(String, Vec<u8>)>) {
    let path = if parent.is_empty() {
        command.get_name().to_string()
    } else {
        format!("{parent} {}", command.get_name())
    };
    let file = format!(
        "{}.1",
        command
            .get_display_name()
            .unwrap_or_else(|| command.get_name())
    );
    pages.push((file, command_page(command.clone(), &path)));
    for sub in visible_subcommands(&command) {
        command_pages(sub, path.clone(), pages);
    }
}

fn main_page(command: clap::Command, commands: &[clap::Command]) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = render_common(&command, &mut out)
        .and_then(|()| clap_mangen::Man::new(command).render_subcommands_section(&mut out));
    let mut roff = Roff::new();
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, what) in crate::settings::env::VARIABLES {
        roff.control("TP", [])
            .text([bold(*name)])
            .text([roman(*what)]);
    }
    roff.control("SH", ["FILES"]);
    for (name, what) in FILES {
        roff.control("TP", [])
            .text([italic(*name)])
            .text([roman(*what)]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, what) in EXIT_CODES {
        roff.control("TP", [])
            .text([bold(*code)])
            .text([roman(*what)]);
    }
    examples_section(&mut roff, "");
    roff.control("SH", ["SEE ALSO"]);
    let see_also: Vec<String> = commands
        .iter()
        .map(|c| format!("wixauth-{}(1)", c.get_name()))
        .collect();
    roff.text([roman(see_also.join(", "))]);
    let _ = roff.to_writer(&mut out);
    out
}

fn command_page(command: clap::Command, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = render_common(&command, &mut out);
    if command.get_subcommands().any(|c| !c.is_hide_set()) {
        let _ = clap_mangen::Man::new(command.clone()).render_subcommands_section(&mut out);
    }
    let mut roff = Roff::new();
    if name == "completions" {
        roff.control("SH", ["INSTALLATION"]);
        roff.text([roman(crate::app::cli::COMPLETIONS_ABOUT)]);
        for (shell, line) in crate::app::cli::COMPLETIONS_INSTALL {
            roff.control("TP", []).text([bold(*shell)]);
            roff.control("EX", [])
                .text([roman(*line)])
                .control("EE", []);
        }
    }
    examples_section(&mut roff, name);
    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        roman("wixauth(1); "),
        bold("wixauth help environment"),
        roman(" for the environment variables."),
    ]);
    let _ = roff.to_writer(&mut out);
    out
}

/// Title, NAME, SYNOPSIS, DESCRIPTION and OPTIONS, from the clap model.
fn render_common(command: &clap::Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    // The after-help texts are laid out for a terminal; the pages say the same in roff.
    man.render_options_section(out)
}

fn examples_section(roff: &mut Roff, command: &str) {
    roff.control("SH", ["EXAMPLES"]);
    for (what, line) in examples(command).unwrap_or_default() {
        roff.control("PP", []).text([roman(*what)]);
        roff.control("RS", ["4"])
            .control("EX", [])
            .text([roman(*line)])
            .control("EE", [])
            .control("RE", []);
    }
}

/// The file in `completions/` holding a shell's script.
pub fn completion_file(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "wixauth.bash",
        Shell::Zsh => "_wixauth",
        Shell::Fish => "wixauth.fish",
        Shell::PowerShell => "_wixauth.ps1",
        Shell::Elvish => "wixauth.elv",
        _ => "wixauth.completion",
    }
}

pub(crate) fn completions(shell: Shell, io: &mut Io) -> Result<()> {
    io.write_out(&completion_script(shell))
}

/// `wixauth help [COMMAND…|environment]`.
pub(crate) fn help(topic: &[String], io: &mut Io) -> Result<()> {
    if topic.len() == 1 && topic[0] == "environment" {
        return io.print_for_people(&crate::settings::env::help());
    }
    let mut command =
        Cli::command().term_width(crate::app::cli::help_width(io.stdout_tty, io.width()));
    // Building propagates global options and the `wixauth` prefix into subcommands.
    command.build();
    let mut current = &mut command;
    for name in topic {
        current = current.find_subcommand_mut(name).ok_or_else(|| {
            Error::usage(format!(
                "no help for {:?}",
                crate::core::text::printable(name, 80)
            ))
            .hint("try `wixauth help` or `wixauth help environment`")
        })?;
    }
    io.print(&current.render_long_help().to_string())
}
