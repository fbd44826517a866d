//! Publish: review the diff against the published version, then `PUT` with `If-Match`.
//! A 412 shows what changed on the server and lets the admin reload or reapply; nothing is
//! ever overwritten silently.

use edgeflag_dashboard::api_types::WriteOutcome;
use edgeflag_dashboard::diff::diff_files;
use edgeflag_dashboard::draft::{DraftState, Published};
use edgeflag_dashboard::merge::rebase;
use leptos::prelude::*;
use serde_json::Value;

use crate::ui::api;
use crate::ui::components::diff_view::DiffView;
use crate::ui::state::{AppState, Conflict, Page};

fn json(text: &str) -> Value {
    edgeflag_dashboard::json::value(text).unwrap_or(Value::Null)
}

/// After a 412: fetch what the server has now and keep it beside our base for the review.
async fn open_conflict(state: AppState) {
    let base_text = state.published.get_untracked().map(|p| p.text).unwrap_or_default();
    match api::get_published(&state.server.get_untracked()).await {
        Ok(theirs) => state.conflict.set(Some(Conflict { theirs, base_text })),
        Err(e) => state.error(format!("Someone else published meanwhile, and reloading failed: {e}")),
    }
}

/// Applies a write's outcome (publish or rollback) to the state.
pub async fn handle_outcome(state: AppState, outcome: WriteOutcome, text: String) {
    match outcome {
        WriteOutcome::Published { version, etag } => {
            state.reset_to(Published { text, etag, version });
            state.conflict.set(None);
            state.info(format!("Published version {version}."));
        }
        WriteOutcome::Conflict { current_version, .. } => {
            state.error(format!(
                "Not published: the server has a newer version ({}). Review it below, then reload or reapply your changes.",
                current_version.map_or("?".to_string(), |v| v.to_string())
            ));
            open_conflict(state).await;
        }
        WriteOutcome::Invalid { error, problems } => {
            let list: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
            state.error(format!("The server rejected the file ({error}): {}", list.join("; ")));
        }
        WriteOutcome::Unauthorized(e) => state.error(format!("The server refused the token: {e}. Enter a valid admin token.")),
        WriteOutcome::Failed(e) => state.error(format!("Not published: {e}. Your draft is kept locally.")),
    }
}

#[component]
pub fn PublishPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let (message, set_message) = signal(String::new());
    let entries = Signal::derive(move || {
        let published = state.published.with(|p| p.as_ref().map(|p| json(&p.text))).unwrap_or(Value::Null);
        state.draft.with(|d| diff_files(&published, &json(d)))
    });
    let publish = Action::new_local(move |_: &()| async move {
        let text = state.draft.get_untracked();
        let Some(etag) = state.base.get_untracked().map(|b| b.0) else {
            state.error("Load the published file from the server first (Load tab).");
            return;
        };
        let outcome = api::write(&state.server.get_untracked(), &etag, &state.token.get_untracked(), &message.get_untracked(), Some(text.clone()), None).await;
        handle_outcome(state, outcome, text).await;
    });
    let blocked = move || {
        let problems = state.parsed.with(|p| p.problems.len());
        match state.draft_state() {
            _ if problems > 0 => Some(format!("Fix the {problems} problem(s) first.")),
            DraftState::NoServer => Some("Not connected to a server.".into()),
            DraftState::Clean => Some("Nothing to publish: the draft is the published version.".into()),
            _ if state.token.with(String::is_empty) => Some("Enter the admin token.".into()),
            _ => None,
        }
    };
    view! {
        <section aria-labelledby="publish-title">
            <h2 id="publish-title">"Publish"</h2>
            <ConflictPanel />
            <h3>"Changes against the published version"</h3>
            <DiffView entries=entries empty="The draft is the same as the published version." />
            <form class="publish-form" on:submit=move |ev| { ev.prevent_default(); publish.dispatch(()); }>
                <label class="field"><span class="label">"Admin token (kept for this tab only)"</span>
                    <input type="password" autocomplete="off" data-testid="token" prop:value=move || state.token.get()
                        on:change=move |ev| state.set_token(event_target_value(&ev)) />
                </label>
                <label class="field"><span class="label">"Message (optional)"</span>
                    <input type="text" prop:value=message on:input=move |ev| set_message.set(event_target_value(&ev)) />
                </label>
                <button type="submit" data-testid="publish" disabled=move || blocked().is_some() || publish.pending().get()>
                    {move || if publish.pending().get() { "Publishing…" } else { "Publish" }}
                </button>
                <p class="hint">{move || blocked().unwrap_or_default()}</p>
            </form>
        </section>
    }
}

#[component]
fn ConflictPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let entries = Signal::derive(move || {
        state.conflict.with(|c| c.as_ref().map(|c| diff_files(&json(&c.base_text), &json(&c.theirs.text)))).unwrap_or_default()
    });
    let reload = move |_| {
        if let Some(c) = state.conflict.get_untracked() {
            state.reset_to(c.theirs);
            state.conflict.set(None);
            state.info("Loaded the server's version; your draft was replaced.");
        }
    };
    let reapply = move |_| {
        let Some(c) = state.conflict.get_untracked() else { return };
        let mine = json(&state.draft.get_untracked());
        let rebased = rebase(&json(&c.base_text), &mine, &json(&c.theirs.text));
        let text = serde_json::to_string_pretty(&rebased.merged).unwrap_or_default();
        state.base.set(Some((c.theirs.etag.clone(), c.theirs.version)));
        state.published.set(Some(c.theirs));
        state.draft.set(text);
        state.conflict.set(None);
        let mut note = format!("Reapplied your changes ({}) on the server's version.", rebased.applied.join(", "));
        if !rebased.conflicts.is_empty() {
            note.push_str(&format!(" Also changed on the server, your version kept: {}. Review before publishing.", rebased.conflicts.join(", ")));
        }
        state.info(note);
        state.page.set(Page::Publish);
    };
    view! {
        <Show when=move || state.conflict.with(Option::is_some)>
            <div class="conflict" role="alert" data-testid="conflict">
                <h3>{move || format!("Conflict: the server is now at version {}", state.conflict.with(|c| c.as_ref().map_or(0, |c| c.theirs.version)))}</h3>
                <p>"Changed on the server since your draft started:"</p>
                <DiffView entries=entries />
                <div class="row">
                    <button type="button" data-testid="conflict-reload" on:click=reload>"Reload the server version (discard my draft)"</button>
                    <button type="button" data-testid="conflict-reapply" on:click=reapply>"Reapply my changes on top"</button>
                </div>
            </div>
        </Show>
    }
}
