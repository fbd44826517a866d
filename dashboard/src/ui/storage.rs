//! localStorage (the draft, kept across reloads) and sessionStorage (the admin token, gone
//! with the tab). Storage can be unavailable (private mode, quota): callers get `None`.

use web_sys::Storage;

fn local() -> Option<Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn session() -> Option<Storage> {
    web_sys::window()?.session_storage().ok()?
}

pub fn load_local(key: &str) -> Option<String> {
    local()?.get_item(key).ok()?
}

/// Returns false when the browser refused (e.g. quota exceeded) so the UI can warn.
pub fn save_local(key: &str, value: &str) -> bool {
    local().is_some_and(|s| s.set_item(key, value).is_ok())
}

/// Returns false when the browser refused.
pub fn remove_local(key: &str) -> bool {
    local().is_some_and(|s| s.remove_item(key).is_ok())
}

pub fn load_session(key: &str) -> Option<String> {
    session()?.get_item(key).ok()?
}

pub fn save_session(key: &str, value: &str) {
    if let Some(s) = session() {
        let _ = if value.is_empty() { s.remove_item(key) } else { s.set_item(key, value) };
    }
}
