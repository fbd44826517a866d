//! The flag file as admins write it: plain serde types, no behaviour.
//!
//! These types are the JSON format (schema version 1). They are what the dashboard edits and
//! what the server stores. Evaluation never walks them directly: [`crate::FlagSet`] validates
//! them and compiles them into a prepared form first.
//!
//! Files are read by [`crate::decode`], which reports every problem with its path (unknown
//! fields included). The serde derives are for Rust callers and for writing files; they accept
//! the same JSON but for the differences listed in `tests/decode_agrees.rs`, which checks the
//! rest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use edgeflag_readers::json_text::json_quoted as q;

/// The only flag-file schema version this engine reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole flag file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct FlagFile {
    /// Optional pointer to the JSON Schema, for editors.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Must be 1.
    pub schema_version: u32,
    /// Environment names flags may override (e.g. dev, staging, prod). When non-empty, an
    /// override for an undeclared environment is an error, and so is evaluating in one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// Reusable audiences that rules reference with the `in_segment` operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Segment>,
    pub flags: Vec<Flag>,
}

/// The type of every variation value of a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Boolean,
    String,
    Number,
    Json,
}

impl FlagKind {
    /// Every kind, in declaration order: a kind's position here is its code on the WASM wire
    /// (`wasm/js/fast.js` mirrors this list as `KINDS`; `tests/js/wasm-api.test.mjs` checks it).
    pub const ALL: [FlagKind; 4] = [FlagKind::Boolean, FlagKind::String, FlagKind::Number, FlagKind::Json];

