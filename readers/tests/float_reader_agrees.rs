//! The engine's float reader (`decimal::parse_f64`) must read text exactly as
//! `str::parse::<f64>` does, bit for bit: the same texts refused, and the same value, sign and
//! NaN for the rest.
//!
//! Texts: the printed forms of random doubles (shortest, and with 17 to 40 digits), the exact
//! halfway points between neighbouring doubles (which need every digit to round right), long
//! mantissas past the 768 digits the algorithm keeps, exponents around every range edge, and
//! random strings over the grammar's alphabet, which are mostly refusals.
//!
//! Except one documented difference (src/float_reader.rs): std stops reading exponent digits at
//! 65,536, which is wrong when the digits make up for the exponent; the reader reads the
//! exponent whole and is correctly rounded there (`exponents_are_read_whole`).

use edgeflag_readers::float_reader::parse_f64;
use proptest::prelude::*;

fn assert_agree(text: &str) {
    let ours = parse_f64(text).map(f64::to_bits);
    let std = text.parse::<f64>().ok().map(f64::to_bits);
    assert_eq!(
        ours,
        std,
        "{text:?}: ours {:?}, std {:?}",
        ours.map(f64::from_bits),
        std.map(f64::from_bits)
    );
}

/// The exact decimal expansion of the midpoint between `x` and the next double up: every
/// double is `m * 2^e`, so the midpoint `(2m + 1) * 2^(e-1)` has a finite decimal form.
fn midpoint_text(x: f64) -> String {
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7FF) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp_bits - 1075)
    };
    let (m, e) = (2 * u128::from(m) + 1, e - 1);
    // digits of m * 2^e as a decimal: multiply a little-endian base-10 digit vector.
    let mut digits: Vec<u8> = m.to_string().bytes().rev().map(|b| b - b'0').collect();
    let mul = |digits: &mut Vec<u8>, k: u8| {
        let mut carry = 0u32;
        for d in digits.iter_mut() {
            let v = u32::from(*d) * u32::from(k) + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    };
    let mut fraction_digits = 0usize;
    if e >= 0 {
        for _ in 0..e {
            mul(&mut digits, 2);
        }
    } else {
        // m / 2^k = m * 5^k / 10^k
        for _ in 0..-e {
            mul(&mut digits, 5);
        }
        fraction_digits = (-e) as usize;
    }
    while digits.len() <= fraction_digits {
        digits.push(0);
    }
    let text: String = digits.iter().rev().map(|d| char::from(b'0' + d)).collect();
    let (int, frac) = text.split_at(text.len() - fraction_digits);
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

#[test]
fn known_texts_read_the_same() {
    for text in [
        "0",
        "-0",
        "+0",
        "0.0",
        "-0.0",
        "00",
        "0001.5000",
        ".5",
        "5.",
        ".",
        "",
        "-",
        "+",
        "e5",
        "1e",
        "1e+",
        "1e-",
        "1.e5",
        ".e5",
        "1_0",
        " 1",
        "1 ",
        "0x10",
        "1.5.2",
        "--1",
        "+-1",
        "1e5e5",
        "١",
        "1,5",
        "inf",
        "INF",
        "-inf",
        "+Infinity",
        "infinity",
        "iNfInItY",
        "infinit",
        "infinityy",
        "nan",
        "NaN",
        "-nan",
        "+NAN",
        "nana",
        "in",
        "5e-324",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "2.2250738585072011e-308",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "1e309",
        "-1e309",
        "1e-400",
        "9007199254740992",
        "9007199254740993",
        "9007199254740993.0000000001",
        "18446744073709551615",
        "18446744073709551616",
        "123456789012345678901234567890",
        "1e22",
        "1e23",
        "12e30",
        "9007199254740993e22",
        "1e37",
        "1e38",
        "1e-22",
        "1e-23",
        "0.1",
        "0.2",
        "0.30000000000000004",
        "3.14159",
        "1e65536",
        "1e99999999999999999999",
        "1e-99999999999999999999",
        "0e99999999999999999999",
        "0.000000000000000000000000001e27",
    ] {
        assert_agree(text);
    }
}

#[test]
fn long_mantissas_read_the_same() {
    for digits in [700usize, 767, 768, 769, 800, 2000] {
        for lead in ["1", "9", "0.", "0.000", "4"] {
            for tail in ["", "1", "5", "50", "e-300", "e300", "e-800"] {
                assert_agree(&format!("{lead}{}{tail}", "9".repeat(digits)));
                assert_agree(&format!(
                    "{lead}{}5{}1{tail}",
                    "0".repeat(digits),
                    "0".repeat(digits)
                ));
            }
        }
    }
    // A halfway case decided by a digit past the 768 kept: the truncated flag must round up.
    let half = midpoint_text(1.0);
    assert_agree(&half);
    assert_agree(&format!("{half}{}1", "0".repeat(900)));
}

fn any_double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |x| x.is_finite()),
        (0u64..1 << 20).prop_map(|m| m as f64 / 1000.0),
        (0u64..(1 << 52)).prop_map(f64::from_bits), // subnormals
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn printed_doubles_read_the_same(x in any_double(), digits in 17usize..40) {
        assert_agree(&x.to_string());
        assert_agree(&format!("{x:e}"));
        assert_agree(&format!("{x:.digits$e}"));
        assert_agree(&format!("{:.digits$e}", -x));
    }

    #[test]
    fn halfway_points_read_the_same(x in any_double().prop_filter("below max", |x| *x < f64::MAX)) {
        let half = midpoint_text(x.abs());
        assert_agree(&half);
        // And just either side of it.
        assert_agree(&format!("{half}000001"));
        let below = match half.strip_suffix('5') { Some(rest) => format!("{rest}49999"), None => half.clone() };
        assert_agree(&below);
    }

    #[test]
    fn grammar_shaped_texts_read_the_same(
        sign in "[+-]?", int in "[0-9]{0,25}", dot in "\\.?", frac in "[0-9]{0,25}",
        exp in "([eE][+-]?[0-9]{1,4})?",
    ) {
        assert_agree(&format!("{sign}{int}{dot}{frac}{exp}"));
    }

    #[test]
    fn random_texts_read_the_same(text in "[0-9.eE+\\-infatyINFATY ]{0,12}") {
        assert_agree(&text);
    }
}

