//! The server's HTTP responses (see `server/README.md`), decoded without any browser API so
//! the status handling is unit-tested natively.

use edgeflag_evaluator::Problem;

use crate::json::{self, Field};

/// One entry of `GET /api/flags/history`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub version: u64,
    pub created_at: String,
    pub author: String,
    pub changed_flags: Vec<String>,
    /// As the server sends it: empty when the writer gave none.
    pub message: String,
    pub etag: String,
}

impl HistoryEntry {
    fn decode(f: Field<'_>) -> Result<HistoryEntry, String> {
        Ok(HistoryEntry {
            version: f.field("version")?.u64()?,
            created_at: f.field("created_at")?.string_or_empty()?,
            author: f.field("author")?.string_or_empty()?,
            changed_flags: f.field("changed_flags")?.items(json::string)?,
            message: f.field("message")?.string_or_empty()?,
            etag: f.field("etag")?.string_or_empty()?,
        })
    }
}

/// The `X-Edgeflag-Message` header value for an audit message: as typed when it is printable
/// ASCII, else an RFC 8187 extended value (`UTF-8''D%C3%A9ploiement`) that the server decodes,
/// since a browser cannot send other characters in a header. Control characters are dropped.
pub fn header_message(message: &str) -> String {
    let message: String = message.chars().filter(|c| !c.is_control()).collect();
    let message = message.trim();
    let plain = message.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if plain && !message.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("UTF-8''")) {
        return message.to_string();
    }
    let mut out = String::from("UTF-8''");
    for b in message.bytes() {
        // RFC 8187 attr-char: letters, digits and !#$&+-.^_`|~ go as they are.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The body of `GET /api/flags/history`.
pub fn parse_history(text: &str) -> Result<Vec<HistoryEntry>, String> {
    json::decode(text, |f| f.items(HistoryEntry::decode))
}

/// What a `PUT /api/flags` or `POST /api/flags/rollback/{n}` came to.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Published { version: u64, etag: String },
    /// 412: someone published since our `If-Match` version.
    Stale { current_version: Option<u64>, current_etag: Option<String>, error: String },
    /// 422: the server's validation (the same evaluator) rejected the file.
    Invalid { error: String, problems: Vec<Problem> },
    /// 409 (per-flag writes): the server changed a field this write also sets, since its base.
    Refused { error: String, conflicts: Vec<ServerConflict> },
    /// 401/403: the token was missing or wrong.
    Unauthorized(String),
    /// Anything else (413, 428, 5xx, network).
    Failed(String),
}

/// One field of a 409: what the write wanted and what the server has, and who put it there.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConflict {
    /// Relative to the flag, e.g. `canary.status`.
    pub path: String,
    pub base: Option<serde_json::Value>,
    pub mine: Option<serde_json::Value>,
    pub theirs: Option<serde_json::Value>,
    pub theirs_version: Option<u64>,
    pub theirs_author: Option<String>,
}

impl ServerConflict {
    fn decode(f: Field<'_>) -> Result<ServerConflict, String> {
        Ok(ServerConflict {
            path: f.field("path")?.string_or_empty()?,
            base: f.field("base")?.value().cloned(),
            mine: f.field("mine")?.value().cloned(),
            theirs: f.field("theirs")?.value().cloned(),
            theirs_version: f.field("theirs_version")?.opt_u64()?,
            theirs_author: f.field("theirs_author")?.opt_string()?,
        })
    }

    /// e.g. `canary.status: the server has "rolled_back" (version 7, canary-controller), this
    /// write would set "paused"`.
    pub fn describe(&self) -> String {
        let show = |v: &Option<serde_json::Value>| crate::rebase::show_value(v.as_ref(), 80);
        let by = match (self.theirs_version, self.theirs_author.as_deref()) {
            (Some(v), Some(a)) => format!(" (version {v}, {a})"),
            (Some(v), None) => format!(" (version {v})"),
            (None, Some(a)) => format!(" ({a})"),
            (None, None) => String::new(),
        };
        format!("{}: the server has {}{by}, this write would set {}", self.path, show(&self.theirs), show(&self.mine))
    }
}

#[derive(Default)]
struct ErrorBody {
    error: String,
    current_version: Option<u64>,
    current_etag: Option<String>,
    problems: Vec<Problem>,
    conflicts: Vec<ServerConflict>,
}

