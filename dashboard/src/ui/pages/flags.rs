//! The flags list: search and filter by key, tag, kind and status; create, duplicate, delete.

use std::sync::Arc;

use edgeflag_dashboard::filter::{all_tags, filter_flags, flag_status, Filter, StatusFilter};
use edgeflag_dashboard::forms::{new_flag, unique_key};
use edgeflag_evaluator::model::FlagKind;
use leptos::prelude::*;

use crate::ui::components::{CollectAny, When};

use crate::ui::components::keyed_rows;
use crate::ui::state::{AppState, Page};

/// Rendering thousands of rows costs more than filtering them: show the first matches.
const MAX_ROWS: usize = 200;

#[component]
pub fn FlagsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    // The controls' values as typed and chosen ("" for any), the filter built from them:
    // `String` signals like the rest of the page, not one more signal type.
    let (text, tag, kind, status) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let matches = Memo::new(move |_| {
        let filter = Filter { text: text.get(), tag: tag.get(), kind: FlagKind::parse(&kind.get()), status: StatusFilter::parse(&status.get()) };
        state.with_model(|m| filter_flags(m, &filter)).unwrap_or_default()
    });
    let tags = Memo::new(move |_| state.with_model(all_tags).unwrap_or_default());
    let total = move || state.with_model(|m| m.flags.len()).unwrap_or(0);
    view! {
        <section aria-labelledby="flags-title">
            <h2 id="flags-title">"Flags"</h2>
            <When when=move || state.with_model(|_| ()).is_none()>
                <p class="notice error">"The draft is not valid JSON: fix it in the Raw JSON tab."</p>
            </When>
            <div class="filters row" role="search">
                <label class="field"><span class="label">"Search key or description"</span>
                    <input type="search" data-testid="flag-search" prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev)) />
                </label>
                <label class="field"><span class="label">"Tag"</span>
                    <select on:change=move |ev| tag.set(event_target_value(&ev))>
                        <option value="">"any tag"</option>
                        {move || tags.get().into_iter().map(|t| { let v = t.clone(); view! { <option value=v>{t}</option> } }).collect_any()}
                    </select>
                </label>
                <label class="field"><span class="label">"Kind"</span>
                    <select on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="">"any kind"</option>
                        {FlagKind::ALL.into_iter()
                            .map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_any()}
                    </select>
                </label>
                <label class="field"><span class="label">"Status"</span>
                    <select data-testid="status-filter" on:change=move |ev| status.set(event_target_value(&ev))>
                        {StatusFilter::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_any()}
                    </select>
                </label>
            </div>
            <p data-testid="match-count" aria-live="polite">
                {move || {
                    let n = matches.with(Vec::len);
                    if n > MAX_ROWS { format!("{n} of {} flags match (showing the first {MAX_ROWS})", total()) }
                    else { format!("{n} of {} flags match", total()) }
                }}
            </p>
            <FlagTable matches=matches />
            <NewFlag />
        </section>
    }
}

#[component]
fn FlagTable(matches: Memo<Vec<usize>>) -> impl IntoView {
    let rows = Arc::new(move || matches.with(|m| m.iter().take(MAX_ROWS).copied().collect::<Vec<_>>()));
    view! {
        <table class="flags">
            <thead><tr><th>"Key"</th><th>"Description"</th><th>"Kind"</th><th>"Tags"</th><th>"Status"</th><th>"Problems"</th><th>"Actions"</th></tr></thead>
            <tbody>
                {keyed_rows(rows, Arc::new(|i| view! { <FlagRow index=i /> }.into_any()))}
            </tbody>
        </table>
    }
}

#[component]
fn FlagRow(index: usize) -> impl IntoView {
    let state = expect_context::<AppState>();
    let confirming = RwSignal::new(false);
    let field = move |f: fn(&edgeflag_evaluator::model::Flag) -> String| {
        state.with_model(|m| m.flags.get(index).map(f)).flatten().unwrap_or_default()
    };
    let key = move || field(|f| f.key.clone());
    let problems = move || state.problems_within(&format!("flags[{index}]"));
    let open = move |_| {
        state.open_flag(key(), index);
        state.page.set(Page::Editor);
    };
    let duplicate = move |_| {
        state.update_model(|m| {
            if let Some(flag) = m.flags.get(index).cloned() {
                let mut copy = flag;
                copy.key = unique_key(m.flags.iter().map(|f| f.key.as_str()), &copy.key);
                m.flags.insert(index + 1, copy);
            }
        });
    };
    let delete = move |_| {
        let mut deleted = None;
        state.update_model(|m| {
            if index < m.flags.len() {
                deleted = Some(m.flags.remove(index).key);
            }
        });
        // Only the deleted flag leaves the editor: the selection is by key, so any other open
        // flag stays open wherever it moved to.
        if deleted.is_some_and(|k| state.selected.with_untracked(|s| *s == k)) {
            state.selected.set(String::new());
        }
        confirming.set(false);
    };
    view! {
        <tr>
            // Keys and descriptions are user data: rendered as text nodes, never as markup.
            <td><button type="button" class="link" on:click=open>{key}</button></td>
            <td class="description">{move || field(|f| f.description.clone())}</td>
            <td>{move || field(|f| f.kind.as_str().to_string())}</td>
            <td>{move || field(|f| f.tags.join(", "))}</td>
            <td>{move || field(|f| flag_status(f).label())}</td>
            <td class:bad=move || { problems() > 0 }>{move || match problems() { 0 => String::new(), n => n.to_string() }}</td>
            <td class="actions">
                <When when=move || !confirming.get() fallback=move || view! {
                    <span role="alert">{move || format!("Delete {}?", key())}</span>
                    <button type="button" class="danger" on:click=delete>"Yes, delete"</button>
                    <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                }>
                    <button type="button" on:click=duplicate aria-label=move || format!("Duplicate {}", key())>"Duplicate"</button>
                    <button type="button" class="danger" on:click=move |_| confirming.set(true) aria-label=move || format!("Delete {}", key())>"Delete"</button>
                </When>
            </td>
        </tr>
    }
}

#[component]
fn NewFlag() -> impl IntoView {
    let state = expect_context::<AppState>();
    let key_input = RwSignal::new(String::new());
    let kind = RwSignal::new(FlagKind::Boolean);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let key = key_input.get_untracked().trim().to_string();
        if key.is_empty() {
            state.error("A new flag needs a key.");
            return;
        }
        let mut created = None;
        state.update_model(|m| {
            m.flags.push(new_flag(&key, kind.get_untracked()));
            created = Some(m.flags.len() - 1);
        });
        if let Some(index) = created {
            key_input.set(String::new());
            state.open_flag(key, index);
            state.page.set(Page::Editor);
        }
    };
    view! {
        <form class="row new-flag" on:submit=create>
            <h3>"New flag"</h3>
            <label class="field"><span class="label">"Key"</span>
                <input type="text" required prop:value=key_input on:input=move |ev| key_input.set(event_target_value(&ev)) />
            </label>
            <label class="field"><span class="label">"Kind"</span>
                <select on:change=move |ev| kind.set(FlagKind::parse(&event_target_value(&ev)).unwrap_or(FlagKind::Boolean))>
                    {FlagKind::ALL.into_iter()
                        .map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_any()}
                </select>
            </label>
            <button type="submit">"Create flag"</button>
        </form>
    }
}
