#![no_main]
//! An Unleash payload and context (split at 0xFF) through load and evaluate-all. See edgeflag_fuzz::checks::unleash.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeflag_fuzz::checks::unleash(data));
