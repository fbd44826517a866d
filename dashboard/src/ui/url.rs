//! The address bar: the current screen and its flag as a URL (`edgeflag_dashboard::route`),
//! in step with the browser's history, so that the back button, reloads and links to a flag
//! work. At start the URL sets the screen and the flag; each change of either pushes a new
//! entry (a rename of the open flag replaces it); `popstate` (back, forward) sets them again.
//!
//! Hand-written over web-sys `History` rather than leptos_router: the app has one flat level of
//! screens whose state already lives in `AppState`, and the router's matching, `<Routes>` and
//! `<A>` machinery cost more bundle than this binding for nothing the routes need (figures in
//! dashboard/README.md, "Figures").

use std::cell::Cell;

use edgeflag_dashboard::route::{Page, Route};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use super::components::effect;
use super::state::AppState;

thread_local! {
    /// Set for a change whose URL replaces the current entry instead of adding one.
    static REPLACE_NEXT: Cell<bool> = const { Cell::new(false) };
}

/// The next URL change replaces the current history entry (a rename: the old URL names no
/// flag any more, so going back to it would only show "not found").
pub fn replace_next() {
    REPLACE_NEXT.with(|r| r.set(true));
}

/// `location.pathname` and `location.search`.
fn location() -> (String, String) {
    let location = window().location();
    (location.pathname().unwrap_or_default(), location.search().unwrap_or_default())
}

/// The route the state shows (tracked).
fn shown(state: AppState) -> Route {
    let page = state.page.get();
    let flag = match page {
        Page::Editor => Some(state.selected.get()).filter(|k| !k.is_empty()),
        Page::Canary => Some(state.canary_flag.get()).filter(|k| !k.is_empty()),
        Page::Experiment => Some(state.experiment_flag.get()).filter(|k| !k.is_empty()),
        _ => None,
    };
    Route::new(page, flag)
}

/// Shows `route`. A screen's own flag is set to the route's, even to none, so that state and
/// URL stay one-to-one (otherwise going back to `/canary` would push the old choice again).
fn show(state: AppState, route: Route) {
    match route.page {
        Page::Editor => state.selected.set(route.flag.unwrap_or_default()),
        Page::Canary => state.canary_flag.set(route.flag.unwrap_or_default()),
        Page::Experiment => state.experiment_flag.set(route.flag.unwrap_or_default()),
        _ => {}
    }
    state.page.set(route.page);
}

/// Shows what the address bar names; an unknown path shows the flags list and says so.
fn follow_location(state: AppState) {
    let (path, search) = location();
    match Route::parse(&path, &search) {
        Some(route) => show(state, route),
        None => {
            show(state, Route::default());
            state.error(format!("There is no dashboard screen at {path}: showing the flags list."));
        }
    }
}

/// Reads the URL into the state, then keeps the two in step.
pub fn start(state: AppState) {
    follow_location(state);
    let _ = window_event_listener(leptos::ev::popstate, move |_| follow_location(state));
    let first = Cell::new(true);
    effect(move || {
        let url = shown(state).to_url();
        // The first run only writes the URL's canonical form (`/` is `/flags`) over the entry.
        let replace = REPLACE_NEXT.with(|r| r.replace(false)) | first.replace(false);
        let (path, search) = location();
        if url.strip_prefix(path.as_str()) == Some(search.as_str()) {
            return;
        }
        let Ok(history) = window().history() else { return };
        let _ = if replace {
            history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(&url))
        };
    });
}
