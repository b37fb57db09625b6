//! Saved deliveries: `webhook listen --save-deliveries DIR` writes each verified delivery as one
//! file (raw body, headers, time received); `webhook trigger --replay FILE|DIR` reads them back
//! in the order they came and re-signs each with the dev key (fresh `iat`/`exp`, every other
//! claim kept).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::dev_key::DevKey;
use super::envelope::{claims_of_jwt, now_unix, sign, Signed, LIFETIME};
use crate::core::error::{io_error, Error, Result};
use crate::core::fsutil;

/// A saved file larger than this is not one of ours (deliveries are at most 1 MiB).
const MAX_FILE: u64 = 3 * 1024 * 1024;
/// Headers never written to a saved delivery.
const NOT_SAVED: &[&str] = &["authorization", "cookie", "proxy-authorization"];

/// One saved delivery, as its file holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SavedDelivery {
    pub received_at: String,
    pub headers: Vec<(String, String)>,
    /// The raw request body: the JWT.
    pub body: String,
}

/// Where `listen --save-deliveries` writes.
pub(crate) struct DeliveryLog {
    dir: PathBuf,
    seq: AtomicU64,
}

impl DeliveryLog {
    /// Creates DIR (0700) when missing; an existing one must be the user's own.
    pub(crate) fn open(dir: &Path) -> Result<DeliveryLog> {
        fsutil::create_private_dir(dir)?;
        Ok(DeliveryLog {
            dir: dir.to_path_buf(),
            seq: AtomicU64::new(0),
        })
    }

    /// Writes one delivery (0600; written under a temporary name, then renamed, so a replay
    /// never reads half a file). Files sort by name in the order the deliveries came.
    pub(crate) fn save(&self, body: &[u8], headers: &hyper::HeaderMap) -> Result<PathBuf> {
        let now = SystemTime::now();
        let nanos = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("{nanos:020}-{seq:06}.json");
        let saved = SavedDelivery {
            received_at: humantime::format_rfc3339_millis(now).to_string(),
            headers: headers
                .iter()
                .filter(|(n, _)| !NOT_SAVED.contains(&n.as_str()))
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(body).into_owned(),
        };
        let text = serde_json::to_vec_pretty(&saved)
            .map_err(|e| Error::failure(format!("cannot encode the delivery: {e}")))?;
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(&name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options
            .open(&tmp)
            .and_then(|mut f| f.write_all(&text))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| io_error("cannot save the delivery in", &self.dir, &e))?;
        Ok(path)
    }
}

/// The `listen` hook, when `--save-deliveries` is on: a delivery's headers, kept while its
/// body arrives.
pub(crate) struct Pending<'a> {
    log: &'a DeliveryLog,
    headers: hyper::HeaderMap,
}

pub(crate) fn pending<'a>(
    log: Option<&'a DeliveryLog>,
    headers: &hyper::HeaderMap,
) -> Option<Pending<'a>> {
    log.map(|log| Pending {
        log,
        headers: headers.clone(),
    })
}

impl Pending<'_> {
    /// Saves the delivery once it verified; a failure is a line for stderr (the delivery is
    /// still answered 200).
    pub(crate) fn verified(self, body: &[u8]) -> Option<String> {
        self.log
            .save(body, &self.headers)
            .err()
            .map(|e| format!("not saved: {e}"))
    }
}

/// The deliveries in FILE, or in every `*.json` file of DIR in the order they were received.
pub(crate) fn load(path: &Path) -> Result<Vec<(PathBuf, SavedDelivery)>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::usage(format!("--replay {}: {e}", path.display())))?;
    let files = if meta.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| io_error("cannot read", path, &e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                name.ends_with(".json") && !name.starts_with('.')
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::usage(format!(
                "--replay {}: no saved deliveries (*.json) in it",
                path.display()
            ))
            .hint("save some first with `wixauth webhook listen --save-deliveries DIR`"));
        }
        files
    } else {
        vec![path.to_path_buf()]
    };
    files
        .into_iter()
        .map(|file| read_one(&file).map(|saved| (file, saved)))
        .collect()
}

fn read_one(file: &Path) -> Result<SavedDelivery> {
    let mut text = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut text))
        .map_err(|e| Error::usage(format!("cannot read {}: {e}", file.display())))?;
    if text.len() as u64 > MAX_FILE {
        return Err(not_ours(file, "it is larger than 3 MiB"));
    }
    parse_saved(&text, file)
}

fn not_ours(file: &Path, why: &str) -> Error {
    Error::usage(format!(
        "{} is not a delivery saved by `webhook listen --save-deliveries` ({why})",
        file.display()
    ))
}

/// A saved delivery's text (from `file`, named in the error).
pub(crate) fn parse_saved(text: &[u8], file: &Path) -> Result<SavedDelivery> {
    serde_json::from_slice(text).map_err(|e| {
        let at = super::byte_offset(text, e.line(), e.column());
        not_ours(file, &format!("not JSON of that shape at byte {at}"))
    })
}

/// The saved delivery's claims with a fresh `iat` and `exp`, signed with the dev key.
pub(crate) fn resign(file: &Path, saved: &SavedDelivery, key: &DevKey) -> Result<Signed> {
    let mut claims = claims_of_jwt(&saved.body)
        .filter(|c| c.get("data").is_some_and(Value::is_string))
        .ok_or_else(|| {
            Error::usage(format!(
                "{}: its body is not a Wix delivery (a JWT whose claims hold data)",
                file.display()
            ))
        })?;
    let now = now_unix();
    claims["iat"] = now.into();
    claims["exp"] = (now + LIFETIME).into();
    sign(key, &claims).map_err(|e| e.context(file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_files_load_in_order_and_keep_no_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let log = DeliveryLog::open(&dir.path().join("d")).unwrap();
        let mut headers = hyper::HeaderMap::new();
        headers.insert("content-type", "text/plain".parse().unwrap());
        headers.insert("authorization", "Bearer x".parse().unwrap());
        for body in ["a.b.c", "d.e.f", "g.h.i"] {
            log.save(body.as_bytes(), &headers).unwrap();
        }
        let loaded = load(&dir.path().join("d")).unwrap();
        let bodies: Vec<&str> = loaded.iter().map(|(_, s)| s.body.as_str()).collect();
        assert_eq!(bodies, ["a.b.c", "d.e.f", "g.h.i"]);
        assert_eq!(
            loaded[0].1.headers,
            [("content-type".into(), "text/plain".into())]
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(load(empty.path()).is_err());
        let junk = empty.path().join("x.json");
        std::fs::write(&junk, "{\"body\": 3}").unwrap();
        assert!(load(&junk).unwrap_err().message().contains("byte"));
    }
}
