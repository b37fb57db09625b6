//! Wix webhooks: the app's public key (this file), verifying and decoding one delivery
//! (`verify`), and the local receiver for development behind a tunnel (`listen`). The webhook
//! lab sends them: the development key (`dev_key`), the built-in events (`events`), Wix's
//! envelope and its forgeries (`envelope`), posting to a handler (`send`), `trigger`, the
//! `test` battery and its report card (`battery`, `report`), and saved deliveries (`replay`).
//!
//! The key is public (Wix shows it on the app dashboard's Webhooks page), so it may come from
//! argv, the environment or config.toml. What must never happen is echoing back a *private*
//! key someone pasted by mistake: errors name the kind of PEM block, never its content.

pub(crate) mod battery;
pub(crate) mod dev_key;
pub(crate) mod envelope;
pub(crate) mod events;
pub(crate) mod instances;
pub(crate) mod listen;
pub(crate) mod replay;
pub(crate) mod report;
pub(crate) mod send;
pub(crate) mod trigger;
pub(crate) mod verify;

use std::path::Path;

use base64::Engine;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};

use crate::core::error::{Error, Result};
use crate::settings::config::Profile;

/// The environment variable holding the key (PEM or base64 of it).
pub(crate) const KEY_ENV: &str = "WIX_WEBHOOK_PUBLIC_KEY";

/// Where the key is found, for every error that asks for it.
const WHERE_TO_FIND: &str =
    "copy the public key from the app dashboard (Webhooks → Get Public Key)";

/// Key files and values larger than this are not a public key.
const MAX_KEY_TEXT: u64 = 64 * 1024;

/// The app's webhook public key, checked to be an RSA public key.
#[derive(Clone)]
pub(crate) struct PublicKey {
    /// The key as `-----BEGIN PUBLIC KEY-----` PEM: what `set-key` stores.
    pub pem: String,
    pub(crate) decoding: jsonwebtoken::DecodingKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey(RSA)")
    }
}

impl PublicKey {
    /// Parses PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`), base64 of such a PEM, or base64 of the
    /// DER inside one (the PEM's middle lines). `what` names the source in errors.
    pub(crate) fn parse(text: &str, what: &str) -> Result<PublicKey> {
        let text = text.trim();
        if text.contains("-----BEGIN") {
            return from_pem(text, what);
        }
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let Some(bytes) = engines.iter().find_map(|e| e.decode(&compact).ok()) else {
            return Err(Error::usage(format!(
                "{what} is neither a PEM public key (-----BEGIN PUBLIC KEY-----) nor base64 of one; {WHERE_TO_FIND}"
            )));
        };
        match String::from_utf8(bytes) {
            Ok(decoded) if decoded.contains("-----BEGIN") => from_pem(decoded.trim(), what),
            Ok(decoded) => from_der(decoded.as_bytes(), what),
            Err(e) => from_der(e.as_bytes(), what),
        }
    }

    fn from_rsa(key: &rsa::PublicKey, what: &str) -> Result<PublicKey> {
        let unusable = || {
            Error::usage(format!(
                "{what} cannot be used as an RSA public key; {WHERE_TO_FIND}"
            ))
        };
        let pem = key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| unusable())?;
        let der = key.to_pkcs1_der().map_err(|_| unusable())?;
        Ok(PublicKey {
            pem,
            decoding: jsonwebtoken::DecodingKey::from_rsa_der(der.as_bytes()),
        })
    }
}

/// The labels of every `-----BEGIN …-----` line; a label that is not plain upper-case words
/// is reported as `?` (it is never echoed).
fn pem_labels(text: &str) -> Vec<String> {
    text.match_indices("-----BEGIN ")
        .map(|(at, tag)| {
            let rest = &text[at + tag.len()..];
            let label = rest.split("-----").next().unwrap_or_default();
            let plain = label.len() <= 40
                && label
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ');
            if plain {
                label.to_string()
            } else {
                "?".to_string()
            }
        })
        .collect()
}

fn from_pem(text: &str, what: &str) -> Result<PublicKey> {
    let labels = pem_labels(text);
    if labels.iter().any(|l| l.contains("PRIVATE KEY")) {
        return Err(Error::usage(format!(
            "{what} holds a private key, not the app's webhook public key: it was not stored, and it is not shown; {WHERE_TO_FIND}"
        )));
    }
    if labels.iter().any(|l| l.contains("CERTIFICATE")) {
        return Err(Error::usage(format!(
            "{what} is a certificate, not a public key (-----BEGIN PUBLIC KEY-----); {WHERE_TO_FIND}"
        )));
    }
    let not_rsa = || {
        Error::usage(format!(
            "{what} is not an RSA public key (Wix signs webhooks with RS256); {WHERE_TO_FIND}"
        ))
    };
    let key = match labels.as_slice() {
        [one] if one == "PUBLIC KEY" => rsa::PublicKey::from_public_key_pem(text).map_err(|_| not_rsa())?,
        [one] if one == "RSA PUBLIC KEY" => rsa::PublicKey::from_pkcs1_pem(text).map_err(|_| not_rsa())?,
        [one] => {
            return Err(Error::usage(format!(
                "{what} is a PEM {one} block, not a public key (-----BEGIN PUBLIC KEY-----); {WHERE_TO_FIND}"
            )))
        }
        _ => {
            return Err(Error::usage(format!(
                "{what} must hold exactly one PEM block (-----BEGIN PUBLIC KEY-----), it has {}; {WHERE_TO_FIND}",
                labels.len()
            )))
        }
    };
    PublicKey::from_rsa(&key, what)
}

