//! Keeping the page in step with the server. At start, a saved draft is restored against the
//! version it started from; then `GET /api/flags` is polled (with `If-None-Match`) every few
//! seconds and on focus. A newer version is simply shown while there are no edits; with
//! edits, they are rebased onto it (`edgeflag_dashboard::rebase`). The decisions are the
//! library's; this module only fetches and applies them.

use std::cell::Cell;
use std::time::Duration;

use edgeflag_dashboard::draft::{read_saved, restore, with_base, Based, Published, Restore, SavedDraft, WorkingCopy, DRAFT_KEY, OLD_DRAFT_KEY};
use edgeflag_dashboard::rebase::{authors_between, flag_of, last_change, rebase, rebase_note, ByPath, Pending, Rebase};
use leptos::prelude::*;
use serde_json::Value;

use super::api;
use super::components::effect;
use super::state::{AppState, EMPTY_FILE};
use super::storage;

/// How often the page asks the server for a newer version.
pub const POLL: Duration = Duration::from_secs(3);
/// A draft kept aside because its base is not in this server's history (see [`OrphanPanel`]).
///
/// [`OrphanPanel`]: super::components::sync_panels::OrphanPanel
pub const ORPHAN_KEY: &str = "edgeflag.draft.unmatched";
thread_local! {
    /// The version this page's last publish made: a poll that reaches it before the publish's
    /// answer rebases onto it, and its note ("the server moved to version N") would describe
    /// the admin's own publish, after the answer had cleared it.
    pub static OWN_VERSION: Cell<u64> = const { Cell::new(0) };
}

/// Beyond this many versions between a conflict's base and the server, who changed a field is
/// taken from the history's changed flags rather than by fetching every version.
const MAX_VERSIONS_FETCHED: u64 = 20;

/// Restores the saved draft, then follows the server: polls, rebases, saves.
pub fn start(state: AppState) {
    state.persist_draft();
    follow_server(state);
    if let Some(orphan) = storage::load_local(ORPHAN_KEY).and_then(|t| SavedDraft::from_json(&t)) {
        state.orphan.set(Some(orphan));
    }
    let saved = read_saved(storage::load_local(DRAFT_KEY).as_deref(), storage::load_local(OLD_DRAFT_KEY).as_deref());
    leptos::task::spawn_local(load(state, saved));
    let poll = move || leptos::task::spawn_local(check(state));
    let _ = set_interval_with_handle(poll, POLL);
    // Back to the tab: ask at once rather than at the next tick.
    let _ = window_event_listener(leptos::ev::focus, move |_| poll());
}

fn url(state: AppState) -> String {
    state.server.get_untracked()
}

/// Loads the server's current version and restores `saved` against it (at start, and when the
/// admin loads from another server).
pub async fn load(state: AppState, saved: Option<SavedDraft>) {
    state.ready.set(false);
    let server = match api::get_published(&url(state)).await {
        Ok(server) => server,
        Err(e) => {
            match saved {
                Some(saved) => {
                    state.base.set(None);
                    state.offline_base.set(
                        saved.base_version.zip(saved.base_etag).map(|(version, etag)| Published { text: String::new(), etag, version }),
                    );
                    state.set_text(saved.text);
                    state.message.set(saved.message);
                }
                None if state.draft.with_untracked(String::is_empty) => state.set_text(EMPTY_FILE.into()),
                None => {}
            }
            state.error(format!("Could not load from the server ({e}). Working on the local draft; open a file or URL in Load / export."));
            state.ready.set(true);
            return;
        }
    };
    let copy = match restore(saved, &server) {
        Restore::Follow => WorkingCopy::following(server.clone()),
        Restore::Resume(copy) => {
            state.info("Restored your unpublished draft.");
            copy
        }
        Restore::FetchBase { version, saved } => from_base(state, version, saved, &server).await,
        Restore::Orphan(saved) => {
            keep_aside(state, saved);
            WorkingCopy::following(server.clone())
        }
    };
    state.pending.set(None);
    state.set_copy(copy);
    state.published.set(Some(server));
    state.ready.set(true);
}

/// A saved draft that started from version `n`, older than the server's: its edits against
/// that version, to be rebased (never laid over the server's version as a whole).
async fn from_base(state: AppState, n: u64, saved: SavedDraft, server: &Published) -> WorkingCopy {
    match api::published_version(&url(state), n).await {
        Ok(base) => match with_base(saved, base) {
            Based::Discard => WorkingCopy::following(server.clone()),
            Based::Copy(copy) => {
                state.info(format!(
                    "Restored your unpublished draft. It started from version {n}; the server is at version {}, so your edits are rebased onto it.",
                    server.version
                ));
                copy
            }
            Based::Orphan(saved) => {
                keep_aside(state, saved);
                WorkingCopy::following(server.clone())
            }
        },
        Err(e) => {
            state.error(format!("Could not fetch version {n}, which your saved draft started from ({e}). The draft is kept aside."));
            keep_aside(state, saved);
            WorkingCopy::following(server.clone())
        }
    }
}

/// Keeps a draft out of the working copy, under its own key, until the admin decides.
fn keep_aside(state: AppState, saved: SavedDraft) {
    storage::save_local(ORPHAN_KEY, &saved.to_json());
    state.orphan.set(Some(saved));
}

