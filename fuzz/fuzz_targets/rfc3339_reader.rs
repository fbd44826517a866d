#![no_main]
//! The RFC 3339 reader against the time crate. See edgeflag_fuzz::checks::rfc3339_reader.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeflag_fuzz::checks::rfc3339_reader(data));
