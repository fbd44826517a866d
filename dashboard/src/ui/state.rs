//! The app state, provided as context. The draft *text* is what is saved, rebased and
//! published: the raw editor edits it directly, and one memo parses, validates and compiles it
//! with the evaluator for everyone else. Forms edit the model itself (`EDITS`), in place, and
//! their edits reach the text once typing pauses (`FLUSH_AFTER`) or before anything reads the
//! text (`flush`): a keystroke no longer clones, serializes, re-parses and recompiles the whole
//! file, which at 5,000 flags is what made typing lag.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;

use edgeflag_dashboard::draft::{draft_state, DraftState, Published, SavedDraft, WorkingCopy, DRAFT_KEY, OLD_DRAFT_KEY, TOKEN_KEY};
use edgeflag_dashboard::rebase::{ByPath, Pending, Side};
use edgeflag_dashboard::lens::Lens;
use edgeflag_dashboard::problems::ProblemIndex;
use edgeflag_evaluator::{FlagFile, FlagSet};
use leptos::prelude::*;

use super::components::effect;
use super::storage;

// The screens are the route module's, so that their URLs are tested natively.
pub use edgeflag_dashboard::route::Page;

/// The draft, parsed by the evaluator.
#[derive(Default)]
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

/// Who last changed a conflicting field on the server: version and author.
pub type Attribution = (u64, String);

/// Which file the preview evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreviewSource {
    /// The admin's working copy (the published version when there are no edits).
    #[default]
    Draft,
    /// The newest version the server published.
    Published,
}

/// The preview's context form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreviewInput {
    pub targeting_key: String,
    pub attributes: Vec<(String, String)>,
    pub environment: String,
    pub source: PreviewSource,
}

