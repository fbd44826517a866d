//! The versioned flag store: every accepted write is a new row, nothing is deleted.
//!
//! Two backends behind one interface ([`Backend`]): SQLite in the data directory (the embedded
//! default, [`sqlite`]) and PostgreSQL (`--store postgres://…`, [`postgres`]), which any number
//! of server replicas share. Both run the same test suite (`server/tests/store_suite.rs`).
//!
//! Durability: a write is acknowledged only after its transaction commits (SQLite: WAL with
//! `synchronous=FULL`; PostgreSQL: its own commit), so a crash leaves either the old or the
//! new version, never a torn one.
//!
//! One write path: [`FlagStore::write_with`]. Every writer (a whole-file PUT, a per-flag
//! write, a rollback, the canary controller, the demo) hands it a plan that computes the new
//! file from the current version. The new row is inserted **only if the database's newest
//! version is still the one planned on** (`INSERT … WHERE max(version) = n-1`, and the version
//! is the primary key). When another replica got there first, the store catches up with the
//! database and runs the plan again on the version that won, so preconditions (If-Match,
//! merges, the controller's "the canary has not changed since it was judged") are always
//! checked against exactly the version replaced, across any number of replicas: no lost
//! update. Writers of one process are serialised by a lock, so they do not race each other.
//!
//! Readers never touch the database for the current version: they clone an `Arc<Snapshot>`
//! from a `tokio::sync::watch` channel ([`FlagStore::subscribe`] for pushes). It moves on
//! every write of this process and, with replicas, whenever [`FlagStore::refresh`] finds a
//! newer version (PostgreSQL `LISTEN/NOTIFY` plus a periodic check: [`follow`]).
//!
//! Per-flag (and per-segment) ETags: each snapshot knows the version in which each flag and
//! segment last changed; a flag's ETag is `"<that version>-<16 hex of its content hash>"`, so
//! it changes only when the flag does and names the version to use as the base of a merge.

pub mod follow;
pub mod postgres;
pub mod sqlite;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use edgeflag_evaluator::{FlagFile, FlagSet, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::clock;

/// The two keyed collections of a flag file that have their own URLs and ETags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Flag,
    Segment,
}

impl ItemKind {
    /// The member of the flag file that holds the collection.
    pub fn array(self) -> &'static str {
        match self {
            ItemKind::Flag => "flags",
            ItemKind::Segment => "segments",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            ItemKind::Flag => "flag",
            ItemKind::Segment => "segment",
        }
    }
}

/// The version in which each flag and segment of a snapshot last changed.
#[derive(Debug, Clone, Default)]
pub struct ChangedIn {
    flags: HashMap<String, u64>,
    segments: HashMap<String, u64>,
}

impl ChangedIn {
    pub fn get(&self, kind: ItemKind, key: &str) -> Option<u64> {
        match kind {
            ItemKind::Flag => self.flags.get(key).copied(),
            ItemKind::Segment => self.segments.get(key).copied(),
        }
    }

    /// Records the keys a version changed (ignoring those already recorded by a newer one:
    /// callers visit versions newest first and fill `seen`).
    fn record_newest_first(&mut self, seen: &mut (HashSet<String>, HashSet<String>), version: u64, change: Changed) {
        for key in change.flags {
            if seen.0.insert(key.clone()) {
                self.flags.insert(key, version);
            }
        }
        for key in change.segments {
            if seen.1.insert(key.clone()) {
                self.segments.insert(key, version);
            }
        }
    }

    /// Drops the keys that are not in `file`.
    fn retain_in(&mut self, file: &FlagFile) {
        self.flags.retain(|k, _| file.flags.iter().any(|f| &f.key == k));
        self.segments.retain(|k, _| file.segments.iter().any(|s| &s.key == k));
    }
}

/// One stored version, ready to serve.
pub struct Snapshot {
    pub version: u64,
    /// Strong entity tag, quoted (`"…"`), unique per version.
    pub etag: String,
    /// The canonical JSON of the flag file, served as is.
    pub body: axum::body::Bytes,
    pub flags: Arc<FlagSet>,
    pub created_at: String,
    pub changed_in: Arc<ChangedIn>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("version", &self.version).field("etag", &self.etag).finish_non_exhaustive()
    }
}

impl Snapshot {
    /// The flag or segment `key` as JSON (`None` if absent).
    pub fn item(&self, kind: ItemKind, key: &str) -> Option<Value> {
        let file = self.flags.file();
        match kind {
            ItemKind::Flag => file.flags.iter().find(|f| f.key == key).and_then(|f| serde_json::to_value(f).ok()),
            ItemKind::Segment => file.segments.iter().find(|s| s.key == key).and_then(|s| serde_json::to_value(s).ok()),
        }
    }

