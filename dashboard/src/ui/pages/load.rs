//! Loading a flag file (server, URL, local file) and exporting the draft.

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::ui::api;
use crate::ui::state::AppState;
use crate::ui::sync;
use crate::ui::fetched::Job;

/// Loads from the server in the form: the current edits travel as a saved draft, so they are
/// kept (and rebased) when that server has their base, and kept aside otherwise.
async fn load_from_server(state: AppState) {
    let saved = state.saved_untracked();
    sync::load(state, saved).await;
}

#[component]
pub fn LoadPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let url = RwSignal::new(String::new());
    let reload = Job::new(move |_: &()| load_from_server(state));
    let from_url = Job::new(move |_: &()| async move {
        match api::get_text(&url.get_untracked()).await {
            Ok(text) => {
                state.set_text(text);
                state.info("Loaded the file into the draft. Publish to make it live.");
            }
            Err(e) => state.error(e),
        }
    });
    let from_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        leptos::task::spawn_local(async move {
            match JsFuture::from(file.text()).await {
                Ok(text) => {
                    state.set_text(text.as_string().unwrap_or_default());
                    state.info(format!("Imported {} into the draft. Publish to make it live.", file.name()));
                }
                Err(_) => state.error("Could not read the file."),
            }
        });
    };
    let export_href = move || {
        let text = state.draft.get();
        format!("data:application/json;charset=utf-8,{}", String::from(js_sys::encode_uri_component(&text)))
    };
    view! {
        <section aria-labelledby="load-title">
            <h2 id="load-title">"Load / export"</h2>
            <form class="row" on:submit=move |ev| { ev.prevent_default(); reload.dispatch(()); }>
                <label class="field"><span class="label">"Server (empty = this site)"</span>
                    <input type="url" placeholder="https://flags.example.com" prop:value=move || state.server.get()
                        on:change=move |ev| state.server.set(event_target_value(&ev)) />
                </label>
                <button type="submit">"Load published version"</button>
            </form>
            <form class="row" on:submit=move |ev| { ev.prevent_default(); from_url.dispatch(()); }>
                <label class="field"><span class="label">"Flag file URL"</span>
                    <input type="url" required prop:value=url on:input=move |ev| url.set(event_target_value(&ev)) />
                </label>
                <button type="submit">"Load into draft"</button>
            </form>
            <label class="field"><span class="label">"Import a local JSON file into the draft"</span>
                <input type="file" accept=".json,application/json" data-testid="import-file" on:change=from_file />
            </label>
            <p><a href=export_href download="flags.json" data-testid="export">"Export the draft as flags.json"</a></p>
        </section>
    }
}
