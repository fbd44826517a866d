//! Wall-clock helpers (RFC 3339 text and epoch milliseconds).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

/// Epoch milliseconds as RFC 3339 (UTC).
pub fn ms_to_rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Parses RFC 3339 into epoch milliseconds, with the engine's reader, so that event times and
/// the canary judgement's times are read alike.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    i64::try_from(edgeflag_readers::rfc3339::parse(text)? / 1_000_000).ok()
}