    /// The item as served: pretty JSON in the model's member order (as in the whole file).
    pub fn item_body(&self, kind: ItemKind, key: &str) -> Option<String> {
        let file = self.flags.file();
        match kind {
            ItemKind::Flag => file.flags.iter().find(|f| f.key == key).and_then(|f| serde_json::to_string_pretty(f).ok()),
            ItemKind::Segment => file.segments.iter().find(|s| s.key == key).and_then(|s| serde_json::to_string_pretty(s).ok()),
        }
    }

    /// The item's JSON and its ETag.
    pub fn item_with_etag(&self, kind: ItemKind, key: &str) -> Option<(Value, String)> {
        let value = self.item(kind, key)?;
        let version = self.changed_in.get(kind, key).unwrap_or(self.version);
        let etag = item_etag(kind, key, version, &value);
        Some((value, etag))
    }
}

/// An audit entry (`GET /api/flags/history`).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: u64,
    pub created_at: String,
    pub author: String,
    pub changed_flags: Vec<String>,
    pub changed_segments: Vec<String>,
    pub message: String,
    pub etag: String,
}

/// A database error, whichever the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", pg_error_text(.0))]
    Postgres(#[from] ::postgres::Error),
    /// A stored row this version cannot read.
    #[error("{0}")]
    Corrupt(String),
    /// A request the store refuses (a duplicate token name...).
    #[error("{0}")]
    Refused(String),
}

/// A PostgreSQL error with its cause ("db error" alone says nothing): the server's message, or
/// the I/O error behind a lost connection.
pub fn pg_error_text(e: &::postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

/// Why a write was refused by the store itself.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the flag file is invalid ({} problems)", .0.problems.len())]
    Invalid(ValidationErrors),
    #[error("the flag file changed since the ETag was read (now version {current_version})")]
    Stale { current_version: u64, current_etag: String },
    #[error("version {0} does not exist")]
    NoSuchVersion(u64),
    #[error("storage error: {0}")]
    Storage(#[from] StoreError),
    #[error("could not encode the flag file: {0}")]
    Encode(#[from] serde_json::Error),
    /// A fenced write (the canary controller's) whose writer no longer holds the leadership.
    #[error("this replica is no longer the controller's leader; the write was refused by the database")]
    NotLeader,
    /// Other replicas kept winning the race for the next version.
    #[error("the store is too busy: {0} attempts lost the race for the next version to other replicas; retry")]
    Contention(usize),
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Storage(e.into())
    }
}

/// Who writes and why (the audit fields of a version).
#[derive(Debug, Clone, Copy)]
pub struct WriteMeta<'a> {
    pub author: &'a str,
    pub message: &'a str,
}

/// One past version of an item: (version, author, the item's JSON then, `None` = absent).
pub type ItemChange = (u64, String, Option<Value>);

/// The keys one version changed.
#[derive(Debug, Clone, Default)]
pub struct Changed {
    pub flags: Vec<String>,
    pub segments: Vec<String>,
}

/// A version about to be inserted.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    pub version: u64,
    pub created_at: &'a str,
    pub author: &'a str,
    pub message: &'a str,
    pub changed: &'a Changed,
    pub etag: &'a str,
    pub body: &'a str,
}

/// A stored version's served fields.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: u64,
    pub etag: String,
    pub body: String,
    pub created_at: String,
}

/// What a conditional insert came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Yes,
    /// The version number is taken: another writer (replica) committed first.
    Taken,
    /// The write carried a fence the database no longer honours (a deposed leader).
    Fenced,
}

/// A condition the database checks in the write's own transaction: the canary controller's
/// leadership (see [`crate::leader`]). Only PostgreSQL has several writers to fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// The session with this backend pid still holds the controller's advisory lock.
    PgAdvisoryLock { pid: i32 },
}

/// A stored token row (the digest, never the token).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub name: String,
    pub sha256: String,
    pub role: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// One webhook delivery (see [`crate::webhooks`]), as stored and as `GET
