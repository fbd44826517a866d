//! Three-way merge of flag files (or single flags, or segments) at field level.
//!
//! Two writers edit the same published version: an admin in the dashboard and the canary
//! controller, or two admins. When one of them writes from a version the other has already
//! replaced, their edits are combined against the version both started from (`base`):
//! a field only one side changed takes that side's value; a field both sides changed to
//! different values is a [`Conflict`] naming both values. Nothing is taken from a side that
//! did not change it, so an edit to one flag can never undo a decision written to another.
//!
//! The server uses it for per-flag writes from a stale base, the dashboard to rebase a draft
//! onto the newest published version. Both must agree, so the rule lives here, once.
//!
//! Granularity:
//! - objects merge per member, recursively;
//! - arrays whose elements are all objects with a unique string `key` (the file's `flags` and
//!   `segments`) merge per element, matched by key; the result keeps `theirs`' order, then the
//!   elements only `mine` added, in `mine`'s order;
//! - every other array (rules, variations, targets, stages...) and every scalar is one value:
//!   order and position carry meaning there, so concurrent edits of it are a conflict, not a
//!   guess.
//!
//! Numbers compare by value (`800` equals `800.0`), as the evaluator reads them.

use std::fmt;

use serde_json::{Map, Value};

/// One step of a [`MergePath`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// An object member.
    Field(String),
    /// The element of a keyed array (flags, segments) with this `key`.
    Key(String),
}

/// Where in the document a change or conflict is, e.g. `flags["checkout"].canary.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MergePath(pub Vec<Segment>);

impl MergePath {
    fn child(&self, segment: Segment) -> MergePath {
        let mut steps = self.0.clone();
        steps.push(segment);
        MergePath(steps)
    }

    /// The member names and keys from the root, e.g. `["flags", "checkout", "canary", "status"]`.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|s| match s {
            Segment::Field(name) | Segment::Key(name) => name.as_str(),
        })
    }

    /// Whether this path is, or lies inside, `prefix`.
    pub fn starts_with(&self, prefix: &MergePath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// Whether this path, relative to a flag file (`flags["k"].…`), is a field the canary
    /// controller writes, or contains one (see [`MergePath::touches_controller_fields_in_flag`]).
    pub fn touches_controller_fields_in_file(&self) -> bool {
        match self.0.as_slice() {
            [] => true,
            [Segment::Field(f)] => f == "flags",
            [Segment::Field(f), Segment::Key(_), rest @ ..] if f == "flags" => in_flag(rest),
            _ => false,
        }
    }

    /// Whether this path, relative to one flag (`canary.status`), is a field the canary
    /// controller writes: a canary's `status`, `current_stage` or `stage_started_at`, in the
    /// flag's base split or an environment override's, or a whole canary, override or flag
    /// that contains one.
    pub fn touches_controller_fields_in_flag(&self) -> bool {
        in_flag(&self.0)
    }

    /// Whether one of the two paths lies inside the other (or they are equal).
    pub fn overlaps(&self, other: &MergePath) -> bool {
        self.starts_with(other) || other.starts_with(self)
    }

    /// The value at this path in `root`: object members by name, keyed elements by `key`.
    /// `None` when any step is missing.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(root, |v, segment| match segment {
            Segment::Field(name) => v.as_object()?.get(name),
            Segment::Key(key) => find(v.as_array()?, key),
        })
    }

    /// Puts `value` at this path in `doc` (`None` removes it), as a merge conflict resolved
    /// in favour of one side does. The parents must exist (they do in a [`Merged::value`] for
    /// the path of one of its conflicts); returns false, changing nothing, when they do not.
    pub fn set(&self, doc: &mut Value, value: Option<Value>) -> bool {
        let Some((last, parents)) = self.0.split_last() else {
            match value {
                Some(v) => *doc = v,
                None => *doc = Value::Null,
            }
            return true;
        };
        let mut at = doc;
        for segment in parents {
            let next = match segment {
                Segment::Field(name) => at.as_object_mut().and_then(|m| m.get_mut(name)),
                Segment::Key(key) => at
                    .as_array_mut()
                    .and_then(|list| list.iter_mut().find(|v| key_of(v) == Some(key.as_str()))),
            };
            match next {
                Some(v) => at = v,
                None => return false,
            }
        }
        match (last, value) {
            (Segment::Field(name), Some(v)) => match at.as_object_mut() {
                Some(m) => {
                    m.insert(name.clone(), v);
                    true
                }
                None => false,
            },
            (Segment::Field(name), None) => match at.as_object_mut() {
                Some(m) => {
                    m.remove(name);
                    true
                }
                None => false,
            },
            (Segment::Key(key), value) => {
                let Some(list) = at.as_array_mut() else { return false };
                let position = list.iter().position(|v| key_of(v) == Some(key.as_str()));
                match (position, value) {
                    (Some(i), Some(v)) => list[i] = v,
                    (Some(i), None) => {
                        list.remove(i);
                    }
                    (None, Some(v)) => list.push(v),
                    (None, None) => {}
                }
                true
            }
        }
    }
}

