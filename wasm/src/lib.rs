//! # edgeflag-wasm
//!
//! The JavaScript face of `edgeflag-evaluator`, for CDN edges (Cloudflare workerd), browsers
//! and Node. This crate holds *no* evaluation logic: it converts arguments, calls the engine
//! and converts answers, so every runtime gives the answer the native engine gives.
//!
//! Modules, one job each: [`api`] is the exported surface, [`input`] turns JS values into
//! engine inputs (with size limits), [`output`] turns answers into JS values, [`error`] holds
//! one error type per operation and the single place they become JS `Error`s, [`typescript`]
//! is the hand-written part of the generated `.d.ts`, [`unleash`] (feature `unleash`,
//! on by default) evaluates Unleash client payloads.

// Argument checks, errors and loading are optimised for size in the shipped build (`--cfg
// edgeflag_size`, see evaluator/src/lib.rs); the fast path's calls keep the profile's level.
#![cfg_attr(edgeflag_size, feature(optimize_attribute))]

pub mod api;
pub mod error;
pub mod input;
mod layout;
pub mod output;
pub mod wire;
mod typescript;
#[cfg(feature = "unleash")]
pub mod unleash;

pub use api::{JsFlagSet, PreparedContext};


// Talc instead of Rust's default dlmalloc: smaller and faster at it (measured in
// wasm/README.md "Size"). Single-threaded wasm32 only, as the module is.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