/// /api/webhooks/deliveries` serves it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    /// Unique, also sent as `X-Edgeflag-Delivery` (receivers de-duplicate retries with it).
    pub id: String,
    pub created_at: String,
    /// `advance`, `complete`, `rollback` or `hold`.
    pub event: String,
    pub flag: String,
    pub env: Option<String>,
    /// The flag-file version judged.
    pub file_version: u64,
    /// The version the decision wrote (advance, complete, rollback).
    pub decision_version: Option<u64>,
    pub url: String,
    /// `pending` (more attempts to come), `delivered` or `failed` (attempts exhausted).
    pub status: String,
    pub attempts: u32,
    /// Epoch milliseconds of the next attempt while pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_ms: Option<i64>,
    /// Every attempt: when, the HTTP status or the error, how long it took.
    pub attempt_log: Vec<Attempt>,
    pub updated_at: String,
    /// The signed JSON body, exactly as sent.
    #[serde(skip)]
    pub payload: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attempt {
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// A writer's hold on the store's write lock (see [`Backend::lock_writes`]): while it lives, no
/// other writer of any replica can insert a version. `insert` commits and releases; dropping it
/// without inserting releases it too.
pub trait WriteLock {
    fn insert(self: Box<Self>, v: &NewVersion<'_>, fence: Option<Fence>) -> Result<Inserted, StoreError>;
}

/// The storage operations the flag store, the tokens and the webhook outbox need. Calls block:
/// callers run them on blocking threads (`spawn_blocking`, `block_in_place`), never on the
/// async workers.
pub trait Backend: Send + Sync {
    /// `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;
    /// The newest version number (0 when empty): the cheap check replicas make.
    fn latest_version(&self) -> Result<u64, StoreError>;
    fn version_row(&self, n: u64) -> Result<Option<VersionRow>, StoreError>;
    /// Inserts `v` if the newest stored version is `v.version - 1` (and, with a fence, if the
    /// fence holds), atomically.
    fn insert(&self, v: &NewVersion<'_>, fence: Option<Fence>) -> Result<Inserted, StoreError>;
    /// Waits for the store's write lock, for a writer that keeps losing the race for the next
    /// version to other replicas (whose cycle is shorter: they need not catch up first). `None`:
    /// the backend has no such lock (SQLite: one process writes a store).
    fn lock_writes(&self) -> Result<Option<Box<dyn WriteLock + '_>>, StoreError>;
    /// Versions in `(after, upto]` with the keys they changed, newest first, while `visit`
    /// returns true.
    fn walk_changed(&self, after: u64, upto: u64, visit: &mut dyn FnMut(u64, Changed) -> bool) -> Result<(), StoreError>;
    fn history(&self, limit: u64) -> Result<Vec<HistoryEntry>, StoreError>;
    fn version_of_etag(&self, etag: &str) -> Result<Option<u64>, StoreError>;
    /// Versions in `(after, upto]` that changed item `key`, newest first, at most `limit`:
    /// `visit(version, author, body)` until it returns false. Rows are fetched as visited.
    fn walk_item_changes(
        &self,
        kind: ItemKind,
        key: &str,
        after: u64,
        upto: u64,
        limit: usize,
        visit: &mut dyn FnMut(u64, String, String) -> bool,
    ) -> Result<(), StoreError>;

    /// Stores a token's digest; `false` when an active token already has the name (a revoked
    /// one is replaced).
    fn token_insert(&self, row: &TokenRow) -> Result<bool, StoreError>;
    /// Every token row, by name.
    fn token_list(&self) -> Result<Vec<TokenRow>, StoreError>;
    /// Revokes the active token `name`; `false` when there is none.
    fn token_revoke(&self, name: &str, at: &str) -> Result<bool, StoreError>;
    /// Something that changes whenever the tokens may have (cheap to read).
    fn tokens_marker(&self) -> Result<String, StoreError>;
    /// Whether reading [`Backend::tokens_marker`] is cheap enough for the request path
    /// (SQLite: a pragma on a local file). Otherwise [`follow`] reloads tokens in the background.
    fn tokens_checked_inline(&self) -> bool;

    fn delivery_insert(&self, d: &Delivery) -> Result<(), StoreError>;
    fn delivery_update(&self, d: &Delivery) -> Result<(), StoreError>;
    /// Pending deliveries whose next attempt is due at `now_ms`, oldest first.
    fn deliveries_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError>;
    /// The newest deliveries first.
    fn deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError>;
}

/// Where the store lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// `edgeflag.db` in this data directory.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:password@host:port/db`).
    Postgres(String),
}

impl Location {
    /// `--store` when given (`postgres://…`, `postgresql://…`, `sqlite` or `sqlite:DIR`),
    /// else SQLite in `data_dir`.
    pub fn parse(store: Option<&str>, data_dir: &Path) -> anyhow::Result<Location> {
        let Some(store) = store.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Location::Sqlite(data_dir.to_path_buf()));
        };
        if store.starts_with("postgres://") || store.starts_with("postgresql://") {
            return Ok(Location::Postgres(store.to_string()));
        }
        if store == "sqlite" {
            return Ok(Location::Sqlite(data_dir.to_path_buf()));
        }
        if let Some(dir) = store.strip_prefix("sqlite:") {
            return Ok(Location::Sqlite(PathBuf::from(dir)));
        }
        anyhow::bail!("--store {store:?}: expected postgres://user:password@host:port/database, sqlite or sqlite:DIR")
    }

    /// Opens the backend (creating the SQLite file or the PostgreSQL tables when `create`).
    pub fn open(&self, create: bool) -> anyhow::Result<Arc<dyn Backend>> {
        Ok(match self {
            Location::Sqlite(dir) => Arc::new(sqlite::Sqlite::open(dir, create)?),
            Location::Postgres(url) => Arc::new(postgres::Postgres::open(url)?),
        })
    }
}