/// A path of member names only, e.g. `["canary", "status"].into_iter().collect()`.
impl<S: Into<String>> FromIterator<S> for MergePath {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        MergePath(iter.into_iter().map(|s| Segment::Field(s.into())).collect())
    }
}

fn in_flag(rest: &[Segment]) -> bool {
    fn field(s: &Segment) -> Option<&str> {
        match s {
            Segment::Field(f) => Some(f.as_str()),
            Segment::Key(_) => None,
        }
    }
    let names: Vec<Option<&str>> = rest.iter().map(field).collect();
    let rest: &[Option<&str>] = match names.as_slice() {
        [Some("environments")] | [Some("environments"), _] => return true,
        [Some("environments"), _, rest @ ..] => rest,
        other => other,
    };
    match rest {
        [] | [Some("canary")] => true,
        [Some("canary"), Some(field)] => CONTROLLER_FIELDS.contains(field),
        _ => false,
    }
}

/// The canary fields the controller writes (and only it, unless an admin acts on purpose).
pub const CONTROLLER_FIELDS: [&str; 3] = ["status", "current_stage", "stage_started_at"];

impl fmt::Display for MergePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Field(name) => {
                    let part = edgeflag_readers::json_text::path_segment(name);
                    // field_path's rule: no leading dot at the root.
                    text.push_str(if text.is_empty() { part.trim_start_matches('.') } else { &part });
                }
                Segment::Key(key) => {
                    text.push('[');
                    text.push_str(&edgeflag_readers::json_text::json_quoted(key));
                    text.push(']');
                }
            }
        }
        if text.is_empty() {
            text.push_str("(the whole document)");
        }
        f.write_str(&text)
    }
}

/// A field both sides changed to different values. `None` = absent on that side.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub path: MergePath,
    pub base: Option<Value>,
    pub mine: Option<Value>,
    pub theirs: Option<Value>,
}

/// The result of [`three_way`].
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// `theirs` with every change of `mine` applied. At a conflict it holds `theirs`' value:
    /// the merge never undoes the other side on its own.
    pub value: Value,
    /// Fields both sides changed differently, in document order.
    pub conflicts: Vec<Conflict>,
    /// Fields `mine` changed that were applied (or already equal on `theirs`).
    pub applied: Vec<MergePath>,
    /// Fields only `theirs` changed, where `mine` still holds the base value: the merge kept
    /// `theirs`. A writer that sent the base value back (a whole-flag PUT from a stale copy)
    /// would have reverted these.
    pub kept_theirs: Vec<MergePath>,
}

impl Merged {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }

    /// For a merge of one flag (paths relative to the flag): the controller-managed fields
    /// that the other side changed and that the writer sent back at their base value, i.e.
    /// fields a stale writer would have reverted had the merge not kept `theirs`. `carried`
    /// narrows this to the members the writer actually sent (a merge patch's members);
    /// `None` = the writer sent the whole flag.
    ///
    /// A write with any of these is refused: it was made without seeing the controller's
    /// decision (or an operator's pause), so neither keeping nor reverting it silently is
    /// right. Changing such a field on purpose (a patch that sets another value) is a change
    /// of `mine`, handled by the merge itself.
    pub fn reverted_controller_fields_in_flag(&self, carried: Option<&[MergePath]>) -> Vec<&MergePath> {
        self.kept_theirs
            .iter()
            .filter(|p| p.touches_controller_fields_in_flag())
            .filter(|p| carried.is_none_or(|carried| carried.iter().any(|c| c.overlaps(p))))
            .collect()
    }
}

