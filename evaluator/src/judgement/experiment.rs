//! Experiment analysis: per metric, each variation against the control, plus a
//! sample-ratio-mismatch check of the assignment.

use std::collections::BTreeMap;

use edgeflag_readers::json_fields::Field;
use serde::{Deserialize, Serialize};

use super::JudgementError;
use crate::model::Experiment;
use crate::stats::{
    dist, sample_ratio_mismatch, sample_size_means, sample_size_proportions, tuned_prior_variance, two_proportion_z_test,
    welch_t_test, NormalMixture, Proportion, SampleSummary, StatsError,
};

/// Observed data of a running experiment. JSON (snake_case):
/// `{"assignments": {"control": 5012, "treatment": 4988}, "metrics": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentData {
    /// Units assigned (exposed) per variation name, for the sample-ratio check.
    #[serde(default)]
    pub assignments: BTreeMap<String, u64>,
    #[serde(default)]
    pub metrics: Vec<MetricData>,
}

/// One metric's per-variation data. JSON:
/// `{"name": "checkout", "kind": "conversion", "arms": {"control": {"units": 1000, "conversions": 52}}}` or
/// `{"name": "revenue", "kind": "mean", "arms": {"control": {"count": 1000, "mean": 12.3, "variance": 40.1}}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricData {
    pub name: String,
    /// Whether an increase is good (conversions, revenue) or bad (latency, churn). Default true.
    #[serde(default = "yes")]
    pub higher_is_better: bool,
    #[serde(flatten)]
    pub values: MetricValues,
}

fn yes() -> bool {
    true
}

/// The data of a metric, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricValues {
    /// Units that converted, per variation: two-proportion z-test.
    Conversion { arms: BTreeMap<String, ConversionArm> },
    /// Count, mean and sample variance per variation: Welch's t-test.
    Mean { arms: BTreeMap<String, SampleSummary> },
}

impl ExperimentData {
    /// Reads data in the JSON form above (pasted into the dashboard, or built from its metrics),
    /// each bad field named by its path. Without serde's deserializer, for the dashboard's bundle
    /// (`edgeflag_readers::json_fields`); `experiment/tests.rs` holds it against the serde form.
    pub fn decode(f: Field<'_>) -> Result<ExperimentData, String> {
        Ok(ExperimentData {
            assignments: f.field("assignments")?.entries(|n| n.u64())?.into_iter().collect(),
            metrics: f.field("metrics")?.items(MetricData::decode)?,
        })
    }
}

impl MetricData {
    /// One metric, as [`ExperimentData::decode`] reads it: `kind` picks the arms' shape.
    pub fn decode(f: Field<'_>) -> Result<MetricData, String> {
        let arms = f.field("arms")?.present()?;
        let kind = f.field("kind")?;
        let values = match kind.string()?.as_str() {
            "conversion" => MetricValues::Conversion {
                arms: arms
                    .entries(|a| Ok(ConversionArm { units: a.field("units")?.u64()?, conversions: a.field("conversions")?.u64()? }))?
                    .into_iter()
                    .collect(),
            },
            "mean" => MetricValues::Mean {
                arms: arms
                    .entries(|a| {
                        Ok(SampleSummary {
                            count: a.field("count")?.u64()?,
                            mean: a.field("mean")?.f64()?,
                            variance: a.field("variance")?.f64()?,
                        })
                    })?
                    .into_iter()
                    .collect(),
            },
            other => return Err(kind.invalid(&format!("\"conversion\" or \"mean\", not {other:?}"))),
        };
        Ok(MetricData { name: f.field("name")?.string()?, higher_is_better: f.field("higher_is_better")?.bool_or(true)?, values })
    }
}

/// Conversions out of units for one variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversionArm {
    pub units: u64,
    pub conversions: u64,
}

