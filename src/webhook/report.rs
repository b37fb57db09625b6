//! The report card of `webhook test`: one line per check (`PASS|FAIL|WARN name: sent → came
//! back`, then `fix: …` on a FAIL), or the contract's JSON.

use serde_json::{json, Value};

use super::battery::Check;
use crate::core::text::printable;

/// Every required (non-advisory) check passed.
pub(crate) fn all_passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.ok || c.advisory)
}

pub(crate) fn to_json(checks: &[Check]) -> Value {
    let list: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "ok": c.ok,
                "advisory": c.advisory,
                "status": c.status,
                "ms": c.ms.map(|ms| (ms * 10.0).round() / 10.0),
                "detail": c.detail,
                "fix": c.fix,
            })
        })
        .collect();
    json!({"ok": all_passed(checks), "checks": list})
}

pub(crate) fn human(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let mark = match (c.advisory, c.ok) {
            (true, _) => "WARN",
            (false, true) => "PASS",
            (false, false) => "FAIL",
        };
        // The detail holds the handler's (escaped) first line; escape the whole once more.
        out.push_str(&format!(
            "{mark} {}: {}\n",
            c.name,
            printable(&c.detail, 400)
        ));
        if let (false, Some(fix)) = (c.ok, c.fix) {
            out.push_str(&format!("  fix: {fix}\n"));
        }
    }
    let required = checks.iter().filter(|c| !c.advisory).count();
    let failed = checks.iter().filter(|c| !c.advisory && !c.ok).count();
    let warnings = checks.iter().filter(|c| c.advisory).count();
    let advisory = match warnings {
        0 => String::new(),
        n => format!(" ({n} advisory, never a failure)"),
    };
    match failed {
        0 => out.push_str(&format!(
            "All {required} required checks passed{advisory}.\n"
        )),
        n => out.push_str(&format!(
            "{n} of {required} required checks FAILED{advisory}.\n"
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &'static str, ok: bool, advisory: bool) -> Check {
        Check {
            name,
            ok,
            advisory,
            status: Some(200),
            ms: Some(1.234),
            detail: "sent → HTTP 200 in 1.2 ms: \\u{1b}[31m".into(),
            fix: Some("do it"),
        }
    }

    #[test]
    fn advisory_checks_never_fail_the_card() {
        let checks = [check("valid", true, false), check("expired", true, true)];
        assert!(all_passed(&checks));
        let text = human(&checks);
        assert!(text.starts_with("PASS valid: "), "{text}");
        assert!(text.contains("WARN expired: "), "{text}");
        assert!(!text.contains("fix:"), "{text}");
        let failed = [check("valid", false, false)];
        assert!(!all_passed(&failed));
        assert!(human(&failed).contains("\n  fix: do it\n"));
        let json = to_json(&failed);
        assert_eq!(json["ok"], false);
        assert_eq!(json["checks"][0]["ms"], 1.2);
        let keys: Vec<&String> = json["checks"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7);
    }
}
