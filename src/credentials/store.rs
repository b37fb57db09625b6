//! The secret store: app secrets and refresh tokens, one small entry each.
//!
//! Two implementations of [`SecretStore`]: the OS keyring and a 0600 file in the config
//! folder. [`Secrets`] picks between them as `WIXAUTH_SECRET_STORE` says, and falls back to
//! the file loudly, never silently. (Secrets from the environment are `Env`'s.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::core::error::{Error, Result};
use crate::core::fsutil::{self, FileLock};
use crate::core::log::{debug, Notes};
use crate::core::secret::Secret;
use crate::settings::config::{Paths, StoreKind};
use crate::settings::env::StoreMode;

/// gh and stripe bound keyring calls the same way after users saw hangs on locked keyrings.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

/// The name of one secret in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretKey {
    /// An app's secret in a profile, named with the app id: a login to another app writes a
    /// new entry, switches the config, and only then removes the old one, so a failure in
    /// between never pairs the old app id with the new secret. `app: None` is the name
    /// wixauth 0.1 wrote, still read.
    AppSecret {
        profile: String,
        app: Option<String>,
    },
    RefreshToken {
        profile: String,
        instance: String,
    },
    /// The private half of a profile's webhook development key (`webhook dev-key`), named
    /// with the key's id: a rotation writes a new entry before the old one goes.
    WebhookDevKey {
        profile: String,
        id: String,
    },
    /// A Wix Headless client's secret (admin flow), named with the client id as app secrets are.
    ClientSecret {
        profile: String,
        client: String,
    },
    /// An API key profile's key.
    ApiKey {
        profile: String,
    },
}

/// Where a Wix Headless profile's refresh token is kept: named like an instance's, with this
/// in the instance's place (never an instance id: those are checked to look like Wix's).
const HEADLESS_ENTRY: &str = "headless-client";

impl SecretKey {
    pub(crate) fn app_secret(profile: &str, app: &str) -> Self {
        SecretKey::AppSecret {
            profile: profile.to_string(),
            app: Some(app.to_string()),
        }
    }
    /// The app secret's name before it carried the app id.
    pub(crate) fn legacy_app_secret(profile: &str) -> Self {
        SecretKey::AppSecret {
            profile: profile.to_string(),
            app: None,
        }
    }
    /// A Wix Headless profile's refresh token (visitor or member).
    pub(crate) fn headless_refresh(profile: &str) -> Self {
        Self::refresh_token(profile, HEADLESS_ENTRY)
    }
    pub(crate) fn refresh_token(profile: &str, instance: &str) -> Self {
        SecretKey::RefreshToken {
            profile: profile.to_string(),
            instance: instance.to_string(),
        }
    }
    pub(crate) fn webhook_dev_key(profile: &str, id: &str) -> Self {
        SecretKey::WebhookDevKey {
            profile: profile.to_string(),
            id: id.to_string(),
        }
    }
    pub(crate) fn client_secret(profile: &str, client: &str) -> Self {
        SecretKey::ClientSecret {
            profile: profile.to_string(),
            client: client.to_string(),
        }
    }
    pub(crate) fn api_key(profile: &str) -> Self {
        SecretKey::ApiKey {
            profile: profile.to_string(),
        }
    }
    /// The entry's name: the keyring account, or the key in the secrets file.
    pub(crate) fn entry_name(&self) -> String {
        match self {
            SecretKey::AppSecret { profile, app: None } => format!("{profile}/app-secret"),
            SecretKey::AppSecret {
                profile,
                app: Some(app),
            } => format!("{profile}/app-secret#{app}"),
            SecretKey::RefreshToken { profile, instance } => {
                format!("{profile}/{instance}/refresh-token")
            }
            SecretKey::WebhookDevKey { profile, id } => format!("{profile}/webhook-dev-key#{id}"),
            SecretKey::ClientSecret { profile, client } => {
                format!("{profile}/client-secret#{client}")
            }
            SecretKey::ApiKey { profile } => format!("{profile}/api-key"),
        }
    }
}