/// Decided (fuzzing, issue 15): where std's exponent saturation makes it wrong, the reader
/// gives the correctly rounded value, not std's.
#[test]
fn exponents_are_read_whole() {
    let ones = |zeros: usize, tail: &str| format!("1{}{tail}", "0".repeat(zeros));
    // 1 followed by 655,360 zeros, times 10^-655360: exactly 1 (std: infinity).
    assert_eq!(parse_f64(&ones(655_360, "e-655360")), Some(1.0));
    assert_eq!(parse_f64(&format!("-{}", ones(655_360, "e-655360"))), Some(-1.0));
    // 10^-655360 written out, times 10^655360: exactly 1 (std: 0).
    assert_eq!(parse_f64(&format!("0.{}1e655360", "0".repeat(655_359))), Some(1.0));
    // The same through the fast path: one significant digit after 65,550 zeros, times
    // 10^65560, is 10^9 (with a saturated exponent it came out as 10^5).
    assert_eq!(parse_f64(&format!("0.{}1e65560", "0".repeat(65_550))), Some(1e9));
    // A huge exponent still wins over any text that fits in memory.
    assert_eq!(parse_f64(&ones(70_000, "e-99999999999999999999")), Some(0.0));
    assert_eq!(parse_f64(&format!("0.{}1e99999999999999999999", "0".repeat(70_000))), Some(f64::INFINITY));
    // Below the saturation both agree, as everywhere else.
    assert_agree(&ones(1000, "e-1000"));
    assert_agree(&format!("0.{}1e1001", "0".repeat(1000)));
}

/// Decided: a halfway value with more than 768 digits rounds half to even, as std does
/// (serde_json with `float_roundtrip` rounds this one up; see json_reader_agrees.rs).
#[test]
fn a_halfway_value_past_768_digits_rounds_to_even() {
    let text = format!("1{}e-745", "0".repeat(768)); // exactly 10^23, halfway between two doubles
    assert_eq!(parse_f64(&text), Some(1e23));
    assert_agree(&text);
}
