//! Stage durations as admins write them: "90s", "10m", "1h30m", "2d".

use std::time::Duration;
use edgeflag_readers::json_text::json_quoted as q;

/// Parses a sequence of `<integer><unit>` parts with units d, h, m, s, ms.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; write e.g. \"30s\", \"10m\" or \"1h30m\"".into());
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("invalid duration {}: expected a number at {}", q(text), q(rest)));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration {}: number too large", q(text)))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let millis_per_unit: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(format!("invalid duration {}: missing unit (d, h, m, s, ms)", q(text))),
            other => return Err(format!("invalid duration {}: unknown unit {}", q(text), q(other))),
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(millis_per_unit)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| format!("invalid duration {}: too long", q(text)))?;
    }
    Ok(Duration::from_millis(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn parses_compound_durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn rejects_malformed_durations() {
        for bad in ["", "10", "m", "10x", "1h 30m", "99999999999999999999s", "-5s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
