//! Per-flag and per-segment writes against a base version (`PUT`/`PATCH`/`DELETE
//! /api/flags/{key}` and `/api/segments/{key}`).
//!
//! A writer names the version it read (a per-item or whole-file ETag: the base). Under the
//! store's write lock the item's current value ("theirs") is compared with the base:
//! - unchanged since the base: the write applies as sent, whatever happened to other items;
//! - changed: the writer's version ("mine": the PUT body, or the base with the merge patch
//!   applied) is merged with theirs by the evaluator's field-level [`merge::three_way`]. A
//!   field both sides changed differently is a conflict; a controller-managed canary field
//!   that theirs changed and mine carries at its base value would be reverted, which is also
//!   refused. Otherwise the merge is written, keeping the fields only theirs changed.
//!
//! The result is validated as a whole file (problems name paths into the file) and stored
//! through [`FlagStore::write_with`], the path every writer takes.

use edgeflag_evaluator::merge::{self, same_value, MergePath};
use edgeflag_evaluator::{merge_patch, FlagSet, Problem};
use serde::Serialize;
use serde_json::{json, Value};

use crate::store::{
    find_item, item_etag, parse_item_etag, FlagStore, ItemKind, Snapshot, WriteError, WriteMeta,
};

/// What the writer sends.
#[derive(Debug, Clone)]
pub enum Change {
    /// The whole item.
    Put(Value),
    /// A JSON Merge Patch (RFC 7396) of the item.
    Patch(Value),
    Delete,
}

/// The writer's precondition.
#[derive(Debug, Clone)]
pub enum Base {
    /// `If-None-Match: *`: create only.
    Absent,
    /// The item as of `version` (`None`: it did not exist then).
    At { version: u64, item: Option<Value> },
}

/// How a base ETag resolved.
#[derive(Debug)]
pub enum BaseLookup {
    Found(Base),
    /// No sent tag names a version of this store (or the item's hash does not match).
    Unknown,
    /// `If-Match: *` would overwrite whatever is there, the very thing the base prevents.
    Wildcard,
}

/// Resolves an `If-Match` value: a per-item ETag (`"<version>-<hash>"`, checked against the
/// item at that version) or a whole-file ETag (any version). Version bodies never change, so
/// this runs before the write lock.
pub fn resolve_base(store: &FlagStore, kind: ItemKind, key: &str, if_match: &str) -> Result<BaseLookup, WriteError> {
    for tag in if_match.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if tag == "*" {
            return Ok(BaseLookup::Wildcard);
        }
        if let Some(version) = parse_item_etag(tag) {
            if let Some(Some(item)) = store.item_at(kind, key, version)? {
                if item_etag(kind, key, version, &item) == tag {
                    return Ok(BaseLookup::Found(Base::At { version, item: Some(item) }));
                }
            }
            continue;
        }
        if let Some(version) = store.version_of_etag(tag)? {
            if let Some(item) = store.item_at(kind, key, version)? {
                return Ok(BaseLookup::Found(Base::At { version, item }));
            }
        }
    }
    Ok(BaseLookup::Unknown)
}

/// What a successful write did besides storing.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Fields only the server changed since the base, kept (paths relative to the item).
    pub kept_theirs: Vec<String>,
}

/// Why a conflict entry is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both sides changed the field, to different values.
    BothChanged,
    /// The server changed a controller-managed field; the write carries its base value.
    WouldRevert,
    /// The item changed (or appeared, or went away) since the base: a delete or re-create
    /// from that base would lose it.
    ChangedSinceBase,
}

