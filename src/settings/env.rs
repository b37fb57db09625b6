//! The environment, read once at start-up into [`Env`]: every `WIX_*` / `WIXAUTH_*` variable
//! (and the few conventional ones wixauth honours) is read and validated here and nowhere
//! else. `wixauth help environment` and the source-scan test are fed from [`VARIABLES`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::core::error::{Error, Result};
use crate::core::secret::Secret;

pub(crate) const DEFAULT_API_BASE: &str = "https://www.wixapis.com";
pub(crate) const DEFAULT_INSTALLER_BASE: &str = "https://www.wix.com";
pub(crate) const DEFAULT_KEYRING_SERVICE: &str = "wixauth";
const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Every environment variable wixauth reads, with what it means (`wixauth help environment`).
pub(crate) const VARIABLES: &[(&str, &str)] = &[
    ("WIXAUTH_PROFILE", "Profile to use, like --profile (default: default)."),
    ("WIX_INSTANCE_ID", "App instance to act for, like --instance (default: the profile's last logged-in instance)."),
    ("WIX_APP_ID", "App ID, like --app-id. With WIX_APP_SECRET it lets every command run without a config file (CI)."),
    ("WIX_APP_SECRET", "App secret for CI; wins over the stored one. Never pass it as an argument."),
    ("WIX_REFRESH_TOKEN", "Refresh token for the advanced flow in CI, instead of an instance id; with WIX_CLIENT_ID, a visitor/member refresh token."),
    ("WIX_CLIENT_ID", "Wix Headless OAuth client id, like --client-id; with WIX_REFRESH_TOKEN the CI form of the visitor/member flows, with WIX_CLIENT_SECRET (and no WIX_REFRESH_TOKEN) of the admin flow."),
    ("WIX_CLIENT_SECRET", "A Wix Headless client's secret (admin flow), for CI or `login --flow admin`; wins over the stored one. Never pass it as an argument."),
    ("WIX_API_KEY", "A Wix API key (api-key flow), for CI or `login --flow api-key`; wins over the stored one. Never pass it as an argument."),
    ("WIX_SITE_ID", "The site an API key acts for (sent as wix-site-id), like `login --site-id`; wins over the profile's."),
    ("WIX_ACCOUNT_ID", "The account an API key acts for (sent as wix-account-id), like `login --account-id`; wins over the profile's."),
    ("WIX_WEBHOOK_PUBLIC_KEY", "The app's webhook public key (PEM, or base64 of it) for `wixauth webhook`, like --public-key; wins over the profile's stored key."),
    ("WIXAUTH_CONFIG_DIR", "Folder for config.toml, cached tokens, locks and the file secret store (default: the platform config dir + /wixauth)."),
    ("WIXAUTH_SECRET_STORE", "auto (default: the OS keyring, else a 0600 file with a warning), keyring (fail without it), or file."),
    ("WIXAUTH_KEYRING_SERVICE", "Keyring service name (default: wixauth)."),
    ("WIXAUTH_API_BASE", "Wix REST API base URL (default: https://www.wixapis.com). http:// only on loopback."),
    ("WIXAUTH_INSTALLER_BASE", "Wix installer base URL (default: https://www.wix.com). http:// only on loopback."),
    ("WIXAUTH_HTTP_TIMEOUT", "Seconds each HTTP attempt may take (default: 15)."),
    ("WIXAUTH_NO_CACHE", "When set to 1, access tokens are never written to the cache."),
    ("HOME", "The default config folder is under it (on Linux $XDG_CONFIG_HOME/wixauth, else $HOME/.config/wixauth); unset, the user database is asked."),
    ("BROWSER", "Command that opens the login URL (the URL is its argument)."),
    ("DISPLAY", "On Linux, without it (or WAYLAND_DISPLAY) no browser launch is tried (SSH, containers)."),
    ("WAYLAND_DISPLAY", "As DISPLAY."),
    ("HTTPS_PROXY", "Proxy for Wix's https:// API (as curl reads it; https_proxy too). Never used for loopback http:// bases."),
    ("https_proxy", "As HTTPS_PROXY."),
    ("HTTP_PROXY", "Proxy for http:// URLs (http_proxy too); `wixauth doctor` lists it."),
    ("http_proxy", "As HTTP_PROXY."),
    ("ALL_PROXY", "Proxy for every scheme when no scheme's own is set (all_proxy too)."),
    ("all_proxy", "As ALL_PROXY."),
    ("NO_PROXY", "Hosts reached without a proxy (no_proxy too)."),
    ("no_proxy", "As NO_PROXY."),
    ("NO_COLOR", "Honoured: turns off the colour of --help and usage errors, the only colour wixauth prints."),
];

