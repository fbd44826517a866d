//! Lower case for the `case_insensitive` operators: exactly `str::to_lowercase`, from tables
//! a fifth the size of std's.
//!
//! Why not std's: its lower-case path (a 1,462-entry char table, the Case_Ignorable and Cased
//! sets for the final-sigma rule, and their code) weighs on the size-budgeted WASM module
//! (wasm/README.md "Size"). Unicode's lower-case mappings come in runs (A–Z, Ā ā Ă ă …, Cyrillic, Deseret),
//! so `lowercase_tables.rs` stores 184 runs and two interval lists instead, generated from std by
//! `examples/lowercase_tables.rs`; `tests/lowercase_agrees.rs` checks every char against std.

use crate::lowercase_tables::{CASED, CASE_IGNORABLE, LOWER_RUNS};

/// `text.to_lowercase()`, char for char (including `İ` → `i̇` and the final-sigma rule).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn to_lowercase(text: &str) -> String {
    let mut lower = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        match c {
            _ if c.is_ascii() => lower.push(c.to_ascii_lowercase()),
            'Σ' => lower.push(if is_word_final(text, i) { 'ς' } else { 'σ' }),
            'İ' => lower.push_str("i\u{307}"),
            _ => lower.push(lower_char(c)),
        }
    }
    lower
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn lower_char(c: char) -> char {
    let cp = u32::from(c);
    let run = LOWER_RUNS.partition_point(|&(packed, _)| packed >> 8 <= cp);
    let Some(&(packed, delta)) = run.checked_sub(1).and_then(|r| LOWER_RUNS.get(r)) else {
        return c;
    };
    let (first, count, stride) = (packed >> 8, (packed >> 1) & 0x7F, 1 + (packed & 1));
    let offset = cp - first;
    if offset % stride == 0 && offset / stride < count {
        char::from_u32(cp.wrapping_add_signed(delta)).unwrap_or(c)
    } else {
        c
    }
}

/// Unicode's Final_Sigma: a cased letter before (past case-ignorable ones), none after.
#[cfg_attr(edgeflag_size, optimize(size))]
fn is_word_final(text: &str, sigma_at: usize) -> bool {
    let before = text.get(..sigma_at).unwrap_or_default().chars().rev();
    let after = text
        .get(sigma_at + 'Σ'.len_utf8()..)
        .unwrap_or_default()
        .chars();
    ignorable_then_cased(before) && !ignorable_then_cased(after)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn ignorable_then_cased(mut chars: impl Iterator<Item = char>) -> bool {
    chars
        .find(|&c| !in_ranges(&CASE_IGNORABLE, c))
        .is_some_and(|c| in_ranges(&CASED, c))
}

/// Whether `c` is in one of `ranges` (sorted, each `start << 11 | (last - start)`).
#[cfg_attr(edgeflag_size, optimize(size))]
fn in_ranges(ranges: &[u32], c: char) -> bool {
    let cp = u32::from(c);
    let after = ranges.partition_point(|&packed| packed >> 11 <= cp);
    after
        .checked_sub(1)
        .and_then(|r| ranges.get(r))
        .is_some_and(|&packed| cp - (packed >> 11) <= packed & 0x7FF)
}
