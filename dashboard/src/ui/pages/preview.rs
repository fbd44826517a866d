//! Preview: a context in, every flag's answer out, computed by the evaluator in the page.

use edgeflag_dashboard::forms::context_json;
use edgeflag_evaluator::{Context, Evaluation};
use leptos::prelude::*;

use crate::ui::components::{index_rows, CollectAny};
use crate::ui::state::{AppState, Parsed, PreviewSource};

/// One evaluated flag, as text for the table.
#[derive(Clone, PartialEq)]
pub struct Row {
    pub key: String,
    pub value: String,
    pub variant: String,
    pub reason: String,
    pub arm: String,
    pub detail: String,
}

impl From<Evaluation<'_>> for Row {
    fn from(e: Evaluation<'_>) -> Row {
        let mut detail = Vec::new();
        if let Some(i) = e.rule_index {
            detail.push(format!("rule {}", i + 1));
        }
        if e.experiment {
            detail.push("experiment".to_string());
        }
        if let Some(code) = e.error_code {
            detail.push(code.as_str().to_string());
        }
        if let Some(message) = e.error_message {
            detail.push(message);
        }
        Row {
            key: e.key.to_string(),
            value: e.value.map(|v| v.to_string()).unwrap_or_else(|| "—".into()),
            variant: e.variant.unwrap_or("—").to_string(),
            reason: e.reason.as_str().to_string(),
            arm: e.arm.map(|a| a.as_str().to_string()).unwrap_or_default(),
            detail: detail.join("; "),
        }
    }
}

/// Evaluates all flags (or one) of the chosen file for the preview context (tracked).
fn evaluate(state: AppState, source: PreviewSource, only: Option<&str>) -> Result<Vec<Row>, String> {
    let input = state.preview.get();
    let context = Context::from_value(context_json(&input.targeting_key, &input.attributes)).map_err(|e| e.to_string())?;
    let env = (!input.environment.is_empty()).then_some(input.environment.as_str());
    let run = |p: &Parsed, what: &str| match &p.set {
        Some(set) => Ok(match only {
            Some(key) => vec![Row::from(set.evaluate(key, &context, env))],
            None => set.evaluate_all(&context, env).into_iter().map(Row::from).collect(),
        }),
        None => Err(format!("{what} has {} problem(s): fix them to see a preview.", p.problems.len())),
    };
    match source {
        PreviewSource::Draft => state.parsed.with(|p| run(p, "The draft")),
        PreviewSource::Published => state.published_parsed.with(|p| match p.model.is_some() || p.problems.len() > 0 {
            true => run(p, "The published version"),
            false => Err("No published version is loaded (not connected to a server).".into()),
        }),
    }
}

/// Which file is evaluated, in words.
fn source_label(state: AppState, source: PreviewSource) -> String {
    let published = state.published.with(|p| p.as_ref().map(|p| p.version));
    let base = state.base.with(|b| b.as_ref().map(|b| b.version));
    match (source, published, base) {
        (PreviewSource::Published, Some(v), _) => format!("Evaluating the published version {v}: what the server and the edges serve now."),
        (PreviewSource::Published, None, _) => "Evaluating the published version: none is loaded.".into(),
        (PreviewSource::Draft, _, Some(v)) if state.is_edited() => format!("Evaluating your draft: version {v} with your unpublished edits."),
        (PreviewSource::Draft, _, Some(v)) => format!("Evaluating your draft, which has no edits: the same as published version {v}."),
        (PreviewSource::Draft, _, None) => "Evaluating your draft (not connected to a server).".into(),
    }
}

#[component]
pub fn PreviewPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <section aria-labelledby="preview-title">
            <h2 id="preview-title">"Preview"</h2>
            <fieldset class="row preview-source" data-testid="preview-source-choice">
                <legend>"Evaluate"</legend>
                <label><input type="radio" name="preview-source" data-testid="preview-draft"
                    prop:checked=move || state.preview.with(|p| p.source == PreviewSource::Draft)
                    on:change=move |_| state.preview.update(|p| p.source = PreviewSource::Draft) />" the draft"</label>
                <label><input type="radio" name="preview-source" data-testid="preview-published"
                    prop:checked=move || state.preview.with(|p| p.source == PreviewSource::Published)
                    on:change=move |_| state.preview.update(|p| p.source = PreviewSource::Published) />" the published version"</label>
            </fieldset>
            <p class="hint" data-testid="preview-source">{move || source_label(state, state.preview.with(|p| p.source))}</p>
            <ContextForm />
            {move || match evaluate(state, state.preview.with(|p| p.source), None) {
                Err(e) => view! { <p class="notice error">{e}</p> }.into_any(),
                Ok(rows) => view! { <ResultTable rows=rows /> }.into_any(),
            }}
        </section>
    }
}

