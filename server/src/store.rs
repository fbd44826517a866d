//! The versioned flag store: every accepted write is a new row in SQLite, nothing is deleted.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a write is on disk when its transaction
//! commits, and a crash (even SIGKILL mid-write) leaves either the old or the new version,
//! never a torn one. A write is acknowledged only after the commit.
//!
//! One write path: [`FlagStore::write_with`]. Every writer (a whole-file PUT, a per-flag
//! write, a rollback, the canary controller) hands it a plan that computes the new file from
//! the current version; the plan runs under the one lock around the connection, then the
//! result is validated, stored with its audit fields and published. So writers are
//! serialised, each sees the version it replaces, and preconditions (If-Match, merges) are
//! checked against exactly that version. Readers never touch SQLite for the current version:
//! they clone an `Arc<Snapshot>`.
//!
//! Per-flag (and per-segment) ETags: each snapshot knows the version in which each flag and
//! segment last changed; a flag's ETag is `"<that version>-<16 hex of its content hash>"`, so
//! it changes only when the flag does and names the version to use as the base of a merge.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use edgeflag_evaluator::{FlagFile, FlagSet, ValidationErrors};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::{clock, db};

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
    Storage(#[from] rusqlite::Error),
    #[error("could not encode the flag file: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Who writes and why (the audit fields of a version).
#[derive(Debug, Clone)]
pub struct WriteMeta<'a> {
    pub author: &'a str,
    pub message: &'a str,
}

/// One past version of an item: (version, author, the item's JSON then, `None` = absent).
pub type ItemChange = (u64, String, Option<Value>);

pub struct FlagStore {
    conn: Mutex<Connection>,
    /// The current version, and its watch: the change stream (`GET /api/flags/stream`) follows
    /// it, and whatever learns of another process's version (a replica's NOTIFY listener)
    /// publishes into it with [`FlagStore::publish`].
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
        let conn = db::open(dir, true)?;
        let mut imported = false;
        let snapshot = match load_latest(&conn)? {
            Some(s) => s,
            None => {
                imported = true;
                let (text, message) = initial()?;
                let flags = FlagSet::from_json(&text)
                    .map_err(|e| anyhow::anyhow!("the initial flag file is invalid:\n{e}"))?;
                insert_version(&conn, None, flags, WriteMeta { author: "initial-import", message: &message })?
            }
        };
        Ok(FlagStore { conn: Mutex::new(conn), current: watch::Sender::new(Arc::new(snapshot)), imported })
    }

    /// Whether opening the store imported the initial file (it was empty).
    pub fn imported(&self) -> bool {
        self.imported
    }

    /// The current version (cheap: an `Arc` clone).
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.borrow().clone()
    }

    /// A watch of the current version: changes with every new version this store serves.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.current.subscribe()
    }

    /// Serves `snapshot` as the current version if it is newer than the current one (a version
    /// another process wrote); returns whether it was.
    pub fn publish(&self, snapshot: Arc<Snapshot>) -> bool {
        self.current.send_if_modified(|current| {
            let newer = snapshot.version > current.version;
            if newer {
                *current = snapshot.clone();
            }
            newer
        })
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
            Ok((flags, ()))
        })?;
        Ok(snap)
    }

    /// The one write path. `plan` sees the current version (under the write lock, so nothing
    /// lands in between) and returns the validated new file, or refuses with its own error;
    /// the new file is then stored as the next version with `meta` and published.
    pub fn write_with<T, E: From<WriteError>>(
        &self,
        meta: WriteMeta<'_>,
        plan: impl FnOnce(&Snapshot) -> Result<(FlagSet, T), E>,
    ) -> Result<(Arc<Snapshot>, T), E> {
        let conn = self.lock_conn();
        let current = self.current();
        let (flags, extra) = plan(&current)?;
        let snapshot = Arc::new(insert_version(&conn, Some(&current), flags, meta)?);
        // Under the connection lock, so versions are published in order.
        self.current.send_replace(snapshot.clone());
        Ok((snapshot, extra))
    }

    /// Audit entries, newest first.
    pub fn history(&self, limit: u64) -> Result<Vec<HistoryEntry>, rusqlite::Error> {
        let conn = self.lock_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT version, created_at, author, changed_flags, message, etag, changed_segments
             FROM versions ORDER BY version DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |row| {
            let list = |text: Option<String>| -> Vec<String> {
                // Written by us as a JSON array; an unreadable one shows as empty, not an error.
                text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
            };
            Ok(HistoryEntry {
                version: row.get::<_, i64>(0)? as u64,
                created_at: row.get(1)?,
                author: row.get(2)?,
                changed_flags: list(row.get(3)?),
                message: row.get(4)?,
                etag: row.get(5)?,
                changed_segments: list(row.get(6)?),
            })
        })?;
        rows.collect()
    }

    /// The body and ETag of version `n`.
    pub fn version(&self, n: u64) -> Result<Option<(String, String)>, rusqlite::Error> {
        let conn = self.lock_conn();
        conn.query_row(
            "SELECT body, etag FROM versions WHERE version = ?1",
            params![n as i64],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
    }

    /// The version whose whole-file ETag is `etag` (quoted, as sent).
    pub fn version_of_etag(&self, etag: &str) -> Result<Option<u64>, rusqlite::Error> {
        let conn = self.lock_conn();
        conn.query_row("SELECT version FROM versions WHERE etag = ?1", params![etag], |row| row.get::<_, i64>(0))
            .optional()
            .map(|v| v.map(|v| v as u64))
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
        let conn = self.lock_conn();
        let column = match kind {
            ItemKind::Flag => "changed_flags",
            ItemKind::Segment => "changed_segments",
        };
        let sql = format!(
            "SELECT version, author, body FROM versions
             WHERE version > ?1 AND version <= ?2
               AND EXISTS (SELECT 1 FROM json_each(COALESCE({column}, '[]')) WHERE value = ?3)
             ORDER BY version DESC LIMIT ?4"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![after as i64, upto as i64, key, limit as i64])?;
        while let Some(row) = rows.next()? {
            let version = row.get::<_, i64>(0)? as u64;
            let author: String = row.get(1)?;
            let file: Value = serde_json::from_str(&row.get::<_, String>(2)?)?;
            if !visit(version, &author, find_item(&file, kind, key)) {
                break;
            }
        }
        Ok(())
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

    fn lock_conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back), so a poisoned lock is safe to reuse.
        match self.conn.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The flag or segment `key` in a flag file's JSON.
pub fn find_item<'a>(file: &'a Value, kind: ItemKind, key: &str) -> Option<&'a Value> {
    file.get(kind.array())?.as_array()?.iter().find(|v| v.get("key").and_then(Value::as_str) == Some(key))
}