/// Analysis settings; every field has a default, so `{}` is valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisConfig {
    /// The control variation; default: the experiment's first variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// Family-wise significance level, in (0, 1). Default 0.05.
    pub alpha: f64,
    /// Power for the sample-size estimate, in (0, 1). Default 0.8.
    pub power: f64,
    /// Minimum detectable effect, relative to the control value (0.05 = 5 %). Default 0.05.
    pub minimum_detectable_effect: f64,
    /// Significance level of the sample-ratio-mismatch check. Default 0.001.
    pub srm_alpha: f64,
    /// Divide `alpha` by the number of treatment variations (Bonferroni). Default true.
    pub bonferroni: bool,
    /// `sequential` (default): always-valid p-values and confidence sequences, so the results
    /// may be looked at after every refresh without raising the false-winner rate.
    /// `fixed_horizon`: the classical z / Welch tests, valid only when read once, at a sample
    /// size fixed in advance.
    pub method: AnalysisMethod,
    /// Sequential mode: the units per arm at which the confidence sequence is narrowest (its
    /// mixture is tuned there; it is valid at every size). Default 5000.
    pub sequential_tuning_units: u64,
}

/// How `analyze_experiment` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisMethod {
    /// Normal-mixture SPRT (always-valid p-value min(1, 1/Λ)) and its confidence sequence.
    Sequential,
    /// Two-proportion z-test / Welch's t-test and their confidence intervals.
    FixedHorizon,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            control: None,
            alpha: 0.05,
            power: 0.8,
            minimum_detectable_effect: 0.05,
            srm_alpha: 0.001,
            bonferroni: true,
            method: AnalysisMethod::Sequential,
            sequential_tuning_units: 5000,
        }
    }
}

impl AnalysisConfig {
    pub fn validate(&self) -> Result<(), JudgementError> {
        for (path, value) in [("config.alpha", self.alpha), ("config.power", self.power), ("config.srm_alpha", self.srm_alpha)] {
            if !(value > 0.0 && value < 1.0) {
                return Err(JudgementError::new(path, format!("must be in (0, 1), got {value}")));
            }
        }
        if self.sequential_tuning_units == 0 {
            return Err(JudgementError::new("config.sequential_tuning_units", "must be at least 1"));
        }
        if !(self.minimum_detectable_effect.is_finite() && self.minimum_detectable_effect > 0.0) {
            return Err(JudgementError::new(
                "config.minimum_detectable_effect",
                format!("must be a finite number > 0, got {}", self.minimum_detectable_effect),
            ));
        }
        Ok(())
    }
}

/// The whole analysis. JSON is snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentReport {
    pub control: String,
    /// The test used (`sequential` or `fixed_horizon`).
    pub method: AnalysisMethod,
    /// Significance level of each comparison (after the Bonferroni correction).
    pub alpha: f64,
    pub sample_ratio: SampleRatioCheck,
    pub metrics: Vec<MetricReport>,
}

