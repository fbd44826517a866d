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
//! The API: the [`model`] (the file format), [`FlagSet`] (a loaded, validated file),
//! [`Context`] (the user), [`Evaluation`] (an answer), [`Problem`] (what is wrong with a file,
//! with its path), [`unleash`] (Unleash payloads) and, with the `analysis` feature, `judgement`
//! (canary decisions and experiment statistics). [`hashing`] is the published bucketing spec.
//! Shared rules the server, the dashboard and the providers call rather than copy: [`decode`]
//! (a file's structure even when it does not validate, for editors), [`merge`] (two writers'
//! edits of one version), [`merge_patch`] (RFC 7396, the server's `PATCH`), [`promql`] (the
//! canary queries), [`openfeature`] (the OpenFeature mapping), [`duration`] and [`keys`].
//!
//! Inside, one job per module: `compile` prepares the immutable form, `matching` tests
//! clauses, `evaluation` applies the precedence, `context` reads the user, [`problems`] is the
//! problem list, and `lookup_table` holds the flag file's string-keyed lookups (private: its
//! hash is unkeyed, so it must only ever hold the file's own keys). The size-driven readers
//! (JSON, floats, RFC 3339, lower case) are the internal `edgeflag-readers` crate (readers/).

// Load-time code (decoding, validation, compiling) is optimised for size in the WASM builds
// (`--cfg edgeflag_size`, set by scripts/wasm-size-flags.sh with the other unstable options);
// evaluation keeps the profile's opt-level. Native builds never see it.
#![cfg_attr(edgeflag_size, feature(optimize_attribute))]

// The published file checksum (XXH64) that `FlagSet.loadValidated` checks in the module.
pub mod checksum;
mod compile;
mod context;
pub mod decode;
pub mod duration;
mod evaluation;
pub mod hashing;
// Unkeyed hashing: it must only ever hold the flag file's own keys, so it stays private.
mod lookup_table;
// Which keys travel in URL paths as they are (`edgeflag validate`'s warnings).
pub mod keys;
mod matching;
pub mod merge;
pub mod merge_patch;
pub mod model;
// The OpenFeature view of an answer: one rule set for the Rust provider and OFREP.
pub mod openfeature;
// The PromQL the server's controller and the dashboard run against Prometheus-compatible APIs.
pub mod promql;
// Unleash client-API payloads evaluated by the same clauses and hashing.
pub mod unleash;
pub mod problems;

// Canary gate decisions and experiment analysis (feature `analysis`; kept out of edge WASM).
#[cfg(feature = "analysis")]
pub mod judgement;
// The statistical tests behind `judgement` (feature `analysis`).
#[cfg(feature = "analysis")]
pub mod stats;

pub use compile::{FlagSet, Reads};
pub use context::{Context, ContextError};
pub use evaluation::{Answer, Arm, ErrorCode, Evaluation, Reason};
pub use model::FlagFile;
pub use compile::parse_flag_file;
pub use problems::{Problem, ValidationErrors};

/// The JSON Schema of the flag file, generated from [`model`] (feature `schema`).
#[cfg(feature = "schema")]
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(model::FlagFile);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}
