//! Cached access tokens: one 0600 JSON file per app instance in `tokens/`.
//!
//! Not the keyring: a cache hit must not wait on D-Bus, and Windows caps keyring entries
//! near 1,280 characters. A corrupt or unreadable cache entry is just a miss.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::Flow;
use crate::error::Result;
use crate::fsutil;
use crate::log::{debug, Notes};
use crate::secret::Secret;
use crate::wix::TokenGrant;

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Debug, Clone)]
pub(crate) struct CachedToken {
    pub access_token: Secret,
    pub token_type: String,
    /// Unix seconds.
    pub expires_at: u64,
    pub app_id: String,
    pub instance_id: Option<String>,
    pub flow: Flow,
}

impl CachedToken {
    /// The token a grant just gave, as it is cached.
    pub(crate) fn from_grant(
        grant: &TokenGrant,
        app_id: &str,
        instance_id: Option<&str>,
        flow: Flow,
    ) -> CachedToken {
        CachedToken {
            access_token: grant.access_token.clone(),
            token_type: grant.token_type.clone(),
            expires_at: now_unix().saturating_add(grant.expires_in),
            app_id: app_id.to_string(),
            instance_id: instance_id.map(str::to_string),
            flow,
        }
    }

    /// Seconds left at `now` (negative once expired).
    pub(crate) fn ttl(&self, now: u64) -> i64 {
        let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        signed(self.expires_at).saturating_sub(signed(now))
    }
}

/// The on-disk form; `Secret` deliberately has no serde impls.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    token_type: String,
    expires_at: u64,
    app_id: String,
    instance_id: Option<String>,
    flow: Flow,
}

pub(crate) struct TokenCache {
    pub(crate) dir: PathBuf,
    /// `WIXAUTH_NO_CACHE` turns writing off (for every writer, `login` included).
    pub(crate) writes: bool,
    /// Where "was readable by others; its mode is now 0600" goes.
    pub(crate) notes: Notes,
}

impl TokenCache {
    /// The cache entry name for an app instance (or for an env refresh token with no instance).
    pub(crate) fn key(app_id: &str, instance: Option<&str>) -> String {
        format!(
            "{}.{}",
            fsutil::safe_file_stem(app_id),
            fsutil::safe_file_stem(instance.unwrap_or("env-refresh-token"))
        )
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The cached token, `None` on a miss. An unreadable or corrupt entry is a miss; an
    /// untrusted one (a symlink, a FIFO, another user's folder) is refused (exit 2).
    pub(crate) fn load(&self, key: &str) -> Result<Option<CachedToken>> {
        let text = match fsutil::read_private(&self.path(key), &self.notes) {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(None),
            Err(e) if e.exit == crate::error::Exit::Usage => return Err(e),
            Err(e) => {
                debug!("token cache unreadable, ignoring it: {e}");
                return Ok(None);
            }
        };
        Ok(match serde_json::from_str::<Stored>(&text) {
            Ok(s) => Some(CachedToken {
                access_token: Secret::new(s.access_token),
                token_type: s.token_type,
                expires_at: s.expires_at,
                app_id: s.app_id,
                instance_id: s.instance_id,
                flow: s.flow,
            }),
            Err(_) => {
                debug!("token cache entry {key} is corrupt, ignoring it");
                None
            }
        })
    }

    /// Writes a token, unless `WIXAUTH_NO_CACHE` says never to (checked here, so every
    /// writer, `login` included, honours it).
    pub(crate) fn save(&self, key: &str, token: &CachedToken) -> Result<()> {
        if !self.writes {
            debug!("WIXAUTH_NO_CACHE set: not caching the token");
            return Ok(());
        }
        let stored = Stored {
            access_token: token.access_token.expose().to_string(),
            token_type: token.token_type.clone(),
            expires_at: token.expires_at,
            app_id: token.app_id.clone(),
            instance_id: token.instance_id.clone(),
            flow: token.flow,
        };
        let text = serde_json::to_vec(&stored).unwrap_or_default();
        fsutil::write_private_atomic(&self.path(key), &text)
    }

    pub(crate) fn remove(&self, key: &str) -> Result<()> {
        fsutil::remove_if_exists(&self.path(key))
    }

    /// Removes every cached token of an app (logout --all).
    pub(crate) fn remove_app(&self, app_id: &str) -> Result<()> {
        let prefix = format!("{}.", fsutil::safe_file_stem(app_id));
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                fsutil::remove_if_exists(&entry.path())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: u64) -> CachedToken {
        CachedToken {
            access_token: Secret::new("tok"),
            token_type: "Bearer".into(),
            expires_at,
            app_id: "app".into(),
            instance_id: Some("i1".into()),
            flow: Flow::Basic,
        }
    }

    #[test]
    fn round_trip_and_corruption_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache {
            dir: dir.path().to_path_buf(),
            writes: true,
            notes: Notes::default(),
        };
        let key = TokenCache::key("app", Some("i1"));
        assert!(cache.load(&key).unwrap().is_none());
        cache.save(&key, &token(100)).unwrap();
        let back = cache.load(&key).unwrap().unwrap();
        assert_eq!((back.access_token.expose(), back.expires_at), ("tok", 100));
        std::fs::write(cache.path(&key), "{garbage").unwrap();
        assert!(cache.load(&key).unwrap().is_none());
    }

    #[test]
    fn ttl_goes_negative() {
        assert_eq!(token(100).ttl(40), 60);
        assert_eq!(token(100).ttl(160), -60);
    }

    #[test]
    fn remove_app_removes_only_that_app() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache {
            dir: dir.path().to_path_buf(),
            writes: true,
            notes: Notes::default(),
        };
        cache
            .save(&TokenCache::key("app", Some("i1")), &token(1))
            .unwrap();
        cache
            .save(&TokenCache::key("app", Some("i2")), &token(1))
            .unwrap();
        cache
            .save(&TokenCache::key("other", Some("i1")), &token(1))
            .unwrap();
        cache.remove_app("app").unwrap();
        assert!(cache
            .load(&TokenCache::key("app", Some("i2")))
            .unwrap()
            .is_none());
        assert!(cache
            .load(&TokenCache::key("other", Some("i1")))
            .unwrap()
            .is_some());
    }
}
