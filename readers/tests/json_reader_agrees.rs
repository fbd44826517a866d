//! The engine's JSON reader (`json_reader::parse`) must read text exactly as serde_json does:
//! the same documents accepted, into the same values, and the same documents refused, with
//! serde_json's message, line and column. (The server and Rust callers use serde_json; edges
//! and browsers use this reader through WASM; a flag file or context must mean the same.)
//!
//! serde_json here has `float_roundtrip` (a dev-dependency feature, see Cargo.toml), so its
//! floats are correctly rounded as the reader's are; without it serde_json may be one unit in
//! the last place off on long mantissas, and the comparison would fail for that reason alone.
//! Even with it serde_json misrounds a halfway value written with more than 768 digits; there
//! the reader is correctly rounded and std's `parse` is the reference
//! (`where_serde_json_misrounds_std_decides`, and the `json_reader` fuzz target).
//!
//! Documents: generated JSON values (written compactly and pretty), the same with one byte
//! deleted, inserted or replaced (mostly broken documents, at every kind of place), and a
//! hand-written list of the grammar's edges.

use edgeflag_readers::json_reader::{self, Json};
use proptest::prelude::*;
use serde_json::Value;

/// Both readers' answers: the value, or the message of the refusal.
fn both(text: &str) -> (Result<Value, String>, Result<Value, String>) {
    let ours = json_reader::parse(text)
        .map(Json::into_value)
        .map_err(|e| e.message);
    let theirs = serde_json::from_str::<Value>(text).map_err(|e| e.to_string());
    (ours, theirs)
}

fn assert_agree(text: &str) {
    let (ours, theirs) = both(text);
    assert_eq!(ours, theirs, "document {text:?}");
    // Same value, and a float stays a float: `1.0` and `1` differ in the answers edges serve.
    if let (Ok(a), Ok(b)) = (&ours, &theirs) {
        assert_eq!(a.to_string(), b.to_string(), "document {text:?}");
    }
}