/// Merges the changes `base → mine` into `theirs`.
pub fn three_way(base: &Value, mine: &Value, theirs: &Value) -> Merged {
    let mut out = Merged { value: Value::Null, conflicts: Vec::new(), applied: Vec::new(), kept_theirs: Vec::new() };
    let merged = merge_at(&MergePath::default(), Some(base), Some(mine), Some(theirs), &mut out);
    out.value = merged.unwrap_or(Value::Null);
    out
}

/// Merges one position; `None` = absent. Returns the merged value (`None` = absent).
fn merge_at(
    path: &MergePath,
    base: Option<&Value>,
    mine: Option<&Value>,
    theirs: Option<&Value>,
    out: &mut Merged,
) -> Option<Value> {
    let same = |a: Option<&Value>, b: Option<&Value>| match (a, b) {
        (Some(a), Some(b)) => same_value(a, b),
        (None, None) => true,
        _ => false,
    };
    if same(mine, base) {
        changed_paths(path, base, theirs, &mut out.kept_theirs);
        return theirs.cloned();
    }
    if same(theirs, base) || same(mine, theirs) {
        changed_paths(path, base, mine, &mut out.applied);
        return mine.cloned();
    }
    // Both changed it, differently: merge inside when all present sides are containers of
    // the same kind, else it is a conflict.
    match (base, mine, theirs) {
        (b, Some(Value::Object(m)), Some(Value::Object(t))) if b.is_none_or(Value::is_object) => {
            let empty = Map::new();
            let b = b.and_then(Value::as_object).unwrap_or(&empty);
            Some(Value::Object(merge_objects(path, b, m, t, out)))
        }
        (Some(Value::Array(b)), Some(Value::Array(m)), Some(Value::Array(t)))
            if keyed(b) && keyed(m) && keyed(t) =>
        {
            Some(Value::Array(merge_keyed(path, b, m, t, out)))
        }
        _ => {
            out.conflicts.push(Conflict {
                path: path.clone(),
                base: base.cloned(),
                mine: mine.cloned(),
                theirs: theirs.cloned(),
            });
            theirs.cloned()
        }
    }
}

fn merge_objects(
    path: &MergePath,
    base: &Map<String, Value>,
    mine: &Map<String, Value>,
    theirs: &Map<String, Value>,
    out: &mut Merged,
) -> Map<String, Value> {
    // Member order: theirs, then members only mine or base has (serde_json's Map is sorted
    // unless preserve_order is on; either way the order is deterministic).
    let mut names: Vec<&String> = theirs.keys().collect();
    for name in mine.keys().chain(base.keys()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut merged = Map::new();
    for name in names {
        let child = path.child(Segment::Field(name.clone()));
        if let Some(v) = merge_at(&child, base.get(name), mine.get(name), theirs.get(name), out) {
            merged.insert(name.clone(), v);
        }
    }
    merged
}

fn merge_keyed(path: &MergePath, base: &[Value], mine: &[Value], theirs: &[Value], out: &mut Merged) -> Vec<Value> {
    let mut keys: Vec<&str> = theirs.iter().filter_map(key_of).collect();
    for key in mine.iter().chain(base.iter()).filter_map(key_of) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .filter_map(|key| {
            let child = path.child(Segment::Key(key.to_string()));
            merge_at(&child, find(base, key), find(mine, key), find(theirs, key), out)
        })
        .collect()
}

/// The deepest paths (members, keyed elements) at which `a` and `b` differ, in document order.
pub fn changed_paths(path: &MergePath, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<MergePath>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut names: Vec<&String> = x.keys().collect();
            names.extend(y.keys().filter(|k| !x.contains_key(*k)));
            for name in names {
                let child = path.child(Segment::Field(name.clone()));
                changed_paths(&child, x.get(name), y.get(name), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if keyed(x) && keyed(y) => {
            let mut keys: Vec<&str> = x.iter().filter_map(key_of).collect();
            keys.extend(y.iter().filter_map(key_of).filter(|k| find(x, k).is_none()));
            for key in keys {
                let child = path.child(Segment::Key(key.to_string()));
                changed_paths(&child, find(x, key), find(y, key), out);
            }
        }
        (Some(x), Some(y)) if same_value(x, y) => {}
        (None, None) => {}
        _ => out.push(path.clone()),
    }
}

fn find<'a>(list: &'a [Value], key: &str) -> Option<&'a Value> {
    list.iter().find(|v| key_of(v) == Some(key))
}

fn key_of(v: &Value) -> Option<&str> {
    v.get("key").and_then(Value::as_str)
}

