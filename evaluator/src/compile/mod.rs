//! Validation of meaning, and the immutable prepared form evaluation runs on.
//!
//! Everything that can be parsed or resolved once is done here: variation names become
//! indices, regexes/semvers/CIDRs/dates are parsed, salts are filled in, environment overrides
//! are merged into one effective targeting per environment, prerequisite cycles are rejected.
//! Every problem is reported with its path; nothing here panics on any input.
//!
//! By concern: this module holds the prepared form, the file's keys, segments, environments
//! and each flag's outline; [`targeting`] its target lists and rules, [`splits`] its rollout,
//! canary and experiment, [`prerequisites`] the flags it depends on.

mod prerequisites;
mod splits;
mod targeting;

pub(crate) use splits::{Split, Stickiness};

use crate::lookup_table::{first_positions, KeyMap, KeySet};
use crate::matching::CompiledClause;
use crate::model::{EnvironmentOverride, Flag, FlagFile, FlagKind, Segment, SCHEMA_VERSION};
use crate::problems::{Path, Problems, ValidationErrors};
use edgeflag_readers::json_text::field_path;
use edgeflag_readers::json_text::json_quoted as q;

/// Longest flag or segment key accepted.
pub const MAX_KEY_LEN: usize = 256;
/// Prerequisite chains deeper than this are rejected (evaluation recursion stays shallow).
pub const MAX_PREREQUISITE_DEPTH: usize = 32;

/// A validated, compiled flag file. Immutable: to change flags, build a new one and swap it.
#[derive(Debug, Clone)]
pub struct FlagSet {
    pub(crate) file: FlagFile,
    pub(crate) flags: Vec<CompiledFlag>,
    pub(crate) index: KeyMap<usize>,
    pub(crate) segments: Vec<CompiledSegment>,
    /// Declared environment names (empty: any name is accepted).
    pub(crate) environments: KeySet,
    /// Every context attribute some clause or split reads; positions are attribute ids.
    pub(crate) attributes: KeySet,
    /// What each flag reads from a context, by flag index.
    pub(crate) reads: Vec<Reads>,
}

