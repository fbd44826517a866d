//! Form pieces shared by the pages. Each edits one part of the draft through a [`Lens`]
//! (`edgeflag_dashboard::lens`) and shows the evaluator's problems for that part's path.

pub mod chart;
pub mod clause;
pub mod diff_view;
pub mod fields;
pub mod rules;
pub mod split;
pub mod sync_panels;
pub mod targeting;

use edgeflag_dashboard::lens::Lens;
use leptos::prelude::*;

/// A lens the view closures can copy.
pub type SLens<T> = StoredValue<Lens<T>>;

pub fn stored<T: 'static>(lens: Lens<T>) -> SLens<T> {
    StoredValue::new(lens)
}
