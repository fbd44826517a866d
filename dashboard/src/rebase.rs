//! Moving the working copy onto a newer server version. The admin's edits are the changes
//! from their base to their text; they are replayed onto the server's version with the
//! engine's field-level three-way merge ([`edgeflag_evaluator::merge::three_way`], the same
//! rule the server applies to stale per-flag writes). A field only the server changed keeps
//! the server's value, so nothing the canary controller or another admin wrote is undone; a
//! field both sides changed differently waits for the admin's choice, shown with both values.
//! Nothing here is published: publishing stays the admin's act.

use edgeflag_evaluator::merge::{three_way, Conflict, MergePath};
use serde_json::Value;

use crate::api_types::HistoryEntry;
use crate::draft::{Published, WorkingCopy};

/// What a newer server version means for the working copy.
#[derive(Debug, Clone, PartialEq)]
pub enum Rebase {
    /// The server is still at the copy's base.
    Current,
    /// No edits: the copy now shows the server's version.
    Followed(WorkingCopy),
    /// The edits, replayed cleanly on the server's version (which is the new base).
    Rebased {
        copy: WorkingCopy,
        /// Fields the server changed that the edits left alone: kept as the server has them.
        kept_theirs: Vec<MergePath>,
    },
    /// Fields changed on both sides: the copy stays on its base until the admin chooses.
    Conflicts(Pending),
    /// The draft's text is not JSON (mid-edit in the raw editor): nothing can be merged until
    /// it parses; the copy stays on its base.
    Unparsable(String),
}

/// A rebase waiting for the admin's choice per conflicting field.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The server's version the edits are being rebased onto.
    pub server: Published,
    /// The server's version with every non-conflicting edit applied (the server's value at
    /// each conflict).
    pub merged: Value,
    pub conflicts: Vec<Conflict>,
}

/// Which value a conflicting field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The admin's edit.
    Mine,
    /// What the server has now.
    Theirs,
}

/// Something kept per conflicting field, by the field's path: the admin's choice, or who
/// changed it on the server. Conflicts are a few fields, so a list rather than a map.
#[derive(Debug, Clone, PartialEq)]
pub struct ByPath<T>(Vec<(String, T)>);

impl<T> Default for ByPath<T> {
    fn default() -> Self {
        ByPath(Vec::new())
    }
}

impl<T> ByPath<T> {
    pub fn get(&self, path: &str) -> Option<&T> {
        self.0.iter().find(|(p, _)| p == path).map(|(_, v)| v)
    }

    /// Sets the value of `path`, replacing any earlier one.
    pub fn set(&mut self, path: String, value: T) {
        match self.0.iter_mut().find(|(p, _)| *p == path) {
            Some(entry) => entry.1 = value,
            None => self.0.push((path, value)),
        }
    }
}

/// For each conflict of `pending`, in order: `all` if given, else the admin's choice for its
/// field, else the server's value.
pub fn choices_for(pending: &Pending, picked: &ByPath<Side>, all: Option<Side>) -> Vec<Side> {
    let choice = |c: &Conflict| all.or_else(|| picked.get(&c.path.to_string()).copied()).unwrap_or(Side::Theirs);
    pending.conflicts.iter().map(choice).collect()
}

fn json(text: &str) -> Result<Value, String> {
    crate::json::value(text)
}

/// Replays the copy's edits onto `server`.
pub fn rebase(copy: &WorkingCopy, server: &Published) -> Rebase {
    if server.etag == copy.base.etag {
        return Rebase::Current;
    }
    if !copy.is_edited() {
        return Rebase::Followed(WorkingCopy { message: copy.message.clone(), ..WorkingCopy::following(server.clone()) });
    }
    let mine = match json(&copy.text) {
        Ok(v) => v,
        Err(e) => return Rebase::Unparsable(e),
    };
    // The base and the server were published, so they parse; if not, there is nothing to
    // merge against and the copy stays where it is.
    let (base, theirs) = match (json(&copy.base.text), json(&server.text)) {
        (Ok(b), Ok(t)) => (b, t),
        (Err(e), _) | (_, Err(e)) => return Rebase::Unparsable(format!("a published version does not parse: {e}")),
    };
    let merged = three_way(&base, &mine, &theirs);
    if !merged.is_clean() {
        return Rebase::Conflicts(Pending { server: server.clone(), merged: merged.value, conflicts: merged.conflicts });
    }
    Rebase::Rebased {
        copy: WorkingCopy { base: server.clone(), text: file_text(&merged.value), message: copy.message.clone() },
        kept_theirs: merged.kept_theirs,
    }
}

