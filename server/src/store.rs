//! The versioned flag store: every accepted write is a new row in SQLite, nothing is deleted.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a write is on disk when its transaction
//! commits, and a crash (even SIGKILL mid-write) leaves either the old or the new version,
//! never a torn one. A write is acknowledged only after the commit.
//!
//! Concurrency: writes are serialised by one mutex around the connection; the If-Match check
//! and the insert happen under it, so concurrent writers with the same ETag get exactly one
//! success. Readers never touch SQLite for the current version: they clone an `Arc<Snapshot>`.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use edgeflag_evaluator::{FlagFile, FlagSet, ValidationErrors};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock;

/// One stored version, ready to serve.
pub struct Snapshot {
    pub version: u64,
    /// Strong entity tag, quoted (`"…"`), unique per version.
    pub etag: String,
    /// The canonical JSON of the flag file, served as is.
    pub body: axum::body::Bytes,
    pub flags: Arc<FlagSet>,
    pub created_at: String,
}

/// An audit entry (`GET /api/flags/history`).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: u64,
    pub created_at: String,
    pub author: String,
    pub changed_flags: Vec<String>,
    pub message: String,
    pub etag: String,
}

/// Why a write was refused.
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

pub struct FlagStore {
    conn: Mutex<Connection>,
    current: RwLock<Arc<Snapshot>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS versions (
    version       INTEGER PRIMARY KEY,
    created_at    TEXT NOT NULL,
    author        TEXT NOT NULL,
    message       TEXT NOT NULL,
    changed_flags TEXT NOT NULL,
    etag          TEXT NOT NULL,
    body          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    name       TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
";

impl FlagStore {
    /// Opens (or creates) `dir/edgeflag.db`. When the store is empty, `initial` supplies the
    /// text of version 1 and a message for its audit entry.
    pub fn open(
        dir: &Path,
        initial: impl FnOnce() -> anyhow::Result<(String, String)>,
    ) -> anyhow::Result<FlagStore> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
        let path = dir.join("edgeflag.db");
        let conn = Connection::open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;

        let latest = load_latest(&conn)?;
        let snapshot = match latest {
            Some(s) => s,
            None => {
                let (text, message) = initial()?;
                let flags = FlagSet::from_json(&text).map_err(|e| {
                    anyhow::anyhow!("the initial flag file is invalid:\n{e}")
                })?;
                let changed: Vec<String> = flags.flag_keys().map(str::to_string).collect();
                insert_version(
                    &conn,
                    1,
                    flags,
                    changed,
                    WriteMeta { author: "initial-import", message: &message },
                )?
            }
        };
        Ok(FlagStore { conn: Mutex::new(conn), current: RwLock::new(Arc::new(snapshot)) })
    }

    /// The current version (cheap: an `Arc` clone).
    pub fn current(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
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
        self.write_flags(flags, if_match, meta)
    }

    /// Like [`FlagStore::write_text`] for an in-memory file (e.g. the canary controller,
    /// author "canary-controller").
    pub fn write_file(
        &self,
        file: FlagFile,
        if_match: Option<&str>,
        meta: WriteMeta<'_>,
    ) -> Result<Arc<Snapshot>, WriteError> {
        let flags = FlagSet::from_file(file).map_err(WriteError::Invalid)?;
        self.write_flags(flags, if_match, meta)
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

    fn write_flags(
        &self,
        flags: FlagSet,
        if_match: Option<&str>,
        meta: WriteMeta<'_>,
    ) -> Result<Arc<Snapshot>, WriteError> {
        let conn = self.lock_conn();
        let current = self.current();
        if let Some(tags) = if_match {
            if !etag_matches(tags, &current.etag) {
                return Err(WriteError::Stale {
                    current_version: current.version,
                    current_etag: current.etag.clone(),
                });
            }
        }
        let changed = changed_flags(current.flags.file(), flags.file());
        let snapshot = Arc::new(insert_version(&conn, current.version + 1, flags, changed, meta)?);
        match self.current.write() {
            Ok(mut guard) => *guard = snapshot.clone(),
            Err(poisoned) => *poisoned.into_inner() = snapshot.clone(),
        }
        Ok(snapshot)
    }

    /// Audit entries, newest first.
    pub fn history(&self, limit: u64) -> Result<Vec<HistoryEntry>, rusqlite::Error> {
        let conn = self.lock_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT version, created_at, author, changed_flags, message, etag
             FROM versions ORDER BY version DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |row| {
            let changed: String = row.get(3)?;
            Ok(HistoryEntry {
                version: row.get::<_, i64>(0)? as u64,
                created_at: row.get(1)?,
                author: row.get(2)?,
                // Written by us as a JSON array; an unreadable one shows as empty, not an error.
                changed_flags: serde_json::from_str(&changed).unwrap_or_default(),
                message: row.get(4)?,
                etag: row.get(5)?,
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

    /// Runs `f` with the connection (the token table lives in the same database).
    pub fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.lock_conn())
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
    Ok(Some(Snapshot {
        version: version as u64,
        etag,
        body: axum::body::Bytes::from(body),
        flags: Arc::new(flags),
        created_at,
    }))
}

fn insert_version(
    conn: &Connection,
    version: u64,
    flags: FlagSet,
    changed: Vec<String>,
    meta: WriteMeta<'_>,
) -> Result<Snapshot, WriteError> {
    // Canonical form: what the evaluator validated, re-encoded, so the stored text and its
    // ETag do not depend on the client's formatting.
    let body = serde_json::to_string_pretty(flags.file())?;
    let etag = make_etag(version, &body);
    let created_at = clock::now_rfc3339();
    let changed_json = serde_json::to_string(&changed)?;
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO versions (version, created_at, author, message, changed_flags, etag, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![version as i64, created_at, meta.author, meta.message, changed_json, etag, body],
    )?;
    tx.commit()?;
    Ok(Snapshot {
        version,
        etag,
        body: axum::body::Bytes::from(body),
        flags: Arc::new(flags),
        created_at,
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
    use std::collections::BTreeMap;
    let old_by_key: BTreeMap<&str, _> = old.flags.iter().map(|f| (f.key.as_str(), f)).collect();
    let new_by_key: BTreeMap<&str, _> = new.flags.iter().map(|f| (f.key.as_str(), f)).collect();
    let mut changed: Vec<String> = new_by_key
        .iter()
        .filter(|(key, flag)| old_by_key.get(*key) != Some(*flag))
        .map(|(key, _)| key.to_string())
        .collect();
    changed.extend(
        old_by_key.keys().filter(|key| !new_by_key.contains_key(*key)).map(|k| k.to_string()),
    );
    changed.sort();
    changed
}
