//! JSON Merge Patch (RFC 7396): the body of `PATCH /api/flags/{key}`.
//!
//! A patch is a partial document: object members replace (recursively, for objects), `null`
//! removes, anything else (arrays included) replaces whole. The server applies a patch to the
//! version the writer read and merges that with the current version ([`crate::merge`]), so a
//! patch that names only `canary.status` never touches, or conflicts with, other fields.

use serde_json::{Map, Value};

use crate::merge::{MergePath, Segment};

/// `MergePatch(target, patch)` of RFC 7396 §2.
pub fn apply(target: &Value, patch: &Value) -> Value {
    let Value::Object(members) = patch else { return patch.clone() };
    let mut out = match target {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    for (name, value) in members {
        if value.is_null() {
            out.remove(name);
        } else {
            let merged = apply(out.get(name).unwrap_or(&Value::Null), value);
            out.insert(name.clone(), merged);
        }
    }
    Value::Object(out)
}

/// The paths a patch sets or removes: its members, recursively inside member objects, down to
/// each non-object value (a `null`, a scalar or an array). An empty object member contributes
/// no path (it only creates the object where it was missing). For a non-object patch (which
/// replaces the whole document) the root path.
pub fn patched_paths(patch: &Value) -> Vec<MergePath> {
    fn walk(at: &mut Vec<Segment>, value: &Value, out: &mut Vec<MergePath>) {
        match value {
            Value::Object(members) => {
                for (name, v) in members {
                    at.push(Segment::Field(name.clone()));
                    walk(at, v, out);
                    at.pop();
                }
            }
            _ => out.push(MergePath(at.clone())),
        }
    }
    let mut out = Vec::new();
    walk(&mut Vec::new(), patch, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every example of RFC 7396 Appendix A.
    #[test]
    fn rfc_7396_appendix_a() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": "b", "b": "c"}), json!({"a": null}), json!({"b": "c"})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!([1, 2]), json!({"a": "b", "c": null}), json!({"a": "b"})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (target, patch, expected) in cases {
            assert_eq!(apply(&target, &patch), expected, "{target} + {patch}");
        }
    }

    #[test]
    fn patched_paths_name_each_leaf() {
        let patch = json!({"canary": {"status": "paused", "stage_started_at": null}, "tags": ["a"], "x": {}});
        let mut paths: Vec<String> = patched_paths(&patch).iter().map(ToString::to_string).collect();
        paths.sort();
        assert_eq!(paths, ["canary.stage_started_at", "canary.status", "tags"]);
        assert_eq!(patched_paths(&json!([1])), [MergePath::default()]);
    }

    #[test]
    fn a_pause_patch_changes_only_the_status() {
        let flag = json!({"key": "f", "canary": {"status": "running", "current_stage": 2, "stages": [1, 2, 3]}});
        let paused = apply(&flag, &json!({"canary": {"status": "paused"}}));
        assert_eq!(paused, json!({"key": "f", "canary": {"status": "paused", "current_stage": 2, "stages": [1, 2, 3]}}));
    }
}
