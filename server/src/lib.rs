//! # edgeflag-server
//!
//! `edgeflag serve`: the versioned flag store (SQLite), metric ingestion and aggregation,
//! Prometheus exposition, OpenFeature remote evaluation (OFREP) and the dashboard's files.
//!
//! Modules, one job each: [`config`] (options), [`db`] (the SQLite file and its schema),
//! [`store`] (durable versions, the one write path), [`edit`] (per-flag writes against a
//! base), [`auth`] (tokens and roles), [`metrics`] (events, windows, exposition), [`http`]
//! (routes), [`serve`] (connections: limits, timeouts, shutdown deadline), [`demo`] (simulated
//! traffic), [`controller`] (canary judgement and rollout, see CONTROLLER.md),
//! [`metrics_source`] (where the controller reads metrics: the built-in store or a
//! Prometheus-compatible API), [`canary_metrics`] (canary and controller series for
//! `/metrics`), [`stream`] (new versions pushed as server-sent events), [`clock`].

pub mod auth;
pub mod canary_metrics;
pub mod clock;
pub mod config;
pub mod controller;
pub mod db;
pub mod demo;
pub mod edit;
pub mod export;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod metrics_source;
pub mod serve;
pub mod store;
pub mod stream;
pub mod webhooks;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

pub use config::ServeArgs;
pub use http::AppState;
pub use metrics::MetricsStore;
pub use store::{FlagStore, Location, WriteMeta};

/// The empty flag file used when no initial file exists.
const EMPTY_FLAG_FILE: &str = r#"{"schema_version": 1, "flags": []}"#;

/// Opens the store (importing the initial flag file if it is empty) and resolves the tokens.
/// Blocks (with PostgreSQL it connects): call it outside the async workers.
pub fn open_state(args: &ServeArgs) -> anyhow::Result<(AppState, auth::TokenSource)> {
    let location = args.location()?;
    let flags = FlagStore::open_at(&location, || initial_flags(args))?;
    let flags = Arc::new(flags);
    let (tokens, source) = auth::Tokens::resolve_in(
        flags.backend().clone(),
        args.token.as_deref(),
        &args.token_name,
        args.ingest_token.as_deref(),
    )?;
    let leadership = match (&location, args.no_controller) {
        (_, true) => leader::Leadership::never(),
        (store::Location::Postgres(_), false) => leader::Leadership::replica(),
        (store::Location::Sqlite(_), false) => leader::Leadership::single(),
    };
    // Events are checked against the current flag file: junk keys never take a series.
    let metrics = Arc::new(MetricsStore::following(flags.clone(), args.metrics.limits()));
    let stream = Arc::new(stream::StreamHub::new(&flags.current(), args.stream.clone()));
    let state = AppState {
        stream,
        flags,
        metrics,
        tokens: Arc::new(tokens),
        judgements: Arc::new(controller::Judgements::default()),
        ingest_origins: Arc::new(args.allowed_origins.clone()),
        leadership,
        edge_cache: http::edge::EdgeCache {
            max_age: args.replicas.edge_max_age,
            stale_while_revalidate: args.replicas.edge_stale_while_revalidate,
        },
    };
    Ok((state, source))
}

