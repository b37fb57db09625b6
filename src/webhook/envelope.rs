//! Wix's delivery envelope, built: claims `{data: "<JSON string>", iat, exp}` whose `data` is
//! `{eventType, instanceId, data: "<JSON string>", identity: "<JSON string>", accountInfo?}`
//! (`accountInfo` an object, as Wix's SDK reads it). And the forgeries `webhook test` sends
//! to see that a handler refuses them.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::dev_key::DevKey;
use super::verify::{decode_event, Event};
use crate::core::error::{Error, Result};

/// `exp` is `iat` + this (one hour).
pub(crate) const LIFETIME: u64 = 3600;

/// One event to deliver, before it is signed.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub event_type: String,
    pub instance_id: String,
    pub payload: Value,
    pub identity: Value,
    pub account_info: Option<Value>,
}

impl Draft {
    /// The middle layer (`claims.data` parsed).
    pub(crate) fn envelope(&self) -> Value {
        let mut envelope = json!({
            "eventType": self.event_type,
            "instanceId": self.instance_id,
            "data": self.payload.to_string(),
            "identity": self.identity.to_string(),
        });
        if let Some(info) = &self.account_info {
            envelope["accountInfo"] = info.clone();
        }
        envelope
    }

    /// The JWT claims, issued now (or, `expired`, two hours ago, so `exp` passed an hour ago).
    pub(crate) fn claims(&self, expired: bool) -> Value {
        claims_of(self.envelope().to_string(), expired)
    }
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Claims around an envelope (already JSON text), with fresh `iat`/`exp`.
pub(crate) fn claims_of(envelope_text: String, expired: bool) -> Value {
    let iat = match expired {
        true => now_unix().saturating_sub(2 * LIFETIME),
        false => now_unix(),
    };
    json!({"data": envelope_text, "iat": iat, "exp": iat + LIFETIME})
}

/// A signed delivery and the event it carries (the `webhook verify` shape, for `--json`).
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub jwt: String,
    pub event: Event,
}

pub(crate) fn sign(key: &DevKey, claims: &Value) -> Result<Signed> {
    Ok(Signed {
        jwt: key.sign(claims)?,
        event: decode_event(claims)?,
    })
}

/// Signs many claims on every core (RSA signing is the slow part of a burst).
pub(crate) fn sign_all(key: &DevKey, claims: &[Value]) -> Result<Vec<Signed>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(claims.len().max(1));
    if threads <= 1 {
        return claims.iter().map(|c| sign(key, c)).collect();
    }
    let chunk = claims.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = claims
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|c| sign(key, c)).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::with_capacity(claims.len());
        for part in parts {
            let signed = part
                .join()
                .map_err(|_| Error::failure("signing the events failed"))?;
            for one in signed {
                out.push(one?);
            }
        }
        Ok(out)
    })
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// The claims of a JWT, unverified (replaying a saved delivery; changing a forgery).
pub(crate) fn claims_of_jwt(jwt: &str) -> Option<Value> {
    let middle = jwt.trim().split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(middle.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `alg: none`: the claims unsigned, with an empty signature.
pub(crate) fn alg_none(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"}).to_string()),
        b64(&claims.to_string())
    )
}

/// HS256 keyed with the public key's PEM text: the key-confusion forgery that a verifier
/// taking its algorithm from the token falls for.
pub(crate) fn hs256_with_public_key(claims: &Value, public_pem: &str) -> Result<String> {
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let forged = |e: jsonwebtoken::errors::Error| {
        Error::failure(format!("cannot build the HS256 forgery: {e}"))
    };
    let key = jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()).map_err(forged)?;
    jsonwebtoken::encode(&header, claims, &key).map_err(forged)
}

/// `jwt` with one byte of its payload changed (inside the event's instance id) and its
/// header and signature kept.
pub(crate) fn tampered(jwt: &str) -> Option<String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut claims = URL_SAFE_NO_PAD.decode(parts.get(1)?).ok()?;
    // The first hex digit after `instanceId` (escaped inside the data string).
    let at = find(&claims, b"instanceId")? + b"instanceId".len();
    let offset = claims[at..].iter().position(u8::is_ascii_hexdigit)? + at;
    claims[offset] = if claims[offset] == b'0' { b'1' } else { b'0' };
    Some(format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(&claims),
        parts.get(2)?
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::verify::verify;

    fn draft() -> Draft {
        Draft {
            event_type: "AppInstalled".into(),
            instance_id: "3bbcabc7-8a9e-4b8e-9c1f-0123456789ab".into(),
            payload: json!({"appId": "app-1"}),
            identity: json!({"identityType": "APP", "appId": "app-1"}),
            account_info: Some(json!({"accountId": "a", "siteId": "s"})),
        }
    }

    #[test]
    fn the_layers_are_strings_but_account_info() {
        let claims = draft().claims(false);
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            3600
        );
        let envelope: Value = serde_json::from_str(claims["data"].as_str().unwrap()).unwrap();
        assert!(envelope["data"].is_string() && envelope["identity"].is_string());
        assert!(envelope["accountInfo"].is_object());
        assert!(draft().claims(true)["exp"].as_u64().unwrap() < now_unix());
    }

    #[test]
    fn forgeries_fail_verify() {
        let key = DevKey::generate().unwrap();
        let claims = draft().claims(false);
        let good = sign(&key, &claims).unwrap();
        assert!(verify(good.jwt.as_bytes(), &key.public, false).is_ok());
        assert_eq!(good.event.event_type, "AppInstalled");
        let forged = [
            alg_none(&claims),
            hs256_with_public_key(&claims, &key.public.pem).unwrap(),
            tampered(&good.jwt).unwrap(),
        ];
        for jwt in forged {
            assert!(verify(jwt.as_bytes(), &key.public, false).is_err(), "{jwt}");
        }
        let changed = claims_of_jwt(&tampered(&good.jwt).unwrap()).unwrap();
        assert_ne!(changed, claims);
        assert_eq!(claims_of_jwt(&good.jwt).unwrap(), claims);
        let many = sign_all(&key, &[claims.clone(), claims.clone(), claims]).unwrap();
        assert_eq!(many.len(), 3);
    }
}
