//! What the page says when the server moved on under the admin's edits: the small note after
//! a clean rebase, the per-field choice when the same field changed on both sides, and a saved
//! draft that could not be matched to this server's history.

use edgeflag_dashboard::draft::WorkingCopy;
use edgeflag_dashboard::rebase::{choices_for, rebase, resolve, show_value, Rebase, Side};
use leptos::prelude::*;

use crate::ui::components::CollectAny;
use crate::ui::state::{AppState, Page};
use crate::ui::storage;
use crate::ui::sync::{retry_orphan, ORPHAN_KEY};
use crate::ui::fetched::Job;

/// Longest value shown in full in the conflict panel.
const VALUE_CHARS: usize = 300;

#[component]
pub fn RebaseNote() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        {move || Some(state.rebase_note.get()).filter(|note| !note.is_empty()).map(|note| view! {
            <p class="rebase-note" role="status" data-testid="rebase-note">
                <span>{note}</span>
                <button type="button" class="link" aria-label="Dismiss" on:click=move |_| state.rebase_note.set(String::new())>"×"</button>
            </p>
        }.into_any())}
    }
}

/// Fields changed both by the admin and on the server since the admin's base: each with both
/// values and who wrote the server's, and a choice per field. The server's values are never
/// called the admin's.
#[component]
pub fn ConflictPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let all_chosen = move || {
        state.pending.with(|p| {
            p.as_ref().is_some_and(|p| state.choices.with(|c| p.conflicts.iter().all(|x| c.get(&x.path.to_string()).is_some())))
        })
    };
    let apply = move |all: Option<Side>| {
        // The copy first: it writes a form edit made just before the click into the text.
        let (Some(copy), Some(shown)) = (state.copy_untracked(), state.pending.get_untracked()) else { return };
        // The conflicts worked out again from the text as it is now, so that such an edit is
        // in the result; without conflicts left, the rebase that follows the server applies it.
        let Rebase::Conflicts(pending) = rebase(&copy, &shown.server) else { return };
        let choices = state.choices.with_untracked(|picked| choices_for(&pending, picked, all));
        let mine = choices.iter().filter(|c| **c == Side::Mine).count();
        let next: WorkingCopy = resolve(&copy, &pending, &choices);
        let version = pending.server.version;
        state.pending.set(None);
        state.choices.set(Default::default());
        state.rebase_note.set(String::new());
        state.set_copy(next);
        state.info(format!(
            "Your edits are now on version {version}: {mine} of {} field(s) keep your value, the others the server's. Review the diff and publish.",
            choices.len()
        ));
        state.page.set(Page::Publish);
    };
    view! {
        {move || state.pending.get().map(|pending| {
            let base_version = state.base.with_untracked(|b| b.as_ref().map_or(0, |b| b.version));
            let server_version = pending.server.version;
            view! {
                <div class="conflict" role="alert" data-testid="conflicts">
                    <h3>{format!(
                        "The server moved from version {base_version} to {server_version} and changed {} field(s) you also edited",
                        pending.conflicts.len()
                    )}</h3>
                    <p class="hint">"Your other edits are already on the server's version. Choose the value each field below should have; nothing is published until you publish."</p>
                    <ul class="conflict-fields">
                        {pending.conflicts.into_iter().enumerate().map(|(i, c)| {
                            let path = c.path.to_string();
                            let by = {
                                let path = path.clone();
                                move || state.attribution.with(|a| match a.get(&path) {
                                    Some((v, author)) if !author.is_empty() => format!("On the server, by {author} in version {v}: "),
                                    Some((v, _)) => format!("On the server, in version {v}: "),
                                    None => format!("On the server (version {server_version}): "),
                                })
                            };
                            let radio = |side, id| choice_radio(state, format!("conflict-{i}"), path.clone(), side, id);
                            view! {
                                <li class="conflict-field" data-testid="conflict" data-path=path.clone()>
                                    <code class="path" data-testid="conflict-path">{path.clone()}</code>
                                    <label class="choice">
                                        {radio(Side::Mine, "choose-mine")}
                                        "Yours: "<code data-testid="conflict-mine">{show_value(c.mine.as_ref(), VALUE_CHARS)}</code>
                                    </label>
                                    <label class="choice">
                                        {radio(Side::Theirs, "choose-theirs")}
                                        <span data-testid="conflict-by">{by}</span>
                                        <code data-testid="conflict-theirs">{show_value(c.theirs.as_ref(), VALUE_CHARS)}</code>
                                    </label>
                                    <span class="hint">{format!("In version {base_version}, before both changes: {}", show_value(c.base.as_ref(), VALUE_CHARS))}</span>
                                </li>
                            }
                        }).collect_any()}
                    </ul>
                    <div class="row">
                        <button type="button" data-testid="conflict-apply" disabled=move || !all_chosen() on:click=move |_| apply(None)>
                            "Use the chosen values"
                        </button>
                        <button type="button" data-testid="conflict-take-server" on:click=move |_| apply(Some(Side::Theirs))>
                            "Keep the server's value everywhere"
                        </button>
                    </div>
                </div>
            }
            .into_any()
        })}
    }
}

