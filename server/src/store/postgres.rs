//! The PostgreSQL backend (`--store postgres://user:password@host:port/database`): the same
//! tables as SQLite, shared by any number of server replicas.
//!
//! - A version is inserted only if the newest stored version is the one it was planned on
//!   (`INSERT … SELECT … WHERE max(version) = n-1`, version as primary key, `ON CONFLICT DO
//!   NOTHING`): of two replicas writing version n at once, exactly one commits; the other
//!   catches up and plans again (see `store/mod.rs`).
//! - The same statement sends `NOTIFY edgeflag_versions, '<n>'` when the row went in, delivered at
//!   commit to every replica's listener ([`super::follow`]); token changes send
//!   `NOTIFY edgeflag_tokens`.
//! - The canary controller's writes carry a fence: the statement inserts only if, in `pg_locks`,
//!   the writer's lock session still holds the controller's advisory lock ([`crate::leader`]),
//!   so a deposed leader cannot write a decision.
//! - The schema is created (and later migrated) under a transaction-level advisory lock, so
//!   replicas starting together on an empty database do it once.
//!
//! Plain TCP (no TLS): run the database on a private network or a local socket, as the tests do.
//! Use a dedicated database (or `?options=-csearch_path%3Dedgeflag` for a schema of your own):
//! the tables are `versions`, `tokens`, `webhook_deliveries` and `edgeflag_schema`.

use std::sync::Mutex;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement};

use super::{lock, Backend, Changed, Delivery, Fence, HistoryEntry, Inserted, ItemKind, NewVersion, StoreError, TokenRow, VersionRow};

/// Channel of `NOTIFY` for a new version (payload: the version number).
pub const VERSIONS_CHANNEL: &str = "edgeflag_versions";
/// Channel of `NOTIFY` for a token change.
pub const TOKENS_CHANNEL: &str = "edgeflag_tokens";

/// The advisory-lock namespace of edgeflag (`'edge'` in ASCII), the first key of every
/// two-key advisory lock it takes.
pub const LOCK_CLASS: i32 = 0x6564_6765;
/// Second key: schema migrations (transaction-level).
pub const SCHEMA_LOCK: i32 = 0;
/// Second key: the canary controller's leadership (session-level, see `leader.rs`).
pub const CONTROLLER_LOCK: i32 = 1;
/// Second key: the write lock (transaction-level). Every version insert takes it shared (and
/// counts as lost when it cannot); a writer that keeps losing the race takes it exclusive.
pub const WRITE_LOCK: i32 = 2;

const SCHEMA_VERSION: i32 = 1;

