//! The dashboard's URLs: which screen, and which flag on it, a path names.
//!
//! | Path | Screen |
//! |---|---|
//! | `/`, `/flags` | the flags list |
//! | `/flags/<key>` | the editor of flag `<key>` |
//! | `/flags/<key>/canary`, `/flags/<key>/experiment` | the Canary / Experiment tab with `<key>` chosen |
//! | `/edit` | the editor with no flag chosen |
//! | `/segments`, `/raw`, `/preview`, `/publish`, `/history`, `/load`, `/canary`, `/experiment` | those tabs |
//!
//! A key may be any non-empty UTF-8 without control characters (the evaluator's rule), so it
//! is percent-encoded in its path segment: everything but ASCII letters, digits and `-._~`.
//! Two more cases cannot travel as a path segment at all: `.` and `..` (browsers drop them,
//! encoded or not, as dot segments) and the empty key (an editor mid-rename); they go as
//! `/edit?flag=…`, `/canary?flag=…`, `/experiment?flag=…`, which are accepted for any key.
//!
//! Pure and natively tested; `ui::url` binds it to the browser's history.

/// The screens, one per tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    Flags,
    Editor,
    Segments,
    Raw,
    Preview,
    Publish,
    History,
    Load,
    Canary,
    Experiment,
}

impl Page {
    pub const TABS: [Page; 10] = [
        Page::Flags,
        Page::Editor,
        Page::Segments,
        Page::Raw,
        Page::Preview,
        Page::Publish,
        Page::History,
        Page::Load,
        Page::Canary,
        Page::Experiment,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Page::Flags => "Flags",
            Page::Editor => "Edit flag",
            Page::Segments => "Segments",
            Page::Raw => "Raw JSON",
            Page::Preview => "Preview",
            Page::Publish => "Publish",
            Page::History => "History",
            Page::Load => "Load / export",
            Page::Canary => "Canary",
            Page::Experiment => "Experiment",
        }
    }

    /// The path of the tab without a flag (its first segment).
    pub fn slug(self) -> &'static str {
        match self {
            Page::Flags => "flags",
            Page::Editor => "edit",
            Page::Segments => "segments",
            Page::Raw => "raw",
            Page::Preview => "preview",
            Page::Publish => "publish",
            Page::History => "history",
            Page::Load => "load",
            Page::Canary => "canary",
            Page::Experiment => "experiment",
        }
    }

    /// Whether the screen has its own chosen flag, carried in the URL.
    pub fn takes_flag(self) -> bool {
        matches!(self, Page::Editor | Page::Canary | Page::Experiment)
    }
}

/// A screen and the flag chosen on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub page: Page,
    /// The editor's flag, or the Canary / Experiment tab's choice; `None` on other screens.
    pub flag: Option<String>,
}

impl Default for Route {
    fn default() -> Self {
        Route { page: Page::Flags, flag: None }
    }
}

/// Longer paths are not a dashboard URL (a key is at most 256 bytes, 768 encoded).
pub const MAX_PATH: usize = 4096;

/// File extensions after which the server answers a missing path with a 404 instead of the
/// dashboard (server/src/http/static_files.rs `ASSET_EXTENSIONS`): a key ending in one of them
/// (`config.json`) has its last `.` encoded, so `/flags/config%2Ejson` still reloads.
const FILE_EXTENSIONS: [&str; 18] = [
    "js", "mjs", "wasm", "css", "html", "htm", "map", "json", "txt", "ico", "png", "svg", "jpg", "jpeg", "webp", "woff",
    "woff2", "webmanifest",
];

impl Route {
    /// The route, with `flag` dropped on screens that have none.
    pub fn new(page: Page, flag: Option<String>) -> Self {
        Route { flag: flag.filter(|_| page.takes_flag()), page }
    }

