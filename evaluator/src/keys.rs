//! Which flag and segment keys travel in URLs as they are.
//!
//! A key may hold any non-empty UTF-8 text. Keys travel in URL paths (`/api/flags/{key}`,
//! OFREP's `/ofrep/v1/evaluate/flags/{key}`), where only RFC 3986's path characters go as they
//! are: letters, digits, `-._~`, `!$&'()*+,;=`, `:` and `@`. Any other character (a space,
//! `/`, `?`, `#`, `%`, quotes, non-ASCII...) must be percent-encoded, and OFREP providers do not
//! encode keys: the server takes `/` unencoded on the OFREP route, but `?` and `#` end the path
//! and `%` starts an escape, so such keys reach the server altered. `.` and `..` are removed
//! by URL normalisation. `edgeflag validate` warns about these keys (a warning, not an error).

use crate::model::FlagFile;
use crate::problems::Problem;
use edgeflag_readers::json_text::json_quoted as q;

/// Why `key` cannot travel in a URL path as it is, if it cannot.
pub fn url_path_problem(key: &str) -> Option<String> {
    if key == "." || key == ".." {
        return Some(format!("key {} is removed by URL normalisation", q(key)));
    }
    let unsafe_chars: Vec<char> = key
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@".contains(*c)))
        .collect();
    if unsafe_chars.is_empty() {
        return None;
    }
    let mut shown: Vec<String> = Vec::new();
    for c in &unsafe_chars {
        let s = q(&c.to_string());
        if !shown.contains(&s) {
            shown.push(s);
        }
    }
    let breaks = unsafe_chars.iter().any(|c| matches!(c, '?' | '#' | '%'));
    Some(format!(
        "key {} needs percent-encoding in URLs ({}){}",
        q(key),
        shown.join(", "),
        if breaks { "; OFREP providers, which do not encode keys, cannot reach it" } else { "" }
    ))
}

/// A warning for every flag and segment key that needs encoding in a URL path.
pub fn url_warnings(file: &FlagFile) -> Vec<Problem> {
    let flags = file.flags.iter().enumerate().filter_map(|(i, f)| {
        url_path_problem(&f.key).map(|message| Problem { path: format!("flags[{i}].key"), message })
    });
    let segments = file.segments.iter().enumerate().filter_map(|(i, s)| {
        url_path_problem(&s.key).map(|message| Problem { path: format!("segments[{i}].key"), message })
    });
    flags.chain(segments).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_pass_and_others_are_named() {
        for ok in ["new-dashboard", "a.b_c~d", "team:checkout@v2", "x+y=z"] {
            assert_eq!(url_path_problem(ok), None, "{ok}");
        }
        let slash = url_path_problem("team/new checkout").expect("warned");
        assert!(slash.contains(r#""/""#) && slash.contains(r#"" ""#) && !slash.contains("cannot reach"), "{slash}");
        for broken in ["a?b", "a#b", "100%"] {
            assert!(url_path_problem(broken).expect("warned").contains("cannot reach"), "{broken}");
        }
        assert!(url_path_problem("ü").is_some());
        assert!(url_path_problem("..").is_some());
    }
}
