//! A refused call read the way Wix answers (its standard error JSON: `message`, and
//! `details.applicationError.code` / `description`): the facts `credentials::explain` chooses
//! a cause from. Nothing here guesses a cause or names a command.

use serde_json::Value;

use super::Response;
use crate::core::text::printable;

/// What Wix said when it refused a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    /// `details.applicationError.code` (e.g. `MISSING_METASITE_ID`, `PERMISSION_DENIED`).
    pub code: Option<String>,
    /// `message`, else `details.applicationError.description` (escaped, bounded).
    pub message: Option<String>,
    /// `x-wix-request-id` (escaped, bounded).
    pub request_id: Option<String>,
    /// The first Wix permission the answer names (`SCOPE.DC-STORES.MANAGE-PRODUCTS`).
    pub permission: Option<String>,
    /// The answer as Wix sent it, escaped and cut, for "Wix's answer:".
    pub body: String,
}

/// The longest part of an answer shown.
const SHOWN: usize = 400;

impl Refusal {
    pub(crate) fn of(response: &Response) -> Refusal {
        let text = String::from_utf8_lossy(&response.body);
        let parsed: Option<Value> = serde_json::from_str(&text).ok();
        let at = |pointer: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.pointer(pointer))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(|s| printable(s.trim(), 200))
        };
        Refusal {
            status: response.status,
            code: at("/details/applicationError/code"),
            message: response
                .wix_message()
                .map(|m| printable(m.trim(), 300))
                .or_else(|| at("/details/applicationError/description")),
            request_id: response
                .header("x-wix-request-id")
                .map(|id| printable(id, 80)),
            permission: permission_in(&text),
            body: match text.trim() {
                "" => "(an empty body)".to_string(),
                body => printable(body, SHOWN),
            },
        }
    }

    /// Wix's error code is `code` (case as Wix writes them: upper).
    pub(crate) fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// The answer says the app is not installed on the site (an uninstalled instance). Wix
    /// documents no code for it: these are the shapes seen and emulated (UNCONFIRMED, README.md).
    pub(crate) fn says_not_installed(&self) -> bool {
        let codes = [
            "APP_NOT_INSTALLED",
            "APP_INSTANCE_NOT_FOUND",
            "INSTANCE_NOT_FOUND",
        ];
        codes.iter().any(|c| self.has_code(c))
            || self
                .message
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("not installed"))
    }
}

/// The first `SCOPE.…` permission id in an answer: Wix's permission ids are upper-case words
/// joined by `.`, `-` and `_` (`SCOPE.DC-STORES.MANAGE-PRODUCTS`).
fn permission_in(text: &str) -> Option<String> {
    let start = text.find("SCOPE.")?;
    let id: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "._-".contains(*c))
        .take(120)
        .collect();
    let id = id.trim_end_matches(['.', '-', '_']);
    (id.len() > "SCOPE.".len()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("x-wix-request-id".into(), "req-1".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn wix_error_json_is_read_field_by_field() {
        let r = Refusal::of(&response(
            428,
            r#"{"message":"Missing metasite id","details":{"applicationError":{"code":"MISSING_METASITE_ID","description":"header wix-site-id"}}}"#,
        ));
        assert_eq!(r.code.as_deref(), Some("MISSING_METASITE_ID"));
        assert_eq!(r.message.as_deref(), Some("Missing metasite id"));
        assert_eq!(r.request_id.as_deref(), Some("req-1"));
        assert!(r.has_code("MISSING_METASITE_ID") && r.permission.is_none());
        let r = Refusal::of(&response(
            403,
            r#"{"details":{"applicationError":{"code":"PERMISSION_DENIED","description":"needs SCOPE.DC-STORES.MANAGE-PRODUCTS.","data":{}}}}"#,
        ));
        assert_eq!(
            r.message.as_deref(),
            Some("needs SCOPE.DC-STORES.MANAGE-PRODUCTS.")
        );
        assert_eq!(
            r.permission.as_deref(),
            Some("SCOPE.DC-STORES.MANAGE-PRODUCTS")
        );
    }

    #[test]
    fn any_answer_is_shown_escaped_and_bounded() {
        let r = Refusal::of(&response(404, "<html>\u{1b}[2J</html>"));
        assert_eq!(r.body, "<html>\\u{1b}[2J</html>");
        assert_eq!((r.code, r.message), (None, None));
        assert_eq!(Refusal::of(&response(401, "")).body, "(an empty body)");
        let long = "x".repeat(5000);
        assert!(Refusal::of(&response(400, &long)).body.chars().count() <= SHOWN + 1);
        assert_eq!(permission_in("SCOPE."), None);
        assert!(
            Refusal::of(&response(404, r#"{"message":"App is not installed"}"#))
                .says_not_installed()
        );
    }
}
