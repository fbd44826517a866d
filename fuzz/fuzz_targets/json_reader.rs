#![no_main]
//! The JSON reader against serde_json (float_roundtrip), and std where serde_json misrounds. See edgeflag_fuzz::checks::json_reader.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeflag_fuzz::checks::json_reader(data));
