//! The SQLite backend: `edgeflag.db` in the data directory (the embedded default).
//!
//! One connection behind a lock. The server and the `edgeflag token` commands may open the
//! same file at once: WAL lets readers and one writer work side by side, the busy timeout makes
//! a second writer wait, and a version insert is conditional on the newest stored version, so
//! two processes writing the same file cannot lose each other's versions either.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use super::{lock, Backend, Changed, Delivery, Fence, HistoryEntry, Inserted, ItemKind, NewVersion, StoreError, TokenRow, VersionRow};
use crate::db;

pub struct Sqlite {
    conn: Mutex<Connection>,
}

impl Sqlite {
    /// Opens `dir/edgeflag.db` (creating the directory and file when `create`) and migrates it.
    pub fn open(dir: &Path, create: bool) -> anyhow::Result<Sqlite> {
        Ok(Sqlite { conn: Mutex::new(db::open(dir, create)?) })
    }
}

/// A JSON array of keys as stored; an unreadable one reads as empty, not an error.
fn keys(text: Option<String>) -> Vec<String> {
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

fn to_json(keys: &[String]) -> String {
    serde_json::to_string(keys).unwrap_or_else(|_| "[]".into())
}

fn delivery_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: row.get(0)?,
        created_at: row.get(1)?,
        event: row.get(2)?,
        flag: row.get(3)?,
        env: row.get(4)?,
        file_version: row.get::<_, i64>(5)? as u64,
        decision_version: row.get::<_, Option<i64>>(6)?.map(|v| v as u64),
        url: row.get(7)?,
        payload: row.get(8)?,
        status: row.get(9)?,
        attempts: row.get::<_, i64>(10)? as u32,
        next_attempt_ms: row.get(11)?,
        attempt_log: serde_json::from_str(&row.get::<_, String>(12)?).unwrap_or_default(),
        updated_at: row.get(13)?,
    })
}

const DELIVERY_COLUMNS: &str = "id, created_at, event, flag, env, file_version, decision_version, url, payload, status, \
                                attempts, next_attempt_ms, attempt_log, updated_at";

impl Backend for Sqlite {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn latest_version(&self) -> Result<u64, StoreError> {
        let conn = lock(&self.conn);
        let v: Option<i64> = conn.query_row("SELECT max(version) FROM versions", [], |r| r.get(0))?;
        Ok(v.unwrap_or(0) as u64)
    }

