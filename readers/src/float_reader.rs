//! Decimal text to `f64`, correctly rounded, read exactly as `str::parse::<f64>` reads it: the
//! JSON reader's floats and the numeric strings the number operators compare.
//!
//! Why not std's parser: it is Eisel–Lemire over a 10 KB table of 128-bit powers of five, and
//! those random bits do not compress (the cost in the WASM module: wasm/README.md "Size").
//! This is Clinger's exact fast path, which takes the numbers flag files and attributes hold
//! (up to 19 digits, exponents up to ±22), in front of std's own always-exact fallback, the
//! decimal-shift algorithm of Lemire's "Processing Long Numbers Quickly" (arXiv 2101.11408,
//! section 11), ported from `core::num::dec2flt::{decimal_seq, slow}` (MIT/Apache-2.0).
//! `tests/float_reader_agrees.rs` checks it bit for bit against std on generated text, and the
//! `float_reader` fuzz target (fuzz/README.md) against std under coverage guidance.
//!
//! One deliberate difference from std: **exponents are read whole**. std stops adding exponent
//! digits once the exponent reaches 65,536 (past it any short number is zero or infinite), so
//! where the digits themselves make up for a huge exponent it is wrong: `"1"` + 655,360 zeros +
//! `"e-655360"` is 1, and std says infinity; `"0."` + 655,359 zeros + `"1e655360"` is 1, and
//! std says 0. Here the exponent saturates at 2^50 instead, beyond what any text's digit
//! count can make up for (it would need 2^50 bytes), so every text in the grammar gets the
//! correctly rounded value. Where std saturates, the tests and the fuzz target compare with
//! std's parse of the same number written short (`oracle` in fuzz/src/checks.rs).

/// The value of `text` in Rust's float grammar (`[+-]?` then digits with an optional `.` and
/// exponent, or `inf`, `infinity`, `nan` in any case), or `None` where `str::parse` refuses it.
/// Too large a value is infinite and too small a value is zero, as in std.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn parse_f64(text: &str) -> Option<f64> {
    let mut s = text.as_bytes();
    let negative = s.first() == Some(&b'-');
    if let Some(b'+' | b'-') = s.first() {
        s = &s[1..];
    }
    let magnitude = match special(s) {
        Some(value) => value,
        None => magnitude(s)?,
    };
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn special(s: &[u8]) -> Option<f64> {
    if s.eq_ignore_ascii_case(b"inf") || s.eq_ignore_ascii_case(b"infinity") {
        Some(f64::INFINITY)
    } else if s.eq_ignore_ascii_case(b"nan") {
        Some(f64::NAN)
    } else {
        None
    }
}

/// Digits with an optional `.` (at least one digit on either side) and `[eE][+-]?digits`.
#[cfg_attr(edgeflag_size, optimize(size))]
fn magnitude(s: &[u8]) -> Option<f64> {
    let digits_end =
        |from: usize| from + s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let integer_end = digits_end(0);
    let (fraction, mut end) = match s.get(integer_end) {
        Some(b'.') => {
            let fraction_end = digits_end(integer_end + 1);
            (&s[integer_end + 1..fraction_end], fraction_end)
        }
        _ => (&s[..0], integer_end),
    };
    let integer = &s[..integer_end];
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut exponent: i64 = 0;
    if let Some(b'e' | b'E') = s.get(end) {
        let negative = s.get(end + 1) == Some(&b'-');
        let digits_start = end + 1 + usize::from(matches!(s.get(end + 1), Some(b'+' | b'-')));
        end = digits_end(digits_start);
        if end == digits_start {
            return None;
        }
        for &d in &s[digits_start..end] {
            exponent = add_exponent_digit(exponent, d);
        }
        if negative {
            exponent = -exponent;
        }
    }
    if end != s.len() {
        return None;
    }
    let exponent = exponent - fraction.len() as i64;
    Some(match fast_path(integer, fraction, exponent) {
        Some(value) => value,
        None => f64::from_bits(decimal_shift(s)),
    })
}