/// The answer for one flag, shown at the top of its editor so changes show immediately.
#[component]
pub fn FlagPreview(#[prop(into)] key: Signal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <details class="flag-preview" open>
            <summary>"Preview of your draft for the context below"</summary>
            <ContextForm />
            {move || match evaluate(state, PreviewSource::Draft, Some(&key.get())) {
                Err(e) => view! { <p class="notice error">{e}</p> }.into_any(),
                Ok(rows) => view! { <ResultTable rows=rows /> }.into_any(),
            }}
        </details>
    }
}

#[component]
fn ResultTable(rows: Vec<Row>) -> impl IntoView {
    view! {
        <table class="results" data-testid="preview-results">
            <thead><tr><th>"Flag"</th><th>"Value"</th><th>"Variant"</th><th>"Reason"</th><th>"Arm"</th><th>"Detail"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| { let flag = r.key.clone(); view! {
                    <tr data-flag=flag>
                        <td>{r.key}</td><td class="mono" data-testid="value">{r.value}</td><td data-testid="variant">{r.variant}</td>
                        <td data-testid="reason">{r.reason}</td><td>{r.arm}</td><td>{r.detail}</td>
                    </tr>
                }}).collect_any()}
            </tbody>
        </table>
    }
}

#[component]
fn ContextForm() -> impl IntoView {
    let state = expect_context::<AppState>();
    let preview = state.preview;
    let envs = move || state.with_model(|m| m.environments.clone()).unwrap_or_default();
    let count = move || preview.with(|p| p.attributes.len());
    view! {
        <div class="context-form" role="group" aria-label="Evaluation context">
            <div class="row">
                <label class="field"><span class="label">"Targeting key"</span>
                    <input type="text" data-testid="ctx-key" prop:value=move || preview.with(|p| p.targeting_key.clone())
                        on:input=move |ev| preview.update(|p| p.targeting_key = event_target_value(&ev)) />
                </label>
                <label class="field"><span class="label">"Environment"</span>
                    <select on:change=move |ev| preview.update(|p| p.environment = event_target_value(&ev))>
                        <option value="">"(none)"</option>
                        {move || envs().into_iter().map(|e| {
                            let selected = preview.with_untracked(|p| p.environment == e);
                            let v = e.clone(); view! { <option value=v selected=selected>{e}</option> }
                        }).collect_any()}
                    </select>
                </label>
            </div>
            {index_rows(count, move |i| view! {
                <div class="row">
                    <label class="field"><span class="label">"Attribute"</span>
                        <input type="text" prop:value=move || preview.with(|p| p.attributes.get(i).map(|a| a.0.clone()).unwrap_or_default())
                            on:input=move |ev| preview.update(|p| if let Some(a) = p.attributes.get_mut(i) { a.0 = event_target_value(&ev) }) />
                    </label>
                    <label class="field"><span class="label">"Value (JSON or text)"</span>
                        <input type="text" prop:value=move || preview.with(|p| p.attributes.get(i).map(|a| a.1.clone()).unwrap_or_default())
                            on:input=move |ev| preview.update(|p| if let Some(a) = p.attributes.get_mut(i) { a.1 = event_target_value(&ev) }) />
                    </label>
                    <button type="button" aria-label=format!("Remove attribute {}", i + 1)
                        on:click=move |_| preview.update(|p| { if i < p.attributes.len() { p.attributes.remove(i); } })>"×"</button>
                </div>
            }.into_any())}
            <button type="button" on:click=move |_| preview.update(|p| p.attributes.push((String::new(), String::new())))>"+ attribute"</button>
        </div>
    }
}
