#![no_main]
//! A context through Context::from_json and evaluate_all on examples/flags.json. See edgeflag_fuzz::checks::context.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeflag_fuzz::checks::context(data));
