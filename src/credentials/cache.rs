//! Cached access tokens: one 0600 JSON file per set of credentials in `tokens/`.
//!
//! Not the keyring: a cache hit must not wait on D-Bus, and Windows caps keyring entries
//! near 1,280 characters. A corrupt or unreadable cache entry is just a miss. A token is only
//! ever handed out for the exact credentials that minted it: the entry's name is a hash of its
//! [`CacheKey`], and the key is recorded in the entry and compared on every read.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::core::error::Result;
use crate::core::fsutil;
use crate::core::log::{debug, Notes};
use crate::core::secret::Secret;
use crate::settings::Flow;
use crate::wix::TokenGrant;

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a cached token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CacheKey {
    /// The Wix API base the token was minted at (an emulator's token is not Wix's).
    pub api: String,
    pub app_id: String,
    /// `None` only for an environment refresh token with no instance named.
    pub instance_id: Option<String>,
    /// A fingerprint of credentials that came from the environment (`WIX_APP_SECRET`,
    /// `WIX_REFRESH_TOKEN`), so a wrong or another site's secret never gets a cached token.
    pub credential: Option<String>,
    /// The profile whose stored refresh token minted a Wix Headless token: two profiles of
    /// one client hold two visitors or members, and never get each other's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

impl CacheKey {
    pub(crate) fn new(
        api: &url::Url,
        app_id: &str,
        instance_id: Option<&str>,
        env_credentials: &[&Secret],
    ) -> CacheKey {
        CacheKey {
            api: api.as_str().to_string(),
            app_id: app_id.to_string(),
            instance_id: instance_id.map(str::to_string),
            credential: fingerprint(env_credentials),
            holder: None,
        }
    }

    /// This key, for tokens minted with the secret whose [`fingerprint`] is `credential` (a
    /// stored client secret's, as config.toml records it).
    pub(crate) fn minted_with(mut self, credential: Option<String>) -> CacheKey {
        self.credential = credential;
        self
    }

    /// This key, for the token of `profile`'s stored Wix Headless refresh token.
    pub(crate) fn held_by(mut self, profile: &str) -> CacheKey {
        self.holder = Some(profile.to_string());
        self
    }

    /// The entry's file name (and its lock's): readable ids for a person, then a hash of the
    /// whole key, so ids that clean up alike (`a.b`, `a_b`) never share a file.
    pub(crate) fn stem(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.api.as_str(),
            self.app_id.as_str(),
            self.instance_id.as_deref().unwrap_or("\u{0}none"),
            self.credential.as_deref().unwrap_or("\u{0}none"),
        ] {
            hash.update(part.as_bytes());
            hash.update([0u8]);
        }
        if let Some(holder) = &self.holder {
            hash.update(b"holder\0");
            hash.update(holder.as_bytes());
        }
        let middle = self.holder.as_deref().or(self.instance_id.as_deref());
        format!(
            "{}.{}.{}",
            short(&fsutil::safe_file_stem(&self.app_id)),
            short(&fsutil::safe_file_stem(middle.unwrap_or("env"))),
            &hex::encode(hash.finalize())[..32]
        )
    }
}

/// At most 40 characters of a cleaned-up id (file names stay short).
fn short(stem: &str) -> String {
    stem.chars().take(40).collect()
}

