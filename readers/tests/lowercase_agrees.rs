//! The engine's lower case (`case::to_lowercase`, what `case_insensitive` operators compare)
//! must equal `str::to_lowercase` for every char, and for the final-sigma rule in every
//! context that decides it: each char before and after a `Σ`, next to a cased letter.
//!
//! When this fails after a Rust upgrade (a new Unicode version), regenerate the tables:
//! `cargo run -p edgeflag-readers --example lowercase_tables > readers/src/lowercase_tables.rs`.

use edgeflag_readers::lowercase::to_lowercase;
use proptest::prelude::*;

fn assert_agree(text: &str) {
    assert_eq!(
        to_lowercase(text),
        text.to_lowercase(),
        "{text:?} ({:x?})",
        text.chars().map(u32::from).collect::<Vec<_>>()
    );
}

#[test]
fn every_char_lowers_as_in_std() {
    let mut text = String::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        // c alone; c before a final Σ with and without a cased letter before it (Case_Ignorable
        // and Cased decide); c after a Σ, alone and before a cased letter.
        for (before, after) in [("", ""), ("", "Σ"), ("A", "Σ"), ("AΣ", ""), ("AΣ", "a")] {
            text.clear();
            text.push_str(before);
            text.push(c);
            text.push_str(after);
            assert_agree(&text);
        }
    }
}

#[test]
fn known_texts_lower_as_in_std() {
    for text in [
        "",
        "ASCII Only",
        "ΟΔΟΣ",
        "ΟΔΟΣ ΟΔΟΣ.",
        "Σ",
        "ΑΣ",
        "ΣΑ",
        "Α'Σ",
        "Α.Σ'",
        "ΑΣ'Α",
        "Α\u{301}Σ",
        "İSTANBUL",
        "ǅUNGLA",
        "ΑΣ\u{345}",
        "ẞ",
        "KELVIN \u{212A}",
        "Ꭰ",
        "𐐀𐐁",
        "🙂Σ",
        "ÀÉÎÕÜ",
    ] {
        assert_agree(text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Runs of letters, marks and punctuation around sigmas: the final-sigma rule looks past
    /// any number of case-ignorable chars on both sides.
    #[test]
    fn mixed_texts_lower_as_in_std(text in "[AaΣσςΑαİ'.:\u{301}\u{345}\u{2019} 1ǅ\u{10400}\u{13A0}-]{0,12}") {
        assert_agree(&text);
    }

    #[test]
    fn any_texts_lower_as_in_std(text in "\\PC{0,16}") {
        assert_agree(&text);
    }
}
