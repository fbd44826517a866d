//! JSON text in: every response, draft and pasted document the dashboard reads goes through the
//! engine's JSON reader and is decoded field by field (`edgeflag_readers::json_fields`, where
//! the evaluator's own types are decoded too, next to them).

pub use edgeflag_readers::json_fields::{decode, string, value, Decoder, Field};