/// Whether a secrets-file entry name is one `profile` wrote: exactly one of the names above,
/// never another profile's whose name starts alike (`ci` and `ci/staging`).
fn entry_of(name: &str, profile: &str) -> bool {
    let Some(rest) = name.strip_prefix(profile).and_then(|r| r.strip_prefix('/')) else {
        return false;
    };
    let one_word = |w: &str| !w.is_empty() && !w.contains('/');
    rest == "app-secret"
        || rest == "api-key"
        || rest.strip_prefix("app-secret#").is_some_and(one_word)
        || rest.strip_prefix("webhook-dev-key#").is_some_and(one_word)
        || rest.strip_prefix("client-secret#").is_some_and(one_word)
        || rest.strip_suffix("/refresh-token").is_some_and(one_word)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreError {
    /// The store cannot be reached at all (no Secret Service, no answer in time).
    Unavailable(String),
    /// The keyring is there but locked (its unlock prompt cannot be answered here).
    Locked(String),
    /// The store answered with an error.
    Failed(String),
    /// The secrets file is not TOML (someone edited it): where, never what.
    Malformed(String),
    /// The secrets file or its folder cannot be trusted (a symlink, a FIFO, another user's
    /// folder): a configuration error (exit 2), whose message says what to fix.
    Untrusted(String),
}

impl StoreError {
    /// `fsutil`'s refusals (exit 2) stay refusals; other I/O errors are failures.
    fn from_file(e: Error) -> Self {
        if e.exit == crate::core::error::Exit::Usage {
            StoreError::Untrusted(e.to_string())
        } else {
            StoreError::Failed(e.to_string())
        }
    }

    /// As an error for the user, `what` saying what was being done.
    fn into_error(self, what: &str) -> Error {
        match self {
            StoreError::Untrusted(why) => Error::usage(format!("{what}: {why}")),
            StoreError::Malformed(why) => Error::usage(format!("{what}: {why}")).hint(
                "fix that line (each is `\"profile/…\" = \"value\"`), or move the file away and log in again with `wixauth login`",
            ),
            other => Error::failure(format!("{what}: {other}")),
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(why)
            | StoreError::Locked(why)
            | StoreError::Malformed(why)
            | StoreError::Failed(why)
            | StoreError::Untrusted(why) => f.write_str(why),
        }
    }
}

pub(crate) trait SecretStore {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, StoreError>;
    fn set(&self, key: &SecretKey, value: &Secret) -> Result<(), StoreError>;
    fn delete(&self, key: &SecretKey) -> Result<(), StoreError>;
}

// ---------------------------------------------------------------- keyring

/// The OS keyring: Secret Service on Linux, Keychain on macOS, Credential Manager on Windows.
pub(crate) struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub(crate) fn new(service: impl Into<String>) -> Self {
        KeyringStore {
            service: service.into(),
        }
    }

    /// Runs one keyring call on a helper thread and gives up after [`KEYRING_TIMEOUT`]:
    /// a keyring waiting for an unlock prompt nobody can see must not hang the CLI.
    fn bounded<T: Send + 'static>(
        &self,
        key: &SecretKey,
        call: impl FnOnce(keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let entry = keyring::Entry::new(&self.service, &key.entry_name()).map_err(classify)?;
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        std::thread::spawn(move || {
            let _ = tx.send(call(entry));
        });
        let answer = rx.recv_timeout(KEYRING_TIMEOUT);
        debug!(
            "keyring call for {} took {:?}",
            key.entry_name(),
            started.elapsed()
        );
        match answer {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(StoreError::Unavailable(format!(
                "the keyring did not answer within {} s",
                KEYRING_TIMEOUT.as_secs()
            ))),
        }
    }
}

