//! The admin's working copy: the published version it started from (its *base*) and the
//! admin's text on top of it, nothing else. A draft exists only once that text differs from
//! its base; an unedited page simply follows the server. The draft (and the publish message
//! that goes with it) is kept in localStorage so a reload or a failed publish never loses
//! work, and it is always restored *against its base*: when the server has moved on it is
//! rebased (see [`crate::rebase`]), never laid over the server as a whole document.

use serde::Serialize;

/// localStorage key of the draft (format 2: base version, base ETag, text, message).
pub const DRAFT_KEY: &str = "edgeflag.draft.v2";
/// The first format's key: the whole text and the base it started from, saved on every change,
/// edited or not. Read once, migrated, then removed.
pub const OLD_DRAFT_KEY: &str = "edgeflag.draft.v1";
/// sessionStorage key of the admin token (gone when the tab closes).
pub const TOKEN_KEY: &str = "edgeflag.token";

/// A version on the server, as fetched (`GET /api/flags` or `/api/flags/versions/{n}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub text: String,
    pub etag: String,
    pub version: u64,
}

/// The working copy: the base version and the admin's text (equal to the base's when nothing
/// was edited), and the publish message being written for it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingCopy {
    pub base: Published,
    pub text: String,
    pub message: String,
}

impl WorkingCopy {
    /// An unedited copy of `published`.
    pub fn following(published: Published) -> WorkingCopy {
        WorkingCopy { text: published.text.clone(), base: published, message: String::new() }
    }

    /// Whether the admin changed anything (formatting aside).
    pub fn is_edited(&self) -> bool {
        !same_content(&self.text, &self.base.text)
    }

    /// What to keep in localStorage: `None` (remove the entry) when nothing was edited.
    pub fn saved(&self) -> Option<SavedDraft> {
        self.is_edited().then(|| SavedDraft {
            text: self.text.clone(),
            base_etag: Some(self.base.etag.clone()),
            base_version: Some(self.base.version),
            message: self.message.clone(),
        })
    }
}

/// A draft as kept in localStorage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedDraft {
    /// The flag file text exactly as the admin left it (may be invalid JSON).
    pub text: String,
    /// ETag and number of the published version the edits are against (none when the draft
    /// was started without a server, e.g. from a local file).
    pub base_etag: Option<String>,
    pub base_version: Option<u64>,
    /// The publish message, kept with the edits it describes.
    pub message: String,
}

impl SavedDraft {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A corrupt entry (edited by hand, unknown format) is ignored rather than fatal.
    pub fn from_json(text: &str) -> Option<SavedDraft> {
        crate::json::decode(text, |f| {
            Ok(SavedDraft {
                text: f.field("text")?.string()?,
                base_etag: f.field("base_etag")?.opt_string()?,
                base_version: f.field("base_version")?.opt_u64()?,
                message: f.field("message")?.string_or_empty()?,
            })
        })
        .ok()
    }
}

/// The saved draft, from the current entry or, failing that, the first format's entry (the
/// same fields without a message). Whether the old entry holds any edit at all is only known
/// against its base: see [`restore`] and [`with_base`].
pub fn read_saved(current: Option<&str>, old: Option<&str>) -> Option<SavedDraft> {
    current.and_then(SavedDraft::from_json).or_else(|| old.and_then(SavedDraft::from_json))
}

/// Whether two flag-file texts mean the same thing (formatting, key order and `800` against
/// `800.0` aside). Texts that are not JSON compare as text.
pub fn same_content(a: &str, b: &str) -> bool {
    match (crate::json::value(a), crate::json::value(b)) {
        (Ok(a), Ok(b)) => edgeflag_evaluator::merge::same_value(&a, &b),
        _ => a == b,
    }
}

/// The working copy after the page's publish became `published`, given the copy `now`:
/// edits made while the request was out are edits over what was sent, so they stay, as a draft
/// against `published` (with a message typed meanwhile: not `sent_message`); without them, or
/// after a discard, the copy is clean on it. The `bool`: whether edits were kept.
pub fn after_publish(published: Published, sent_message: &str, now: Option<WorkingCopy>) -> (WorkingCopy, bool) {
    match now.filter(|c| c.is_edited() && !same_content(&c.text, &published.text)) {
        Some(c) => {
            let message = if c.message == sent_message { String::new() } else { c.message };
            (WorkingCopy { base: published, text: c.text, message }, true)
        }
        None => (WorkingCopy::following(published), false),
    }
}

