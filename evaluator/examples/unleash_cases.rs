//! Writes the seeded Unleash differential cases (tests/support/unleash_cases.rs) as JSON, for
//! the JS differential against the Node SDK (tests/js/unleash-differential.test.mjs):
//!
//!   cargo run -p edgeflag-evaluator --example unleash_cases -- target/edgeflag-wasm/unleash-cases.json
//!
//! `{"seed", "fromNode": [tags], "cases": [{"payload", "feature", "context", "tags"}]}`.

#[path = "../tests/support/unleash_cases.rs"]
mod unleash_cases;

use serde_json::json;

fn main() {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: unleash_cases <out.json>");
        std::process::exit(2);
    };
    let cases: Vec<_> = unleash_cases::cases(unleash_cases::SEED, unleash_cases::CASES)
        .into_iter()
        .map(|c| json!({"payload": c.payload, "feature": c.feature, "context": c.context, "tags": c.tags}))
        .collect();
    let document = json!({"seed": unleash_cases::SEED, "fromNode": unleash_cases::tag::FROM_NODE, "cases": cases});
    if let Some(dir) = std::path::Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&out, document.to_string()) {
        eprintln!("unleash_cases: {out}: {e}");
        std::process::exit(1);
    }
    println!("unleash_cases: {} cases written to {out}", unleash_cases::CASES);
}
