//! The engine's RFC 3339 reader (`rfc3339::parse`) must read date-times exactly as the `time`
//! crate's `Rfc3339` does (the engine used `time` before, and the server still does): the same
//! texts accepted, as the same instant, and the same texts refused.
//!
//! Texts: date-times built from components drawn around and past every range edge (month 0
//! and 13, day 0 and 32, February 29th, hour 24, second 60 at and off a month's end, offsets
//! up to ±24:60, 0 to 12 fractional digits, every separator byte), and the same texts with one
//! byte deleted, inserted or replaced.

use edgeflag_readers::rfc3339;
use proptest::prelude::*;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn by_time(text: &str) -> Option<i128> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

fn assert_agree(text: &str) {
    assert_eq!(rfc3339::parse(text), by_time(text), "{text:?}");
}

#[test]
fn known_texts_read_the_same() {
    for text in [
        "2026-01-31T12:00:00Z",
        "2026-01-31t12:00:00z",
        "2026-01-31 12:00:00Z",
        "2026-01-31_12:00:00Z",
        "2026-01-31T12:00:00.000000001Z",
        "2026-01-31T12:00:00.1234567891234Z",
        "2026-01-31T12:00:00.Z",
        "2026-01-31T12:00:00+23:59",
        "2026-01-31T12:00:00-23:59",
        "2026-01-31T12:00:00+24:00",
        "2026-01-31T12:00:00-00:00",
        "2026-01-31T12:00:00+01",
        "2026-01-31T12:00:00",
        "2016-12-31T23:59:60Z",
        "2016-12-31T23:59:60.5Z",
        "2017-01-01T00:59:60+01:00",
        "2016-12-31T22:59:60-01:00",
        "2016-06-30T23:59:60Z",
        "2016-06-29T23:59:60Z",
        "2016-12-31T23:58:60Z",
        "9999-12-31T23:59:60-00:01",
        "0000-01-01T00:00:00+23:59",
        "0000-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-1-31T12:00:00Z",
        "20260131T120000Z",
        "2026-01-31T12:00:00Zjunk",
        " 2026-01-31T12:00:00Z\n",
        "2026-01-31T12:00:00+01:00 ",
        "2026-01-31Té12:00:00Z",
        "-2026-01-31T12:00:00Z",
        "２026-01-31T12:00:00Z",
        "",
    ] {
        assert_agree(text);
    }
}

/// A date-time from components drawn around their ranges' edges.
fn date_time() -> impl Strategy<Value = String> {
    (
        (0u32..=9999, 0u32..=13, 0u32..=32),
        (0u32..=25, 0u32..=61, 0u32..=61),
        prop::collection::vec(0u8..=9, 0..=12),
        prop_oneof![
            Just(b'T'),
            Just(b't'),
            Just(b' '),
            any::<u8>().prop_filter("ASCII", u8::is_ascii)
        ],
        prop_oneof![
            Just("Z".to_owned()),
            Just("z".to_owned()),
            (any::<bool>(), 0u32..=25, 0u32..=61)
                .prop_map(|(neg, h, m)| format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' })),
        ],
        // Month ends and the last second of a day, where leap seconds may be.
        any::<bool>(),
    )
        .prop_map(
            |((y, mo, d), (h, mi, s), fraction, separator, offset, at_month_end)| {
                let (d, h, mi, s) = if at_month_end {
                    (28 + d % 4, 23, 59, 60)
                } else {
                    (d, h, mi, s)
                };
                let fraction: String = fraction.iter().map(|d| char::from(b'0' + d)).collect();
                let dot = if fraction.is_empty() { "" } else { "." };
                format!(
                    "{y:04}-{mo:02}-{d:02}{}{h:02}:{mi:02}:{s:02}{dot}{fraction}{offset}",
                    char::from(separator)
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn generated_texts_read_the_same(text in date_time()) {
        prop_assert_eq!(rfc3339::parse(&text), by_time(&text), "{:?}", text);
    }

    #[test]
    fn edited_texts_read_the_same(text in date_time(), place in any::<usize>(), action in 0u8..3, byte in any::<u8>()) {
        let mut bytes = text.into_bytes();
        let at = place % bytes.len();
        let byte = b"0123456789-+:.TZz "[usize::from(byte) % 18];
        match action {
            0 => { bytes.remove(at); }
            1 => bytes.insert(at, byte),
            _ => bytes[at] = byte,
        }
        let text = String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(rfc3339::parse(&text), by_time(&text), "{:?}", text);
    }
}
