#![no_main]
//! A flag file through load, evaluate_all (contexts x environments), write-back and replace. See edgeflag_fuzz::checks::flag_file.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeflag_fuzz::checks::flag_file(data));
