//! # edgeflag-evaluator
//!
//! A pure-Rust feature-flag engine. The same code runs natively (servers link this crate) and
//! as WebAssembly (edges and browsers import the `edgeflag-wasm` package), so every place gives
//! the same answer for the same user: bucketing is one published murmur3 scheme ([`hashing`]).
//!
//! ```
//! use edgeflag_evaluator::{Context, FlagSet};
//!
//! let flags = FlagSet::from_json(r#"{
//!   "schema_version": 1,
//!   "flags": [{
//!     "key": "new-ui", "kind": "boolean", "enabled": true,
//!     "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
//!     "off_variation": "off", "default_variation": "off",
//!     "rollout": {"percent_bp": 10000, "variation": "on"}
//!   }]
//! }"#).expect("valid flag file");
//! let ctx = Context::from_json(r#"{"targetingKey": "user-1"}"#).expect("valid context");
//! let result = flags.evaluate("new-ui", &ctx, None);
//! assert_eq!(result.value, Some(&serde_json::json!(true)));
//! ```
//!
//! Modules, one job each: [`model`] is the file format, [`document`] and [`decode`] read it
//! (reporting every problem with its path through [`validation`]), [`compile`] prepares the immutable form, [`hashing`] is the bucketing spec, [`instant`] reads RFC 3339 times, [`decimal`] reads floats,
//! [`matching`] tests clauses, [`evaluation`] applies the precedence, [`context`] is the user.

pub mod compile;
pub mod context;
pub mod decimal;
pub mod decode;
pub mod document;
pub mod duration;
pub mod evaluation;
pub mod hashing;
pub mod instant;
pub mod matching;
pub mod model;
// Unleash client-API payloads evaluated by the same clauses and hashing.
pub mod unleash;
pub mod validation;

// Canary gate decisions and experiment analysis (feature `analysis`; kept out of edge WASM).
#[cfg(feature = "analysis")]
pub mod judgement;
// The statistical tests behind `judgement` (feature `analysis`).
#[cfg(feature = "analysis")]
pub mod stats;

pub use compile::FlagSet;
pub use context::{Context, ContextError};
pub use evaluation::{Arm, ErrorCode, Evaluation, Reason};
pub use model::FlagFile;
pub use validation::{parse_flag_file, Problem, ValidationErrors};

/// The JSON Schema of the flag file, generated from [`model`] (feature `schema`).
#[cfg(feature = "schema")]
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(model::FlagFile);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}
