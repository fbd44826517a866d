//! The anytime-valid statistics against `tests/data/sequential_reference.json`, written by
//! `scripts/gen-sequential-reference.py` (SciPy: `betaln`, `quad`, `brentq`; exact dynamic
//! programming over all sample paths for the crossing probabilities). Regenerate with
//! `python3 -m venv v && v/bin/pip install scipy numpy && v/bin/python scripts/gen-sequential-reference.py > evaluator/tests/data/sequential_reference.json`.
#![cfg(feature = "analysis")]

use edgeflag_evaluator::judgement::{analyze_experiment, AnalysisConfig, ConversionArm, ExperimentData, MetricData, MetricValues};
use edgeflag_evaluator::model::{Experiment, ExperimentVariant};
use edgeflag_evaluator::stats::{
    beta_binomial_confidence, beta_binomial_log_evidence, beta_binomial_trials_to_pass, tuned_prior_variance, BetaPrior,
    Bucket, CountPair, Histogram, NormalMixture, RateRatio,
};
use serde_json::Value;

fn reference() -> Value {
    let text = include_str!("data/sequential_reference.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("reference JSON: {e}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[track_caller]
fn close(actual: f64, expected: f64, rel: f64, abs: f64) {
    assert!(
        (actual - expected).abs() <= abs + rel * expected.abs(),
        "got {actual}, expected {expected} (rel {rel}, abs {abs})"
    );
}

fn prior(case: &Value) -> BetaPrior {
    BetaPrior { a: f(&case["a"]), b: f(&case["b"]) }
}

#[test]
fn beta_binomial_evidence_matches_scipy_betaln() {
    for case in reference()["beta_binomial"]["log_evidence"].as_array().into_iter().flatten() {
        let (s, n, p0) = (f(&case["successes"]), f(&case["trials"]), f(&case["p0"]));
        let got = beta_binomial_log_evidence(s, n, p0, prior(case)).unwrap_or(f64::NAN);
        // Differences of large ln Γ terms: ~1e-9 absolute at a million trials.
        close(got, f(&case["log_evidence"]), 1e-10, 1e-8);
        assert_eq!(BetaPrior::centered_on(p0), prior(case), "the prior the judgement uses for {p0}");
    }
}

#[test]
fn beta_binomial_bounds_match_brentq() {
    for case in reference()["beta_binomial"]["bounds"].as_array().into_iter().flatten() {
        let ci = beta_binomial_confidence(u(&case["successes"]), u(&case["trials"]), prior(case), f(&case["alpha"]))
            .unwrap_or_else(|e| panic!("{e}"));
        close(ci.lower, f(&case["lower"]), 1e-8, 1e-15);
        close(ci.upper, f(&case["upper"]), 1e-8, 1e-15);
    }
}

#[test]
fn trials_to_pass_match() {
    for case in reference()["beta_binomial"]["trials_to_pass"].as_array().into_iter().flatten() {
        let got = beta_binomial_trials_to_pass(f(&case["rate"]), f(&case["limit"]), prior(case), f(&case["alpha"]));
        assert_eq!(got, Ok(Some(u(&case["trials"]))), "{case}");
    }
}

/// Exact probability (over every path) that the rate ever looks credibly beyond `p0`.
fn bb_crossing(p_true: f64, p0: f64, prior: BetaPrior, alpha: f64, side: f64, n_max: u64) -> f64 {
    let threshold = (1.0 / alpha).ln();
    let mut alive = vec![1.0f64];
    let mut crossed = 0.0;
    for n in 1..=n_max {
        let mut next = vec![0.0; n as usize + 1];
        for (s, &p) in alive.iter().enumerate() {
            next[s] += p * (1.0 - p_true);
            next[s + 1] += p * p_true;
        }
        for (s, p) in next.iter_mut().enumerate() {
            let beyond = if side > 0.0 { s as f64 > p0 * n as f64 } else { (s as f64) < p0 * n as f64 };
            if beyond && beta_binomial_log_evidence(s as f64, n as f64, p0, prior).unwrap_or(0.0) >= threshold {
                crossed += *p;
                *p = 0.0;
            }
        }
        alive = next;
    }
    crossed
}

#[test]
fn beta_binomial_is_always_valid_exactly() {
    for case in reference()["beta_binomial"]["crossing"].as_array().into_iter().flatten() {
        let (alpha, probability) = (f(&case["alpha"]), f(&case["probability"]));
        assert!(probability <= alpha, "{case}");
        if u(&case["n_max"]) <= 1000 {
            let got = bb_crossing(f(&case["p_true"]), f(&case["p0"]), prior(case), alpha, f(&case["side"]), u(&case["n_max"]));
            close(got, probability, 1e-9, 1e-15);
        }
    }
}

fn segments(case: &Value) -> Vec<CountPair> {
    case["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| CountPair {
            canary_events: u(&s[0]),
            canary_exposure: u(&s[1]),
            baseline_events: u(&s[2]),
            baseline_exposure: u(&s[3]),
        })
        .collect()
}

#[test]
fn rate_ratio_matches_scipy_quad_and_brentq() {
    for case in reference()["rate_ratio"]["cases"].as_array().into_iter().flatten() {
        let ratio = RateRatio::new(&segments(case), f(&case["prior_sd"])).unwrap_or_else(|e| panic!("{e}"));
        let rhos = case["rho0"].as_array().into_iter().flatten();
        for (rho, expected) in rhos.zip(case["log_evidence"].as_array().into_iter().flatten()) {
            let got = ratio.log_evidence(f(rho)).unwrap_or(f64::NAN);
            close(got, f(expected), 1e-9, 1e-9);
        }
        let ci = ratio.confidence(f(&case["alpha"])).unwrap_or_else(|e| panic!("{e}"));
        close(ci.lower, f(&case["lower"]), 1e-7, 1e-12);
        match case["upper"].as_f64() {
            Some(upper) => close(ci.upper, upper, 1e-7, 0.0),
            None => assert!(ci.upper.is_infinite(), "{case}: {ci:?}"),
        }
        let expected = f(&case["estimate"]);
        if (1e-6..1e6).contains(&expected) {
            close(ratio.estimate().unwrap_or(f64::NAN), expected, 1e-6, 0.0);
        } else {
            assert_eq!(ratio.estimate(), None, "{case}");
        }
    }
}

/// Exact probability that, with each event a canary event with probability `pi` (equal rates),
/// the ratio's lower bound ever exceeds `rho0` within `events_max` events.
fn rr_crossing(pi: f64, prior_sd: f64, alpha: f64, events_max: u64, rho0: f64) -> f64 {
    let exposure = |share: f64| (share * 1e6).round() as u64;
    let threshold = (1.0 / alpha).ln();
    let mut alive = vec![1.0f64];
    let mut crossed = 0.0;
    for e in 1..=events_max {
        let mut next = vec![0.0; e as usize + 1];
        for (k, &p) in alive.iter().enumerate() {
            next[k] += p * (1.0 - pi);
            next[k + 1] += p * pi;
        }
        for (k, p) in next.iter_mut().enumerate() {
            if *p == 0.0 {
                continue;
            }
            let pair = CountPair {
                canary_events: k as u64,
                canary_exposure: exposure(pi),
                baseline_events: e - k as u64,
                baseline_exposure: exposure(1.0 - pi),
            };
            let Ok(ratio) = RateRatio::new(&[pair], prior_sd) else { continue };
            if ratio.leans_above(rho0) && ratio.log_evidence(rho0).unwrap_or(0.0) >= threshold {
                crossed += *p;
                *p = 0.0;
            }
        }
        alive = next;
    }
    crossed
}

#[test]
fn rate_ratio_is_always_valid_exactly() {
    for case in reference()["rate_ratio"]["crossing"].as_array().into_iter().flatten() {
        let (alpha, probability) = (f(&case["alpha"]), f(&case["probability"]));
        assert!(probability <= alpha, "{case}");
        if u(&case["events_max"]) <= 150 {
            let got = rr_crossing(f(&case["pi"]), f(&case["prior_sd"]), alpha, u(&case["events_max"]), f(&case["rho0"]));
            // The reference integrates on a fixed grid: agreement to ~1e-6 of alpha.
            close(got, probability, 1e-4, 1e-9);
        }
    }
}

#[test]
fn normal_mixture_matches_the_formulas() {
    let r = reference();
    for case in r["normal_mixture"]["cases"].as_array().into_iter().flatten() {
        let m = NormalMixture::new(f(&case["estimate"]), f(&case["variance"]), f(&case["prior_variance"]))
            .unwrap_or_else(|e| panic!("{e}"));
        close(m.log_evidence(f(&case["theta0"])), f(&case["log_evidence"]), 1e-12, 1e-12);
        close(m.radius(f(&case["alpha"])).unwrap_or(f64::NAN), f(&case["radius"]), 1e-12, 0.0);
    }
    // The same boundary as GrowthBook's asymptotic confidence sequence with the tuned rho.
    for case in r["normal_mixture"]["growthbook"].as_array().into_iter().flatten() {
        let (sigma, n, n_star, alpha) = (f(&case["sigma"]), f(&case["n"]), f(&case["n_star"]), f(&case["alpha"]));
        let prior_variance = tuned_prior_variance(sigma * sigma / n_star, alpha).unwrap_or(f64::NAN);
        close(prior_variance, f(&case["prior_variance"]), 1e-12, 0.0);
        let m = NormalMixture::new(0.0, sigma * sigma / n, prior_variance).unwrap_or_else(|e| panic!("{e}"));
        close(m.radius(alpha).unwrap_or(f64::NAN), f(&case["radius"]), 1e-12, 0.0);
    }
}

#[test]
fn log_moments_match_numpy() {
    for case in reference()["log_moments"].as_array().into_iter().flatten() {
        let buckets = case["buckets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| Bucket { le: b[0].as_f64(), count: u(&b[1]) })
            .collect();
        let m = Histogram { buckets }.log_moments().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.count, u(&case["count"]));
        close(m.mean, f(&case["mean"]), 1e-13, 1e-13);
        close(m.variance, f(&case["variance"]), 1e-12, 0.0);
    }
}

#[test]
fn sequential_experiment_matches() {
    let experiment = Experiment {
        variants: vec![
            ExperimentVariant { variation: "control".into(), weight_bp: 5000 },
            ExperimentVariant { variation: "treatment".into(), weight_bp: 5000 },
        ],
        traffic_bp: 10_000,
        stickiness: None,
        salt: None,
        experiment_salt: None,
    };
    for case in reference()["experiment_sequential"].as_array().into_iter().flatten() {
        let arm = |v: &Value| ConversionArm { units: u(&v[0]), conversions: u(&v[1]) };
        let (control, treatment) = (arm(&case["control"]), arm(&case["treatment"]));
        let data = ExperimentData {
            assignments: [("control".to_string(), control.units), ("treatment".to_string(), treatment.units)].into(),
            metrics: vec![MetricData {
                name: "m".into(),
                higher_is_better: true,
                values: MetricValues::Conversion {
                    arms: [("control".to_string(), control), ("treatment".to_string(), treatment)].into(),
                },
            }],
        };
        let config = AnalysisConfig {
            alpha: f(&case["alpha"]),
            sequential_tuning_units: u(&case["tuning_units"]),
            minimum_detectable_effect: f(&case["mde"]),
            power: f(&case["power"]),
            ..Default::default()
        };
        let report = analyze_experiment(&experiment, &data, &config).unwrap_or_else(|e| panic!("{e}"));
        let c = &report.metrics[0].comparisons[0];
        close(c.p_value.unwrap_or(f64::NAN), f(&case["p_value"]), 1e-10, 1e-300);
        close(c.ci_low.unwrap_or(f64::NAN), f(&case["ci"][0]), 1e-10, 1e-15);
        close(c.ci_high.unwrap_or(f64::NAN), f(&case["ci"][1]), 1e-10, 1e-15);
        close(c.relative_ci_low.unwrap_or(f64::NAN), f(&case["relative_ci"][0]), 1e-10, 1e-15);
        close(c.relative_ci_high.unwrap_or(f64::NAN), f(&case["relative_ci"][1]), 1e-10, 1e-15);
        assert_eq!(c.required_per_arm, Some(u(&case["required_per_arm"])), "{case}");
    }
}
