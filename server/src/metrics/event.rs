//! Metric events posted by edges and browsers, and their validation.
//!
//! A batch is `{"events": [...]}`; every problem of every event is reported with its path, and
//! a batch with any bad event is rejected whole, so a bad event never reaches the aggregates.

use edgeflag_evaluator::Problem;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock;

/// Most events accepted in one batch.
pub const MAX_EVENTS_PER_BATCH: usize = 10_000;
/// Longest flag, environment, arm or variant name.
pub const MAX_LABEL_LEN: usize = 200;
/// Highest latency accepted (one hour), in milliseconds.
pub const MAX_LATENCY_MS: f64 = 3_600_000.0;
/// How far in the future a timestamp may be (clock skew between edges and the server).
pub const MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// One validated event. `arm` is the series label: the canary arm when given, else the
/// experiment variant (or plain variation) name.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub ts_ms: i64,
    pub flag: String,
    pub env: String,
    pub arm: String,
    pub stage: Option<u64>,
    pub error: bool,
    pub latency_ms: f64,
}

/// A rejected batch: a summary and every problem with its path.
#[derive(Debug, Clone, Serialize)]
pub struct BatchError {
    pub error: String,
    pub problems: Vec<Problem>,
    /// How many events the rejected batch held (0 when unreadable), for the counters.
    #[serde(skip)]
    pub events: usize,
}

const KNOWN_FIELDS: [&str; 8] =
    ["ts", "flag", "env", "arm", "variant", "stage", "outcome", "latency_ms"];

/// Parses and validates a batch body.
pub fn parse_batch(body: &[u8], now_ms: i64) -> Result<Vec<Event>, BatchError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| BatchError {
        error: "the body is not valid JSON".into(),
        problems: vec![problem("", format!("invalid JSON: {e}"))],
        events: 0,
    })?;
    let Value::Object(mut root) = value else {
        return Err(one("", "expected an object {\"events\": [...]}"));
    };
    let mut problems = Vec::new();
    for key in root.keys() {
        if key != "events" {
            problems.push(problem(key, "unknown field".to_string()));
        }
    }
    let events = match root.remove("events") {
        Some(Value::Array(events)) => events,
        Some(_) => return Err(one("events", "expected an array of events")),
        None => return Err(one("events", "missing field")),
    };
    if events.len() > MAX_EVENTS_PER_BATCH {
        let message = format!("{} events; at most {MAX_EVENTS_PER_BATCH} per batch", events.len());
        return Err(BatchError { events: events.len(), ..one("events", &message) });
    }
    let mut out = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let path = format!("events[{i}]");
        match event {
            Value::Object(map) => {
                if let Some(e) = parse_event(map, &path, now_ms, &mut problems) {
                    out.push(e);
                }
            }
            _ => problems.push(problem(&path, "expected an object".into())),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(BatchError {
            error: format!("{} problem(s); the batch was rejected whole", problems.len()),
            problems,
            events: events.len(),
        })
    }
}

fn parse_event(
    map: &Map<String, Value>,
    path: &str,
    now_ms: i64,
    problems: &mut Vec<Problem>,
) -> Option<Event> {
    let before = problems.len();
    for key in map.keys() {
        if !KNOWN_FIELDS.contains(&key.as_str()) {
            problems.push(problem(&format!("{path}.{key}"), "unknown field".into()));
        }
    }
    let ts_ms = parse_ts(map.get("ts"), &format!("{path}.ts"), now_ms, problems);
    let flag = label(map.get("flag"), &format!("{path}.flag"), true, problems);
    let env = label(map.get("env"), &format!("{path}.env"), true, problems);
    let arm = label(map.get("arm"), &format!("{path}.arm"), false, problems);
    if let Some(a) = &arm {
        if a != "canary" && a != "baseline" {
            problems.push(problem(
                &format!("{path}.arm"),
                format!("expected \"canary\" or \"baseline\", got {a:?}"),
            ));
        }
    }
    let variant = label(map.get("variant"), &format!("{path}.variant"), false, problems);
    let absent = |k: &str| map.get(k).is_none_or(Value::is_null);
    if absent("arm") && absent("variant") {
        problems.push(problem(path, "one of \"arm\" or \"variant\" is required".into()));
    }
    let stage = match map.get("stage") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(s) => Some(s),
            None => {
                problems.push(problem(
                    &format!("{path}.stage"),
                    "expected a non-negative integer".into(),
                ));
                None
            }
        },
    };
    let error = match map.get("outcome") {
        Some(Value::String(s)) if s == "ok" => Some(false),
        Some(Value::String(s)) if s == "error" => Some(true),
        Some(other) => {
            problems.push(problem(
                &format!("{path}.outcome"),
                format!("expected \"ok\" or \"error\", got {other}"),
            ));
            None
        }
        None => {
            problems.push(problem(&format!("{path}.outcome"), "missing field".into()));
            None
        }
    };
    let latency_ms = match map.get("latency_ms") {
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() && (0.0..=MAX_LATENCY_MS).contains(&x) => Some(x),
            _ => {
                problems.push(problem(
                    &format!("{path}.latency_ms"),
                    format!("expected a number of milliseconds in 0..={MAX_LATENCY_MS}, got {n}"),
                ));
                None
            }
        },
        Some(other) => {
            problems.push(problem(
                &format!("{path}.latency_ms"),
                format!("expected a number, got {other}"),
            ));
            None
        }
        None => {
            problems.push(problem(&format!("{path}.latency_ms"), "missing field".into()));
            None
        }
    };
    if problems.len() != before {
        return None;
    }
    Some(Event {
        ts_ms: ts_ms?,
        flag: flag?,
        env: env?,
        arm: arm.or(variant)?,
        stage,
        error: error?,
        latency_ms: latency_ms?,
    })
}