/// Outcome of the sample-ratio-mismatch check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SrmStatus {
    Ok,
    /// The split does not match the weights: assignment is broken, results untrustworthy.
    Mismatch,
    NoData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRatioCheck {
    pub status: SrmStatus,
    /// Variation names, in the order of `observed` and `expected` (experiment variants, then
    /// any assigned variation the experiment does not have, with weight 0).
    pub variations: Vec<String>,
    pub observed: Vec<u64>,
    pub expected: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chi_square: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    Conversion,
    Mean,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricReport {
    pub metric: String,
    pub kind: MetricKind,
    pub higher_is_better: bool,
    /// One per non-control variation, in experiment order.
    pub comparisons: Vec<Comparison>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonStatus {
    /// p < alpha.
    Significant,
    NotSignificant,
    /// The test is undefined for the data (e.g. zero variance in both arms).
    Inconclusive,
    /// Missing arm, too few units, or unusable values.
    NoData,
}

/// One variation against the control on one metric. Lifts are treatment − control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub variation: String,
    pub status: ComparisonStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treatment_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absolute_lift: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_lift: Option<f64>,
    /// Confidence interval (1 − alpha) of the absolute lift; in sequential mode, the
    /// confidence sequence at this look (valid at every look at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_high: Option<f64>,
    /// Delta-method confidence interval of the relative lift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_ci_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_ci_high: Option<f64>,
    /// Two-sided p-value; in sequential mode the always-valid p-value min(1, 1/Λ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// The better variation, only when significant and the sample ratio is not broken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
    /// Units per arm needed to detect the configured minimum detectable effect with the
    /// configured power (in sequential mode: for the confidence sequence to exclude 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_per_arm: Option<u64>,
    /// How many more units the smaller of the two arms still needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_per_arm: Option<u64>,
    pub reason: String,
}

impl Comparison {
    fn empty(variation: &str, status: ComparisonStatus, reason: String) -> Self {
        Comparison {
            variation: variation.to_owned(),
            status,
            control_value: None,
            treatment_value: None,
            absolute_lift: None,
            relative_lift: None,
            ci_low: None,
            ci_high: None,
            relative_ci_low: None,
            relative_ci_high: None,
            p_value: None,
            winner: None,
            required_per_arm: None,
            remaining_per_arm: None,
            reason,
        }
    }
}

/// The numbers common to both tests, before the verdict.
struct TestSummary {
    control_value: f64,
    treatment_value: f64,
    difference: f64,
    relative_lift: Option<f64>,
    ci: (f64, f64),
    relative_ci: (Option<f64>, Option<f64>),
    p_value: f64,
    units: (u64, u64),
    required_per_arm: Option<u64>,
}

/// Analyses every metric of `data` for `experiment`. Errors only for an unusable setup
/// (fewer than two variants, an unknown control, an invalid config).
pub fn analyze_experiment(
    experiment: &Experiment,
    data: &ExperimentData,
    config: &AnalysisConfig,
) -> Result<ExperimentReport, JudgementError> {
    config.validate()?;
    if experiment.variants.len() < 2 {
        return Err(JudgementError::new("experiment.variants", "need at least two variants to compare"));
    }
    let control = match &config.control {
        Some(name) if experiment.variants.iter().any(|v| &v.variation == name) => name.clone(),
        Some(name) => {
            return Err(JudgementError::new("config.control", format!("{name:?} is not a variant of the experiment")))
        }
        None => match experiment.variants.first() {
            Some(first) => first.variation.clone(),
            None => return Err(JudgementError::new("experiment.variants", "no variants")),
        },
    };
    let treatments: Vec<&str> =
        experiment.variants.iter().map(|v| v.variation.as_str()).filter(|name| *name != control).collect();
    let alpha = if config.bonferroni && treatments.len() > 1 { config.alpha / treatments.len() as f64 } else { config.alpha };
    let sample_ratio = check_sample_ratio(experiment, data, config.srm_alpha);
    let srm_broken = sample_ratio.status == SrmStatus::Mismatch;
    let metrics = data
        .metrics
        .iter()
        .map(|metric| MetricReport {
            metric: metric.name.clone(),
            kind: match metric.values {
                MetricValues::Conversion { .. } => MetricKind::Conversion,
                MetricValues::Mean { .. } => MetricKind::Mean,
            },
            higher_is_better: metric.higher_is_better,
            comparisons: treatments
                .iter()
                .map(|treatment| compare(metric, &control, treatment, alpha, config, srm_broken))
                .collect(),
        })
        .collect();
    Ok(ExperimentReport { control, method: config.method, alpha, sample_ratio, metrics })
}

/// Chi-square of assigned units against the variant weights.
pub fn check_sample_ratio(experiment: &Experiment, data: &ExperimentData, srm_alpha: f64) -> SampleRatioCheck {
    let mut variations: Vec<String> = experiment.variants.iter().map(|v| v.variation.clone()).collect();
    let mut weights: Vec<f64> = experiment.variants.iter().map(|v| f64::from(v.weight_bp)).collect();
    for name in data.assignments.keys() {
        if !variations.contains(name) {
            variations.push(name.clone());
            weights.push(0.0);
        }
    }
    let observed: Vec<u64> = variations.iter().map(|name| data.assignments.get(name).copied().unwrap_or(0)).collect();
    match sample_ratio_mismatch(&observed, &weights, srm_alpha) {
        Ok(result) => {
            let reason = if result.unexpected_units > 0 {
                format!("{} units were assigned to variations with weight 0", result.unexpected_units)
            } else if result.mismatch {
                format!("the split does not match the weights (chi-square p = {:.2e} < {srm_alpha}); assignment looks broken", result.p_value)
            } else {
                format!("the split matches the weights (chi-square p = {:.3})", result.p_value)
            };
            SampleRatioCheck {
                status: if result.mismatch { SrmStatus::Mismatch } else { SrmStatus::Ok },
                variations,
                observed,
                expected: result.expected,
                chi_square: Some(result.chi_square),
                p_value: Some(result.p_value),
                reason,
            }
        }
        Err(e) => SampleRatioCheck {
            status: SrmStatus::NoData,
            variations,
            observed,
            expected: Vec::new(),
            chi_square: None,
            p_value: None,
            reason: format!("sample ratio not checked: {e}"),
        },
    }
}

fn compare(metric: &MetricData, control: &str, treatment: &str, alpha: f64, config: &AnalysisConfig, srm_broken: bool) -> Comparison {
    let summary = match &metric.values {
        MetricValues::Conversion { arms } => match (arms.get(control), arms.get(treatment)) {
            (Some(c), Some(t)) => conversion_test(c, t, alpha, config),
            _ => Err(missing_arm(control, treatment)),
        },
        MetricValues::Mean { arms } => match (arms.get(control), arms.get(treatment)) {
            (Some(c), Some(t)) => mean_test(c, t, alpha, config),
            _ => Err(missing_arm(control, treatment)),
        },
    };
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            let status = match e {
                StatsError::Degenerate { .. } => ComparisonStatus::Inconclusive,
                _ => ComparisonStatus::NoData,
            };
            return Comparison::empty(treatment, status, format!("{}: {e}", metric.name));
        }
    };
    let significant = summary.p_value < alpha;
    let better = if (summary.difference > 0.0) == metric.higher_is_better { treatment } else { control };
    let winner = (significant && !srm_broken && summary.difference != 0.0).then(|| better.to_owned());
    let remaining = summary.required_per_arm.map(|n| n.saturating_sub(summary.units.0.min(summary.units.1)));
    let reason = match (&winner, significant) {
        (Some(w), _) => format!("{w} wins on {} (p = {:.3e} < {alpha})", metric.name, summary.p_value),
        (None, true) => format!(
            "significant (p = {:.3e}) but no winner: the sample ratio does not match the weights",
            summary.p_value
        ),
        (None, false) => match remaining {
            Some(n) if n > 0 => format!("not significant (p = {:.3}); about {n} more units per arm needed", summary.p_value),
            _ => format!("not significant (p = {:.3})", summary.p_value),
        },
    };
    Comparison {
        variation: treatment.to_owned(),
        status: if significant { ComparisonStatus::Significant } else { ComparisonStatus::NotSignificant },
        control_value: Some(summary.control_value),
        treatment_value: Some(summary.treatment_value),
        absolute_lift: Some(summary.difference),
        relative_lift: summary.relative_lift,
        ci_low: Some(summary.ci.0),
        ci_high: Some(summary.ci.1),
        relative_ci_low: summary.relative_ci.0,
        relative_ci_high: summary.relative_ci.1,
        p_value: Some(summary.p_value),
        winner,
        required_per_arm: summary.required_per_arm,
        remaining_per_arm: remaining,
        reason,
    }
}

