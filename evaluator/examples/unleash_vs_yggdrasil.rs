//! The `unleash` bench group (benches/evaluate.rs) as a plain loop for a busy machine:
//! edgeflag and unleash-yggdrasil on the same toggles and context, rounds alternating between
//! the two engines so that a change in the machine's load hits both, best round of each
//! (criterion runs one engine's samples after the other's, which a shared machine skews).
//!
//!   cargo run --release -p edgeflag-evaluator --example unleash_vs_yggdrasil [rounds]
use std::hint::black_box;
use std::time::Instant;

use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet};
use serde_json::Value;

#[path = "../benches/support/unleash_toggles.rs"]
mod toggles;

const CALLS: u32 = 200_000;

fn best_ns(rounds: u32, mut f: impl FnMut()) -> impl FnMut() -> f64 {
    move || {
        let mut best = f64::INFINITY;
        for _ in 0..rounds.max(1) {
            let start = Instant::now();
            for _ in 0..CALLS {
                f();
            }
            best = best.min(start.elapsed().as_nanos() as f64 / f64::from(CALLS));
        }
        best
    }
}

fn main() {
    let rounds: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let payload: Value = toggles::payload();
    let ours = UnleashSet::from_json(&payload.to_string()).expect("valid payload");
    let theirs = unleash_yggdrasil::EngineState::default();
    let features: unleash_types::client_features::ClientFeatures =
        serde_json::from_value(payload).expect("yggdrasil reads the payload");
    theirs.take_state(unleash_yggdrasil::UpdateMessage::FullResponse(features));
    let our_context = UnleashContext::from_value(toggles::context(), Some(1_764_633_600_000)).expect("valid context");
    let their_context = toggles::yggdrasil_context();
    toggles::assert_same_answers(&ours, &our_context, &theirs, &their_context);

    println!("| toggle | edgeflag | yggdrasil | yggdrasil / edgeflag |");
    println!("|---|---:|---:|---:|");
    for name in toggles::NAMES {
        let variant = name == "experiment-3";
        let mut a = best_ns(1, || {
            if variant {
                black_box(ours.get_variant(black_box(name), &our_context));
            } else {
                black_box(ours.is_enabled(black_box(name), &our_context));
            }
        });
        let mut b = best_ns(1, || {
            if variant {
                black_box(theirs.get_variant(black_box(name), &their_context, &None));
            } else {
                black_box(theirs.is_enabled(black_box(name), &their_context, &None));
            }
        });
        let (mut best_a, mut best_b) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..rounds {
            best_a = best_a.min(a());
            best_b = best_b.min(b());
        }
        println!("| {name}{} | {best_a:.1} ns | {best_b:.1} ns | {:.2}x |", if variant { " getVariant" } else { "" }, best_b / best_a);
    }
}