/// One field of a 409, before the history lookup.
#[derive(Debug, Clone)]
pub struct FieldConflict {
    pub path: MergePath,
    pub base: Option<Value>,
    pub mine: Option<Value>,
    pub theirs: Option<Value>,
    pub kind: ConflictKind,
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    Store(#[from] WriteError),
    #[error("the {0} already exists")]
    Exists(&'static str),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{} conflicting field(s)", conflicts.len())]
    Conflict { conflicts: Vec<FieldConflict>, at_version: u64 },
    #[error("{} problem(s)", .0.len())]
    Unprocessable(Vec<Problem>),
}

/// Applies `change` to item `key` from `base`, through the store's write path.
pub fn write(
    store: &FlagStore,
    kind: ItemKind,
    key: &str,
    base: &Base,
    change: &Change,
    meta: WriteMeta<'_>,
) -> Result<(std::sync::Arc<Snapshot>, Applied), EditError> {
    store.write_with(meta, |current| plan(current, kind, key, base, change))
}

/// The new file for an edit of the current version (pure: no I/O).
pub fn plan(current: &Snapshot, kind: ItemKind, key: &str, base: &Base, change: &Change) -> Result<(FlagSet, Applied), EditError> {
    let mut file: Value = serde_json::from_slice(&current.body).map_err(WriteError::Encode)?;
    let theirs = find_item(&file, kind, key).cloned();
    let conflict = |conflicts: Vec<FieldConflict>| EditError::Conflict { conflicts, at_version: current.version };
    let base_item = match base {
        Base::Absent if theirs.is_some() => return Err(EditError::Exists(kind.noun())),
        Base::Absent => None,
        Base::At { item, .. } => item.clone(),
    };
    let whole = |base: &Option<Value>, mine: Option<Value>, theirs: &Option<Value>| FieldConflict {
        path: MergePath::default(),
        base: base.clone(),
        mine,
        theirs: theirs.clone(),
        kind: ConflictKind::ChangedSinceBase,
    };

    let (new_item, applied) = match change {
        Change::Delete => {
            let Some(theirs) = &theirs else { return Err(EditError::NotFound(kind.noun())) };
            match &base_item {
                Some(b) if same_value(b, theirs) => (None, Applied::default()),
                Some(b) => {
                    // List what changed, so the writer sees what the delete would lose.
                    let mut paths = Vec::new();
                    merge::changed_paths(&MergePath::default(), Some(b), Some(theirs), &mut paths);
                    let list = paths
                        .into_iter()
                        .map(|p| FieldConflict {
                            base: p.get(b).cloned(),
                            theirs: p.get(theirs).cloned(),
                            path: p,
                            mine: None,
                            kind: ConflictKind::ChangedSinceBase,
                        })
                        .collect();
                    return Err(conflict(list));
                }
                None => return Err(conflict(vec![whole(&None, None, &Some(theirs.clone()))])),
            }
        }
        Change::Put(body) => merge_item(kind, key, &base_item, &theirs, body.clone(), None, current.version)?,
        Change::Patch(patch) => {
            if theirs.is_none() {
                return Err(EditError::NotFound(kind.noun()));
            }
            if patch.get("key").is_some_and(|k| k != &Value::from(key)) {
                return Err(key_problem(kind, key, "a patch cannot change the key"));
            }
            // The writer's version is the patch applied to what it read; it carries only the
            // patch's members.
            let start = base_item.clone().unwrap_or_else(|| json!({}));
            let mine = merge_patch::apply(&start, patch);
            merge_item(kind, key, &base_item, &theirs, mine, Some(merge_patch::patched_paths(patch)), current.version)?
        }
    };

    // Replace in place (or append, or remove) and validate the whole file.
    let list = file
        .as_object_mut()
        .map(|root| root.entry(kind.array()).or_insert_with(|| json!([])))
        .and_then(Value::as_array_mut)
        .ok_or_else(|| EditError::Unprocessable(vec![Problem { path: kind.array().into(), message: "not an array".into() }]))?;
    let position = list.iter().position(|v| v.get("key").and_then(Value::as_str) == Some(key));
    match (position, new_item) {
        (Some(i), Some(item)) => list[i] = item,
        (None, Some(item)) => list.push(item),
        (Some(i), None) => {
            list.remove(i);
        }
        (None, None) => {}
    }
    let flags = FlagSet::from_json(&file.to_string()).map_err(|e| EditError::Unprocessable(e.problems))?;
    Ok((flags, applied))
}

/// The item to store for the writer's version `mine` of an item read at `base` and now
/// `theirs`: `mine` itself when the item did not change since the base, else the field-level
/// merge, refused on conflicts and on controller fields it would revert (`carried`: the
/// members the writer sent, `None` = all).
fn merge_item(
    kind: ItemKind,
    key: &str,
    base: &Option<Value>,
    theirs: &Option<Value>,
    mine: Value,
    carried: Option<Vec<MergePath>>,
    at_version: u64,
) -> Result<(Option<Value>, Applied), EditError> {
    let conflict = |conflicts: Vec<FieldConflict>| EditError::Conflict { conflicts, at_version };
    if !mine.is_object() {
        return Err(EditError::Unprocessable(vec![Problem {
            path: String::new(),
            message: format!("the body must be a {} object", kind.noun()),
        }]));
    }
    if mine.get("key") != Some(&Value::from(key)) {
        return Err(key_problem(kind, key, "the body's key must equal the key in the URL"));
    }
    let Some(t) = theirs else {
        // Re-creating an item the writer's base had would silently bring back something
        // someone deleted; without a base it is a create.
        if base.is_some() {
            return Err(conflict(vec![FieldConflict {
                path: MergePath::default(),
                base: base.clone(),
                mine: Some(mine),
                theirs: None,
                kind: ConflictKind::ChangedSinceBase,
            }]));
        }
        return Ok((Some(mine), Applied::default()));
    };
    let b = base.clone().unwrap_or_else(|| json!({}));
    if same_value(&b, t) {
        return Ok((Some(mine), Applied::default()));
    }
    let merged = merge::three_way(&b, &mine, t);
    let mut list: Vec<FieldConflict> = merged
        .conflicts
        .iter()
        .map(|c| FieldConflict {
            path: c.path.clone(),
            base: c.base.clone(),
            mine: c.mine.clone(),
            theirs: c.theirs.clone(),
            kind: ConflictKind::BothChanged,
        })
        .collect();
    if kind == ItemKind::Flag {
        list.extend(merged.reverted_controller_fields_in_flag(carried.as_deref()).into_iter().map(|p| FieldConflict {
            base: p.get(&b).cloned(),
            mine: p.get(&mine).cloned(),
            theirs: p.get(t).cloned(),
            path: p.clone(),
            kind: ConflictKind::WouldRevert,
        }));
    }
    if !list.is_empty() {
        return Err(conflict(list));
    }
    let kept = merged.kept_theirs.iter().map(ToString::to_string).collect();
    Ok((Some(merged.value), Applied { kept_theirs: kept }))
}

fn key_problem(kind: ItemKind, key: &str, message: &str) -> EditError {
    EditError::Unprocessable(vec![Problem {
        path: "key".into(),
        message: format!("{message} ({} {})", kind.noun(), serde_json::to_string(key).unwrap_or_default()),
    }])
}

/// A 409 entry as the API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictReport {
    /// Relative to the item, e.g. `canary.status` (`(the whole document)` for the item itself).
    pub path: String,
    pub kind: ConflictKind,
    pub base: Option<Value>,
    pub mine: Option<Value>,
    pub theirs: Option<Value>,
    /// The version that gave the field its current value, and who wrote it.
    pub theirs_version: u64,
    pub theirs_author: String,
}

/// How far back the history is searched for the version that set a conflicting field (each
/// step parses one stored version; the walk stops as soon as every field's setter is found).
const HISTORY_SEARCH: usize = 200;

/// Adds to each conflict the version (after `base_version`, up to `at_version`) that gave the
/// field its current value, and its author; returns the reports and one readable message.
pub fn report_conflicts(
    store: &FlagStore,
    kind: ItemKind,
    key: &str,
    base_version: Option<u64>,
    at_version: u64,
    conflicts: &[FieldConflict],
) -> Result<(Vec<ConflictReport>, String), WriteError> {
    // Newest first: for each field, the oldest version of the run that still has today's
    // value set it.
    let mut setters: Vec<Option<(u64, String)>> = vec![None; conflicts.len()];
    let mut done = vec![false; conflicts.len()];
    store.walk_item_changes(kind, key, base_version.unwrap_or(0), at_version, HISTORY_SEARCH, |version, author, item| {
        for (i, c) in conflicts.iter().enumerate() {
            if done[i] {
                continue;
            }
            let then = item.and_then(|it| c.path.get(it));
            let same = match (then, c.theirs.as_ref()) {
                (Some(a), Some(b)) => same_value(a, b),
                (None, None) => true,
                _ => false,
            };
            if same {
                setters[i] = Some((version, author.to_string()));
            } else {
                done[i] = true;
            }
        }
        !done.iter().all(|d| *d)
    })?;
    let mut reports = Vec::new();
    let mut sentences = Vec::new();
    for (c, setter) in conflicts.iter().zip(setters) {
        let (theirs_version, theirs_author) = setter.unwrap_or_else(|| (at_version, String::from("unknown")));
        let show = |v: &Option<Value>| v.as_ref().map_or("absent".to_string(), |v| v.to_string());
        let based_on = base_version.map_or("no base".to_string(), |v| format!("version {v}"));
        sentences.push(match c.kind {
            ConflictKind::WouldRevert => format!(
                "{} is {} since version {theirs_version} ({theirs_author}); your write, based on {based_on}, would set it back to {}. Re-read the {}, or PATCH the field on purpose.",
                c.path, show(&c.theirs), show(&c.mine), kind.noun()
            ),
            ConflictKind::BothChanged => format!(
                "{} was changed on both sides: yours {}, the server's {} since version {theirs_version} ({theirs_author}); based on {based_on} it was {}.",
                c.path, show(&c.mine), show(&c.theirs), show(&c.base)
            ),
            ConflictKind::ChangedSinceBase => format!(
                "{} changed since {based_on}: now {} since version {theirs_version} ({theirs_author}).",
                c.path, show(&c.theirs)
            ),
        });
        reports.push(ConflictReport {
            path: c.path.to_string(),
            kind: c.kind,
            base: c.base.clone(),
            mine: c.mine.clone(),
            theirs: c.theirs.clone(),
            theirs_version,
            theirs_author,
        });
    }
    Ok((reports, sentences.join(" ")))
}

/// Whether `If-None-Match` asks for create-only.
pub fn is_create_only(if_none_match: &str) -> bool {
    if_none_match.split(',').any(|t| t.trim() == "*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WriteMeta;

    const FILE: &str = r#"{"schema_version": 1, "flags": [
      {"key": "c", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
       "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}],
       "canary": {"baseline": "off", "canary": "on", "status": "running", "current_stage": 0,
                  "stages": [{"percent": 10, "min_duration": "1m", "gate": {"max_error_rate": 0.1, "max_p99_ms": 100, "min_samples": 1}},
                             {"percent": 50, "min_duration": "1m", "gate": {"max_error_rate": 0.1, "max_p99_ms": 100, "min_samples": 1}}]}},
      {"key": "o", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
       "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}]}
    ]}"#;

    fn store() -> (tempfile::TempDir, FlagStore) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = FlagStore::open(dir.path(), || Ok((FILE.into(), "import".into()))).unwrap_or_else(|e| panic!("{e}"));
        (dir, s)
    }

