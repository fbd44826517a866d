//! Finding a problem's path (`flags[3].rules[0].clauses[1].values[0]`) in the raw JSON text,
//! so the raw editor can select the offending value. serde_json keeps no positions, so this
//! is a small tolerant scanner: text after the target may be broken.

/// One step of a problem path.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Parses `a.b[2].c`, `a["odd key"]` and `environments.prod`. Unparseable rests are dropped
/// (the caller falls back to the longest locatable prefix anyway).
pub fn parse_path(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            if let Some(quoted) = after.strip_prefix('"') {
                let Some(end) = quoted.find("\"]") else { break };
                out.push(Segment::Key(quoted[..end].to_string()));
                rest = &quoted[end + 2..];
            } else {
                let Some(end) = after.find(']') else { break };
                let Ok(index) = after[..end].trim().parse() else { break };
                out.push(Segment::Index(index));
                rest = &after[end + 1..];
            }
        } else {
            let body = rest.strip_prefix('.').unwrap_or(rest);
            let end = body.find(['.', '[']).unwrap_or(body.len());
            if end > 0 {
                out.push(Segment::Key(body[..end].to_string()));
            }
            rest = &body[end..];
        }
    }
    out
}

/// Byte range of the value at `path`, or of the deepest enclosing value that exists.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let segments = parse_path(path);
    (0..=segments.len()).rev().find_map(|n| Scanner { b: text.as_bytes(), i: 0 }.find(&segments[..n]))
}

/// A "line L column C" position in a serde_json message, as (line, column), 1-based.
pub fn syntax_position(message: &str) -> Option<(usize, usize)> {
    let after_line = &message[message.find("line ")? + 5..];
    let line_end = after_line.find(|c: char| !c.is_ascii_digit())?;
    let line = after_line[..line_end].parse().ok()?;
    let after_col = &after_line[after_line.find("column ")? + 7..];
    let col_end = after_col.find(|c: char| !c.is_ascii_digit()).unwrap_or(after_col.len());
    let column = after_col[..col_end].parse().ok()?;
    Some((line, column))
}

/// Byte offset of a 1-based (line, column), clamped to the text.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let line_text = text[start.min(text.len())..].split('\n').next().unwrap_or("");
    let col = line_text.char_indices().nth(column.saturating_sub(1)).map_or(line_text.len(), |(i, _)| i);
    (start + col).min(text.len())
}

/// A byte offset as UTF-16 units (what a textarea's selection uses).
pub fn utf16_offset(text: &str, byte: usize) -> u32 {
    let byte = byte.min(text.len());
    let valid = (0..=byte).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    text[..valid].encode_utf16().count() as u32
}

/// 1-based line of a byte offset (to scroll the editor).
pub fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn find(&mut self, path: &[Segment]) -> Option<(usize, usize)> {
        self.ws();
        let Some((first, rest)) = path.split_first() else {
            let start = self.i;
            self.skip_value()?;
            return Some((start, self.i));
        };
        match first {
            Segment::Key(key) => {
                self.eat(b'{')?;
                loop {
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let name = self.string()?;
                    self.eat(b':')?;
                    if name == *key {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    if self.peek()? == b',' {
                        self.i += 1;
                    }
                }
            }
            Segment::Index(index) => {
                self.eat(b'[')?;
                for n in 0.. {
                    if self.peek()? == b']' {
                        return None;
                    }
                    if n == *index {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    if self.peek()? == b',' {
                        self.i += 1;
                    }
                }
                None
            }
        }
    }

    /// Reads a string token and decodes its escapes.
    fn string(&mut self) -> Option<String> {
        self.ws();
        let start = self.i;
        self.skip_string()?;
        std::str::from_utf8(&self.b[start..self.i])
            .ok()
            .and_then(|t| crate::json::value(t).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    fn skip_string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match *self.b.get(self.i)? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.i += 1;
                loop {
                    match self.peek()? {
                        c if c == close => {
                            self.i += 1;
                            return Some(());
                        }
                        b',' | b':' => self.i += 1,
                        _ => self.skip_value()?,
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.b.get(self.i).is_some_and(|c| !b",]}: \t\r\n".contains(c)) {
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
  "flags": [
    {"key": "a", "rules": [{"clauses": [{"attribute": "v", "operator": "semver_gt", "values": ["1.2.x"]}]}]},
    {"key": "b\"q", "environments": {"prod": {"enabled": "yes"}}}
  ]
}"#;

    fn at(path: &str) -> &'static str {
        let (s, e) = locate(TEXT, path).unwrap();
        &TEXT[s..e]
    }

    #[test]
    fn parses_problem_paths() {
        use Segment::*;
        assert_eq!(
            parse_path("flags[3].rules[0].values[1]"),
            [Key("flags".into()), Index(3), Key("rules".into()), Index(0), Key("values".into()), Index(1)]
        );
        assert_eq!(parse_path(r#"env["a.b"].x"#), [Key("env".into()), Key("a.b".into()), Key("x".into())]);
        assert_eq!(parse_path(""), []);
    }

    #[test]
    fn finds_nested_values() {
        assert_eq!(at("flags[0].rules[0].clauses[0].values[0]"), "\"1.2.x\"");
        assert_eq!(at("flags[1].environments.prod.enabled"), "\"yes\"");
        assert_eq!(at("flags[1].key"), r#""b\"q""#);
    }

    #[test]
    fn missing_parts_fall_back_to_the_enclosing_value() {
        assert_eq!(at("flags[1].environments.prod.rollout"), r#"{"enabled": "yes"}"#);
        assert!(at("flags[7]").starts_with('['));
    }

    #[test]
    fn works_on_text_broken_after_the_target() {
        let broken = r#"{"flags": [{"key": "a", "enabled": tru"#;
        let (s, e) = locate(broken, "flags[0].key").unwrap();
        assert_eq!(&broken[s..e], "\"a\"");
    }

    #[test]
    fn reads_serde_positions_and_converts_offsets() {
        assert_eq!(syntax_position("expected `,` or `}` at line 3 column 17"), Some((3, 17)));
        assert_eq!(syntax_position("no position"), None);
        let text = "ab\ncdé\nf";
        assert_eq!(offset_of(text, 2, 3), 5);
        assert_eq!(offset_of(text, 9, 9), text.len());
        assert_eq!(utf16_offset("é😀x", "é😀".len()), 3);
        assert_eq!(line_of(text, 7), 2);
    }
}