impl ErrorBody {
    fn decode(f: Field<'_>) -> Result<ErrorBody, String> {
        Ok(ErrorBody {
            error: f.field("error")?.string_or_empty()?,
            current_version: f.field("current_version")?.opt_u64()?,
            current_etag: f.field("current_etag")?.opt_string()?,
            problems: f.field("problems")?.items(|p| {
                Ok(Problem { path: p.field("path")?.string_or_empty()?, message: p.field("message")?.string_or_empty()? })
            })?,
            conflicts: f.field("conflicts")?.items(ServerConflict::decode)?,
        })
    }
}

struct Written {
    version: u64,
    etag: Option<String>,
}

impl Written {
    fn decode(f: Field<'_>) -> Result<Written, String> {
        Ok(Written { version: f.field("version")?.u64()?, etag: f.field("etag")?.opt_string()? })
    }
}

/// Decodes a write response from its status, body and `ETag` header.
pub fn write_outcome(status: u16, body: &str, etag_header: Option<&str>) -> WriteOutcome {
    if (200..300).contains(&status) {
        return match json::decode(body, Written::decode) {
            Ok(w) => WriteOutcome::Published {
                version: w.version,
                etag: w.etag.or(etag_header.map(str::to_string)).unwrap_or_default(),
            },
            Err(e) => WriteOutcome::Failed(format!("unexpected response from the server: {e}")),
        };
    }
    let err = json::decode(body, ErrorBody::decode).unwrap_or_default();
    let error = if err.error.is_empty() { format!("HTTP {status}") } else { err.error.clone() };
    match status {
        412 => WriteOutcome::Stale {
            current_version: err.current_version,
            current_etag: err.current_etag,
            error,
        },
        422 => WriteOutcome::Invalid {
            error,
            problems: err.problems,
        },
        409 => WriteOutcome::Refused { error, conflicts: err.conflicts },
        401 | 403 => WriteOutcome::Unauthorized(error),
        413 => WriteOutcome::Failed(format!("the file is too large for the server: {error}")),
        428 => WriteOutcome::Failed(format!("the server requires If-Match: {error}")),
        _ if err.error.is_empty() => WriteOutcome::Failed(error),
        _ => WriteOutcome::Failed(format!("HTTP {status}: {error}")),
    }
}

/// A path segment for `/api/flags/{key}`: keys may hold any character, `/` included.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
            WriteOutcome::Stale {
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
    fn a_409_names_each_field_and_who_changed_it() {
        let body = r#"{"error":"canary.status is \"rolled_back\" since version 7 (canary-controller)",
            "conflicts":[{"path":"canary.status","base":"running","mine":"paused","theirs":"rolled_back",
                          "theirs_version":7,"theirs_author":"canary-controller"}]}"#;
        let WriteOutcome::Refused { error, conflicts } = write_outcome(409, body, None) else { panic!() };
        assert!(error.starts_with("canary.status is"));
        assert_eq!(
            conflicts[0].describe(),
            "canary.status: the server has \"rolled_back\" (version 7, canary-controller), this write would set \"paused\""
        );
        assert_eq!(write_outcome(409, "", None), WriteOutcome::Refused { error: "HTTP 409".into(), conflicts: vec![] });
    }

    #[test]
    fn keys_are_encoded_as_one_path_segment() {
        assert_eq!(encode_key("payment-processor"), "payment-processor");
        assert_eq!(encode_key("team/a b"), "team%2Fa%20b");
        assert_eq!(encode_key("é"), "%C3%A9");
    }

    #[test]
    fn audit_messages_that_a_header_cannot_carry_are_sent_as_rfc_8187_values() {
        assert_eq!(header_message("  raise to 50% "), "raise to 50%");
        assert_eq!(header_message("Déploiement ✓"), "UTF-8''D%C3%A9ploiement%20%E2%9C%93");
        assert_eq!(header_message("支付\n"), "UTF-8''%E6%94%AF%E4%BB%98");
        // A plain message that looks encoded is encoded, so the server does not decode it.
        assert_eq!(header_message("utf-8''%41"), "UTF-8''utf-8%27%27%2541");
        assert_eq!(header_message("\t"), "");
    }

    #[test]
    fn history_entries_decode() {
        let list = parse_history(
            r#"[{"version":2,"created_at":"2026-01-01T00:00:00Z","author":"admin","changed_flags":["a"],"message":"m","etag":"\"e\""},
                {"version":1,"created_at":"2026-01-01T00:00:00Z","author":"seed","changed_flags":[],"etag":"\"d\""}]"#,
        )
        .unwrap();
        assert_eq!(list[0].changed_flags, ["a"]);
        assert_eq!(list[1].message, "");
    }

    #[test]
    fn urls_join_the_base() {
        assert_eq!(api_url("", "/api/flags"), "/api/flags");
        assert_eq!(api_url("http://h:1/ ", "/api/flags"), "http://h:1/api/flags");
    }
}
