//! The native peer for `bench/wasm-bench.mjs`: the same evaluations, timed in the same run.
//!
//! Usage: `native_bench FLAGS.json FLAG_KEY CONTEXT_JSON MANY_FLAGS.json` → one JSON line
//! `{"oneFlagNs": .., "allNs": .., "allFlags": ..}` (nanoseconds per call, best of 5 rounds).

use std::error::Error;
use std::hint::black_box;
use std::time::Instant;

use edgeflag_evaluator::{Context, FlagSet};

/// Best per-call time over 5 rounds of `iterations` calls.
fn time_per_call(iterations: u32, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..iterations {
            f();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / iterations as f64);
    }
    best
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, flags_path, flag_key, context_json, many_path] = args.as_slice() else {
        return Err("usage: native_bench FLAGS.json FLAG_KEY CONTEXT_JSON MANY_FLAGS.json".into());
    };
    let flags = FlagSet::from_json(&std::fs::read_to_string(flags_path)?)?;
    let many = FlagSet::from_json(&std::fs::read_to_string(many_path)?)?;
    let context = Context::from_json(context_json)?;
    let one = time_per_call(200_000, || {
        black_box(flags.evaluate(black_box(flag_key), black_box(&context), None));
    });
    // With the context parsed from JSON on every call: what the WASM object path also pays.
    let one_parsing = time_per_call(100_000, || {
        let ctx = Context::from_json(black_box(context_json)).ok();
        if let Some(ctx) = ctx {
            black_box(serde_json::to_string(&flags.evaluate(flag_key, &ctx, None)).ok());
        }
    });
    let all = time_per_call(5_000, || {
        black_box(many.evaluate_all(black_box(&context), None));
    });
    println!(
        "{{\"oneFlagNs\": {one:.1}, \"oneFlagJsonNs\": {one_parsing:.1}, \"allNs\": {all:.1}, \"allFlags\": {}}}",
        many.len()
    );
    Ok(())
}