/// Re-runs the restore for a draft kept aside (after a failed fetch, say).
pub async fn retry_orphan(state: AppState) {
    let Some(saved) = state.orphan.get_untracked() else { return };
    // A form edit made just before the click counts as an edit.
    state.flush();
    storage::remove_local(ORPHAN_KEY);
    state.orphan.set(None);
    if state.is_edited() {
        // The current edits stay; the old draft is only looked at again once they are gone.
        keep_aside(state, saved);
        state.error("Publish or discard your current edits first.");
        return;
    }
    load(state, Some(saved)).await;
}

/// One poll: a newer server version is applied (see [`receive`]).
pub async fn check(state: AppState) {
    if !state.ready.get_untracked() {
        return;
    }
    if state.base.with_untracked(Option::is_none) {
        // Not connected (the server was down at load, or this is a static host): when a
        // server answers, connect, keeping the local draft the way a reload would.
        if api::get_published(&url(state)).await.is_ok() {
            load(state, state.saved_untracked()).await;
        }
        return;
    }
    let known = state.published.with_untracked(|p| p.as_ref().map(|p| p.etag.clone()));
    if let Ok(Some(server)) = api::published_if_changed(&url(state), known.as_deref()).await {
        receive(state, server);
    }
}

/// A version fetched from the server. Only a newer one counts: a poll sent before a publish
/// may answer after it with the version the publish replaced.
pub fn receive(state: AppState, server: Published) {
    let newer = state.published.with_untracked(|p| match p {
        Some(known) => server.version > known.version,
        None => true,
    });
    if newer {
        state.published.set(Some(server));
    }
}

/// Whenever the server's version, the base or the text changes: an unedited copy follows the
/// server, edits are rebased onto it, conflicts wait for the admin (see `ConflictPanel`).
fn follow_server(state: AppState) {
    let attributed = StoredValue::new((0u64, 0u64, Vec::<String>::new()));
    effect(move || {
        if !state.ready.get() {
            return;
        }
        state.draft.track();
        // Compared before anything is cloned: this runs on every edit.
        let current = state.published.with(|p| {
            p.as_ref().map(|server| state.base.with(|b| b.as_ref().is_some_and(|b| b.etag == server.etag)))
        });
        match current {
            None => return,
            Some(true) => {
                if state.pending.with_untracked(Option::is_some) {
                    state.pending.set(None);
                }
                return;
            }
            Some(false) => {}
        }
        let (Some(server), Some(copy)) = (state.published.get_untracked(), state.copy_untracked()) else { return };
        match rebase(&copy, &server) {
            Rebase::Current => state.pending.set(None),
            Rebase::Followed(next) => {
                state.pending.set(None);
                state.set_copy(next);
            }
            Rebase::Rebased { copy: next, kept_theirs } => {
                let from = copy.base.version;
                state.pending.set(None);
                state.choices.set(Default::default());
                state.set_copy(next);
                leptos::task::spawn_local(async move {
                    let history = api::history(&url(state), 200).await.unwrap_or_default();
                    let authors = authors_between(&history, from, server.version);
                    if OWN_VERSION.with(Cell::get) != server.version {
                        state.rebase_note.set(rebase_note(server.version, &authors, &kept_theirs));
                    }
                });
            }
            Rebase::Conflicts(pending) => {
                let key = (copy.base.version, server.version, pending.conflicts.iter().map(|c| c.path.to_string()).collect::<Vec<_>>());
                if state.pending.with_untracked(|p| p.as_ref() != Some(&pending)) {
                    state.rebase_note.set(String::new()); // the panel says more than the note
                    state.pending.set(Some(pending.clone()));
                }
                if attributed.with_value(|a| *a != key) {
                    attributed.set_value(key);
                    leptos::task::spawn_local(attribute(state, copy.base, pending));
                }
            }
            Rebase::Unparsable(_) => {
                if state.pending.with_untracked(Option::is_some) {
                    state.pending.set(None);
                }
            }
        }
    });
}

/// Finds who last changed each conflicting field on the server, and in which version.
async fn attribute(state: AppState, base: Published, pending: Pending) {
    let server = url(state);
    let (from, to) = (base.version, pending.server.version);
    let history = api::history(&server, 200).await.unwrap_or_default();
    let author = |v: u64| history.iter().find(|e| e.version == v).map(|e| e.author.clone()).unwrap_or_default();
    let json = |t: &str| edgeflag_dashboard::json::value(t).unwrap_or(Value::Null);
    let mut found = ByPath::default();
    let mut versions = vec![(from, author(from), json(&base.text))];
    if to.saturating_sub(from) <= MAX_VERSIONS_FETCHED {
        for v in from + 1..to {
            match api::published_version(&server, v).await {
                Ok(Some(p)) => versions.push((v, author(v), json(&p.text))),
                _ => {
                    versions.clear();
                    break;
                }
            }
        }
    } else {
        versions.clear();
    }
    if !versions.is_empty() {
        versions.push((to, author(to), json(&pending.server.text)));
        for c in &pending.conflicts {
            if let Some((v, a)) = last_change(&c.path, &versions) {
                found.set(c.path.to_string(), (v, a.to_string()));
            }
        }
    } else {
        // By the history's changed flags: the newest version in (from, to] that changed the flag.
        for c in &pending.conflicts {
            let Some(flag) = flag_of(&c.path) else { continue };
            if let Some(e) = history
                .iter()
                .find(|e| e.version > from && e.version <= to && e.changed_flags.iter().any(|f| f == flag))
            {
                found.set(c.path.to_string(), (e.version, e.author.clone()));
            }
        }
    }
    state.attribution.set(found);
}