fn load_latest(conn: &Connection) -> anyhow::Result<Option<Snapshot>> {
    let row: Option<(i64, String, String, String)> = conn
        .query_row(
            "SELECT version, etag, body, created_at FROM versions ORDER BY version DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    let Some((version, etag, body, created_at)) = row else { return Ok(None) };
    let flags = FlagSet::from_json(&body).map_err(|e| {
        anyhow::anyhow!("stored version {version} no longer validates:\n{e}")
    })?;
    let changed_in = load_changed_in(conn, flags.file())?;
    Ok(Some(Snapshot {
        version: version as u64,
        etag,
        body: axum::body::Bytes::from(body),
        flags: Arc::new(flags),
        created_at,
        changed_in: Arc::new(changed_in),
    }))
}

/// Walks the history from the newest version until every current flag and segment has the
/// version it last changed in (only the small `changed_*` columns are read).
fn load_changed_in(conn: &Connection, file: &FlagFile) -> anyhow::Result<ChangedIn> {
    let mut missing_flags: std::collections::HashSet<&str> = file.flags.iter().map(|f| f.key.as_str()).collect();
    let mut missing_segments: std::collections::HashSet<&str> = file.segments.iter().map(|s| s.key.as_str()).collect();
    let mut out = ChangedIn::default();
    let mut stmt = conn.prepare("SELECT version, changed_flags, changed_segments FROM versions ORDER BY version DESC")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        if missing_flags.is_empty() && missing_segments.is_empty() {
            break;
        }
        let version = row.get::<_, i64>(0)? as u64;
        let flags: Vec<String> = serde_json::from_str(&row.get::<_, String>(1)?).unwrap_or_default();
        let segments: Vec<String> = row
            .get::<_, Option<String>>(2)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        for key in flags {
            if missing_flags.remove(key.as_str()) {
                out.flags.insert(key, version);
            }
        }
        for key in segments {
            if missing_segments.remove(key.as_str()) {
                out.segments.insert(key, version);
            }
        }
    }
    // Not found (an unreadable column): the oldest version, the safe base (it still exists).
    for key in missing_flags {
        out.flags.insert(key.to_string(), 1);
    }
    for key in missing_segments {
        out.segments.insert(key.to_string(), 1);
    }
    Ok(out)
}

/// Stores `flags` as the version after `previous` (version 1 when `None`).
fn insert_version(
    conn: &Connection,
    previous: Option<&Snapshot>,
    flags: FlagSet,
    meta: WriteMeta<'_>,
) -> Result<Snapshot, WriteError> {
    let version = previous.map_or(1, |p| p.version + 1);
    let empty = FlagFile { schema: None, schema_version: 1, environments: Vec::new(), segments: Vec::new(), flags: Vec::new() };
    let old = previous.map_or(&empty, |p| p.flags.file());
    let new = flags.file();
    let changed = changed_flags(old, new);
    let changed_segs = changed_segments(old, new);
    // Canonical form: what the evaluator validated, re-encoded, so the stored text and its
    // ETag do not depend on the client's formatting.
    let body = serde_json::to_string_pretty(new)?;
    let etag = make_etag(version, &body);
    let created_at = clock::now_rfc3339();
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO versions (version, created_at, author, message, changed_flags, etag, body, changed_segments)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            version as i64,
            created_at,
            meta.author,
            meta.message,
            serde_json::to_string(&changed)?,
            etag,
            body,
            serde_json::to_string(&changed_segs)?
        ],
    )?;
    tx.commit()?;
    let mut changed_in = previous.map(|p| (*p.changed_in).clone()).unwrap_or_default();
    changed_in.flags.retain(|k, _| new.flags.iter().any(|f| &f.key == k));
    changed_in.segments.retain(|k, _| new.segments.iter().any(|s| &s.key == k));
    for key in changed {
        if new.flags.iter().any(|f| f.key == key) {
            changed_in.flags.insert(key, version);
        }
    }
    for key in changed_segs {
        if new.segments.iter().any(|s| s.key == key) {
            changed_in.segments.insert(key, version);
        }
    }
    Ok(Snapshot {
        version,
        etag,
        body: axum::body::Bytes::from(body),
        flags: Arc::new(flags),
        created_at,
        changed_in: Arc::new(changed_in),
    })
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