/// Printable without the password.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(dir) => write!(f, "{}", dir.display()),
            Location::Postgres(url) => f.write_str(&postgres::redact(url)),
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({self})")
    }
}

/// How many times a write is planned again after losing the race for the next version.
const MAX_WRITE_ATTEMPTS: usize = 64;
/// Races lost before a writer waits for the store's write lock instead (its turn comes). Not
/// fewer: with N replicas writing flat out each attempt loses with odds (N-1)/N, and the lock
/// serialises every writer that takes it (three replicas: 430 writes/s optimistic, 180 with the
/// lock after two losses, in server/bench/scale.sh).
const RACES_BEFORE_LOCK: usize = 5;

pub struct FlagStore {
    backend: Arc<dyn Backend>,
    /// Serialises this process's writers (each then races only other replicas).
    write_lock: Mutex<()>,
    /// Serialises catch-ups, so two never publish out of order.
    refresh_lock: Mutex<()>,
    current: watch::Sender<Arc<Snapshot>>,
    /// Whether this open imported version 1 (the store was empty).
    imported: bool,
}

impl FlagStore {
    /// Opens (or creates) `dir/edgeflag.db`. When the store is empty, `initial` supplies the
    /// text of version 1 and a message for its audit entry.
    pub fn open(
        dir: &Path,
        initial: impl FnOnce() -> anyhow::Result<(String, String)>,
    ) -> anyhow::Result<FlagStore> {
        Self::with_backend(Location::Sqlite(dir.to_path_buf()).open(true)?, initial)
    }

    /// Opens the store at `location`, importing `initial` when it is empty. Blocks (PostgreSQL:
    /// call it outside the async workers).
    pub fn open_at(
        location: &Location,
        initial: impl FnOnce() -> anyhow::Result<(String, String)>,
    ) -> anyhow::Result<FlagStore> {
        Self::with_backend(location.open(true)?, initial)
    }

    /// The store over an open backend. Several replicas may start on an empty database at
    /// once: one imports version 1, the others load it.
    pub fn with_backend(
        backend: Arc<dyn Backend>,
        initial: impl FnOnce() -> anyhow::Result<(String, String)>,
    ) -> anyhow::Result<FlagStore> {
        let mut imported = false;
        let snapshot = match load_latest(&*backend)? {
            Some(s) => s,
            None => {
                let (text, message) = initial()?;
                let flags = FlagSet::from_json(&text)
                    .map_err(|e| anyhow::anyhow!("the initial flag file is invalid:\n{e}"))?;
                let prepared = prepare(None, flags, WriteMeta { author: "initial-import", message: &message })?;
                match backend.insert(&prepared.row(), None)? {
                    Inserted::Yes => {
                        imported = true;
                        prepared.snapshot
                    }
                    Inserted::Taken | Inserted::Fenced => load_latest(&*backend)?
                        .ok_or_else(|| anyhow::anyhow!("version 1 was taken, yet the store is empty"))?,
                }
            }
        };
        let (current, _) = watch::channel(Arc::new(snapshot));
        Ok(FlagStore { backend, write_lock: Mutex::new(()), refresh_lock: Mutex::new(()), current, imported })
    }

    /// Whether opening the store imported the initial file (it was empty).
    pub fn imported(&self) -> bool {
        self.imported
    }

