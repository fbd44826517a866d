//! Decision webhooks: the canary controller tells other systems (chat, incident tools, CI)
//! what it decided, as Flagger and Argo Rollouts do.
//!
//! - **Events**: `advance`, `complete`, `rollback`, and `hold` with its reasons. A hold is sent
//!   when its cause changes (another stage, another set of failing or no-data checks, another
//!   consecutive-failure count, the stage's minimum duration reached), not at every tick.
//! - **Outbox**: each decision inserts one delivery row per URL into `webhook_deliveries`, in
//!   the flag store's database (SQLite or PostgreSQL); a worker on the controller's leader
//!   sends the due ones. So a delivery survives a restart or a leader change (the new leader
//!   sends what is pending), and every outcome is recorded: `GET /api/webhooks/deliveries`.
//! - **Signature**: `X-Edgeflag-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the
//!   shared secret>` (GitHub's scheme: compare in constant time over the exact bytes
//!   received). `X-Edgeflag-Delivery` is the delivery id (the same on every retry: de-duplicate
//!   with it), `X-Edgeflag-Event` the event. The body carries `at` (the decision's time), so a
//!   receiver can also refuse old replays.
//! - **Retries**: any answer other than 2xx, a connection error or a timeout (5 s) is retried
//!   with exponential backoff (1 s, 2 s, 4 s … capped at 5 min) up to `--webhook-attempts`
//!   (default 6) attempts; then the delivery is `failed`. Delivery is at least once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::{watch, Notify};

use crate::clock;
use crate::leader::Leadership;
use crate::store::{hex, Attempt, Backend, Delivery, StoreError};

/// The signature header (`sha256=<hex>`).
pub const SIGNATURE_HEADER: &str = "x-edgeflag-signature-256";
pub const DELIVERY_HEADER: &str = "x-edgeflag-delivery";
pub const EVENT_HEADER: &str = "x-edgeflag-event";

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Longest error text kept per attempt.
const MAX_ERROR_LEN: usize = 300;

/// Webhook settings (`--webhook`, `--webhook-secret`, `--webhook-attempts`).
#[derive(Clone)]
pub struct WebhookConfig {
    pub urls: Vec<String>,
    /// The shared HMAC key; without one, deliveries are sent unsigned.
    pub secret: Option<String>,
    /// Attempts per delivery, the first included (≥ 1).
    pub attempts: u32,
    /// The wait after the first failed attempt; doubles after each.
    pub first_backoff: Duration,
    /// Time allowed for one attempt.
    pub timeout: Duration,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("urls", &self.urls)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What a decision webhook says (the JSON body).
#[derive(Debug, Clone, Serialize)]
pub struct DecisionEvent {
    /// The delivery id (filled per URL).
    pub id: String,
    pub event: String,
    pub flag: String,
    pub env: Option<String>,
    /// The stage judged (`current_stage`, 0-based).
    pub stage: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_stage: Option<usize>,
    pub reasons: Vec<String>,
    pub consecutive_failures: u32,
    /// The flag-file version judged.
    pub file_version: u64,
    /// The version the decision wrote (advance, complete, rollback).
    pub decision_version: Option<u64>,
    /// When the decision was made (RFC 3339).
    pub at: String,
    /// The audit message of the decision (metrics judged and reasons).
    pub message: String,
}

/// The outbox and its sender.
pub struct Webhooks {
    backend: Arc<dyn Backend>,
    config: WebhookConfig,
    wake: Notify,
    client: reqwest::Client,
}

impl Webhooks {
    pub fn new(backend: Arc<dyn Backend>, config: WebhookConfig) -> anyhow::Result<Arc<Webhooks>> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("edgeflag/", env!("CARGO_PKG_VERSION")))
            // A receiver answers; it does not send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Arc::new(Webhooks { backend, config, wake: Notify::new(), client }))
    }

    /// Records one delivery per URL for `event` (blocks: a database insert) and wakes the sender.
    pub fn enqueue(&self, event: &DecisionEvent) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        let now = clock::now_rfc3339();
        for url in &self.config.urls {
            let mut raw = [0u8; 12];
            rand::rng().fill_bytes(&mut raw);
            let id = format!("d-{}", hex(&raw));
            let mut body = event.clone();
            body.id = id.clone();
            let payload = serde_json::to_string(&body).unwrap_or_default();
            self.backend.delivery_insert(&Delivery {
                id: id.clone(),
                created_at: now.clone(),
                event: event.event.clone(),
                flag: event.flag.clone(),
                env: event.env.clone(),
                file_version: event.file_version,
                decision_version: event.decision_version,
                url: url.clone(),
                status: "pending".into(),
                attempts: 0,
                next_attempt_ms: Some(clock::now_ms()),
                attempt_log: Vec::new(),
                updated_at: now.clone(),
                payload,
            })?;
            ids.push(id);
        }
        self.wake.notify_one();
        Ok(ids)
    }

    /// Sends one attempt of `d` and records its outcome (status, next attempt or final state).
    async fn attempt(&self, mut d: Delivery) -> Delivery {
        let started = Instant::now();
        let mut request = self
            .client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_HEADER, &d.id)
            .header(EVENT_HEADER, &d.event);
        if let Some(secret) = &self.config.secret {
            request = request.header(SIGNATURE_HEADER, signature(secret.as_bytes(), d.payload.as_bytes()));
        }
        let result = request.body(d.payload.clone()).send().await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let (status, error) = match result {
            Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
            Ok(resp) => (Some(resp.status().as_u16()), Some(format!("HTTP {}", resp.status()))),
            Err(e) => (None, Some(truncate(&error_chain(&e)))),
        };
        d.attempts += 1;
        d.attempt_log.push(Attempt { at: clock::now_rfc3339(), status, error: error.clone(), duration_ms });
        d.updated_at = clock::now_rfc3339();
        if error.is_none() {
            d.status = "delivered".into();
            d.next_attempt_ms = None;
        } else if d.attempts >= self.config.attempts {
            d.status = "failed".into();
            d.next_attempt_ms = None;
        } else {
            let backoff = self.config.first_backoff.saturating_mul(1 << (d.attempts - 1).min(20)).min(MAX_BACKOFF);
            d.next_attempt_ms = Some(clock::now_ms() + backoff.as_millis() as i64);
        }
        d
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // Hmac accepts keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// Whether `header` is the signature of `body` (constant-time comparison of the MACs).
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_mac) = header.trim().strip_prefix("sha256=") else { return false };
    let Some(expected) = unhex(hex_mac) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_ERROR_LEN).collect()
}