fn missing_arm(control: &str, treatment: &str) -> StatsError {
    StatsError::NotEnoughData { message: format!("no data for {control:?} or {treatment:?}") }
}

fn conversion_test(c: &ConversionArm, t: &ConversionArm, alpha: f64, config: &AnalysisConfig) -> Result<TestSummary, StatsError> {
    if config.method == AnalysisMethod::Sequential {
        return sequential_conversion(c, t, alpha, config);
    }
    let test = two_proportion_z_test(Proportion::new(c.conversions, c.units), Proportion::new(t.conversions, t.units), 1.0 - alpha)?;
    // Undefined for a 0 % control rate (a relative effect of nothing): reported as unknown.
    let required = sample_size_proportions(test.control_rate, config.minimum_detectable_effect, alpha, config.power).ok();
    Ok(TestSummary {
        control_value: test.control_rate,
        treatment_value: test.treatment_rate,
        difference: test.difference,
        relative_lift: test.relative_lift,
        ci: (test.ci_low, test.ci_high),
        relative_ci: (test.relative_ci_low, test.relative_ci_high),
        p_value: test.p_value,
        units: (c.units, t.units),
        required_per_arm: required,
    })
}

fn mean_test(c: &SampleSummary, t: &SampleSummary, alpha: f64, config: &AnalysisConfig) -> Result<TestSummary, StatsError> {
    if config.method == AnalysisMethod::Sequential {
        return sequential_mean(c, t, alpha, config);
    }
    let test = welch_t_test(c, t, 1.0 - alpha)?;
    let mde = config.minimum_detectable_effect * c.mean.abs();
    let required = sample_size_means(c.variance.sqrt(), mde, alpha, config.power).ok();
    Ok(TestSummary {
        control_value: test.control_mean,
        treatment_value: test.treatment_mean,
        difference: test.difference,
        relative_lift: test.relative_lift,
        ci: (test.ci_low, test.ci_high),
        relative_ci: (test.relative_ci_low, test.relative_ci_high),
        p_value: test.p_value,
        units: (c.count, t.count),
        required_per_arm: required,
    })
}