    /// The backend (tokens and webhook deliveries live in the same database).
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The current version (cheap: an `Arc` clone).
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.borrow().clone()
    }

    /// Follows the current version: the receiver sees every version this replica serves (a
    /// fast writer may skip intermediate ones; the last is always seen).
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.current.subscribe()
    }

    /// Serves `snapshot` as the current version if it is newer than the current one; returns
    /// whether it was.
    pub fn publish(&self, snapshot: Arc<Snapshot>) -> bool {
        self.current.send_if_modified(|cur| {
            let newer = snapshot.version > cur.version;
            if newer {
                *cur = snapshot.clone();
            }
            newer
        })
    }

    /// Catches up with the database: when it holds a newer version than the one served (written
    /// by another replica), loads it and serves it. Returns the new version, if any.
    pub fn refresh(&self) -> Result<Option<u64>, StoreError> {
        let _guard = lock(&self.refresh_lock);
        let current = self.current();
        let latest = self.backend.latest_version()?;
        if latest <= current.version {
            return Ok(None);
        }
        let row = self
            .backend
            .version_row(latest)?
            .ok_or_else(|| StoreError::Corrupt(format!("version {latest} vanished while being loaded")))?;
        let flags = FlagSet::from_json(&row.body)
            .map_err(|e| StoreError::Corrupt(format!("stored version {latest} no longer validates:\n{e}")))?;
        let mut changed_in = (*current.changed_in).clone();
        let mut seen = Default::default();
        self.backend.walk_changed(current.version, latest, &mut |version, change| {
            changed_in.record_newest_first(&mut seen, version, change);
            true
        })?;
        changed_in.retain_in(flags.file());
        let snapshot = Snapshot {
            version: row.version,
            etag: row.etag,
            body: axum::body::Bytes::from(row.body),
            flags: Arc::new(flags),
            created_at: row.created_at,
            changed_in: Arc::new(changed_in),
        };
        self.publish(Arc::new(snapshot));
        Ok(Some(latest))
    }

    /// Validates `text` with the evaluator and stores it as a new version when `if_match`
    /// (an `If-Match` header value, `None` = unconditional) matches the current ETag.
    pub fn write_text(
        &self,
        text: &str,
        if_match: Option<&str>,
        meta: WriteMeta<'_>,
    ) -> Result<Arc<Snapshot>, WriteError> {
        let flags = FlagSet::from_json(text).map_err(WriteError::Invalid)?;
        self.write_whole(flags, if_match, meta)
    }

    /// Writes the content of version `n` as a new version (nothing is ever lost).
    pub fn rollback(
        &self,
        n: u64,
        if_match: Option<&str>,
        meta: WriteMeta<'_>,
    ) -> Result<Arc<Snapshot>, WriteError> {
        let body = self.version(n)?.ok_or(WriteError::NoSuchVersion(n))?.0;
        self.write_text(&body, if_match, meta)
    }

    fn write_whole(
        &self,
        flags: FlagSet,
        if_match: Option<&str>,
        meta: WriteMeta<'_>,
    ) -> Result<Arc<Snapshot>, WriteError> {
        let (snap, ()) = self.write_with(meta, |current| {
            if let Some(tags) = if_match {
                if !etag_matches(tags, &current.etag) {
                    return Err(WriteError::Stale {
                        current_version: current.version,
                        current_etag: current.etag.clone(),
                    });
                }
            }
            Ok((flags.clone(), ()))
        })?;
        Ok(snap)
    }

    /// The one write path. `plan` sees the current version and returns the validated new file,
    /// or refuses with its own error; the new file is then stored as the next version with
    /// `meta` and published. When another replica stored that version first, the store loads
    /// it and `plan` runs again on it (so a plan may run more than once, always on the
    /// version it would replace).
    pub fn write_with<T, E: From<WriteError>>(
        &self,
        meta: WriteMeta<'_>,
        plan: impl FnMut(&Snapshot) -> Result<(FlagSet, T), E>,
    ) -> Result<(Arc<Snapshot>, T), E> {
        self.write_fenced(meta, None, plan)
    }

    /// [`FlagStore::write_with`] with a condition the database checks in the same
    /// transaction (the controller's leadership): refused with [`WriteError::NotLeader`] when
    /// it no longer holds.
    pub fn write_fenced<T, E: From<WriteError>>(
        &self,
        meta: WriteMeta<'_>,
        fence: Option<Fence>,
        mut plan: impl FnMut(&Snapshot) -> Result<(FlagSet, T), E>,
    ) -> Result<(Arc<Snapshot>, T), E> {
        let _guard = lock(&self.write_lock);
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            // A writer that keeps losing the race waits for the write lock: while it holds it,
            // other replicas' inserts are refused, so it catches up, plans and inserts in turn.
            let held = if attempt >= RACES_BEFORE_LOCK {
                let held = self.backend.lock_writes().map_err(WriteError::from)?;
                if held.is_some() {
                    self.refresh().map_err(WriteError::from)?;
                }
                held
            } else {
                None
            };
            let current = self.current();
            let (flags, extra) = plan(&current)?;
            let prepared = prepare(Some(&current), flags, meta)?;
            let inserted = match held {
                Some(held) => held.insert(&prepared.row(), fence),
                None => self.backend.insert(&prepared.row(), fence),
            };
            match inserted.map_err(WriteError::from)? {
                Inserted::Yes => {
                    let snapshot = Arc::new(prepared.snapshot);
                    self.publish(snapshot.clone());
                    return Ok((snapshot, extra));
                }
                Inserted::Fenced => return Err(WriteError::NotLeader.into()),
                // Another replica committed this version number first: serve what won and
                // plan again on it.
                Inserted::Taken => {
                    self.refresh().map_err(WriteError::from)?;
                }
            }
        }
        Err(WriteError::Contention(MAX_WRITE_ATTEMPTS).into())
    }

    /// Audit entries, newest first.
    pub fn history(&self, limit: u64) -> Result<Vec<HistoryEntry>, StoreError> {
        self.backend.history(limit)
    }

    /// The body and ETag of version `n`.
    pub fn version(&self, n: u64) -> Result<Option<(String, String)>, StoreError> {
        Ok(self.backend.version_row(n)?.map(|r| (r.body, r.etag)))
    }

    /// The version whose whole-file ETag is `etag` (quoted, as sent).
    pub fn version_of_etag(&self, etag: &str) -> Result<Option<u64>, StoreError> {
        self.backend.version_of_etag(etag)
    }

    /// The flag or segment `key` as it was in version `n`: `Ok(None)` if version `n` does not
    /// exist, `Ok(Some(None))` if the item was absent from it.
    pub fn item_at(&self, kind: ItemKind, key: &str, n: u64) -> Result<Option<Option<Value>>, WriteError> {
        let Some((body, _)) = self.version(n)? else { return Ok(None) };
        let file: Value = serde_json::from_str(&body)?;
        Ok(Some(find_item(&file, kind, key).cloned()))
    }

    /// Walks the versions in `(after, upto]` that changed item `key`, newest first, at most
    /// `limit`, calling `visit(version, author, the item then)` until it returns false. Rows
    /// are read one at a time, so a walk that stops early parses only what it needed.
    pub fn walk_item_changes(
        &self,
        kind: ItemKind,
        key: &str,
        after: u64,
        upto: u64,
        limit: usize,
        mut visit: impl FnMut(u64, &str, Option<&Value>) -> bool,
    ) -> Result<(), WriteError> {
        let mut failed = None;
        self.backend.walk_item_changes(kind, key, after, upto, limit, &mut |version, author, body| {
            match serde_json::from_str::<Value>(&body) {
                Ok(file) => visit(version, &author, find_item(&file, kind, key)),
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })?;
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// [`FlagStore::walk_item_changes`], collected.
    pub fn item_changes(
        &self,
        kind: ItemKind,
        key: &str,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<ItemChange>, WriteError> {
        let mut out = Vec::new();
        self.walk_item_changes(kind, key, after, upto, limit, |v, author, item| {
            out.push((v, author.to_string(), item.cloned()));
            true
        })?;
        Ok(out)
    }
}

/// A poisoned lock is safe to reuse here: the data behind it is a database transaction, which
/// rolls back, or nothing at all.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The flag or segment `key` in a flag file's JSON.
pub fn find_item<'a>(file: &'a Value, kind: ItemKind, key: &str) -> Option<&'a Value> {
    file.get(kind.array())?.as_array()?.iter().find(|v| v.get("key").and_then(Value::as_str) == Some(key))
}

