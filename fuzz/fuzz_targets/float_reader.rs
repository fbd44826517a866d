#![no_main]
//! The float reader against str::parse::<f64>, bit for bit. See edgeflag_fuzz::checks::float_reader.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeflag_fuzz::checks::float_reader(data));