    fn version_row(&self, n: u64) -> Result<Option<VersionRow>, StoreError> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached("SELECT version, etag, body, created_at FROM versions WHERE version = ?1")?;
        let row = stmt
            .query_row(params![n as i64], |row| {
                Ok(VersionRow {
                    version: row.get::<_, i64>(0)? as u64,
                    etag: row.get(1)?,
                    body: row.get(2)?,
                    created_at: row.get(3)?,
                })
            })
            .optional()?;
        Ok(row)
    }

    fn insert(&self, v: &NewVersion<'_>, _fence: Option<Fence>) -> Result<Inserted, StoreError> {
        // One process runs the controller on a SQLite store: there is no leadership to fence.
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(
            "INSERT INTO versions (version, created_at, author, message, changed_flags, etag, body, changed_segments)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
             WHERE COALESCE((SELECT max(version) FROM versions), 0) = ?1 - 1",
        )?;
        let result = stmt.execute(params![
            v.version as i64,
            v.created_at,
            v.author,
            v.message,
            to_json(&v.changed.flags),
            v.etag,
            v.body,
            to_json(&v.changed.segments)
        ]);
        match result {
            Ok(1) => Ok(Inserted::Yes),
            Ok(_) => Ok(Inserted::Taken),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                Ok(Inserted::Taken)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn lock_writes(&self) -> Result<Option<Box<dyn super::WriteLock + '_>>, StoreError> {
        Ok(None)
    }

    fn walk_changed(&self, after: u64, upto: u64, visit: &mut dyn FnMut(u64, Changed) -> bool) -> Result<(), StoreError> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(
            "SELECT version, changed_flags, changed_segments FROM versions
             WHERE version > ?1 AND version <= ?2 ORDER BY version DESC",
        )?;
        let mut rows = stmt.query(params![after as i64, upto as i64])?;
        while let Some(row) = rows.next()? {
            let change = Changed { flags: keys(row.get(1)?), segments: keys(row.get(2)?) };
            if !visit(row.get::<_, i64>(0)? as u64, change) {
                break;
            }
        }
        Ok(())
    }

    fn history(&self, limit: u64) -> Result<Vec<HistoryEntry>, StoreError> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(
            "SELECT version, created_at, author, changed_flags, message, etag, changed_segments
             FROM versions ORDER BY version DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |row| {
            Ok(HistoryEntry {
                version: row.get::<_, i64>(0)? as u64,
                created_at: row.get(1)?,
                author: row.get(2)?,
                changed_flags: keys(row.get(3)?),
                message: row.get(4)?,
                etag: row.get(5)?,
                changed_segments: keys(row.get(6)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn version_of_etag(&self, etag: &str) -> Result<Option<u64>, StoreError> {
        let conn = lock(&self.conn);
        Ok(conn
            .query_row("SELECT version FROM versions WHERE etag = ?1", params![etag], |row| row.get::<_, i64>(0))
            .optional()?
            .map(|v| v as u64))
    }

    fn walk_item_changes(
        &self,
        kind: ItemKind,
        key: &str,
        after: u64,
        upto: u64,
        limit: usize,
        visit: &mut dyn FnMut(u64, String, String) -> bool,
    ) -> Result<(), StoreError> {
        let conn = lock(&self.conn);
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
            if !visit(row.get::<_, i64>(0)? as u64, row.get(1)?, row.get(2)?) {
                break;
            }
        }
        Ok(())
    }

    fn token_insert(&self, t: &TokenRow) -> Result<bool, StoreError> {
        let conn = lock(&self.conn);
        let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        let existing: Option<Option<String>> = tx
            .query_row("SELECT revoked_at FROM tokens WHERE name = ?1", params![t.name], |r| r.get(0))
            .optional()?;
        if let Some(None) = existing {
            return Ok(false);
        }
        tx.execute(
            "INSERT OR REPLACE INTO tokens (name, sha256, created_at, role, revoked_at) VALUES (?1, ?2, ?3, ?4, NULL)",
            params![t.name, t.sha256, t.created_at, t.role],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn token_list(&self) -> Result<Vec<TokenRow>, StoreError> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare("SELECT name, sha256, role, created_at, revoked_at FROM tokens ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(TokenRow { name: r.get(0)?, sha256: r.get(1)?, role: r.get(2)?, created_at: r.get(3)?, revoked_at: r.get(4)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn token_revoke(&self, name: &str, at: &str) -> Result<bool, StoreError> {
        let conn = lock(&self.conn);
        let changed =
            conn.execute("UPDATE tokens SET revoked_at = ?1 WHERE name = ?2 AND revoked_at IS NULL", params![at, name])?;
        Ok(changed == 1)
    }

    /// `PRAGMA data_version`: it changes when another connection (the CLI's) commits. Never
    /// waits: when a writer holds the connection, the check is skipped (`Refused`).
    fn tokens_marker(&self) -> Result<String, StoreError> {
        let Ok(conn) = self.conn.try_lock() else {
            return Err(StoreError::Refused("the connection is busy".into()));
        };
        let v: i64 = conn.pragma_query_value(None, "data_version", |r| r.get(0))?;
        Ok(v.to_string())
    }

    fn tokens_checked_inline(&self) -> bool {
        true
    }

    fn delivery_insert(&self, d: &Delivery) -> Result<(), StoreError> {
        let conn = lock(&self.conn);
        conn.execute(
            &format!("INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
            params![
                d.id,
                d.created_at,
                d.event,
                d.flag,
                d.env,
                d.file_version as i64,
                d.decision_version.map(|v| v as i64),
                d.url,
                d.payload,
                d.status,
                i64::from(d.attempts),
                d.next_attempt_ms,
                serde_json::to_string(&d.attempt_log).unwrap_or_else(|_| "[]".into()),
                d.updated_at
            ],
        )?;
        Ok(())
    }

    fn delivery_update(&self, d: &Delivery) -> Result<(), StoreError> {
        let conn = lock(&self.conn);
        conn.execute(
            "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, next_attempt_ms = ?4, attempt_log = ?5, updated_at = ?6
             WHERE id = ?1",
            params![
                d.id,
                d.status,
                i64::from(d.attempts),
                d.next_attempt_ms,
                serde_json::to_string(&d.attempt_log).unwrap_or_else(|_| "[]".into()),
                d.updated_at
            ],
        )?;
        Ok(())
    }

    fn deliveries_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_ms <= ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![now_ms, limit as i64], delivery_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let conn = lock(&self.conn);
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY seq DESC LIMIT ?1"))?;
        let rows = stmt.query_map(params![limit as i64], delivery_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
