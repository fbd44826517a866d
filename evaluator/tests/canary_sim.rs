//! The short, seeded form of the canary simulation (the full grid is
//! `examples/canary_sim.rs`, results in evaluator/ANALYSIS.md). It drives the real
//! `canary_input` → `CanaryMonitor::judge` loop and `analyze_experiment`, and asserts the
//! issue's goals. Seeds are fixed, so it is deterministic; the row sizes leave each assertion
//! several standard errors from its threshold, so a change to the sampling code that only
//! reshuffles the random streams does not flip it.
#![cfg(feature = "analysis")]

mod sim;

use edgeflag_evaluator::judgement::{AnalysisMethod, CanaryPolicy, LowTraffic};
use sim::{Cell, Hold, Variant, ERRORS_2X, HEALTHY, SLOWER_30};

fn cell(traffic: f64, tick_s: u64, variant: Variant, low_traffic: LowTraffic) -> Cell {
    Cell {
        traffic,
        tick_s,
        stage_minutes: 2,
        hold: Hold::None,
        variant,
        policy: CanaryPolicy { low_traffic, ..CanaryPolicy::default() },
        horizon_s: 6 * 3600,
    }
}

fn run(cell: &Cell, runs: usize, seed: u64) -> sim::Row {
    sim::run_row(cell, runs, seed, 2, &|_| {})
}

#[test]
fn healthy_canaries_are_almost_never_rolled_back() {
    // Goal: at most 1 % of whole canaries. The guarantee is alpha = 1 %; the realized rate in
    // the full grid is a few per thousand.
    for (traffic, low_traffic, runs) in
        [(100.0, LowTraffic::AdvanceOnTime, 300), (1000.0, LowTraffic::Hold, 300), (10.0, LowTraffic::AdvanceOnTime, 200)]
    {
        let row = run(&cell(traffic, 10, HEALTHY, low_traffic), runs, 1800 + traffic as u64);
        assert!(row.rollback_rate() <= 0.01, "{traffic} req/s {low_traffic:?}: {} of {runs} rolled back", row.rolled_back());
        // And they finish: every stage advances.
        assert!(row.completed() as f64 >= 0.98 * runs as f64, "{traffic} req/s: only {} of {runs} completed", row.completed());
    }
}

#[test]
fn twice_the_errors_at_100_per_second_is_rolled_back_within_5_minutes() {
    // Goal: at least 95 % rolled back, median detection at most 5 minutes. Met when stages
    // advance on time; under `hold` the canary waits at 1 % (its 2 % error rate can never be
    // proven below the 2 % gate) and is rolled back there, later but after fewer requests.
    let row = run(&cell(100.0, 3, ERRORS_2X, LowTraffic::AdvanceOnTime), 200, 2100);
    assert!(row.rollback_rate() >= 0.95, "{} of 200 rolled back", row.rolled_back());
    let median = row.rollback_quantile(0.5).unwrap_or(u64::MAX);
    assert!(median <= 300, "median detection {median} s");
    let held = run(&cell(100.0, 10, ERRORS_2X, LowTraffic::Hold), 100, 2200);
    assert!(held.rollback_rate() >= 0.95, "hold: {} of 100 rolled back", held.rolled_back());
    // A gate passes wrongly with probability at most pass_risk (5 %): nearly all stay at 1 %.
    let at_one_percent = held.runs.iter().filter(|r| r.stage == 0).count();
    assert!(at_one_percent >= 90, "hold: {at_one_percent} of 100 rolled back from the 1 % stage");
}

#[test]
fn a_thirty_percent_slower_canary_is_rolled_back() {
    // Goal: at least 90 % rolled back.
    let row = run(&cell(100.0, 10, SLOWER_30, LowTraffic::Hold), 200, 2300);
    assert!(row.rollback_rate() >= 0.95, "{} of 200 rolled back", row.rolled_back());
    assert!(row.rollback_quantile(0.5).is_some_and(|t| t <= 600), "{:?}", row.rollback_quantile(0.5));
}

#[test]
fn peeking_at_experiments_inflates_only_the_fixed_horizon_test() {
    // A/A, looked at every 100 units per arm up to 5,000: the fixed-horizon test finds a winner
    // far more often than its 5 %; the sequential default stays under 5 %.
    let fixed = sim::winner_rate(0.10, 0.10, 100, 5000, AnalysisMethod::FixedHorizon, 200, 2400);
    let sequential = sim::winner_rate(0.10, 0.10, 100, 5000, AnalysisMethod::Sequential, 200, 2400);
    assert!(fixed >= 0.10, "fixed-horizon false winners {fixed}");
    assert!(sequential <= 0.05, "sequential false winners {sequential}");
    // And it still finds a real +20 % lift most of the time.
    let power = sim::winner_rate(0.10, 0.12, 100, 5000, AnalysisMethod::Sequential, 100, 2500);
    assert!(power >= 0.6, "sequential power {power}");
}