    /// The kind's name in flag files and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Boolean => "boolean",
            FlagKind::String => "string",
            FlagKind::Number => "number",
            FlagKind::Json => "json",
        }
    }

    /// The kind named `name` (exactly as [`FlagKind::as_str`] writes it), if any.
    pub fn parse(name: &str) -> Option<FlagKind> {
        FlagKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A name that is not a [`FlagKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFlagKind(pub String);

impl std::fmt::Display for UnknownFlagKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown flag kind {} (expected one of {})", q(&self.0), FlagKind::ALL.map(FlagKind::as_str).join(", "))
    }
}

impl std::error::Error for UnknownFlagKind {}

impl std::str::FromStr for FlagKind {
    type Err = UnknownFlagKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        FlagKind::parse(name).ok_or_else(|| UnknownFlagKind(name.to_string()))
    }
}

/// One flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Flag {
    /// Unique key; any non-empty UTF-8 without control characters.
    pub key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub kind: FlagKind,
    /// Named values this flag can serve. Names are unique within the flag.
    pub variations: Vec<Variation>,
    /// Kill switch: when false the flag serves `off_variation` to everyone.
    pub enabled: bool,
    /// Served when the flag is disabled, a prerequisite fails or a user is on the deny list.
    pub off_variation: String,
    /// Served when the flag is enabled and nothing else matched.
    pub default_variation: String,
    /// Other flags that must serve a given variation first (evaluated in the same context).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prerequisites: Vec<Prerequisite>,
    /// Allow lists: these targeting keys are served the given variation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Deny list: these targeting keys are served the off variation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    /// Evaluated in order; the first rule whose clauses all match serves its variation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// At most one of `rollout`, `canary` and `experiment` (the flag's "split").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Experiment>,
    /// Per-environment replacements of targeting parts and `enabled`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, EnvironmentOverride>,
}

impl Flag {
    /// The split in force in environment `env` (`None`: no environment): the override's when
    /// `env`'s override sets any of `rollout`, `canary` or `experiment`, else the flag's own.
    /// So an override that sets only `enabled` (or targeting) keeps the flag's split, and one
    /// with a rollout but no canary means no canary there. An environment without an override
    /// (including a name the file does not declare) gets the flag's split; whether `env` may be
    /// evaluated at all is the file's question ([`FlagFile::environments`]), which the engine
    /// answers with an error.
    ///
    /// This is the one statement of the rule: the engine compiles overrides by it, and the
    /// dashboard and the canary controller find an environment's canary or experiment by it.
    pub fn split(&self, env: Option<&str>) -> SplitRef<'_> {
        let own = SplitRef {
            owner: None,
            rollout: self.rollout.as_ref(),
            canary: self.canary.as_ref(),
            experiment: self.experiment.as_ref(),
        };
        env.and_then(|e| self.environments.get_key_value(e)).and_then(|(name, o)| o.split(name)).unwrap_or(own)
    }

    /// The split [`Flag::split`] chooses, to change in place (setting a field sets it where
    /// the split in force is declared: in `env`'s override, or on the flag).
    pub fn split_mut(&mut self, env: Option<&str>) -> SplitMut<'_> {
        let owner = self.split(env).owner.is_some();
        match env.filter(|_| owner).and_then(|e| self.environments.get_mut(e)) {
            Some(o) => SplitMut { rollout: &mut o.rollout, canary: &mut o.canary, experiment: &mut o.experiment },
            None => SplitMut { rollout: &mut self.rollout, canary: &mut self.canary, experiment: &mut self.experiment },
        }
    }
}

/// A flag's split as [`Flag::split`] finds it in force: the `rollout`, `canary` and
/// `experiment` of one place (a valid file sets at most one of them there).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitRef<'a> {
    /// Where the split is declared: the environment whose override sets it, `None` for the
    /// flag's own.
    pub owner: Option<&'a str>,
    pub rollout: Option<&'a Rollout>,
    pub canary: Option<&'a Canary>,
    pub experiment: Option<&'a Experiment>,
}

/// [`SplitRef`]'s mutable form, from [`Flag::split_mut`].
#[derive(Debug)]
pub struct SplitMut<'a> {
    pub rollout: &'a mut Option<Rollout>,
    pub canary: &'a mut Option<Canary>,
    pub experiment: &'a mut Option<Experiment>,
}

/// A named value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Variation {
    pub name: String,
    pub value: Value,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// What an environment replaces. A missing field keeps the flag's base value. Setting any of
/// `rollout`, `canary` or `experiment` replaces the base flag's whole split.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct EnvironmentOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_variation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Target>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<Rule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Experiment>,
}

impl EnvironmentOverride {
    /// Whether this override replaces the flag's split.
    pub fn overrides_split(&self) -> bool {
        self.rollout.is_some() || self.canary.is_some() || self.experiment.is_some()
    }

    /// The split this override (of environment `name`) puts in force, when it replaces the
    /// flag's: [`Flag::split`] for a caller that already holds the override.
    pub fn split<'a>(&'a self, name: &'a str) -> Option<SplitRef<'a>> {
        self.overrides_split().then_some(SplitRef {
            owner: Some(name),
            rollout: self.rollout.as_ref(),
            canary: self.canary.as_ref(),
            experiment: self.experiment.as_ref(),
        })
    }
}

/// An allow list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Target {
    pub variation: String,
    pub keys: Vec<String>,
}

/// A flag that must serve `variation` before this flag evaluates its targeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Prerequisite {
    pub flag: String,
    pub variation: String,
}

/// All clauses must match (AND); then the rule serves `variation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Rule {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub clauses: Vec<Clause>,
    pub variation: String,
}

/// One test of the context. A clause matches when the attribute matches *any* of the values
/// (for list attributes: any element against any value); `negate` inverts the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Clause {
    /// Context attribute name; `targetingKey` is the context's targeting key. Not used by
    /// `in_segment`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attribute: String,
    pub operator: Operator,
    pub values: Vec<Value>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub negate: bool,
    /// For the string operators (in, not_in, eq, contains, starts_with, ends_with, regex).
    #[serde(default, skip_serializing_if = "is_false")]
    pub case_insensitive: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Clause operators. Numbers compare as f64, semvers by semver precedence, dates as instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    In,
    NotIn,
    Eq,
    Contains,
    StartsWith,
    EndsWith,
    Regex,
    NumEq,
    NumLt,
    NumLte,
    NumGt,
    NumGte,
    SemverEq,
    SemverLt,
    SemverLte,
    SemverGt,
    SemverGte,
    DateBefore,
    DateAfter,
    IpInCidr,
    InSegment,
}

impl Operator {
    pub const ALL: [Operator; 21] = [
        Operator::In,
        Operator::NotIn,
        Operator::Eq,
        Operator::Contains,
        Operator::StartsWith,
        Operator::EndsWith,
        Operator::Regex,
        Operator::NumEq,
        Operator::NumLt,
        Operator::NumLte,
        Operator::NumGt,
        Operator::NumGte,
        Operator::SemverEq,
        Operator::SemverLt,
        Operator::SemverLte,
        Operator::SemverGt,
        Operator::SemverGte,
        Operator::DateBefore,
        Operator::DateAfter,
        Operator::IpInCidr,
        Operator::InSegment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::NotIn => "not_in",
            Operator::Eq => "eq",
            Operator::Contains => "contains",
            Operator::StartsWith => "starts_with",
            Operator::EndsWith => "ends_with",
            Operator::Regex => "regex",
            Operator::NumEq => "num_eq",
            Operator::NumLt => "num_lt",
            Operator::NumLte => "num_lte",
            Operator::NumGt => "num_gt",
            Operator::NumGte => "num_gte",
            Operator::SemverEq => "semver_eq",
            Operator::SemverLt => "semver_lt",
            Operator::SemverLte => "semver_lte",
            Operator::SemverGt => "semver_gt",
            Operator::SemverGte => "semver_gte",
            Operator::DateBefore => "date_before",
            Operator::DateAfter => "date_after",
            Operator::IpInCidr => "ip_in_cidr",
            Operator::InSegment => "in_segment",
        }
    }
}

