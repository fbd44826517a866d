//! A readable diff of two flag files: which flags and segments were added, removed or
//! changed, each with a line diff of its pretty JSON. Works on JSON values so that any
//! two versions can be compared, valid or not.

use serde_json::Value;

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

/// Lines of context kept around each change.
const CONTEXT: usize = 2;
/// Beyond this many changed lines in one item, its lines are shown as all removed and all
/// added rather than searched further (the search keeps (changes)² positions).
const MAX_EDITS: usize = 1000;

/// Changed lines with two lines of context; longer unchanged runs become one gap line.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let script = edit_script(&old, &new);
    let changes: Vec<usize> = (0..script.len()).filter(|&i| script[i].0 != LineTag::Same).collect();
    let mut out = Vec::new();
    let mut shown_to = 0;
    for (n, &i) in changes.iter().enumerate() {
        let from = i.saturating_sub(CONTEXT).max(shown_to);
        if n > 0 && from > shown_to {
            out.push(DiffLine { tag: LineTag::Gap, text: "…".into() });
        }
        // Up to the next change when the unchanged lines between are no more than both
        // contexts, else this change's context after it.
        let to = match changes.get(n + 1) {
            Some(&next) if next - i <= 2 * CONTEXT + 1 => next,
            _ => (i + 1 + CONTEXT).min(script.len()),
        };
        out.extend(script[from..to].iter().map(|&(tag, text)| DiffLine { tag, text: text.to_string() }));
        shown_to = to;
    }
    out
}