fn from_der(der: &[u8], what: &str) -> Result<PublicKey> {
    let key = rsa::PublicKey::from_public_key_der(der)
        .or_else(|_| rsa::PublicKey::from_pkcs1_der(der))
        .map_err(|_| {
            Error::usage(format!(
                "{what} is neither a PEM public key (-----BEGIN PUBLIC KEY-----) nor base64 of one; {WHERE_TO_FIND}"
            ))
        })?;
    PublicKey::from_rsa(&key, what)
}

/// Reads a key file (`-` is stdin), bounded.
/// A key from a file, or from `stdin` for `-`.
pub(crate) fn read_key_file(path: &Path, stdin: &mut dyn std::io::Read) -> Result<String> {
    use std::io::Read;
    let name = path.to_string_lossy();
    if name.contains("-----") || name.contains('\n') {
        // Key text where a file name belongs: never echoed, it may be a private key.
        return Err(Error::usage(
            "FILE is key text, not a file name: it is not shown (it may be a private key); give the key's file, or pipe the key to `-`",
        ));
    }
    let mut text = String::new();
    let read = if path == Path::new("-") {
        stdin.take(MAX_KEY_TEXT + 1).read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_KEY_TEXT + 1).read_to_string(&mut text))
    };
    let name = if path == Path::new("-") {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    match read {
        Ok(n) if n as u64 > MAX_KEY_TEXT => Err(Error::usage(format!(
            "{name} is larger than {} KiB: not a public key; {WHERE_TO_FIND}",
            MAX_KEY_TEXT / 1024
        ))),
        Ok(_) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(Error::usage(format!(
            "{name} is not text: give the PEM public key (or base64 of it); {WHERE_TO_FIND}"
        ))),
        Err(e) => Err(Error::usage(format!(
            "cannot read the public key from {name}: {e}"
        ))),
    }
}

/// `--public-key` (`PEM`, base64 of it, or `@FILE`), else `WIX_WEBHOOK_PUBLIC_KEY`, else the
/// key stored in the profile; none of them is a usage error saying where to get one.
pub(crate) fn resolve_key(
    stdin: &mut dyn std::io::Read,
    flag: Option<&str>,
    from_env: Option<&str>,
    profile_name: &str,
    profile: Option<&Profile>,
) -> Result<PublicKey> {
    if let Some(value) = flag.filter(|v| !v.trim().is_empty()) {
        return match value.strip_prefix('@') {
            Some(file) => {
                let text = read_key_file(Path::new(file), stdin)?;
                PublicKey::parse(&text, &format!("--public-key file {file}"))
            }
            None => PublicKey::parse(value, "--public-key"),
        };
    }
    if let Some(value) = from_env {
        return PublicKey::parse(value, KEY_ENV);
    }
    if let Some(stored) = profile.and_then(|p| p.webhook_public_key.as_deref()) {
        return PublicKey::parse(
            stored,
            &format!("the webhook key stored in profile {profile_name:?}"),
        )
        .map_err(|e| e.context("run `wixauth webhook set-key FILE` again"));
    }
    Err(Error::usage(format!(
        "no webhook public key for profile {profile_name:?}: {WHERE_TO_FIND}, then run `wixauth webhook set-key FILE`, pass --public-key @FILE, or set {KEY_ENV}"
    )))
}

/// The byte offset of serde_json's 1-based `line` and `column` in `text` (where a parse
/// error is, for a message that names it).
pub(crate) fn byte_offset(text: &[u8], line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (n, l) in text.split(|&b| b == b'\n').enumerate() {
        if n + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len() + 1;
    }
    text.len()
}

/// An app id from an event, accepted into config.toml: letters, digits, `-` and `_`, bounded.
pub(crate) fn is_app_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_of_parse_errors() {
        let text = b"{\n  \"a\": x\n}";
        let e = serde_json::from_slice::<serde_json::Value>(text).unwrap_err();
        assert_eq!(byte_offset(text, e.line(), e.column()), 9);
    }

    #[test]
    fn labels_are_never_echoed_when_odd() {
        assert_eq!(
            pem_labels("-----BEGIN PUBLIC KEY-----\nx"),
            vec!["PUBLIC KEY"]
        );
        assert_eq!(pem_labels("-----BEGIN \x1b]secret-----"), vec!["?"]);
    }

    #[test]
    fn garbage_is_a_usage_error_that_says_where_to_look() {
        for text in [
            "",
            "not a key",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        ] {
            let err = PublicKey::parse(text, "--public-key").unwrap_err();
            assert_eq!(err.exit, crate::core::error::Exit::Usage);
            assert!(err.message().contains("app dashboard"), "{err}");
        }
    }
}
