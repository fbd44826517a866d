//! A JSON document as the flag-file decoder ([`crate::decode`]) needs it, and the reader of
//! JSON text for the whole engine (flag files and contexts).
//!
//! `serde_json::Value` would almost do, but it keeps only the last of two equal keys (an
//! admin's silent mistake that validation must report) and a syntax error in it has no path.
//! [`Json`] keeps every key in order, and [`parse`] names the path at which the text broke.
//!
//! Why a hand-written reader and not serde: first, `#[derive(Deserialize)]` on the model with
//! `serde_path_to_error` and `serde_ignored` for the paths monomorphized three stacked
//! deserializers per model type, more than half of the WASM module; then one serde `Deserialize`
//! for this tree still linked serde_json's deserializer, serde's visitor machinery and, through
//! serde's error messages, a second float printer (measured in wasm/README.md "Size"). This reader is RFC 8259 as serde_json reads it (same grammar, same
//! nesting limit, same messages with line and column; `tests/json_reader_agrees.rs` checks it
//! against serde_json on generated and broken documents, and the `json_reader` fuzz target
//! under coverage guidance), except that every number is correctly rounded
//! ([`crate::float_reader`]), where serde_json's default may be one unit in the last place off for
//! long mantissas. Even serde_json's `float_roundtrip` misrounds a halfway value written with
//! more than 768 digits (`"1"` + 768 zeros + `"e-745"` is exactly 10^23: 1e23 here, as std
//! reads it; serde_json says 1.0000000000000001e23), and std's own `parse` is wrong where
//! an exponent past 65,536 is made up for by the digits (`"1"` + 655,360 zeros +
//! `"e-655360"` is 1 here and in serde_json; std says infinity): both decided for the
//! correctly rounded value, and tested in `tests/json_reader_agrees.rs` and
//! `tests/float_reader_agrees.rs`.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use crate::json_text::{field_path, index_path};

/// A JSON value that keeps object keys in document order, duplicates included. Strings and
/// keys without escapes borrow from the text: a flag file's tree is read and dropped once per
/// load, and its allocations were half of a load's time (callgrind on `examples/load_loop.rs`).
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'t> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'t, str>),
    Array(Vec<Json<'t>>),
    Object(Vec<(Cow<'t, str>, Json<'t>)>),
}

/// Text that is not one JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where in the document the text broke, e.g. `flags[2].rules`; empty at the top level.
    pub path: String,
    /// What is wrong, with line and column (1-based, columns in bytes) in the whole text, as
    /// serde_json words it: `expected `,` or `]` at line 3 column 7`.
    pub message: String,
}

/// Containers nested deeper than this are an error, not a stack overflow (serde_json's limit:
/// 127 levels read, the 128th refused).
const MAX_DEPTH: u32 = 128;

/// One JSON document as a `serde_json::Value` (of two equal keys the last wins): for callers
/// outside the engine, such as the dashboard, so that a WASM build links one JSON text reader
/// (serde_json's would be a second one in the dashboard; `serde_json::from_value` then gives
/// typed values; dashboard/README.md "Figures" measures it).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn parse_value(text: &str) -> Result<Value, SyntaxError> {
    parse(text).map(Json::into_value)
}

/// Parses one JSON document.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn parse(text: &str) -> Result<Json<'_>, SyntaxError> {
    let mut reader = Reader { text, bytes: text.as_bytes(), pos: 0, trail: Vec::new() };
    let parsed = reader.value(MAX_DEPTH).and_then(|json| {
        reader.skip_whitespace();
        match reader.peek() {
            None => Ok(json),
            Some(_) => Err(reader.broken(Broken::TrailingCharacters)),
        }
    });
    parsed.map_err(|(reason, at)| {
        let (line, column) = line_and_column(text.as_bytes(), at);
        SyntaxError {
            path: trail_path(&reader.trail),
            message: format!("{} at line {line} column {column}", reason.message()),
        }
    })
}