/// The long-lived credentials in the environment: no child process (the browser launcher,
/// `exec`'s command) inherits them.
pub(crate) const SECRET_VARIABLES: [&str; 4] = [
    "WIX_APP_SECRET",
    "WIX_REFRESH_TOKEN",
    "WIX_CLIENT_SECRET",
    "WIX_API_KEY",
];

/// The `environment` help topic.
pub(crate) fn help() -> String {
    let mut out = String::from("Environment variables read by wixauth:\n\n");
    for (name, what) in VARIABLES {
        out.push_str(&format!("  {name}\n      {what}\n"));
    }
    out.push_str("\nSet for the command `wixauth exec` runs: WIX_ACCESS_TOKEN, WIX_APP_ID, WIX_INSTANCE_ID (for a Wix Headless\nclient: WIX_CLIENT_ID, and no WIX_INSTANCE_ID; for an API key: WIX_ACCESS_TOKEN holds the key, with WIX_SITE_ID and/or\nWIX_ACCOUNT_ID); WIX_APP_SECRET, WIX_REFRESH_TOKEN, WIX_CLIENT_SECRET and WIX_API_KEY are removed from its environment.\n");
    out.push_str("\n`wixauth login --env-file [PATH]` reads these keys from a dotenv file (default .env.local, then .env):\nWIX_APP_ID, WIX_APP_SECRET, WIX_INSTANCE_ID, WIX_CLIENT_ID, WIX_CLIENT_SECRET, WIX_CLIENT_INSTANCE_ID, WIX_API_KEY,\nWIX_SITE_ID, WIX_ACCOUNT_ID (a file's values win over the environment's; the file is never changed).\n");
    out.push_str("\nExit codes: 0 success, 1 other failure, 2 usage or configuration error, 3 Wix rejected the credentials,\n4 Wix or the network failed after retries, 5 browser login timed out or denied, 130 interrupted.\n");
    out
}

/// How secrets are stored: `WIXAUTH_SECRET_STORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreMode {
    Auto,
    Keyring,
    File,
}

impl StoreMode {
    /// The value of `WIXAUTH_SECRET_STORE` (unset: `auto`).
    pub(crate) fn parse(value: Option<&str>) -> Result<StoreMode> {
        match value.unwrap_or("auto") {
            "auto" => Ok(StoreMode::Auto),
            "keyring" => Ok(StoreMode::Keyring),
            "file" => Ok(StoreMode::File),
            other => Err(Error::usage(format!(
                "WIXAUTH_SECRET_STORE={other:?} is not one of auto, keyring, file"
            ))),
        }
    }
}

