//! The flag file's fast checksum: XXH64 (seed 0) of its UTF-8 bytes, written as 16 lowercase
//! hex digits. The server publishes it beside the SHA-256 (`/edge/manifest.json`'s `xxh64`);
//! `FlagSet.loadValidated` checks it inside the module, in the call that finds where each flag
//! is, instead of loading WebCrypto for the SHA-256 (Node pays ~3 ms of a ~20 ms cold start
//! for that: README "Cold start").
//!
//! What it is for: telling the text the server validated from any other (another version, a
//! truncated or corrupted body), by accident. It is not a signature, and neither is a SHA-256
//! served next to the file: whoever can change the file there can change its digest too. A
//! text that matches by design still goes through the checked load, flag by flag, on first use.

use xxhash_rust::xxh64::xxh64;

/// XXH64 of `bytes` with seed 0 (the published scheme; test vectors below).
pub fn file_checksum(bytes: &[u8]) -> u64 {
    xxh64(bytes, 0)
}

/// [`file_checksum`] as the manifest writes it: 16 lowercase hex digits.
pub fn file_checksum_hex(bytes: &[u8]) -> String {
    format!("{:016x}", file_checksum(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        // From the xxHash reference implementation (XXH64, seed 0).
        assert_eq!(file_checksum_hex(b""), "ef46db3751d8e999");
        assert_eq!(file_checksum_hex(b"a"), "d24ec4f1a98c6e5b");
        assert_eq!(file_checksum_hex(b"abc"), "44bc2cf5ad770999");
        // Longer than one 32-byte stripe, so the four-lane loop runs.
        let text = b"Nobody inspects the spammish repetition";
        assert_eq!(file_checksum_hex(text), "fbcea83c8a378bf1");
    }

    #[test]
    fn every_byte_counts() {
        let text = br#"{"schema_version":1,"flags":[{"key":"a"}]}"#.to_vec();
        let base = file_checksum(&text);
        for i in 0..text.len() {
            let mut changed = text.clone();
            changed[i] ^= 1;
            assert_ne!(file_checksum(&changed), base, "byte {i}");
        }
        assert_ne!(file_checksum(&text[..text.len() - 1]), base, "truncated");
    }
}