/// An array of objects with unique string `key`s (flags, segments). Empty arrays qualify, so
/// a first flag added on both sides still merges per key.
fn keyed(list: &[Value]) -> bool {
    let mut keys: Vec<&str> = Vec::with_capacity(list.len());
    for v in list {
        match key_of(v) {
            Some(k) if !keys.contains(&k) => keys.push(k),
            _ => return false,
        }
    }
    true
}

/// Equality as the evaluator reads JSON: numbers by value, objects regardless of member order.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> Value {
        json!({
            "schema_version": 1,
            "environments": ["dev", "prod"],
            "flags": [
                {"key": "new-dashboard", "enabled": true, "rollout": {"percent_bp": 0, "variation": "on"},
                 "environments": {"dev": {"rollout": {"percent_bp": 10000, "variation": "on"}}}},
                {"key": "payment-processor", "enabled": true,
                 "canary": {"status": "running", "current_stage": 0, "stage_started_at": "2026-01-01T00:00:00Z",
                            "stages": [{"percent": 1.0}, {"percent": 10.0}]}},
                {"key": "ranking-model", "enabled": true, "canary": {"status": "running", "current_stage": 0}}
            ]
        })
    }

    fn paths(list: &[MergePath]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn an_edit_to_one_flag_keeps_the_controllers_decisions_on_others() {
        let base = file();
        let mut theirs = file();
        theirs["flags"][1]["canary"]["status"] = json!("completed");
        theirs["flags"][2]["canary"]["status"] = json!("rolled_back");
        let mut mine = file();
        mine["flags"][0]["environments"]["dev"]["rollout"]["percent_bp"] = json!(5000);
        let m = three_way(&base, &mine, &theirs);
        assert!(m.is_clean(), "{:?}", m.conflicts);
        assert_eq!(m.value["flags"][1]["canary"]["status"], json!("completed"));
        assert_eq!(m.value["flags"][2]["canary"]["status"], json!("rolled_back"));
        assert_eq!(m.value["flags"][0]["environments"]["dev"]["rollout"]["percent_bp"], json!(5000));
        assert_eq!(paths(&m.applied), ["flags[\"new-dashboard\"].environments.dev.rollout.percent_bp"]);
        assert_eq!(
            paths(&m.kept_theirs),
            ["flags[\"payment-processor\"].canary.status", "flags[\"ranking-model\"].canary.status"]
        );
    }

    #[test]
    fn different_fields_of_one_flag_merge() {
        let base = file();
        let mut theirs = file();
        theirs["flags"][1]["canary"]["current_stage"] = json!(1);
        let mut mine = file();
        mine["flags"][1]["description"] = json!("new processor");
        let m = three_way(&base, &mine, &theirs);
        assert!(m.is_clean());
        assert_eq!(m.value["flags"][1]["canary"]["current_stage"], json!(1));
        assert_eq!(m.value["flags"][1]["description"], json!("new processor"));
    }

    #[test]
    fn the_same_field_changed_on_both_sides_is_a_conflict_naming_both_values() {
        let base = file();
        let mut theirs = file();
        theirs["flags"][2]["canary"]["status"] = json!("rolled_back");
        let mut mine = file();
        mine["flags"][2]["canary"]["status"] = json!("paused");
        let m = three_way(&base, &mine, &theirs);
        assert_eq!(m.conflicts.len(), 1);
        let c = &m.conflicts[0];
        assert_eq!(c.path.to_string(), "flags[\"ranking-model\"].canary.status");
        assert_eq!((c.mine.clone(), c.theirs.clone()), (Some(json!("paused")), Some(json!("rolled_back"))));
        assert_eq!(c.base, Some(json!("running")));
        // The merged value never takes a conflicting value on its own.
        assert_eq!(m.value["flags"][2]["canary"]["status"], json!("rolled_back"));
        assert!(c.path.touches_controller_fields_in_file());
    }

    #[test]
    fn the_same_change_on_both_sides_is_not_a_conflict() {
        let base = file();
        let mut mine = file();
        mine["flags"][0]["enabled"] = json!(false);
        let m = three_way(&base, &mine, &mine.clone());
        assert!(m.is_clean());
        assert_eq!(m.value, mine);
    }

    #[test]
    fn additions_and_removals_merge_per_key() {
        let base = file();
        let mut mine = file();
        mine["flags"].as_array_mut().unwrap().remove(0);
        mine["flags"].as_array_mut().unwrap().push(json!({"key": "mine-new"}));
        let mut theirs = file();
        theirs["flags"].as_array_mut().unwrap().push(json!({"key": "theirs-new"}));
        let m = three_way(&base, &mine, &theirs);
        assert!(m.is_clean());
        let keys: Vec<&str> = m.value["flags"].as_array().unwrap().iter().filter_map(key_of).collect();
        assert_eq!(keys, ["payment-processor", "ranking-model", "theirs-new", "mine-new"]);
    }

    #[test]
    fn deleting_a_flag_the_other_side_changed_is_a_conflict() {
        let base = file();
        let mut mine = file();
        mine["flags"].as_array_mut().unwrap().remove(2);
        let mut theirs = file();
        theirs["flags"][2]["canary"]["status"] = json!("rolled_back");
        let m = three_way(&base, &mine, &theirs);
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].path.to_string(), "flags[\"ranking-model\"]");
        assert_eq!(m.conflicts[0].mine, None);
        assert!(m.value["flags"].as_array().unwrap().iter().any(|f| key_of(f) == Some("ranking-model")));
    }

    #[test]
    fn plain_arrays_are_one_value() {
        let base = json!({"rules": [{"variation": "a"}, {"variation": "b"}]});
        let mine = json!({"rules": [{"variation": "a"}, {"variation": "c"}]});
        let theirs = json!({"rules": [{"variation": "z"}, {"variation": "b"}]});
        let m = three_way(&base, &mine, &theirs);
        assert_eq!(paths(&m.conflicts.iter().map(|c| c.path.clone()).collect::<Vec<_>>()), ["rules"]);
    }

    #[test]
    fn numbers_compare_by_value() {
        let base = json!({"max_p99_ms": 800});
        let mine = json!({"max_p99_ms": 800.0});
        let theirs = json!({"max_p99_ms": 900});
        let m = three_way(&base, &mine, &theirs);
        assert!(m.is_clean() && m.applied.is_empty());
        assert_eq!(m.value, theirs);
    }

    #[test]
    fn a_conflict_resolved_either_way_by_its_path() {
        let base = file();
        let mut theirs = file();
        theirs["flags"][2]["canary"]["status"] = json!("rolled_back");
        let mut mine = file();
        mine["flags"][2]["canary"]["status"] = json!("paused");
        mine["flags"].as_array_mut().unwrap().remove(0);
        theirs["flags"][0]["description"] = json!("theirs");
        let m = three_way(&base, &mine, &theirs);
        let paths: Vec<String> = m.conflicts.iter().map(|c| c.path.to_string()).collect();
        assert_eq!(paths, ["flags[\"new-dashboard\"]", "flags[\"ranking-model\"].canary.status"]);
        // Each side's value, put back at the conflict's path.
        for c in &m.conflicts {
            assert!(same_opt(c.path.get(&m.value), c.theirs.as_ref()), "{}", c.path);
        }
        let mut mine_wins = m.value.clone();
        for c in &m.conflicts {
            assert!(c.path.set(&mut mine_wins, c.mine.clone()), "{}", c.path);
        }
        assert_eq!(mine_wins["flags"].as_array().unwrap().len(), 2, "mine removed new-dashboard");
        assert_eq!(m.conflicts[1].path.get(&mine_wins), Some(&json!("paused")));
        // A path whose parent is missing changes nothing.
        let lost = MergePath(vec![Segment::Field("flags".into()), Segment::Key("nope".into()), Segment::Field("x".into())]);
        let before = mine_wins.clone();
        assert!(!lost.set(&mut mine_wins, Some(json!(1))));
        assert_eq!(mine_wins, before);
        assert_eq!(lost.get(&mine_wins), None);
        // A keyed element absent on one side is added back in place of nothing.
        let added = MergePath(vec![Segment::Field("flags".into()), Segment::Key("fresh".into())]);
        assert!(added.set(&mut mine_wins, Some(json!({"key": "fresh"}))));
        assert_eq!(added.get(&mine_wins), Some(&json!({"key": "fresh"})));
    }

    fn same_opt(a: Option<&Value>, b: Option<&Value>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => same_value(a, b),
            (None, None) => true,
            _ => false,
        }
    }

    #[test]
    fn controller_fields_are_recognised_in_files_flags_and_environments() {
        let in_file = |key: &str, steps: &[&str]| {
            let mut all = vec![Segment::Field("flags".into()), Segment::Key(key.into())];
            all.extend(steps.iter().map(|s| Segment::Field(s.to_string())));
            MergePath(all)
        };
        let in_flag = |steps: &[&str]| MergePath(steps.iter().map(|s| Segment::Field(s.to_string())).collect());
        assert!(in_file("x", &["canary", "status"]).touches_controller_fields_in_file());
        assert!(in_file("x", &["environments", "prod", "canary", "current_stage"]).touches_controller_fields_in_file());
        assert!(in_file("x", &[]).touches_controller_fields_in_file());
        assert!(!in_file("x", &["canary", "stages"]).touches_controller_fields_in_file());
        assert!(!in_file("x", &["description"]).touches_controller_fields_in_file());
        assert!(!in_flag(&["environments"]).touches_controller_fields_in_file(), "the file's environment list");
        assert!(in_flag(&["canary", "stage_started_at"]).touches_controller_fields_in_flag());
        assert!(in_flag(&["canary"]).touches_controller_fields_in_flag());
        assert!(in_flag(&["environments", "prod"]).touches_controller_fields_in_flag());
        assert!(!in_flag(&["description"]).touches_controller_fields_in_flag());
        assert!(!in_flag(&["rollout", "percent_bp"]).touches_controller_fields_in_flag());
        assert_eq!(in_file("odd key", &["canary"]).to_string(), "flags[\"odd key\"].canary");
    }

    #[test]
    fn get_follows_members_and_keys() {
        let f = file();
        let path = MergePath(vec![
            Segment::Field("flags".into()),
            Segment::Key("payment-processor".into()),
            Segment::Field("canary".into()),
            Segment::Field("status".into()),
        ]);
        assert_eq!(path.get(&f), Some(&json!("running")));
        assert_eq!(MergePath::default().get(&f), Some(&f));
        let missing = MergePath(vec![Segment::Field("flags".into()), Segment::Key("nope".into())]);
        assert_eq!(missing.get(&f), None);
        let through_scalar: MergePath = ["schema_version", "x"].into_iter().collect();
        assert_eq!(through_scalar.get(&f), None);
    }

    fn flag(f: &Value, key: &str) -> Value {
        find(f["flags"].as_array().unwrap(), key).cloned().unwrap()
    }

    #[test]
    fn a_stale_whole_flag_write_would_revert_the_controller() {
        let base = flag(&file(), "ranking-model");
        let mut theirs = base.clone();
        theirs["canary"]["status"] = json!("rolled_back");
        let mut mine = base.clone();
        mine["description"] = json!("edited from an old tab");
        let m = three_way(&base, &mine, &theirs);
        assert!(m.is_clean());
        let reverted: Vec<String> = m.reverted_controller_fields_in_flag(None).iter().map(|p| p.to_string()).collect();
        assert_eq!(reverted, ["canary.status"]);
    }

    #[test]
    fn a_patch_that_does_not_carry_the_field_reverts_nothing() {
        let base = flag(&file(), "payment-processor");
        let mut theirs = base.clone();
        theirs["canary"]["current_stage"] = json!(1);
        theirs["canary"]["stage_started_at"] = json!("2026-01-01T00:05:00Z");
        // A pause patch: only canary.status is carried.
        let patch = json!({"canary": {"status": "paused"}});
        let mine = crate::merge_patch::apply(&base, &patch);
        let carried = crate::merge_patch::patched_paths(&patch);
        let m = three_way(&base, &mine, &theirs);
        assert!(m.is_clean());
        assert!(m.reverted_controller_fields_in_flag(Some(&carried)).is_empty());
        assert_eq!(m.value["canary"]["status"], json!("paused"));
        assert_eq!(m.value["canary"]["current_stage"], json!(1));
        // Resuming ("running", its base value) after the controller rolled back: carried at
        // the base value, so reverted.
        let mut rolled = base.clone();
        rolled["canary"]["status"] = json!("rolled_back");
        let patch = json!({"canary": {"status": "running"}});
        let m = three_way(&base, &crate::merge_patch::apply(&base, &patch), &rolled);
        let carried = crate::merge_patch::patched_paths(&patch);
        let reverted: Vec<String> =
            m.reverted_controller_fields_in_flag(Some(&carried)).iter().map(|p| p.to_string()).collect();
        assert_eq!(reverted, ["canary.status"]);
    }
}
