//! `config.toml`: non-secret settings per profile (one Wix app each).
//!
//! Unknown keys are kept on rewrite, so a newer wixauth's settings survive an older one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::error::{Error, Result};
use crate::core::fsutil::{self, FileLock};
use crate::settings::env::Env;
use crate::settings::flow::Kind;
use crate::settings::Flow;

pub(crate) const DEFAULT_PROFILE: &str = "default";
pub(crate) const DEFAULT_REDIRECT_URL: &str = "http://localhost:8338/callback";

/// Which secret store holds a profile's secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StoreKind {
    Keyring,
    File,
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreKind::Keyring => "keyring",
            StoreKind::File => "file",
        })
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct Config {
    /// The profile used when neither `--profile` nor `WIXAUTH_PROFILE` names one (`wixauth switch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    #[serde(flatten)]
    pub unknown: toml::Table,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// A Wix Headless OAuth client id; a profile has either this or `app_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<Flow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// The instance commands act for when none is named: the last one logged in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_instance: Option<String>,
    /// Where login put this profile's secrets, so reads go straight there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_store: Option<StoreKind>,
    #[serde(default)]
    pub instances: BTreeMap<String, Instance>,
    /// The Wix API base the profile's secrets were stored for: they are sent nowhere else.
    /// Unset (a profile from wixauth 0.1): Wix's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// The app's webhook public key (PEM; public, so not in the secret store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_public_key: Option<String>,
    /// `webhook dev-key`: the development key pair's public half; the private half is in
    /// the secret store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_dev_key: Option<DevKeyRecord>,
    /// An API key profile: the site (`wix-site-id`) and/or account (`wix-account-id`) its calls are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// A one-way fingerprint of the stored client secret (admin flow), never the secret: it
    /// names the cached tokens that secret minted, so a cache hit reads no secret store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_fingerprint: Option<String>,
    #[serde(flatten)]
    pub unknown: toml::Table,
}

/// Where a profile's webhook development key is: its id (in the secret entry's name and the
/// JWT `kid`), its public key (PEM), and which store holds the private key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DevKeyRecord {
    pub id: String,
    pub public_key: String,
    pub store: StoreKind,
    #[serde(flatten)]
    pub unknown: toml::Table,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Instance {
    pub flow: Flow,
    /// The site's name as Wix last gave it (a login, `whoami`, `status --check`), for people
    /// choosing an instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    /// The site's URL as Wix last gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
    /// How wixauth learnt of the instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<InstanceSource>,
    /// When it was last logged in, delivered or refreshed (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<u64>,
    /// Wix said the app is no longer installed there (`instances refresh`); kept until pruned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    #[serde(flatten)]
    pub unknown: toml::Table,
}

/// How an instance came to be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum InstanceSource {
    Login,
    Webhook,
    Import,
}

impl InstanceSource {
    /// As config.toml and `instances --json` name it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            InstanceSource::Login => "login",
            InstanceSource::Webhook => "webhook",
            InstanceSource::Import => "import",
        }
    }
}

impl Profile {
    /// What the profile holds: an app, a Wix Headless client, or an API key.
    pub(crate) fn kind(&self) -> Kind {
        match self.flow {
            Some(flow) => flow.kind(),
            None if self.client_id.is_some() => Kind::Headless,
            None => Kind::App,
        }
    }

    /// The profile belongs to a Wix Headless client (visitor/member/admin), not an app.
    pub(crate) fn is_headless(&self) -> bool {
        self.kind() == Kind::Headless
    }
}

impl Instance {
    pub(crate) fn new(flow: Flow, source: InstanceSource, now: u64) -> Self {
        Instance {
            flow,
            site_name: None,
            site_url: None,
            source: Some(source),
            last_seen: Some(now),
            removed: false,
            unknown: toml::Table::new(),
        }
    }
}

/// Where wixauth keeps its files.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub(crate) dir: PathBuf,
}