    /// The URL (path and, for keys a path cannot carry, a query) of this route.
    pub fn to_url(&self) -> String {
        let key = match (&self.flag, self.page.takes_flag()) {
            (Some(key), true) => key,
            _ => return format!("/{}", self.page.slug()),
        };
        if key.is_empty() || key == "." || key == ".." {
            return format!("/{}?flag={}", self.page.slug(), encode_key(key));
        }
        let key = encode_key(key);
        match self.page {
            Page::Editor => format!("/flags/{key}"),
            page => format!("/flags/{key}/{}", page.slug()),
        }
    }

    /// The route `path` (`location.pathname`) and `search` (`location.search`, with or without
    /// its `?`) name; `None` for a path that is no dashboard URL (the caller shows the list).
    pub fn parse(path: &str, search: &str) -> Option<Route> {
        if path.len() > MAX_PATH || !path.starts_with('/') {
            return None;
        }
        // One trailing slash is forgiven: `/flags/` is `/flags`.
        let trimmed = if path.len() > 1 { path.strip_suffix('/').unwrap_or(path) } else { path };
        let segments: Vec<&str> = trimmed[1..].split('/').collect();
        let route = match segments.as_slice() {
            [""] | ["flags"] => Route::default(),
            ["flags", key] => Route { page: Page::Editor, flag: Some(decode_key(key)?) },
            ["flags", key, tab] => {
                let page = [Page::Canary, Page::Experiment].into_iter().find(|p| p.slug() == *tab)?;
                Route { page, flag: Some(decode_key(key)?) }
            }
            [slug] => {
                let page = Page::TABS.into_iter().find(|p| p.slug() == *slug)?;
                let flag = match query_flag(search) {
                    Some(encoded) if page.takes_flag() => Some(decode(encoded)?),
                    _ => None,
                };
                Route { page, flag }
            }
            _ => return None,
        };
        Some(route)
    }
}

/// The raw value of the `flag` query parameter, if present.
fn query_flag(search: &str) -> Option<&str> {
    let search = search.strip_prefix('?').unwrap_or(search);
    search.split('&').find_map(|pair| pair.strip_prefix("flag=").or((pair == "flag").then_some("")))
}

