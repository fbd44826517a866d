//! Exactly one canary controller across replicas: the leader is the replica whose dedicated
//! PostgreSQL session holds the session-level advisory lock `(LOCK_CLASS, CONTROLLER_LOCK)`.
//!
//! - Every replica campaigns: `pg_try_advisory_lock` every `retry` (1 s) until it gets it.
//! - The leader checks every `retry` that its session is alive and still holds the lock (a
//!   query on `pg_locks` with a `retry` timeout), and steps down at the first failure.
//! - The lock is the database's: it is released when the leader's session ends. A leader whose
//!   process dies (crash, SIGKILL, OOM) loses its connection at once (the kernel closes it), so
//!   another replica takes over within `retry`. A leader whose host or network vanishes without
//!   closing the connection is detected by the server's TCP keepalives, which the session sets
//!   to 5 s idle + 3 probes 1 s apart: takeover within about 8 s + `retry`; the old leader
//!   itself steps down after its first failed check (within `2 × retry`), before that.
//! - Fencing: every decision the controller writes carries [`Fence::PgAdvisoryLock`] with its
//!   lock session's pid, and the write's transaction checks in `pg_locks` that this session
//!   still holds the lock. A deposed leader that has not noticed yet cannot write. And should
//!   two decisions for the same tick still race, the store's conditional write makes the
//!   second plan again on the first's version, where the canary has changed since it was
//!   judged: the controller drops it (see CONTROLLER.md).
//!
//! SQLite stores have one process: [`Leadership::single`] always leads.
//! `edgeflag_controller_leader` (0/1) on `/metrics` shows which replica leads.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_postgres::NoTls;

use crate::store::postgres::{CONTROLLER_LOCK, LOCK_CLASS};
use crate::store::Fence;

/// Whether this replica leads, and the fence its writes carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaderState {
    pub leader: bool,
    pub fence: Option<Fence>,
}

/// This replica's view of the controller's leadership.
pub struct Leadership {
    state: watch::Sender<LeaderState>,
    /// Whether this replica runs a controller at all (`--no-controller` does not).
    campaigning: bool,
}

impl Leadership {
    /// One process on its own store: always the leader, nothing to fence.
    pub fn single() -> Arc<Leadership> {
        let (state, _) = watch::channel(LeaderState { leader: true, fence: None });
        Arc::new(Leadership { state, campaigning: true })
    }

    /// A replica that never leads (`--no-controller`).
    pub fn never() -> Arc<Leadership> {
        let (state, _) = watch::channel(LeaderState::default());
        Arc::new(Leadership { state, campaigning: false })
    }

    /// A replica that will campaign with [`campaign`]: not the leader until it wins.
    pub fn replica() -> Arc<Leadership> {
        let (state, _) = watch::channel(LeaderState::default());
        Arc::new(Leadership { state, campaigning: true })
    }

    pub fn state(&self) -> LeaderState {
        *self.state.borrow()
    }

    pub fn is_leader(&self) -> bool {
        self.state().leader
    }

    pub fn campaigning(&self) -> bool {
        self.campaigning
    }

    pub fn subscribe(&self) -> watch::Receiver<LeaderState> {
        self.state.subscribe()
    }

    fn set(&self, new: LeaderState) {
        self.state.send_if_modified(|cur| {
            let changed = *cur != new;
            *cur = new;
            changed
        });
    }
}

/// How a replica campaigns.
#[derive(Debug, Clone)]
pub struct ElectionConfig {
    /// The PostgreSQL URL (`--store`).
    pub url: String,
    /// How often a follower tries the lock and the leader checks it (`--leader-retry`).
    pub retry: Duration,
}

const HELD: &str = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                      AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2 AND pid = pg_backend_pid())";

/// Campaigns for the leadership until `stop` turns true, then releases it.
pub async fn campaign(leadership: Arc<Leadership>, config: ElectionConfig, mut stop: watch::Receiver<bool>) {
    let mut warned = false;
    loop {
        match session(&leadership, &config, &mut stop).await {
            Ok(Stop) => {
                leadership.set(LeaderState::default());
                return;
            }
            Err(e) => {
                if leadership.is_leader() {
                    println!("edgeflag: controller: this replica is no longer the leader ({e:#})");
                } else if !warned {
                    eprintln!("edgeflag: controller: cannot campaign for the leadership: {e:#}; retrying");
                }
                warned = true;
                leadership.set(LeaderState::default());
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(config.retry) => {}
            _ = stop.changed() => return,
        }
    }
}

struct Stop;

/// One connection's life: try the lock, hold it, check it. Returns on stop (lock released) or
/// with the error that ended the session.
async fn session(leadership: &Leadership, config: &ElectionConfig, stop: &mut watch::Receiver<bool>) -> anyhow::Result<Stop> {
    let mut pg: tokio_postgres::Config = config.url.parse()?;
    pg.connect_timeout(Duration::from_secs(5)).application_name("edgeflag-leader");
    pg.keepalives_idle(Duration::from_secs(5));
    let (client, connection) = pg.connect(NoTls).await?;
    let connection = tokio::spawn(connection);
    // The server's side of the keepalive: a vanished leader's session (and lock) ends ~8 s
    // after its last packet.
    client
        .batch_execute("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 3")
        .await?;
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
    let result = async {
        loop {
            if leadership.is_leader() {
                let held = tokio::time::timeout(config.retry, client.query_one(HELD, &[&i64::from(LOCK_CLASS), &i64::from(CONTROLLER_LOCK)]))
                    .await
                    .map_err(|_| anyhow::anyhow!("the lock check took longer than {:?}", config.retry))??
                    .get::<_, bool>(0);
                anyhow::ensure!(held, "the advisory lock is no longer held");
            } else {
                let won: bool =
                    client.query_one("SELECT pg_try_advisory_lock($1, $2)", &[&LOCK_CLASS, &CONTROLLER_LOCK]).await?.get(0);
                if won {
                    leadership.set(LeaderState { leader: true, fence: Some(Fence::PgAdvisoryLock { pid }) });
                    println!("edgeflag: controller: this replica is the leader (lock session pid {pid})");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(config.retry) => {}
                _ = stop.changed() => {
                    if leadership.is_leader() {
                        let _ = client.query_one("SELECT pg_advisory_unlock($1, $2)", &[&LOCK_CLASS, &CONTROLLER_LOCK]).await;
                        println!("edgeflag: controller: leadership released");
                    }
                    return Ok(Stop);
                }
            }
        }
    }
    .await;
    drop(client);
    connection.abort();
    result
}
