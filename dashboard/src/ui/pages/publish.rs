//! Publish: review the admin's own changes against the version they are based on (the server's
//! current one once rebased), then `PUT` the file with `If-Match`. When someone published
//! meanwhile (412), the server's new version is fetched and the edits rebased onto it; the
//! admin reviews the rebased diff and publishes again. Nothing is ever overwritten silently.

use std::sync::Arc;

use edgeflag_dashboard::api_types::WriteOutcome;
use edgeflag_dashboard::diff::diff_files;
use edgeflag_dashboard::draft::{after_publish, DraftState, Published, WorkingCopy};
use leptos::prelude::*;

use crate::ui::components::When;
use serde_json::Value;

use crate::ui::api;
use crate::ui::components::diff_view::{DiffView, Entries};
use crate::ui::state::AppState;
use crate::ui::sync;
use crate::ui::fetched::Job;

fn json(text: &str) -> Value {
    edgeflag_dashboard::json::value(text).unwrap_or(Value::Null)
}

/// Applies a write's outcome to the state: `sent` is the working copy a publish sent (`None`
/// for a history rollback).
pub async fn handle_outcome(state: AppState, outcome: WriteOutcome, sent: Option<WorkingCopy>) {
    match outcome {
        WriteOutcome::Published { version, etag } => {
            match sent {
                // What we sent is that version; edits made meanwhile stay as a draft on it
                // (`after_publish`). When a poll already brought a later version (someone wrote
                // after us), the page stays on that one: ours is in it.
                Some(sent) => {
                    sync::OWN_VERSION.with(|v| v.set(version));
                    let mut kept = false;
                    if !state.published.get_untracked().is_some_and(|p| p.version > version) {
                        let published = Published { text: sent.text, etag, version };
                        state.published.set(Some(published.clone()));
                        state.pending.set(None);
                        state.rebase_note.set(String::new());
                        let (next, edits_kept) = after_publish(published, &sent.message, state.copy_untracked());
                        kept = edits_kept;
                        state.set_copy(next);
                    }
                    state.info(format!(
                        "Published version {version}.{}",
                        if kept { " What you edited while it was being sent is not in it: it is kept as your draft." } else { "" }
                    ));
                }
                // A rollback: fetch what it published, then follow or rebase like any new version.
                None => {
                    sync::check(state).await;
                    state.info(format!("Published version {version}."));
                }
            }
        }
        WriteOutcome::Stale { current_version, .. } => {
            let now = current_version.map_or("a newer version".to_string(), |v| format!("version {v}"));
            match api::get_published(&state.server.get_untracked()).await {
                Ok(server) => {
                    sync::receive(state, server);
                    state.error(format!(
                        "Not published: the server moved to {now} while you were publishing. Your edits are rebased onto it \
                         (fields changed on both sides wait for your choice above): review the diff and publish again."
                    ));
                }
                Err(e) => state.error(format!("Not published: the server moved to {now}, and fetching it failed ({e}). Your draft is kept.")),
            }
        }
        WriteOutcome::Refused { error, conflicts } => {
            let list: Vec<String> = conflicts.iter().map(|c| c.describe()).collect();
            state.error(format!("Not published: {error} {}", list.join("; ")));
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
    // The admin's changes only: their text against the version it is based on.
    let entries: Entries = Arc::new(move || {
        let base = state.base.with(|b| b.as_ref().map(|b| json(&b.text))).unwrap_or(Value::Null);
        state.draft.with(|d| diff_files(&base, &json(d)))
    });
    let base_version = move || state.base.with(|b| b.as_ref().map(|b| b.version));
    let publish = Job::new(move |_: &()| async move {
        let Some(copy) = state.copy_untracked() else {
            state.error("Load the published file from the server first (Load tab).");
            return;
        };
        let outcome = api::write(&state.server.get_untracked(), &copy.base.etag, &state.token.get_untracked(), &copy.message, Some(copy.text.clone()), None).await;
        handle_outcome(state, outcome, Some(copy)).await;
    });
    let blocked = move || {
        let problems = state.parsed.with(|p| p.problems.len());
        match state.draft_state() {
            DraftState::NoServer => Some("Not connected to a server.".into()),
            DraftState::Behind { conflicts: 0, .. } if problems > 0 => {
                Some(format!("The server moved on: fix the {problems} problem(s) so your edits can be rebased onto its version."))
            }
            DraftState::Behind { server_version, .. } => {
                Some(format!("The server moved to version {server_version}: choose a value for each field above first."))
            }
            _ if problems > 0 => Some(format!("Fix the {problems} problem(s) first.")),
            DraftState::Clean { .. } => Some("Nothing to publish: there are no edits.".into()),
            _ if state.token.with(String::is_empty) => Some("Enter the admin token.".into()),
            _ => None,
        }
    };
    let confirm_discard = RwSignal::new(false);
    let discard = move |_| {
        confirm_discard.set(false);
        if let Some(server) = state.published.get_untracked() {
            state.pending.set(None);
            state.rebase_note.set(String::new());
            state.set_copy(WorkingCopy::following(server));
            state.info("Your edits were discarded; the page shows the server's version.");
        }
    };
    view! {
        <section aria-labelledby="publish-title">
            <h2 id="publish-title">"Publish"</h2>
            <h3 data-testid="diff-title">{move || match base_version() {
                Some(v) => format!("Your changes against version {v}"),
                None => "Your changes".to_string(),
            }}</h3>
            <DiffView entries=entries empty="No edits: the page shows the published version." />
            <form class="publish-form" on:submit=move |ev| { ev.prevent_default(); publish.dispatch(()); }>
                <label class="field"><span class="label">"Admin token (kept for this tab only)"</span>
                    <input type="password" autocomplete="off" data-testid="token" prop:value=move || state.token.get()
                        on:change=move |ev| state.set_token(event_target_value(&ev)) />
                </label>
                <label class="field"><span class="label">"Message (kept with your draft, recorded in history)"</span>
                    <input type="text" data-testid="publish-message" prop:value=move || state.message.get()
                        on:input=move |ev| state.message.set(event_target_value(&ev)) />
                </label>
                <button type="submit" data-testid="publish" disabled=move || blocked().is_some() || publish.pending().get()>
                    {move || if publish.pending().get() { "Publishing…" } else { "Publish" }}
                </button>
                <p class="hint" data-testid="publish-blocked">{move || blocked().unwrap_or_default()}</p>
            </form>
            <When when=move || state.is_edited()>
                <When when=move || confirm_discard.get() fallback=move || view! {
                    <button type="button" class="danger" data-testid="discard-draft" on:click=move |_| confirm_discard.set(true)>"Discard my edits…"</button>
                }>
                    <span role="alert">"Discard all your edits and show the server's version?"</span>
                    <button type="button" class="danger" data-testid="discard-confirm" on:click=discard>"Yes, discard"</button>
                    <button type="button" on:click=move |_| confirm_discard.set(false)>"Cancel"</button>
                </When>
            </When>
        </section>
    }
}
