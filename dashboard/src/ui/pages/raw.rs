//! The whole file as JSON text, validated live by the evaluator; each problem jumps to its
//! place in the text.

use edgeflag_dashboard::jsonpath::{line_of, locate, offset_of, syntax_position, utf16_offset};
use edgeflag_evaluator::Problem;
use leptos::html::Textarea;
use leptos::prelude::*;

use crate::ui::components::{effect, CollectAny};
use crate::ui::state::AppState;

#[component]
pub fn RawPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let editor = NodeRef::<Textarea>::new();
    let jump = move |problem: Problem| {
        let Some(area) = editor.get() else { return };
        let text = state.draft.get_untracked();
        let (start, end) = match (problem.path.is_empty(), syntax_position(&problem.message)) {
            (true, Some((line, column))) => {
                let at = offset_of(&text, line, column);
                (at, at)
            }
            _ => locate(&text, &problem.path).unwrap_or((0, 0)),
        };
        let _ = area.focus();
        let _ = area.set_selection_range(utf16_offset(&text, start), utf16_offset(&text, end));
        // Scroll so the selected line is near the top third of the editor.
        let line_height = area.scroll_height() as f64 / text.lines().count().max(1) as f64;
        let line = line_of(&text, start) as f64;
        area.set_scroll_top(((line - 5.0).max(0.0) * line_height) as i32);
    };
    // A jump to the first problem requested from elsewhere (the problem link in the header).
    effect(move || {
        if state.jump.get() {
            if let Some(problem) = state.parsed.with_untracked(|p| p.problems.problems.first().cloned()) {
                jump(problem);
            }
            state.jump.set(false);
        }
    });
    let problems = move || state.parsed.with(|p| p.problems.problems.clone());
    view! {
        <section class="raw" aria-labelledby="raw-title">
            <h2 id="raw-title">"Raw JSON"</h2>
            <div class="raw-layout">
                <label class="field grow"><span class="label">"Flag file"</span>
                    <textarea node_ref=editor spellcheck="false" data-testid="raw-editor" class="mono" rows="30"
                        prop:value=move || state.draft.get()
                        on:input=move |ev| state.set_text(event_target_value(&ev))></textarea>
                </label>
                <div class="problems" aria-live="polite">
                    <h3>{move || match problems().len() { 0 => "No problems".to_string(), 1 => "1 problem".to_string(), n => format!("{n} problems") }}</h3>
                    <ol data-testid="problems">
                        {move || problems().into_iter().map(|p| {
                            let label = if p.path.is_empty() { p.message.clone() } else { format!("{}: {}", p.path, p.message) };
                            view! { <li><button type="button" class="link" on:click=move |_| jump(p.clone())>{label}</button></li> }
                        }).collect_any()}
                    </ol>
                </div>
            </div>
        </section>
    }
}
