//! Statistics for canary judgement and experiment analysis (feature `analysis`).
//!
//! Every function takes plain numbers, checks them, and returns a [`StatsError`] instead of
//! panicking on NaN, infinities, empty samples or impossible counts. The distributions
//! (normal, Student's t, chi-square) are in [`dist`], which checks their arguments in one
//! place; the special functions under them (`special`) are the engine's own, kept small for the
//! dashboard's bundle.
//!
//! The results match SciPy / statsmodels for the same inputs; `tests/stats_reference.rs`
//! holds the reference values and the Python that produced them. [`sequential`] holds the
//! anytime-valid statistics the canary judgement and the sequential experiment analysis use
//! (reference values: `tests/sequential_reference.rs`, from `scripts/gen-sequential-reference.py`).

pub mod dist;
mod error;
pub mod histogram;
pub mod mann_whitney;
pub mod power;
pub mod proportion;
pub mod sequential;
mod special;
pub mod srm;
pub mod welch;

pub use error::StatsError;
pub use histogram::{Bucket, Histogram, LogMoments};
pub use mann_whitney::{mann_whitney_u, mann_whitney_u_histogram, MannWhitney};
pub use power::{sample_size_means, sample_size_proportions};
pub use proportion::{two_proportion_z_test, Proportion, TwoProportionTest};
pub use sequential::{
    beta_binomial_bound, beta_binomial_confidence, beta_binomial_log_evidence, beta_binomial_trials_to_pass, tuned_prior_variance, BetaPrior,
    CountPair, Interval, NormalMixture, RateRatio,
};
pub use srm::{sample_ratio_mismatch, SampleRatio};
pub use welch::{welch_t_test, SampleSummary, WelchTest};

/// Checks that a confidence level or a significance level is strictly between 0 and 1.
pub(crate) fn check_probability(field: &str, value: f64) -> Result<f64, StatsError> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(StatsError::invalid(field, format!("must be strictly between 0 and 1, got {value}")))
    }
}

/// Checks that a number is finite (not NaN, not infinite).
pub(crate) fn check_finite(field: &str, value: f64) -> Result<f64, StatsError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(StatsError::invalid(field, format!("must be a finite number, got {value}")))
    }
}
