//! The structure of a flag file, read by hand from a [`Json`] tree into [`crate::model`].
//!
//! Every problem is reported with its path, and decoding goes on after one: every unknown and
//! duplicate field, every missing field and every wrong type of a flag are listed at once.
//! Semantic problems (unknown references, weights, stage order...) are `crate::compile`'s.
//!
//! The model types also derive `Deserialize` for Rust callers; `tests/decode_agrees.rs` checks
//! that both read the same files into the same model. This reader exists for the paths and for
//! size: see [`edgeflag_readers::json_reader`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use edgeflag_readers::json_reader::{self, Json};
use crate::model::{
    Canary, CanaryStage, CanaryStatus, Clause, EnvironmentOverride, Experiment, ExperimentVariant,
    Flag, FlagFile, FlagKind, HealthGate, Operator, Prerequisite, Rollout, Rule, Segment,
    SegmentRule, Target, Variation,
};
use crate::problems::{Path, Problems};

/// A flag file decoded as far as possible: what decoded, and what did not.
pub struct Decoded {
    pub file: FlagFile,
    /// Original index of each entry of `file.flags` (broken flags are left out).
    pub flag_indices: Vec<usize>,
    pub segment_indices: Vec<usize>,
    /// Keys of flags that failed to decode, so references to them are not reported as well.
    pub broken_flag_keys: Vec<String>,
    pub broken_segment_keys: Vec<String>,
    /// Some flag or segment did not decode (with or without a key).
    incomplete: bool,
}

impl Decoded {
    /// The file, if every flag and segment decoded (unknown fields are reported, not fatal):
    /// for editors that must not drop a broken flag from a draft they write back.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn into_complete(self) -> Option<FlagFile> {
        (!self.incomplete).then_some(self.file)
    }
}

/// Decodes the JSON text, reporting syntax, type, missing, unknown and duplicate fields into
/// `problems`. Returns `None` when the top level itself cannot be read.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn decode(text: &str, problems: &mut Problems) -> Option<Decoded> {
    let json = match json_reader::parse(text) {
        Ok(json) => json,
        Err(e) => {
            problems.push(e.path, format!("invalid JSON: {}", e.message));
            return None;
        }
    };
    if !matches!(json, Json::Object(_)) {
        problems.push(
            "",
            format!(
                "a flag file must be a JSON object, got {}",
                json.type_name()
            ),
        );
        return None;
    }
    let mut top = Fields::of(&json, &Path::Root, problems)?;
    let schema = top.optional("$schema", problems, string);
    let schema_version = top.required("schema_version", problems, u32_);
    let environments = top.or_default("environments", problems, strings);
    // Flags and segments are decoded one by one below, after the top level's own problems.
    let segments = match top.take("segments") {
        None => Some(&[][..]),
        Some((node, path)) => array(node, &path, problems),
    };
    let flags = match top.take("flags") {
        None => {
            problems.push("", "missing field `flags`");
            None
        }
        Some((node, path)) => array(node, &path, problems),
    };
    top.finish(problems);
    let top_level_ok = schema.is_some()
        && schema_version.is_some()
        && environments.is_some()
        && segments.is_some()
        && flags.is_some();

    let mut decoded = Decoded {
        file: FlagFile {
            schema: schema.flatten(),
            schema_version: schema_version.unwrap_or(0),
            environments: environments.unwrap_or_default(),
            segments: Vec::with_capacity(segments.map_or(0, <[Json]>::len)),
            flags: Vec::with_capacity(flags.map_or(0, <[Json]>::len)),
        },
        flag_indices: Vec::with_capacity(flags.map_or(0, <[Json]>::len)),
        segment_indices: Vec::with_capacity(segments.map_or(0, <[Json]>::len)),
        broken_flag_keys: Vec::new(),
        broken_segment_keys: Vec::new(),
        incomplete: false,
    };
    let segments_path = Path::Root.field("segments");
    for (index, node) in segments.unwrap_or_default().iter().enumerate() {
        match segment(node, &segments_path.index(index), problems) {
            Some(s) => {
                decoded.file.segments.push(s);
                decoded.segment_indices.push(index);
            }
            None => {
                decoded.incomplete = true;
                decoded.broken_segment_keys.extend(key_of(node));
            }
        }
    }
    let flags_path = Path::Root.field("flags");
    for (index, node) in flags.unwrap_or_default().iter().enumerate() {
        match flag(node, &flags_path.index(index), problems) {
            Some(f) => {
                decoded.file.flags.push(f);
                decoded.flag_indices.push(index);
            }
            None => {
                decoded.incomplete = true;
                decoded.broken_flag_keys.extend(key_of(node));
            }
        }
    }
    top_level_ok.then_some(decoded)
}