/// The working copy after the admin's choices (one per conflict, in order; a missing choice
/// keeps the server's value): on the server's version, with the message kept.
pub fn resolve(copy: &WorkingCopy, pending: &Pending, choices: &[Side]) -> WorkingCopy {
    let mut value = pending.merged.clone();
    for (i, conflict) in pending.conflicts.iter().enumerate() {
        if choices.get(i) == Some(&Side::Mine) {
            conflict.path.set(&mut value, conflict.mine.clone());
        }
    }
    WorkingCopy { base: pending.server.clone(), text: file_text(&value), message: copy.message.clone() }
}

/// A merged document as flag-file text: through the engine's model when that keeps every
/// member (so fields keep the order the forms write), else the JSON as it is.
pub fn file_text(value: &Value) -> String {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    let via_model = edgeflag_evaluator::decode::decode(&pretty, &mut Default::default())
        .and_then(edgeflag_evaluator::decode::Decoded::into_complete)
        .and_then(|model| serde_json::to_string_pretty(&model).ok());
    match via_model {
        Some(text) if json(&text).is_ok_and(|v| edgeflag_evaluator::merge::same_value(&v, value)) => text,
        _ => pretty,
    }
}

/// Who wrote the versions after `from` up to `to` (history is newest first), each once, oldest
/// first.
pub fn authors_between(history: &[HistoryEntry], from: u64, to: u64) -> Vec<String> {
    let mut entries: Vec<&HistoryEntry> = history.iter().filter(|e| e.version > from && e.version <= to).collect();
    entries.sort_by_key(|e| e.version);
    let mut authors: Vec<String> = Vec::new();
    for e in entries {
        let author = if e.author.is_empty() { "unknown".to_string() } else { e.author.clone() };
        if !authors.contains(&author) {
            authors.push(author);
        }
    }
    authors
}

/// The small note after a clean rebase, e.g. "The server moved to version 9
/// (canary-controller); your edits were rebased onto it."
pub fn rebase_note(server_version: u64, authors: &[String], kept_theirs: &[MergePath]) -> String {
    let by = if authors.is_empty() { String::new() } else { format!(" ({})", authors.join(", ")) };
    let kept = match kept_theirs.len() {
        0 => String::new(),
        1 => format!(" The server's change to {} is kept.", kept_theirs[0]),
        n => format!(" The server's changes to {n} fields are kept."),
    };
    format!("The server moved to version {server_version}{by}; your edits were rebased onto it.{kept}")
}

/// Who last changed `path` among consecutive versions (`versions[0]` is the base, the last is
/// the server's; each `(version, author, document)`): the version and its author.
pub fn last_change<'a>(path: &MergePath, versions: &'a [(u64, String, Value)]) -> Option<(u64, &'a str)> {
    versions.windows(2).rev().find_map(|pair| {
        let (before, after) = (&pair[0], &pair[1]);
        let (a, b) = (path.get(&before.2), path.get(&after.2));
        let same = match (a, b) {
            (Some(a), Some(b)) => edgeflag_evaluator::merge::same_value(a, b),
            (None, None) => true,
            _ => false,
        };
        (!same).then_some((after.0, after.1.as_str()))
    })
}

/// The flag a path is in (`flags["k"]…`), to pick from the history the versions that changed
/// it (`changed_flags`) before fetching them for [`last_change`].
pub fn flag_of(path: &MergePath) -> Option<&str> {
    let mut names = path.names();
    match (names.next(), names.next()) {
        (Some("flags"), Some(key)) => Some(key),
        _ => None,
    }
}