/// A key as a path segment (or query value).
pub fn encode_key(key: &str) -> String {
    // The last `.` is encoded when what follows it reads as a file extension to the server.
    let bytes = key.as_bytes();
    let file_dot = bytes
        .iter()
        .rposition(|&b| b == b'.')
        .filter(|&i| FILE_EXTENSIONS.iter().any(|e| e.as_bytes().eq_ignore_ascii_case(&bytes[i + 1..])));
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(key.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') || (b == b'.' && Some(i) != file_dot) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// A path segment back to its key: `None` for a bad escape or text that is not UTF-8, and for
/// the empty segment (`/flags//canary`).
fn decode_key(segment: &str) -> Option<String> {
    decode(segment).filter(|k| !k.is_empty())
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn route(page: Page, flag: Option<&str>) -> Route {
        Route { page, flag: flag.map(String::from) }
    }

    #[test]
    fn every_documented_path_names_its_screen() {
        let table = [
            ("/", route(Page::Flags, None)),
            ("/flags", route(Page::Flags, None)),
            ("/flags/", route(Page::Flags, None)),
            ("/flags/payment-processor", route(Page::Editor, Some("payment-processor"))),
            ("/flags/payment-processor/canary", route(Page::Canary, Some("payment-processor"))),
            ("/flags/payment-processor/experiment", route(Page::Experiment, Some("payment-processor"))),
            ("/flags/checkout.v2", route(Page::Editor, Some("checkout.v2"))),
            ("/flags/a%2Fb%20c/canary", route(Page::Canary, Some("a/b c"))),
            ("/flags/caf%C3%A9", route(Page::Editor, Some("café"))),
            ("/edit", route(Page::Editor, None)),
            ("/segments", route(Page::Segments, None)),
            ("/raw", route(Page::Raw, None)),
            ("/preview", route(Page::Preview, None)),
            ("/publish", route(Page::Publish, None)),
            ("/history/", route(Page::History, None)),
            ("/load", route(Page::Load, None)),
            ("/canary", route(Page::Canary, None)),
            ("/experiment", route(Page::Experiment, None)),
        ];
        for (path, want) in table {
            assert_eq!(Route::parse(path, ""), Some(want), "{path}");
        }
    }

    #[test]
    fn unknown_paths_are_no_route() {
        for path in [
            "",
            "flags",
            "/nope",
            "/flags/x/segments",
            "/flags/x/canary/more",
            "/flags//canary",
            "/flags/%zz",
            "/flags/%4",
            "/flags/%C3",
            "//flags",
            "/segments/x",
            "/Flags",
        ] {
            assert_eq!(Route::parse(path, ""), None, "{path:?}");
        }
        assert_eq!(Route::parse(&format!("/flags/{}", "a".repeat(MAX_PATH)), ""), None);
    }

    #[test]
    fn keys_are_encoded_outside_the_unreserved_characters() {
        assert_eq!(Route::new(Page::Editor, Some("payment-processor".into())).to_url(), "/flags/payment-processor");
        assert_eq!(Route::new(Page::Canary, Some("a/b?c#d%e f".into())).to_url(), "/flags/a%2Fb%3Fc%23d%25e%20f/canary");
        assert_eq!(Route::new(Page::Editor, Some("café".into())).to_url(), "/flags/caf%C3%A9");
        assert_eq!(Route::new(Page::Editor, Some("checkout.v2".into())).to_url(), "/flags/checkout.v2");
        // A key that ends like a file name would be a 404 on reload (the server's asset rule).
        assert_eq!(Route::new(Page::Editor, Some("config.JSON".into())).to_url(), "/flags/config%2EJSON");
        assert_eq!(Route::new(Page::Editor, Some("a.b.js".into())).to_url(), "/flags/a.b%2Ejs");
    }

    #[test]
    fn dot_segments_and_the_empty_key_go_in_the_query() {
        assert_eq!(Route::new(Page::Editor, Some(".".into())).to_url(), "/edit?flag=.");
        assert_eq!(Route::new(Page::Canary, Some("..".into())).to_url(), "/canary?flag=..");
        assert_eq!(Route::new(Page::Experiment, Some(String::new())).to_url(), "/experiment?flag=");
        assert_eq!(Route::parse("/canary", "?x=1&flag=a%2Fb"), Some(route(Page::Canary, Some("a/b"))));
        // Screens without a flag ignore the query.
        assert_eq!(Route::parse("/raw", "?flag=x"), Some(route(Page::Raw, None)));
    }

    #[test]
    fn screens_without_a_flag_drop_it() {
        assert_eq!(Route::new(Page::Publish, Some("x".into())), route(Page::Publish, None));
        assert_eq!(Route::new(Page::Flags, Some("x".into())).to_url(), "/flags");
    }

    fn any_page() -> impl Strategy<Value = Page> {
        proptest::sample::select(Page::TABS.to_vec())
    }

    proptest! {
        #[test]
        fn every_route_round_trips(page in any_page(), flag in proptest::option::of(prop_oneof![
            Just(".".to_string()), Just("..".to_string()), Just(String::new()),
            "[a-z0-9.]{1,6}\\.(json|js|v2|WASM)",
            "\\PC{0,40}",
        ])) {
            let want = Route::new(page, flag);
            let url = want.to_url();
            let (path, search) = url.split_once('?').map_or((url.as_str(), ""), |(p, s)| (p, s));
            prop_assert_eq!(Route::parse(path, search), Some(want.clone()), "{}", url);
            // What the browser may rewrite stays out of the path: dot segments, `?`, `#`, `%`.
            let dot_segment = |s: &str| matches!(s.to_ascii_lowercase().as_str(), "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e");
            prop_assert!(!path.split('/').any(dot_segment), "{}", url);
            prop_assert!(url.bytes().all(|b| b.is_ascii_graphic()), "{}", url);
        }

        #[test]
        fn parsing_any_text_never_panics(path in "\\PC{0,80}", search in "\\PC{0,20}") {
            let _ = Route::parse(&path, &search);
        }
    }
}