/// A one-way fingerprint of secrets (never the secrets themselves), or `None` for none.
pub(crate) fn fingerprint(secrets: &[&Secret]) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    let mut hash = Sha256::new();
    hash.update(b"wixauth cache credential v1\0");
    for secret in secrets {
        hash.update(secret.expose().as_bytes());
        hash.update([0u8]);
    }
    Some(hex::encode(&hash.finalize()[..16]))
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

    /// A credential that does not expire (an API key): never cached, always fresh.
    pub(crate) fn lasting(key: Secret, flow: Flow) -> CachedToken {
        CachedToken {
            access_token: key,
            token_type: "ApiKey".to_string(),
            expires_at: u64::MAX,
            app_id: String::new(),
            instance_id: None,
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
    key: CacheKey,
    access_token: String,
    token_type: String,
    expires_at: u64,
    flow: Flow,
}

/// A cache entry's text as the key it was recorded for and its token; `None` when it is
/// corrupt or of an older wixauth (a miss).
pub(crate) fn parse_entry(text: &str) -> Option<(CacheKey, CachedToken)> {
    let stored: Stored = serde_json::from_str(text).ok()?;
    let token = CachedToken {
        access_token: Secret::new(stored.access_token),
        token_type: stored.token_type,
        expires_at: stored.expires_at,
        app_id: stored.key.app_id.clone(),
        instance_id: stored.key.instance_id.clone(),
        flow: stored.flow,
    };
    Some((stored.key, token))
}

pub(crate) struct TokenCache {
    pub(crate) dir: PathBuf,
    /// `WIXAUTH_NO_CACHE` turns writing off (for every writer, `login` included).
    pub(crate) writes: bool,
    /// Where a token file readable by others (fixed to 0600) is reported.
    pub(crate) notes: Notes,
}

impl TokenCache {
    fn path(&self, stem: &str) -> PathBuf {
        self.dir.join(format!("{stem}.json"))
    }

    /// An entry, `None` on a miss. An unreadable or corrupt entry is a miss; an untrusted one
    /// (a symlink, a FIFO, another user's folder) is refused (exit 2).
    fn read(&self, stem: &str) -> Result<Option<(CacheKey, CachedToken)>> {
        let text = match fsutil::read_private(&self.path(stem), &self.notes) {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(None),
            Err(e) if e.exit == crate::core::error::Exit::Usage => return Err(e),
            Err(e) => {
                debug!("token cache unreadable, ignoring it: {e}");
                return Ok(None);
            }
        };
        let entry = parse_entry(&text);
        if entry.is_none() {
            debug!("token cache entry {stem} is corrupt or of an older wixauth, ignoring it");
        }
        Ok(entry)
    }

    /// The token cached for exactly `key`; an entry recorded for other credentials is ignored.
    pub(crate) fn load(&self, key: &CacheKey) -> Result<Option<CachedToken>> {
        let Some((recorded, token)) = self.read(&key.stem())? else {
            return Ok(None);
        };
        if recorded != *key {
            debug!(
                "token cache entry {} belongs to other credentials, ignoring it",
                key.stem()
            );
            return Ok(None);
        }
        Ok(Some(token))
    }

    /// Writes a token, unless `WIXAUTH_NO_CACHE` says never to (checked here, so every
    /// writer, `login` included, honours it).
    pub(crate) fn save(&self, key: &CacheKey, token: &CachedToken) -> Result<()> {
        if !self.writes {
            debug!("WIXAUTH_NO_CACHE set: not caching the token");
            return Ok(());
        }
        let stored = Stored {
            key: key.clone(),
            access_token: token.access_token.expose().to_string(),
            token_type: token.token_type.clone(),
            expires_at: token.expires_at,
            flow: token.flow,
        };
        let text = serde_json::to_vec(&stored).unwrap_or_default();
        fsutil::write_private_atomic_unsynced(&self.path(&key.stem()), &text)
    }

    /// The stems of the entries whose recorded key `matches`, whatever credentials or API
    /// base they were minted with (logout forgets them all).
    pub(crate) fn entries_where(&self, matches: impl Fn(&CacheKey) -> bool) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return vec![];
        };
        let mut stems: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_string)
            })
            .filter(|stem| {
                self.read(stem)
                    .ok()
                    .flatten()
                    .is_some_and(|(key, _)| matches(&key))
            })
            .collect();
        stems.sort();
        stems
    }

    /// Removes one entry by its stem.
    pub(crate) fn remove(&self, stem: &str) -> Result<()> {
        fsutil::remove_if_exists(&self.path(stem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(app: &str, instance: Option<&str>, secret: Option<&str>) -> CacheKey {
        let secret = secret.map(Secret::new);
        let creds: Vec<&Secret> = secret.iter().collect();
        CacheKey::new(
            &url::Url::parse("https://www.wixapis.com").unwrap(),
            app,
            instance,
            &creds,
        )
    }

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

    fn cache() -> (tempfile::TempDir, TokenCache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache {
            dir: dir.path().to_path_buf(),
            writes: true,
            notes: Notes::default(),
        };
        (dir, cache)
    }

    #[test]
    fn round_trip_and_corruption_is_a_miss() {
        let (_dir, cache) = cache();
        let k = key("app", Some("i1"), None);
        assert!(cache.load(&k).unwrap().is_none());
        cache.save(&k, &token(100)).unwrap();
        let back = cache.load(&k).unwrap().unwrap();
        assert_eq!((back.access_token.expose(), back.expires_at), ("tok", 100));
        std::fs::write(cache.path(&k.stem()), "{garbage").unwrap();
        assert!(cache.load(&k).unwrap().is_none());
    }

    #[test]
    fn keys_never_cross_credentials() {
        let (_dir, cache) = cache();
        let a = key("app", Some("i1"), Some("secret-a"));
        cache.save(&a, &token(100)).unwrap();
        for other in [
            key("app", Some("i1"), Some("WRONG")),
            key("app", Some("i1"), None),
            key("app", Some("i2"), Some("secret-a")),
            key("app.b", Some("i1"), Some("secret-a")),
            CacheKey {
                api: "http://127.0.0.1:1/".into(),
                ..a.clone()
            },
        ] {
            assert_ne!(other.stem(), a.stem(), "{other:?}");
            assert!(cache.load(&other).unwrap().is_none(), "{other:?}");
        }
        // Two Headless profiles of one client hold two visitors or members.
        let alice = key("client", None, None).held_by("alice");
        cache.save(&alice, &token(100)).unwrap();
        for other in [
            key("client", None, None).held_by("bob"),
            key("client", None, None),
        ] {
            assert_ne!(other.stem(), alice.stem(), "{other:?}");
            assert!(cache.load(&other).unwrap().is_none(), "{other:?}");
        }
        // Ids that clean up to the same text still get their own files.
        assert_ne!(key("a.b", None, None).stem(), key("a_b", None, None).stem());
        // A file renamed to another key's name is not believed.
        let b = key("app", Some("i2"), Some("secret-a"));
        std::fs::rename(cache.path(&a.stem()), cache.path(&b.stem())).unwrap();
        assert!(cache.load(&b).unwrap().is_none());
        // The fingerprint is not the secret.
        assert!(!a.credential.unwrap().contains("secret-a"));
    }

    #[test]
    fn ttl_goes_negative() {
        assert_eq!(token(100).ttl(40), 60);
        assert_eq!(token(100).ttl(160), -60);
    }

    #[test]
    fn entries_are_found_by_what_they_record() {
        let (_dir, cache) = cache();
        cache
            .save(&key("app", Some("i1"), None), &token(1))
            .unwrap();
        cache
            .save(&key("app", Some("i2"), Some("s")), &token(1))
            .unwrap();
        cache
            .save(&key("other", Some("i1"), None), &token(1))
            .unwrap();
        let of_app = cache.entries_where(|k| k.app_id == "app");
        assert_eq!(of_app.len(), 2);
        for stem in of_app {
            cache.remove(&stem).unwrap();
        }
        assert!(cache
            .load(&key("other", Some("i1"), None))
            .unwrap()
            .is_some());
        assert!(cache.entries_where(|k| k.app_id == "app").is_empty());
    }
}
