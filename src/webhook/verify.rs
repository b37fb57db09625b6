//! One delivery: the whole request body is a JWT signed RS256 with the app's key. Its claims
//! `data` is a JSON *string* holding `{eventType, instanceId, data, identity, accountInfo?}`,
//! whose `data` and `identity` are JSON strings again (three layers, as Wix's SDK parses them).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{json, Map, Value};

use super::PublicKey;
use crate::core::error::{Error, Result};
use crate::core::text::{printable, rfc3339};

/// Seconds of clock skew allowed on `exp`.
const LEEWAY: u64 = 60;

/// A verified, decoded event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub event_type: String,
    pub instance_id: Option<String>,
    pub identity: Value,
    pub data: Value,
    pub account_info: Value,
    /// Unix seconds (`iat`, `exp`), when present.
    pub issued_at: Option<u64>,
    pub expires_at: Option<u64>,
}

impl Event {
    /// The contract's JSON shape (the same for `verify` and each line of `listen`).
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "event_type": self.event_type,
            "instance_id": self.instance_id,
            "identity": self.identity,
            "data": self.data,
            "account_info": self.account_info,
            // Beyond year 9999 (a signed but absurd claim) the time is null, not a panic.
            "issued_at": self.issued_at.and_then(rfc3339),
            "expires_at": self.expires_at.and_then(rfc3339),
        })
    }

    /// The app id in the payload (`AppInstalled` / `AppRemoved` carry one).
    pub(crate) fn app_id(&self) -> Option<&str> {
        self.data.get("appId").and_then(Value::as_str)
    }

    /// `AppInstalled instance 3bbc… (app 5bc2…)`, safe to print on a terminal.
    pub(crate) fn summary(&self) -> String {
        let mut line = format!(
            "{} instance {}",
            printable(&self.event_type, 60),
            printable(self.instance_id.as_deref().unwrap_or("(none)"), 64)
        );
        if let Some(app) = self.app_id() {
            line.push_str(&format!(" (app {})", printable(app, 64)));
        }
        line
    }
}

fn not_a_jwt(why: &str) -> Error {
    Error::usage(format!(
        "the input is not a JWT ({why}): give the raw request body of the delivery, byte for byte"
    ))
}

fn not_an_event(why: &str) -> Error {
    Error::failure(format!("the JWT is not a Wix webhook event: {why}"))
}

/// The JWT's three parts, decoded; anything else is "not a JWT" (exit 2).
struct Parts {
    alg: String,
    claims: Value,
}

fn split(token: &str) -> Result<Parts> {
    let segments: Vec<&str> = token.split('.').collect();
    // An empty signature is left to the checks below (`alg: none` tokens have one).
    if segments.len() != 3 || segments[0].is_empty() || segments[1].is_empty() {
        return Err(not_a_jwt("want three base64url parts separated by dots"));
    }
    let decode = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| not_a_jwt("a part is not base64url"))
    };
    let header: Value = serde_json::from_slice(&decode(segments[0])?)
        .map_err(|_| not_a_jwt("its header is not JSON"))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| not_a_jwt("its header has no alg"))?
        .to_string();
    // Claims that are not JSON are reported after the signature check (a signed non-event).
    let claims = serde_json::from_slice(&decode(segments[1])?).unwrap_or(Value::Null);
    Ok(Parts { alg, claims })
}

/// Verifies `body` (RS256 only, `exp` unless `ignore_expiry`) and decodes the event.
///
/// Exit codes of the errors: 2 when the input is not a JWT; 1 when the signature does not
/// match, the `alg` is not RS256, it has expired, or it is not shaped like a Wix event.
pub(crate) fn verify(body: &[u8], key: &PublicKey, ignore_expiry: bool) -> Result<Event> {
    let token = std::str::from_utf8(body)
        .map_err(|_| not_a_jwt("it is not text"))?
        .trim();
    let parts = split(token)?;
    // Checked here, before any key is used: `none` and HS* (an HMAC keyed with the public
    // key, the classic confusion attack) never reach a verifier.
    if parts.alg != "RS256" {
        return Err(Error::failure(format!(
            "the JWT's alg is {}, not RS256 (Wix signs webhooks with RS256 only): refused",
            printable(&parts.alg, 20)
        )));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY;
    validation.validate_aud = false;
    if ignore_expiry {
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
    }
    let exp = parts.claims.get("exp").and_then(Value::as_u64);
    let claims = match jsonwebtoken::decode::<Value>(token, &key.decoding, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            return Err(match e.kind() {
                // Header and claims were decoded above: a base64 error is the signature's.
                ErrorKind::InvalidSignature | ErrorKind::Base64(_) => Error::failure(
                    "the signature does not match the public key: the body was changed (verify the raw body, not re-serialised JSON), or it was signed with another app's key",
                ),
                ErrorKind::ExpiredSignature => Error::failure(format!(
                    "the event expired{}: pass --ignore-expiry to replay an old delivery",
                    exp.and_then(rfc3339)
                        .map(|at| format!(" at {at}"))
                        .unwrap_or_default()
                )),
                ErrorKind::MissingRequiredClaim(claim) => Error::failure(format!(
                    "the event has no {} claim: pass --ignore-expiry to accept it anyway",
                    printable(claim, 20)
                )),
                ErrorKind::InvalidAlgorithm => {
                    Error::failure("the JWT's alg is not RS256: refused")
                }
                ErrorKind::InvalidKeyFormat | ErrorKind::InvalidRsaKey(_) => Error::usage(
                    "the public key cannot verify RS256 signatures: give the app's RSA public key",
                ),
                ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                    not_an_event("its claims are not a JSON object")
                }
                _ => Error::failure(format!("the event is invalid: {e}")),
            });
        }
    };
    decode_event(&claims)
}