/// What the environment says, validated. Built once by `lib.rs`; commands see it through
/// `Context`, tests build it from a map.
#[derive(Debug, Clone)]
pub(crate) struct Env {
    pub profile: Option<String>,
    pub instance_id: Option<String>,
    pub app_id: Option<String>,
    /// `WIX_CLIENT_ID`: a Wix Headless OAuth client id.
    pub client_id: Option<String>,
    pub app_secret: Option<Secret>,
    pub refresh_token: Option<Secret>,
    /// `WIX_CLIENT_SECRET`: a Wix Headless client's secret (the admin flow).
    pub client_secret: Option<Secret>,
    /// `WIX_API_KEY`: a Wix API key.
    pub api_key: Option<Secret>,
    /// `WIX_SITE_ID` / `WIX_ACCOUNT_ID`: what an API key's calls are for.
    pub site_id: Option<String>,
    pub account_id: Option<String>,
    /// `WIX_WEBHOOK_PUBLIC_KEY` (a public key: not a secret).
    pub webhook_public_key: Option<String>,
    pub config_dir: Option<PathBuf>,
    pub secret_store: StoreMode,
    pub keyring_service: String,
    pub api_base: Url,
    pub installer_base: Url,
    pub http_timeout: Duration,
    /// `WIXAUTH_NO_CACHE`: the token cache is never written.
    pub no_cache: bool,
    pub browser: Option<String>,
    /// `DISPLAY` or `WAYLAND_DISPLAY` is set.
    pub has_display: bool,
    /// `HOME` is set, so the config folder is found without a user-database lookup.
    pub home_is_set: bool,
    /// The proxy variables that are set, as (name, value); a value may hold a password
    /// (`http://user:pass@host`), so it is a `Secret`, shown only through `doctor`'s redaction.
    pub proxies: Vec<(&'static str, Secret)>,
}

/// The proxy variables reqwest honours, upper and lower case.
pub(crate) const PROXY_VARIABLES: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

impl Env {
    /// The process's environment.
    pub(crate) fn from_process() -> Result<Env> {
        Env::from_lookup(|name| std::env::var_os(name))
    }

    /// The environment as `lookup` answers (tests pass a map).
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Env> {
        // A value that is not UTF-8 cannot be an id, a URL or a secret: say so rather than guess.
        let raw = |name: &str| -> Result<Option<String>> {
            match lookup(name) {
                None => Ok(None),
                Some(v) => v
                    .into_string()
                    .map(Some)
                    .map_err(|_| Error::usage(format!("{name} is not valid UTF-8"))),
            }
        };
        // Trimmed and non-empty, as every variable here is meant.
        let text = |name: &str| -> Result<Option<String>> {
            Ok(raw(name)?
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()))
        };
        let base = |name: &str, default: &str| -> Result<Url> {
            let given = text(name)?;
            crate::core::net::checked_base(name, given.as_deref().unwrap_or(default))
        };
        Ok(Env {
            profile: text("WIXAUTH_PROFILE")?,
            instance_id: text("WIX_INSTANCE_ID")?,
            app_id: text("WIX_APP_ID")?,
            client_id: text("WIX_CLIENT_ID")?,
            app_secret: text("WIX_APP_SECRET")?.map(Secret::new),
            refresh_token: text("WIX_REFRESH_TOKEN")?.map(Secret::new),
            client_secret: text("WIX_CLIENT_SECRET")?.map(Secret::new),
            api_key: text("WIX_API_KEY")?.map(Secret::new),
            site_id: text("WIX_SITE_ID")?,
            account_id: text("WIX_ACCOUNT_ID")?,
            webhook_public_key: text("WIX_WEBHOOK_PUBLIC_KEY")?,
            config_dir: lookup("WIXAUTH_CONFIG_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
            secret_store: StoreMode::parse(text("WIXAUTH_SECRET_STORE")?.as_deref())?,
            keyring_service: raw("WIXAUTH_KEYRING_SERVICE")?
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_KEYRING_SERVICE.to_string()),
            api_base: base("WIXAUTH_API_BASE", DEFAULT_API_BASE)?,
            installer_base: base("WIXAUTH_INSTALLER_BASE", DEFAULT_INSTALLER_BASE)?,
            http_timeout: http_timeout(text("WIXAUTH_HTTP_TIMEOUT")?.as_deref())?,
            no_cache: raw("WIXAUTH_NO_CACHE")?.is_some_and(|v| !v.is_empty() && v != "0"),
            browser: text("BROWSER")?,
            has_display: ["DISPLAY", "WAYLAND_DISPLAY"]
                .iter()
                .any(|v| lookup(v).is_some_and(|d| !d.is_empty())),
            home_is_set: lookup("HOME").is_some_and(|h| !h.is_empty()),
            proxies: {
                let mut set = Vec::new();
                for name in PROXY_VARIABLES {
                    if let Some(value) = text(name)? {
                        set.push((name, Secret::new(value)));
                    }
                }
                set
            },
        })
    }
}