/// Why the text is not JSON (serde_json's wording, so messages read the same everywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    EofWhileParsingList,
    EofWhileParsingObject,
    EofWhileParsingString,
    EofWhileParsingValue,
    ExpectedColon,
    ExpectedListCommaOrEnd,
    ExpectedObjectCommaOrEnd,
    ExpectedSomeIdent,
    ExpectedSomeValue,
    InvalidEscape,
    InvalidNumber,
    NumberOutOfRange,
    ControlCharacterWhileParsingString,
    KeyMustBeAString,
    LoneLeadingSurrogateInHexEscape,
    TrailingComma,
    TrailingCharacters,
    UnexpectedEndOfHexEscape,
    RecursionLimitExceeded,
}

impl Broken {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn message(self) -> &'static str {
        match self {
            Broken::EofWhileParsingList => "EOF while parsing a list",
            Broken::EofWhileParsingObject => "EOF while parsing an object",
            Broken::EofWhileParsingString => "EOF while parsing a string",
            Broken::EofWhileParsingValue => "EOF while parsing a value",
            Broken::ExpectedColon => "expected `:`",
            Broken::ExpectedListCommaOrEnd => "expected `,` or `]`",
            Broken::ExpectedObjectCommaOrEnd => "expected `,` or `}`",
            Broken::ExpectedSomeIdent => "expected ident",
            Broken::ExpectedSomeValue => "expected value",
            Broken::InvalidEscape => "invalid escape",
            Broken::InvalidNumber => "invalid number",
            Broken::NumberOutOfRange => "number out of range",
            Broken::ControlCharacterWhileParsingString => {
                "control character (\\u0000-\\u001F) found while parsing a string"
            }
            Broken::KeyMustBeAString => "key must be a string",
            Broken::LoneLeadingSurrogateInHexEscape => "lone leading surrogate in hex escape",
            Broken::TrailingComma => "trailing comma",
            Broken::TrailingCharacters => "trailing characters",
            Broken::UnexpectedEndOfHexEscape => "unexpected end of hex escape",
            Broken::RecursionLimitExceeded => "recursion limit exceeded",
        }
    }
}

/// A reason, and where: the offset just past the offending byte (the text's length at its
/// end), which is how serde_json counts.
type Failure = (Broken, usize);

/// serde_json's line and column for an offset: the 1-based line, and the bytes from the start
/// of that line up to the offset (so the offending byte's 1-based column).
#[cfg_attr(edgeflag_size, optimize(size))]
fn line_and_column(bytes: &[u8], end: usize) -> (usize, usize) {
    let before = bytes.get(..end).unwrap_or(bytes);
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    (line, before.len() - line_start)
}

/// One step of the path to a syntax error, innermost first while the error unwinds.
enum Step {
    Index(usize),
    Key(String),
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn trail_path(trail: &[Step]) -> String {
    trail
        .iter()
        .rev()
        .fold(String::new(), |path, step| match step {
            Step::Index(i) => index_path(&path, *i),
            Step::Key(k) => field_path(&path, k),
        })
}

/// A recursive-descent reader. An error inside a value that has begun belongs to that value:
/// its container adds the index or key to `trail` on the way out. An error between values (a
/// missing comma, a bad key, the end of the text) belongs to the container.
struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    trail: Vec<Step>,
}