fn parse_ts(value: Option<&Value>, path: &str, now_ms: i64, problems: &mut Vec<Problem>) -> Option<i64> {
    let ms = match value {
        Some(Value::String(s)) => match clock::parse_rfc3339_ms(s) {
            Some(ms) => ms,
            None => {
                problems.push(problem(path, format!("not an RFC 3339 timestamp: {s:?}")));
                return None;
            }
        },
        Some(Value::Number(n)) => match n.as_i64() {
            // Before 1973 in milliseconds: almost surely seconds sent by mistake.
            Some(ms) if ms >= 100_000_000_000 => ms,
            Some(_) => {
                problems.push(problem(
                    path,
                    "expected epoch milliseconds (this looks like seconds)".into(),
                ));
                return None;
            }
            None => {
                problems.push(problem(path, "expected integer epoch milliseconds".into()));
                return None;
            }
        },
        Some(_) => {
            problems.push(problem(path, "expected an RFC 3339 string or epoch milliseconds".into()));
            return None;
        }
        None => {
            problems.push(problem(path, "missing field".into()));
            return None;
        }
    };
    if ms > now_ms + MAX_FUTURE_SKEW_MS {
        problems.push(problem(path, "more than 5 minutes in the future".into()));
        return None;
    }
    Some(ms)
}

/// A non-empty, bounded label without control characters. `required` reports a missing one.
fn label(value: Option<&Value>, path: &str, required: bool, problems: &mut Vec<Problem>) -> Option<String> {
    match value {
        Some(Value::String(s)) => {
            if s.is_empty() {
                problems.push(problem(path, "must not be empty".into()));
                None
            } else if s.len() > MAX_LABEL_LEN {
                problems.push(problem(path, format!("longer than {MAX_LABEL_LEN} bytes")));
                None
            } else if s.chars().any(char::is_control) {
                problems.push(problem(path, "must not contain control characters".into()));
                None
            } else {
                Some(s.clone())
            }
        }
        None | Some(Value::Null) if !required => None,
        None => {
            problems.push(problem(path, "missing field".into()));
            None
        }
        Some(other) => {
            problems.push(problem(path, format!("expected a string, got {other}")));
            None
        }
    }
}

fn problem(path: &str, message: String) -> Problem {
    Problem { path: path.to_string(), message }
}

fn one(path: &str, message: &str) -> BatchError {
    BatchError {
        error: message.to_string(),
        problems: vec![problem(path, message.to_string())],
        events: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn accepts_a_good_batch_with_both_timestamp_forms() {
        let body = format!(
            r#"{{"events":[
              {{"ts":{NOW},"flag":"f","env":"prod","arm":"canary","stage":1,"outcome":"ok","latency_ms":12.5}},
              {{"ts":"2027-01-15T08:00:00Z","flag":"f","env":"prod","variant":"blue","outcome":"error","latency_ms":0}}
            ]}}"#
        );
        let events = parse_batch(body.as_bytes(), NOW).expect("valid batch");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].arm, "canary");
        assert_eq!(events[1].arm, "blue");
        assert!(events[1].error);
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let body = format!(
            r#"{{"events":[
              {{"ts":{NOW},"flag":"f","env":"prod","arm":"canary","outcome":"ok","latency_ms":1}},
              {{"ts":1700000000,"flag":"","env":"prod","arm":"green","outcome":"maybe","latency_ms":-1,"x":1}}
            ]}}"#
        );
        let err = parse_batch(body.as_bytes(), NOW).expect_err("bad batch");
        let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
        for want in ["events[1].x", "events[1].ts", "events[1].flag", "events[1].arm",
                     "events[1].outcome", "events[1].latency_ms"] {
            assert!(paths.contains(&want), "missing {want} in {paths:?}");
        }
        assert!(!paths.iter().any(|p| p.starts_with("events[0]")));
    }
}
