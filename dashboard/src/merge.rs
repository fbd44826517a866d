//! Reapplying the admin's edits on top of a version someone else published meanwhile (after a
//! 412). Works per flag and per segment: an item only the admin changed is taken from the
//! draft; an item both sides changed differently is also taken from the draft but reported
//! as a conflict, so the admin reviews it in the diff before publishing again. Nothing is
//! published by this step.

use serde_json::Value;

use crate::diff::{items, normalize};

#[derive(Debug, Clone, PartialEq)]
pub struct Rebased {
    /// The server's file with the admin's changes applied.
    pub merged: Value,
    /// Items (e.g. "flag new-ui") the admin changed and that were reapplied.
    pub applied: Vec<String>,
    /// Items changed on both sides differently; the admin's version won and must be reviewed.
    pub conflicts: Vec<String>,
}

/// Applies the changes from `base` to `mine` onto `theirs`.
pub fn rebase(base: &Value, mine: &Value, theirs: &Value) -> Rebased {
    let (base, mine, theirs) = (&normalize(base), &normalize(mine), &normalize(theirs));
    let mut merged = theirs.clone();
    let mut applied = Vec::new();
    let mut conflicts = Vec::new();
    for (field, label) in [("flags", "flag"), ("segments", "segment")] {
        let base_items = items(base, field);
        let mine_items = items(mine, field);
        let theirs_items = items(theirs, field);
        let find = |list: &[(String, &Value)], key: &str| {
            list.iter().find(|(k, _)| k == key).map(|(_, v)| (*v).clone())
        };
        let mut keys: Vec<String> = mine_items.iter().map(|(k, _)| k.clone()).collect();
        keys.extend(base_items.iter().map(|(k, _)| k.clone()).filter(|k| find(&mine_items, k).is_none()));
        for key in keys {
            let (b, m, t) = (find(&base_items, &key), find(&mine_items, &key), find(&theirs_items, &key));
            if b == m || m == t {
                continue; // the admin did not touch it, or both made the same change
            }
            let name = format!("{label} {key}");
            if b != t {
                conflicts.push(name.clone());
            }
            set_item(&mut merged, field, &key, m);
            applied.push(name);
        }
    }
    // Top-level settings (environments, schema_version, ...): the admin's value when changed.
    if let (Some(base_map), Some(mine_map)) = (base.as_object(), mine.as_object()) {
        let names: Vec<&String> = mine_map.keys().chain(base_map.keys()).collect();
        for name in names {
            if name == "flags" || name == "segments" || base_map.get(name) == mine_map.get(name) {
                continue;
            }
            let Some(target) = merged.as_object_mut() else { break };
            if target.get(name) == mine_map.get(name) {
                continue;
            }
            if base_map.get(name) != theirs.get(name) {
                conflicts.push(format!("setting {name}"));
            }
            match mine_map.get(name) {
                Some(v) => target.insert(name.clone(), v.clone()),
                None => target.remove(name),
            };
            applied.push(format!("setting {name}"));
        }
    }
    Rebased { merged, applied, conflicts }
}

/// Replaces (or appends, or with `None` removes) the item with `key` in `file[field]`.
fn set_item(file: &mut Value, field: &str, key: &str, item: Option<Value>) {
    let Some(map) = file.as_object_mut() else { return };
    let array = map.entry(field).or_insert_with(|| Value::Array(Vec::new()));
    if !array.is_array() {
        *array = Value::Array(Vec::new());
    }
    let Value::Array(list) = array else { return };
    let position = list.iter().position(|v| v.get("key").and_then(Value::as_str) == Some(key));
    match (position, item) {
        (Some(i), Some(item)) => list[i] = item,
        (Some(i), None) => {
            list.remove(i);
        }
        (None, Some(item)) => list.push(item),
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::SAMPLE;
    use serde_json::json;

    fn sample() -> Value {
        serde_json::from_str(SAMPLE).unwrap()
    }

    #[test]
    fn independent_changes_are_combined() {
        let base = sample();
        let mut mine = sample();
        mine["flags"][0]["rollout"]["percent_bp"] = json!(5000);
        let mut theirs = sample();
        theirs["flags"][1]["enabled"] = json!(true);
        let r = rebase(&base, &mine, &theirs);
        assert_eq!(r.merged["flags"][0]["rollout"]["percent_bp"], json!(5000));
        assert_eq!(r.merged["flags"][1]["enabled"], json!(true));
        assert_eq!(r.applied, ["flag new-checkout"]);
        assert!(r.conflicts.is_empty());
    }

    #[test]
    fn both_sides_changing_a_flag_is_a_conflict_and_mine_is_kept_for_review() {
        let base = sample();
        let mut mine = sample();
        mine["flags"][0]["rollout"]["percent_bp"] = json!(5000);
        let mut theirs = sample();
        theirs["flags"][0]["rollout"]["percent_bp"] = json!(100);
        let r = rebase(&base, &mine, &theirs);
        assert_eq!(r.conflicts, ["flag new-checkout"]);
        assert_eq!(r.merged["flags"][0]["rollout"]["percent_bp"], json!(5000));
    }

    #[test]
    fn additions_and_deletions_are_reapplied() {
        let base = sample();
        let mut mine = sample();
        let flags = mine["flags"].as_array_mut().unwrap();
        flags.remove(1); // old-banner
        flags.push(json!({"key": "fresh"}));
        mine["environments"] = json!(["prod", "dev"]);
        let mut theirs = sample();
        theirs["flags"].as_array_mut().unwrap().push(json!({"key": "theirs-new"}));
        let r = rebase(&base, &mine, &theirs);
        let keys: Vec<_> = r.merged["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["new-checkout", "search-v2", "button-color", "full-on", "theirs-new", "fresh"]);
        assert_eq!(r.merged["environments"], json!(["prod", "dev"]));
        assert_eq!(r.applied, ["flag fresh", "flag old-banner", "setting environments"]);
        assert!(r.conflicts.is_empty());
    }

    #[test]
    fn identical_changes_on_both_sides_are_not_reapplied() {
        let base = sample();
        let mut mine = sample();
        mine["flags"][2]["enabled"] = json!(false);
        let theirs = mine.clone();
        let r = rebase(&base, &mine, &theirs);
        assert!(r.applied.is_empty() && r.conflicts.is_empty());
        assert_eq!(r.merged, theirs);
    }
}
