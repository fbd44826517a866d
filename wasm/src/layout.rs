//! Where the containers of a flag file's first levels are, for `FlagSet.loadValidated`
//! (`wasm/js/validated.js`), which loads each flag's text on first use. The same scan in
//! still-cold JS costs a cold start more (README "Cold start"); here it is two tight loops. It
//! checks nothing: the JS side checks the layout it gets, the engine every part it loads.
//! Reached through `__wireEvaluate` with flag `LAYOUT` (api.rs): a new export would cost the
//! module more than the loop (the core module is close to its size budget).

/// Into `out`: `[depth, start, end]` for every object or array at depth 2
/// (a top-level member's value) and 3 (an element of one), byte offsets, in the order they
/// close; strings are skipped (escapes followed). Unbalanced brackets give a list the caller
/// finds inconsistent. Then the count of numbers before it.
// Not inlined into `__wireEvaluate`: V8 moves a function that runs long to its optimizing
// compiler, and that should be this loop, not the whole evaluation export around it.
#[inline(never)]
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn layout(text: &[u8], out: &mut Vec<u32>) {
    out.clear();
    let mut open = [0u32; 4];
    let mut depth = 0usize;
    let mut i = 0;
    // Two tight loops rather than one with a "quoted" state: the scan runs once per load, in
    // V8's baseline compiler (Liftoff), where every byte's work shows.
    while let Some(&b) = text.get(i) {
        i += 1;
        match b {
            b'"' => {
                // To the closing quote; a backslash skips the byte after it.
                while let Some(&c) = text.get(i) {
                    i += 1;
                    if c == b'"' {
                        break;
                    }
                    if c == b'\\' {
                        i += 1;
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth < 4 {
                    open[depth] = i as u32 - 1;
                }
            }
            b'}' | b']' => {
                if depth == 2 || depth == 3 {
                    out.extend_from_slice(&[depth as u32, open[depth & 3], i as u32]);
                }
                depth = depth.wrapping_sub(1);
            }
            _ => {}
        }
    }
    // The count last: the caller reads it from the address of the list's end.
    out.push(out.len() as u32);
}

#[cfg(test)]
mod tests {
    use super::layout;

    #[test]
    fn containers_at_depth_two_and_three_skipping_strings_and_deeper_levels() {
        let text = br#"{"a":[{"k":"}\"]","x":[[{"y":[]}]]},{}],"b":{"c":[1]},"d":"[["}"#;
        let mut out = vec![9];
        layout(text, &mut out);
        let at = |s: &str| text.windows(s.len()).position(|w| w == s.as_bytes()).unwrap_or(usize::MAX) as u32;
        let (a, first, second) = (at(r#"[{"k""#), at(r#"{"k""#), at("{}]"));
        let (b, c) = (at(r#"{"c""#), at("[1]"));
        let expected = vec![
            3, first, second - 1, // {"k": ...} (its nested arrays and objects are not listed)
            3, second, second + 2, // {}
            2, a, second + 3, // the array of "a"
            3, c, c + 3, // [1]
            2, b, c + 4, // the object of "b"
            15, // the count
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn escaped_backslashes_unterminated_strings_and_a_backslash_last() {
        let mut out = Vec::new();
        // `"\\"` is a whole string (an escaped backslash): the brackets after it count.
        let text = br#"{"a":[{}],"b":"\\","c":[[]]}"#;
        layout(text, &mut out);
        let at = |s: &str| text.windows(s.len()).position(|w| w == s.as_bytes()).unwrap_or(usize::MAX) as u32;
        let (a, c) = (at("[{}]"), at("[[]]"));
        assert_eq!(out, vec![3, a + 1, a + 3, 2, a, a + 4, 3, c + 1, c + 3, 2, c, c + 4, 12]);
        // A string never closed, and a backslash as the last byte: nothing closes, no panic.
        for text in [&br#"{"a":[{"k":"v}]}"#[..], br#"{"a":[{"k":"v\"#, br#"{"a":[{}"#, b"\\"] {
            layout(text, &mut out);
            assert_eq!(out.last(), Some(&(out.len() as u32 - 1)), "{text:?}");
            assert!(out.len() <= 4, "{text:?}: {out:?}");
        }
    }
}