/// Sends due deliveries while this replica leads, until `stop` turns true.
pub async fn run(webhooks: Arc<Webhooks>, leadership: Arc<Leadership>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = webhooks.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => return,
        }
        if !leadership.is_leader() {
            continue;
        }
        let backend = webhooks.backend.clone();
        let due = match tokio::task::spawn_blocking(move || backend.deliveries_due(clock::now_ms(), 64)).await {
            Ok(Ok(due)) => due,
            Ok(Err(e)) => {
                eprintln!("edgeflag: webhooks: cannot read the outbox: {e}");
                continue;
            }
            Err(_) => continue,
        };
        // Attempts of different deliveries run side by side: one slow receiver does not hold
        // up the others.
        let attempts = due.into_iter().map(|d| webhooks.attempt(d));
        for d in futures_util::future::join_all(attempts).await {
            if d.status != "pending" || d.attempt_log.last().is_some_and(|a| a.error.is_some()) {
                let last = d.attempt_log.last();
                println!(
                    "edgeflag: webhooks: {} {} {} to {}: {} (attempt {})",
                    d.id,
                    d.event,
                    d.flag,
                    d.url,
                    last.and_then(|a| a.error.clone()).unwrap_or_else(|| "delivered".into()),
                    d.attempts
                );
            }
            let backend = webhooks.backend.clone();
            match tokio::task::spawn_blocking(move || backend.delivery_update(&d)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("edgeflag: webhooks: cannot record a delivery: {e}"),
                Err(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_secret_and_the_exact_body() {
        let sig = signature(b"s3cret", b"{\"a\":1}");
        // Computed independently: python3 -c 'import hmac,hashlib; print(hmac.new(b"s3cret", b"{\"a\":1}", hashlib.sha256).hexdigest())'
        assert_eq!(sig, "sha256=5910e62016ef5034272c926c27071992a465c2335cecf41851bda071577f4f6d");
        assert!(verify(b"s3cret", b"{\"a\":1}", &sig));
        assert!(!verify(b"other", b"{\"a\":1}", &sig));
        assert!(!verify(b"s3cret", b"{\"a\":2}", &sig));
        assert!(!verify(b"s3cret", b"{\"a\":1}", "sha256=zz"));
        assert!(!verify(b"s3cret", b"{\"a\":1}", &sig.replace("sha256=", "sha1=")));
    }
}