/// The pieces of a sequential comparison of treatment − control.
struct Difference {
    control: f64,
    treatment: f64,
    units: (u64, u64),
    /// Variance of the difference of the two estimates.
    variance: f64,
    /// Per-unit variances of the two arms added (the variance at one unit per arm).
    unit_variance: f64,
    /// Relative lift and its delta-method variance, when the control value is not 0.
    relative: Option<(f64, f64)>,
    /// Per-unit variance at the minimum detectable effect, for the sample size.
    unit_variance_at_mde: Option<f64>,
}

fn sequential_conversion(c: &ConversionArm, t: &ConversionArm, alpha: f64, config: &AnalysisConfig) -> Result<TestSummary, StatsError> {
    let p_c = Proportion::new(c.conversions, c.units).rate("control")?;
    let p_t = Proportion::new(t.conversions, t.units).rate("treatment")?;
    let (n_c, n_t) = (c.units as f64, t.units as f64);
    let (var_c, var_t) = (p_c * (1.0 - p_c) / n_c, p_t * (1.0 - p_t) / n_t);
    let (mut variance, mut unit_variance) = (var_c + var_t, p_c * (1.0 - p_c) + p_t * (1.0 - p_t));
    if variance <= 0.0 {
        // All-or-nothing arms: the pooled rate's variance, as the pooled z-test has.
        let pooled = (c.conversions as f64 + t.conversions as f64) / (n_c + n_t);
        variance = pooled * (1.0 - pooled) * (1.0 / n_c + 1.0 / n_t);
        unit_variance = 2.0 * pooled * (1.0 - pooled);
    }
    let relative = (p_c > 0.0).then(|| ((p_t - p_c) / p_c, var_t / (p_c * p_c) + p_t * p_t * var_c / p_c.powi(4)));
    let p2 = p_c * (1.0 + config.minimum_detectable_effect);
    let unit_variance_at_mde = (p2 > 0.0 && p2 < 1.0).then_some(p_c * (1.0 - p_c) + p2 * (1.0 - p2));
    sequential(
        Difference { control: p_c, treatment: p_t, units: (c.units, t.units), variance, unit_variance, relative, unit_variance_at_mde },
        alpha,
        config,
    )
}