/// The exponent so far with one more digit, saturated at 2^50: a value no text can make up
/// for with its digits (std saturates at 65,536, which long texts can; see the module docs).
fn add_exponent_digit(exponent: i64, digit: u8) -> i64 {
    const SATURATED: i64 = 1 << 50;
    if exponent < SATURATED {
        10 * exponent + i64::from(digit - b'0')
    } else {
        exponent
    }
}

/// Clinger: a mantissa of at most 53 bits times or over an exactly representable power of
/// ten is one correctly rounded IEEE operation. `None` when the number is not of that shape.
#[cfg_attr(edgeflag_size, optimize(size))]
fn fast_path(integer: &[u8], fraction: &[u8], exponent: i64) -> Option<f64> {
    const MAX_MANTISSA: u64 = 1 << 53;
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let mut mantissa: u64 = 0;
    for &d in integer.iter().chain(fraction) {
        mantissa = mantissa.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if mantissa > MAX_MANTISSA || !(-22..=22 + 15).contains(&exponent) {
        return None;
    }
    if exponent < 0 {
        return Some(mantissa as f64 / POW10[(-exponent) as usize]);
    }
    if exponent <= 22 {
        return Some(mantissa as f64 * POW10[exponent as usize]);
    }
    // "Disguised": 12e30 is 12000000000e22, still exact if the mantissa stays within 53 bits.
    let shifted = mantissa.checked_mul(10u64.pow((exponent - 22) as u32))?;
    (shifted <= MAX_MANTISSA).then(|| shifted as f64 * POW10[22])
}

const SIG_BITS: u32 = 52;
const EXP_MIN: i32 = -1022;
const INFINITE_POWER: i32 = 0x7FF;
const INFINITY_BITS: u64 = (INFINITE_POWER as u64) << SIG_BITS;

/// The bits of the nearest `f64` to the (validated) unsigned decimal text `s`: shift the
/// decimal by powers of two into [1/2, 1), then round off the mantissa's bits.
#[cfg_attr(edgeflag_size, optimize(size))]
fn decimal_shift(s: &[u8]) -> u64 {
    const MAX_SHIFT: usize = 60;
    const POWERS: [u8; 19] = [
        0, 3, 6, 9, 13, 16, 19, 23, 26, 29, 33, 36, 39, 43, 46, 49, 53, 56, 59,
    ];
    let shift_for = |n: usize| POWERS.get(n).map_or(MAX_SHIFT, |&p| usize::from(p));

    let mut d = Decimal::parse(s);
    if d.num_digits == 0 || d.decimal_point < -324 {
        return 0;
    } else if d.decimal_point >= 310 {
        return INFINITY_BITS;
    }
    let mut exp2: i32 = 0;
    while d.decimal_point > 0 {
        let shift = shift_for(d.decimal_point as usize);
        d.right_shift(shift);
        if d.decimal_point < -Decimal::DECIMAL_POINT_RANGE {
            return 0;
        }
        exp2 += shift as i32;
    }
    while d.decimal_point <= 0 {
        let shift = if d.decimal_point == 0 {
            match d.digits[0] {
                digit if digit >= 5 => break,
                0 | 1 => 2,
                _ => 1,
            }
        } else {
            shift_for((-d.decimal_point) as usize)
        };
        d.left_shift(shift);
        if d.decimal_point > Decimal::DECIMAL_POINT_RANGE {
            return INFINITY_BITS;
        }
        exp2 -= shift as i32;
    }
    // In [1/2, 1) now; the binary format's mantissa is in [1, 2).
    exp2 -= 1;
    while EXP_MIN > exp2 {
        let n = ((EXP_MIN - exp2) as usize).min(MAX_SHIFT);
        d.right_shift(n);
        exp2 += n as i32;
    }
    if exp2 - EXP_MIN + 1 >= INFINITE_POWER {
        return INFINITY_BITS;
    }
    d.left_shift(SIG_BITS as usize + 1);
    let mut mantissa = d.round();
    if mantissa >= 1 << (SIG_BITS + 1) {
        // Rounding carried into a new bit: one more right shift.
        d.right_shift(1);
        exp2 += 1;
        mantissa = d.round();
        if exp2 - EXP_MIN + 1 >= INFINITE_POWER {
            return INFINITY_BITS;
        }
    }
    let mut power2 = exp2 - EXP_MIN + 1;
    if mantissa < 1 << SIG_BITS {
        power2 -= 1; // subnormal
    }
    (mantissa & ((1 << SIG_BITS) - 1)) | ((power2 as u64) << SIG_BITS)
}

/// Up to 768 significant decimal digits (enough to round any `f64` exactly; `truncated`
/// remembers nonzero digits past them) and where the decimal point sits.
struct Decimal {
    num_digits: usize,
    decimal_point: i32,
    truncated: bool,
    digits: [u8; Decimal::MAX_DIGITS],
}

impl Decimal {
    const MAX_DIGITS: usize = 768;
    const MAX_DIGITS_WITHOUT_OVERFLOW: usize = 19;
    const DECIMAL_POINT_RANGE: i32 = 2047;

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn push_digit(&mut self, digit: u8) {
        if self.num_digits < Self::MAX_DIGITS {
            self.digits[self.num_digits] = digit;
        }
        self.num_digits += 1;
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn trim(&mut self) {
        while self.num_digits != 0 && self.digits[self.num_digits - 1] == 0 {
            self.num_digits -= 1;
        }
    }

    /// `digits[.digits][(e|E)[+-]digits]`, already validated by the caller.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn parse(mut s: &[u8]) -> Decimal {
        let mut d = Decimal {
            num_digits: 0,
            decimal_point: 0,
            truncated: false,
            digits: [0; Self::MAX_DIGITS],
        };
        // In i64 while reading: digit counts and exponents of long texts overflow an i32.
        let mut decimal_point: i64 = 0;
        let start = s;
        while let Some((&b'0', rest)) = s.split_first() {
            s = rest;
        }
        while let Some((&c @ b'0'..=b'9', rest)) = s.split_first() {
            d.push_digit(c - b'0');
            s = rest;
        }
        if let Some((b'.', rest)) = s.split_first() {
            s = rest;
            let first = s;
            if d.num_digits == 0 {
                while let Some((&b'0', rest)) = s.split_first() {
                    s = rest;
                }
            }
            while let Some((&c @ b'0'..=b'9', rest)) = s.split_first() {
                d.push_digit(c - b'0');
                s = rest;
            }
            decimal_point = s.len() as i64 - first.len() as i64;
        }
        if d.num_digits != 0 {
            // Trailing zeros are not significant digits.
            let mut trailing_zeros = 0;
            for &c in start[..start.len() - s.len()].iter().rev() {
                if c == b'0' {
                    trailing_zeros += 1;
                } else if c != b'.' {
                    break;
                }
            }
            decimal_point += trailing_zeros as i64;
            d.num_digits -= trailing_zeros;
            decimal_point += d.num_digits as i64;
            if d.num_digits > Self::MAX_DIGITS {
                d.truncated = true;
                d.num_digits = Self::MAX_DIGITS;
            }
        }
        if let Some((b'e' | b'E', rest)) = s.split_first() {
            s = rest;
            let negative = s.first() == Some(&b'-');
            if let Some(b'+' | b'-') = s.first() {
                s = &s[1..];
            }
            let mut exponent: i64 = 0;
            for &c in s.iter().take_while(|c| c.is_ascii_digit()) {
                exponent = add_exponent_digit(exponent, c);
            }
            decimal_point += if negative { -exponent } else { exponent };
        }
        // Past ±2^20 the value is zero or infinite whatever the digits (`decimal_shift` stops
        // at 310 and -324), so the clamp only keeps the shifts' i32 arithmetic in range.
        d.decimal_point = decimal_point.clamp(-(1 << 20), 1 << 20) as i32;
        for digit in d
            .digits
            .iter_mut()
            .take(Self::MAX_DIGITS_WITHOUT_OVERFLOW)
            .skip(d.num_digits)
        {
            *digit = 0;
        }
        d
    }

    /// The integer part, rounded half to even (half up when digits were truncated).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn round(&self) -> u64 {
        if self.num_digits == 0 || self.decimal_point < 0 {
            return 0;
        } else if self.decimal_point >= Self::MAX_DIGITS_WITHOUT_OVERFLOW as i32 {
            return u64::MAX;
        }
        let dp = self.decimal_point as usize;
        let mut n = 0_u64;
        for i in 0..dp {
            n *= 10;
            if i < self.num_digits {
                n += u64::from(self.digits[i]);
            }
        }
        let mut round_up = false;
        if dp < self.num_digits {
            round_up = self.digits[dp] >= 5;
            if self.digits[dp] == 5 && dp + 1 == self.num_digits {
                round_up = self.truncated || (dp != 0 && self.digits[dp - 1] & 1 != 0);
            }
        }
        n + u64::from(round_up)
    }

    /// Multiplies by `2^shift` (at most 60).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn left_shift(&mut self, shift: usize) {
        if self.num_digits == 0 {
            return;
        }
        let new_digits = self.new_digits_of_left_shift(shift);
        let mut read = self.num_digits;
        let mut write = self.num_digits + new_digits;
        let mut n = 0_u64;
        while read != 0 {
            read -= 1;
            write -= 1;
            n += u64::from(self.digits[read]) << shift;
            self.put_digit(write, n % 10);
            n /= 10;
        }
        while n > 0 {
            write -= 1;
            self.put_digit(write, n % 10);
            n /= 10;
        }
        self.num_digits = (self.num_digits + new_digits).min(Self::MAX_DIGITS);
        self.decimal_point += new_digits as i32;
        self.trim();
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn put_digit(&mut self, at: usize, digit: u64) {
        if at < Self::MAX_DIGITS {
            self.digits[at] = digit as u8;
        } else if digit > 0 {
            self.truncated = true;
        }
    }

    /// Divides by `2^shift` (at most 60).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn right_shift(&mut self, shift: usize) {
        let mut read = 0;
        let mut write = 0;
        let mut n = 0_u64;
        while n >> shift == 0 {
            if read < self.num_digits {
                n = 10 * n + u64::from(self.digits[read]);
                read += 1;
            } else if n == 0 {
                return;
            } else {
                while n >> shift == 0 {
                    n *= 10;
                    read += 1;
                }
                break;
            }
        }
        self.decimal_point -= read as i32 - 1;
        if self.decimal_point < -Self::DECIMAL_POINT_RANGE {
            self.num_digits = 0;
            self.decimal_point = 0;
            self.truncated = false;
            return;
        }
        let mask = (1_u64 << shift) - 1;
        while read < self.num_digits {
            let digit = (n >> shift) as u8;
            n = 10 * (n & mask) + u64::from(self.digits[read]);
            read += 1;
            self.digits[write] = digit;
            write += 1;
        }
        while n > 0 {
            let digit = (n >> shift) as u8;
            n = 10 * (n & mask);
            if write < Self::MAX_DIGITS {
                self.digits[write] = digit;
                write += 1;
            } else if digit > 0 {
                self.truncated = true;
            }
        }
        self.num_digits = write;
        self.trim();
    }

    /// How many digits multiplying by `2^shift` adds: the digit count of `2^shift`, less one
    /// when the digits sort below those of `5^shift` (std's table, from Wuffs).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn new_digits_of_left_shift(&self, shift: usize) -> usize {
        #[rustfmt::skip]
        const TABLE: [u16; 65] = [
            0x0000, 0x0800, 0x0801, 0x0803, 0x1006, 0x1009, 0x100D, 0x1812, 0x1817, 0x181D, 0x2024,
            0x202B, 0x2033, 0x203C, 0x2846, 0x2850, 0x285B, 0x3067, 0x3073, 0x3080, 0x388E, 0x389C,
            0x38AB, 0x38BB, 0x40CC, 0x40DD, 0x40EF, 0x4902, 0x4915, 0x4929, 0x513E, 0x5153, 0x5169,
            0x5180, 0x5998, 0x59B0, 0x59C9, 0x61E3, 0x61FD, 0x6218, 0x6A34, 0x6A50, 0x6A6D, 0x6A8B,
            0x72AA, 0x72C9, 0x72E9, 0x7B0A, 0x7B2B, 0x7B4D, 0x8370, 0x8393, 0x83B7, 0x83DC, 0x8C02,
            0x8C28, 0x8C4F, 0x9477, 0x949F, 0x94C8, 0x9CF2, 0x051C, 0x051C, 0x051C, 0x051C,
        ];
        let shift = shift & 63;
        let (a, b) = (TABLE[shift], TABLE[shift + 1]);
        let new_digits = usize::from(a >> 11);
        let pow5 = POW5_DIGITS
            .get(usize::from(a & 0x7FF)..usize::from(b & 0x7FF))
            .unwrap_or_default();
        for (i, &p) in pow5.iter().enumerate() {
            if i >= self.num_digits || self.digits[i] < p {
                return new_digits - 1;
            } else if self.digits[i] > p {
                return new_digits;
            }
        }
        new_digits
    }
}

