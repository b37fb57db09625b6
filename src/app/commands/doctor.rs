//! `wixauth doctor`: every check a first login or a failing token depends on, one line each,
//! with what to do about a problem. Nothing is changed, and no browser is opened.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use url::Url;

use crate::app::cli::DoctorArgs;
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Exit, Fix, Invocation, Result};
use crate::core::fsutil;
use crate::core::text::printable;
use crate::credentials::store::{SecretKey, StoreError};
use crate::credentials::{Freshness, Session};
use crate::settings::config::{Profile, StoreKind, DEFAULT_REDIRECT_URL};
use crate::settings::env::StoreMode;
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::ui::Io;

/// More than this between our clock and Wix's is reported: token times would read wrong.
const MAX_SKEW: Duration = Duration::from_secs(60);

pub(crate) struct DoctorOptions {
    pub json: bool,
}

impl From<&DoctorArgs> for DoctorOptions {
    fn from(args: &DoctorArgs) -> Self {
        DoctorOptions { json: args.json }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }
    /// A check that does not apply here: reported, never a problem.
    fn not_applicable(name: impl Into<String>, why: impl Into<String>) -> Check {
        Check::ok(name, format!("not applicable: {}", why.into()))
    }
    fn problem(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Exit 0 when every check holds, 1 otherwise.
pub(crate) fn run(opts: &DoctorOptions, ctx: &mut Context, io: &mut Io) -> Result<u8> {
    let mut checks = vec![secret_store(ctx), config_dir(ctx), clock(ctx)];
    checks.extend(credentials(ctx));
    checks.extend(redirect_ports(ctx));
    checks.push(browser(ctx));
    checks.push(proxies(ctx));
    let ok = checks.iter().all(|c| c.ok);
    // Warnings raised by the checks (a keyring fallback) are part of what the person reads.
    io.flush_notes(&ctx.notes);
    if opts.json {
        let report = serde_json::json!({"ok": ok, "checks": checks});
        io.print(&format!("{report}\n"))?;
    } else {
        let mut out = String::new();
        for c in &checks {
            let mark = match (c.ok, c.detail.starts_with("not applicable")) {
                (true, false) => "ok     ",
                (true, true) => "n/a    ",
                (false, _) => "PROBLEM",
            };
            let detail = c
                .detail
                .strip_prefix("not applicable: ")
                .unwrap_or(&c.detail);
            out.push_str(&format!("{mark} {}: {detail}", c.name));
            if let Some(fix) = &c.fix {
                out.push_str(&format!(" (fix: {fix})"));
            }
            out.push('\n');
        }
        io.print_report(&out, 8)?;
    }
    Ok(if ok { 0 } else { Exit::Failure as u8 })
}

impl Check {
    /// A problem from an error: its what and its one next step, as the terminal says them.
    fn from_error(name: impl Into<String>, e: &Error, how: &Invocation) -> Check {
        let fix = e
            .next_step()
            .map(|f| f.render(how))
            .unwrap_or_else(|| "run `wixauth doctor -v` to see each step".into());
        Check::problem(name, e.what().to_string(), fix)
    }
}

fn secret_store(ctx: &Context) -> Check {
    const NAME: &str = "secret store";
    let file = ctx.secrets().file_path().display().to_string();
    let in_file: Vec<&str> = profiles_in(ctx, StoreKind::File);
    if ctx.config.profiles.is_empty() && ctx.env.app_secret.is_some() {
        return Check::not_applicable(
            NAME,
            "no profile is stored; the app secret comes from WIX_APP_SECRET",
        );
    }
    if ctx.env.secret_store == StoreMode::File {
        return Check::ok(
            NAME,
            format!("plain-text file {file} (mode 0600), as WIXAUTH_SECRET_STORE=file asks; the OS keyring is not used"),
        );
    }
    // A locked keyring answers a search for an entry it does not hold; reading one of ours
    // asks it to unlock, as `token` would.
    let probe = profiles_in(ctx, StoreKind::Keyring)
        .first()
        .and_then(|name| ctx.config.profile(name).map(|p| (*name, p)))
        .map(|(name, p)| match &p.app_id {
            Some(app) => SecretKey::app_secret(name, app),
            None => SecretKey::headless_refresh(name),
        });
    match ctx.secrets().probe_keyring(probe.as_ref()) {
        Ok(()) if in_file.is_empty() => Check::ok(NAME, "the OS keyring answers"),
        Ok(()) => Check::problem(
            NAME,
            format!("the OS keyring answers, but profile {} keeps its secrets in the plain-text fallback {file}", in_file.join(", ")),
            "run `wixauth login` again for it, which moves them to the keyring",
        ),
        Err(StoreError::Locked(why)) => Check::problem(
            NAME,
            format!("the OS keyring is locked ({why})"),
            "unlock it (log in to the desktop session, or on Linux `gnome-keyring-daemon --unlock`)",
        ),
        Err(StoreError::Unavailable(why)) => Check::problem(
            NAME,
            format!("the OS keyring is not reachable ({why}); secrets would go to the plain-text file {file}"),
            "start the keyring (on Linux a Secret Service such as gnome-keyring), or set WIXAUTH_SECRET_STORE=file to choose the file",
        ),
        Err(e) => Check::problem(
            NAME,
            format!("the OS keyring answered with an error ({e})"),
            "unlock the keyring, or set WIXAUTH_SECRET_STORE=file",
        ),
    }
}

fn profiles_in(ctx: &Context, kind: StoreKind) -> Vec<&str> {
    ctx.config
        .profiles
        .iter()
        .filter(|(_, p)| p.secret_store == Some(kind))
        .map(|(n, _)| n.as_str())
        .collect()
}

/// The folder, its files' modes, and (when config.toml could not be loaded because of the
/// folder) that refusal, reported here instead of stopping every other check.
fn config_dir(ctx: &Context) -> Check {
    const NAME: &str = "config folder";
    let dir = &ctx.paths.dir;
    if let Some(e) = &ctx.config_error {
        return Check::from_error(NAME, e, &ctx.how);
    }
    if !dir.exists() {
        return Check::ok(
            NAME,
            format!(
                "{} does not exist yet; login creates it (mode 0700)",
                dir.display()
            ),
        );
    }
    if let Err(e) = fsutil::ensure_trusted_dir(dir) {
        return Check::from_error(NAME, &e, &ctx.how);
    }
    // Files that can hold secrets or say where they are must be ours alone.
    for path in [ctx.paths.config_file(), ctx.paths.secrets_file()] {
        if let Some(mode) = fsutil::mode_of(&path) {
            if mode & 0o077 != 0 {
                return Check::problem(
                    NAME,
                    format!("{} has mode {mode:04o}, readable by others", path.display()),
                    format!("run `chmod 600 {}`", path.display()),
                );
            }
        }
    }
    Check::ok(NAME, format!("{} is yours and private", dir.display()))
}

fn clock(ctx: &Context) -> Check {
    const NAME: &str = "clock";
    let date = ctx.wix().get().and_then(|w| w.server_date());
    match date {
        Ok(Some(theirs)) => skew_check(SystemTime::now(), theirs),
        Ok(None) => Check::problem(
            NAME,
            format!("Wix's answer at {} had no Date header", ctx.env.api_base),
            "check that WIXAUTH_API_BASE and any proxy reach Wix",
        ),
        Err(e) => Check::from_error(NAME, &e, &ctx.how),
    }
}

fn skew_check(ours: SystemTime, theirs: SystemTime) -> Check {
    const NAME: &str = "clock";
    let skew = ours
        .duration_since(theirs)
        .or_else(|_| theirs.duration_since(ours))
        .unwrap_or_default();
    // `Date` has whole seconds.
    let shown = humantime::format_duration(Duration::from_secs(skew.as_secs()));
    if skew > MAX_SKEW {
        Check::problem(
            NAME,
            format!("this machine's clock is {shown} off Wix's"),
            "set the clock right (turn on time sync, e.g. `timedatectl set-ntp true`)",
        )
    } else {
        Check::ok(NAME, format!("within {shown} of Wix's"))
    }
}

/// For each profile (and the `WIX_*` credentials in CI): a token can be minted.
fn credentials(ctx: &Context) -> Vec<Check> {
    let mint = |session: &Session, instance: Option<&str>, name: String| -> Check {
        let fresh = Freshness {
            min_ttl: 0,
            force: true,
        };
        let outcome = session
            .resolve(instance, None)
            .and_then(|t| session.fresh_token(&t, fresh).map(|_| t));
        match outcome {
            Ok(t) => {
                let of = match t.flow.kind() {
                    Kind::App => "app",
                    Kind::Headless => "Wix Headless client",
                    // A key is not minted: it is at hand, and no fixed call proves it.
                    Kind::ApiKey => {
                        return Check::ok(name, "an API key is at hand (api-key flow; Wix is not asked: a key has its own permissions)".to_string())
                    }
                };
                let instance = t.instance_id.map(|i| format!(", instance {i}"));
                Check::ok(
                    name,
                    format!(
                        "Wix minted a token for {of} {}{} ({} flow)",
                        t.app_id,
                        instance.unwrap_or_default(),
                        t.flow
                    ),
                )
            }
            Err(e) => Check::from_error(name, &e, &ctx.how),
        }
    };
    let session = ctx.session();
    let ci = ctx.env.app_id.is_some() || ctx.env.client_id.is_some() || ctx.env.api_key.is_some();
    if ctx.config.profiles.is_empty() {
        if ci {
            return vec![mint(
                &session,
                ctx.instance.as_deref(),
                "credentials (environment)".into(),
            )];
        }
        return vec![Check::from_error(
            "credentials",
            &Error::usage("nothing is logged in").fix(Fix::RunOr(
                Cmd::login(),
                "set WIX_APP_ID and WIX_APP_SECRET, WIX_CLIENT_ID and WIX_REFRESH_TOKEN or WIX_CLIENT_SECRET, or WIX_API_KEY and WIX_SITE_ID (CI)"
                    .into(),
            )),
            &ctx.how,
        )];
    }
    ctx.config
        .profiles
        .keys()
        .map(|name| {
            // The instance asked for (`--instance`, WIX_INSTANCE_ID) is the active profile's.
            let instance = (*name == ctx.profile)
                .then_some(ctx.instance.as_deref())
                .flatten();
            mint(
                &session.for_profile(name),
                instance,
                format!("credentials of profile {name}"),
            )
        })
        .collect()
}

/// Whether a profile's login waits on the local listener (its redirect URL's port).
fn uses_listener(p: &Profile) -> bool {
    p.flow
        .is_some_and(|f| f.uses_listener(!p.instances.is_empty()))
        || p.instances.values().any(|i| i.flow.uses_listener(true))
}

/// The redirect URL's port, for each profile whose login uses the local listener.
fn redirect_ports(ctx: &Context) -> Vec<Check> {
    if !ctx.config.profiles.values().any(uses_listener) {
        return vec![Check::not_applicable(
            "redirect port",
            "no profile logs in through the local listener (advanced, member, or basic without an instance)",
        )];
    }
    ctx.config
        .profiles
        .iter()
        .filter(|(_, p)| uses_listener(p))
        .map(|(name, p)| port_check(ctx, name, p))
        .collect()
}

fn port_check(ctx: &Context, name: &str, p: &Profile) -> Check {
    let check = format!("redirect port of profile {name}");
    let url = p.redirect_url.as_deref().unwrap_or(DEFAULT_REDIRECT_URL);
    let flow = p.flow.unwrap_or(Flow::Advanced);
    let addresses =
        crate::oauth::parse_redirect(url).and_then(|u| crate::serve::listen_addresses(&u));
    let addresses = match addresses {
        Ok(a) => a,
        Err(e) => {
            return Check::problem(
                check,
                format!("redirect URL {}: {}", printable(url, 200), e.what()),
                format!(
                    "run `{}` with a URL registered in the dashboard",
                    Cmd::new(flow.login_args())
                        .arg("--redirect-url")
                        .arg("http://localhost:PORT/callback")
                        .render(&ctx.how)
                ),
            )
        }
    };
    // Bound and released at once: a listener's port only has to be free.
    let busy = addresses
        .iter()
        .find_map(|a| match std::net::TcpListener::bind(a) {
            Ok(_) => None,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Some(a.to_string()),
            // ::1 missing on a machine without IPv6 is fine: 127.0.0.1 serves.
            Err(_) => None,
        });
    match busy {
        None => Check::ok(check, format!("{url} can be listened on")),
        Some(addr) => Check::problem(
            check,
            format!("{addr} (from {url}) is in use by another program"),
            "stop that program, or log in with --redirect-url on a free port registered in the dashboard",
        ),
    }
}

fn browser(ctx: &Context) -> Check {
    const NAME: &str = "browser";
    if let Some(b) = &ctx.env.browser {
        let program = crate::ui::browser::browser_var_words(b)
            .next()
            .unwrap_or_default();
        return Check::ok(
            NAME,
            format!("$BROWSER ({}) opens login pages", printable(program, 80)),
        );
    }
    if cfg!(all(unix, not(target_os = "macos"))) && !ctx.env.has_display {
        return Check::not_applicable(
            NAME,
            "no DISPLAY or WAYLAND_DISPLAY (SSH session or container): login prints the URL to open on another machine",
        );
    }
    Check::ok(NAME, "the system browser opens login pages")
}

fn proxies(ctx: &Context) -> Check {
    const NAME: &str = "proxies";
    if ctx.env.proxies.is_empty() {
        return Check::ok(NAME, "none set in the environment");
    }
    let mut shown = Vec::new();
    for (name, value) in &ctx.env.proxies {
        let value = value.expose();
        let is_list = name.eq_ignore_ascii_case("NO_PROXY");
        if is_list {
            shown.push(format!("{name}={}", printable(value, 200)));
            continue;
        }
        // As reqwest does, a value without a scheme means http://.
        let with_scheme = match value.contains("://") {
            true => value.to_string(),
            false => format!("http://{value}"),
        };
        match Url::parse(&with_scheme) {
            Ok(mut url) if url.host().is_some() => {
                // A proxy URL may carry a password: never shown.
                if !url.username().is_empty() || url.password().is_some() {
                    let _ = url.set_username("");
                    let _ = url.set_password(None);
                    shown.push(format!(
                        "{name}={} (with credentials, not shown)",
                        url.as_str()
                    ));
                } else {
                    shown.push(format!("{name}={}", url.as_str()));
                }
            }
            _ => {
                return Check::problem(
                    NAME,
                    format!("{name} is not a proxy URL (scheme://host:port)"),
                    format!("fix or unset {name}"),
                )
            }
        }
    }
    let loopback = if ctx.env.api_base.scheme() == "http" {
        "; not used for the loopback API base"
    } else {
        ""
    };
    Check::ok(NAME, format!("{}{loopback}", shown.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_either_way_beyond_a_minute_is_a_problem() {
        let now = SystemTime::now();
        let min = Duration::from_secs(60);
        assert!(skew_check(now, now - min).ok);
        let late = skew_check(now, now + Duration::from_secs(301));
        assert!(!late.ok && late.detail.contains("5m 1s off"), "{late:?}");
        assert!(!skew_check(now, now - min - Duration::from_secs(1)).ok);
    }
}
