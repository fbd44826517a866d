//! The canary and experiment simulation grid (evaluator/ANALYSIS.md, "Evidence").
//!
//! ```text
//! cargo run --release -p edgeflag-evaluator --features analysis --example canary_sim -- --full
//! ```
//!
//! Options: `--full` (2,000 canaries per row; default 200), `--runs N`, `--held-runs N` (the
//! 24-hour rows: 28,800 judgements per canary at 3 s; default: as `--runs`), `--threads N`
//! (default 1; results do not depend on it), `--seed S` (default 18), `--only TEXT` (rows whose
//! label contains TEXT), `--no-experiments`. Prints one progress line per row on stderr and the
//! Markdown tables on stdout.

#[path = "../tests/sim/mod.rs"]
mod sim;

use std::io::Write;

use edgeflag_evaluator::judgement::{AnalysisMethod, CanaryPolicy, CheckKind, LowTraffic};
use sim::{Cell, Hold, Row, Variant, ERRORS_2X, HEALTHY, SLOWER_30};

struct Options {
    runs: usize,
    held_runs: Option<usize>,
    threads: usize,
    seed: u64,
    only: Option<String>,
    experiments: bool,
}

fn options() -> Options {
    let mut o = Options { runs: 200, held_runs: None, threads: 1, seed: 18, only: None, experiments: true };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match arg.as_str() {
            "--full" => o.runs = 2000,
            "--runs" => o.runs = value("--runs").parse().unwrap_or_else(|e| panic!("--runs: {e}")),
            "--held-runs" => o.held_runs = Some(value("--held-runs").parse().unwrap_or_else(|e| panic!("--held-runs: {e}"))),
            "--threads" => o.threads = value("--threads").parse().unwrap_or_else(|e| panic!("--threads: {e}")),
            "--seed" => o.seed = value("--seed").parse().unwrap_or_else(|e| panic!("--seed: {e}")),
            "--only" => o.only = Some(value("--only")),
            "--no-experiments" => o.experiments = false,
            other => panic!("unknown option {other}; see the comment at the top of examples/canary_sim.rs"),
        }
    }
    o
}

fn policy(low_traffic: LowTraffic) -> CanaryPolicy {
    CanaryPolicy { low_traffic, ..CanaryPolicy::default() }
}

fn variant_name(v: Variant) -> &'static str {
    if v == HEALTHY {
        "A/A"
    } else if v == ERRORS_2X {
        "errors 2×"
    } else {
        "latency +30 %"
    }
}

fn label(cell: &Cell) -> String {
    let stage = match cell.hold {
        Hold::None => format!("{} min stages", cell.stage_minutes),
        Hold::OneStage => "held 24 h".into(),
        Hold::PausedHourly => "held 24 h, paused hourly".into(),
    };
    format!(
        "{} | {} req/s | tick {} s | {stage} | {}",
        variant_name(cell.variant),
        cell.traffic,
        cell.tick_s,
        cell.policy.low_traffic.as_str()
    )
}

fn duration(seconds: Option<u64>) -> String {
    match seconds {
        None => "–".into(),
        Some(s) if s < 3600 => format!("{:.1} min", s as f64 / 60.0),
        Some(s) => format!("{:.1} h", s as f64 / 3600.0),
    }
}

fn percent(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

fn checks(row: &Row) -> String {
    let name = |k: CheckKind| match k {
        CheckKind::ErrorRate => "error gate",
        CheckKind::P99Latency => "p99 gate",
        CheckKind::ErrorRateVsBaseline => "errors vs baseline",
        CheckKind::LatencyVsBaseline => "latency vs baseline",
        CheckKind::Samples => "samples",
    };
    let parts: Vec<String> = row.failed_checks().into_iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{} {n}", name(k))).collect();
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join(", ")
    }
}