fn initial_flags(args: &ServeArgs) -> anyhow::Result<(String, String)> {
    let path = match &args.flags {
        Some(p) => p.clone(),
        None => {
            let p = std::path::PathBuf::from(config::DEFAULT_FLAGS_FILE);
            if !p.is_file() {
                eprintln!("note: {} not found; starting with an empty flag file", p.display());
                return Ok((EMPTY_FLAG_FILE.to_string(), "empty initial flag file".to_string()));
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the initial flag file {}", path.display()))?;
    let mut message = format!("imported from {}", path.display());
    if args.demo {
        // The demo plays on this process's clock (see demo.rs).
        let (text, n) = demo::import_text(text);
        if n > 0 {
            message.push_str(&format!("; demo: {n} running canary stage clock(s) set to the import time"));
        }
        return Ok((text, message));
    }
    Ok((text, message))
}

/// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests and stops.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let opening = args.clone();
    let (state, token_source) = tokio::task::spawn_blocking(move || open_state(&opening)).await??;
    let limits = http::Limits {
        max_body_bytes: args.max_body_bytes,
        max_events_body_bytes: args.max_events_body_bytes,
    };
    let per_route = http::route_limits::RouteLimits::new(args.http.request_timeout, args.http.events_request_timeout);
    let app = http::router_with_limits(state.clone(), limits, per_route, &args.static_dir);
    let fd_limit = serve::raise_fd_limit();
    let conn_limits = serve::ConnLimits {
        header_read_timeout: args.http.header_read_timeout,
        write_timeout: args.http.write_timeout,
        max_connections: match args.http.max_connections {
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => fd_limit.map_or(serve::DEFAULT_MAX_CONNECTIONS, serve::default_max_connections),
        },
        shutdown_timeout: args.http.shutdown_timeout,
    };
    let listener = serve::bind(args.addr)
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let addr = listener.local_addr()?;

    let snap = state.flags.current();
    let location = args.location()?;
    println!("edgeflag: flag store {location} (version {})", snap.version);
    match token_source {
        auth::TokenSource::Configured => println!("edgeflag: admin token from configuration"),
        auth::TokenSource::Stored => println!(
            "edgeflag: admin token was printed on first start (only its hash is stored); set --token or EDGEFLAG_ADMIN_TOKEN to choose one"
        ),
        auth::TokenSource::Generated(token) => {
            println!("edgeflag: generated admin token (shown once, stored hashed): {token}")
        }
    }
    if args.ingest_token.is_some() {
        println!("edgeflag: ingest token (name \"ingest\") from configuration");
    }
    if args.demo && !state.flags.imported() {
        match tokio::task::block_in_place(|| demo::restart_stored_clocks(&state.flags)) {
            Ok(Some(v)) => println!("edgeflag: demo: running canaries' stage clocks restarted now (version {v})"),
            Ok(None) => println!(
                "edgeflag: demo: no canary is running in this store (the story has played); start with an empty --data-dir to replay it"
            ),
            Err(e) => println!("edgeflag: demo: could not restart the stage clocks: {e}"),
        }
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let source = args.metrics_source.build(state.metrics.clone()).map_err(anyhow::Error::msg)?;
    let stream_task = tokio::spawn(stream::run(state.stream.clone(), state.flags.clone(), stop_rx.clone()));
    let demo = args.demo.then(|| {
        println!("edgeflag: demo traffic generator running (a canary starts failing after a minute)");
        tokio::spawn(demo::run(state.flags.clone(), state.metrics.clone(), stop_rx.clone()))
    });
    // The controller's leadership is given up at the shutdown signal, not after the drain, so
    // another replica leads while this one finishes its requests.
    let (lead_stop_tx, lead_stop_rx) = watch::channel(false);
    let replicas = spawn_replica_tasks(&args, &location, &state, &stop_rx, &lead_stop_rx)?;
    let controller = (!args.no_controller).then(|| {
        println!(
            "edgeflag: canary controller running every {:?} (author \"{}\"), metrics from {}",
            args.controller_interval,
            controller::AUTHOR,
            source.describe()
        );
        let mut ctl = controller::Controller::new(
            state.flags.clone(),
            state.metrics.clone(),
            state.judgements.clone(),
            controller_config(&args),
        )
        .with_source(source)
        .with_leadership(state.leadership.clone());
        if let Some(webhooks) = &replicas.webhooks {
            ctl = ctl.with_webhooks(webhooks.clone());
        }
        tokio::spawn(controller::run(ctl, stop_rx.clone()))
    });
    let store_limits = state.metrics.limits();
    println!(
        "edgeflag: metrics store: at most {} series ({} per flag), memory ceiling {} MiB",
        store_limits.max_series,
        store_limits.max_series_per_flag,
        store_limits.ceiling_bytes().div_ceil(1 << 20)
    );
    println!(
        "edgeflag: http: at most {} connections (open-file limit {}), header-read timeout {:?}, request timeout {:?}, shutdown deadline {:?}",
        conn_limits.max_connections,
        fd_limit.map_or_else(|| "unknown".to_string(), |n| n.to_string()),
        conn_limits.header_read_timeout,
        args.http.request_timeout,
        conn_limits.shutdown_timeout
    );
    // Tests and scripts read this line to find the port.
    println!("edgeflag: listening on http://{addr}/");

    // Streams never end by themselves: the shutdown ends them (after the events already
    // queued), so the shutdown does not wait for its deadline because of them.
    let hub = state.stream.clone();
    let shutdown = async move {
        shutdown_signal().await;
        let _ = lead_stop_tx.send(true);
        hub.close();
    };
    let report = serve::serve(listener, app, conn_limits, shutdown).await;
    if report.dropped > 0 {
        println!("edgeflag: closed {} connection(s) still open at the shutdown deadline", report.dropped);
    }
    let _ = stop_tx.send(true);
    let _ = stream_task.await;
    if let Some(handle) = demo {
        let _ = handle.await;
    }
    if let Some(handle) = controller {
        let _ = handle.await;
    }
    // The leader releases its lock at once, so another replica takes over within its retry.
    for handle in replicas.tasks {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), handle).await;
    }
    println!("edgeflag: stopped");
    Ok(())
}

/// What runs beside the HTTP server for the store: the replica's follower and its leadership
/// campaign (PostgreSQL), and the webhook sender.
struct ReplicaTasks {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    webhooks: Option<Arc<webhooks::Webhooks>>,
}

fn spawn_replica_tasks(
    args: &ServeArgs,
    location: &store::Location,
    state: &AppState,
    stop: &watch::Receiver<bool>,
    lead_stop: &watch::Receiver<bool>,
) -> anyhow::Result<ReplicaTasks> {
    let mut tasks = Vec::new();
    if let store::Location::Postgres(url) = location {
        let config = store::follow::FollowConfig { url: url.clone(), poll: args.replicas.store_poll_interval };
        println!(
            "edgeflag: following other replicas' writes (LISTEN/NOTIFY, checked every {:?})",
            config.poll
        );
        tasks.push(tokio::spawn(store::follow::run(state.flags.clone(), state.tokens.clone(), config, stop.clone())));
        if state.leadership.campaigning() {
            let config = leader::ElectionConfig { url: url.clone(), retry: args.replicas.leader_retry };
            println!("edgeflag: campaigning for the canary controller's leadership (every {:?})", config.retry);
            tasks.push(tokio::spawn(leader::campaign(state.leadership.clone(), config, lead_stop.clone())));
        }
    }
    let r = &args.replicas;
    let webhooks = if r.webhooks.is_empty() || args.no_controller {
        None
    } else {
        if r.webhook_secret.as_deref().is_none_or(str::is_empty) {
            println!("edgeflag: warning: --webhook without --webhook-secret: deliveries are not signed");
        }
        let hooks = webhooks::Webhooks::new(
            state.flags.backend().clone(),
            webhooks::WebhookConfig {
                urls: r.webhooks.clone(),
                secret: r.webhook_secret.clone().filter(|s| !s.is_empty()),
                attempts: r.webhook_attempts,
                first_backoff: r.webhook_backoff,
                timeout: std::time::Duration::from_secs(5),
            },
        )?;
        println!("edgeflag: decision webhooks to {} URL(s)", r.webhooks.len());
        tasks.push(tokio::spawn(webhooks::run(hooks.clone(), state.leadership.clone(), stop.clone())));
        Some(hooks)
    };
    Ok(ReplicaTasks { tasks, webhooks })
}

/// The controller's settings from the command line.
pub fn controller_config(args: &ServeArgs) -> controller::ControllerConfig {
    controller::ControllerConfig {
        interval: args.controller_interval,
        window: args.controller_window,
        policy: edgeflag_evaluator::judgement::CanaryPolicy {
            failures_to_rollback: args.controller_failures,
            compare_with_baseline: !args.controller_no_baseline,
            ..Default::default()
        },
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    println!("edgeflag: shutting down");
}