/// Set by the completion scripts only; the leading underscore marks it as their protocol
/// with the binary, not a setting for people.
pub(crate) const COMPLETE_VAR: &str = "_WIXAUTH_COMPLETE";

/// Whether a completion script asks for candidates: [`COMPLETE_VAR`] set, and neither
/// empty nor `0` (clap_complete's own test, which still decides).
pub(crate) fn completion_requested() -> bool {
    std::env::var_os(COMPLETE_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// `WIXAUTH_HTTP_TIMEOUT`: seconds per attempt (fractions allowed), or the default 15 s.
fn http_timeout(value: Option<&str>) -> Result<Duration> {
    let Some(v) = value else {
        return Ok(DEFAULT_HTTP_TIMEOUT);
    };
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Error::usage(format!(
                "WIXAUTH_HTTP_TIMEOUT={v:?} is not a number of seconds between 0 and 3600"
            ))
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An `Env` from name/value pairs, nothing else.
    pub(crate) fn env_of(pairs: &[(&str, &str)]) -> Result<Env> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Env::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let env = env_of(&[]).unwrap();
        assert_eq!(env.api_base.as_str(), "https://www.wixapis.com/");
        assert_eq!(env.http_timeout, DEFAULT_HTTP_TIMEOUT);
        assert_eq!(env.secret_store, StoreMode::Auto);
        assert_eq!(env.keyring_service, "wixauth");
        assert!(!env.no_cache && !env.has_display);
        assert!(env.app_secret.is_none());
    }

    #[test]
    fn values_are_trimmed_and_empty_is_unset() {
        let env = env_of(&[
            ("WIX_APP_ID", "  app  "),
            ("WIX_INSTANCE_ID", "   "),
            ("WIXAUTH_NO_CACHE", "0"),
        ])
        .unwrap();
        assert_eq!(env.app_id.as_deref(), Some("app"));
        assert_eq!(env.instance_id, None);
        assert!(!env.no_cache);
        assert!(env_of(&[("WIXAUTH_NO_CACHE", "1")]).unwrap().no_cache);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for (name, value) in [
            ("WIXAUTH_HTTP_TIMEOUT", "soon"),
            ("WIXAUTH_HTTP_TIMEOUT", "-1"),
            ("WIXAUTH_HTTP_TIMEOUT", "NaN"),
            ("WIXAUTH_SECRET_STORE", "vault"),
            ("WIXAUTH_API_BASE", "http://example.com"),
            ("WIXAUTH_INSTALLER_BASE", "not a url"),
        ] {
            let err = env_of(&[(name, value)]).unwrap_err();
            assert_eq!(err.exit, crate::core::error::Exit::Usage, "{name}={value}");
            assert!(err.message().contains(name), "{err}");
        }
    }

    #[test]
    fn debug_output_shows_no_proxy_password() {
        let env = env_of(&[("HTTPS_PROXY", "http://user:hunter2@proxy:3128")]).unwrap();
        assert_eq!(env.proxies[0].1.expose(), "http://user:hunter2@proxy:3128");
        assert!(!format!("{env:?}").contains("hunter2"), "{env:?}");
    }

    #[test]
    fn every_variable_read_is_documented() {
        // The names read above are exactly the table's (NO_COLOR is clap's to honour).
        let read = std::cell::RefCell::new(Vec::new());
        Env::from_lookup(|name| {
            read.borrow_mut().push(name.to_string());
            None
        })
        .unwrap();
        let mut read = read.into_inner();
        read.push("NO_COLOR".into());
        read.sort();
        read.dedup();
        let mut listed: Vec<String> = VARIABLES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(read, listed);
    }
}