/// A value for the conflict panel: compact JSON, `(absent)` when the field is not there, cut
/// after `max` characters.
pub fn show_value(value: Option<&Value>, max: usize) -> String {
    let Some(value) = value else { return "(absent)".into() };
    let text = value.to_string();
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap()
    }

    fn demo() -> Value {
        json!({
            "schema_version": 1,
            "environments": ["staging", "prod"],
            "flags": [
                {"key": "new-dashboard", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
                 "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
                 "rollout": {"percent_bp": 0, "variation": "on"},
                 "environments": {"staging": {"rollout": {"percent_bp": 1000, "variation": "on"}}}},
                {"key": "payment-processor", "kind": "string", "enabled": true, "off_variation": "legacy", "default_variation": "legacy",
                 "variations": [{"name": "legacy", "value": "a"}, {"name": "new", "value": "b"}],
                 "canary": {"baseline": "legacy", "canary": "new", "current_stage": 0, "status": "running",
                            "stage_started_at": "2026-01-01T00:00:00Z",
                            "stages": [{"percent": 1, "min_duration": "15s", "gate": {"max_error_rate": 0.02, "max_p99_ms": 800, "min_samples": 50}},
                                       {"percent": 10, "min_duration": "15s", "gate": {"max_error_rate": 0.02, "max_p99_ms": 800, "min_samples": 50}}]}},
                {"key": "ranking-model", "kind": "string", "enabled": true, "off_variation": "v1", "default_variation": "v1",
                 "variations": [{"name": "v1", "value": "1"}, {"name": "v2", "value": "2"}],
                 "canary": {"baseline": "v1", "canary": "v2", "current_stage": 0, "status": "running",
                            "stages": [{"percent": 20, "min_duration": "1d", "gate": {"max_error_rate": 0.02, "max_p99_ms": 800, "min_samples": 50}}]}}
            ]
        })
    }

    fn published(v: &Value, version: u64) -> Published {
        Published { text: file(v), etag: format!("\"e{version}\""), version }
    }

    fn copy_with(base: &Value, version: u64, edit: impl FnOnce(&mut Value)) -> WorkingCopy {
        let mut mine = base.clone();
        edit(&mut mine);
        WorkingCopy { base: published(base, version), text: file(&mine), message: "raise staging".into() }
    }

    fn controller_moved(v: &mut Value) {
        v["flags"][1]["canary"]["current_stage"] = json!(1);
        v["flags"][1]["canary"]["stage_started_at"] = json!("2026-01-01T00:01:00Z");
        v["flags"][2]["canary"]["status"] = json!("rolled_back");
    }

    #[test]
    fn an_unedited_copy_follows_the_server() {
        let copy = WorkingCopy::following(published(&demo(), 1));
        assert_eq!(rebase(&copy, &published(&demo(), 1)), Rebase::Current);
        let mut v2 = demo();
        controller_moved(&mut v2);
        let Rebase::Followed(next) = rebase(&copy, &published(&v2, 2)) else { panic!() };
        assert_eq!(next.base.version, 2);
        assert!(!next.is_edited());
    }

    #[test]
    fn edits_to_another_flag_keep_the_controllers_decisions() {
        let copy = copy_with(&demo(), 1, |m| m["flags"][0]["environments"]["staging"]["rollout"]["percent_bp"] = json!(5000));
        let mut v2 = demo();
        controller_moved(&mut v2);
        let Rebase::Rebased { copy: next, kept_theirs } = rebase(&copy, &published(&v2, 2)) else { panic!() };
        let text: Value = serde_json::from_str(&next.text).unwrap();
        assert_eq!(text["flags"][1]["canary"]["current_stage"], json!(1));
        assert_eq!(text["flags"][2]["canary"]["status"], json!("rolled_back"));
        assert_eq!(text["flags"][0]["environments"]["staging"]["rollout"]["percent_bp"], json!(5000));
        assert_eq!((next.base.version, next.message.as_str()), (2, "raise staging"), "the message survives");
        assert_eq!(kept_theirs.len(), 3);
        // The publish diff (new base → text) is the admin's change only.
        let diff = crate::diff::diff_files(&serde_json::from_str(&next.base.text).unwrap(), &text);
        let keys: Vec<&str> = diff.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["new-dashboard"]);
        assert_eq!(
            rebase_note(2, &["canary-controller".into()], &kept_theirs[..1]),
            "The server moved to version 2 (canary-controller); your edits were rebased onto it. \
             The server's change to flags[\"payment-processor\"].canary.current_stage is kept."
        );
    }

    #[test]
    fn the_same_field_on_both_sides_waits_for_a_choice_and_either_choice_is_applied() {
        let copy = copy_with(&demo(), 1, |m| {
            m["flags"][0]["rollout"]["percent_bp"] = json!(2500);
            m["flags"][0]["description"] = json!("mine only");
        });
        let mut v3 = demo();
        v3["flags"][0]["rollout"]["percent_bp"] = json!(7500);
        controller_moved(&mut v3);
        let server = published(&v3, 3);
        let Rebase::Conflicts(pending) = rebase(&copy, &server) else { panic!() };
        assert_eq!(pending.conflicts.len(), 1);
        let c = &pending.conflicts[0];
        assert_eq!(c.path.to_string(), "flags[\"new-dashboard\"].rollout.percent_bp");
        assert_eq!((show_value(c.mine.as_ref(), 40), show_value(c.theirs.as_ref(), 40)), ("2500".into(), "7500".into()));
        let pick = |side: Side| -> Value { serde_json::from_str(&resolve(&copy, &pending, &[side]).text).unwrap() };
        let mine = pick(Side::Mine);
        assert_eq!(mine["flags"][0]["rollout"]["percent_bp"], json!(2500));
        let theirs = pick(Side::Theirs);
        assert_eq!(theirs["flags"][0]["rollout"]["percent_bp"], json!(7500));
        for v in [&mine, &theirs] {
            assert_eq!(v["flags"][0]["description"], json!("mine only"), "the clean edit stays");
            assert_eq!(v["flags"][2]["canary"]["status"], json!("rolled_back"), "the controller stays");
        }
        let mut picked = ByPath::default();
        picked.set(c.path.to_string(), Side::Theirs);
        picked.set(c.path.to_string(), Side::Mine);
        assert_eq!((picked.get(&c.path.to_string()), picked.get("other")), (Some(&Side::Mine), None));
        assert_eq!(choices_for(&pending, &picked, None), [Side::Mine]);
        assert_eq!(choices_for(&pending, &picked, Some(Side::Theirs)), [Side::Theirs]);
        assert_eq!(choices_for(&pending, &ByPath::default(), None), [Side::Theirs], "unchosen: the server's");
        let resolved = resolve(&copy, &pending, &[]);
        assert_eq!((resolved.base.version, resolved.message.as_str()), (3, "raise staging"));
    }

    #[test]
    fn an_unparsable_draft_waits() {
        let mut copy = copy_with(&demo(), 1, |_| {});
        copy.text = "{\"flags\": [".into();
        assert!(matches!(rebase(&copy, &published(&demo(), 2)), Rebase::Unparsable(_)));
    }

    #[test]
    fn rebased_text_keeps_the_models_field_order() {
        let text = file_text(&demo());
        assert!(text.find("\"schema_version\"").unwrap() < text.find("\"flags\"").unwrap());
        let flag = &text[text.find("new-dashboard").unwrap()..];
        assert!(flag.find("\"kind\"").unwrap() < flag.find("\"rollout\"").unwrap(), "model order, not sorted");
        // A member the model does not know is kept (the JSON as it is).
        let mut odd = demo();
        odd["x_custom"] = json!(1);
        assert!(file_text(&odd).contains("x_custom"));
    }

    #[test]
    fn authors_and_attribution() {
        let entry = |version: u64, author: &str| HistoryEntry {
            version,
            created_at: String::new(),
            author: author.into(),
            changed_flags: vec![],
            message: String::new(),
            etag: String::new(),
        };
        let history = [entry(5, "ops"), entry(4, "canary-controller"), entry(3, "canary-controller"), entry(2, "ops"), entry(1, "seed")];
        assert_eq!(authors_between(&history, 2, 5), ["canary-controller", "ops"]);
        assert!(authors_between(&history, 5, 5).is_empty());
        let mut v2 = demo();
        v2["flags"][0]["description"] = json!("x");
        let mut v3 = v2.clone();
        v3["flags"][2]["canary"]["status"] = json!("rolled_back");
        let versions = vec![(1, "seed".to_string(), demo()), (2, "ops".to_string(), v2), (3, "canary-controller".to_string(), v3)];
        let path = |steps: &[&str]| {
            use edgeflag_evaluator::merge::Segment;
            let mut s = vec![Segment::Field("flags".into()), Segment::Key(steps[0].into())];
            s.extend(steps[1..].iter().map(|n| Segment::Field(n.to_string())));
            MergePath(s)
        };
        assert_eq!(last_change(&path(&["ranking-model", "canary", "status"]), &versions), Some((3, "canary-controller")));
        assert_eq!(last_change(&path(&["new-dashboard", "description"]), &versions), Some((2, "ops")));
        assert_eq!(last_change(&path(&["new-dashboard", "enabled"]), &versions), None);
        assert_eq!(flag_of(&path(&["ranking-model", "canary"])), Some("ranking-model"));
        assert_eq!(show_value(None, 10), "(absent)");
        assert_eq!(show_value(Some(&json!("abcdefghijkl")), 5), "\"abcd…");
    }
}
