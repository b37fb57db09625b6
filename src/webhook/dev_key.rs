//! The webhook development key (`webhook dev-key`): an RSA-2048 pair made from the OS CSPRNG,
//! standing in for Wix's private key so that `trigger` and `test` sign deliveries exactly as
//! Wix does (RS256) and a handler given the public half verifies them. The private half is a
//! secret (the secret store, through the profile lifecycle); this file only makes, reads and
//! uses it.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::sha2::{Digest, Sha256};
use rsa::traits::SignatureScheme;
use serde_json::Value;

use super::PublicKey;
use crate::core::error::{Cmd, Error, Result};
use crate::core::secret::Secret;
use crate::settings::config::Profile;

/// Bits of the key: what Wix's app keys have.
pub(crate) const BITS: usize = 2048;

/// What `dev-key` says on stderr each time it prints a key.
pub(crate) const FOR_DEVELOPMENT: &str = "This key is for development only: give the public key to your handler while you test it (`webhook trigger`, `webhook test`). Production handlers verify with the app's key from the dashboard (Webhooks → Get Public Key).";

/// A development key pair, ready to sign.
pub(crate) struct DevKey {
    /// Short hex id of the public key: the JWT `kid` and the secret entry's name.
    pub id: String,
    private: rsa::PrivateKey,
    pub public: PublicKey,
}

impl std::fmt::Debug for DevKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DevKey({})", self.id)
    }
}

fn broken(why: &str) -> Error {
    Error::usage(format!("the stored webhook dev key cannot be used ({why})"))
        .run(Cmd::new(&["webhook", "dev-key", "--rotate"]))
}

impl DevKey {
    /// A new pair from the operating system's CSPRNG.
    pub(crate) fn generate() -> Result<DevKey> {
        let private = rsa::PrivateKey::new(&mut getrandom_04::SysRng, BITS)
            .map_err(|e| Error::failure(format!("cannot make an RSA key: {e}")))?;
        DevKey::from_private(private)
    }

    /// The key kept in the secret store (PKCS#8 PEM).
    pub(crate) fn from_secret(pem: &Secret) -> Result<DevKey> {
        let private = rsa::PrivateKey::from_pkcs8_pem(pem.expose())
            .map_err(|_| broken("it is not an RSA private key"))?;
        DevKey::from_private(private)
    }

    fn from_private(private: rsa::PrivateKey) -> Result<DevKey> {
        let public = rsa::PublicKey::from(&private);
        let pem = public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| broken("its public key cannot be encoded"))?;
        let der = public
            .to_public_key_der()
            .map_err(|_| broken("its public key cannot be encoded"))?;
        let id = hex::encode(&Sha256::digest(der.as_bytes())[..8]);
        Ok(DevKey {
            id,
            private,
            public: PublicKey::parse(&pem, "the webhook dev key")?,
        })
    }

    /// The private key as PKCS#8 PEM, for the secret store only.
    pub(crate) fn to_secret(&self) -> Result<Secret> {
        let pem = self
            .private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| Error::failure("cannot encode the dev key"))?;
        Ok(Secret::new(pem.as_str()))
    }

    /// An RS256 JWT of `claims`, signed as Wix signs deliveries (header `alg`, `kid`, `typ`).
    pub(crate) fn sign(&self, claims: &Value) -> Result<String> {
        let header = serde_json::json!({"kid": self.id, "alg": "RS256", "typ": "JWT"});
        self.sign_parts(&header.to_string(), &claims.to_string())
    }

    /// Signs `header.claims` (both JSON text, base64url-encoded here) with RS256.
    pub(crate) fn sign_parts(&self, header: &str, claims: &str) -> Result<String> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let digest = Sha256::digest(input.as_bytes());
        // Unblinded: blinding (a modular inverse per signature) doubles the cost of a burst,
        // and guards against timing the signer, which only this process can do here.
        let signature = rsa::Pkcs1v15Sign::new::<Sha256>()
            .sign(None::<&mut getrandom_04::SysRng>, &self.private, &digest)
            .map_err(|e| Error::failure(format!("cannot sign the event: {e}")))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// How `dev-key` prints the public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFormat {
    /// `-----BEGIN PUBLIC KEY-----` lines.
    Pem,
    /// Base64 of the PEM on one line (what a `WIX_PUBLIC_KEY` variable usually holds).
    Base64,
}

/// The public key as `format` says, newline-terminated.
pub(crate) fn format_public(pem: &str, format: KeyFormat) -> String {
    match format {
        KeyFormat::Pem => format!("{}\n", pem.trim_end()),
        KeyFormat::Base64 => format!("{}\n", STANDARD.encode(pem)),
    }
}

/// `verify|listen --dev-key`: the public half of the profile's dev key (config.toml).
pub(crate) fn public_key_of(profile_name: &str, profile: Option<&Profile>) -> Result<PublicKey> {
    let Some(record) = profile.and_then(|p| p.webhook_dev_key.as_ref()) else {
        return Err(
            Error::usage(format!("profile {profile_name:?} has no webhook dev key"))
                .run(Cmd::new(&["webhook", "dev-key"])),
        );
    };
    PublicKey::parse(&record.public_key, "the webhook dev key's public key")
        .map_err(|_| broken("its public key in config.toml is damaged"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::verify::verify;

    #[test]
    fn signs_what_verify_accepts_and_round_trips_through_the_store() {
        let key = DevKey::generate().unwrap();
        assert_eq!(key.id.len(), 16);
        let envelope =
            serde_json::json!({"eventType": "AppInstalled", "instanceId": "i-1", "data": "{}"});
        let claims =
            serde_json::json!({"data": envelope.to_string(), "iat": 1, "exp": 4_000_000_000u64});
        let jwt = key.sign(&claims).unwrap();
        assert_eq!(
            verify(jwt.as_bytes(), &key.public, false)
                .unwrap()
                .event_type,
            "AppInstalled"
        );
        let again = DevKey::from_secret(&key.to_secret().unwrap()).unwrap();
        assert_eq!(again.id, key.id);
        assert!(!format!("{again:?}").contains("PRIVATE"));
        let b64 = format_public(&key.public.pem, KeyFormat::Base64);
        assert_eq!(b64.lines().count(), 1);
        assert!(PublicKey::parse(&b64, "b64").is_ok());
    }
}
