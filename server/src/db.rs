//! The SQLite file `edgeflag.db`: opening it and bringing its schema up to date.
//!
//! The server (flag store, token cache) and the `edgeflag token` commands open the same file,
//! possibly at the same time: WAL lets readers and one writer work side by side, and the
//! busy timeout makes a second writer wait instead of failing.
//!
//! Schema versions (`PRAGMA user_version`), applied in order inside one transaction each:
//! - 0: `versions` (every flag-file version) and `tokens` (name, sha256, created_at);
//! - 1: tokens get a `role` (existing rows become `admin`, what they could do before) and
//!   `revoked_at`; versions get `changed_segments` (back-filled from the stored bodies) and an
//!   index on `etag` (a whole-file ETag is the base of per-flag writes);
//! - 2: `webhook_deliveries`, the decision webhooks' outbox and audit (see `webhooks.rs`).

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

/// The database file inside a data directory.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("edgeflag.db")
}

const SCHEMA_0: &str = "
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

const SCHEMA_2: &str = "
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    event           TEXT NOT NULL,
    flag            TEXT NOT NULL,
    env             TEXT,
    file_version    INTEGER NOT NULL,
    decision_version INTEGER,
    url             TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_ms INTEGER,
    attempt_log     TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries(status, next_attempt_ms);
";

const LATEST: i64 = 2;

/// Opens (creating the directory and file when `create`) and migrates the database.
pub fn open(dir: &Path, create: bool) -> anyhow::Result<Connection> {
    let file = path(dir);
    if create {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
    } else if !file.is_file() {
        anyhow::bail!("no edgeflag store at {} (start `edgeflag serve --data-dir {}` once, or check --data-dir)", file.display(), dir.display());
    }
    let conn = Connection::open(&file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&conn)?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> anyhow::Result<()> {
    conn.execute_batch(SCHEMA_0)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    anyhow::ensure!(
        version <= LATEST,
        "{} was written by a newer edgeflag (schema {version}, this one knows {LATEST})",
        conn.path().unwrap_or("the database")
    );
    if version < 1 {
        // IMMEDIATE: two processes opening an old file at once migrate it once.
        let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
        let again: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if again < 1 {
            tx.execute_batch(
                "ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
                 ALTER TABLE tokens ADD COLUMN revoked_at TEXT;
                 ALTER TABLE versions ADD COLUMN changed_segments TEXT;
                 CREATE INDEX IF NOT EXISTS versions_etag ON versions(etag);",
            )?;
            backfill_changed_segments(&tx)?;
            tx.pragma_update(None, "user_version", 1)?;
        }
        tx.commit()?;
    }
    if version < 2 {
        let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
        let again: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if again < 2 {
            tx.execute_batch(SCHEMA_2)?;
            tx.pragma_update(None, "user_version", 2)?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// `changed_segments` of versions written before the column existed, from consecutive bodies.
fn backfill_changed_segments(conn: &Connection) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    let mut stmt = conn.prepare("SELECT version, body FROM versions ORDER BY version")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut previous: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut updates = Vec::new();
    for row in rows {
        let (version, body) = row?;
        // Stored bodies were validated when written; one that no longer parses counts as
        // having no segments rather than blocking the upgrade.
        let file: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let current: BTreeMap<String, serde_json::Value> = file["segments"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|s| Some((s.get("key")?.as_str()?.to_string(), s.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let mut changed: Vec<&String> = current.iter().filter(|(k, v)| previous.get(*k) != Some(*v)).map(|(k, _)| k).collect();
        changed.extend(previous.keys().filter(|k| !current.contains_key(*k)));
        changed.sort();
        updates.push((version, serde_json::to_string(&changed)?));
        previous = current;
    }
    drop(stmt);
    for (version, changed) in updates {
        conn.execute("UPDATE versions SET changed_segments = ?1 WHERE version = ?2", params![changed, version])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database as the previous release left it: tokens without roles, versions without
    /// `changed_segments`.
    #[test]
    fn an_old_database_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        {
            let conn = Connection::open(path(dir.path())).unwrap_or_else(|e| panic!("{e}"));
            conn.execute_batch(SCHEMA_0).unwrap_or_else(|e| panic!("{e}"));
            conn.execute("INSERT INTO tokens VALUES ('admin', 'abc', '2026-01-01T00:00:00Z')", []).unwrap_or_else(|e| panic!("{e}"));
            let body = |segs: &str| format!(r#"{{"schema_version": 1, "segments": [{segs}], "flags": []}}"#);
            for (v, b) in [
                (1, body(r#"{"key": "a"}, {"key": "b"}"#)),
                (2, body(r#"{"key": "a", "included": ["x"]}, {"key": "b"}"#)),
                (3, body(r#"{"key": "a", "included": ["x"]}"#)),
            ] {
                conn.execute(
                    "INSERT INTO versions VALUES (?1, 't', 'admin', '', '[]', ?2, ?3)",
                    params![v, format!("\"e{v}\""), b],
                )
                .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        let conn = open(dir.path(), false).unwrap_or_else(|e| panic!("{e}"));
        let role: String = conn.query_row("SELECT role FROM tokens", [], |r| r.get(0)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(role, "admin");
        let changed: Vec<String> = conn
            .prepare("SELECT changed_segments FROM versions ORDER BY version")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changed, [r#"["a","b"]"#, r#"["a"]"#, r#"["b"]"#]);
        drop(conn);
        // Opening again is a no-op.
        let conn = open(dir.path(), false).unwrap_or_else(|e| panic!("{e}"));
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v, LATEST);
    }
}
