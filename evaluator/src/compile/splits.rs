//! Splits: which share of units a rollout, a canary stage or an experiment serves, and how
//! units are hashed (stickiness, salts). Which split is in force in an environment is the
//! model's rule (`Flag::split`); this checks and prepares the one it names.

use super::{percent_to_bp, Compiler, FlagScope};
use crate::context::TARGETING_KEY;
use crate::duration::parse_duration;
use crate::lookup_table::first_positions;
use crate::model::{Canary, CanaryStatus, Experiment, Rollout, SplitRef};
use crate::problems::Path;
use edgeflag_readers::json_text::{json_quoted as q, number_text};

/// Where the unit for hashing comes from.
#[derive(Debug, Clone)]
pub(crate) enum Stickiness {
    TargetingKey,
    Attribute(String),
}

impl Split {
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn stickiness(&self) -> &Stickiness {
        match self {
            Split::Rollout { stickiness, .. }
            | Split::Canary { stickiness, .. }
            | Split::Experiment { stickiness, .. } => stickiness,
        }
    }
}

impl Stickiness {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn new(attribute: Option<&str>) -> Self {
        match attribute {
            None | Some(TARGETING_KEY) => Stickiness::TargetingKey,
            Some(name) => Stickiness::Attribute(name.to_string()),
        }
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn name(&self) -> &str {
        match self {
            Stickiness::TargetingKey => TARGETING_KEY,
            Stickiness::Attribute(name) => name,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Split {
    Rollout { percent_bp: u32, variation: usize, stickiness: Stickiness, salt: String },
    Canary {
        baseline: usize,
        canary: usize,
        percent_bp: u32,
        status: CanaryStatus,
        stickiness: Stickiness,
        salt: String,
    },
    Experiment {
        /// (variation index, weight in bp)
        variants: Vec<(usize, u32)>,
        traffic_bp: u32,
        stickiness: Stickiness,
        salt: String,
        experiment_salt: String,
    },
}

impl Compiler<'_> {
    /// The split; `Some(None)` when the flag has none, `None` when it is invalid.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn compile_split(&mut self, scope: &FlagScope, parts: SplitRef, path: &Path) -> Option<Option<Split>> {
        let count = parts.rollout.is_some() as u8 + parts.canary.is_some() as u8 + parts.experiment.is_some() as u8;
        if count > 1 {
            self.problems.push(path, "only one of rollout, canary and experiment may be set");
            return None;
        }
        if let Some(rollout) = parts.rollout {
            return self.compile_rollout(scope, rollout, &path.field("rollout")).map(Some);
        }
        if let Some(canary) = parts.canary {
            return self.compile_canary(scope, canary, &path.field("canary")).map(Some);
        }
        if let Some(experiment) = parts.experiment {
            return self.compile_experiment(scope, experiment, &path.field("experiment")).map(Some);
        }
        Some(None)
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn compile_rollout(&mut self, scope: &FlagScope, rollout: &Rollout, path: &Path) -> Option<Split> {
        let before = self.problems_len();
        self.check_bp(rollout.percent_bp, &path.field("percent_bp"));
        let variation = self.variation_ref(scope.variations, &rollout.variation, &path.field("variation"));
        let stickiness = self.stickiness(rollout.stickiness.as_deref(), path);
        let salt = self.salt(rollout.salt.as_deref(), &scope.flag.key, &path.field("salt"));
        (self.problems_len() == before).then_some(Split::Rollout {
            percent_bp: rollout.percent_bp,
            variation: variation?,
            stickiness,
            salt,
        })
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn compile_canary(&mut self, scope: &FlagScope, canary: &Canary, path: &Path) -> Option<Split> {
        let before = self.problems_len();
        let baseline = self.variation_ref(scope.variations, &canary.baseline, &path.field("baseline"));
        let canary_variation = self.variation_ref(scope.variations, &canary.canary, &path.field("canary"));
        if baseline.is_some() && baseline == canary_variation {
            self.problems.push(path.field("canary"), "canary and baseline must be different variations");
        }
        let stages_path = path.field("stages");
        if canary.stages.is_empty() {
            self.problems.push(stages_path, "a canary needs at least one stage");
        }
        let mut percents_bp = Vec::with_capacity(canary.stages.len());
        for (s, stage) in canary.stages.iter().enumerate() {
            let s_path = stages_path.index(s);
            let bp = percent_to_bp(stage.percent);
            match bp {
                Some(bp) if bp > 0 && bp <= 10_000 => {
                    if let Some(&previous) = percents_bp.last() {
                        if bp <= previous {
                            self.problems.push(
                                s_path.field("percent"),
                                format!(
                                    "stage percents must increase: {} after {}",
                                    number_text(stage.percent),
                                    number_text(previous as f64 / 100.0)
                                ),
                            );
                        }
                    }
                    percents_bp.push(bp);
                }
                _ => self.problems.push(
                    s_path.field("percent"),
                    format!("percent must be in (0, 100] with at most two decimals, got {}", number_text(stage.percent)),
                ),
            }
            if let Err(e) = parse_duration(&stage.min_duration) {
                self.problems.push(s_path.field("min_duration"), e);
            }
            let gate_path = s_path.field("gate");
            let gate = &stage.gate;
            if !(0.0..=1.0).contains(&gate.max_error_rate) {
                self.problems.push(
                    gate_path.field("max_error_rate"),
                    format!("max_error_rate is a fraction in [0, 1], got {}", number_text(gate.max_error_rate)),
                );
            }
            if !(gate.max_p99_ms.is_finite() && gate.max_p99_ms > 0.0) {
                self.problems.push(
                    gate_path.field("max_p99_ms"),
                    format!("max_p99_ms must be a positive number of milliseconds, got {}", number_text(gate.max_p99_ms)),
                );
            }
        }
        if !canary.stages.is_empty() && canary.current_stage >= canary.stages.len() {
            self.problems.push(
                path.field("current_stage"),
                format!("current_stage {} is out of range (0..{})", canary.current_stage, canary.stages.len()),
            );
        }
        if let Some(started) = &canary.stage_started_at {
            if edgeflag_readers::rfc3339::parse(started).is_none() {
                self.problems.push(
                    path.field("stage_started_at"),
                    format!("invalid RFC 3339 date-time {}", q(started)),
                );
            }
        }
        let stickiness = self.stickiness(canary.stickiness.as_deref(), path);
        let salt = self.salt(canary.salt.as_deref(), &scope.flag.key, &path.field("salt"));
        if self.problems_len() != before {
            return None;
        }
        Some(Split::Canary {
            baseline: baseline?,
            canary: canary_variation?,
            percent_bp: *percents_bp.get(canary.current_stage)?,
            status: canary.status,
            stickiness,
            salt,
        })
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn compile_experiment(&mut self, scope: &FlagScope, experiment: &Experiment, path: &Path) -> Option<Split> {
        let before = self.problems_len();
        let variants_path = path.field("variants");
        if experiment.variants.is_empty() {
            self.problems.push(variants_path, "an experiment needs at least one variant");
        }
        let mut variants = Vec::with_capacity(experiment.variants.len());
        let first = first_positions(&experiment.variants.iter().map(|v| v.variation.as_str()).collect::<Vec<_>>());
        let mut total: u64 = 0;
        for (v, variant) in experiment.variants.iter().enumerate() {
            let v_path = variants_path.index(v);
            total += variant.weight_bp as u64;
            if variant.weight_bp > 10_000 {
                self.problems.push(v_path.field("weight_bp"), "weight_bp must be at most 10000");
            }
            if first[v] != v {
                self.problems.push(
                    v_path.field("variation"),
                    format!("variation {} appears twice in the experiment", q(&variant.variation)),
                );
            }
            if let Some(index) = self.variation_ref(scope.variations, &variant.variation, &v_path.field("variation")) {
                variants.push((index, variant.weight_bp));
            }
        }
        if !experiment.variants.is_empty() && total != 10_000 {
            self.problems.push(
                variants_path,
                format!("variant weights must sum to 10000 bp (100 %), got {total}"),
            );
        }
        self.check_bp(experiment.traffic_bp, &path.field("traffic_bp"));
        let stickiness = self.stickiness(experiment.stickiness.as_deref(), path);
        let salt = self.salt(experiment.salt.as_deref(), &scope.flag.key, &path.field("salt"));
        let experiment_salt = match &experiment.experiment_salt {
            Some(s) => self.salt(Some(s), &scope.flag.key, &path.field("experiment_salt")),
            None => format!("{}/experiment", scope.flag.key),
        };
        (self.problems_len() == before).then_some(Split::Experiment {
            variants,
            traffic_bp: experiment.traffic_bp,
            stickiness,
            salt,
            experiment_salt,
        })
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn check_bp(&mut self, bp: u32, path: &Path) {
        if bp > 10_000 {
            self.problems.push(path, format!("basis points must be 0..=10000 (100 %), got {bp}"));
        }
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn stickiness(&mut self, attribute: Option<&str>, path: &Path) -> Stickiness {
        if let Some(name) = attribute {
            if name.trim().is_empty() {
                self.problems.push(path.field("stickiness"), "stickiness attribute name is empty");
            }
        }
        Stickiness::new(attribute)
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn salt(&mut self, salt: Option<&str>, key: &str, path: &Path) -> String {
        match salt {
            Some("") => {
                self.problems.push(path, "salt is empty (omit it to use the default)");
                String::new()
            }
            Some(salt) => salt.to_string(),
            None => key.to_string(),
        }
    }
}
