//! A readable diff: one block per changed flag or segment, changed lines marked.

use std::sync::Arc;

use edgeflag_dashboard::diff::{DiffEntry, LineTag};
use leptos::prelude::*;

use crate::ui::components::CollectAny;

/// The entries to show, recomputed when the signals they read change. A plain callback, not
/// a `Signal<Vec<DiffEntry>>`: one signal type fewer (dashboard/README.md "Figures").
pub type Entries = Arc<dyn Fn() -> Vec<DiffEntry> + Send + Sync>;

#[component]
pub fn DiffView(entries: Entries, #[prop(optional)] empty: &'static str) -> impl IntoView {
    view! {
        <div class="diff" data-testid="diff">
            {move || {
                let entries = entries();
                if entries.is_empty() {
                    return view! { <p class="hint">{if empty.is_empty() { "No changes." } else { empty }}</p> }.into_any();
                }
                entries.into_iter().map(|entry| view! {
                    <section class=format!("diff-entry {}", entry.change.as_str())>
                        <h4>{format!("{} {} — {}", entry.section, entry.key, entry.change.as_str())}</h4>
                        <pre>{entry.lines.into_iter().map(|line| {
                            let (class, mark) = match line.tag {
                                LineTag::Added => ("add", "+ "),
                                LineTag::Removed => ("del", "- "),
                                LineTag::Same => ("same", "  "),
                                LineTag::Gap => ("gap", "  "),
                            };
                            view! { <span class=class>{mark}{line.text}"\n"</span> }
                        }).collect_any()}</pre>
                    </section>
                }).collect_any().into_any()
            }}
        </div>
    }
}
