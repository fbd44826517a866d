//! Metric events posted by edges and browsers, and their validation.
//!
//! A batch is `{"events": [...]}`; every problem of every event is reported with its path, and
//! a batch with any bad event is rejected whole, so a bad event never reaches the aggregates.
//!
//! The body is read as a stream (serde visitors), not into a `serde_json::Value` tree: a tree
//! costs 20 to 60 times the text for small values, so an 8 MiB body of `[0,0,0,…]` or
//! `[{},{},…]` would take 150+ MB before the event count could be checked. Here events past
//! the 10,000th are only counted, unknown fields and non-scalar values are skipped without
//! being built, and at most [`MAX_PROBLEMS`] problems are listed: a batch costs about its own
//! size in memory, whatever it holds.

use std::fmt;

use edgeflag_evaluator::Problem;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::Number;

use crate::clock;

/// Most events accepted in one batch.
pub const MAX_EVENTS_PER_BATCH: usize = 10_000;
/// Longest flag, environment, arm or variant name.
pub const MAX_LABEL_LEN: usize = 200;
/// Highest latency accepted (one hour), in milliseconds.
pub const MAX_LATENCY_MS: f64 = 3_600_000.0;
/// How far in the future a timestamp may be (clock skew between edges and the server).
pub const MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;
/// Most problems listed for a rejected batch (the rest are counted in a last entry).
pub const MAX_PROBLEMS: usize = 1_000;

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

/// Parses and validates a batch body.
pub fn parse_batch(body: &[u8], now_ms: i64) -> Result<Vec<Event>, BatchError> {
    let mut state = Batch { now_ms, events: Vec::new(), count: 0, problems: Problems::default(), shape: None, saw_events: false };
    let mut de = serde_json::Deserializer::from_slice(body);
    let read = BatchSeed(&mut state).deserialize(&mut de).and_then(|()| de.end());
    if let Err(e) = read {
        return Err(match state.shape.take() {
            Some((path, message)) => BatchError { events: state.count, ..one(path, &message) },
            None => BatchError {
                error: "the body is not valid JSON".into(),
                problems: vec![problem("", format!("invalid JSON: {e}"))],
                events: 0,
            },
        });
    }
    if !state.saw_events {
        return Err(one("events", "missing field"));
    }
    if state.count > MAX_EVENTS_PER_BATCH {
        let message = format!("{} events; at most {MAX_EVENTS_PER_BATCH} per batch", state.count);
        return Err(BatchError { events: state.count, ..one("events", &message) });
    }
    if state.problems.total == 0 {
        Ok(state.events)
    } else {
        let total = state.problems.total;
        Err(BatchError {
            error: format!("{total} problem(s); the batch was rejected whole"),
            problems: state.problems.into_list(),
            events: state.count,
        })
    }
}

/// Problems, listed up to [`MAX_PROBLEMS`].
#[derive(Default)]
struct Problems {
    list: Vec<Problem>,
    total: usize,
}

impl Problems {
    fn push(&mut self, path: impl FnOnce() -> String, message: impl FnOnce() -> String) {
        self.total += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem { path: path(), message: message() });
        }
    }

    fn into_list(mut self) -> Vec<Problem> {
        if self.total > self.list.len() {
            let more = self.total - self.list.len();
            self.list.push(problem("events", format!("… and {more} more problem(s) not listed")));
        }
        self.list
    }
}

struct Batch {
    now_ms: i64,
    events: Vec<Event>,
    /// Events seen, including those past the limit (only counted).
    count: usize,
    problems: Problems,
    /// The body's shape is wrong (not `{"events": [...]}`): path and message.
    shape: Option<(&'static str, String)>,
    saw_events: bool,
}

/// The whole body: an object with `events` and nothing else.
struct BatchSeed<'a>(&'a mut Batch);

