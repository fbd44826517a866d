//! The shell: header with the draft status, tabs, the current page.

use edgeflag_dashboard::draft::DraftState;
use leptos::prelude::*;

use crate::ui::components::{effect, CollectAny, When};

use super::components::sync_panels::{ConflictPanel, OrphanPanel, RebaseNote};
use super::pages::{
    canary::CanaryPage, experiment::ExperimentPage,
    editor::EditorPage, flags::FlagsPage, history::HistoryPage, load::LoadPage,
    preview::PreviewPage, publish::PublishPage, raw::RawPage, segments::SegmentsPage,
};
use super::state::{AppState, Page};
use super::sync;
use super::url;

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    // The URL first: the screen and flag it names are shown while the file loads.
    url::start(state);
    sync::start(state);
    // Another screen shows the text or its problems: form edits are written into it first.
    effect(move || {
        state.page.track();
        state.flush();
    });
    view! {
        <header class="top">
            <h1>"edgeflag"</h1>
            <StatusBar />
        </header>
        <Tabs />
        <NoticeBanner />
        <div class="sync-panels">
            <RebaseNote />
            <OrphanPanel />
            <ConflictPanel />
        </div>
        <main id="main">
            {move || match state.page.get() {
                Page::Flags => view! { <FlagsPage /> }.into_any(),
                Page::Editor => view! { <EditorPage /> }.into_any(),
                Page::Segments => view! { <SegmentsPage /> }.into_any(),
                Page::Raw => view! { <RawPage /> }.into_any(),
                Page::Preview => view! { <PreviewPage /> }.into_any(),
                Page::Publish => view! { <PublishPage /> }.into_any(),
                Page::History => view! { <HistoryPage /> }.into_any(),
                Page::Load => view! { <LoadPage /> }.into_any(),
                Page::Canary => view! { <CanaryPage /> }.into_any(),
                Page::Experiment => view! { <ExperimentPage /> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Tabs() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <nav class="tabs" aria-label="Screens">
            {Page::TABS.into_iter().map(|page| view! {
                <button type="button" class="tab" data-page=page.label()
                    // "false" (not current, as ARIA defines it) rather than no attribute: a
                    // `String` attribute like the others, not one more reactive attribute type.
                    aria-current=move || if state.page.get() == page { "page".to_string() } else { "false".to_string() }
                    on:click=move |_| state.page.set(page)>{page.label()}</button>
            }).collect_any()}
        </nav>
    }
}

#[component]
fn StatusBar() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft_state = state.status;
    let problems = move || state.parsed.with(|p| p.problems.len());
    let first_problem = move |_| {
        if state.parsed.with_untracked(|p| !p.problems.problems.is_empty()) {
            state.page.set(Page::Raw);
            state.jump.set(true);
        }
    };
    view! {
        <div class="status" aria-live="polite">
            <span data-testid="draft-state" class:modified=move || draft_state.get().is_edited()
                class:behind=move || matches!(draft_state.get(), DraftState::Behind { .. })>
                {move || draft_state.get().label()}
            </span>
            <When when=move || { problems() > 0 }>
                <button type="button" class="link bad" data-testid="problem-count" on:click=first_problem>
                    {move || format!("{} problem(s)", problems())}
                </button>
            </When>
        </div>
    }
}

#[component]
fn NoticeBanner() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        {move || Some(state.notice.get()).filter(|text| !text.is_empty()).map(|text| view! {
            <div class=if state.notice_is_error.get() { "notice error" } else { "notice" } role="status" data-testid="notice">
                <span>{text}</span>
                <button type="button" aria-label="Dismiss" on:click=move |_| state.notice.set(String::new())>"×"</button>
            </div>
        }.into_any())}
    }
}