/// The decimal digits of 5^1, 5^2, ... 5^60, one after another.
#[rustfmt::skip]
const POW5_DIGITS: [u8; 0x051C] = [
    5, 2, 5, 1, 2, 5, 6, 2, 5, 3, 1, 2, 5, 1, 5, 6, 2, 5, 7, 8, 1, 2, 5, 3, 9, 0, 6, 2, 5, 1,
    9, 5, 3, 1, 2, 5, 9, 7, 6, 5, 6, 2, 5, 4, 8, 8, 2, 8, 1, 2, 5, 2, 4, 4, 1, 4, 0, 6, 2, 5,
    1, 2, 2, 0, 7, 0, 3, 1, 2, 5, 6, 1, 0, 3, 5, 1, 5, 6, 2, 5, 3, 0, 5, 1, 7, 5, 7, 8, 1, 2,
    5, 1, 5, 2, 5, 8, 7, 8, 9, 0, 6, 2, 5, 7, 6, 2, 9, 3, 9, 4, 5, 3, 1, 2, 5, 3, 8, 1, 4, 6,
    9, 7, 2, 6, 5, 6, 2, 5, 1, 9, 0, 7, 3, 4, 8, 6, 3, 2, 8, 1, 2, 5, 9, 5, 3, 6, 7, 4, 3, 1,
    6, 4, 0, 6, 2, 5, 4, 7, 6, 8, 3, 7, 1, 5, 8, 2, 0, 3, 1, 2, 5, 2, 3, 8, 4, 1, 8, 5, 7, 9,
    1, 0, 1, 5, 6, 2, 5, 1, 1, 9, 2, 0, 9, 2, 8, 9, 5, 5, 0, 7, 8, 1, 2, 5, 5, 9, 6, 0, 4, 6,
    4, 4, 7, 7, 5, 3, 9, 0, 6, 2, 5, 2, 9, 8, 0, 2, 3, 2, 2, 3, 8, 7, 6, 9, 5, 3, 1, 2, 5, 1,
    4, 9, 0, 1, 1, 6, 1, 1, 9, 3, 8, 4, 7, 6, 5, 6, 2, 5, 7, 4, 5, 0, 5, 8, 0, 5, 9, 6, 9, 2,
    3, 8, 2, 8, 1, 2, 5, 3, 7, 2, 5, 2, 9, 0, 2, 9, 8, 4, 6, 1, 9, 1, 4, 0, 6, 2, 5, 1, 8, 6,
    2, 6, 4, 5, 1, 4, 9, 2, 3, 0, 9, 5, 7, 0, 3, 1, 2, 5, 9, 3, 1, 3, 2, 2, 5, 7, 4, 6, 1, 5,
    4, 7, 8, 5, 1, 5, 6, 2, 5, 4, 6, 5, 6, 6, 1, 2, 8, 7, 3, 0, 7, 7, 3, 9, 2, 5, 7, 8, 1, 2,
    5, 2, 3, 2, 8, 3, 0, 6, 4, 3, 6, 5, 3, 8, 6, 9, 6, 2, 8, 9, 0, 6, 2, 5, 1, 1, 6, 4, 1, 5,
    3, 2, 1, 8, 2, 6, 9, 3, 4, 8, 1, 4, 4, 5, 3, 1, 2, 5, 5, 8, 2, 0, 7, 6, 6, 0, 9, 1, 3, 4,
    6, 7, 4, 0, 7, 2, 2, 6, 5, 6, 2, 5, 2, 9, 1, 0, 3, 8, 3, 0, 4, 5, 6, 7, 3, 3, 7, 0, 3, 6,
    1, 3, 2, 8, 1, 2, 5, 1, 4, 5, 5, 1, 9, 1, 5, 2, 2, 8, 3, 6, 6, 8, 5, 1, 8, 0, 6, 6, 4, 0,
    6, 2, 5, 7, 2, 7, 5, 9, 5, 7, 6, 1, 4, 1, 8, 3, 4, 2, 5, 9, 0, 3, 3, 2, 0, 3, 1, 2, 5, 3,
    6, 3, 7, 9, 7, 8, 8, 0, 7, 0, 9, 1, 7, 1, 2, 9, 5, 1, 6, 6, 0, 1, 5, 6, 2, 5, 1, 8, 1, 8,
    9, 8, 9, 4, 0, 3, 5, 4, 5, 8, 5, 6, 4, 7, 5, 8, 3, 0, 0, 7, 8, 1, 2, 5, 9, 0, 9, 4, 9, 4,
    7, 0, 1, 7, 7, 2, 9, 2, 8, 2, 3, 7, 9, 1, 5, 0, 3, 9, 0, 6, 2, 5, 4, 5, 4, 7, 4, 7, 3, 5,
    0, 8, 8, 6, 4, 6, 4, 1, 1, 8, 9, 5, 7, 5, 1, 9, 5, 3, 1, 2, 5, 2, 2, 7, 3, 7, 3, 6, 7, 5,
    4, 4, 3, 2, 3, 2, 0, 5, 9, 4, 7, 8, 7, 5, 9, 7, 6, 5, 6, 2, 5, 1, 1, 3, 6, 8, 6, 8, 3, 7,
    7, 2, 1, 6, 1, 6, 0, 2, 9, 7, 3, 9, 3, 7, 9, 8, 8, 2, 8, 1, 2, 5, 5, 6, 8, 4, 3, 4, 1, 8,
    8, 6, 0, 8, 0, 8, 0, 1, 4, 8, 6, 9, 6, 8, 9, 9, 4, 1, 4, 0, 6, 2, 5, 2, 8, 4, 2, 1, 7, 0,
    9, 4, 3, 0, 4, 0, 4, 0, 0, 7, 4, 3, 4, 8, 4, 4, 9, 7, 0, 7, 0, 3, 1, 2, 5, 1, 4, 2, 1, 0,
    8, 5, 4, 7, 1, 5, 2, 0, 2, 0, 0, 3, 7, 1, 7, 4, 2, 2, 4, 8, 5, 3, 5, 1, 5, 6, 2, 5, 7, 1,
    0, 5, 4, 2, 7, 3, 5, 7, 6, 0, 1, 0, 0, 1, 8, 5, 8, 7, 1, 1, 2, 4, 2, 6, 7, 5, 7, 8, 1, 2,
    5, 3, 5, 5, 2, 7, 1, 3, 6, 7, 8, 8, 0, 0, 5, 0, 0, 9, 2, 9, 3, 5, 5, 6, 2, 1, 3, 3, 7, 8,
    9, 0, 6, 2, 5, 1, 7, 7, 6, 3, 5, 6, 8, 3, 9, 4, 0, 0, 2, 5, 0, 4, 6, 4, 6, 7, 7, 8, 1, 0,
    6, 6, 8, 9, 4, 5, 3, 1, 2, 5, 8, 8, 8, 1, 7, 8, 4, 1, 9, 7, 0, 0, 1, 2, 5, 2, 3, 2, 3, 3,
    8, 9, 0, 5, 3, 3, 4, 4, 7, 2, 6, 5, 6, 2, 5, 4, 4, 4, 0, 8, 9, 2, 0, 9, 8, 5, 0, 0, 6, 2,
    6, 1, 6, 1, 6, 9, 4, 5, 2, 6, 6, 7, 2, 3, 6, 3, 2, 8, 1, 2, 5, 2, 2, 2, 0, 4, 4, 6, 0, 4,
    9, 2, 5, 0, 3, 1, 3, 0, 8, 0, 8, 4, 7, 2, 6, 3, 3, 3, 6, 1, 8, 1, 6, 4, 0, 6, 2, 5, 1, 1,
    1, 0, 2, 2, 3, 0, 2, 4, 6, 2, 5, 1, 5, 6, 5, 4, 0, 4, 2, 3, 6, 3, 1, 6, 6, 8, 0, 9, 0, 8,
    2, 0, 3, 1, 2, 5, 5, 5, 5, 1, 1, 1, 5, 1, 2, 3, 1, 2, 5, 7, 8, 2, 7, 0, 2, 1, 1, 8, 1, 5,
    8, 3, 4, 0, 4, 5, 4, 1, 0, 1, 5, 6, 2, 5, 2, 7, 7, 5, 5, 5, 7, 5, 6, 1, 5, 6, 2, 8, 9, 1,
    3, 5, 1, 0, 5, 9, 0, 7, 9, 1, 7, 0, 2, 2, 7, 0, 5, 0, 7, 8, 1, 2, 5, 1, 3, 8, 7, 7, 7, 8,
    7, 8, 0, 7, 8, 1, 4, 4, 5, 6, 7, 5, 5, 2, 9, 5, 3, 9, 5, 8, 5, 1, 1, 3, 5, 2, 5, 3, 9, 0,
    6, 2, 5, 6, 9, 3, 8, 8, 9, 3, 9, 0, 3, 9, 0, 7, 2, 2, 8, 3, 7, 7, 6, 4, 7, 6, 9, 7, 9, 2,
    5, 5, 6, 7, 6, 2, 6, 9, 5, 3, 1, 2, 5, 3, 4, 6, 9, 4, 4, 6, 9, 5, 1, 9, 5, 3, 6, 1, 4, 1,
    8, 8, 8, 2, 3, 8, 4, 8, 9, 6, 2, 7, 8, 3, 8, 1, 3, 4, 7, 6, 5, 6, 2, 5, 1, 7, 3, 4, 7, 2,
    3, 4, 7, 5, 9, 7, 6, 8, 0, 7, 0, 9, 4, 4, 1, 1, 9, 2, 4, 4, 8, 1, 3, 9, 1, 9, 0, 6, 7, 3,
    8, 2, 8, 1, 2, 5, 8, 6, 7, 3, 6, 1, 7, 3, 7, 9, 8, 8, 4, 0, 3, 5, 4, 7, 2, 0, 5, 9, 6, 2,
    2, 4, 0, 6, 9, 5, 9, 5, 3, 3, 6, 9, 1, 4, 0, 6, 2, 5,
];