// The forms' model while it is ahead of the text (form edits not yet written into it; `None`
// when the text says it all), and the pending write of it into the text. One app per page.
// Plain cells with a `Trigger` rather than a signal of `FlagFile` and a stored handle: each new
// signal or stored type instantiates Leptos's reactive code again (dashboard/README.md "Figures").
thread_local! {
    static EDITS: RefCell<Option<FlagFile>> = const { RefCell::new(None) };
    static FLUSH_TIMER: Cell<Option<TimeoutHandle>> = const { Cell::new(None) };
    // Where the editor's flag was opened: two flags with one key (a file that does not
    // validate yet) are told apart by it.
    static SELECTED_AT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// How long a pause in form edits is before they are written into the draft's text (and the
/// file validated again): longer than the gap between two keystrokes, short enough that the
/// problems list follows at once.
pub const FLUSH_AFTER: Duration = Duration::from_millis(250);

/// The text of a new, empty file (when no server answers): not a draft by itself.
pub const EMPTY_FILE: &str = "{\n  \"schema_version\": 1,\n  \"flags\": []\n}";

#[derive(Clone, Copy)]
pub struct AppState {
    /// The admin's text: the published version's own text until they edit it.
    pub draft: RwSignal<String>,
    /// The published version the draft's edits are against (see `edgeflag_dashboard::draft`).
    pub base: RwSignal<Option<Published>>,
    /// The newest version seen on the server (polled); newer than `base` only while a rebase
    /// waits for the admin's choices or for the draft's JSON to parse.
    pub published: RwSignal<Option<Published>>,
    /// The publish message, kept with the draft (across rebases and reloads).
    pub message: RwSignal<String>,
    pub parsed: Memo<Arc<Parsed>>,
    /// Notifies the model's readers when the forms' edits (`EDITS`) change.
    edited: Trigger,
    /// How the draft relates to the server (computed once per change).
    pub status: Memo<DraftState>,
    /// The newest published version, parsed (the preview's "published" choice, the Canary tab).
    pub published_parsed: Memo<Arc<Parsed>>,
    /// A rebase waiting for the admin's choice per conflicting field, the choices made so far
    /// (by path), and who changed each field on the server.
    pub pending: RwSignal<Option<Pending>>,
    pub choices: RwSignal<ByPath<Side>>,
    pub attribution: RwSignal<ByPath<Attribution>>,
    /// "The server moved to version N (…); your edits were rebased onto it.", "" for none.
    pub rebase_note: RwSignal<String>,
    /// A saved draft whose base this server does not have: shown, never applied on its own.
    pub orphan: RwSignal<Option<SavedDraft>>,
    /// The base (version and ETag; its text is not known offline) of a draft restored while
    /// the server was unreachable, so that saving it again keeps it.
    pub offline_base: RwSignal<Option<Published>>,
    /// Set once the saved draft has been restored: saving and rebasing start then.
    pub ready: RwSignal<bool>,
    /// Server base URL; empty means this page's origin.
    pub server: RwSignal<String>,
    pub token: RwSignal<String>,
    pub page: RwSignal<Page>,
    /// The key of the flag open in the editor ("": none; keys are never empty in a valid
    /// file): a key, not an index, so that deleting or reordering other flags, a rebase or a
    /// server-side change never opens another flag.
    pub selected: RwSignal<String>,
    /// The Canary and Experiment tabs' chosen flag ("": the first that applies). Kept here,
    /// not in the tab, so that the URL carries and restores it (`ui::url`).
    pub canary_flag: RwSignal<String>,
    pub experiment_flag: RwSignal<String>,
    /// The banner's message ("" for none) and whether it is an error: `String` and `bool`
    /// signals, not one more signal type.
    pub notice: RwSignal<String>,
    pub notice_is_error: RwSignal<bool>,
    pub preview: RwSignal<PreviewInput>,
    /// Set by the header's problem link: the raw editor selects the first problem once shown
    /// (a `bool` signal, not one more signal type).
    pub jump: RwSignal<bool>,
}

impl AppState {
    pub fn new() -> Self {
        let draft = RwSignal::new(String::new());
        let parsed = Memo::new_with_compare(
            move |_| Arc::new(parse(&draft.get())),
            // Every recomputation is a new parse of a changed text.
            |a: Option<&Arc<Parsed>>, b: Option<&Arc<Parsed>>| a.map(Arc::as_ptr) != b.map(Arc::as_ptr),
        );
        let published: RwSignal<Option<Published>> = RwSignal::new(None);
        // Parsed again only when the server's text changes, not on every poll. A `String` memo
        // ("" for none: a published file is never empty), not one more memo type.
        let published_text = Memo::new(move |_| published.with(|p| p.as_ref().map(|p| p.text.clone()).unwrap_or_default()));
        // None loaded: an empty `Parsed` (no model, no problems), not one more memo type.
        let published_parsed = Memo::new_with_compare(
            move |_| Arc::new(published_text.with(|text| if text.is_empty() { Parsed::default() } else { parse(text) })),
            |a: Option<&Arc<Parsed>>, b: Option<&Arc<Parsed>>| a.map(Arc::as_ptr) != b.map(Arc::as_ptr),
        );
        let base: RwSignal<Option<Published>> = RwSignal::new(None);
        let pending: RwSignal<Option<Pending>> = RwSignal::new(None);
        let status = Memo::new(move |_| {
            let conflicts = pending.with(|p| p.as_ref().map_or(0, |p| p.conflicts.len()));
            base.with(|b| draft.with(|text| published.with(|p| draft_state(b.as_ref(), text, p.as_ref(), conflicts))))
        });
        AppState {
            draft,
            base,
            published,
            message: RwSignal::new(String::new()),
            parsed,
            edited: Trigger::new(),
            status,
            published_parsed,
            pending,
            choices: RwSignal::new(Default::default()),
            attribution: RwSignal::new(Default::default()),
            rebase_note: RwSignal::new(String::new()),
            orphan: RwSignal::new(None),
            offline_base: RwSignal::new(None),
            ready: RwSignal::new(false),
            server: RwSignal::new(String::new()),
            token: RwSignal::new(storage::load_session(TOKEN_KEY).unwrap_or_default()),
            page: RwSignal::new(Page::Flags),
            selected: RwSignal::new(String::new()),
            canary_flag: RwSignal::new(String::new()),
            experiment_flag: RwSignal::new(String::new()),
            notice: RwSignal::new(String::new()),
            notice_is_error: RwSignal::new(false),
            preview: RwSignal::new(PreviewInput {
                targeting_key: "user-1".into(),
                attributes: vec![("country".into(), "FR".into())],
                environment: String::new(),
                source: PreviewSource::Draft,
            }),
            jump: RwSignal::new(false),
        }
    }

    pub fn info(&self, text: impl Into<String>) {
        self.notice_is_error.set(false);
        self.notice.set(text.into());
    }

    pub fn error(&self, text: impl Into<String>) {
        self.notice_is_error.set(true);
        self.notice.set(text.into());
    }

    /// Reads the model (tracked): the forms' edits when they are ahead of the text. `None`
    /// while the raw JSON does not parse.
    pub fn with_model<R>(&self, f: impl FnOnce(&FlagFile) -> R) -> Option<R> {
        let mut f = Some(f);
        let mut out = None;
        self.visit_model(&mut |model| out = f.take().map(|f| f(model)));
        out
    }

    /// The model, to `visit` (tracked). Not generic, so compiled once for every reader.
    fn visit_model(&self, visit: &mut dyn FnMut(&FlagFile)) {
        self.edited.track();
        let edited = EDITS.with_borrow(|edits| match edits {
            Some(model) => {
                visit(model);
                true
            }
            None => false,
        });
        if !edited {
            self.parsed.with(|p| {
                if let Some(model) = &p.model {
                    visit(model);
                }
            });
        }
    }

    /// Reads one part of the model (tracked).
    pub fn read<T, R>(&self, lens: &Lens<T>, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.with_model(|m| lens.get(m).map(f)).flatten()
    }

    /// Opens flag `index` (key `key`) in the editor.
    pub fn open_flag(&self, key: String, index: usize) {
        SELECTED_AT.set(index);
        self.selected.set(key);
    }

    /// Where the editor's flag `key` is in `model`: where it was opened while that flag still
    /// has the key (a duplicate key elsewhere, or a rename to another flag's key, does not move
    /// the editor), else the first flag with the key (it moved, or came from a URL).
    /// What it finds is remembered, so that a flag opened from a URL is told apart too.
    pub fn selected_index(&self, model: &FlagFile, key: &str) -> Option<usize> {
        let at = SELECTED_AT.get();
        let found = match model.flags.get(at) {
            Some(flag) if flag.key == key => Some(at),
            _ => model.flags.iter().position(|f| f.key == key),
        };
        if let Some(found) = found {
            SELECTED_AT.set(found);
        }
        found
    }

    /// Edits the model in place; the text follows when typing pauses (see [`AppState::flush`]).
    /// The first edit after the text changed starts from the parsed model (one clone); the
    /// next ones change it directly.
    pub fn update_model(&self, f: impl FnOnce(&mut FlagFile)) {
        let start = match EDITS.with_borrow(Option::is_some) {
            true => None,
            false => match self.parsed.with_untracked(|p| p.model.clone()) {
                Some(model) => Some(model),
                None => {
                    self.error("The raw JSON does not parse: fix it in the Raw JSON tab before using the forms.");
                    return;
                }
            },
        };
        EDITS.with_borrow_mut(|edits| {
            if let Some(model) = start {
                *edits = Some(model);
            }
            if let Some(model) = edits.as_mut() {
                f(model);
            }
        });
        self.edited.notify();
        self.schedule_flush();
    }

    fn schedule_flush(&self) {
        let state = *self;
        if let Some(pending) = FLUSH_TIMER.take() {
            pending.clear();
        }
        // Without a timer (it cannot fail in a browser), write the text now.
        match set_timeout_with_handle(move || _ = state.flush(), FLUSH_AFTER) {
            Ok(handle) => FLUSH_TIMER.set(Some(handle)),
            Err(_) => _ = self.flush(),
        }
    }

    /// Writes the forms' edits into the draft's text as pretty JSON (then the file is parsed
    /// and validated again). Runs when typing pauses, and before anything reads the text:
    /// saving, rebasing, publishing, another screen, the page going away.
    /// Whether there were edits to write.
    pub fn flush(&self) -> bool {
        if let Some(pending) = FLUSH_TIMER.take() {
            pending.clear();
        }
        let Some(text) = EDITS.with_borrow(|e| e.as_ref().map(serde_json::to_string_pretty)) else {
            return false;
        };
        match text {
            Ok(text) => {
                // The text first: readers that see the edits gone then parse the new text.
                self.draft.set(text);
                EDITS.set(None);
                self.edited.notify();
                true
            }
            // The edits stay (nothing is lost); the admin sees why they are not saved.
            Err(e) => {
                self.error(format!("could not serialize the flag file: {e}"));
                false
            }
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

    /// The working copy (untracked): base, text and message. `None` without a server.
    pub fn copy_untracked(&self) -> Option<WorkingCopy> {
        self.flush();
        Some(WorkingCopy {
            base: self.base.get_untracked()?,
            text: self.draft.get_untracked(),
            message: self.message.get_untracked(),
        })
    }

    /// Makes `copy` the working copy.
    pub fn set_copy(&self, copy: WorkingCopy) {
        self.flush();
        self.offline_base.set(None);
        self.base.set(Some(copy.base));
        self.draft.set(copy.text);
        self.message.set(copy.message);
    }

    /// Whether the admin has edits (tracked).
    pub fn is_edited(&self) -> bool {
        self.draft_state().is_edited()
    }

    /// How the draft relates to the server (tracked).
    pub fn draft_state(&self) -> DraftState {
        self.status.get()
    }

    /// What to keep in localStorage for `text` and `message` on the current base (untracked):
    /// nothing without edits.
    fn saved_with(&self, text: String, message: String) -> Option<SavedDraft> {
        match self.base.get_untracked() {
            Some(base) => WorkingCopy { base, text, message }.saved(),
            None if text.is_empty() || text == EMPTY_FILE => None,
            // No server: keep the text, and the base it was restored with, if any.
            None => {
                let base = self.offline_base.get_untracked();
                Some(SavedDraft { text, base_version: base.as_ref().map(|b| b.version), base_etag: base.map(|b| b.etag), message })
            }
        }
    }

    /// The draft as it would be saved now (untracked).
    pub fn saved_untracked(&self) -> Option<SavedDraft> {
        self.flush();
        self.saved_with(self.draft.get_untracked(), self.message.get_untracked())
    }

    /// Keeps the draft in localStorage: saved while it has edits, removed when it has none (an
    /// unedited page is no draft, so a reload simply shows the server's version).
    pub fn persist_draft(&self) {
        let state = *self;
        effect(move || {
            state.draft.track();
            state.message.track();
            state.offline_base.track();
            state.base.track();
            state.status.track();
            if state.ready.get() {
                state.persist_now();
            }
        });
        // Form edits typed just before the tab is closed or reloaded are saved too. Only then:
        // a tab without edits must not remove the draft another tab saved.
        let _ = window_event_listener(leptos::ev::pagehide, move |_| {
            if state.flush() && state.ready.get_untracked() {
                state.persist_now();
            }
        });
    }

    /// Saves the draft in localStorage now, or removes it when it has no edits (untracked).
    fn persist_now(&self) {
        let (text, message) = (self.draft.get_untracked(), self.message.get_untracked());
        // The status memo already knows whether there are edits (no second parse here).
        let saved = match (self.status.get_untracked(), self.base.get_untracked()) {
            (DraftState::NoServer, _) | (_, None) => self.saved_with(text, message),
            (s, Some(base)) if s.is_edited() => Some(SavedDraft {
                text,
                base_etag: Some(base.etag),
                base_version: Some(base.version),
                message,
            }),
            _ => None,
        };
        storage::remove_local(OLD_DRAFT_KEY);
        let ok = match saved {
            Some(saved) => storage::save_local(DRAFT_KEY, &saved.to_json()),
            None => storage::remove_local(DRAFT_KEY),
        };
        if !ok {
            self.error("The browser refused to save the draft locally (storage full or disabled).");
        }
    }

    /// Replaces the draft's text (the raw editor, a loaded file, a restored draft): form edits
    /// not yet in the text are written into it first, so a pending write cannot land on top.
    pub fn set_text(&self, text: String) {
        self.flush();
        self.draft.set(text);
    }

    pub fn set_token(&self, token: String) {
        storage::save_session(TOKEN_KEY, &token);
        self.token.set(token);
    }
}