fn main() {
    let o = options();
    let mut cells = Vec::new();
    for variant in [HEALTHY, ERRORS_2X, SLOWER_30] {
        for low_traffic in [LowTraffic::Hold, LowTraffic::AdvanceOnTime] {
            for traffic in [10.0, 100.0, 1000.0] {
                for tick_s in [3, 10] {
                    for stage_minutes in [2, 10] {
                        cells.push(Cell {
                            traffic,
                            tick_s,
                            stage_minutes,
                            hold: Hold::None,
                            variant,
                            policy: policy(low_traffic),
                            horizon_s: 24 * 3600,
                        });
                    }
                }
            }
        }
    }
    for hold in [Hold::OneStage, Hold::PausedHourly] {
        for traffic in [10.0, 100.0, 1000.0] {
            for tick_s in [3, 10] {
                if hold == Hold::PausedHourly && tick_s == 10 {
                    continue;
                }
                cells.push(Cell {
                    traffic,
                    tick_s,
                    stage_minutes: 0,
                    hold,
                    variant: HEALTHY,
                    policy: policy(LowTraffic::Hold),
                    horizon_s: 24 * 3600,
                });
            }
        }
    }
    cells.retain(|c| o.only.as_ref().is_none_or(|f| label(c).contains(f.as_str())));

    println!("Command: `cargo run --release -p edgeflag-evaluator --features analysis --example canary_sim -- {}`", std::env::args().skip(1).collect::<Vec<_>>().join(" "));
    let held_runs = o.held_runs.unwrap_or(o.runs);
    println!(
        "{} canaries per row ({held_runs} in the 24-hour rows), seeds from {}, default policy unless the row says otherwise.\n",
        o.runs, o.seed
    );
    let mut aa = Vec::new();
    let mut regressions = Vec::new();
    let mut held = Vec::new();
    let total = cells.len();
    for (i, cell) in cells.iter().enumerate() {
        let name = label(cell);
        let runs = if cell.hold == Hold::None { o.runs } else { held_runs };
        let progress = |done: usize| {
            if done.is_multiple_of(50) || done == runs {
                eprint!("\r[row {}/{total}] {name}: {done}/{runs} canaries   ", i + 1);
                let _ = std::io::stderr().flush();
            }
        };
        let row = sim::run_row(cell, runs, o.seed.wrapping_mul(1_000_003).wrapping_add(i as u64 * 100_000), o.threads, &progress);
        eprintln!("\r[row {}/{total}] {name}: {} rolled back, {:.0} s   ", i + 1, row.rolled_back(), row.seconds);
        match (cell.hold, cell.variant == HEALTHY) {
            (Hold::None, true) => aa.push((cell.clone(), row)),
            (Hold::None, false) => regressions.push((cell.clone(), row)),
            _ => held.push((cell.clone(), row)),
        }
    }

    if !aa.is_empty() {
        println!("### Healthy canaries (A/A): whole canaries rolled back\n");
        println!("| low_traffic | traffic | tick | stages | rolled back | completed | median time to complete | p90 | failed checks |");
        println!("|---|---|---|---|---|---|---|---|---|");
        for (c, r) in &aa {
            println!(
                "| {} | {} req/s | {} s | {} min | {} | {} | {} | {} | {} |",
                c.policy.low_traffic.as_str(),
                c.traffic,
                c.tick_s,
                c.stage_minutes,
                percent(r.rollback_rate()),
                percent(r.completed() as f64 / r.runs.len() as f64),
                duration(r.completion_quantile(0.5)),
                duration(r.completion_quantile(0.9)),
                checks(r)
            );
        }
        println!();
    }
    if !held.is_empty() {
        println!("### Healthy canaries held in one stage (1 %) for 24 h, judged every tick\n");
        println!("| hold | traffic | tick | rolled back by 1 h | by 6 h | by 24 h | judgements per canary | failed checks |");
        println!("|---|---|---|---|---|---|---|---|");
        for (c, r) in &held {
            let ticks = r.runs.iter().map(|x| x.ticks).sum::<u64>() / r.runs.len().max(1) as u64;
            println!(
                "| {} | {} req/s | {} s | {} | {} | {} | {ticks} | {} |",
                if c.hold == Hold::OneStage { "held" } else { "paused 10 min hourly, resumed" },
                c.traffic,
                c.tick_s,
                percent(r.rolled_back_by(3600)),
                percent(r.rolled_back_by(6 * 3600)),
                percent(r.rollback_rate()),
                checks(r)
            );
        }
        println!();
    }
    if !regressions.is_empty() {
        println!("### Regressions: rolled back, and when (time from the canary's start)\n");
        println!("| canary | low_traffic | traffic | tick | stages | rolled back | median detection | p90 | rolled back by 5 min | stage at rollback (median, 0-based) | canary requests served (median) | failed checks |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (c, r) in &regressions {
            let mut stages: Vec<usize> = r.runs.iter().filter(|x| x.rolled_back_at.is_some()).map(|x| x.stage).collect();
            stages.sort_unstable();
            let mut served: Vec<u64> = r.runs.iter().map(|x| x.canary_requests).collect();
            served.sort_unstable();
            println!(
                "| {} | {} | {} req/s | {} s | {} min | {} | {} | {} | {} | {} | {} | {} |",
                variant_name(c.variant),
                c.policy.low_traffic.as_str(),
                c.traffic,
                c.tick_s,
                c.stage_minutes,
                percent(r.rollback_rate()),
                duration(r.rollback_quantile(0.5)),
                duration(r.rollback_quantile(0.9)),
                percent(r.rolled_back_by(300)),
                stages.get(stages.len() / 2).map_or("–".into(), |s| s.to_string()),
                served.get(served.len() / 2).copied().unwrap_or(0),
                checks(r)
            );
        }
        println!();
    }
    if o.experiments {
        println!("### Experiments: a winner declared at any look (one look per 100 units per arm, up to 10,000)\n");
        println!("| truth | fixed_horizon (peeking) | sequential (default) |");
        println!("|---|---|---|");
        let runs = o.runs as u64;
        for (truth, treatment) in [("A/A (10 % vs 10 %)", 0.10), ("+10 % relative (10 % vs 11 %)", 0.11), ("+20 % relative (10 % vs 12 %)", 0.12)] {
            eprint!("\rexperiments: {truth}   ");
            let fixed = sim::winner_rate(0.10, treatment, 100, 10_000, AnalysisMethod::FixedHorizon, runs, o.seed);
            let sequential = sim::winner_rate(0.10, treatment, 100, 10_000, AnalysisMethod::Sequential, runs, o.seed);
            println!("| {truth} | {} | {} |", percent(fixed), percent(sequential));
        }
        eprintln!();
    }
}
