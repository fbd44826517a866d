#![no_main]
//! The canary judgement and statistics on arbitrary metric inputs. See edgeflag_fuzz::checks::judgement.
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgeflag_fuzz::checks::judgement(data));