/// What evaluating one flag may read from a context, in any environment, through its
/// segments and prerequisites: the targeting key, and attributes by id
/// ([`FlagSet::attribute_names`]). A caller that copies a context field by field (the WASM
/// glue) needs to copy only these.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    pub targeting_key: bool,
    /// Attribute ids, without repeats (empty when `all_attributes`).
    pub attributes: Vec<u32>,
    /// The flag may read any attribute of the file (its prerequisites read very many).
    pub all_attributes: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledFlag {
    pub kind: FlagKind,
    pub off_variation: usize,
    /// (flag index, variation index) pairs.
    pub prerequisites: Vec<(usize, usize)>,
    pub base: CompiledTargeting,
    pub environments: KeyMap<CompiledTargeting>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledTargeting {
    pub enabled: bool,
    pub default_variation: usize,
    pub deny: KeySet,
    /// Targeting key → variation index.
    pub targets: KeyMap<usize>,
    pub rules: Vec<CompiledRule>,
    pub split: Option<Split>,
}

impl CompiledTargeting {
    /// Whether anything could serve other than the default (else the reason is STATIC).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn has_targeting(&self) -> bool {
        !self.deny.is_empty()
            || !self.targets.is_empty()
            || !self.rules.is_empty()
            || self.split.is_some()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub clauses: Vec<CompiledClause>,
    pub variation: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledSegment {
    pub included: KeySet,
    pub excluded: KeySet,
    pub rules: Vec<Vec<CompiledClause>>,
}

impl FlagSet {
    /// Parses, validates and compiles a flag file, reporting every problem with its path.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn from_json(text: &str) -> Result<FlagSet, ValidationErrors> {
        let mut problems = Problems::default();
        let Some(decoded) = crate::decode::decode(text, &mut problems) else {
            return Err(problems.into_errors());
        };
        let extra_flags = KeySet::from_keys(decoded.broken_flag_keys);
        let extra_segments = KeySet::from_keys(decoded.broken_segment_keys);
        let compiled = Compiler {
            file: &decoded.file,
            flag_indices: &decoded.flag_indices,
            segment_indices: &decoded.segment_indices,
            broken_flag_keys: &extra_flags,
            broken_segment_keys: &extra_segments,
            problems: &mut problems,
        }
        .compile();
        match compiled {
            Some(parts) if problems.is_empty() => Ok(parts.into_set(decoded.file)),
            _ => Err(problems.into_errors()),
        }
    }

    /// Validates and compiles an already-decoded file (from the dashboard's forms, say).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn from_file(file: FlagFile) -> Result<FlagSet, ValidationErrors> {
        let mut problems = Problems::default();
        let flag_indices: Vec<usize> = (0..file.flags.len()).collect();
        let segment_indices: Vec<usize> = (0..file.segments.len()).collect();
        let none = KeySet::default();
        let compiled = Compiler {
            file: &file,
            flag_indices: &flag_indices,
            segment_indices: &segment_indices,
            broken_flag_keys: &none,
            broken_segment_keys: &none,
            problems: &mut problems,
        }
        .compile();
        match compiled {
            Some(parts) if problems.is_empty() => Ok(parts.into_set(file)),
            _ => Err(problems.into_errors()),
        }
    }

    /// The validated source model.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn file(&self) -> &FlagFile {
        &self.file
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn into_file(self) -> FlagFile {
        self.file
    }

    /// Flag keys in file order.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn flag_keys(&self) -> impl Iterator<Item = &str> {
        self.file.flags.iter().map(|f| f.key.as_str())
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The source of one flag.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn flag(&self, key: &str) -> Option<&Flag> {
        self.index.get(key).map(|&i| &self.file.flags[i])
    }

    /// Every context attribute name the file reads (clauses, segments, stickiness), by id.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn attribute_names(&self) -> impl Iterator<Item = &str> {
        self.attributes.keys()
    }

    /// The attribute name with id `id` (see [`FlagSet::reads`]).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn attribute_name(&self, id: u32) -> Option<&str> {
        self.attributes.key_at(id as usize)
    }

    /// What the flag at `index` reads from a context (see [`Reads`]).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn reads(&self, index: usize) -> Option<&Reads> {
        self.reads.get(index)
    }

    /// The environment names the file declares (empty: any name is accepted).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn environment_names(&self) -> impl Iterator<Item = &str> {
        self.environments.keys()
    }

    /// Every environment name some flag overrides, without repeats, in order of first use.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn override_names(&self) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        for flag in &self.flags {
            for (name, _) in flag.environments.iter() {
                all.push(name);
            }
        }
        let first = first_positions(&all);
        let mut names = Vec::new();
        for (i, &f) in first.iter().enumerate() {
            if f == i {
                names.push(all[i]);
            }
        }
        names
    }
}

/// Compiled parts, before they are joined with the file they borrow nothing from.
struct Parts {
    flags: Vec<CompiledFlag>,
    index: KeyMap<usize>,
    segments: Vec<CompiledSegment>,
    environments: KeySet,
}

impl Parts {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn into_set(self, file: FlagFile) -> FlagSet {
        let (attributes, reads) = reads_of(&self.flags, &self.segments);
        FlagSet {
            file,
            flags: self.flags,
            index: self.index,
            segments: self.segments,
            environments: self.environments,
            attributes,
            reads,
        }
    }
}

