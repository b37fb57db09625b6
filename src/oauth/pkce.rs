//! PKCE (RFC 7636) for the member login: a verifier from the OS CSPRNG and its S256 challenge.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::core::error::{Error, Result};
use crate::core::secret::Secret;

pub(crate) struct Pkce {
    /// 43 unreserved characters (256 bits), as Wix's SDK makes them; sent only in the exchange.
    pub verifier: Secret,
    /// `BASE64URL(SHA256(verifier))`, sent in the redirect session.
    pub challenge: String,
}

impl Pkce {
    pub(crate) fn new() -> Result<Pkce> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::failure(format!("cannot get random bytes from the OS: {e}")))?;
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        Ok(Pkce {
            challenge: challenge(&verifier),
            verifier: Secret::new(verifier),
        })
    }
}

/// The S256 challenge of a verifier.
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_random_unreserved_and_43_long() {
        let (a, b) = (Pkce::new().unwrap(), Pkce::new().unwrap());
        assert_ne!(a.verifier, b.verifier);
        let v = a.verifier.expose();
        assert_eq!(v.len(), 43);
        assert!(v
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(a.challenge, challenge(v));
        assert_eq!(a.challenge.len(), 43);
    }
}