const SCHEMA_1: &str = "
CREATE TABLE IF NOT EXISTS versions (
    version          BIGINT PRIMARY KEY,
    created_at       TEXT NOT NULL,
    author           TEXT NOT NULL,
    message          TEXT NOT NULL,
    changed_flags    JSONB NOT NULL,
    changed_segments JSONB NOT NULL,
    etag             TEXT NOT NULL,
    body             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_etag ON versions (etag);
CREATE TABLE IF NOT EXISTS tokens (
    name       TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    role       TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq              BIGSERIAL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    event            TEXT NOT NULL,
    flag             TEXT NOT NULL,
    env              TEXT,
    file_version     BIGINT NOT NULL,
    decision_version BIGINT,
    url              TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_ms  BIGINT,
    attempt_log      TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
";

pub struct Postgres {
    config: postgres::Config,
    client: Mutex<Option<Conn>>,
    /// The connection of a writer holding the write lock (its own, so the store's connection
    /// stays free for the catch-up it makes meanwhile).
    exclusive: Mutex<Option<Conn>>,
}

/// A connection and its prepared statements: each statement is parsed once per connection, so
/// a query is one round trip.
pub struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    fn new(client: Client) -> Conn {
        Conn { client, statements: HashMap::new() }
    }

    fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

/// The URL parsed, with edgeflag's connection defaults (a connect timeout, the application
/// name shown in `pg_stat_activity`).
pub fn config(url: &str) -> anyhow::Result<postgres::Config> {
    let mut config: postgres::Config =
        url.parse().map_err(|e| anyhow::anyhow!("--store {}: {e}", redact(url)))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    if config.get_application_name().is_none() {
        config.application_name("edgeflag");
    }
    Ok(config)
}

impl Postgres {
    /// Connects and creates or migrates the tables.
    pub fn open(url: &str) -> anyhow::Result<Postgres> {
        let config = config(url)?;
        let mut client = config.connect(NoTls).map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", redact(url)))?;
        migrate(&mut client).map_err(|e| anyhow::anyhow!("cannot prepare the tables in {}: {e}", redact(url)))?;
        Ok(Postgres { config, client: Mutex::new(Some(Conn::new(client))), exclusive: Mutex::new(None) })
    }

    /// Runs `f` on the connection, reconnecting first when the previous one was lost (the
    /// database restarted, the network dropped it); a call that fails on a lost connection
    /// fails, and the next one reconnects.
    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, postgres::Error>) -> Result<T, StoreError> {
        let mut guard = lock(&self.client);
        if guard.as_ref().is_none_or(|c| c.client.is_closed()) {
            *guard = None;
            *guard = Some(Conn::new(self.config.connect(NoTls)?));
        }
        let Some(conn) = guard.as_mut() else { return Err(StoreError::Refused("no connection".into())) };
        let result = f(conn);
        if result.is_err() && conn.client.is_closed() {
            *guard = None;
        }
        Ok(result?)
    }
}

/// `postgres::Client` closes its connection on drop by blocking on it, which is not allowed on
/// an async worker (the server drops its state at the end of `run`): there, the client is
/// dropped on a thread of its own.
impl Drop for Postgres {
    fn drop(&mut self) {
        let take = |m: &mut Mutex<Option<Conn>>| match m.get_mut() {
            Ok(c) => c.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let clients: Vec<Client> = [take(&mut self.client), take(&mut self.exclusive)].into_iter().flatten().map(|c| c.client).collect();
        if clients.is_empty() {
            return;
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::Builder::new().name("edgeflag-pg-close".into()).spawn(move || drop(clients));
        } else {
            drop(clients);
        }
    }
}

fn migrate(client: &mut Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&LOCK_CLASS, &SCHEMA_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS edgeflag_schema (version INTEGER NOT NULL)")?;
    let current: Option<i32> = tx.query_one("SELECT max(version) FROM edgeflag_schema", &[])?.get(0);
    if current.unwrap_or(0) < SCHEMA_VERSION {
        tx.batch_execute(SCHEMA_1)?;
        tx.execute("DELETE FROM edgeflag_schema", &[])?;
        tx.execute("INSERT INTO edgeflag_schema (version) VALUES ($1)", &[&SCHEMA_VERSION])?;
    }
    tx.commit()
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db` (for logs and errors).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
        None => url.to_string(),
    }
}

fn keys(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn to_json(keys: &[String]) -> String {
    serde_json::to_string(keys).unwrap_or_else(|_| "[]".into())
}

const DELIVERY_COLUMNS: &str = "id, created_at, event, flag, env, file_version, decision_version, url, payload, status, \
                                attempts, next_attempt_ms, attempt_log, updated_at";

fn delivery_from_row(row: &postgres::Row) -> Delivery {
    Delivery {
        id: row.get(0),
        created_at: row.get(1),
        event: row.get(2),
        flag: row.get(3),
        env: row.get(4),
        file_version: row.get::<_, i64>(5) as u64,
        decision_version: row.get::<_, Option<i64>>(6).map(|v| v as u64),
        url: row.get(7),
        payload: row.get(8),
        status: row.get(9),
        attempts: row.get::<_, i32>(10) as u32,
        next_attempt_ms: row.get(11),
        attempt_log: serde_json::from_str(&row.get::<_, String>(12)).unwrap_or_default(),
        updated_at: row.get(13),
    }
}

/// The version insert (see [`Backend::insert`]): one statement, one round trip; the fence
/// check, the shared write lock (refused while a starving writer holds it exclusive), the
/// conditional insert and the `NOTIFY`, sent only when the row went in.
///
/// `holder`: the writer holds the lock exclusive (it must not ask for it shared: PostgreSQL
/// queues that request behind the other writers waiting for the lock, and refuses it).
fn insert_on(c: &mut Conn, v: &NewVersion<'_>, pid: Option<i32>, holder: bool) -> Result<Inserted, postgres::Error> {
    const INSERT: &str = "
        WITH fence AS (
            SELECT $9::int IS NULL OR EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                AND classid::bigint = $10 AND objid::bigint = $11 AND objsubid = 2 AND pid = $9::int) AS ok
        ), ins AS (
            INSERT INTO versions (version, created_at, author, message, changed_flags, changed_segments, etag, body)
            SELECT $1::bigint, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7, $8
            WHERE (SELECT ok FROM fence) AND ($15::bool OR pg_try_advisory_xact_lock_shared($13::int, $14::int))
              AND COALESCE((SELECT max(version) FROM versions), 0) = $1::bigint - 1
            ON CONFLICT (version) DO NOTHING
            RETURNING version
        )
        SELECT (SELECT ok FROM fence), (SELECT count(*) FROM ins),
               (SELECT pg_notify($12, version::text) FROM ins)";
    let (flags, segments) = (to_json(&v.changed.flags), to_json(&v.changed.segments));
    let (class, key) = (i64::from(LOCK_CLASS), i64::from(CONTROLLER_LOCK));
    let st = c.prepared(INSERT)?;
    let row = c.client.query_one(
        &st,
        &[
            &(v.version as i64), &v.created_at, &v.author, &v.message, &flags, &segments, &v.etag, &v.body,
            &pid, &class, &key, &VERSIONS_CHANNEL, &LOCK_CLASS, &WRITE_LOCK, &holder,
        ],
    )?;
    let (ok, inserted): (bool, i64) = (row.get(0), row.get(1));
    Ok(match (ok, inserted) {
        (false, _) => Inserted::Fenced,
        (true, 1) => Inserted::Yes,
        (true, _) => Inserted::Taken,
    })
}

/// A transaction holding the write lock exclusive on the writer's own connection.
struct HeldWriteLock<'a> {
    guard: std::sync::MutexGuard<'a, Option<Conn>>,
    done: bool,
}

impl super::WriteLock for HeldWriteLock<'_> {
    fn insert(mut self: Box<Self>, v: &NewVersion<'_>, fence: Option<Fence>) -> Result<Inserted, StoreError> {
        let pid = fence.map(|Fence::PgAdvisoryLock { pid }| pid);
        let Some(conn) = self.guard.as_mut() else { return Err(StoreError::Refused("no connection".into())) };
        let result = insert_on(conn, v, pid, true).and_then(|inserted| {
            conn.client.batch_execute(if inserted == Inserted::Yes { "COMMIT" } else { "ROLLBACK" })?;
            Ok(inserted)
        });
        self.done = true;
        if result.is_err() {
            let _ = conn.client.batch_execute("ROLLBACK");
        }
        Ok(result?)
    }
}

impl Drop for HeldWriteLock<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Some(conn) = self.guard.as_mut() {
                // Releases the lock (transaction-level): the plan refused, nothing to write.
                if conn.client.batch_execute("ROLLBACK").is_err() {
                    *self.guard = None;
                }
            }
        }
    }
}

impl Backend for Postgres {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn latest_version(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            let st = c.prepared("SELECT max(version) FROM versions")?;
            let v: Option<i64> = c.client.query_one(&st, &[])?.get(0);
            Ok(v.unwrap_or(0) as u64)
        })
    }

    fn version_row(&self, n: u64) -> Result<Option<VersionRow>, StoreError> {
        self.with(|c| {
            let st = c.prepared("SELECT version, etag, body, created_at FROM versions WHERE version = $1")?;
            let row = c.client.query_opt(&st, &[&(n as i64)])?;
            Ok(row.map(|r| VersionRow {
                version: r.get::<_, i64>(0) as u64,
                etag: r.get(1),
                body: r.get(2),
                created_at: r.get(3),
            }))
        })
    }

    fn insert(&self, v: &NewVersion<'_>, fence: Option<Fence>) -> Result<Inserted, StoreError> {
        let pid = fence.map(|Fence::PgAdvisoryLock { pid }| pid);
        self.with(|c| {
            insert_on(c, v, pid, false)
        })
    }

    fn lock_writes(&self) -> Result<Option<Box<dyn super::WriteLock + '_>>, StoreError> {
        let mut guard = lock(&self.exclusive);
        if guard.as_ref().is_none_or(|c| c.client.is_closed()) {
            *guard = None;
            *guard = Some(Conn::new(self.config.connect(NoTls)?));
        }
        let Some(conn) = guard.as_mut() else { return Err(StoreError::Refused("no connection".into())) };
        let locked = conn
            .client
            .batch_execute("BEGIN")
            .and_then(|()| conn.client.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&LOCK_CLASS, &WRITE_LOCK]).map(|_| ()));
        if let Err(e) = locked {
            let _ = conn.client.batch_execute("ROLLBACK");
            if conn.client.is_closed() {
                *guard = None;
            }
            return Err(e.into());
        }
        Ok(Some(Box::new(HeldWriteLock { guard, done: false })))
    }

    fn walk_changed(&self, after: u64, upto: u64, visit: &mut dyn FnMut(u64, Changed) -> bool) -> Result<(), StoreError> {
        self.with(|c| {
            let (after, upto) = (after as i64, upto as i64);
            let params: [&(dyn ToSql + Sync); 2] = [&after, &upto];
            let st = c.prepared(
                "SELECT version, changed_flags::text, changed_segments::text FROM versions
                 WHERE version > $1 AND version <= $2 ORDER BY version DESC",
            )?;
            let mut rows = c.client.query_raw(&st, params)?;
            while let Some(row) = rows.next()? {
                let change = Changed { flags: keys(row.get(1)), segments: keys(row.get(2)) };
                if !visit(row.get::<_, i64>(0) as u64, change) {
                    break;
                }
            }
            Ok(())
        })
    }

    fn history(&self, limit: u64) -> Result<Vec<HistoryEntry>, StoreError> {
        self.with(|c| {
            let rows = c.client.query(
                "SELECT version, created_at, author, changed_flags::text, message, etag, changed_segments::text
                 FROM versions ORDER BY version DESC LIMIT $1",
                &[&(limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| HistoryEntry {
                    version: r.get::<_, i64>(0) as u64,
                    created_at: r.get(1),
                    author: r.get(2),
                    changed_flags: keys(r.get(3)),
                    message: r.get(4),
                    etag: r.get(5),
                    changed_segments: keys(r.get(6)),
                })
                .collect())
        })
    }

    fn version_of_etag(&self, etag: &str) -> Result<Option<u64>, StoreError> {
        self.with(|c| {
            let st = c.prepared("SELECT version FROM versions WHERE etag = $1")?;
            Ok(c.client.query_opt(&st, &[&etag])?.map(|r| r.get::<_, i64>(0) as u64))
        })
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
        let column = match kind {
            ItemKind::Flag => "changed_flags",
            ItemKind::Segment => "changed_segments",
        };
        let sql = format!(
            "SELECT version, author, body FROM versions
             WHERE version > $1 AND version <= $2 AND jsonb_exists({column}, $3)
             ORDER BY version DESC LIMIT $4"
        );
        self.with(|c| {
            let (after, upto, limit) = (after as i64, upto as i64, limit as i64);
            let params: [&(dyn ToSql + Sync); 4] = [&after, &upto, &key, &limit];
            let st = c.prepared(&sql)?;
            let mut rows = c.client.query_raw(&st, params)?;
            while let Some(row) = rows.next()? {
                if !visit(row.get::<_, i64>(0) as u64, row.get(1), row.get(2)) {
                    break;
                }
            }
            Ok(())
        })
    }

    fn token_insert(&self, t: &TokenRow) -> Result<bool, StoreError> {
        self.with(|c| {
            let mut tx = c.client.transaction()?;
            let n = tx.execute(
                "INSERT INTO tokens (name, sha256, created_at, role, revoked_at) VALUES ($1, $2, $3, $4, NULL)
                 ON CONFLICT (name) DO UPDATE
                   SET sha256 = EXCLUDED.sha256, created_at = EXCLUDED.created_at, role = EXCLUDED.role, revoked_at = NULL
                   WHERE tokens.revoked_at IS NOT NULL",
                &[&t.name, &t.sha256, &t.created_at, &t.role],
            )?;
            tx.execute("SELECT pg_notify($1, '')", &[&TOKENS_CHANNEL])?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn token_list(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.with(|c| {
            let rows = c.client.query("SELECT name, sha256, role, created_at, revoked_at FROM tokens ORDER BY name", &[])?;
            Ok(rows
                .iter()
                .map(|r| TokenRow { name: r.get(0), sha256: r.get(1), role: r.get(2), created_at: r.get(3), revoked_at: r.get(4) })
                .collect())
        })
    }

    fn token_revoke(&self, name: &str, at: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let mut tx = c.client.transaction()?;
            let n = tx.execute("UPDATE tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL", &[&at, &name])?;
            tx.execute("SELECT pg_notify($1, '')", &[&TOKENS_CHANNEL])?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn tokens_marker(&self) -> Result<String, StoreError> {
        self.with(|c| {
            let st = c.prepared(
                "SELECT md5(COALESCE(string_agg(name || '/' || role || '/' || sha256 || '/' || COALESCE(revoked_at, '-'), ',' ORDER BY name), ''))
                 FROM tokens",
            )?;
            c.client.query_one(&st, &[]).map(|r| r.get(0))
        })
    }

    fn tokens_checked_inline(&self) -> bool {
        false
    }

    fn delivery_insert(&self, d: &Delivery) -> Result<(), StoreError> {
        self.with(|c| {
            c.client.execute(
                &format!(
                    "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ),
                &[
                    &d.id,
                    &d.created_at,
                    &d.event,
                    &d.flag,
                    &d.env,
                    &(d.file_version as i64),
                    &d.decision_version.map(|v| v as i64),
                    &d.url,
                    &d.payload,
                    &d.status,
                    &(d.attempts as i32),
                    &d.next_attempt_ms,
                    &serde_json::to_string(&d.attempt_log).unwrap_or_else(|_| "[]".into()),
                    &d.updated_at,
                ],
            )?;
            Ok(())
        })
    }

    fn delivery_update(&self, d: &Delivery) -> Result<(), StoreError> {
        self.with(|c| {
            c.client.execute(
                "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_ms = $4, attempt_log = $5, updated_at = $6
                 WHERE id = $1",
                &[
                    &d.id,
                    &d.status,
                    &(d.attempts as i32),
                    &d.next_attempt_ms,
                    &serde_json::to_string(&d.attempt_log).unwrap_or_else(|_| "[]".into()),
                    &d.updated_at,
                ],
            )?;
            Ok(())
        })
    }

    fn deliveries_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.with(|c| {
            let st = c.prepared(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                 WHERE status = 'pending' AND next_attempt_ms <= $1 ORDER BY seq LIMIT $2"
            ))?;
            let rows = c.client.query(&st, &[&now_ms, &(limit as i64)])?;
            Ok(rows.iter().map(delivery_from_row).collect())
        })
    }

    fn deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.with(|c| {
            let rows = c.client.query(
                &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY seq DESC LIMIT $1"),
                &[&(limit as i64)],
            )?;
            Ok(rows.iter().map(delivery_from_row).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgresql://u:p@ss@h/db"), "postgresql://u:***@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }
}