/// The newest version with the version each of its flags and segments last changed in.
fn load_latest(backend: &dyn Backend) -> anyhow::Result<Option<Snapshot>> {
    let latest = backend.latest_version()?;
    if latest == 0 {
        return Ok(None);
    }
    let Some(row) = backend.version_row(latest)? else { return Ok(None) };
    let flags = FlagSet::from_json(&row.body)
        .map_err(|e| anyhow::anyhow!("stored version {} no longer validates:\n{e}", row.version))?;
    let changed_in = load_changed_in(backend, row.version, flags.file())?;
    Ok(Some(Snapshot {
        version: row.version,
        etag: row.etag,
        body: axum::body::Bytes::from(row.body),
        flags: Arc::new(flags),
        created_at: row.created_at,
        changed_in: Arc::new(changed_in),
    }))
}

/// Walks the history from `version` down until every current flag and segment has the version
/// it last changed in (only the small `changed_*` columns are read).
fn load_changed_in(backend: &dyn Backend, version: u64, file: &FlagFile) -> anyhow::Result<ChangedIn> {
    let mut missing: usize = file.flags.len() + file.segments.len();
    let mut out = ChangedIn::default();
    let mut seen = Default::default();
    backend.walk_changed(0, version, &mut |v, change| {
        out.record_newest_first(&mut seen, v, change);
        out.retain_in(file);
        missing = file.flags.len() + file.segments.len() - out.flags.len() - out.segments.len();
        missing > 0
    })?;
    // Not found (an unreadable column): the oldest version, the safe base (it still exists).
    for f in &file.flags {
        out.flags.entry(f.key.clone()).or_insert(1);
    }
    for s in &file.segments {
        out.segments.entry(s.key.clone()).or_insert(1);
    }
    Ok(out)
}