impl<'t> Reader<'t> {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// A failure at the byte about to be read (or at the end).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn broken(&self, reason: Broken) -> Failure {
        self.broken_at(reason, self.pos)
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn broken_at(&self, reason: Broken, offending: usize) -> Failure {
        (reason, (offending + 1).min(self.bytes.len()))
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// A value; `depth` is how many more containers may open.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn value(&mut self, depth: u32) -> Result<Json<'t>, Failure> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.broken(Broken::EofWhileParsingValue)),
            Some(b'n') => self.word("null", Json::Null),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
            Some(b'[' | b'{') if depth <= 1 => Err(self.broken(Broken::RecursionLimitExceeded)),
            Some(b'[') => self.array(depth - 1),
            Some(b'{') => self.object(depth - 1),
            Some(_) => Err(self.broken(Broken::ExpectedSomeValue)),
        }
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn word(&mut self, word: &str, json: Json<'t>) -> Result<Json<'t>, Failure> {
        for &expected in word.as_bytes() {
            match self.peek() {
                None => return Err(self.broken(Broken::EofWhileParsingValue)),
                Some(b) if b == expected => self.pos += 1,
                Some(_) => return Err(self.broken(Broken::ExpectedSomeIdent)),
            }
        }
        Ok(json)
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn array(&mut self, depth: u32) -> Result<Json<'t>, Failure> {
        self.pos += 1; // [
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        if self.peek().is_none() {
            return Err(self.broken(Broken::EofWhileParsingList));
        }
        loop {
            match self.value(depth) {
                Ok(item) => items.push(item),
                Err(failure) => {
                    self.trail.push(Step::Index(items.len()));
                    return Err(failure);
                }
            }
            if !self.next_element(b']', Broken::ExpectedListCommaOrEnd, Broken::EofWhileParsingList)? {
                return Ok(Json::Array(items));
            }
        }
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn object(&mut self, depth: u32) -> Result<Json<'t>, Failure> {
        self.pos += 1; // {
        let mut entries = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(entries));
        }
        loop {
            let key = match self.peek() {
                Some(b'"') => self.string()?,
                Some(_) => return Err(self.broken(Broken::KeyMustBeAString)),
                None => return Err(self.broken(Broken::EofWhileParsingObject)),
            };
            self.skip_whitespace();
            match self.peek() {
                Some(b':') => self.pos += 1,
                Some(_) => return Err(self.broken(Broken::ExpectedColon)),
                None => return Err(self.broken(Broken::EofWhileParsingObject)),
            }
            match self.value(depth) {
                Ok(value) => entries.push((key, value)),
                Err(failure) => {
                    self.trail.push(Step::Key(key.into_owned()));
                    return Err(failure);
                }
            }
            if !self.next_element(b'}', Broken::ExpectedObjectCommaOrEnd, Broken::EofWhileParsingObject)? {
                return Ok(Json::Object(entries));
            }
        }
    }

    /// After an element: a comma and another element (`true`), or the container's end.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn next_element(&mut self, close: u8, neither: Broken, eof: Broken) -> Result<bool, Failure> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_whitespace();
                match self.peek() {
                    Some(b) if b == close => Err(self.broken(Broken::TrailingComma)),
                    None => Err(self.broken(Broken::EofWhileParsingValue)),
                    Some(_) => Ok(true),
                }
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(false)
            }
            Some(_) => Err(self.broken(neither)),
            None => Err(self.broken(eof)),
        }
    }

    /// A string at the opening quote, borrowed when it has no escapes. Unescaped runs are
    /// valid UTF-8 because the text is a `str` and runs end only at ASCII bytes.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn string(&mut self) -> Result<Cow<'t, str>, Failure> {
        self.pos += 1; // "
        let mut out = String::new();
        loop {
            // The plain run up to the next quote, backslash or control character, in one scan.
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let run = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(rest.len());
            let start = self.pos;
            self.pos += run;
            match self.peek() {
                None => return Err(self.broken(Broken::EofWhileParsingString)),
                Some(b'"') => {
                    let run = self.run(start)?;
                    self.pos += 1;
                    if out.is_empty() {
                        return Ok(Cow::Borrowed(run));
                    }
                    out.push_str(run);
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(self.run(start)?);
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.broken(Broken::ControlCharacterWhileParsingString)),
            }
        }
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn run(&self, start: usize) -> Result<&'t str, Failure> {
        // Never fails (both ends are at ASCII bytes); an error rather than a panic regardless.
        self.text.get(start..self.pos).ok_or((Broken::InvalidEscape, self.pos))
    }

    /// The escape after a backslash.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn escape(&mut self, out: &mut String) -> Result<(), Failure> {
        let Some(c) = self.peek() else {
            return Err(self.broken(Broken::EofWhileParsingString));
        };
        self.pos += 1;
        let decoded = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(out),
            _ => return Err(self.broken_at(Broken::InvalidEscape, self.pos - 1)),
        };
        out.push(decoded);
        Ok(())
    }

    /// `\uXXXX`, after the `u`; a leading surrogate must be followed by its trailing one.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn unicode_escape(&mut self, out: &mut String) -> Result<(), Failure> {
        let first = self.hex4()?;
        let code = match first {
            0xDC00..=0xDFFF => {
                return Err(self.broken_at(Broken::LoneLeadingSurrogateInHexEscape, self.pos - 1))
            }
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.peek() {
                        None => return Err(self.broken(Broken::EofWhileParsingString)),
                        Some(b) if b == expected => self.pos += 1,
                        Some(_) => return Err(self.broken(Broken::UnexpectedEndOfHexEscape)),
                    }
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.broken_at(Broken::LoneLeadingSurrogateInHexEscape, self.pos - 1));
                }
                0x1_0000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00)
            }
            other => u32::from(other),
        };
        // Surrogates were handled above, so this is always a char.
        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
        Ok(())
    }

    /// Four hex digits; serde_json reads all four before it judges them.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn hex4(&mut self) -> Result<u16, Failure> {
        // Fewer than four bytes left is the end of the string, whatever they are.
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            return Err((Broken::EofWhileParsingString, self.bytes.len()));
        };
        let mut n: Option<u16> = Some(0);
        for &b in digits {
            let digit = match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                b'A'..=b'F' => Some(b - b'A' + 10),
                _ => None,
            };
            n = n.zip(digit).map(|(n, d)| (n << 4) | u16::from(d));
        }
        self.pos += 4;
        n.ok_or_else(|| self.broken_at(Broken::InvalidEscape, self.pos - 1))
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. Integers stay integers where they fit
    /// (`u64`, or `i64` when negative; `-0` is the float -0.0), as in serde_json; the rest are
    /// floats, correctly rounded, and a float too large for `f64` is an error.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn number(&mut self) -> Result<Number, Failure> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.broken(Broken::InvalidNumber));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            None => return Err(self.broken(Broken::EofWhileParsingValue)),
            Some(_) => return Err(self.broken(Broken::InvalidNumber)),
        }
        let integer_end = self.pos;
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
            float = true;
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if !float {
            let digits = self.bytes.get(start + usize::from(negative)..integer_end).unwrap_or_default();
            if let Some(n) = integer(digits, negative) {
                return Ok(n);
            }
        }
        match crate::float_reader::parse_f64(text).and_then(Number::from_f64) {
            Some(n) => Ok(n),
            None => Err((Broken::NumberOutOfRange, self.exponent_overflow(text, start).unwrap_or(self.pos))),
        }
    }

    /// Where serde_json stops reading a too-large number: at the exponent digit past
    /// `i32::MAX`, if there is one (else at the number's end).
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn exponent_overflow(&self, text: &str, start: usize) -> Option<usize> {
        let e = text.rfind(['e', 'E'])?;
        let digits = text.get(e + 1..)?.trim_start_matches(['+', '-']);
        let digits_start = start + text.len() - digits.len();
        let mut exponent: i32 = 0;
        for (i, d) in digits.bytes().enumerate() {
            match exponent.checked_mul(10).and_then(|x| x.checked_add(i32::from(d - b'0'))) {
                Some(x) => exponent = x,
                None => return Some(digits_start + i + 1),
            }
        }
        None
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    fn required_digits(&mut self) -> Result<(), Failure> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            None => Err(self.broken(Broken::EofWhileParsingValue)),
            Some(_) => Err(self.broken(Broken::InvalidNumber)),
        }
    }
}