/// A percentage of units served `variation`; the rest fall through to the default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Rollout {
    /// 0..=10000 basis points (10000 = 100 %).
    pub percent_bp: u32,
    pub variation: String,
    /// Context attribute whose value is the unit; default: the targeting key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stickiness: Option<String>,
    /// Hash salt; default: the flag key. Changing it reshuffles who is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// A staged release of `canary` against `baseline`, advanced by health gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Canary {
    /// Variation served to units outside the current stage's percentage.
    pub baseline: String,
    /// The new variation being released.
    pub canary: String,
    /// Strictly increasing percentages, e.g. 1 → 10 → 25 → 50 → 100.
    pub stages: Vec<CanaryStage>,
    /// Index into `stages`.
    #[serde(default)]
    pub current_stage: usize,
    #[serde(default)]
    pub status: CanaryStatus,
    /// When the current stage started (RFC 3339); the controller sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stickiness: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// One canary stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct CanaryStage {
    /// Percent of units on the canary, in (0, 100], at most two decimals (0.01 % steps).
    pub percent: f64,
    /// How long the stage must run before it may advance, e.g. "30s", "10m", "1h", "1h30m".
    pub min_duration: String,
    pub gate: HealthGate,
}

/// What "healthy" means for a stage. The canary arm is judged over the same window as the
/// baseline arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct HealthGate {
    /// Highest acceptable error rate, 0.0..=1.0.
    pub max_error_rate: f64,
    /// Highest acceptable p99 latency in milliseconds.
    pub max_p99_ms: f64,
    /// Fewer canary samples than this is "no data": the stage holds.
    pub min_samples: u64,
}

/// Where a canary is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CanaryStatus {
    /// The controller may advance, hold or roll back.
    #[default]
    Running,
    /// Traffic stays at the current stage; the controller leaves it alone.
    Paused,
    /// Everyone gets the baseline.
    RolledBack,
    /// Everyone gets the canary.
    Completed,
}

impl CanaryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryStatus::Running => "running",
            CanaryStatus::Paused => "paused",
            CanaryStatus::RolledBack => "rolled_back",
            CanaryStatus::Completed => "completed",
        }
    }
}

/// An A/B(/n) experiment: `traffic_bp` of units are enrolled (hashed like a rollout), and
/// enrolled units are split by weight with an independent hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Experiment {
    pub variants: Vec<ExperimentVariant>,
    /// Share of units enrolled, 0..=10000 bp; default 10000. Others get the default variation.
    #[serde(default = "full_traffic")]
    pub traffic_bp: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stickiness: Option<String>,
    /// Enrolment salt (like a rollout's); default: the flag key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Variant-assignment salt; default: `<flag key>/experiment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_salt: Option<String>,
}

/// An experiment's `traffic_bp` when the file leaves it out: everyone is enrolled.
pub const FULL_TRAFFIC_BP: u32 = 10_000;

fn full_traffic() -> u32 {
    FULL_TRAFFIC_BP
}

/// An experiment arm. Weights of all variants sum to 10000.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct ExperimentVariant {
    pub variation: String,
    pub weight_bp: u32,
}

/// A reusable audience: included keys, minus excluded keys, plus anyone matching a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct Segment {
    pub key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub included: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
    /// A unit is in the segment if all clauses of any one rule match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<SegmentRule>,
}

/// Clauses that all must match (segment rules serve no variation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
pub struct SegmentRule {
    pub clauses: Vec<Clause>,
}
