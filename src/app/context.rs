//! What every command is given: the environment (read once), where files live, the active
//! profile and instance, the loaded config, and the secret store and Wix client, each built
//! once, on first use, so a cache hit never pays for them.

use std::cell::OnceCell;

use crate::core::error::{Error, Invocation, Result};
use crate::core::log::Notes;
use crate::credentials::store::Secrets;
use crate::credentials::Session;
use crate::settings::config::{Config, Paths, Profile, DEFAULT_PROFILE};
use crate::settings::env::Env;
use crate::wix::LazyClient;

pub(crate) struct Context {
    pub env: Env,
    pub paths: Paths,
    /// The active profile: `--profile`, else `WIXAUTH_PROFILE`, else config's `active_profile`
    /// (`wixauth switch`), else `default`.
    pub profile: String,
    /// Where `profile` came from, for the person ("--profile", "WIXAUTH_PROFILE", …).
    pub profile_from: &'static str,
    /// The instance asked for: `--instance`, else `WIX_INSTANCE_ID`; else the profile's default.
    pub instance: Option<String>,
    /// `instance` came from `--instance`.
    pub instance_flag: bool,
    /// How wixauth was called: next steps are printed with the user's own flags.
    pub how: Invocation,
    /// Why config.toml could not be read, when `doctor` went on without it.
    pub config_error: Option<Error>,
    pub config: Config,
    /// Warnings raised below the commands, printed through their `Io`.
    pub notes: Notes,
    secrets: OnceCell<Secrets>,
    wix: LazyClient,
}

impl Context {
    /// `profile` and `instance` are the global flags; the environment fills in what they leave.
    pub(crate) fn load(env: Env, profile: Option<&str>, instance: Option<&str>) -> Result<Context> {
        Self::load_with(env, profile, instance, false)
    }

    /// As [`Context::load`], but a config.toml that cannot be read (an untrusted folder, a
    /// malformed file) is kept in `config_error` with an empty config, and nothing is cached:
    /// `doctor` reports such a folder among its checks and writes nothing there.
    pub(crate) fn load_for_doctor(
        mut env: Env,
        profile: Option<&str>,
        instance: Option<&str>,
    ) -> Result<Context> {
        env.no_cache = true;
        Self::load_with(env, profile, instance, true)
    }

    fn load_with(
        env: Env,
        profile: Option<&str>,
        instance: Option<&str>,
        lenient: bool,
    ) -> Result<Context> {
        let given = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let paths = Paths::new(&env)?;
        let (config, config_error) = match Config::load(&paths.config_file()) {
            Ok(config) => (config, None),
            Err(e) if lenient => (Config::default(), Some(e)),
            Err(e) => return Err(e),
        };
        let (profile, profile_from) = if let Some(p) = given(profile) {
            (p, "--profile")
        } else if let Some(p) = env.profile.clone() {
            (p, "WIXAUTH_PROFILE")
        } else if let Some(p) = given(config.active_profile.as_deref()) {
            (p, "the active profile, see `wixauth switch`")
        } else {
            (DEFAULT_PROFILE.to_string(), "the default")
        };
        let instance_flag = given(instance).is_some();
        let instance = given(instance).or_else(|| env.instance_id.clone());
        let wix = LazyClient::new(env.api_base.clone(), env.http_timeout);
        Ok(Context {
            env,
            paths,
            profile,
            profile_from,
            instance,
            instance_flag,
            how: Invocation::default(),
            config_error,
            config,
            notes: Notes::default(),
            secrets: OnceCell::new(),
            wix,
        })
    }

    pub(crate) fn active_profile(&self) -> Option<&Profile> {
        self.config.profile(&self.profile)
    }

    pub(crate) fn secrets(&self) -> &Secrets {
        self.secrets.get_or_init(|| {
            Secrets::new(
                self.env.secret_store,
                &self.env.keyring_service,
                &self.paths,
                self.notes.clone(),
            )
        })
    }

    pub(crate) fn wix(&self) -> &LazyClient {
        &self.wix
    }

    /// The credential logic, borrowing this run's parts.
    pub(crate) fn session(&self) -> Session<'_> {
        Session {
            env: &self.env,
            paths: &self.paths,
            config: &self.config,
            profile: &self.profile,
            instance_flag: self.instance_flag,
            secrets: self.secrets(),
            wix: &self.wix,
            notes: &self.notes,
        }
    }

    pub(crate) fn reload_config(&mut self) -> Result<()> {
        self.config = Config::load(&self.paths.config_file())?;
        Ok(())
    }
}