/// An integer that fits serde_json's integer forms, or `None` (read it as a float).
#[cfg_attr(edgeflag_size, optimize(size))]
fn integer(digits: &[u8], negative: bool) -> Option<Number> {
    let mut magnitude: u64 = 0;
    for &d in digits {
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if !negative {
        return Some(Number::from(magnitude));
    }
    // -0 is a float in serde_json; so is anything below i64::MIN.
    match 0i64.checked_sub_unsigned(magnitude) {
        Some(n) if n < 0 => Some(Number::from(n)),
        _ => None,
    }
}

impl Json<'_> {
    /// The serde_json value (of two equal keys, the last wins, as in serde_json).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn into_value(self) -> Value {
        self.to_value()
    }

    /// The serde_json value, copied from the tree (the flag-file reader keeps the tree).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// How serde describes a value in "invalid type" messages: `string "x"`, `integer `5``,
    /// `floating point `1.5``, `boolean `true``, `null`, `sequence`, `map`.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn describe(&self) -> String {
        match self {
            Json::Null => "null".to_owned(),
            Json::Bool(b) => format!("boolean `{b}`"),
            Json::Number(n) if n.is_f64() => format!("floating point `{n}`"),
            Json::Number(n) => format!("integer `{n}`"),
            Json::String(s) => format!("string {}", crate::json_text::json_quoted(s)),
            Json::Array(_) => "sequence".to_owned(),
            Json::Object(_) => "map".to_owned(),
        }
    }

    /// JSON's name for the value's type: `object`, `array`, `string`...
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn keeps_duplicate_keys_in_order() {
        let parsed = parse(r#"{"a": 1, "b": [true, null], "a": "x"}"#);
        let expected = Json::Object(vec![
            ("a".into(), Json::Number(1.into())),
            ("b".into(), Json::Array(vec![Json::Bool(true), Json::Null])),
            ("a".into(), Json::String("x".into())),
        ]);
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn into_value_matches_serde_json() {
        let text = r#"{"n": -3, "f": 1.5, "big": 18446744073709551615, "s": "é\n", "l": [{}, []], "z": null}"#;
        let ours = parse(text).map(Json::into_value);
        let theirs: Result<Value, _> = serde_json::from_str(text);
        assert_eq!(ours.ok(), theirs.ok());
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn syntax_errors_carry_the_path_where_the_text_broke() {
        let cases = [
            (r#"{"flags": [{"key": "a"}, {"key": tru}]}"#, "flags[1].key"),
            (r#"{"flags": [{"key": "a"} {"key": "b"}]}"#, "flags"),
            (r#"{"schema_version": 1, "flags": ["#, "flags"),
            (r#"{"a": 1 "b": 2}"#, ""),
            (r#"{"a": 1} trailing"#, ""),
            (r#"{"weird key": [1, 2, {"x": ]}]}"#, "[\"weird key\"][2].x"),
        ];
        for (text, path) in cases {
            match parse(text) {
                Ok(json) => panic!("{text} parsed: {json:?}"),
                Err(e) => {
                    assert_eq!(e.path, path, "{text}: {}", e.message);
                    assert!(e.message.contains("line 1 column"), "{}", e.message);
                }
            }
        }
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err_and(|e| e.message.contains("recursion limit")));
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn describes_values_as_serde_does() {
        let described: Vec<String> = ["null", "true", "5", "-1", "1.5", "\"x\"", "[]", "{}"]
            .iter()
            .filter_map(|t| parse(t).ok())
            .map(|j| j.describe())
            .collect();
        assert_eq!(
            described,
            [
                "null",
                "boolean `true`",
                "integer `5`",
                "integer `-1`",
                "floating point `1.5`",
                "string \"x\"",
                "sequence",
                "map"
            ]
        );
    }
}