fn classify(err: keyring::Error) -> StoreError {
    match err {
        keyring::Error::PlatformFailure(e) => StoreError::Unavailable(e.to_string()),
        keyring::Error::NoStorageAccess(e) => StoreError::Locked(e.to_string()),
        other => StoreError::Failed(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, StoreError> {
        self.bounded(key, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
    }
    fn set(&self, key: &SecretKey, value: &Secret) -> Result<(), StoreError> {
        let value = value.clone();
        self.bounded(key, move |entry| entry.set_password(value.expose()))
    }
    fn delete(&self, key: &SecretKey) -> Result<(), StoreError> {
        self.bounded(key, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
    }
}

// ---------------------------------------------------------------- file

/// A TOML table of entry name → value, mode 0600, rewritten atomically under a lock.
pub(crate) struct FileStore {
    pub(crate) path: PathBuf,
    lock: PathBuf,
    /// Where "was readable by others; its mode is now 0600" goes.
    notes: Notes,
}

impl FileStore {
    pub(crate) fn new(paths: &Paths, notes: Notes) -> Self {
        FileStore {
            path: paths.secrets_file(),
            lock: paths.lock_file("secrets"),
            notes,
        }
    }

    fn read(&self) -> Result<BTreeMap<String, String>, StoreError> {
        match fsutil::read_private(&self.path, &self.notes).map_err(StoreError::from_file)? {
            None => Ok(BTreeMap::new()),
            Some(text) => parse_entries(&text, &self.path),
        }
    }

    fn rewrite(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), StoreError> {
        let failed = StoreError::from_file;
        let (_lock, _) = FileLock::acquire(&self.lock).map_err(failed)?;
        let mut entries = self.read()?;
        change(&mut entries);
        if entries.is_empty() {
            return fsutil::remove_if_exists(&self.path).map_err(failed);
        }
        let text = entries_text(&entries)?;
        fsutil::write_private_atomic(&self.path, text.as_bytes()).map_err(failed)
    }
}

/// The secrets file's text (from `path`, named in the error) as entry name → value.
pub(crate) fn parse_entries(
    text: &str,
    path: &std::path::Path,
) -> Result<BTreeMap<String, String>, StoreError> {
    toml::from_str(text).map_err(|e| {
        // The parser's message can quote the file, which holds secrets: say only where.
        let at = e
            .span()
            .map(|s| format!(" at line {}", crate::core::text::line_of(text, s.start)))
            .unwrap_or_default();
        StoreError::Malformed(format!("secrets file {} is malformed{at}", path.display()))
    })
}

/// The secrets file's text for `entries`, as written.
pub(crate) fn entries_text(entries: &BTreeMap<String, String>) -> Result<String, StoreError> {
    toml::to_string(entries).map_err(|e| StoreError::Failed(e.to_string()))
}

impl SecretStore for FileStore {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, StoreError> {
        Ok(self.read()?.remove(&key.entry_name()).map(Secret::new))
    }
    fn set(&self, key: &SecretKey, value: &Secret) -> Result<(), StoreError> {
        self.rewrite(|entries| {
            entries.insert(key.entry_name(), value.expose().to_string());
        })
    }
    fn delete(&self, key: &SecretKey) -> Result<(), StoreError> {
        if self.read()?.contains_key(&key.entry_name()) {
            self.rewrite(|entries| {
                entries.remove(&key.entry_name());
            })?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- choice

/// Where secrets are read and written, as `WIXAUTH_SECRET_STORE` and the config say.
pub(crate) struct Secrets {
    mode: StoreMode,
    keyring: KeyringStore,
    file: FileStore,
    notes: Notes,
    warned: std::cell::Cell<bool>,
}

impl Secrets {
    pub(crate) fn new(mode: StoreMode, service: &str, paths: &Paths, notes: Notes) -> Self {
        debug!("secret store mode {mode:?}, keyring service {service:?}");
        Secrets {
            mode,
            keyring: KeyringStore::new(service),
            file: FileStore::new(paths, notes.clone()),
            notes,
            warned: false.into(),
        }
    }

    pub(crate) fn file_path(&self) -> &std::path::Path {
        &self.file.path
    }

    fn store(&self, kind: StoreKind) -> &dyn SecretStore {
        match kind {
            StoreKind::Keyring => &self.keyring,
            StoreKind::File => &self.file,
        }
    }

    fn warn_fallback(&self, why: &StoreError) {
        if !self.warned.replace(true) {
            let state = match why {
                StoreError::Locked(_) => "is locked",
                _ => "is not available",
            };
            self.notes.warn(format!(
                "the OS keyring {state} ({why}); using the plain-text file {} (mode 0600) instead. Set WIXAUTH_SECRET_STORE=keyring to make this an error.",
                self.file.path.display()
            ));
        }
    }

    /// The keyring cannot be used. `holds_them`: it holds this profile's secrets, so the file
    /// store would not find them (no use suggesting it).
    fn keyring_error(&self, why: &StoreError, holds_them: bool) -> Error {
        let error = match why {
            StoreError::Locked(e) => Error::usage(format!("the OS keyring is locked ({e})")),
            other => Error::usage(format!("the OS keyring is not available ({other})")),
        };
        let unlock = match why {
            StoreError::Locked(_) => "unlock it (log in to the desktop session, or on Linux `gnome-keyring-daemon --unlock`), then run the command again",
            _ => "start it (on Linux a Secret Service such as gnome-keyring), then run the command again",
        };
        match holds_them || self.mode != StoreMode::Keyring {
            true => error.hint(unlock),
            false => error.hint(format!("{unlock}, or set WIXAUTH_SECRET_STORE=file")),
        }
    }

    /// Stores a secret and says where it went. In `auto` mode a keyring that cannot be
    /// reached sends it to the file, with a warning that names the file.
    pub(crate) fn put(&self, key: &SecretKey, value: &Secret) -> Result<StoreKind> {
        let to_file = |why: Option<&StoreError>| -> Result<StoreKind> {
            if let Some(why) = why {
                self.warn_fallback(why);
            }
            self.file
                .set(key, value)
                .map_err(|e| e.into_error("cannot store the secret"))?;
            debug!(
                "stored {} in file {}",
                key.entry_name(),
                self.file.path.display()
            );
            Ok(StoreKind::File)
        };
        match self.mode {
            StoreMode::File => to_file(None),
            StoreMode::Keyring | StoreMode::Auto => match self.keyring.set(key, value) {
                Ok(()) => {
                    debug!("stored {} in the keyring", key.entry_name());
                    // A copy in the file would shadow nothing, but must not linger in plain text.
                    self.file
                        .delete(key)
                        .map_err(|e| e.into_error("cannot remove the plain-text copy"))?;
                    Ok(StoreKind::Keyring)
                }
                Err(why @ (StoreError::Unavailable(_) | StoreError::Locked(_)))
                    if self.mode == StoreMode::Auto =>
                {
                    to_file(Some(&why))
                }
                Err(why @ (StoreError::Unavailable(_) | StoreError::Locked(_))) => {
                    Err(self.keyring_error(&why, false))
                }
                Err(
                    StoreError::Failed(why)
                    | StoreError::Untrusted(why)
                    | StoreError::Malformed(why),
                ) => Err(Error::failure(format!(
                    "the keyring refused the secret: {why}"
                ))),
            },
        }
    }

    /// Reads a secret: from the store login recorded (`hint`), else as the mode says.
    pub(crate) fn get(
        &self,
        key: &SecretKey,
        hint: Option<StoreKind>,
    ) -> Result<Option<(Secret, StoreKind)>> {
        let order: &[StoreKind] = match (self.mode, hint) {
            (StoreMode::File, _) => &[StoreKind::File],
            (StoreMode::Keyring, _) => &[StoreKind::Keyring],
            (StoreMode::Auto, Some(StoreKind::File)) => &[StoreKind::File],
            (StoreMode::Auto, _) => &[StoreKind::Keyring, StoreKind::File],
        };
        for &kind in order {
            match self.store(kind).get(key) {
                Ok(Some(secret)) => {
                    debug!("read {} from the {kind}", key.entry_name());
                    return Ok(Some((secret, kind)));
                }
                Ok(None) => {}
                Err(why @ (StoreError::Unavailable(_) | StoreError::Locked(_)))
                    if kind == StoreKind::Keyring =>
                {
                    let holds_them = hint == Some(StoreKind::Keyring);
                    if self.mode == StoreMode::Keyring || holds_them {
                        return Err(self.keyring_error(&why, holds_them));
                    }
                    self.warn_fallback(&why);
                }
                Err(e) => return Err(e.into_error(&format!("cannot read the {kind} store"))),
            }
        }
        Ok(None)
    }

    /// Whether the keyring answers: a read of `key` (one of ours, which a locked keyring must
    /// unlock for), else of an entry that is never written. `wixauth doctor`.
    pub(crate) fn probe_keyring(&self, key: Option<&SecretKey>) -> Result<(), StoreError> {
        let never = SecretKey::legacy_app_secret("wixauth-doctor-probe");
        self.keyring.get(key.unwrap_or(&never)).map(|_| ())
    }

    /// Removes every entry of exactly `profile` from the secrets file, those of instances a
    /// later login dropped included (the keyring cannot be listed: its entries are removed
    /// by name). Another profile whose name starts alike keeps its own.
    pub(crate) fn delete_file_entries_of(&self, profile: &str) -> Result<()> {
        let has_any = self
            .file
            .read()
            .map_err(|e| Error::failure(format!("cannot read the secrets file: {e}")))?
            .keys()
            .any(|k| entry_of(k, profile));
        if has_any {
            self.file
                .rewrite(|entries| entries.retain(|k, _| !entry_of(k, profile)))
                .map_err(|e| Error::failure(format!("cannot update the secrets file: {e}")))?;
        }
        Ok(())
    }

    /// Removes a secret from every store; an unreachable keyring is reported, not fatal.
    /// `hint` is where login put the profile's secrets: an unreachable keyring that holds
    /// them is reported, since its entries stay behind.
    pub(crate) fn delete_everywhere(&self, key: &SecretKey, hint: Option<StoreKind>) -> Result<()> {
        self.file
            .delete(key)
            .map_err(|e| e.into_error("cannot update the secrets file"))?;
        if self.mode == StoreMode::File {
            return Ok(());
        }
        match self.keyring.delete(key) {
            Ok(()) => Ok(()),
            Err(why @ (StoreError::Unavailable(_) | StoreError::Locked(_))) => {
                debug!(
                    "keyring not reachable while deleting {}: {why}",
                    key.entry_name()
                );
                if hint == Some(StoreKind::Keyring) && !self.warned.replace(true) {
                    self.notes.warn(format!(
                        "the OS keyring is not available ({why}), so the secrets wixauth stored there were not removed; run `wixauth logout` again once it is unlocked"
                    ));
                }
                Ok(())
            }
            Err(e) => Err(Error::failure(format!(
                "cannot delete from the keyring: {e}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
