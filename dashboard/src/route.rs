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
//! A key that ends like a file name (`config.json`) stays as it is: the host answers every
//! path under `/flags/` with the dashboard (the edgeflag server does, `server/src/http/static_files.rs`).
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

impl Route {
    /// The route, with `flag` dropped on screens that have none.
    pub fn new(page: Page, flag: Option<String>) -> Self {
        Route { flag: flag.filter(|_| page.takes_flag()), page }
    }

    /// The URL (path and, for keys a path cannot carry, a query) of this route.
    pub fn to_url(&self) -> String {
        let mut url = String::from("/");
        match self.flag.as_deref().filter(|_| self.page.takes_flag()) {
            None => url.push_str(self.page.slug()),
            Some(key) if key.is_empty() || key == "." || key == ".." => {
                url.push_str(self.page.slug());
                url.push_str("?flag=");
                encode_key(&mut url, key);
            }
            Some(key) => {
                url.push_str("flags/");
                encode_key(&mut url, key);
                if self.page != Page::Editor {
                    url.push('/');
                    url.push_str(self.page.slug());
                }
            }
        }
        url
    }

    /// The route `path` (`location.pathname`) and `search` (`location.search`, with or without
    /// its `?`) name; `None` for a path that is no dashboard URL (the caller shows the list).
    pub fn parse(path: &str, search: &str) -> Option<Route> {
        if path.len() > MAX_PATH {
            return None;
        }
        // One trailing slash is forgiven: `/flags/` is `/flags`.
        let path = path.strip_prefix('/')?;
        let mut segments = path.strip_suffix('/').unwrap_or(path).split('/');
        let first = segments.next()?;
        let (second, third) = (segments.next(), segments.next());
        if segments.next().is_some() {
            return None;
        }
        let route = match (first, second, third) {
            ("" | "flags", None, None) => Route::default(),
            ("flags", Some(key), None) => Route { page: Page::Editor, flag: Some(decode_key(key)?) },
            ("flags", Some(key), Some(tab)) => {
                let page = [Page::Canary, Page::Experiment].into_iter().find(|p| p.slug() == tab)?;
                Route { page, flag: Some(decode_key(key)?) }
            }
            (slug, None, None) => {
                let page = Page::TABS.into_iter().find(|p| p.slug() == slug)?;
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

/// Appends `key` as a path segment (or query value).
fn encode_key(out: &mut String, key: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// A path segment back to its key: `None` for a bad escape or text that is not UTF-8, and for
/// the empty segment (`/flags//canary`).
fn decode_key(segment: &str) -> Option<String> {
    decode(segment).filter(|k| !k.is_empty())
}

fn decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        out.push(if b == b'%' { hex_digit(bytes.next()?)? << 4 | hex_digit(bytes.next()?)? } else { b });
    }
    String::from_utf8(out).ok()
}

/// `0-9a-fA-F` only (`u8::from_str_radix` would also take `%+1`).
fn hex_digit(b: u8) -> Option<u8> {
    // `to_digit(16)` is below 16.
    char::from(b).to_digit(16).map(|d| d as u8)
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
            "/flags/%+1",
            "/flags/%-1",
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
        // A key that ends like a file name stays as it is: the server answers every path under
        // /flags/ with the dashboard (server/src/http/static_files.rs).
        assert_eq!(Route::new(Page::Editor, Some("config.json".into())).to_url(), "/flags/config.json");
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
            "[a-z0-9.]{1,6}\\.(json|js|v2)",
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
