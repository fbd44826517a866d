//! Loads a flag file N times, for profilers and CPU-time comparisons of the load path:
//!
//!   cargo build --release -p edgeflag-evaluator --example load_loop
//!   valgrind --tool=callgrind target/release/examples/load_loop FILE 3
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "examples/flags.json".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    for _ in 0..n {
        match edgeflag_evaluator::FlagSet::from_json(&text) {
            Ok(set) => drop(std::hint::black_box(set)),
            Err(e) => eprintln!("{e}"),
        }
    }
}