impl Paths {
    /// `WIXAUTH_CONFIG_DIR`, else the platform config dir + `/wixauth`.
    pub(crate) fn new(env: &Env) -> Result<Paths> {
        if let Some(dir) = &env.config_dir {
            return Ok(Paths { dir: dir.clone() });
        }
        if !env.home_is_set {
            // The home folder then comes from the user database.
            crate::core::nss::builtin_services_only();
        }
        let base = dirs::config_dir().ok_or_else(|| {
            Error::usage("cannot find a config folder for this user: set WIXAUTH_CONFIG_DIR")
        })?;
        Ok(Paths {
            dir: base.join("wixauth"),
        })
    }
    pub(crate) fn config_file(&self) -> PathBuf {
        self.dir.join("config.toml")
    }
    pub(crate) fn secrets_file(&self) -> PathBuf {
        self.dir.join("secrets.toml")
    }
    pub(crate) fn cache_dir(&self) -> PathBuf {
        self.dir.join("tokens")
    }
    pub(crate) fn lock_file(&self, name: &str) -> PathBuf {
        self.dir
            .join("locks")
            .join(format!("{}.lock", fsutil::safe_file_stem(name)))
    }
}

impl Config {
    pub(crate) fn load(path: &Path) -> Result<Config> {
        match fsutil::read_optional(path)? {
            None => Ok(Config::default()),
            Some(text) => Config::parse(&text, path),
        }
    }

    /// The file's text (from `path`, named in the error).
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| crate::core::text::line_of(text, s.start));
            let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
            // The parser's message quotes the file (`unknown variant ...`): escaped, as the
            // line goes to the terminal.
            Error::usage(format!(
                "config file {} is malformed{at}: {}; fix that line, or remove the file and run `wixauth login` again",
                path.display(),
                crate::core::text::printable(e.message(), 200)
            ))
        })
    }

    pub(crate) fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// Read-modify-write under the config lock, so two logins never lose each other's changes.
    pub(crate) fn update<T>(paths: &Paths, change: impl FnOnce(&mut Config) -> T) -> Result<T> {
        let (_lock, _) = FileLock::acquire(&paths.lock_file("config"))?;
        let path = paths.config_file();
        let mut config = Config::load(&path)?;
        let out = change(&mut config);
        let text = config.text(&path)?;
        fsutil::write_private_atomic(&path, text.as_bytes())?;
        Ok(out)
    }

    /// The file's text as written for `path` (named in the error).
    pub(crate) fn text(&self, path: &Path) -> Result<String> {
        toml::to_string_pretty(self)
            .map_err(|e| Error::failure(format!("cannot serialise {}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_file_names_path_and_line() {
        let err = Config::parse(
            "[profiles.default]\napp_id = \"a\"\nflow = = 3\n",
            Path::new("/x/config.toml"),
        )
        .unwrap_err();
        assert_eq!(err.exit, crate::core::error::Exit::Usage);
        assert!(err.message().contains("/x/config.toml"), "{err}");
        assert!(err.message().contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_keys_survive_a_rewrite() {
        let text = "future = 1\n[profiles.default]\napp_id = \"a\"\ncolour = \"red\"\n[profiles.default.instances.i1]\nflow = \"basic\"\nnote = \"x\"\n";
        let config = Config::parse(text, Path::new("c")).unwrap();
        let again = toml::to_string_pretty(&config).unwrap();
        for key in ["future", "colour", "note"] {
            assert!(again.contains(key), "{key} lost: {again}");
        }
        assert_eq!(config.profiles["default"].instances["i1"].flow, Flow::Basic);
    }

    /// Found by the config_toml fuzz target: serde's "unknown variant" quoted the file's
    /// value raw, bidi and C1 controls and escape sequences included.
    #[test]
    fn the_error_escapes_what_it_quotes_from_the_file() {
        for value in [r"\u202e", r"\u009b31m", r"\u001b]0;owned\u0007"] {
            let text = format!("[profiles.p]\nflow = \"{value}\"\n");
            let err = Config::parse(&text, Path::new("c")).unwrap_err();
            let line = err.message();
            assert_eq!(crate::core::text::printable(&line, usize::MAX), line);
            assert!(line.contains("unknown variant `\\u{"), "{line}");
        }
    }

    #[test]
    fn wrong_value_type_is_a_usage_error() {
        let err = Config::parse("[profiles.p]\nflow = \"sideways\"\n", Path::new("c")).unwrap_err();
        assert_eq!(err.exit, crate::core::error::Exit::Usage);
        assert!(err.message().contains("line 2"), "{err}");
    }
}