    fn meta(author: &str) -> WriteMeta<'_> {
        WriteMeta { author, message: "m" }
    }

    fn base_of(s: &FlagStore, key: &str) -> Base {
        let snap = s.current();
        Base::At { version: snap.version, item: snap.item(ItemKind::Flag, key) }
    }

    fn set(s: &FlagStore, key: &str, author: &str, f: impl FnOnce(&mut Value)) {
        let mut item = s.current().item(ItemKind::Flag, key).unwrap_or_default();
        f(&mut item);
        write(s, ItemKind::Flag, key, &base_of(s, key), &Change::Put(item), meta(author)).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn a_write_to_one_flag_ignores_changes_to_another() {
        let (_d, s) = store();
        let base = base_of(&s, "o");
        set(&s, "c", "canary-controller", |c| c["canary"]["current_stage"] = json!(1));
        let mut mine = s.current().item(ItemKind::Flag, "o").unwrap_or_default();
        mine["description"] = json!("x");
        let (snap, applied) = write(&s, ItemKind::Flag, "o", &base, &Change::Put(mine), meta("alice")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(snap.version, 3);
        assert!(applied.kept_theirs.is_empty());
        assert_eq!(snap.item(ItemKind::Flag, "c").map(|c| c["canary"]["current_stage"].clone()), Some(json!(1)));
    }

    #[test]
    fn a_stale_put_keeps_other_fields_and_refuses_to_revert_the_controller() {
        let (_d, s) = store();
        let base = base_of(&s, "c");
        let stale = s.current().item(ItemKind::Flag, "c").unwrap_or_default();
        set(&s, "c", "canary-controller", |c| c["canary"]["current_stage"] = json!(1));
        set(&s, "c", "bob", |c| c["tags"] = json!(["bob"]));
        let mut mine = stale.clone();
        mine["description"] = json!("from an old tab");
        let Err(EditError::Conflict { conflicts, at_version }) = write(&s, ItemKind::Flag, "c", &base, &Change::Put(mine), meta("alice")) else {
            panic!("a stale whole-flag PUT that carries the old stage must be refused")
        };
        assert_eq!(at_version, 3);
        assert_eq!(conflicts.len(), 1);
        assert_eq!((conflicts[0].path.to_string(), conflicts[0].kind), ("canary.current_stage".to_string(), ConflictKind::WouldRevert));
        let (reports, message) = report_conflicts(&s, ItemKind::Flag, "c", Some(1), at_version, &conflicts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((reports[0].theirs_version, reports[0].theirs_author.as_str()), (2, "canary-controller"));
        assert!(message.starts_with("canary.current_stage is 1 since version 2 (canary-controller); your write, based on version 1, would set it back to 0."), "{message}");
        assert_eq!(s.current().version, 3, "nothing written");

        // The same edit as a patch does not carry the stage: merged, bob's tags kept.
        let (snap, applied) =
            write(&s, ItemKind::Flag, "c", &base, &Change::Patch(json!({"description": "from an old tab"})), meta("alice"))
                .unwrap_or_else(|e| panic!("{e}"));
        let c = snap.item(ItemKind::Flag, "c").unwrap_or_default();
        assert_eq!((c["description"].clone(), c["tags"].clone(), c["canary"]["current_stage"].clone()), (json!("from an old tab"), json!(["bob"]), json!(1)));
        assert_eq!(applied.kept_theirs, ["canary.current_stage", "tags"]);
    }

    #[test]
    fn pause_applies_unless_the_controller_changed_the_status() {
        let (_d, s) = store();
        let base = base_of(&s, "c");
        set(&s, "c", "canary-controller", |c| c["canary"]["current_stage"] = json!(1));
        let pause = Change::Patch(json!({"canary": {"status": "paused"}}));
        let (snap, _) = write(&s, ItemKind::Flag, "c", &base, &pause, meta("alice")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(snap.item(ItemKind::Flag, "c").map(|c| (c["canary"]["status"].clone(), c["canary"]["current_stage"].clone())), Some((json!("paused"), json!(1))));

        let base = base_of(&s, "c");
        set(&s, "c", "canary-controller", |c| c["canary"]["status"] = json!("rolled_back"));
        let resume = Change::Patch(json!({"canary": {"status": "running"}}));
        match write(&s, ItemKind::Flag, "c", &base, &resume, meta("alice")) {
            Err(EditError::Conflict { conflicts, .. }) => {
                assert_eq!(conflicts[0].path.to_string(), "canary.status");
                assert_eq!(conflicts[0].kind, ConflictKind::BothChanged);
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn create_delete_and_key_rules() {
        let (_d, s) = store();
        let mut new = s.current().item(ItemKind::Flag, "o").unwrap_or_default();
        new["key"] = json!("a/b");
        let (snap, _) = write(&s, ItemKind::Flag, "a/b", &Base::Absent, &Change::Put(new.clone()), meta("alice")).unwrap_or_else(|e| panic!("{e}"));
        assert!(snap.item(ItemKind::Flag, "a/b").is_some());
        assert!(matches!(write(&s, ItemKind::Flag, "a/b", &Base::Absent, &Change::Put(new.clone()), meta("alice")), Err(EditError::Exists("flag"))));
        assert!(matches!(write(&s, ItemKind::Flag, "other", &Base::Absent, &Change::Put(new), meta("alice")), Err(EditError::Unprocessable(_))));

        // A stale delete is refused, a current one applies.
        let base = base_of(&s, "a/b");
        set(&s, "a/b", "bob", |f| f["enabled"] = json!(false));
        assert!(matches!(write(&s, ItemKind::Flag, "a/b", &base, &Change::Delete, meta("alice")), Err(EditError::Conflict { .. })));
        let (snap, _) = write(&s, ItemKind::Flag, "a/b", &base_of(&s, "a/b"), &Change::Delete, meta("alice")).unwrap_or_else(|e| panic!("{e}"));
        assert!(snap.item(ItemKind::Flag, "a/b").is_none());
        assert!(matches!(write(&s, ItemKind::Flag, "a/b", &base, &Change::Delete, meta("alice")), Err(EditError::NotFound("flag"))));

        // An invalid result names paths into the whole file.
        let bad = Change::Patch(json!({"default_variation": "nope"}));
        match write(&s, ItemKind::Flag, "o", &base_of(&s, "o"), &bad, meta("alice")) {
            Err(EditError::Unprocessable(problems)) => assert!(problems.iter().any(|p| p.path == "flags[1].default_variation"), "{problems:?}"),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn bases_resolve_from_item_and_file_etags() {
        let (_d, s) = store();
        let snap = s.current();
        let (_, tag) = snap.item_with_etag(ItemKind::Flag, "o").unwrap_or_default();
        assert!(matches!(resolve_base(&s, ItemKind::Flag, "o", &tag), Ok(BaseLookup::Found(Base::At { version: 1, item: Some(_) }))));
        assert!(matches!(resolve_base(&s, ItemKind::Flag, "c", &tag), Ok(BaseLookup::Unknown)), "another flag's tag");
        assert!(matches!(resolve_base(&s, ItemKind::Flag, "zz", &snap.etag), Ok(BaseLookup::Found(Base::At { version: 1, item: None }))));
        assert!(matches!(resolve_base(&s, ItemKind::Flag, "o", "\"nope\""), Ok(BaseLookup::Unknown)));
        assert!(matches!(resolve_base(&s, ItemKind::Flag, "o", "*"), Ok(BaseLookup::Wildcard)));
        assert!(is_create_only("*") && !is_create_only("\"x\""));
    }
}
