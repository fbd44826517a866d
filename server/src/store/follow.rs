//! Replicas following the shared PostgreSQL store: every replica learns of a version written
//! by another through `LISTEN edgeflag_versions` (the writer's transaction sends the `NOTIFY`,
//! delivered at commit), loads it and serves it; a periodic check of the newest version number
//! is the safety net for a listener that lost its connection (it reconnects, and catches up as
//! soon as it has). Token changes (`edgeflag token` against the database) arrive the same way
//! on `edgeflag_tokens`.
//!
//! What a replica serves is its store's current snapshot, a `tokio::sync::watch`: pushes to
//! edges and browsers follow that same channel ([`super::FlagStore::subscribe`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_postgres::{AsyncMessage, NoTls};

use super::postgres::{TOKENS_CHANNEL, VERSIONS_CHANNEL};
use super::FlagStore;
use crate::auth::Tokens;

/// How a replica follows the database.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// The PostgreSQL URL (`--store`).
    pub url: String,
    /// The safety-net check's period (`--store-poll-interval`).
    pub poll: Duration,
}

/// What a notification asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    Versions,
    Tokens,
}

/// A `LISTEN` connection: notifications arrive on `rx`; `rx` closes when the connection ends.
struct Listener {
    _client: tokio_postgres::Client,
    rx: mpsc::Receiver<Note>,
}

impl Listener {
    async fn connect(url: &str) -> anyhow::Result<Listener> {
        let mut config: tokio_postgres::Config = url.parse()?;
        config.connect_timeout(Duration::from_secs(5)).application_name("edgeflag-listen");
        config.keepalives_idle(Duration::from_secs(10));
        let (client, mut connection) = config.connect(NoTls).await?;
        // A burst of writes needs one catch-up, not one per version: a full channel drops the
        // extra notices (the catch-up loads the newest version whatever the count).
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                let note = match message {
                    Ok(AsyncMessage::Notification(n)) if n.channel() == VERSIONS_CHANNEL => Note::Versions,
                    Ok(AsyncMessage::Notification(n)) if n.channel() == TOKENS_CHANNEL => Note::Tokens,
                    Ok(_) => continue,
                    Err(e) => {
                        let why = e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string());
                        eprintln!("edgeflag: store listener: {why}");
                        break;
                    }
                };
                if tx.is_closed() {
                    break;
                }
                let _ = tx.try_send(note);
            }
        });
        client.batch_execute(&format!("LISTEN {VERSIONS_CHANNEL}; LISTEN {TOKENS_CHANNEL}")).await?;
        Ok(Listener { _client: client, rx })
    }
}

async fn recv(listener: &mut Option<Listener>) -> Option<Note> {
    match listener {
        Some(l) => l.rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Loads the newest version if another replica wrote one (on a blocking thread).
async fn catch_up(store: &Arc<FlagStore>) {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || store.refresh()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => eprintln!("edgeflag: store: cannot load the newest version: {e}"),
        Err(e) => eprintln!("edgeflag: store: catch-up task failed: {e}"),
    }
}

async fn reload_tokens(tokens: &Arc<Tokens>) {
    let tokens = tokens.clone();
    let _ = tokio::task::spawn_blocking(move || tokens.reload_if_changed_now()).await;
}

/// Follows the database until `stop` turns true.
pub async fn run(store: Arc<FlagStore>, tokens: Arc<Tokens>, config: FollowConfig, mut stop: watch::Receiver<bool>) {
    let mut poll = tokio::time::interval(config.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut listener: Option<Listener> = None;
    let mut reconnect = tokio::time::interval(Duration::from_secs(1));
    reconnect.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut warned = false;
    loop {
        tokio::select! {
            note = recv(&mut listener) => match note {
                Some(Note::Versions) => catch_up(&store).await,
                Some(Note::Tokens) => reload_tokens(&tokens).await,
                None => {
                    eprintln!("edgeflag: store listener disconnected; reconnecting (the {:?} check keeps this replica current meanwhile)", config.poll);
                    listener = None;
                }
            },
            _ = reconnect.tick(), if listener.is_none() => {
                match Listener::connect(&config.url).await {
                    Ok(l) => {
                        listener = Some(l);
                        if warned {
                            eprintln!("edgeflag: store listener connected again");
                        }
                        warned = false;
                        // Whatever was written while nobody listened.
                        catch_up(&store).await;
                        reload_tokens(&tokens).await;
                    }
                    Err(e) => {
                        if !warned {
                            eprintln!("edgeflag: store listener cannot connect: {e:#}; retrying every second");
                        }
                        warned = true;
                    }
                }
            }
            _ = poll.tick() => {
                catch_up(&store).await;
                reload_tokens(&tokens).await;
            }
            _ = stop.changed() => return,
        }
    }
}
