//! The checks behind edgeflag's fuzz targets (see README.md). They live in `checks.rs` so
//! that the normal test suite replays saved inputs through the very same code.

pub mod checks;