/// A layer that Wix sends as a JSON string; an object is taken as it is (lenient for the
/// inner layers only), absent is `null`.
fn layer(envelope: &Map<String, Value>, name: &str) -> Result<Value> {
    match envelope.get(name) {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(text)) => serde_json::from_str(text)
            .map_err(|_| not_an_event(&format!("its {name} is a string but not JSON"))),
        Some(value @ Value::Object(_)) => Ok(value.clone()),
        Some(_) => Err(not_an_event(&format!("its {name} is not a JSON string"))),
    }
}

/// The event in verified (or self-made) claims: `data`, a JSON string of the envelope, decoded
/// in its layers.
pub(crate) fn decode_event(claims: &Value) -> Result<Event> {
    let data = match claims.get("data") {
        Some(Value::String(text)) => text,
        Some(Value::Object(_)) => {
            return Err(not_an_event(
                "claims data is an object, but Wix sends a JSON string (as Wix's SDK requires)",
            ))
        }
        Some(_) => return Err(not_an_event("claims data is not a JSON string")),
        None => return Err(not_an_event("its claims have no data")),
    };
    let envelope: Map<String, Value> =
        serde_json::from_str(data).map_err(|_| not_an_event("claims data is not a JSON object"))?;
    let event_type = envelope
        .get("eventType")
        .and_then(Value::as_str)
        .ok_or_else(|| not_an_event("it has no eventType"))?
        .to_string();
    let instance_id = match envelope.get("instanceId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(not_an_event("its instanceId is not a string")),
    };
    Ok(Event {
        event_type,
        instance_id,
        identity: layer(&envelope, "identity")?,
        data: match layer(&envelope, "data")? {
            Value::Null => json!({}),
            value => value,
        },
        account_info: layer(&envelope, "accountInfo")?,
        issued_at: claims.get("iat").and_then(Value::as_u64),
        expires_at: claims.get("exp").and_then(Value::as_u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(data: Value) -> Value {
        json!({"data": data, "iat": 1_700_000_000u64, "exp": 1_700_000_060u64})
    }

    #[test]
    fn three_layers_are_decoded() {
        let envelope = json!({
            "eventType": "AppInstalled",
            "instanceId": "3bbcabc7-0000-4000-8000-000000000001",
            "data": json!({"appId": "5bc2062d", "originInstanceId": "07864c16"}).to_string(),
            "identity": json!({"identityType": "APP", "appId": "5bc2062d"}).to_string(),
        });
        let event = decode_event(&claims(Value::String(envelope.to_string()))).unwrap();
        assert_eq!(event.event_type, "AppInstalled");
        assert_eq!(event.app_id(), Some("5bc2062d"));
        assert_eq!(event.identity["identityType"], "APP");
        assert_eq!(event.account_info, Value::Null);
        let out = event.to_json();
        assert_eq!(out["issued_at"], "2023-11-14T22:13:20Z");
        assert_eq!(out["data"]["originInstanceId"], "07864c16");
    }

    #[test]
    fn times_beyond_year_9999_are_null() {
        let envelope = json!({"eventType": "AppInstalled", "data": "{}"});
        for huge in [253_402_300_800u64, u64::MAX] {
            let claims = json!({"data": envelope.to_string(), "iat": huge, "exp": huge});
            let out = decode_event(&claims).unwrap().to_json();
            assert_eq!(out["issued_at"], Value::Null, "{huge}");
            assert_eq!(out["expires_at"], Value::Null, "{huge}");
        }
    }

    #[test]
    fn claims_data_must_be_a_string() {
        let err = decode_event(&claims(json!({"eventType": "AppInstalled"}))).unwrap_err();
        assert_eq!(err.exit, crate::core::error::Exit::Failure);
        assert!(err.message().contains("object"), "{err}");
        for bad in [
            json!(null),
            json!(3),
            json!("not json"),
            json!("{\"instanceId\":\"x\"}"),
        ] {
            assert!(decode_event(&claims(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn structure_errors_are_usage_errors() {
        for token in [
            "",
            "a.b",
            "a.b.c.d",
            "..",
            ".e30.",
            "!!!.e30.e30",
            "e30.e30.e30",
        ] {
            let err = split(token).err().expect(token);
            assert_eq!(err.exit, crate::core::error::Exit::Usage, "{token}: {err}");
        }
        assert_eq!(split("eyJhbGciOiJub25lIn0.e30.").unwrap().alg, "none");
    }
}
