//! The app state, provided as context. The draft *text* is the single source of truth: the
//! raw editor edits it directly, forms edit the parsed model and write it back as text, and
//! one memo parses, validates and compiles it with the evaluator for everyone else.

use std::sync::Arc;

use edgeflag_dashboard::draft::{draft_state, DraftState, Published, StoredDraft, DRAFT_KEY, TOKEN_KEY};
use edgeflag_dashboard::lens::Lens;
use edgeflag_dashboard::problems::ProblemIndex;
use edgeflag_evaluator::{FlagFile, FlagSet, Problem};
use leptos::prelude::*;

use super::storage;

/// The screens, one per tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// The draft, parsed by the evaluator.
pub struct Parsed {
    /// The structure, when the text deserializes (even if validation fails): forms need it.
    pub model: Option<FlagFile>,
    /// The compiled set, when the file is fully valid: previews need it.
    pub set: Option<FlagSet>,
    pub problems: ProblemIndex,
}

fn parse(text: &str) -> Parsed {
    match FlagSet::from_json(text) {
        Ok(set) => Parsed { model: Some(set.file().clone()), set: Some(set), problems: ProblemIndex::default() },
        Err(errors) => Parsed {
            // The structure, even when the semantics do not validate yet (forms still work).
            model: edgeflag_evaluator::decode::decode(text, &mut Default::default())
                .and_then(edgeflag_evaluator::decode::Decoded::into_complete),
            set: None,
            problems: ProblemIndex::new(errors.problems),
        },
    }
}

/// A message in the banner.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// A publish that hit 412: what the server has now, and the version our draft started from.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub theirs: Published,
    pub base_text: String,
}

/// The preview's context form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreviewInput {
    pub targeting_key: String,
    pub attributes: Vec<(String, String)>,
    pub environment: String,
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub draft: RwSignal<String>,
    /// ETag and version of the published file the draft started from.
    pub base: RwSignal<Option<(String, u64)>>,
    pub published: RwSignal<Option<Published>>,
    pub parsed: Memo<Arc<Parsed>>,
    /// Server base URL; empty means this page's origin.
    pub server: RwSignal<String>,
    pub token: RwSignal<String>,
    pub page: RwSignal<Page>,
    /// Index of the flag open in the editor.
    pub selected: RwSignal<Option<usize>>,
    pub notice: RwSignal<Option<Notice>>,
    pub preview: RwSignal<PreviewInput>,
    pub conflict: RwSignal<Option<Conflict>>,
    /// A problem path the raw editor should select (set by "jump to").
    pub jump: RwSignal<Option<Problem>>,
}

impl AppState {
    pub fn new() -> Self {
        let draft = RwSignal::new(String::new());
        let parsed = Memo::new_with_compare(
            move |_| Arc::new(parse(&draft.get())),
            // Every recomputation is a new parse of a changed text.
            |a: Option<&Arc<Parsed>>, b: Option<&Arc<Parsed>>| a.map(Arc::as_ptr) != b.map(Arc::as_ptr),
        );
        AppState {
            draft,
            base: RwSignal::new(None),
            published: RwSignal::new(None),
            parsed,
            server: RwSignal::new(String::new()),
            token: RwSignal::new(storage::load_session(TOKEN_KEY).unwrap_or_default()),
            page: RwSignal::new(Page::Flags),
            selected: RwSignal::new(None),
            notice: RwSignal::new(None),
            preview: RwSignal::new(PreviewInput {
                targeting_key: "user-1".into(),
                attributes: vec![("country".into(), "FR".into())],
                environment: String::new(),
            }),
            conflict: RwSignal::new(None),
            jump: RwSignal::new(None),
        }
    }

    pub fn info(&self, text: impl Into<String>) {
        self.notice.set(Some(Notice { text: text.into(), error: false }));
    }

    pub fn error(&self, text: impl Into<String>) {
        self.notice.set(Some(Notice { text: text.into(), error: true }));
    }

    /// Reads the model (tracked). `None` while the raw JSON does not parse.
    pub fn with_model<R>(&self, f: impl FnOnce(&FlagFile) -> R) -> Option<R> {
        self.parsed.with(|p| p.model.as_ref().map(f))
    }

    /// Reads one part of the model (tracked).
    pub fn read<T, R>(&self, lens: &Lens<T>, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.parsed.with(|p| p.model.as_ref().and_then(|m| lens.get(m)).map(f))
    }

    /// Edits the model and writes it back into the draft as pretty JSON.
    pub fn update_model(&self, f: impl FnOnce(&mut FlagFile)) {
        let Some(mut model) = self.parsed.with_untracked(|p| p.model.clone()) else {
            self.error("The raw JSON does not parse: fix it in the Raw JSON tab before using the forms.");
            return;
        };
        f(&mut model);
        match serde_json::to_string_pretty(&model) {
            Ok(text) => self.draft.set(text),
            Err(e) => self.error(format!("could not serialize the flag file: {e}")),
        }
    }

    /// Edits one part of the model.
    pub fn write<T>(&self, lens: &Lens<T>, f: impl FnOnce(&mut T)) {
        self.update_model(|m| {
            if let Some(target) = lens.get_mut(m) {
                f(target);
            }
        });
    }

    /// Validation messages for exactly this path (tracked).
    pub fn problems_at(&self, path: &str) -> Vec<String> {
        self.parsed.with(|p| p.problems.at(path))
    }

    pub fn problems_within(&self, path: &str) -> usize {
        self.parsed.with(|p| p.problems.count_within(path))
    }

    /// How the draft relates to the server (tracked).
    pub fn draft_state(&self) -> DraftState {
        let base = self.base.get();
        self.published.with(|p| {
            self.draft.with(|text| {
                draft_state(text, base.as_ref().map(|b| b.0.as_str()), base.as_ref().map(|b| b.1), p.as_ref())
            })
        })
    }

    /// Replaces the draft and its base (after loading, publishing or resolving a conflict).
    pub fn reset_to(&self, published: Published) {
        self.base.set(Some((published.etag.clone(), published.version)));
        self.draft.set(published.text.clone());
        self.published.set(Some(published));
    }

    /// Saves the draft to localStorage whenever it changes.
    pub fn persist_draft(&self) {
        let state = *self;
        Effect::new(move |_| {
            let text = state.draft.get();
            let base = state.base.get();
            if text.is_empty() {
                return;
            }
            let stored = StoredDraft {
                text,
                base_etag: base.as_ref().map(|b| b.0.clone()),
                base_version: base.map(|b| b.1),
            };
            if !storage::save_local(DRAFT_KEY, &stored.to_json()) {
                state.error("The browser refused to save the draft locally (storage full or disabled).");
            }
        });
    }

    pub fn set_token(&self, token: String) {
        storage::save_session(TOKEN_KEY, &token);
        self.token.set(token);
    }
}
