//! The OAuth callback the browser brings back to the listener: its `state` checked first (in
//! constant time), then Wix's `error`, then the code or instance id.

use subtle::ConstantTimeEq;

use crate::core::error::{Error, Result};
use crate::core::secret::Secret;

/// What came back on the callback, checked state first, then `error`, then `code`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Callback {
    /// Advanced flow: an authorization code for an instance.
    Code {
        code: Secret,
        instance_id: Option<String>,
    },
    /// Basic flow (external install): the instance the app was installed on.
    Installed { instance_id: String },
    /// `state` missing, repeated or different: not our login.
    BadState,
    /// The user said no.
    Denied(String),
    /// Wix reported another error, or a required parameter is missing.
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Code,
    Installed,
}

/// Parses a callback query. Tolerates anything (bad percent-encoding, non-UTF-8, huge
/// input): the worst outcome is `BadState` or `Failed`, never a panic.
pub(crate) fn parse_callback(query: &str, expected_state: &str, expect: Expect) -> Callback {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let values = |key: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let one = |key: &str| -> Option<&str> {
        match values(key).as_slice() {
            [v] if !v.is_empty() => Some(v),
            _ => None,
        }
    };
    let state_ok =
        one("state").is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected_state.as_bytes())));
    if !state_ok {
        return Callback::BadState;
    }
    if let Some(error) = values("error").first() {
        let description = one("error_description").unwrap_or(error);
        // From the browser's URL, so anyone's: escaped before it reaches a terminal or a page.
        let shown = crate::core::text::printable(description, 200);
        let denied = ["access_denied", "denied", "cancel"]
            .iter()
            .any(|d| error.to_ascii_lowercase().contains(d));
        return if denied {
            Callback::Denied(shown)
        } else {
            Callback::Failed(shown)
        };
    }
    match expect {
        Expect::Code => match one("code") {
            Some(code) => Callback::Code {
                code: Secret::new(code),
                instance_id: one("instanceId").map(str::to_string),
            },
            None => Callback::Failed("the redirect carried no authorization code".into()),
        },
        Expect::Installed => match one("instanceId") {
            Some(id) => Callback::Installed {
                instance_id: id.to_string(),
            },
            None => Callback::Failed("the redirect carried no instanceId".into()),
        },
    }
}

/// At least 128 bits from the OS CSPRNG, hex-encoded.
pub(crate) fn new_state() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::failure(format!("cannot get random bytes from the OS: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STATE: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn state_is_checked_first() {
        assert_eq!(
            parse_callback("code=c&error=access_denied", STATE, Expect::Code),
            Callback::BadState
        );
        assert_eq!(
            parse_callback(&format!("state={STATE}x&code=c"), STATE, Expect::Code),
            Callback::BadState
        );
        assert_eq!(
            parse_callback(
                &format!("state={STATE}&state={STATE}&code=c"),
                STATE,
                Expect::Code
            ),
            Callback::BadState
        );
        assert_eq!(
            parse_callback("state=&code=c", STATE, Expect::Code),
            Callback::BadState
        );
    }

    #[test]
    fn error_before_code() {
        let q = format!("state={STATE}&error=access_denied&code=c");
        assert!(matches!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Denied(_)
        ));
        let q = format!("state={STATE}&error=server_error");
        assert!(matches!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Failed(_)
        ));
        // A description with terminal escapes reaches the error line escaped.
        let q = format!("state={STATE}&error=server_error&error_description=a%1B%5B2Jb");
        assert_eq!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Failed("a\\u{1b}[2Jb".into())
        );
    }

    #[test]
    fn code_and_instance() {
        let q = format!("code=abc%2Fd&instanceId=i-1&state={STATE}");
        assert_eq!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Code {
                code: Secret::new("abc/d"),
                instance_id: Some("i-1".into())
            }
        );
        assert!(matches!(
            parse_callback(&format!("state={STATE}"), STATE, Expect::Code),
            Callback::Failed(_)
        ));
        let q = format!("appId=a&tenantId=t&instanceId=i-2&state={STATE}");
        assert_eq!(
            parse_callback(&q, STATE, Expect::Installed),
            Callback::Installed {
                instance_id: "i-2".into()
            }
        );
    }

    #[test]
    fn states_are_random_and_long() {
        let (a, b) = (new_state().unwrap(), new_state().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }

    proptest! {
        #[test]
        fn never_panics_and_never_accepts_without_the_state(query in ".{0,400}") {
            let outcome = parse_callback(&query, STATE, Expect::Code);
            if !query.contains(STATE) {
                prop_assert_eq!(outcome, Callback::BadState);
            }
        }

        #[test]
        fn right_state_and_code_always_parse(code in "[A-Za-z0-9._~-]{1,64}", noise in "[a-z]{1,8}") {
            prop_assume!(!["code", "state", "error"].contains(&noise.as_str()));
            let q = format!("{noise}=x&code={code}&state={STATE}&instanceId=i");
            let outcome = parse_callback(&q, STATE, Expect::Code);
            prop_assert_eq!(outcome, Callback::Code { code: Secret::new(code), instance_id: Some("i".into()) });
        }

        #[test]
        fn arbitrary_bytes_are_tolerated(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let query = String::from_utf8_lossy(&bytes);
            let _ = parse_callback(&query, STATE, Expect::Installed);
        }
    }
}