/// What to do with a saved draft once the server's current version is known.
#[derive(Debug, Clone, PartialEq)]
pub enum Restore {
    /// There is no draft (none saved, or the saved text is what the server has): follow the
    /// server.
    Follow,
    /// The draft's base is the server's current version: keep editing it.
    Resume(WorkingCopy),
    /// The draft started from an older version: fetch that version
    /// (`GET /api/flags/versions/{n}`), then [`with_base`], then rebase onto the server.
    FetchBase { version: u64, saved: SavedDraft },
    /// Nothing says which version the draft started from (saved without a server, or its base
    /// is not this server's): it is never applied on its own; the admin decides.
    Orphan(SavedDraft),
}

pub fn restore(saved: Option<SavedDraft>, server: &Published) -> Restore {
    let Some(saved) = saved else { return Restore::Follow };
    if same_content(&saved.text, &server.text) {
        return Restore::Follow;
    }
    match (saved.base_version, saved.base_etag.as_deref()) {
        (Some(v), Some(etag)) if v == server.version && etag == server.etag => Restore::Resume(WorkingCopy {
            base: server.clone(),
            text: saved.text,
            message: saved.message,
        }),
        // Version numbers only grow: a base newer than the server (or the same number with
        // another ETag) belongs to another server's history.
        (Some(version), Some(_)) if version < server.version => Restore::FetchBase { version, saved },
        _ => Restore::Orphan(saved),
    }
}

/// The saved draft with its base fetched (`None`: the server no longer has that version).
#[derive(Debug, Clone, PartialEq)]
pub enum Based {
    /// The text is its base's: an old-format entry saved without any edit. Not a draft.
    Discard,
    /// The admin's edits against their base, to rebase onto the server's version.
    Copy(WorkingCopy),
    /// The fetched version is not the one the draft started from (another ETag) or is gone.
    Orphan(SavedDraft),
}

pub fn with_base(saved: SavedDraft, base: Option<Published>) -> Based {
    match base {
        Some(base) if saved.base_etag.as_deref() == Some(base.etag.as_str()) => {
            if same_content(&saved.text, &base.text) {
                Based::Discard
            } else {
                Based::Copy(WorkingCopy { base, text: saved.text, message: saved.message })
            }
        }
        _ => Based::Orphan(saved),
    }
}

/// How the working copy relates to the server, for the header.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftState {
    /// Nothing loaded from a server (a file or URL was opened, or the server is unreachable).
    NoServer,
    /// No edits: the page shows the server's version and follows it.
    Clean { version: u64 },
    /// The admin's edits on top of the server's current version.
    Edited { version: u64 },
    /// The server moved on, and the edits could not be rebased yet: fields changed on both
    /// sides wait for the admin's choice, or the draft's text is not JSON.
    Behind { base_version: u64, server_version: u64, conflicts: usize },
}

impl DraftState {
    pub fn label(&self) -> String {
        match self {
            DraftState::NoServer => "not connected to a server".into(),
            DraftState::Clean { version } => format!("same as published version {version}"),
            DraftState::Edited { version } => format!("draft differs from published version {version} (your edits)"),
            DraftState::Behind { base_version, server_version, conflicts: 0 } => format!(
                "draft differs; the server moved from version {base_version} to {server_version}: fix the JSON so your edits can be rebased"
            ),
            DraftState::Behind { server_version, conflicts, .. } => format!(
                "draft differs; the server moved to version {server_version}: {conflicts} field(s) changed on both sides, choose below"
            ),
        }
    }

    pub fn is_edited(&self) -> bool {
        matches!(self, DraftState::Edited { .. } | DraftState::Behind { .. })
    }
}

