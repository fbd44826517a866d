//! # edgeflag-dashboard
//!
//! The admin dashboard. This library is the dashboard's plain-Rust logic, testable natively
//! with `cargo test -p edgeflag-dashboard`; the Leptos UI (`src/main.rs` and its modules) is
//! only compiled for `wasm32`. Validation and evaluation are never done here: they come from
//! `edgeflag-evaluator`, the same engine the servers and edges run.

pub mod api_types;
pub mod canaries;
pub mod canary;
pub mod diff;
pub mod draft;
pub mod experiment;
pub mod filter;
pub mod forms;
pub mod json;
pub mod jsonpath;
pub mod lens;
pub mod problems;
pub mod prometheus;
pub mod rebase;
pub mod route;

#[cfg(test)]
mod testdata;