/// The key of a flag or segment that failed to decode, when it has one.
#[cfg_attr(edgeflag_size, optimize(size))]
fn key_of(node: &Json) -> Option<String> {
    match node {
        Json::Object(entries) => {
            entries
                .iter()
                .rev()
                .find(|(k, _)| k == "key")
                .and_then(|(_, v)| match v {
                    Json::String(s) => Some(s.to_string()),
                    _ => None,
                })
        }
        _ => None,
    }
}

/// Reads one JSON object into a struct, its fields declared once: `name: how(reader)`, where
/// `how` is [`Fields::required`], [`Fields::or_default`], [`Fields::optional`] or [`Fields::or`]
/// (with the default after the reader), and the JSON member is the field's own name. This list
/// is what `tests/decode_agrees.rs` holds against the model's serde attributes: the same names,
/// the same required and defaulted fields. Fields are read (and their problems reported) in the
/// order listed; then every member not listed is reported as unknown.
macro_rules! object {
    ($node:expr, $path:expr, $p:expr, $ty:ident { $($field:ident: $how:ident($($read:expr),+)),* $(,)? }) => {{
        let mut f = Fields::of($node, $path, $p)?;
        $(let $field = f.$how(stringify!($field), $p, $($read),+);)*
        f.finish($p);
        Some($ty { $($field: $field?),* })
    }};
}

/// A reader of one field (or element) value: reports its problems under `path`, and returns
/// `None` when the value cannot be used.
type Read<T> = fn(&Json, &Path, &mut Problems) -> Option<T>;

/// The fields of one JSON object, taken one by one; [`Fields::finish`] reports the rest.
struct Fields<'a> {
    path: &'a Path<'a>,
    entries: &'a [(Cow<'a, str>, Json<'a>)],
    used: Vec<bool>,
}

impl<'a> Fields<'a> {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn of(node: &'a Json<'a>, path: &'a Path<'a>, problems: &mut Problems) -> Option<Self> {
        match node {
            Json::Object(entries) => Some(Fields {
                path,
                entries,
                used: vec![false; entries.len()],
            }),
            other => {
                problems.push(path, invalid_type(other, "an object"));
                None
            }
        }
    }

    /// The value of `name` (the last one if it appears twice; `finish` reports the duplicate).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn take(&mut self, name: &str) -> Option<(&'a Json<'a>, Path<'a>)> {
        let position = self.entries.iter().rposition(|(key, _)| key == name)?;
        for (used, (key, _)) in self.used.iter_mut().zip(self.entries) {
            *used |= key == name;
        }
        let (key, value) = &self.entries[position];
        Some((value, self.path.field(key)))
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn required<T>(&mut self, name: &str, problems: &mut Problems, read: Read<T>) -> Option<T> {
        match self.take(name) {
            Some((node, path)) => read(node, &path, problems),
            None => {
                problems.push(self.path, format!("missing field `{name}`"));
                None
            }
        }
    }