/// The state of the admin's `text` on `base` (`None`: no server); `server` is the newest
/// version seen, `conflicts` the fields waiting for a choice.
pub fn draft_state(base: Option<&Published>, text: &str, server: Option<&Published>, conflicts: usize) -> DraftState {
    let (Some(base), Some(server)) = (base, server) else { return DraftState::NoServer };
    if same_content(text, &base.text) {
        DraftState::Clean { version: base.version }
    } else if base.etag != server.etag && server.version > base.version {
        DraftState::Behind { base_version: base.version, server_version: server.version, conflicts }
    } else {
        DraftState::Edited { version: base.version }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(text: &str, version: u64) -> Published {
        Published { text: text.into(), etag: format!("\"e{version}\""), version }
    }

    #[test]
    fn after_publish_keeps_only_edits_made_while_it_was_out() {
        let v1 = published(r#"{"v":1}"#, 1);
        let v2 = published(r#"{"v":2}"#, 2);
        let copy = |base: &Published, text: &str, message: &str| WorkingCopy { base: base.clone(), text: text.into(), message: message.into() };
        // Nothing typed since: clean on the version published, message cleared.
        let (next, kept) = after_publish(v2.clone(), "m", Some(copy(&v1, r#"{ "v": 2 }"#, "m")));
        assert_eq!((next, kept), (WorkingCopy::following(v2.clone()), false));
        // An edit and a new message typed meanwhile: a draft against it, both kept.
        let (next, kept) = after_publish(v2.clone(), "m", Some(copy(&v1, r#"{"v":3}"#, "next")));
        assert!(kept);
        assert_eq!(next, copy(&v2, r#"{"v":3}"#, "next"));
        // The same message as sent is not kept.
        assert_eq!(after_publish(v2.clone(), "m", Some(copy(&v1, r#"{"v":3}"#, "m"))).0.message, "");
        // Discarded while it was out (the copy unedited on the old base): clean on the new one,
        // not a draft that would undo the publish.
        assert_eq!(after_publish(v2.clone(), "m", Some(copy(&v1, r#"{"v":1}"#, ""))), (WorkingCopy::following(v2.clone()), false));
        // A poll already rebased the copy onto the version published: the same answers.
        assert_eq!(after_publish(v2.clone(), "m", Some(copy(&v2, r#"{"v":3}"#, ""))).1, true);
        assert_eq!(after_publish(v2.clone(), "m", Some(copy(&v2, r#"{"v":2}"#, ""))).1, false);
        assert_eq!(after_publish(v2.clone(), "m", None), (WorkingCopy::following(v2), false));
    }

    fn saved(text: &str, version: Option<u64>) -> SavedDraft {
        SavedDraft {
            text: text.into(),
            base_etag: version.map(|v| format!("\"e{v}\"")),
            base_version: version,
            message: "why".into(),
        }
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
    fn only_an_edited_copy_is_saved() {
        let mut copy = WorkingCopy::following(published(r#"{"v":1}"#, 3));
        assert!(!copy.is_edited());
        assert_eq!(copy.saved(), None, "no edit, no draft");
        copy.message = "a message alone is not a draft".into();
        assert_eq!(copy.saved(), None);
        copy.text = "{\"v\": 2}".into();
        let entry = copy.saved().unwrap();
        assert_eq!((entry.base_version, entry.base_etag.as_deref()), (Some(3), Some("\"e3\"")));
        assert_eq!(SavedDraft::from_json(&entry.to_json()), Some(entry));
        // Typing the old value back: no draft again.
        copy.text = "{ \"v\" : 1 }".into();
        assert_eq!(copy.saved(), None);
    }

    #[test]
    fn no_saved_draft_follows_the_server() {
        assert_eq!(restore(None, &published(r#"{"v":1}"#, 3)), Restore::Follow);
    }

    #[test]
    fn an_edited_draft_on_the_current_version_is_resumed_with_its_message() {
        let r = restore(Some(saved(r#"{"v":2}"#, Some(3))), &published(r#"{"v":1}"#, 3));
        let Restore::Resume(copy) = r else { panic!("{r:?}") };
        assert_eq!((copy.text.as_str(), copy.base.version, copy.message.as_str()), (r#"{"v":2}"#, 3, "why"));
    }

    #[test]
    fn a_draft_behind_the_server_asks_for_its_base_and_is_never_resumed_as_is() {
        let server = published(r#"{"v":5}"#, 5);
        let entry = saved("{not json yet", Some(3));
        assert_eq!(restore(Some(entry.clone()), &server), Restore::FetchBase { version: 3, saved: entry });
        // Its base fetched: the edits against it, ready to rebase.
        let base = published(r#"{"v":1}"#, 3);
        let Based::Copy(copy) = with_base(saved(r#"{"v":2}"#, Some(3)), Some(base.clone())) else { panic!() };
        assert_eq!((copy.base, copy.message.as_str()), (base, "why"));
    }

    #[test]
    fn an_old_entry_equal_to_its_base_is_not_a_draft() {
        // Format 1 saved the text on every load, edited or not.
        let v1 = r#"{"text": "{\"v\":1}", "base_etag": "\"e3\"", "base_version": 3}"#;
        let entry = read_saved(None, Some(v1)).unwrap();
        assert_eq!(entry.message, "");
        let server = published(r#"{"v":9}"#, 9);
        assert_eq!(restore(Some(entry.clone()), &server), Restore::FetchBase { version: 3, saved: entry.clone() });
        assert_eq!(with_base(entry, Some(published(r#"{ "v": 1 }"#, 3))), Based::Discard);
        // The current format wins over the old one.
        let v2 = saved(r#"{"v":7}"#, Some(3)).to_json();
        assert_eq!(read_saved(Some(&v2), Some(v1)).unwrap().text, r#"{"v":7}"#);
    }

    #[test]
    fn a_draft_equal_to_the_server_is_dropped() {
        assert_eq!(restore(Some(saved(r#"{"v": 1}"#, None)), &published(r#"{"v":1}"#, 7)), Restore::Follow);
    }

    #[test]
    fn a_draft_from_another_history_is_an_orphan() {
        let server = published(r#"{"v":1}"#, 4);
        // No base at all (started from a local file without a server).
        assert!(matches!(restore(Some(saved(r#"{"v":2}"#, None)), &server), Restore::Orphan(_)));
        // A base the server has not reached: the data directory was replaced.
        assert!(matches!(restore(Some(saved(r#"{"v":2}"#, Some(6))), &server), Restore::Orphan(_)));
        // Same number, other ETag.
        let mut other = saved(r#"{"v":2}"#, Some(4));
        other.base_etag = Some("\"other\"".into());
        assert!(matches!(restore(Some(other.clone()), &server), Restore::Orphan(_)));
        // The fetched base is not the recorded one, or is gone.
        let entry = saved(r#"{"v":2}"#, Some(3));
        let mut fetched = published(r#"{"v":0}"#, 3);
        fetched.etag = "\"not-e3\"".into();
        assert!(matches!(with_base(entry.clone(), Some(fetched)), Based::Orphan(_)));
        assert!(matches!(with_base(entry, None), Based::Orphan(_)));
    }

    #[test]
    fn corrupt_storage_is_ignored() {
        assert_eq!(SavedDraft::from_json("garbage"), None);
        assert_eq!(read_saved(Some("garbage"), Some("{}")), None);
    }

    #[test]
    fn states_follow_edits_and_the_server() {
        let p4 = published(r#"{"v":1}"#, 4);
        let base = Some(&p4);
        assert_eq!(draft_state(base, "{ \"v\": 1 }", Some(&p4), 0), DraftState::Clean { version: 4 });
        assert_eq!(draft_state(base, r#"{"v":1}"#, Some(&p4), 0).label(), "same as published version 4");
        let edited = r#"{"v":2}"#;
        assert_eq!(draft_state(base, edited, Some(&p4), 0), DraftState::Edited { version: 4 });
        assert!(draft_state(base, edited, Some(&p4), 0).label().contains("differs"));
        let p6 = published(r#"{"v":3}"#, 6);
        let behind = draft_state(base, edited, Some(&p6), 2);
        assert_eq!(behind, DraftState::Behind { base_version: 4, server_version: 6, conflicts: 2 });
        assert!(behind.label().contains("2 field(s) changed on both sides"));
        // No edits: the server moving on is not "behind" (the page follows it).
        assert_eq!(draft_state(base, r#"{"v":1}"#, Some(&p6), 0), DraftState::Clean { version: 4 });
        assert_eq!(draft_state(None, "{}", None, 0), DraftState::NoServer);
    }
}