#[test]
fn the_grammar_edges_read_the_same() {
    let deep_ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
    let deep_refused = format!("{}{}", "[".repeat(128), "]".repeat(128));
    let deep_objects = format!("{}1{}", r#"{"a":"#.repeat(130), "}".repeat(130));
    let cases: Vec<&str> = vec![
        "",
        " ",
        "\n\n",
        "null",
        "true",
        "false",
        "nul",
        "tru",
        "fals",
        "nulx",
        "truex",
        // numbers
        "0",
        "-0",
        "-0.0",
        "0.0",
        "1",
        "-1",
        "01",
        "-01",
        "1.",
        "1.e5",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "1E+2",
        "1e-2",
        "0e0",
        "1e400",
        "-1e400",
        "1e-400",
        "123456789012345678901234567890",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "9007199254740993",
        "0.1",
        "0.30000000000000004",
        "2.2250738585072011e-308",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "4.9e-324",
        "2.4703282292062328e-324",
        "1.00000000000000011102230246251565404236316680908203125",
        "1e99999999999999999999",
        "0e99999999999999999999",
        "1e-99999999999999999999",
        "[1x]",
        "1 2",
        // strings
        r#""""#,
        r#""abc""#,
        r#""é日本語🎉""#,
        r#""\"\\\/\b\f\n\r\t""#,
        r#""\u0041\u00e9\u65e5""#,
        r#""\ud83c\udf89""#,
        r#""\uD83C\uDF89""#,
        r#""\ud83c""#,
        r#""\ud83cx""#,
        r#""\ud83c\n""#,
        r#""\ud83c\u0041""#,
        r#""\udf89""#,
        r#""\ud83c\ud83c""#,
        r#""\u00""#,
        r#""\u00zz""#,
        r#""\x""#,
        r#""\"#,
        r#""abc"#,
        "\"a\u{1}b\"",
        "\"a\tb\"",
        "\"a\u{7f}b\"",
        "\"\u{feff}\"",
        "\u{feff}{}",
        // arrays and objects
        "[]",
        "[ ]",
        "[1,2]",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[",
        "[1",
        "[1,",
        "]",
        "[[]]",
        "[[]",
        "{}",
        "{ }",
        r#"{"a":1}"#,
        r#"{"a":1,}"#,
        r#"{"a" 1}"#,
        r#"{"a":}"#,
        r#"{"a"}"#,
        r#"{a:1}"#,
        r#"{1:1}"#,
        r#"{"a":1 "b":2}"#,
        r#"{"a":1,"a":2}"#,
        "{",
        r#"{"a""#,
        r#"{"a":"#,
        r#"{"a":1"#,
        r#"{"a":1,"#,
        r#"{"a":[1,{"b":tru}]}"#,
        r#"{"a":1} x"#,
        "{} {}",
        " \t\r\n{\"a\" : [ 1 , 2 ] }\n",
        "[1,\n2,\n  x]",
        "{\n  \"a\": 1\n  \"b\": 2\n}",
        &deep_ok,
        &deep_refused,
        &deep_objects,
    ];
    for text in cases {
        assert_agree(text);
    }
}

/// Decided (fuzzing, issue 15): `"1"` + 768 zeros + `"e-745"` is exactly 10^23, halfway
/// between two doubles; round half to even gives 1e23, as std's `parse` does. serde_json
/// (`float_roundtrip`) gives the next double up, 1.0000000000000001e23: it is wrong, and the
/// reader keeps the correctly rounded value.
#[test]
fn where_serde_json_misrounds_std_decides() {
    let number = format!("1{}e-745", "0".repeat(768));
    let text = format!("[{number}]");
    let ours = json_reader::parse(&text).map(Json::into_value).map_err(|e| e.message);
    let by_std = number.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
    assert_eq!(by_std.as_ref().and_then(serde_json::Number::as_f64), Some(1e23));
    assert_eq!(ours, Ok(Value::Array(by_std.into_iter().map(Value::Number).collect())));
}

/// Decided: exponents are read whole, so where the digits make up for an exponent past
/// 65,536 the reader is correctly rounded (as serde_json is; std's `parse` is not, see
/// float_reader_agrees.rs `exponents_are_read_whole`).
#[test]
fn long_digits_make_up_for_long_exponents() {
    for text in [
        format!("[1{}e-655360]", "0".repeat(655_360)),
        format!("[0.{}1e655360]", "0".repeat(655_359)),
    ] {
        assert_agree(&text);
        assert_eq!(json_reader::parse(&text).map(Json::into_value).ok(), Some(serde_json::json!([1.0])));
    }
}

#[test]
fn a_syntax_error_keeps_the_path_where_the_text_broke() {
    // What serde_json cannot tell: where in the document. (Messages agree, tested above.)
    let e = json_reader::parse(r#"{"flags": [{"key": "a"}, {"key": "b", "rules": [1, 2, ]}]}"#)
        .err()
        .map(|e| e.path);
    assert_eq!(e.as_deref(), Some("flags[1].rules"));
}

/// Any JSON value, a few levels deep, with the strings and numbers that are hard to read.
fn json_value() -> impl Strategy<Value = Value> {
    let string = prop_oneof![
        "[a-z]{0,6}",
        "\\PC{0,8}",
        Just("\"\\/\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}".to_owned()),
        Just("é日本語🎉\u{ffff}\u{10ffff}".to_owned()),
    ];
    let number = prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // non-finite become null, as serde_json writes them
        (-1000i32..1000, -30i32..30).prop_map(|(m, e)| Value::from(f64::from(m) * 10f64.powi(e))),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        string.clone().prop_map(Value::from),
        number,
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec((string.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A byte edit: delete, insert or replace one byte (with one that matters to JSON).
fn edit(text: &str, place: usize, action: u8, byte: u8) -> Option<String> {
    const SIGNIFICANT: &[u8] = b"{}[]:,\"\\ 0123456789-+.eEtfnul\n\x01";
    let mut bytes = text.as_bytes().to_vec();
    let at = place % (bytes.len() + 1);
    let b = SIGNIFICANT[usize::from(byte) % SIGNIFICANT.len()];
    match action % 3 {
        0 if at < bytes.len() => {
            bytes.remove(at);
        }
        1 => bytes.insert(at, b),
        _ if at < bytes.len() => bytes[at] = b,
        _ => bytes.push(b),
    }
    // Edits that split a UTF-8 sequence are not `str`s; both readers only take `str`.
    String::from_utf8(bytes).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_documents_read_the_same(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) };
        let text = text.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (ours, theirs) = both(&text);
        prop_assert_eq!(&ours, &theirs, "document {:?}", text);
        prop_assert_eq!(ours.map(|v| v.to_string()), theirs.map(|v| v.to_string()));
    }

    #[test]
    fn edited_documents_read_the_same(
        value in json_value(),
        place in any::<usize>(),
        action in any::<u8>(),
        byte in any::<u8>(),
    ) {
        let text = serde_json::to_string_pretty(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Some(edited) = edit(&text, place, action, byte) {
            let (ours, theirs) = both(&edited);
            prop_assert_eq!(&ours, &theirs, "document {:?}", edited);
            prop_assert_eq!(ours.map(|v| v.to_string()), theirs.map(|v| v.to_string()));
        }
    }
}
