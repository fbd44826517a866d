//! Feature names → positions, for `isEnabled(name)` / `getVariant(name)`: the first step of
//! every call. An open-addressing table of positions with a tag of each name's hash, probed
//! with FxHash's step over eight bytes at a time; names compared in registers. Against the
//! engine's `KeyMap` (which copies a name's last bytes and compares names through `memcpy`
//! and `memcmp` calls), a static toggle's whole call took a fifth less (callgrind).
//!
//! The hash is not keyed, like `KeyMap`'s: the names come from the payload (the admin's), so
//! a caller choosing what to look up can only walk the probe sequences the payload made, and
//! those stay short at a load of at most one half (see `crate::lookup_table`).

const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
pub(super) struct NameIndex {
    /// Per slot: the position, and the high half of the name's hash (`EMPTY` position: free).
    slots: Vec<(u32, u32)>,
}

impl NameIndex {
    /// Of equal names the last counts (as a map filled in order would).
    pub(super) fn new<'a>(names: impl ExactSizeIterator<Item = &'a str> + Clone) -> NameIndex {
        let len = names.len();
        if len == 0 {
            return NameIndex::default();
        }
        let mut index = NameIndex { slots: vec![(EMPTY, 0); (2 * len).next_power_of_two()] };
        let all: Vec<&str> = names.collect();
        for (position, name) in all.iter().enumerate() {
            let slot = index.probe(name, |p| all.get(p as usize).copied());
            let h = hash(name.as_bytes());
            if let Some(s) = index.slots.get_mut(slot) {
                *s = (position as u32, (h >> 32) as u32);
            }
        }
        index
    }

    /// The position of `name`; `name_at` gives the name at a position.
    pub(super) fn get<'a>(&self, name: &str, name_at: impl Fn(u32) -> Option<&'a str>) -> Option<usize> {
        let slot = self.probe(name, name_at);
        match self.slots.get(slot) {
            Some(&(position, _)) if position != EMPTY => Some(position as usize),
            _ => None,
        }
    }

    /// The slot holding `name`, or the free slot where it would go (`usize::MAX` for an empty
    /// table).
    fn probe<'a>(&self, name: &str, name_at: impl Fn(u32) -> Option<&'a str>) -> usize {
        if self.slots.is_empty() {
            return usize::MAX;
        }
        let mask = self.slots.len() - 1;
        let h = hash(name.as_bytes());
        let tag = (h >> 32) as u32;
        let mut slot = h as usize & mask;
        // At most half the slots are taken, so the walk ends at a free one.
        while let Some(&(position, t)) = self.slots.get(slot) {
            if position == EMPTY || (t == tag && name_at(position).is_some_and(|n| same(n.as_bytes(), name.as_bytes()))) {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
        usize::MAX
    }
}

/// FxHash's step, eight bytes at a time (the last ones assembled in a register).
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        h = (h.rotate_left(5) ^ word(chunk)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = (h.rotate_left(5) ^ tail(rest)).wrapping_mul(K);
    }
    // Mixed into the low bits, which pick the slot.
    h ^ (h >> 29)
}

/// Eight bytes as a word (one load).
fn word(chunk: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&chunk[..8]);
    u64::from_le_bytes(w)
}

/// Fewer than eight bytes as a word, from two loads that may overlap; for one length, each
/// run of bytes gives its own word (the two loads cover every byte).
fn tail(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
        u64::from(lo) | u64::from(hi) << 32
    } else if n >= 2 {
        let lo = u16::from_le_bytes([b[0], b[1]]);
        let hi = u16::from_le_bytes([b[n - 2], b[n - 1]]);
        u64::from(lo) | u64::from(hi) << 16
    } else {
        b.first().map_or(0, |&b| u64::from(b))
    }
}

/// `a == b` without a call to `memcmp` (names are short).
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    (&mut x).zip(&mut y).all(|(x, y)| word(x) == word(y)) && tail(x.remainder()) == tail(y.remainder())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Answers as a `HashMap` filled in order (the last of equal names counts).
        #[test]
        fn behaves_like_a_last_wins_hash_map(
            names in proptest::collection::vec("[a-c]{0,3}|[a-z0-9-]{6,20}|.{0,12}", 0..60),
            probes in proptest::collection::vec("[a-d]{0,3}|.{0,9}", 0..20),
        ) {
            let index = NameIndex::new(names.iter().map(String::as_str));
            let reference: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
            let at = |p: u32| names.get(p as usize).map(String::as_str);
            for probe in probes.iter().chain(&names) {
                prop_assert_eq!(index.get(probe, at), reference.get(probe.as_str()).copied());
            }
        }
    }

    #[test]
    fn equal_words_of_unequal_names_differ() {
        assert!(!same(b"ab", b"ab\0"));
        assert!(same(b"rollout-10-long-name", b"rollout-10-long-name"));
        assert!(!same(b"rollout-10-long-name", b"rollout-10-long-namf"));
        // Every length of tail, one byte changed anywhere.
        let name = b"abcdefghijklmnop";
        for len in 0..=name.len() {
            for at in 0..len {
                let mut other = name[..len].to_vec();
                other[at] ^= 1;
                assert!(!same(&name[..len], &other), "{len} {at}");
            }
            assert!(same(&name[..len], &name[..len]));
        }
    }
}
