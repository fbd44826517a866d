//! JSON text for messages: a member's path (`flags[3].environments["my env"]`), a name quoted
//! as a JSON string, a number as JSON writes it. Shared by the JSON reader's errors and the
//! engine's problem list, so both name a place the same way.

/// `parent.name`, or `parent["name"]` when the name is not a plain identifier.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn field_path(parent: &str, name: &str) -> String {
    match (parent.is_empty(), is_plain_name(name)) {
        (true, true) => name.to_string(),
        (false, true) => format!("{parent}.{name}"),
        (_, false) => format!("{parent}[{}]", json_quoted(name)),
    }
}

/// The path segment of a member name: `.prod`, or `["odd key"]` when the name is not a plain
/// identifier; what [`field_path`] appends (the dashboard's lenses build paths with it).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn path_segment(name: &str) -> String {
    if is_plain_name(name) {
        format!(".{name}")
    } else {
        format!("[{}]", json_quoted(name))
    }
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

/// `text` as a JSON string literal, for paths and messages. Through `serde_json::to_string`,
/// the writer the answers use: `Value`'s `Display` would link two more copies of it (compact
/// and pretty) into the WASM module. Characters that would not show, or would reorder the
/// text around them, are written as `\uXXXX` too, so that two names that differ only in one
/// of them read differently (`"a"` and `"a\u200b"`).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn json_quoted(text: &str) -> String {
    // Writing a `&str` into a `Vec` cannot fail; not `{:?}`, which would link Rust's own
    // escaping (and its Unicode tables) into the WASM module for this alone.
    let quoted = serde_json::to_string(text).unwrap_or_default();
    if !quoted.chars().any(unseen) {
        return quoted;
    }
    let mut out = String::with_capacity(quoted.len() + 12);
    for c in quoted.chars() {
        if unseen(c) {
            // All of them are in the Basic Multilingual Plane: one `\uXXXX` each.
            out.push_str("\\u");
            for shift in [12, 8, 4, 0] {
                out.push(char::from(b"0123456789abcdef"[(c as usize >> shift) & 15]));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Delete and the C1 controls, no-break and soft hyphen, zero-width and joiner characters,
/// line and paragraph separators, bidirectional controls, invisible operators and the BOM:
/// a fixed list (no Unicode tables); JSON's writer already escapes the C0 controls.
fn unseen(c: char) -> bool {
    matches!(c,
        '\u{7f}'..='\u{a0}' | '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{180e}'
        | '\u{2000}'..='\u{200f}' | '\u{2028}'..='\u{202f}' | '\u{205f}'..='\u{206f}'
        | '\u{3000}' | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}')
}

/// A number for a message, as JSON writes it (`25`, `0.5`, `1e300`). serde_json's printer,
/// which the answers need anyway: `f64`'s own `Display` would link a second float printer
/// into the WASM module for a handful of messages.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn number_text(n: f64) -> String {
    match serde_json::Number::from_f64(n) {
        // Whole numbers as integers, as `f64`'s `Display` writes them: `25`, not `25.0`.
        Some(_) if n.fract() == 0.0 && n.abs() < 1e15 => (n as i64).to_string(),
        Some(number) => number.to_string(),
        None if n.is_nan() => "NaN".to_owned(),
        None if n > 0.0 => "infinity".to_owned(),
        None => "-infinity".to_owned(),
    }
}

/// `parent[index]`.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_unusual_keys() {
        assert_eq!(field_path("a", "b"), "a.b");
        assert_eq!(field_path("a", "my env"), "a[\"my env\"]");
        assert_eq!(field_path("", "flags"), "flags");
        assert_eq!(index_path("flags", 3), "flags[3]");
        assert_eq!(path_segment("prod"), ".prod");
        assert_eq!(path_segment("a.b"), "[\"a.b\"]");
    }

    #[test]
    fn names_quote_as_json_with_invisible_characters_escaped() {
        assert_eq!(json_quoted("new-ui"), "\"new-ui\"");
        assert_eq!(json_quoted("a \"b\" \\ c\n"), r#""a \"b\" \\ c\n""#);
        assert_eq!(json_quoted("Größe ключ 🚩"), "\"Größe ключ 🚩\"", "visible text as it is");
        // Names that differ only in what does not show must read differently.
        assert_eq!(json_quoted("a\u{200b}"), r#""a\u200b""#);
        assert_eq!(json_quoted("\u{202e}evil"), r#""\u202eevil""#);
        assert_eq!(json_quoted("x\u{a0}y\u{7f}\u{feff}"), r#""x\u00a0y\u007f\ufeff""#);
        assert_eq!(json_quoted("\u{1b}[31m"), r#""\u001b[31m""#);
        // Still JSON: it reads back as the name.
        for name in ["a\u{200b}", "\u{202e}evil", "x\u{a0}y\u{7f}\u{feff}\u{2028}"] {
            assert_eq!(serde_json::from_str::<String>(&json_quoted(name)).ok().as_deref(), Some(name));
        }
    }

    #[test]
    fn numbers_as_json_writes_them() {
        assert_eq!(number_text(25.0), "25");
        assert_eq!(number_text(0.5), "0.5");
        assert_eq!(number_text(f64::NAN), "NaN");
        assert_eq!(number_text(f64::NEG_INFINITY), "-infinity");
    }
}