/// A version ready to insert, and the snapshot it becomes once inserted.
struct Prepared<'a> {
    snapshot: Snapshot,
    meta: WriteMeta<'a>,
    changed: Changed,
}

impl Prepared<'_> {
    fn row(&self) -> NewVersion<'_> {
        NewVersion {
            version: self.snapshot.version,
            created_at: &self.snapshot.created_at,
            author: self.meta.author,
            message: self.meta.message,
            changed: &self.changed,
            etag: &self.snapshot.etag,
            body: std::str::from_utf8(&self.snapshot.body).unwrap_or_default(),
        }
    }
}

/// `flags` as the version after `previous` (version 1 when `None`).
fn prepare<'a>(previous: Option<&Snapshot>, flags: FlagSet, meta: WriteMeta<'a>) -> Result<Prepared<'a>, WriteError> {
    let version = previous.map_or(1, |p| p.version + 1);
    let empty = FlagFile { schema: None, schema_version: 1, environments: Vec::new(), segments: Vec::new(), flags: Vec::new() };
    let old = previous.map_or(&empty, |p| p.flags.file());
    let new = flags.file();
    let changed = Changed { flags: changed_flags(old, new), segments: changed_segments(old, new) };
    // Canonical form: what the evaluator validated, re-encoded, so the stored text and its
    // ETag do not depend on the client's formatting.
    let body = serde_json::to_string_pretty(new)?;
    let etag = make_etag(version, &body);
    let created_at = clock::now_rfc3339();
    let mut changed_in = previous.map(|p| (*p.changed_in).clone()).unwrap_or_default();
    changed_in.retain_in(new);
    for key in &changed.flags {
        if new.flags.iter().any(|f| &f.key == key) {
            changed_in.flags.insert(key.clone(), version);
        }
    }
    for key in &changed.segments {
        if new.segments.iter().any(|s| &s.key == key) {
            changed_in.segments.insert(key.clone(), version);
        }
    }
    let snapshot = Snapshot {
        version,
        etag,
        body: axum::body::Bytes::from(body),
        flags: Arc::new(flags),
        created_at,
        changed_in: Arc::new(changed_in),
    };
    Ok(Prepared { snapshot, meta, changed })
}

