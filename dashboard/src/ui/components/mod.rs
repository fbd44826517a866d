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

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

use edgeflag_dashboard::lens::Lens;
use leptos::prelude::*;

/// A lens the view closures can copy. Every lens is kept in one stored type (the lens as
/// `dyn Any`): a `StoredValue<Lens<T>>` per part type was its own copy of the arena code
/// (19 of them; dashboard/README.md "Figures").
pub struct SLens<T: 'static> {
    stored: StoredValue<Arc<dyn Any + Send + Sync>>,
    part: PhantomData<fn() -> T>,
}

impl<T: 'static> Clone for SLens<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for SLens<T> {}

impl<T: 'static> SLens<T> {
    /// The lens (a clone: three `Arc`s).
    pub fn get_value(&self) -> Lens<T> {
        match self.stored.get_value().downcast_ref::<Lens<T>>() {
            Some(lens) => lens.clone(),
            // `stored` is the only constructor and keeps a `Lens<T>`.
            None => unreachable!("an SLens<T> holds a Lens<T>"),
        }
    }

    pub fn with_value<R>(&self, f: impl FnOnce(&Lens<T>) -> R) -> R {
        f(&self.get_value())
    }
}

pub fn stored<T: 'static>(lens: Lens<T>) -> SLens<T> {
    SLens { stored: StoredValue::new(Arc::new(lens)), part: PhantomData }
}

/// One row of a list, by index.
pub type Row = Arc<dyn Fn(usize) -> AnyView + Send + Sync>;

/// The rows `0..count()`, keyed by index: rows read and write their item through a lens by
/// index, so a row is only added or removed when the count changes, never rebuilt on an edit.
pub fn index_rows(
    count: impl Fn() -> usize + Send + Sync + 'static,
    row: impl Fn(usize) -> AnyView + Send + Sync + 'static,
) -> AnyView {
    index_rows_dyn(Arc::new(count), Arc::new(row))
}

/// Compiled once: the `0..count()` list per caller's closure type was ~290 B of wasm each.
fn index_rows_dyn(count: Arc<dyn Fn() -> usize + Send + Sync>, row: Row) -> AnyView {
    keyed_rows(Arc::new(move || (0..count()).collect()), row)
}

/// The rows of the indices `each()` returns, keyed by index. Every list of the forms goes
/// through this one `<For>`: each `<For>` over its own closure types was another copy of the
/// keyed diff (dashboard/README.md "Figures").
pub fn keyed_rows(each: Arc<dyn Fn() -> Vec<usize> + Send + Sync>, row: Row) -> AnyView {
    view! { <For each=move || each() key=|i| *i children=move |i| row(i) /> }.into_any()
}

/// `collect_view` into one list type, `Vec<AnyView>`: a list of each element type
/// (`Vec<View<HtmlElement<Li, …>>>`, of `<tr>`, of `<option>`…) was its own copy of tachys'
/// list build, rebuild and mount code (~1.5 KB of wasm each; dashboard/README.md "Figures").
pub trait CollectAny {
    fn collect_any(self) -> Vec<AnyView>;
}

impl<I: Iterator<Item = V>, V: IntoAny> CollectAny for I {
    fn collect_any(self) -> Vec<AnyView> {
        self.map(IntoAny::into_any).collect()
    }
}

/// `Effect::new`, compiled once: each `Effect::new` over its own closure type was another copy
/// of the effect's scheduling loop with the closure inlined (~1–2 KB of wasm before wasm-opt).
pub fn effect(f: impl Fn() + 'static) {
    effect_dyn(Box::new(f));
}

fn effect_dyn(f: Box<dyn Fn()>) {
    Effect::new(move |_| f());
}

/// Leptos's `<Show>`, compiled once: `Show` is generic over its condition and its children's
/// view type, so each of the fourteen uses was its own copy of the switch (~800 B of wasm
/// each). The condition is memoized as `Show` does; the children and the fallback are views
/// built when the condition turns true or false.
#[component]
pub fn When(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: ChildrenFn,
    #[prop(optional, into)] fallback: ViewFn,
) -> impl IntoView {
    switch(Arc::new(when), children, fallback)
}

fn switch(when: Arc<dyn Fn() -> bool + Send + Sync>, children: ChildrenFn, fallback: ViewFn) -> AnyView {
    let shown = Memo::new(move |_| when());
    (move || if shown.get() { children() } else { fallback.run() }).into_any()
}