/// The radio choosing `side` for the field at `path` (`name` groups a field's two radios).
fn choice_radio(state: AppState, name: String, path: String, side: Side, test_id: &'static str) -> AnyView {
    let chosen = path.clone();
    view! {
        <input type="radio" name=name data-testid=test_id
            prop:checked=move || state.choices.with(|c| c.get(&chosen) == Some(&side))
            on:change=move |_| state.choices.update(|c| c.set(path.clone(), side)) />
    }
    .into_any()
}

/// A saved draft whose starting version this server does not have (no version recorded, a
/// replaced data directory, a failed fetch). It is never applied on its own.
#[component]
pub fn OrphanPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let discard = move |_| {
        storage::remove_local(ORPHAN_KEY);
        state.orphan.set(None);
        state.info("The unmatched draft was discarded.");
    };
    let adopt = move |_| {
        let (Some(orphan), Some(copy)) = (state.orphan.get_untracked(), state.copy_untracked()) else { return };
        // Opening it replaces the page's text: never over edits the admin made since.
        if copy.is_edited() {
            state.error("Not opened: the page has edits of yours, which the old draft would replace. Publish or discard them first (Publish tab), or export the old draft.");
            return;
        }
        let base = copy.base;
        storage::remove_local(ORPHAN_KEY);
        state.orphan.set(None);
        state.pending.set(None);
        state.set_copy(WorkingCopy { base, text: orphan.text, message: orphan.message });
        state.info("The old draft is open as edits against the server's version. Everything it holds that differs from the server counts as your edit: review the diff before publishing.");
        state.page.set(Page::Publish);
    };
    let retry = Job::new(move |_: &()| retry_orphan(state));
    let export_href = move || {
        let text = state.orphan.with(|o| o.as_ref().map(|o| o.text.clone()).unwrap_or_default());
        format!("data:application/json;charset=utf-8,{}", String::from(js_sys::encode_uri_component(&text)))
    };
    view! {
        {move || state.orphan.get().map(|o| {
            let started = match o.base_version {
                Some(v) => format!("It started from version {v}, which this server does not have as it was (another data directory, or the fetch failed)."),
                None => "It records no version it started from (it was made without a server).".to_string(),
            };
            let current = state.base.with(|b| b.as_ref().map(|b| b.version));
            view! {
                <div class="conflict" role="alert" data-testid="orphan">
                    <h3>"A draft saved in this browser was not applied"</h3>
                    <p>{started}" Nothing in it was applied to the page or the server."</p>
                    <div class="row">
                        {current.map(|v| view! {
                            <button type="button" data-testid="orphan-adopt" on:click=adopt>{format!("Open it as edits against version {v}…")}</button>
                        }.into_any())}
                        <button type="button" on:click=move |_| { retry.dispatch(()); }>"Try again"</button>
                        <a href=export_href download="unmatched-draft.json">"Export it"</a>
                        <button type="button" class="danger" data-testid="orphan-discard" on:click=discard>"Discard it"</button>
                    </div>
                </div>
            }
            .into_any()
        })}
    }
}