/// Strong ETag over the version number and the content: every version has its own tag, so
/// If-Match always detects an intervening write, even one that restored identical content.
pub fn make_etag(version: u64, body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(version.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(body.as_bytes());
    format!("\"{}\"", hex(&hasher.finalize()[..16]))
}

/// The ETag of one flag or segment: `"<version it last changed in>-<16 hex>"`. The hash
/// (over kind, key and content) lets the server check that the tag really is that item at
/// that version before using the version as a merge base.
pub fn item_etag(kind: ItemKind, key: &str, changed_in: u64, value: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(kind.noun().as_bytes());
    hasher.update(b"\0");
    hasher.update(key.as_bytes());
    hasher.update(b"\0");
    hasher.update(value.to_string().as_bytes());
    format!("\"{changed_in}-{}\"", hex(&hasher.finalize()[..8]))
}

/// The version named by an item ETag (`"12-0123456789abcdef"`), if it has that shape.
pub fn parse_item_etag(tag: &str) -> Option<u64> {
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    let (version, hash) = inner.split_once('-')?;
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    version.parse().ok()
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Whether an `If-Match`/`If-None-Match` header value (`*` or a comma-separated list of
/// entity tags) matches `etag`. Strong comparison: weak tags (`W/"…"`) never match.
pub fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| tag == "*" || tag == etag)
}

/// Keys of flags added, removed or changed between two files, sorted.
pub fn changed_flags(old: &FlagFile, new: &FlagFile) -> Vec<String> {
    changed_keys(old.flags.iter().map(|f| (f.key.as_str(), f)), new.flags.iter().map(|f| (f.key.as_str(), f)))
}

/// Keys of segments added, removed or changed between two files, sorted.
pub fn changed_segments(old: &FlagFile, new: &FlagFile) -> Vec<String> {
    changed_keys(old.segments.iter().map(|s| (s.key.as_str(), s)), new.segments.iter().map(|s| (s.key.as_str(), s)))
}

fn changed_keys<'a, T: PartialEq + 'a>(
    old: impl Iterator<Item = (&'a str, &'a T)>,
    new: impl Iterator<Item = (&'a str, &'a T)>,
) -> Vec<String> {
    use std::collections::BTreeMap;
    let old_by_key: BTreeMap<&str, &T> = old.collect();
    let new_by_key: BTreeMap<&str, &T> = new.collect();
    let mut changed: Vec<String> = new_by_key
        .iter()
        .filter(|(key, item)| old_by_key.get(*key) != Some(*item))
        .map(|(key, _)| key.to_string())
        .collect();
    changed.extend(old_by_key.keys().filter(|key| !new_by_key.contains_key(*key)).map(|k| k.to_string()));
    changed.sort();
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"schema_version": 1,
      "segments": [{"key": "s"}],
      "flags": [
        {"key": "a", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
         "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}]},
        {"key": "b", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
         "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}]}
      ]}"#;

    fn with_description(text: &str, index: usize, description: &str) -> String {
        let mut v: Value = serde_json::from_str(text).unwrap_or_default();
        v["flags"][index]["description"] = Value::from(description);
        v.to_string()
    }

    fn meta() -> WriteMeta<'static> {
        WriteMeta { author: "t", message: "" }
    }

    #[test]
    fn item_etags_change_only_with_the_item_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = FlagStore::open(dir.path(), || Ok((FILE.to_string(), "import".into()))).unwrap_or_else(|e| panic!("{e}"));
        let tag = |s: &FlagStore, kind, key| s.current().item_with_etag(kind, key).map(|(_, t)| t).unwrap_or_default();
        let (a1, b1, s1) = (tag(&store, ItemKind::Flag, "a"), tag(&store, ItemKind::Flag, "b"), tag(&store, ItemKind::Segment, "s"));
        assert_eq!(parse_item_etag(&a1), Some(1));
        assert_ne!(a1, b1, "the key is part of the hash");
        let text = with_description(FILE, 1, "changed");
        store.write_text(&text, None, meta()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tag(&store, ItemKind::Flag, "a"), a1);
        assert_eq!(tag(&store, ItemKind::Segment, "s"), s1);
        let b2 = tag(&store, ItemKind::Flag, "b");
        assert_eq!(parse_item_etag(&b2), Some(2));
        assert_eq!(store.history(1).unwrap_or_default()[0].changed_flags, ["b"]);
        drop(store);

        let store = FlagStore::open(dir.path(), || panic!("not empty")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((tag(&store, ItemKind::Flag, "a"), tag(&store, ItemKind::Flag, "b")), (a1, b2));
        assert_eq!(tag(&store, ItemKind::Segment, "s"), s1);
        let changes = store.item_changes(ItemKind::Flag, "b", 0, 2, 10).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changes.iter().map(|c| c.0).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(changes[0].2.as_ref().and_then(|f| f["description"].as_str()), Some("changed"));
        assert_eq!(store.item_changes(ItemKind::Flag, "a", 1, 2, 10).map(|c| c.len()).ok(), Some(0));
    }

    #[test]
    fn item_etags_parse_only_their_own_shape() {
        assert_eq!(parse_item_etag("\"12-0123456789abcdef\""), Some(12));
        for bad in ["12-0123456789abcdef", "\"0123456789abcdef0123456789abcdef\"", "W/\"12-0123456789abcdef\"", "\"x-0123456789abcdef\"", "\"12-0123\""] {
            assert_eq!(parse_item_etag(bad), None, "{bad}");
        }
    }
}