fn sequential_mean(c: &SampleSummary, t: &SampleSummary, alpha: f64, config: &AnalysisConfig) -> Result<TestSummary, StatsError> {
    // The same input checks and degenerate cases as Welch's test.
    welch_t_test(c, t, 1.0 - alpha)?;
    let (var_c, var_t) = (c.variance / c.count as f64, t.variance / t.count as f64);
    let relative = (c.mean != 0.0).then(|| {
        let ratio = t.mean / c.mean;
        ((t.mean - c.mean) / c.mean.abs(), var_t / (c.mean * c.mean) + ratio * ratio * var_c / (c.mean * c.mean))
    });
    sequential(
        Difference {
            control: c.mean,
            treatment: t.mean,
            units: (c.count, t.count),
            variance: var_c + var_t,
            unit_variance: c.variance + t.variance,
            relative,
            unit_variance_at_mde: Some(2.0 * c.variance),
        },
        alpha,
        config,
    )
}

/// The normal-mixture SPRT of the difference, its mixture tuned (in units of the per-unit
/// variance, as Waudby-Smith et al.'s asymptotic confidence sequences and GrowthBook) to be
/// narrowest at `sequential_tuning_units` per arm.
fn sequential(d: Difference, alpha: f64, config: &AnalysisConfig) -> Result<TestSummary, StatsError> {
    let difference = d.treatment - d.control;
    let tuning = config.sequential_tuning_units as f64;
    let prior_variance = if d.unit_variance > 0.0 { Some(tuned_prior_variance(d.unit_variance / tuning, alpha)?) } else { None };
    let (p_value, ci, radius) = if let (true, Some(prior_variance)) = (d.variance > 0.0, prior_variance) {
        let mixture = NormalMixture::new(difference, d.variance, prior_variance)?;
        let radius = mixture.radius(alpha)?;
        (mixture.p_value(0.0), (difference - radius, difference + radius), radius)
    } else {
        // Both arms identical and without spread (all 0 % or all 100 %): no evidence at all.
        (1.0, (difference, difference), 0.0)
    };
    let relative_ci = match d.relative {
        Some((lift, v_rel)) if d.variance > 0.0 => {
            let r = radius * (v_rel / d.variance).sqrt();
            (Some(lift - r), Some(lift + r))
        }
        _ => (None, None),
    };
    let effect = config.minimum_detectable_effect * d.control.abs();
    let required = d
        .unit_variance_at_mde
        .zip(prior_variance)
        .and_then(|(unit, prior_variance)| units_to_detect(effect, unit, prior_variance, alpha, config.power));
    Ok(TestSummary {
        control_value: d.control,
        treatment_value: d.treatment,
        difference,
        relative_lift: d.relative.map(|(lift, _)| lift),
        ci,
        relative_ci,
        p_value,
        units: d.units,
        required_per_arm: required,
    })
}

/// Units per arm at which a true `effect` is outside the confidence sequence with probability
/// `power`: the smallest n with effect ≥ r(v/n) + z_power √(v/n).
fn units_to_detect(effect: f64, unit_variance: f64, prior_variance: f64, alpha: f64, power: f64) -> Option<u64> {
    if !(effect > 0.0 && unit_variance > 0.0 && prior_variance > 0.0) {
        return None;
    }
    let z = dist::normal_quantile(power).ok()?;
    let detects = |n: f64| {
        let v = unit_variance / n;
        NormalMixture::new(0.0, v, prior_variance)
            .and_then(|m| m.radius(alpha))
            .is_ok_and(|r| effect >= r + z * v.sqrt())
    };
    let mut high = 1.0f64;
    while !detects(high) {
        high *= 2.0;
        if high > 1e15 {
            return None;
        }
    }
    let mut low = high / 2.0;
    while high - low > 1.0 {
        let mid = (0.5 * (low + high)).floor();
        if detects(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    Some(high as u64)
}

#[cfg(test)]
mod tests;
