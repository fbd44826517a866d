//! The local draft: the admin's working copy, saved in localStorage on every edit so that a
//! reload or a failed publish never loses work. It remembers which published version it
//! started from, so the dashboard can tell "you have unpublished changes" apart from "the
//! server moved on since you started".

use serde::Serialize;

/// localStorage key of the draft.
pub const DRAFT_KEY: &str = "edgeflag.draft.v1";
/// sessionStorage key of the admin token (gone when the tab closes).
pub const TOKEN_KEY: &str = "edgeflag.token";

/// What is saved in localStorage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDraft {
    /// The flag file text exactly as the admin left it (may be invalid JSON).
    pub text: String,
    /// ETag of the published version the draft started from, if any.
    pub base_etag: Option<String>,
    pub base_version: Option<u64>,
}

impl StoredDraft {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A corrupt entry (edited by hand, older format) is ignored rather than fatal.
    pub fn from_json(text: &str) -> Option<StoredDraft> {
        crate::json::decode(text, |f| {
            Ok(StoredDraft {
                text: f.field("text")?.string()?,
                base_etag: f.field("base_etag")?.opt_string()?,
                base_version: f.field("base_version")?.opt_u64()?,
            })
        })
        .ok()
    }
}

/// The version on the server, as last fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub text: String,
    pub etag: String,
    pub version: u64,
}

/// Whether two flag-file texts mean the same thing (formatting and key order aside).
/// Texts that are not JSON compare as text.
pub fn same_content(a: &str, b: &str) -> bool {
    match (crate::json::value(a), crate::json::value(b)) {
        (Ok(a), Ok(b)) => crate::diff::normalize(&a) == crate::diff::normalize(&b),
        _ => a == b,
    }
}

/// How the working copy relates to the server.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftState {
    /// Nothing loaded from a server (a file or URL was opened, or the server is unreachable).
    NoServer,
    /// The draft is what is published.
    Clean,
    /// Unpublished edits on top of the version the draft started from.
    Modified,
    /// Unpublished edits, and the server has a newer version than the one they started from.
    ModifiedAndBehind { base_version: Option<u64> },
}

impl DraftState {
    pub fn label(&self, published_version: Option<u64>) -> String {
        match self {
            DraftState::NoServer => "not connected to a server".into(),
            DraftState::Clean => match published_version {
                Some(v) => format!("same as published version {v}"),
                None => "same as published".into(),
            },
            DraftState::Modified => "draft differs from the published version".into(),
            DraftState::ModifiedAndBehind { base_version } => format!(
                "draft differs, and the server moved on since it started (from version {})",
                base_version.map_or("?".to_string(), |v| v.to_string())
            ),
        }
    }
}

pub fn draft_state(
    text: &str,
    base_etag: Option<&str>,
    base_version: Option<u64>,
    published: Option<&Published>,
) -> DraftState {
    let Some(published) = published else { return DraftState::NoServer };
    if same_content(text, &published.text) {
        DraftState::Clean
    } else if base_etag.is_some_and(|etag| etag != published.etag) {
        DraftState::ModifiedAndBehind { base_version }
    } else {
        DraftState::Modified
    }
}

/// What to show after loading the published file, given a draft left from an earlier visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub text: String,
    pub base_etag: Option<String>,
    pub base_version: Option<u64>,
    /// A message for the admin, when the saved draft was kept.
    pub notice: Option<String>,
}

/// A saved draft that still differs from the server is kept (the admin's work is never
/// dropped); one that equals the server is replaced by the fresh published file.
pub fn restore(stored: Option<StoredDraft>, published: &Published) -> Restored {
    let fresh = Restored {
        text: published.text.clone(),
        base_etag: Some(published.etag.clone()),
        base_version: Some(published.version),
        notice: None,
    };
    let Some(stored) = stored else { return fresh };
    if same_content(&stored.text, &published.text) {
        return fresh;
    }
    let behind = stored.base_etag.as_deref().is_some_and(|e| e != published.etag);
    let notice = if behind {
        format!(
            "Restored your unpublished draft. It started from version {}, but the server is now \
             at version {}: review the diff before publishing.",
            stored.base_version.map_or("?".to_string(), |v| v.to_string()),
            published.version
        )
    } else {
        "Restored your unpublished draft.".to_string()
    };
    Restored {
        text: stored.text,
        base_etag: stored.base_etag,
        base_version: stored.base_version,
        notice: Some(notice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(text: &str, version: u64) -> Published {
        Published { text: text.into(), etag: format!("\"e{version}\""), version }
    }

    #[test]
    fn formatting_does_not_count_as_a_change() {
        assert!(same_content(r#"{"a":1,"b":[1,2]}"#, "{\n  \"b\": [1, 2],\n  \"a\": 1\n}"));
        assert!(!same_content(r#"{"a":1}"#, r#"{"a":2}"#));
        assert!(same_content(r#"{"a":800}"#, r#"{"a":800.0}"#));
        assert!(!same_content("{broken", r#"{"a":1}"#));
        assert!(same_content("{broken", "{broken"));
    }

    #[test]
    fn no_saved_draft_starts_from_the_server() {
        let r = restore(None, &published(r#"{"v":1}"#, 3));
        assert_eq!(r.text, r#"{"v":1}"#);
        assert_eq!(r.base_version, Some(3));
        assert_eq!(r.notice, None);
    }

    #[test]
    fn an_edited_draft_survives_a_reload() {
        let stored = StoredDraft {
            text: r#"{"v":2}"#.into(),
            base_etag: Some("\"e3\"".into()),
            base_version: Some(3),
        };
        let stored = StoredDraft::from_json(&stored.to_json());
        let r = restore(stored, &published(r#"{"v":1}"#, 3));
        assert_eq!(r.text, r#"{"v":2}"#);
        assert_eq!(r.notice.as_deref(), Some("Restored your unpublished draft."));
    }

    #[test]
    fn a_draft_behind_the_server_is_kept_with_a_warning() {
        let stored = StoredDraft {
            text: "{not json yet".into(),
            base_etag: Some("\"e3\"".into()),
            base_version: Some(3),
        };
        let r = restore(Some(stored), &published(r#"{"v":1}"#, 5));
        assert_eq!(r.text, "{not json yet");
        assert_eq!(r.base_etag.as_deref(), Some("\"e3\""));
        assert!(r.notice.unwrap().contains("server is now at version 5"));
    }

    #[test]
    fn a_draft_equal_to_the_server_is_refreshed() {
        let stored = StoredDraft { text: r#"{"v": 1}"#.into(), base_etag: None, base_version: None };
        let r = restore(Some(stored), &published(r#"{"v":1}"#, 7));
        assert_eq!((r.base_version, r.notice), (Some(7), None));
    }

    #[test]
    fn corrupt_storage_is_ignored() {
        assert_eq!(StoredDraft::from_json("garbage"), None);
    }

    #[test]
    fn states_follow_content_and_base() {
        let p = published(r#"{"v":1}"#, 4);
        assert_eq!(draft_state(r#"{"v":1}"#, Some("\"e4\""), Some(4), Some(&p)), DraftState::Clean);
        assert_eq!(draft_state(r#"{"v":2}"#, Some("\"e4\""), Some(4), Some(&p)), DraftState::Modified);
        assert_eq!(
            draft_state(r#"{"v":2}"#, Some("\"e1\""), Some(1), Some(&p)),
            DraftState::ModifiedAndBehind { base_version: Some(1) }
        );
        assert_eq!(draft_state("{}", None, None, None), DraftState::NoServer);
    }
}
