//! History: the server's versions with author and changed flags; view any, roll back.

use std::sync::Arc;

use edgeflag_dashboard::diff::diff_files;
use edgeflag_dashboard::draft::Published;
use leptos::prelude::*;

use crate::ui::components::{CollectAny, When};
use serde_json::Value;

use super::publish::handle_outcome;
use crate::ui::api;
use crate::ui::fetched::{Fetched, Job};
use crate::ui::components::diff_view::{DiffView, Entries};
use crate::ui::state::AppState;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    // Refetched whenever the server publishes a new version (from this tab or anyone else).
    let history = Fetched::new(move || {
        let _ = state.published.with(|p| p.as_ref().map(|p| p.version));
        let server = state.server.get();
        async move { api::history(&server, 100).await }
    });
    // The version being viewed (its ETag is not needed here): a `Published`, the signal type the
    // state already has, not one more.
    let viewing = RwSignal::new(None::<Published>);
    let view_version = Job::new(move |n: &u64| {
        let n = *n;
        async move {
            match api::version(&state.server.get_untracked(), n).await {
                Ok(text) => viewing.set(Some(Published { text, etag: String::new(), version: n })),
                Err(e) => state.error(e),
            }
        }
    });
    view! {
        <section aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <button type="button" on:click=move |_| history.refetch()>"Refresh"</button>
            {move || match history.get() {
                None => view! { <p>"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice error">{e}</p> }.into_any(),
                Some(Ok(entries)) => view! {
                    <table class="history" data-testid="history">
                        <thead><tr><th>"Version"</th><th>"When"</th><th>"Author"</th><th>"Changed flags"</th><th>"Message"</th><th>"Actions"</th></tr></thead>
                        <tbody>
                            {entries.into_iter().map(|e| view! {
                                <tr data-version=e.version.to_string()>
                                    <td>{e.version}</td><td>{e.created_at}</td><td>{e.author}</td>
                                    <td>{e.changed_flags.join(", ")}</td><td>{e.message}</td>
                                    <td><button type="button" on:click=move |_| { view_version.dispatch(e.version); }>"View"</button>
                                        <Rollback version=e.version /></td>
                                </tr>
                            }).collect_any()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
            <VersionView viewing=viewing />
        </section>
    }
}

#[component]
fn VersionView(viewing: RwSignal<Option<Published>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let json = |t: &str| edgeflag_dashboard::json::value(t).unwrap_or(Value::Null);
    let entries: Entries = Arc::new(move || {
        let published = state.published.with(|p| p.as_ref().map(|p| json(&p.text))).unwrap_or(Value::Null);
        viewing.with(|v| v.as_ref().map(|v| diff_files(&published, &json(&v.text)))).unwrap_or_default()
    });
    view! {
        <When when=move || viewing.with(Option::is_some)>
            <div class="version-view" data-testid="version-view">
                <h3>{move || format!("Version {}", viewing.with(|v| v.as_ref().map_or(0, |v| v.version)))}</h3>
                <h4>"Compared with the published version"</h4>
                <DiffView entries=entries.clone() empty="Same as the published version." />
                <details><summary>"Full JSON"</summary>
                    <pre class="mono">{move || viewing.with(|v| v.as_ref().map(|v| v.text.clone()).unwrap_or_default())}</pre>
                </details>
                <button type="button" on:click=move |_| viewing.set(None)>"Close"</button>
            </div>
        </When>
    }
}

#[component]
fn Rollback(version: u64) -> impl IntoView {
    let state = expect_context::<AppState>();
    let confirming = RwSignal::new(false);
    // A new version like any other: an unedited page follows it, edits are rebased onto it.
    let rollback = Job::new(move |_: &()| async move {
        confirming.set(false);
        let Some(etag) = state.published.get_untracked().map(|p| p.etag) else { return };
        let server = state.server.get_untracked();
        let message = format!("roll back to version {version}");
        let outcome = api::write(&server, &etag, &state.token.get_untracked(), &message, None, Some(version)).await;
        handle_outcome(state, outcome, None).await;
    });
    view! {
        <When when=move || confirming.get() fallback=move || view! {
            <button type="button" on:click=move |_| confirming.set(true)>"Roll back…"</button>
        }>
            <span role="alert">{format!("Publish version {version} again?")}</span>
            <button type="button" class="danger" on:click=move |_| { rollback.dispatch(()); }>"Yes, roll back"</button>
            <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
        </When>
    }
}
