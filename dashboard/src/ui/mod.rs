//! The Leptos UI. State lives in [`state::AppState`] (provided as context); `pages/` holds one
//! module per screen and `components/` the form pieces they share.

pub mod api;
pub mod app;
pub mod components;
pub mod fetched;
pub mod pages;
pub mod state;
pub mod storage;
pub mod sync;
pub mod url;
