//! RFC 3339 date-times (`2026-01-31T12:00:00Z`, `2026-01-31t12:00:00.5+01:00`) as Unix
//! nanoseconds: the date operators, canary stage start times and the canary judgement's clock.
//!
//! Read exactly as the `time` crate's `Rfc3339` reads them (the engine and the server used
//! it before), which `tests/rfc3339_agrees.rs` checks against `time` on generated
//! input: any single byte between date and time, at least one fractional digit with digits
//! past nanoseconds dropped, `Z` or `z` or an offset up to ±23:59, and a leap second (`:60`)
//! only where one can be, the last second of a month in UTC, read as its last nanosecond.
//! Written here because `time`'s parser is a large part of a WASM module for one format
//! (wasm/README.md "Size").

const NANOS_PER_SECOND: i128 = 1_000_000_000;
// Calendar arithmetic in i64 (years 0000-9999 are well inside it); only the nanosecond
// result is an i128: 128-bit division would link its own code into the WASM module.
const SECONDS_PER_DAY: i64 = 86_400;

/// The instant, or `None` when the text is not an RFC 3339 date-time. Surrounding whitespace
/// is ignored.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn parse(text: &str) -> Option<i128> {
    let b = text.trim().as_bytes();
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let mut second = digits(b, 17, 2)?;
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    // Byte 10 is the separator: `T`, `t`, a space, or any other byte.
    let mut at = 19;
    let mut nanosecond: i64 = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let first = at;
        let mut scale = 100_000_000;
        while let Some(d @ b'0'..=b'9') = b.get(at) {
            nanosecond += i64::from(d - b'0') * scale;
            scale /= 10;
            at += 1;
        }
        if at == first {
            return None;
        }
    }
    let offset_seconds = match b.get(at..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = digits(b, at + 1, 2)?;
            let minutes = digits(b, at + 4, 2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    let leap_second = second == 60;
    if leap_second {
        second = 59;
        nanosecond = NANOS_PER_SECOND as i64 - 1;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let local_seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY
        + i64::from(hour * 3600 + minute * 60 + second);
    let utc_seconds = local_seconds - i64::from(offset_seconds);
    if leap_second && !is_last_second_of_a_month(utc_seconds) {
        return None;
    }
    Some(i128::from(utc_seconds) * NANOS_PER_SECOND + i128::from(nanosecond))
}

/// `count` ASCII digits at `at`, as a number.
#[cfg_attr(edgeflag_size, optimize(size))]
fn digits(b: &[u8], at: usize, count: usize) -> Option<i32> {
    b.get(at..at + count)?.iter().try_fold(0, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + i32::from(d - b'0'))
    })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
#[cfg_attr(edgeflag_size, optimize(size))]
fn days_from_civil(year: i32, month: i32, day: i32) -> i64 {
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count from 1970-01-01 (Hinnant's `civil_from_days`).
#[cfg_attr(edgeflag_size, optimize(size))]
fn civil_from_days(days: i64) -> (i64, i32, i32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    // Both are small: day 1..=31, month 1..=12.
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as i32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as i32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whether the UTC second starting at `utc_seconds` is 23:59:59 on a month's last day, in a
/// year `time` can represent (±9999).
#[cfg_attr(edgeflag_size, optimize(size))]
fn is_last_second_of_a_month(utc_seconds: i64) -> bool {
    let days = utc_seconds.div_euclid(SECONDS_PER_DAY);
    if utc_seconds.rem_euclid(SECONDS_PER_DAY) != SECONDS_PER_DAY - 1 {
        return false;
    }
    let (year, month, day) = civil_from_days(days);
    match i32::try_from(year) {
        Ok(year) if (-9999..=9999).contains(&year) => day == days_in_month(year, month),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn reads_instants() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse(" 1970-01-01T00:00:01.5z "), Some(1_500_000_000));
        assert_eq!(parse("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse("2026-01-31T00:00:00Z"),
            Some(1_769_817_600 * NANOS_PER_SECOND)
        );
        assert_eq!(
            parse("1969-12-31 23:59:59.123456789123-00:00"),
            Some(-NANOS_PER_SECOND + 123_456_789)
        );
        assert_eq!(
            parse("2016-12-31T23:59:60Z"),
            Some(1_483_228_800 * NANOS_PER_SECOND - 1)
        );
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn refuses_what_is_not_rfc_3339() {
        for text in [
            "",
            "2026-01-31",
            "2026-01-31T00:00:00",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-31T24:00:00Z",
            "2026-01-31T00:00:00.Z",
            "2026-01-31T00:00:00+24:00",
            "2026-01-31T00:00:00+01:60",
            "2026-01-31T00:00:00+0100",
            "2026-01-30T23:59:60Z",
            "2026-01-31T23:59:60+01:00",
            "+2026-01-31T00:00:00Z",
            "2026-01-31T00:00:00ZZ",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn civil_days_round_trip() {
        for days in (-4_000_000..4_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y as i32, m, d), days);
        }
    }
}