impl<'de> DeserializeSeed<'de> for BatchSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BatchSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object {\"events\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "events" {
                self.0.saw_events = true;
                map.next_value_seed(EventsSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
                self.0.problems.push(|| key.clone(), || "unknown field".into());
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.0.shape_error("", "expected an object {\"events\": [...]}"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.0.shape_error("", "expected an object {\"events\": [...]}"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.0.shape_error("", "expected an object {\"events\": [...]}"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.0.shape_error("", "expected an object {\"events\": [...]}"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.0.shape_error("", "expected an object {\"events\": [...]}"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.0.shape_error("", "expected an object {\"events\": [...]}"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.0.shape_error("", "expected an object {\"events\": [...]}"))
    }
}

impl Batch {
    /// Records why the body's shape is wrong and stops reading.
    fn shape_error<E: de::Error>(&mut self, path: &'static str, message: &str) -> E {
        self.shape = Some((path, message.to_string()));
        E::custom(message)
    }
}

/// The `events` array: the first [`MAX_EVENTS_PER_BATCH`] are read, the rest only counted.
struct EventsSeed<'a>(&'a mut Batch);

impl<'de> DeserializeSeed<'de> for EventsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let batch = self.0;
        loop {
            if batch.count >= MAX_EVENTS_PER_BATCH {
                // Past the limit: the batch is refused; count without building anything.
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    return Ok(());
                }
            } else {
                let index = batch.count;
                let seed = EventSeed { index, problems: &mut batch.problems };
                match seq.next_element_seed(seed)? {
                    None => return Ok(()),
                    Some(Some(raw)) => {
                        if let Some(event) = raw.validate(index, batch.now_ms, &mut batch.problems) {
                            batch.events.push(event);
                        }
                    }
                    Some(None) => {}
                }
            }
            batch.count += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.0.shape_error("events", "expected an array of events"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.0.shape_error("events", "expected an array of events"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.0.shape_error("events", "expected an array of events"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.0.shape_error("events", "expected an array of events"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.0.shape_error("events", "expected an array of events"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.0.shape_error("events", "expected an array of events"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.0.shape_error("events", "expected an array of events"))
    }
}

/// A JSON value where an event field is expected: scalars are kept, arrays and objects are
/// skipped (never built) and only named in messages.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Num(Number),
    Str(String),
    Array,
    Object,
}

impl fmt::Display for Scalar {
    /// For messages: strings quoted and cut at 64 characters.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Scalar::Null => f.write_str("null"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Num(n) => write!(f, "{n}"),
            Scalar::Str(s) if s.chars().count() > 64 => {
                let head: String = s.chars().take(64).collect();
                write!(f, "{head:?}… ({} bytes)", s.len())
            }
            Scalar::Str(s) => write!(f, "{s:?}"),
            Scalar::Array => f.write_str("an array"),
            Scalar::Object => f.write_str("an object"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Scalar, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Scalar, E> {
                Ok(Scalar::Num(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Scalar, E> {
                Ok(Scalar::Num(n.into()))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Scalar, E> {
                Ok(Number::from_f64(x).map_or(Scalar::Null, Scalar::Num))
            }
            fn visit_str<E>(self, s: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Array)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Object)
            }
        }
        de.deserialize_any(V)
    }
}

/// The fields of one event as posted, before validation.
#[derive(Default)]
struct RawEvent {
    ts: Option<Scalar>,
    flag: Option<Scalar>,
    env: Option<Scalar>,
    arm: Option<Scalar>,
    variant: Option<Scalar>,
    stage: Option<Scalar>,
    outcome: Option<Scalar>,
    latency_ms: Option<Scalar>,
}

/// One element of `events`: `Some` for an object (its known fields; unknown ones are
/// problems), `None` for anything else (a problem).
struct EventSeed<'a> {
    index: usize,
    problems: &'a mut Problems,
}

impl EventSeed<'_> {
    fn not_an_object(self) -> Option<RawEvent> {
        let index = self.index;
        self.problems.push(|| format!("events[{index}]"), || "expected an object".into());
        None
    }
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = Option<RawEvent>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<RawEvent>, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventSeed<'_> {
    type Value = Option<RawEvent>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<RawEvent>, A::Error> {
        let mut raw = RawEvent::default();
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "ts" => &mut raw.ts,
                "flag" => &mut raw.flag,
                "env" => &mut raw.env,
                "arm" => &mut raw.arm,
                "variant" => &mut raw.variant,
                "stage" => &mut raw.stage,
                "outcome" => &mut raw.outcome,
                "latency_ms" => &mut raw.latency_ms,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    let index = self.index;
                    self.problems.push(|| format!("events[{index}].{key}"), || "unknown field".into());
                    continue;
                }
            };
            *slot = Some(map.next_value::<Scalar>()?);
        }
        Ok(Some(raw))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<RawEvent>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.not_an_object())
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<RawEvent>, E> {
        Ok(self.not_an_object())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Option<RawEvent>, E> {
        Ok(self.not_an_object())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<RawEvent>, E> {
        Ok(self.not_an_object())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<RawEvent>, E> {
        Ok(self.not_an_object())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<RawEvent>, E> {
        Ok(self.not_an_object())
    }
    fn visit_unit<E>(self) -> Result<Option<RawEvent>, E> {
        Ok(self.not_an_object())
    }
}

impl RawEvent {
    /// Checks every field, recording each problem with its path.
    fn validate(self, index: usize, now_ms: i64, problems: &mut Problems) -> Option<Event> {
        let before = problems.total;
        let path = |field: &str| format!("events[{index}].{field}");
        let ts_ms = parse_ts(self.ts.as_ref(), &path("ts"), now_ms, problems);
        let flag = label(self.flag.as_ref(), &path("flag"), true, problems);
        let env = label(self.env.as_ref(), &path("env"), true, problems);
        let arm = label(self.arm.as_ref(), &path("arm"), false, problems);
        if let Some(a) = &arm {
            if a != "canary" && a != "baseline" {
                problems.push(|| path("arm"), || format!("expected \"canary\" or \"baseline\", got {a:?}"));
            }
        }
        let variant = label(self.variant.as_ref(), &path("variant"), false, problems);
        let absent = |v: &Option<Scalar>| matches!(v, None | Some(Scalar::Null));
        if absent(&self.arm) && absent(&self.variant) {
            problems.push(|| format!("events[{index}]"), || "one of \"arm\" or \"variant\" is required".into());
        }
        let stage = match &self.stage {
            None | Some(Scalar::Null) => None,
            Some(Scalar::Num(n)) if n.as_u64().is_some() => n.as_u64(),
            Some(_) => {
                problems.push(|| path("stage"), || "expected a non-negative integer".into());
                None
            }
        };
        let error = match &self.outcome {
            Some(Scalar::Str(s)) if s == "ok" => Some(false),
            Some(Scalar::Str(s)) if s == "error" => Some(true),
            Some(other) => {
                problems.push(|| path("outcome"), || format!("expected \"ok\" or \"error\", got {other}"));
                None
            }
            None => {
                problems.push(|| path("outcome"), || "missing field".into());
                None
            }
        };
        let latency_ms = match &self.latency_ms {
            Some(Scalar::Num(n)) => match n.as_f64() {
                Some(x) if x.is_finite() && (0.0..=MAX_LATENCY_MS).contains(&x) => Some(x),
                _ => {
                    problems.push(
                        || path("latency_ms"),
                        || format!("expected a number of milliseconds in 0..={MAX_LATENCY_MS}, got {n}"),
                    );
                    None
                }
            },
            Some(other) => {
                problems.push(|| path("latency_ms"), || format!("expected a number, got {other}"));
                None
            }
            None => {
                problems.push(|| path("latency_ms"), || "missing field".into());
                None
            }
        };
        if problems.total != before {
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
}

fn parse_ts(value: Option<&Scalar>, path: &str, now_ms: i64, problems: &mut Problems) -> Option<i64> {
    let mut fail = |message: String| {
        problems.push(|| path.to_string(), || message);
        None
    };
    let ms = match value {
        Some(Scalar::Str(s)) => match clock::parse_rfc3339_ms(s) {
            Some(ms) => ms,
            None => return fail(format!("not an RFC 3339 timestamp: {}", Scalar::Str(s.clone()))),
        },
        Some(Scalar::Num(n)) => match n.as_i64() {
            // Before 1973 in milliseconds: almost surely seconds sent by mistake.
            Some(ms) if ms >= 100_000_000_000 => ms,
            Some(_) => return fail("expected epoch milliseconds (this looks like seconds)".into()),
            None => return fail("expected integer epoch milliseconds".into()),
        },
        Some(_) => return fail("expected an RFC 3339 string or epoch milliseconds".into()),
        None => return fail("missing field".into()),
    };
    if ms > now_ms + MAX_FUTURE_SKEW_MS {
        return fail("more than 5 minutes in the future".into());
    }
    Some(ms)
}

/// A non-empty, bounded label without control characters. `required` reports a missing one.
fn label(value: Option<&Scalar>, path: &str, required: bool, problems: &mut Problems) -> Option<String> {
    let mut fail = |message: String| {
        problems.push(|| path.to_string(), || message);
        None
    };
    match value {
        Some(Scalar::Str(s)) => {
            if s.is_empty() {
                fail("must not be empty".into())
            } else if s.len() > MAX_LABEL_LEN {
                fail(format!("longer than {MAX_LABEL_LEN} bytes"))
            } else if s.chars().any(char::is_control) {
                fail("must not contain control characters".into())
            } else {
                Some(s.clone())
            }
        }
        None | Some(Scalar::Null) if !required => None,
        None => fail("missing field".into()),
        Some(other) => fail(format!("expected a string, got {other}")),
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

    #[test]
    fn bodies_of_the_wrong_shape_name_the_place() {
        for (body, path, message) in [
            ("[]", "", "expected an object"),
            ("3", "", "expected an object"),
            (r#"{"events": 3}"#, "events", "expected an array of events"),
            (r#"{"events": {"a": 1}}"#, "events", "expected an array of events"),
            (r#"{"other": []}"#, "events", "missing field"),
        ] {
            let err = parse_batch(body.as_bytes(), NOW).expect_err(body);
            assert_eq!(err.problems[0].path, path, "{body}");
            assert!(err.problems[0].message.starts_with(message), "{body}: {:?}", err.problems);
        }
        let err = parse_batch(b"{oops", NOW).expect_err("invalid");
        assert!(err.problems[0].message.starts_with("invalid JSON"), "{:?}", err.problems);
        let err = parse_batch(br#"{"events": []} trailing"#, NOW).expect_err("trailing");
        assert!(err.problems[0].message.starts_with("invalid JSON"), "{:?}", err.problems);
    }

    #[test]
    fn hostile_batches_are_counted_not_built_and_their_problems_bounded() {
        // 4 million tiny elements: counted past the limit, refused with the count.
        let body = format!(r#"{{"events":[{}0]}}"#, "0,".repeat(4_000_000 - 1));
        let err = parse_batch(body.as_bytes(), NOW).expect_err("too many");
        assert_eq!(err.events, 4_000_000);
        assert_eq!(err.problems[0].message, "4000000 events; at most 10000 per batch");
        // One event with 50,000 unknown fields and a huge array where a string belongs.
        let fields: String = (0..50_000).map(|i| format!(r#""x{i}":[[[1]]],"#)).collect();
        let body = format!(
            r#"{{"events":[{{{fields}"ts":{NOW},"flag":[{}1],"env":"{}","arm":"canary","outcome":"ok","latency_ms":1}}]}}"#,
            "1,".repeat(100_000),
            "e".repeat(10_000)
        );
        let err = parse_batch(body.as_bytes(), NOW).expect_err("bad");
        assert_eq!(err.problems.len(), MAX_PROBLEMS + 1);
        assert!(err.error.starts_with("50002 problem(s)"), "{}", err.error);
        assert_eq!(err.problems[MAX_PROBLEMS].message, "… and 49002 more problem(s) not listed");
        // Messages name what was there without echoing it.
        let err = parse_batch(
            format!(r#"{{"events":[{{"ts":{NOW},"flag":[1,2,3],"env":"{}","arm":"canary","outcome":"ok","latency_ms":1}}]}}"#, "e".repeat(300)).as_bytes(),
            NOW,
        )
        .expect_err("bad");
        let messages: Vec<&str> = err.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages, ["expected a string, got an array", "longer than 200 bytes"]);
        let err = parse_batch(
            format!(r#"{{"events":[{{"ts":"{}","flag":"f","env":"e","arm":"canary","outcome":"ok","latency_ms":1}}]}}"#, "t".repeat(5_000)).as_bytes(),
            NOW,
        )
        .expect_err("bad ts");
        assert!(err.problems[0].message.len() < 200, "{}", err.problems[0].message);
    }
}
