//! What every command is given: where files live, the active profile, the loaded config,
//! and the terminal streams. Stores and the Wix client are made on demand, so a cache
//! hit never pays for them.

use std::io::{IsTerminal, Write};

use crate::cache::TokenCache;
use crate::config::{Config, Paths, Profile, DEFAULT_PROFILE};
use crate::error::{Error, Result};
use crate::store::{Secrets, StoreMode};
use crate::wix::{self, WixClient};

/// Standard streams plus what they are connected to; tests swap in buffers.
pub struct Io {
    pub out: Box<dyn Write>,
    pub err: Box<dyn Write>,
    pub stdin_tty: bool,
    pub stdout_tty: bool,
    pub stderr_tty: bool,
}

impl Io {
    pub fn system() -> Io {
        Io {
            out: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
            stdin_tty: std::io::stdin().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    /// Prompts need a person: a TTY on both stdin and stderr.
    pub fn can_prompt(&self) -> bool {
        self.stdin_tty && self.stderr_tty
    }

    /// Writes the requested data to stdout.
    pub fn print(&mut self, text: &str) -> Result<()> {
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::failure(format!("cannot write to stdout: {e}")))
    }

    /// A status line on stderr (never data).
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.err, "{text}");
    }
}

pub struct Context {
    pub paths: Paths,
    pub profile: String,
    pub config: Config,
}

impl Context {
    pub fn load(profile: Option<String>) -> Result<Context> {
        let paths = Paths::from_env()?;
        let profile = profile
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
        let config = Config::load(&paths.config_file())?;
        Ok(Context {
            paths,
            profile,
            config,
        })
    }

    pub fn active_profile(&self) -> Option<&Profile> {
        self.config.profile(&self.profile)
    }

    pub fn secrets(&self) -> Result<Secrets> {
        Ok(Secrets::new(StoreMode::from_env()?, &self.paths))
    }

    pub fn cache(&self) -> TokenCache {
        TokenCache {
            dir: self.paths.cache_dir(),
        }
    }

    pub fn api_base(&self) -> Result<url::Url> {
        wix::base_url("WIXAUTH_API_BASE", wix::DEFAULT_API_BASE)
    }

    pub fn installer_base(&self) -> Result<url::Url> {
        wix::base_url("WIXAUTH_INSTALLER_BASE", wix::DEFAULT_INSTALLER_BASE)
    }

    pub fn wix(&self) -> Result<WixClient> {
        WixClient::new(self.api_base()?)
    }

    pub fn reload_config(&mut self) -> Result<()> {
        self.config = Config::load(&self.paths.config_file())?;
        Ok(())
    }
}
