//! The `unleash` bench group's toggles (benches/support/unleash_toggles.rs) in a plain loop,
//! for profilers and CPU-time comparisons of two builds on a busy machine:
//!
//!   cargo build --release -p edgeflag-evaluator --example unleash_loop
//!   target/release/examples/unleash_loop rules-5 2000000                     # prints ns per call
//!   valgrind --tool=callgrind target/release/examples/unleash_loop rules-5 20000
//!
//! The first argument is a toggle (`static-bool`, `rollout-10`, `rules-5`, `experiment-3`:
//! getVariant for the last); `context` instead times building the context from JSON text.
use std::hint::black_box;
use std::time::Instant;

use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet};

#[path = "../benches/support/unleash_toggles.rs"]
mod toggles;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "rules-5".to_owned());
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let set = UnleashSet::from_json(&toggles::payload().to_string()).expect("valid payload");
    let text = toggles::context().to_string();
    let context = UnleashContext::from_json(&text, Some(1_764_633_600_000)).expect("valid context");
    let start = Instant::now();
    match which.as_str() {
        "context" => (0..n).for_each(|_| {
            black_box(UnleashContext::from_json(black_box(&text), Some(1)).is_ok());
        }),
        "experiment-3" => (0..n).for_each(|_| {
            black_box(set.get_variant(black_box("experiment-3"), &context).name);
        }),
        name => (0..n).for_each(|_| {
            black_box(set.is_enabled(black_box(name), &context));
        }),
    }
    println!("{which}: {:.1} ns per call", start.elapsed().as_nanos() as f64 / f64::from(n.max(1)));
}
