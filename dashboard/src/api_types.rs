//! The server's HTTP responses (see `server/README.md`), decoded without any browser API so
//! the status handling is unit-tested natively.

use edgeflag_evaluator::Problem;
use serde::Deserialize;

/// One entry of `GET /api/flags/history`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryEntry {
    pub version: u64,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub changed_flags: Vec<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub etag: String,
}

/// What a `PUT /api/flags` or `POST /api/flags/rollback/{n}` came to.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Published { version: u64, etag: String },
    /// 412: someone published since our `If-Match` version.
    Conflict { current_version: Option<u64>, current_etag: Option<String>, error: String },
    /// 422: the server's validation (the same evaluator) rejected the file.
    Invalid { error: String, problems: Vec<Problem> },
    /// 401/403: the token was missing or wrong.
    Unauthorized(String),
    /// Anything else (413, 428, 5xx, network).
    Failed(String),
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    current_version: Option<u64>,
    #[serde(default)]
    current_etag: Option<String>,
    #[serde(default)]
    problems: Vec<ProblemBody>,
}

#[derive(Deserialize)]
struct ProblemBody {
    #[serde(default)]
    path: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Written {
    version: u64,
    #[serde(default)]
    etag: Option<String>,
}

/// Decodes a write response from its status, body and `ETag` header.
pub fn write_outcome(status: u16, body: &str, etag_header: Option<&str>) -> WriteOutcome {
    if (200..300).contains(&status) {
        return match crate::json::from_text::<Written>(body) {
            Ok(w) => WriteOutcome::Published {
                version: w.version,
                etag: w.etag.or(etag_header.map(str::to_string)).unwrap_or_default(),
            },
            Err(e) => WriteOutcome::Failed(format!("unexpected response from the server: {e}")),
        };
    }
    let err: ErrorBody = crate::json::from_text(body).unwrap_or_default();
    let error = if err.error.is_empty() { format!("HTTP {status}") } else { err.error.clone() };
    match status {
        412 => WriteOutcome::Conflict {
            current_version: err.current_version,
            current_etag: err.current_etag,
            error,
        },
        422 => WriteOutcome::Invalid {
            error,
            problems: err
                .problems
                .into_iter()
                .map(|p| Problem { path: p.path, message: p.message })
                .collect(),
        },
        401 | 403 => WriteOutcome::Unauthorized(error),
        413 => WriteOutcome::Failed(format!("the file is too large for the server: {error}")),
        428 => WriteOutcome::Failed(format!("the server requires If-Match: {error}")),
        _ if err.error.is_empty() => WriteOutcome::Failed(error),
        _ => WriteOutcome::Failed(format!("HTTP {status}: {error}")),
    }
}

/// A URL under the server base (`""` = this page's origin).
pub fn api_url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim().trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_carries_the_new_version() {
        assert_eq!(
            write_outcome(200, r#"{"version": 4, "etag": "\"abc\""}"#, None),
            WriteOutcome::Published { version: 4, etag: "\"abc\"".into() }
        );
        assert_eq!(
            write_outcome(200, r#"{"version": 5}"#, Some("\"h\"")),
            WriteOutcome::Published { version: 5, etag: "\"h\"".into() }
        );
        assert!(matches!(write_outcome(200, "nope", None), WriteOutcome::Failed(_)));
    }

    #[test]
    fn errors_map_to_what_the_admin_must_do() {
        assert_eq!(
            write_outcome(412, r#"{"error":"stale","current_version":9,"current_etag":"\"x\""}"#, None),
            WriteOutcome::Conflict {
                current_version: Some(9),
                current_etag: Some("\"x\"".into()),
                error: "stale".into()
            }
        );
        let invalid = write_outcome(
            422,
            r#"{"error":"invalid","problems":[{"path":"flags[0].key","message":"empty"}]}"#,
            None,
        );
        assert_eq!(
            invalid,
            WriteOutcome::Invalid {
                error: "invalid".into(),
                problems: vec![Problem { path: "flags[0].key".into(), message: "empty".into() }]
            }
        );
        assert_eq!(write_outcome(401, r#"{"error":"bad token"}"#, None), WriteOutcome::Unauthorized("bad token".into()));
        assert_eq!(write_outcome(500, "", None), WriteOutcome::Failed("HTTP 500".into()));
    }

    #[test]
    fn history_entries_decode() {
        let list: Vec<HistoryEntry> = crate::json::from_text(
            r#"[{"version":2,"created_at":"2026-01-01T00:00:00Z","author":"admin","changed_flags":["a"],"message":"m","etag":"\"e\""},
                {"version":1,"created_at":"2026-01-01T00:00:00Z","author":"seed","changed_flags":[],"etag":"\"d\""}]"#,
        )
        .unwrap();
        assert_eq!(list[0].changed_flags, ["a"]);
        assert_eq!(list[1].message, None);
    }

    #[test]
    fn urls_join_the_base() {
        assert_eq!(api_url("", "/api/flags"), "/api/flags");
        assert_eq!(api_url("http://h:1/ ", "/api/flags"), "http://h:1/api/flags");
    }
}
