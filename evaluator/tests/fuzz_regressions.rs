//! Every input saved from fuzzing, replayed through the fuzz targets' own checks (the same
//! file, `fuzz/src/checks.rs`, included here): the committed seeds (`fuzz/seeds/<target>/`)
//! and every finding (`fuzz/regressions/<target>/`, one file per input that once failed a
//! check). So a finding stays fixed without a nightly toolchain: `cargo test -p
//! edgeflag-evaluator --test fuzz_regressions` (the judgement inputs need `--features analysis`).

#[path = "../../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Runs `check` on every file of `fuzz/seeds/<target>` and `fuzz/regressions/<target>`,
/// reporting each file that fails by name. Returns how many inputs ran.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut ran = 0;
    let mut failures = Vec::new();
    for kind in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else { continue };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            ran += 1;
            if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "{target}: failing inputs:\n{}", failures.join("\n"));
    ran
}

#[test]
fn json_reader_inputs() {
    assert!(replay("json_reader", checks::json_reader) > 0, "no json_reader seeds");
}

#[test]
fn float_reader_inputs() {
    assert!(replay("float_reader", checks::float_reader) > 0, "no float_reader seeds");
}

#[test]
fn rfc3339_reader_inputs() {
    assert!(replay("rfc3339_reader", checks::rfc3339_reader) > 0, "no rfc3339_reader seeds");
}

#[test]
fn flag_file_inputs() {
    assert!(replay("flag_file", checks::flag_file) > 0, "no flag_file seeds");
}

#[test]
fn context_inputs() {
    assert!(replay("context", checks::context) > 0, "no context seeds");
}

#[test]
fn unleash_inputs() {
    // No committed Unleash seeds (they come from the specification at fuzz time): findings only.
    replay("unleash", checks::unleash);
}

#[cfg(feature = "analysis")]
#[test]
fn judgement_inputs() {
    assert!(replay("judgement", checks::judgement) > 0, "no judgement seeds");
}

/// The oracle the number checks trust where std and serde_json are wrong.
#[test]
fn the_number_oracle_is_exact_where_std_saturates() {
    let long = |zeros: usize, tail: &str| format!("1{}{tail}", "0".repeat(zeros));
    assert_eq!(checks::correctly_rounded(&long(655_360, "e-655360")), Some(1.0));
    assert_eq!(checks::correctly_rounded(&format!("0.{}1e655360", "0".repeat(655_359))), Some(1.0));
    assert_eq!(checks::correctly_rounded(&long(768, "e-745")), Some(1e23));
    assert_eq!(checks::correctly_rounded("-0e99999999999999999999").map(f64::to_bits), Some((-0.0f64).to_bits()));
    assert_eq!(checks::correctly_rounded("1e99999999999999999999"), Some(f64::INFINITY));
    assert_eq!(checks::correctly_rounded("0x10"), None);
    assert!(checks::std_reads_whole_exponent("1e65535") && !checks::std_reads_whole_exponent("1e65536"));
}
