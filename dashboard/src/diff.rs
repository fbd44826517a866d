//! A readable diff of two flag files: which flags and segments were added, removed or
//! changed, each with a line diff of its pretty JSON. Works on JSON values so that any
//! two versions can be compared, valid or not.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTag {
    Same,
    Added,
    Removed,
    /// A "…" marking skipped unchanged lines.
    Gap,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiffLine {
    pub tag: LineTag,
    pub text: String,
}

/// One changed item: a flag, a segment, or a top-level setting.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffEntry {
    /// "flag", "segment" or "file".
    pub section: &'static str,
    pub key: String,
    pub change: Change,
    pub lines: Vec<DiffLine>,
}

/// `800.0` and `800` mean the same to the evaluator; the forms write floats for float fields
/// while files written by hand often use integers. Whole floats become integers so that
/// neither the diff nor "draft differs" reports a change that is not one.
pub fn normalize(value: &Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect()),
        other => other.clone(),
    }
}

/// Differences from `old` to `new`, flags first (in `new`'s order, removed ones last).
pub fn diff_files(old: &Value, new: &Value) -> Vec<DiffEntry> {
    let (old, new) = (&normalize(old), &normalize(new));
    let mut out = keyed_diff("flag", items(old, "flags"), items(new, "flags"));
    out.extend(keyed_diff("segment", items(old, "segments"), items(new, "segments")));
    // Everything else at the top level (schema_version, environments, $schema, unknowns).
    let rest = |v: &Value| -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| *k != "flags" && *k != "segments")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            other => other.clone(),
        }
    };
    let (old_rest, new_rest) = (rest(old), rest(new));
    if old_rest != new_rest {
        out.push(DiffEntry {
            section: "file",
            key: "settings".into(),
            change: Change::Changed,
            lines: line_diff(&pretty(&old_rest), &pretty(&new_rest)),
        });
    }
    out
}

/// The keys of flags that differ (added, removed or changed).
pub fn changed_flag_keys(old: &Value, new: &Value) -> Vec<String> {
    diff_files(old, new).into_iter().filter(|e| e.section == "flag").map(|e| e.key).collect()
}

/// `(key, item)` pairs of an array of keyed objects; items without a string key are keyed by
/// their position so they still show up.
pub fn items<'a>(file: &'a Value, field: &str) -> Vec<(String, &'a Value)> {
    file.get(field)
        .and_then(Value::as_array)
        .map(|array| {
            array
                .iter()
                .enumerate()
                .map(|(i, item)| (item_key(item).unwrap_or_else(|| format!("#{i}")), item))
                .collect()
        })
        .unwrap_or_default()
}

pub fn item_key(item: &Value) -> Option<String> {
    item.get("key").and_then(Value::as_str).map(str::to_string)
}

fn keyed_diff(
    section: &'static str,
    old: Vec<(String, &Value)>,
    new: Vec<(String, &Value)>,
) -> Vec<DiffEntry> {
    let find = |list: &[(String, &Value)], key: &str| {
        list.iter().find(|(k, _)| k == key).map(|(_, v)| (*v).clone())
    };
    let mut out = Vec::new();
    for (key, new_item) in &new {
        match find(&old, key) {
            None => out.push(DiffEntry {
                section,
                key: key.clone(),
                change: Change::Added,
                lines: line_diff("", &pretty(new_item)),
            }),
            Some(old_item) if old_item != **new_item => out.push(DiffEntry {
                section,
                key: key.clone(),
                change: Change::Changed,
                lines: line_diff(&pretty(&old_item), &pretty(new_item)),
            }),
            Some(_) => {}
        }
    }
    for (key, old_item) in &old {
        if find(&new, key).is_none() {
            out.push(DiffEntry {
                section,
                key: key.clone(),
                change: Change::Removed,
                lines: line_diff(&pretty(old_item), ""),
            });
        }
    }
    out
}

pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Changed lines with two lines of context; longer unchanged runs become one gap line.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for (i, group) in diff.grouped_ops(2).iter().enumerate() {
        if i > 0 {
            out.push(DiffLine { tag: LineTag::Gap, text: "…".into() });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    ChangeTag::Equal => LineTag::Same,
                    ChangeTag::Insert => LineTag::Added,
                    ChangeTag::Delete => LineTag::Removed,
                };
                let text = change.value().trim_end_matches('\n').to_string();
                out.push(DiffLine { tag, text });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::SAMPLE;

    fn sample() -> Value {
        serde_json::from_str(SAMPLE).unwrap()
    }

    #[test]
    fn identical_files_have_no_diff() {
        assert!(diff_files(&sample(), &sample()).is_empty());
    }

    #[test]
    fn a_changed_rollout_shows_the_changed_line() {
        let old = sample();
        let mut new = sample();
        new["flags"][0]["rollout"]["percent_bp"] = 5000.into();
        let diff = diff_files(&old, &new);
        assert_eq!(diff.len(), 1);
        assert_eq!((diff[0].key.as_str(), diff[0].change), ("new-checkout", Change::Changed));
        let removed: Vec<_> =
            diff[0].lines.iter().filter(|l| l.tag == LineTag::Removed).map(|l| l.text.trim()).collect();
        let added: Vec<_> =
            diff[0].lines.iter().filter(|l| l.tag == LineTag::Added).map(|l| l.text.trim()).collect();
        assert_eq!(removed, ["\"percent_bp\": 1250,"]);
        assert_eq!(added, ["\"percent_bp\": 5000,"]);
        // Context is limited: the unchanged description is far away and not shown.
        assert!(diff[0].lines.len() < 8, "{:?}", diff[0].lines);
    }

    #[test]
    fn added_removed_and_settings_changes_are_listed() {
        let old = sample();
        let mut new = sample();
        let flags = new["flags"].as_array_mut().unwrap();
        let removed = flags.remove(1);
        let mut added = removed.clone();
        added["key"] = "brand-new".into();
        flags.push(added);
        new["environments"] = serde_json::json!(["prod"]);
        let diff = diff_files(&old, &new);
        let summary: Vec<_> = diff.iter().map(|e| (e.section, e.key.as_str(), e.change)).collect();
        assert_eq!(
            summary,
            [
                ("flag", "brand-new", Change::Added),
                ("flag", "old-banner", Change::Removed),
                ("file", "settings", Change::Changed)
            ]
        );
        assert!(diff[0].lines.iter().all(|l| l.tag == LineTag::Added));
        assert_eq!(changed_flag_keys(&old, &new), ["brand-new", "old-banner"]);
    }

    #[test]
    fn whole_floats_equal_integers() {
        let old = sample();
        let mut new = sample();
        new["flags"][2]["canary"]["stages"][0]["percent"] = serde_json::json!(1.0);
        assert!(diff_files(&old, &new).is_empty());
        new["flags"][2]["canary"]["stages"][0]["percent"] = serde_json::json!(1.5);
        assert_eq!(changed_flag_keys(&old, &new), ["search-v2"]);
    }

    #[test]
    fn reordering_flags_is_not_a_change_of_any_flag() {
        let old = sample();
        let mut new = sample();
        new["flags"].as_array_mut().unwrap().reverse();
        assert!(changed_flag_keys(&old, &new).is_empty());
    }
}
