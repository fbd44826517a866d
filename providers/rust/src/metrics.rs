//! Canary and experiment metric events for the server's `POST /api/metrics/events`, queued
//! with a bound: at most `max_pending` wait (the oldest beyond are dropped, counted), and a
//! batch is ready when `batch_size` are waiting. Recording never blocks an evaluation and never
//! fails; posting is [`crate::http::MetricsReporter`]'s job (feature `http`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// What an event is about: a canary arm or an experiment variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    Arm(String),
    Variant(String),
}

/// The outcome of the work done for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
}

/// Counters of a queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub recorded: u64,
    pub dropped: u64,
    pub skipped: u64,
}

/// A bounded queue of events (JSON objects in the server's event format).
pub struct EventQueue {
    env: String,
    max_pending: usize,
    batch_size: usize,
    inner: Mutex<(VecDeque<Value>, QueueStats)>,
}

impl EventQueue {
    /// `env`: the `env` of every event (the provider's environment, or "default").
    pub fn new(env: Option<&str>, batch_size: usize, max_pending: usize) -> Self {
        EventQueue {
            env: env.unwrap_or("default").to_string(),
            max_pending: max_pending.max(1),
            batch_size: batch_size.clamp(1, 10_000),
            inner: Mutex::new((VecDeque::new(), QueueStats::default())),
        }
    }

    /// Queues one event per labelled flag; returns whether a batch is ready. A latency outside
    /// 0..=3,600,000 ms is refused by the server, so it is skipped here (counted).
    pub fn record(&self, labelled: &[(String, Label)], outcome: Outcome, latency_ms: f64) -> bool {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (queue, stats) = &mut *guard;
        if !(0.0..=3_600_000.0).contains(&latency_ms) {
            stats.skipped += 1;
            return false;
        }
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        for (flag, label) in labelled {
            let mut event = json!({
                "ts": ts, "flag": flag, "env": self.env,
                "outcome": match outcome { Outcome::Ok => "ok", Outcome::Error => "error" },
                "latency_ms": latency_ms,
            });
            match label {
                Label::Arm(arm) => event["arm"] = json!(arm),
                Label::Variant(v) => event["variant"] = json!(v),
            }
            queue.push_back(event);
            stats.recorded += 1;
        }
        while queue.len() > self.max_pending {
            queue.pop_front();
            stats.dropped += 1;
        }
        queue.len() >= self.batch_size
    }

    /// Takes up to one batch.
    pub fn take_batch(&self) -> Vec<Value> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let n = guard.0.len().min(self.batch_size);
        guard.0.drain(..n).collect()
    }

    pub fn pending(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0.len()
    }

    pub fn stats(&self) -> QueueStats {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).1
    }

    /// Counts events that were taken but could not be delivered.
    pub fn count_dropped(&self, n: usize) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).1.dropped += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_batched() {
        let q = EventQueue::new(Some("prod"), 3, 5);
        let one = vec![("f".to_string(), Label::Arm("canary".into()))];
        assert!(!q.record(&one, Outcome::Ok, 12.0));
        assert!(!q.record(&one, Outcome::Error, 1.0));
        assert!(q.record(&one, Outcome::Ok, 1.0), "a batch of 3 is ready");
        for _ in 0..4 {
            q.record(&one, Outcome::Ok, 1.0);
        }
        assert_eq!((q.pending(), q.stats().dropped), (5, 2), "the oldest beyond 5 are dropped");
        assert!(!q.record(&one, Outcome::Ok, -1.0));
        assert_eq!(q.stats().skipped, 1);
        let batch = q.take_batch();
        assert_eq!(batch.len(), 3);
        assert_eq!((batch[0]["env"].as_str(), batch[0]["arm"].as_str()), (Some("prod"), Some("canary")));
        assert_eq!(q.pending(), 2);
    }
}