/// The attribute table and each flag's [`Reads`]: its own clauses and splits in every
/// environment, the segments they test, and (transitively) its prerequisites'. Linear in
/// the size of the compiled file, whatever names or prerequisite graph it has. Plain loops:
/// iterator adapters here cost the WASM module more than they say.
#[cfg_attr(edgeflag_size, optimize(size))]
fn reads_of(flags: &[CompiledFlag], segments: &[CompiledSegment]) -> (KeySet, Vec<Reads>) {
    // Every attribute name a flag reads itself, with the flag's index.
    let mut occurrences: Vec<(usize, &str)> = Vec::new();
    let mut reads: Vec<Reads> = Vec::with_capacity(flags.len());
    for (index, flag) in flags.iter().enumerate() {
        let mut own = Reads::default();
        let mut targetings = vec![&flag.base];
        for (_, targeting) in flag.environments.iter() {
            targetings.push(targeting);
        }
        for targeting in targetings {
            own.targeting_key |= !targeting.deny.is_empty() || !targeting.targets.is_empty();
            for rule in &targeting.rules {
                for clause in &rule.clauses {
                    let crate::matching::Test::Segment(list) = &clause.test else {
                        clause_reads(clause, index, &mut occurrences, &mut own);
                        continue;
                    };
                    for &s in list {
                        let Some(segment) = segments.get(s) else { continue };
                        own.targeting_key |= !segment.included.is_empty() || !segment.excluded.is_empty();
                        for segment_rule in &segment.rules {
                            for c in segment_rule {
                                clause_reads(c, index, &mut occurrences, &mut own);
                            }
                        }
                    }
                }
            }
            match targeting.split.as_ref().map(Split::stickiness) {
                Some(Stickiness::TargetingKey) => own.targeting_key = true,
                Some(Stickiness::Attribute(name)) => occurrences.push((index, name)),
                None => {}
            }
        }
        reads.push(own);
    }
    // Ids by first occurrence; each flag's list without repeats (a stamp per id, as the
    // occurrences come flag by flag).
    let every: Vec<&str> = occurrences.iter().map(|&(_, name)| name).collect();
    let first = first_positions(&every);
    let mut id_at: Vec<u32> = Vec::with_capacity(every.len());
    let mut names: Vec<String> = Vec::new();
    let mut stamp: Vec<usize> = Vec::new();
    for (i, &f) in first.iter().enumerate() {
        let id = if f == i {
            names.push(every[i].to_string());
            stamp.push(usize::MAX);
            names.len() as u32 - 1
        } else {
            id_at[f]
        };
        id_at.push(id);
        let flag = occurrences[i].0;
        if stamp[id as usize] != flag {
            stamp[id as usize] = flag;
            reads[flag].attributes.push(id);
        }
    }
    // Ids in the contexts' order of names (length, then bytes: lookup_table::SortedMap), so that a
    // caller writing attributes by ascending id writes them already sorted.
    // (The names are distinct: the sort the maps use gives every position.)
    let order = crate::lookup_table::sorted_last_occurrences(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let mut new_id = vec![0u32; names.len()];
    for (new, &old) in order.iter().enumerate() {
        new_id[old] = new as u32;
    }
    for r in &mut reads {
        for id in &mut r.attributes {
            *id = new_id[*id as usize];
        }
    }
    let names: Vec<String> = order.iter().map(|&old| std::mem::take(&mut names[old])).collect();
    // Add what prerequisites read. The graph has no cycles and depth at most
    // MAX_PREREQUISITE_DEPTH (validated), so a memoised recursion is shallow; past
    // MAX_READS attributes a flag is said to read all of them, which bounds the work.
    let mut done = vec![false; flags.len()];
    stamp.iter_mut().for_each(|s| *s = usize::MAX);
    for index in 0..flags.len() {
        fill_reads(index, flags, &mut reads, &mut done, &mut stamp, 0);
    }
    (KeySet::from_keys(names), reads)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn clause_reads<'a>(clause: &'a CompiledClause, index: usize, occurrences: &mut Vec<(usize, &'a str)>, own: &mut Reads) {
    match &clause.attribute {
        crate::matching::Attribute::TargetingKey => own.targeting_key = true,
        crate::matching::Attribute::Named(name) => occurrences.push((index, name)),
    }
}

/// More attributes than this and a flag reads "all" (see [`Reads::all_attributes`]).
const MAX_READS: usize = 256;

#[cfg_attr(edgeflag_size, optimize(size))]
fn fill_reads(index: usize, flags: &[CompiledFlag], reads: &mut [Reads], done: &mut [bool], stamp: &mut [usize], depth: usize) {
    if done[index] {
        return;
    }
    done[index] = true;
    let prerequisites = &flags[index].prerequisites;
    if depth > MAX_PREREQUISITE_DEPTH {
        reads[index].all_attributes = true;
        reads[index].targeting_key = true;
    } else {
        for &(p, _) in prerequisites {
            fill_reads(p, flags, reads, done, stamp, depth + 1);
        }
    }
    // Merge the prerequisites' lists into this one, without repeats.
    for &id in &reads[index].attributes {
        stamp[id as usize] = index;
    }
    for &(p, _) in prerequisites {
        reads[index].targeting_key |= reads[p].targeting_key;
        reads[index].all_attributes |= reads[p].all_attributes || reads[index].attributes.len() > MAX_READS;
        if reads[index].all_attributes {
            break;
        }
        for i in 0..reads[p].attributes.len() {
            let id = reads[p].attributes[i];
            if stamp[id as usize] != index {
                stamp[id as usize] = index;
                reads[index].attributes.push(id);
            }
        }
    }
    if reads[index].all_attributes || reads[index].attributes.len() > MAX_READS {
        reads[index].all_attributes = true;
        reads[index].attributes.clear();
    }
}

struct Compiler<'a> {
    file: &'a FlagFile,
    /// Original index (for paths) of each decoded flag / segment.
    flag_indices: &'a [usize],
    segment_indices: &'a [usize],
    /// Keys of parts that failed to decode: references to them are not "unknown".
    broken_flag_keys: &'a KeySet,
    broken_segment_keys: &'a KeySet,
    problems: &'a mut Problems,
}

impl Compiler<'_> {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn compile(mut self) -> Option<Parts> {
        let file = self.file;
        if file.schema_version != SCHEMA_VERSION {
            self.problems.push(
                "schema_version",
                format!("unsupported schema version {} (this engine reads {SCHEMA_VERSION})", file.schema_version),
            );
        }
        let environments = self.check_environments();
        let segment_index = self.index_keys(
            file.segments.iter().map(|s| s.key.as_str()),
            self.segment_indices,
            "segments",
        );
        let flag_index =
            self.index_keys(file.flags.iter().map(|f| f.key.as_str()), self.flag_indices, "flags");

        let mut segments = Vec::with_capacity(file.segments.len());
        let segments_path = Path::Root.field("segments");
        for (position, segment) in file.segments.iter().enumerate() {
            let path = segments_path.index(self.segment_indices[position]);
            segments.push(self.compile_segment(segment, &path, &segment_index));
        }

        let mut flags = Vec::with_capacity(file.flags.len());
        let flags_path = Path::Root.field("flags");
        for (position, flag) in file.flags.iter().enumerate() {
            let path = flags_path.index(self.flag_indices[position]);
            flags.push(self.compile_flag(flag, &path, &flag_index, &segment_index, &environments));
        }
        self.check_prerequisite_cycles(&flag_index);

        let flags: Option<Vec<CompiledFlag>> = flags.into_iter().collect();
        let segments: Option<Vec<CompiledSegment>> = segments.into_iter().collect();
        Some(Parts { flags: flags?, index: flag_index, segments: segments?, environments })
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn check_environments(&mut self) -> KeySet {
        let names = &self.file.environments;
        let first = first_positions(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let list_path = Path::Root.field("environments");
        for (i, name) in names.iter().enumerate() {
            let path = list_path.index(i);
            if name.trim().is_empty() {
                self.problems.push(path, "environment name is empty");
            } else if first[i] != i {
                self.problems.push(path, format!("duplicate environment {}", q(name)));
            }
        }
        KeySet::from_keys(names.iter().filter(|n| !n.trim().is_empty()).cloned())
    }

    /// Checks keys (non-empty, no control characters, unique) and indexes them.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn index_keys<'k>(
        &mut self,
        keys: impl Iterator<Item = &'k str>,
        original: &[usize],
        list: &str,
    ) -> KeyMap<usize> {
        let keys: Vec<&str> = keys.collect();
        let problems: Vec<Option<String>> = keys.iter().map(|key| key_problem(key)).collect();
        // Keys with a problem are left out, so they are never the "first" of a duplicate.
        let valid: Vec<(usize, &str)> =
            keys.iter().enumerate().filter(|&(p, _)| problems[p].is_none()).map(|(p, &k)| (p, k)).collect();
        let first = first_positions(&valid.iter().map(|&(_, key)| key).collect::<Vec<_>>());
        let mut entries = Vec::with_capacity(valid.len());
        let mut next_valid = 0;
        // One pass in file order, so the problems come out in file order.
        let list_path = Path::Root.field(list);
        for (position, (key, problem)) in keys.iter().zip(problems).enumerate() {
            let path = || list_path.index(original[position]).field("key").render();
            if let Some(problem) = problem {
                self.problems.push(path(), problem);
                continue;
            }
            let i = next_valid;
            next_valid += 1;
            if first[i] != i {
                let first = original[valid[first[i]].0];
                self.problems.push(path(), format!("duplicate key {} (first used at {list}[{first}])", q(key)));
            } else {
                entries.push((key.to_string(), position));
            }
        }
        KeyMap::from_entries(entries)
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn compile_segment(
        &mut self,
        segment: &Segment,
        path: &Path,
        segment_index: &KeyMap<usize>,
    ) -> Option<CompiledSegment> {
        let before = self.problems_len();
        let included = KeySet::from_keys(segment.included.iter().cloned());
        let excluded = KeySet::from_keys(segment.excluded.iter().cloned());
        for (i, key) in segment.excluded.iter().enumerate() {
            if included.contains(key) {
                self.problems.push(
                    path.field("excluded").index(i),
                    format!("{} is both included and excluded", q(key)),
                );
            }
        }
        let mut rules = Vec::with_capacity(segment.rules.len());
        let rules_path = path.field("rules");
        for (r, rule) in segment.rules.iter().enumerate() {
            let rule_path = rules_path.index(r);
            if rule.clauses.iter().any(|c| c.operator == crate::model::Operator::InSegment) {
                self.problems.push(
                    rule_path.field("clauses"),
                    "segments cannot reference other segments (in_segment)",
                );
                continue;
            }
            rules.push(self.compile_clauses(&rule.clauses, &rule_path, segment_index));
        }
        let rules: Option<Vec<_>> = rules.into_iter().collect();
        (self.problems_len() == before).then_some(CompiledSegment { included, excluded, rules: rules? })
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn compile_flag(
        &mut self,
        flag: &Flag,
        path: &Path,
        flag_index: &KeyMap<usize>,
        segment_index: &KeyMap<usize>,
        environments: &KeySet,
    ) -> Option<CompiledFlag> {
        let before = self.problems_len();
        let variations = self.check_variations(flag, path);
        let off_variation = self.variation_ref(&variations, &flag.off_variation, &path.field("off_variation"));
        let default_variation =
            self.variation_ref(&variations, &flag.default_variation, &path.field("default_variation"));
        for (t, tag) in flag.tags.iter().enumerate() {
            if tag.trim().is_empty() {
                self.problems.push(path.field("tags").index(t), "tag is empty");
            }
        }
        let prerequisites = self.compile_prerequisites(flag, path, flag_index);

        let scope = FlagScope { flag, variations: &variations, segment_index };
        let targets = self.compile_targets(&scope, &flag.targets, &flag.deny, path);
        let rules = self.compile_rules(&scope, &flag.rules, &path.field("rules"));
        let split = self.compile_split(&scope, flag.split(None), path);
        let base = match (default_variation, targets, rules, split) {
            (Some(default_variation), Some((deny, targets)), Some(rules), Some(split)) => {
                Some(CompiledTargeting { enabled: flag.enabled, default_variation, deny, targets, rules, split })
            }
            _ => None,
        };

        let mut compiled_envs = Vec::with_capacity(flag.environments.len());
        let environments_path = path.field("environments");
        for (name, over) in &flag.environments {
            let env_path = environments_path.field(name);
            if !environments.is_empty() && !environments.contains(name) {
                self.problems.push(
                    env_path,
                    format!("environment {} is not declared in the top-level \"environments\" list", q(name)),
                );
                continue;
            }
            // Overrides are checked even when the base is broken, so every problem shows;
            // the placeholder base is never evaluated (the flag is rejected).
            let placeholder;
            let base_ref = match &base {
                Some(base) => base,
                None => {
                    placeholder = CompiledTargeting {
                        enabled: false,
                        default_variation: 0,
                        deny: KeySet::default(),
                        targets: KeyMap::default(),
                        rules: Vec::new(),
                        split: None,
                    };
                    &placeholder
                }
            };
            if let Some(env) = self.compile_override(&scope, base_ref, name, over, &env_path) {
                compiled_envs.push((name.clone(), env));
            }
        }

        if self.problems_len() != before {
            return None;
        }
        Some(CompiledFlag {
            kind: flag.kind,
            off_variation: off_variation?,
            prerequisites: prerequisites?,
            base: base?,
            environments: KeyMap::from_entries(compiled_envs),
        })
    }

    /// Variation names → indices, checking names, uniqueness and value types.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn check_variations(&mut self, flag: &Flag, path: &Path) -> KeyMap<usize> {
        let list_path = path.field("variations");
        if flag.variations.is_empty() {
            self.problems.push(list_path, "a flag needs at least one variation");
        }
        let first = first_positions(&flag.variations.iter().map(|v| v.name.as_str()).collect::<Vec<_>>());
        let mut names = Vec::with_capacity(flag.variations.len());
        for (i, variation) in flag.variations.iter().enumerate() {
            let v_path = list_path.index(i);
            if variation.name.trim().is_empty() {
                self.problems.push(v_path.field("name"), "variation name is empty");
            } else if first[i] == i {
                names.push((variation.name.clone(), i));
            } else {
                self.problems.push(
                    v_path.field("name"),
                    format!("duplicate variation name {}", q(&variation.name)),
                );
            }
            let fits = match flag.kind {
                FlagKind::Boolean => variation.value.is_boolean(),
                FlagKind::String => variation.value.is_string(),
                FlagKind::Number => variation.value.is_number(),
                FlagKind::Json => true,
            };
            if !fits {
                self.problems.push(
                    v_path.field("value"),
                    format!(
                        "a {} flag needs {} values, got {}",
                        flag.kind.as_str(),
                        flag.kind.as_str(),
                        crate::context::json_type(&variation.value)
                    ),
                );
            }
        }
        KeyMap::from_entries(names)
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn variation_ref(&mut self, variations: &KeyMap<usize>, name: &str, path: &Path) -> Option<usize> {
        match variations.get(name) {
            Some(&i) => Some(i),
            None => {
                let mut known: Vec<&str> = variations.keys().collect();
                known.sort_unstable();
                self.problems.push(path, format!("unknown variation {} (variations: {})", q(name), known.join(", ")));
                None
            }
        }
    }

    /// One environment's effective targeting: base parts, replaced where the override says.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn compile_override(
        &mut self,
        scope: &FlagScope,
        base: &CompiledTargeting,
        name: &str,
        over: &EnvironmentOverride,
        path: &Path,
    ) -> Option<CompiledTargeting> {
        let before = self.problems_len();
        let mut env = base.clone();
        if let Some(enabled) = over.enabled {
            env.enabled = enabled;
        }
        if let Some(name) = &over.default_variation {
            env.default_variation =
                self.variation_ref(scope.variations, name, &path.field("default_variation")).unwrap_or(0);
        }
        if over.targets.is_some() || over.deny.is_some() {
            let targets = over.targets.as_deref().unwrap_or(&scope.flag.targets);
            let deny = over.deny.as_deref().unwrap_or(&scope.flag.deny);
            if let Some((deny, targets)) = self.compile_targets(scope, targets, deny, path) {
                env.deny = deny;
                env.targets = targets;
            }
        }
        if let Some(rules) = &over.rules {
            env.rules = self.compile_rules(scope, rules, &path.field("rules")).unwrap_or_default();
        }
        // The model's rule for which split is in force here (`Flag::split`).
        if let Some(split) = over.split(name) {
            env.split = self.compile_split(scope, split, path).flatten();
        }
        (self.problems_len() == before).then_some(env)
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn problems_len(&self) -> usize {
        self.problems.len()
    }
}

/// What rules and splits of one flag resolve names against.
struct FlagScope<'a> {
    flag: &'a Flag,
    variations: &'a KeyMap<usize>,
    segment_index: &'a KeyMap<usize>,
}

/// A percent with at most two decimals, in basis points.
#[cfg_attr(edgeflag_size, optimize(size))]
fn percent_to_bp(percent: f64) -> Option<u32> {
    if !percent.is_finite() {
        return None;
    }
    let bp = percent * 100.0;
    let rounded = bp.round();
    ((bp - rounded).abs() < 1e-6 && (0.0..=10_000.0).contains(&rounded)).then_some(rounded as u32)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn key_problem(key: &str) -> Option<String> {
    if key.trim().is_empty() {
        Some("key is empty".into())
    } else if key.chars().any(char::is_control) {
        Some("key contains control characters".into())
    } else if key.len() > MAX_KEY_LEN {
        Some(format!("key is longer than {MAX_KEY_LEN} bytes"))
    } else {
        None
    }
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn join_suffix(path: &str, suffix: &str) -> String {
    if suffix.starts_with('[') {
        format!("{path}{suffix}")
    } else if let Some(bracket) = suffix.find('[') {
        format!("{}{}", field_path(path, &suffix[..bracket]), &suffix[bracket..])
    } else {
        field_path(path, suffix)
    }
}


/// Parses and fully validates a flag file, returning the model (not compiled).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn parse_flag_file(text: &str) -> Result<FlagFile, ValidationErrors> {
    FlagSet::from_json(text).map(|set| set.into_file())
}