/// The lines of `old` and `new` in order, each same, removed or added: a shortest edit script
/// by Myers' greedy algorithm ("An O(ND) Difference Algorithm and Its Variations", 1986) over
/// the lines between the common first and last ones.
///
/// Why not the `similar` crate, which did this before: it cost the dashboard's wasm more than
/// this one function is worth (dashboard/README.md "Figures").
fn edit_script<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(LineTag, &'a str)> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..].iter().rev().zip(new[head..].iter().rev()).take_while(|(a, b)| a == b).count();
    let same = |lines: &[&'a str]| lines.iter().map(|&l| (LineTag::Same, l)).collect::<Vec<_>>();
    let mut script = same(&old[..head]);
    script.extend(myers(&old[head..old.len() - tail], &new[head..new.len() - tail]));
    script.extend(same(&old[old.len() - tail..]));
    script
}

fn myers<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(LineTag, &'a str)> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    // v[offset + k]: how far along `a` the furthest path with the edits so far reaches on
    // diagonal k (x − y = k). Before edit d, v's window [−d−1, d+1] is kept to walk back.
    let offset = n + m + 1;
    let mut v = vec![0isize; 2 * offset as usize + 1];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let from_above = |v: &[isize], at: isize, k: isize, d: isize| k == -d || (k != d && v[(at + k - 1) as usize] < v[(at + k + 1) as usize]);
    'search: for d in 0..=(n + m) {
        if d > MAX_EDITS as isize {
            let mut all: Vec<(LineTag, &str)> = a.iter().map(|&l| (LineTag::Removed, l)).collect();
            all.extend(b.iter().map(|&l| (LineTag::Added, l)));
            return all;
        }
        trace.push(v[(offset - d - 1) as usize..=(offset + d + 1) as usize].to_vec());
        for k in (-d..=d).step_by(2) {
            let mut x = if from_above(&v, offset, k, d) { v[(offset + k + 1) as usize] } else { v[(offset + k - 1) as usize] + 1 };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                (x, y) = (x + 1, y + 1);
            }
            v[(offset + k) as usize] = x;
            if x >= n && y >= m {
                break 'search;
            }
        }
    }
    // Back from the end: each edit, preceded by the lines both sides share on its diagonal.
    let mut out = Vec::new();
    let (mut x, mut y) = (n, m);
    for (d, w) in trace.iter().enumerate().rev() {
        let (d, k) = (d as isize, x - y);
        let at = d + 1; // w[at + k] is v[offset + k] before edit d
        let prev_k = if from_above(w, at, k, d) { k + 1 } else { k - 1 };
        let prev_x = w[(at + prev_k) as usize];
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            (x, y) = (x - 1, y - 1);
            out.push((LineTag::Same, a[x as usize]));
        }
        if d > 0 {
            if x == prev_x {
                y -= 1;
                out.push((LineTag::Added, b[y as usize]));
            } else {
                x -= 1;
                out.push((LineTag::Removed, a[x as usize]));
            }
        }
    }
    out.reverse();
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

    /// Lines common to both texts, by dynamic programming: what a shortest script keeps.
    fn lcs(a: &[&str], b: &[&str]) -> usize {
        let mut row = vec![0usize; b.len() + 1];
        for x in a {
            let mut diag = 0;
            for (j, y) in b.iter().enumerate() {
                let up = row[j + 1];
                row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
                diag = up;
            }
        }
        row[b.len()]
    }

    #[test]
    fn edit_scripts_are_shortest_and_rebuild_both_sides() {
        // Small alphabets make many equal lines in many places; a fixed-seed generator.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let words = ["{", "}", "a", "b", "c", "\"x\": 1,"];
        for _ in 0..300 {
            let mut text = |len: u64| (0..next(len)).map(|_| words[next(6) as usize]).collect::<Vec<_>>();
            let (old, new) = (text(12), text(12));
            let script = edit_script(&old, &new);
            let side = |keep: LineTag| script.iter().filter(|(t, _)| *t == LineTag::Same || *t == keep).map(|(_, l)| *l).collect::<Vec<_>>();
            assert_eq!((side(LineTag::Removed), side(LineTag::Added)), (old.clone(), new.clone()));
            let same = script.iter().filter(|(t, _)| *t == LineTag::Same).count();
            assert_eq!(same, lcs(&old, &new), "{old:?} → {new:?}: {script:?}");
        }
    }

    /// The line diff as it was made with the `similar` crate before diff.rs had its own Myers.
    fn similar_line_diff(old: &str, new: &str) -> Vec<DiffLine> {
        use similar::{ChangeTag, TextDiff};
        let diff = TextDiff::from_lines(old, new);
        let mut out = Vec::new();
        for (i, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
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
                    out.push(DiffLine { tag, text: change.value().trim_end_matches('\n').to_string() });
                }
            }
        }
        out
    }

    #[test]
    fn flag_diffs_are_the_ones_similar_made() {
        // Edits an admin makes: a changed value, an added rule, a removed field, a new flag,
        // changes far apart in one flag; the pretty JSON of each item, as diff_files shows it.
        let edits: [fn(&mut Value); 6] = [
            |v| v["flags"][0]["rollout"]["percent_bp"] = 5000.into(),
            |v| v["flags"][0]["description"] = "another description".into(),
            |v| {
                v["flags"][1].as_object_mut().unwrap().remove("description");
            },
            |v| v["flags"][2]["canary"]["stages"].as_array_mut().unwrap().insert(1, serde_json::json!({"percent": 5.0})),
            |v| {
                v["flags"][0]["key"] = "renamed".into();
                v["flags"][2]["canary"]["current_stage"] = 2.into();
            },
            |v| v["flags"].as_array_mut().unwrap().reverse(),
        ];
        let mut checked = 0;
        for (i, edit) in edits.iter().enumerate() {
            for (j, second) in edits.iter().enumerate().skip(i) {
                let old = sample();
                let mut new = sample();
                edit(&mut new);
                second(&mut new);
                for entry in diff_files(&old, &new) {
                    let find = |file: &Value| items(file, "flags").into_iter().find(|(k, _)| *k == entry.key).map(|(_, v)| pretty(v));
                    let (a, b) = (find(&old).unwrap_or_default(), find(&new).unwrap_or_default());
                    let (ours, theirs) = (line_diff(&a, &b), similar_line_diff(&a, &b));
                    // An inserted block among repeated lines ("}," "{") has several shortest
                    // alignments and the two searches may pick different ones; the lines
                    // added and removed are the same.
                    let changed = |lines: &[DiffLine], tag| {
                        let mut texts: Vec<String> = lines.iter().filter(|l| l.tag == tag).map(|l| l.text.clone()).collect();
                        texts.sort();
                        texts
                    };
                    for tag in [LineTag::Added, LineTag::Removed] {
                        assert_eq!(changed(&ours, tag), changed(&theirs, tag), "{a}\n→\n{b}");
                    }
                    if !(i == 3 || j == 3) {
                        // Without the inserted stage, there is one shortest alignment.
                        assert_eq!(ours, theirs, "{a}\n→\n{b}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 20, "only {checked} diffs compared");
    }

    #[test]
    fn edit_scripts_are_as_short_as_similar_finds() {
        use similar::{Algorithm, ChangeTag, TextDiff};
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let words = ["{", "}", "a", "b", "\"x\": 1,", "]"];
        for _ in 0..500 {
            let mut text = |len: u64| (0..next(len)).map(|_| words[next(6) as usize]).collect::<Vec<_>>();
            let (old, new) = (text(30), text(30));
            let joined = |lines: &[&str]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
            let (old_text, new_text) = (joined(&old), joined(&new));
            let theirs = TextDiff::configure().algorithm(Algorithm::Myers).diff_lines(&old_text, &new_text);
            let edits = |tag| theirs.iter_all_changes().filter(|c| c.tag() == tag).count();
            let script = edit_script(&old, &new);
            let ours = |tag| script.iter().filter(|(t, _)| *t == tag).count();
            assert_eq!(
                (ours(LineTag::Removed), ours(LineTag::Added)),
                (edits(ChangeTag::Delete), edits(ChangeTag::Insert)),
                "{old:?} → {new:?}"
            );
        }
    }

    #[test]
    fn changes_keep_two_lines_of_context_and_far_ones_are_separated_by_a_gap() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let words = [(3, "three"), (9, "nine"), (13, "thirteen")];
        let new: String = (1..=20)
            .map(|i| match words.iter().find(|(n, _)| *n == i) {
                Some((_, word)) => format!("{word}\n"),
                None => format!("{i}\n"),
            })
            .collect();
        let shown: Vec<String> = line_diff(&old, &new)
            .into_iter()
            .map(|l| match l.tag {
                LineTag::Same => l.text,
                LineTag::Added => format!("+{}", l.text),
                LineTag::Removed => format!("-{}", l.text),
                LineTag::Gap => "…".into(),
            })
            .collect();
        // 9 and 13 are three unchanged lines apart: one group; 3 and 9 are five apart: a gap.
        assert_eq!(
            shown,
            ["1", "2", "-3", "+three", "4", "5", "…", "7", "8", "-9", "+nine", "10", "11", "12", "-13", "+thirteen", "14", "15"]
        );
        assert!(line_diff(&old, &old).is_empty());
        assert_eq!(line_diff("", "a\nb").len(), 2);
    }

    #[test]
    fn reordering_flags_is_not_a_change_of_any_flag() {
        let old = sample();
        let mut new = sample();
        new["flags"].as_array_mut().unwrap().reverse();
        assert!(changed_flag_keys(&old, &new).is_empty());
    }
}