    /// Absent and `null` are `None`; `Some(None)` means present but unusable.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn optional<T>(
        &mut self,
        name: &str,
        problems: &mut Problems,
        read: Read<T>,
    ) -> Option<Option<T>> {
        match self.take(name) {
            None | Some((Json::Null, _)) => Some(None),
            Some((node, path)) => read(node, &path, problems).map(Some),
        }
    }

    /// Absent is `T::default()` (`null` is not: serde's `#[serde(default)]` rejects it too).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn or_default<T: Default>(
        &mut self,
        name: &str,
        problems: &mut Problems,
        read: Read<T>,
    ) -> Option<T> {
        match self.take(name) {
            None => Some(T::default()),
            Some((node, path)) => read(node, &path, problems),
        }
    }

    /// Absent is `default` (`null` is not, as for [`Fields::or_default`]).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn or<T>(&mut self, name: &str, problems: &mut Problems, read: Read<T>, default: T) -> Option<T> {
        match self.take(name) {
            None => Some(default),
            Some((node, path)) => read(node, &path, problems),
        }
    }

    /// Reports every field not taken as unknown, and every repeated one as a duplicate.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn finish(self, problems: &mut Problems) {
        // Objects of a flag file have a handful of fields: comparing each key with those before
        // it costs less than building a hash table for them.
        let first = (self.entries.len() > 16)
            .then(|| crate::lookup_table::first_positions(&self.entries.iter().map(|(key, _)| key.as_ref()).collect::<Vec<_>>()));
        for (i, ((key, _), used)) in self.entries.iter().zip(self.used).enumerate() {
            let path = || self.path.field(key);
            if !used {
                problems.push(path(), "unknown field");
            }
            let repeated = match &first {
                Some(first) => first[i] != i,
                None => self.entries[..i].iter().any(|(earlier, _)| earlier == key),
            };
            if repeated {
                problems.push(path(), format!("duplicate field `{key}`"));
            }
        }
    }
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn invalid_type(node: &Json, expected: &str) -> String {
    format!("invalid type: {}, expected {expected}", node.describe())
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn array<'a>(node: &'a Json<'a>, path: &Path, problems: &mut Problems) -> Option<&'a [Json<'a>]> {
    match node {
        Json::Array(items) => Some(items),
        other => {
            problems.push(path, invalid_type(other, "an array"));
            None
        }
    }
}

/// Every element read (and every bad one reported); `None` if any was bad.
#[cfg_attr(edgeflag_size, optimize(size))]
fn list<T>(node: &Json, path: &Path, problems: &mut Problems, read: Read<T>) -> Option<Vec<T>> {
    let items = array(node, path, problems)?;
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (index, item) in items.iter().enumerate() {
        match read(item, &path.index(index), problems) {
            Some(value) if ok => out.push(value),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(out)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn string(node: &Json, path: &Path, problems: &mut Problems) -> Option<String> {
    match node {
        Json::String(s) => Some(s.to_string()),
        other => {
            problems.push(path, invalid_type(other, "a string"));
            None
        }
    }
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn strings(node: &Json, path: &Path, problems: &mut Problems) -> Option<Vec<String>> {
    list(node, path, problems, string)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn boolean(node: &Json, path: &Path, problems: &mut Problems) -> Option<bool> {
    match node {
        Json::Bool(b) => Some(*b),
        other => {
            problems.push(path, invalid_type(other, "a boolean"));
            None
        }
    }
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn any_value(node: &Json, _path: &Path, _problems: &mut Problems) -> Option<serde_json::Value> {
    Some(node.to_value())
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn number(node: &Json, path: &Path, problems: &mut Problems) -> Option<f64> {
    match node {
        Json::Number(n) => {
            // Always Some without serde_json's `arbitrary_precision`; never lose a problem.
            let value = n.as_f64();
            if value.is_none() {
                problems.push(path, format!("number {n} is out of range"));
            }
            value
        }
        other => {
            problems.push(path, invalid_type(other, "a number"));
            None
        }
    }
}

/// A whole number in `0..=max`.
#[cfg_attr(edgeflag_size, optimize(size))]
fn unsigned(node: &Json, path: &Path, problems: &mut Problems, max: u64) -> Option<u64> {
    let expected = || format!("an integer from 0 to {max}");
    match node {
        Json::Number(n) => match n.as_u64() {
            Some(v) if v <= max => Some(v),
            _ if n.is_f64() => {
                problems.push(path, invalid_type(node, &expected()));
                None
            }
            _ => {
                problems.push(
                    path,
                    format!(
                        "invalid value: {}, expected {}",
                        node.describe(),
                        expected()
                    ),
                );
                None
            }
        },
        other => {
            problems.push(path, invalid_type(other, &expected()));
            None
        }
    }
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn u32_(node: &Json, path: &Path, problems: &mut Problems) -> Option<u32> {
    unsigned(node, path, problems, u32::MAX.into()).and_then(|v| u32::try_from(v).ok())
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn u64_(node: &Json, path: &Path, problems: &mut Problems) -> Option<u64> {
    unsigned(node, path, problems, u64::MAX)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn usize_(node: &Json, path: &Path, problems: &mut Problems) -> Option<usize> {
    let max = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
    unsigned(node, path, problems, max).and_then(|v| usize::try_from(v).ok())
}

/// One of a fixed set of names (a serde "unit variant").
#[cfg_attr(edgeflag_size, optimize(size))]
fn one_of<T: Copy>(
    node: &Json,
    path: &Path,
    problems: &mut Problems,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Option<T> {
    let text = string(node, path, problems)?;
    if let Some(found) = all.iter().copied().find(|v| name(*v) == text) {
        return Some(found);
    }
    let names: Vec<String> = all.iter().map(|v| format!("`{}`", name(*v))).collect();
    problems.push(
        path,
        format!(
            "unknown variant `{text}`, expected one of {}",
            names.join(", ")
        ),
    );
    None
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn flag_kind(node: &Json, path: &Path, problems: &mut Problems) -> Option<FlagKind> {
    one_of(node, path, problems, &FlagKind::ALL, FlagKind::as_str)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn operator(node: &Json, path: &Path, problems: &mut Problems) -> Option<Operator> {
    one_of(node, path, problems, &Operator::ALL, Operator::as_str)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn canary_status(node: &Json, path: &Path, problems: &mut Problems) -> Option<CanaryStatus> {
    const ALL: [CanaryStatus; 4] = [
        CanaryStatus::Running,
        CanaryStatus::Paused,
        CanaryStatus::RolledBack,
        CanaryStatus::Completed,
    ];
    one_of(node, path, problems, &ALL, CanaryStatus::as_str)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn flag(node: &Json, path: &Path, p: &mut Problems) -> Option<Flag> {
    object!(node, path, p, Flag {
        key: required(string),
        description: or_default(string),
        tags: or_default(strings),
        kind: required(flag_kind),
        variations: required(|n, path, p| list(n, path, p, variation)),
        enabled: required(boolean),
        off_variation: required(string),
        default_variation: required(string),
        prerequisites: or_default(|n, path, p| list(n, path, p, prerequisite)),
        targets: or_default(targets),
        deny: or_default(strings),
        rules: or_default(rules),
        rollout: optional(rollout),
        canary: optional(canary),
        experiment: optional(experiment),
        environments: or_default(environment_overrides),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn variation(node: &Json, path: &Path, p: &mut Problems) -> Option<Variation> {
    object!(node, path, p, Variation {
        name: required(string),
        value: required(any_value),
        description: or_default(string),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn prerequisite(node: &Json, path: &Path, p: &mut Problems) -> Option<Prerequisite> {
    object!(node, path, p, Prerequisite { flag: required(string), variation: required(string) })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn targets(node: &Json, path: &Path, p: &mut Problems) -> Option<Vec<Target>> {
    list(node, path, p, |node, path, p| {
        object!(node, path, p, Target { variation: required(string), keys: required(strings) })
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn rules(node: &Json, path: &Path, p: &mut Problems) -> Option<Vec<Rule>> {
    list(node, path, p, |node, path, p| {
        object!(node, path, p, Rule {
            description: or_default(string),
            clauses: required(clauses),
            variation: required(string),
        })
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn clauses(node: &Json, path: &Path, p: &mut Problems) -> Option<Vec<Clause>> {
    list(node, path, p, |node, path, p| {
        object!(node, path, p, Clause {
            attribute: or_default(string),
            operator: required(operator),
            values: required(|n, path, p| list(n, path, p, any_value)),
            negate: or_default(boolean),
            case_insensitive: or_default(boolean),
        })
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn rollout(node: &Json, path: &Path, p: &mut Problems) -> Option<Rollout> {
    object!(node, path, p, Rollout {
        percent_bp: required(u32_),
        variation: required(string),
        stickiness: optional(string),
        salt: optional(string),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn canary(node: &Json, path: &Path, p: &mut Problems) -> Option<Canary> {
    object!(node, path, p, Canary {
        baseline: required(string),
        canary: required(string),
        stages: required(|n, path, p| list(n, path, p, canary_stage)),
        current_stage: or_default(usize_),
        status: or_default(canary_status),
        stage_started_at: optional(string),
        stickiness: optional(string),
        salt: optional(string),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn canary_stage(node: &Json, path: &Path, p: &mut Problems) -> Option<CanaryStage> {
    object!(node, path, p, CanaryStage {
        percent: required(number),
        min_duration: required(string),
        gate: required(health_gate),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn health_gate(node: &Json, path: &Path, p: &mut Problems) -> Option<HealthGate> {
    object!(node, path, p, HealthGate {
        max_error_rate: required(number),
        max_p99_ms: required(number),
        min_samples: required(u64_),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn experiment(node: &Json, path: &Path, p: &mut Problems) -> Option<Experiment> {
    object!(node, path, p, Experiment {
        variants: required(|n, path, p| list(n, path, p, experiment_variant)),
        traffic_bp: or(u32_, crate::model::FULL_TRAFFIC_BP),
        stickiness: optional(string),
        salt: optional(string),
        experiment_salt: optional(string),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn experiment_variant(node: &Json, path: &Path, p: &mut Problems) -> Option<ExperimentVariant> {
    object!(node, path, p, ExperimentVariant { variation: required(string), weight_bp: required(u32_) })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn environment_overrides(
    node: &Json,
    path: &Path,
    p: &mut Problems,
) -> Option<BTreeMap<String, EnvironmentOverride>> {
    let Json::Object(entries) = node else {
        p.push(path, invalid_type(node, "an object"));
        return None;
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in entries {
        let entry_path = path.field(name);
        if out.contains_key(name.as_ref()) {
            p.push(entry_path, format!("duplicate field `{name}`"));
            ok = false;
        }
        match environment_override(value, &entry_path, p) {
            Some(o) => {
                out.insert(name.to_string(), o);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn environment_override(node: &Json, path: &Path, p: &mut Problems) -> Option<EnvironmentOverride> {
    object!(node, path, p, EnvironmentOverride {
        enabled: optional(boolean),
        default_variation: optional(string),
        targets: optional(targets),
        deny: optional(strings),
        rules: optional(rules),
        rollout: optional(rollout),
        canary: optional(canary),
        experiment: optional(experiment),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn segment(node: &Json, path: &Path, p: &mut Problems) -> Option<Segment> {
    object!(node, path, p, Segment {
        key: required(string),
        description: or_default(string),
        included: or_default(strings),
        excluded: or_default(strings),
        rules: or_default(|n, path, p| list(n, path, p, segment_rule)),
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn segment_rule(node: &Json, path: &Path, p: &mut Problems) -> Option<SegmentRule> {
    object!(node, path, p, SegmentRule { clauses: required(clauses) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::Problem;

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn problems_of(text: &str) -> Vec<Problem> {
        let mut problems = Problems::default();
        decode(text, &mut problems);
        problems
            .into_result(())
            .err()
            .map(|e| e.problems)
            .unwrap_or_default()
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn paths_of(text: &str) -> Vec<String> {
        problems_of(text).into_iter().map(|p| p.path).collect()
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn syntax_errors_name_the_line_and_the_path() {
        let found = problems_of("{\"schema_version\": 1,\n \"flags\": [}");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "flags[0]");
        assert!(
            found[0].message.starts_with("invalid JSON") && found[0].message.contains("line 2"),
            "{found:?}"
        );
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn every_unknown_field_is_reported_with_its_path() {
        let text = r#"{"schema_version": 1, "colour": 1, "flags": [
          {"key": "a", "kind": "boolean", "enabled": true, "off_variation": "f",
           "default_variation": "f", "variations": [{"name": "f", "value": false, "x": 1}],
           "rules": [{"clauses": [], "variation": "f", "prio": 2}]}
        ]}"#;
        assert_eq!(
            paths_of(text),
            [
                "colour",
                "flags[0].variations[0].x",
                "flags[0].rules[0].prio"
            ]
        );
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn every_problem_of_a_flag_is_reported_and_the_next_flag_too() {
        let text = r#"{"schema_version": 1, "flags": [
          {"key": "a", "kind": "boolean", "enabled": "yes", "variations": {}, "off_variation": 1},
          {"key": "b", "kind": "colour"}
        ]}"#;
        let found = problems_of(text);
        let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "flags[0].variations",
                "flags[0].enabled",
                "flags[0].off_variation",
                "flags[0]",
                "flags[1].kind",
                "flags[1]",
                "flags[1]",
                "flags[1]",
                "flags[1]"
            ],
            "{found:?}"
        );
        assert_eq!(
            found[1].message,
            "invalid type: string \"yes\", expected a boolean"
        );
        assert_eq!(found[3].message, "missing field `default_variation`");
        assert!(
            found[4]
                .message
                .starts_with("unknown variant `colour`, expected one of `boolean`"),
            "{found:?}"
        );
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn duplicate_fields_are_reported_at_every_level() {
        let text = r#"{"schema_version": 1, "schema_version": 1, "flags": [
          {"key": "a", "key": "a", "kind": "boolean", "enabled": true, "off_variation": "f", "default_variation": "f",
           "variations": [{"name": "f", "value": false}], "environments": {"dev": {}, "dev": {}}}]}"#;
        let found = problems_of(text);
        let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "schema_version",
                "flags[0].environments.dev",
                "flags[0].key"
            ],
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .all(|p| p.message.starts_with("duplicate field")),
            "{found:?}"
        );
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn numbers_out_of_range_and_fractions_are_refused() {
        let file = |bp: &str| {
            format!(
                r#"{{"schema_version": 1, "flags": [{{"key": "a", "kind": "boolean", "enabled": true,
                "off_variation": "f", "default_variation": "f", "variations": [{{"name": "f", "value": false}}],
                "rollout": {{"percent_bp": {bp}, "variation": "f"}}}}]}}"#
            )
        };
        for bp in ["-1", "1.5", "4294967296", "\"10\"", "null"] {
            let found = problems_of(&file(bp));
            assert_eq!(found.len(), 1, "{bp}: {found:?}");
            assert_eq!(found[0].path, "flags[0].rollout.percent_bp", "{bp}");
        }
        assert_eq!(problems_of(&file("4294967295")), []);
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn null_means_absent_only_for_optional_fields() {
        let text = r#"{"$schema": null, "schema_version": 1, "flags": [{"key": "a", "kind": "boolean", "enabled": true,
            "off_variation": "f", "default_variation": "f", "variations": [{"name": "f", "value": false}],
            "rollout": null, "tags": null}]}"#;
        assert_eq!(paths_of(text), ["flags[0].tags"]);
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn broken_flags_keep_their_keys() {
        let mut problems = Problems::default();
        let text = r#"{"schema_version": 1, "flags": [{"key": "a", "kind": 5}, {"kind": 5}]}"#;
        let decoded = decode(text, &mut problems);
        assert_eq!(
            decoded.map(|d| d.broken_flag_keys),
            Some(vec!["a".to_owned()])
        );
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn a_top_level_that_is_not_an_object_is_named() {
        assert_eq!(
            problems_of("[1]")[0].message,
            "a flag file must be a JSON object, got array"
        );
        assert_eq!(paths_of(r#"{"schema_version": 1, "flags": 3}"#), ["flags"]);
    }
}
