//! String-keyed lookups that are built once (per flag file, per context) and read on every
//! evaluation: flag keys, targeting lists, segments' members, environments, attributes.
//!
//! Why not `HashMap`: hashbrown and SipHash put one copy of the table code per key and value
//! type in the WASM module (measured in wasm/README.md "Size"). [`KeyMap`] is an open-addressing table of `u32`
//! positions into a vector of keys, probed by one small function whatever the value type. Its
//! hash is not keyed (SipHash's defence against chosen collisions), so it only holds keys from
//! the flag file, which is the admin's: a caller choosing what to look up can only walk the
//! probe sequences the file made, and those stay short at a load of at most one half.
//! Keys that come with a request (a context's attributes) go in a [`SortedMap`] instead, which
//! no choice of keys makes slower than O(n log n) to build and O(log n) to read.

/// A map from strings to `V`, in insertion order.
#[derive(Debug, Clone)]
pub struct KeyMap<V> {
    keys: Vec<String>,
    values: Vec<V>,
    slots: Slots,
}

/// A set of strings.
pub type KeySet = KeyMap<()>;

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            keys: Vec::new(),
            values: Vec::new(),
            slots: Slots::default(),
        }
    }
}

impl<V: PartialEq> PartialEq for KeyMap<V> {
    /// The same entries, in whatever order they were added.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<V> KeyMap<V> {
    /// From entries in any order; of equal keys the first is kept.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn from_entries(entries: Vec<(String, V)>) -> Self {
        let mut map = KeyMap {
            keys: Vec::with_capacity(entries.len()),
            values: Vec::with_capacity(entries.len()),
            slots: Slots::for_len(entries.len()),
        };
        for (key, value) in entries {
            if let Err(slot) = map.slots.probe(&map.keys, &key) {
                map.slots.take(slot, map.keys.len());
                map.keys.push(key);
                map.values.push(value);
            }
        }
        map
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.slots
            .probe(&self.keys, key)
            .ok()
            .and_then(|i| self.values.get(i))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.slots.probe(&self.keys, key).is_ok()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key at a position (insertion order).
    pub fn key_at(&self, position: usize) -> Option<&str> {
        self.keys.get(position).map(String::as_str)
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.keys().zip(&self.values)
    }
}

impl KeySet {
    /// From keys in any order (duplicates count once).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn from_keys(keys: impl IntoIterator<Item = String>) -> Self {
        KeyMap::from_entries(keys.into_iter().map(|k| (k, ())).collect())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.contains_key(key)
    }
}

/// A map for keys from untrusted input: entries sorted by key (length first), found by bisection.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<V> SortedMap<V> {
    /// From entries in any order; of equal keys the last is kept (as in a JSON object that
    /// serde_json reads).
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn from_entries(entries: Vec<(String, V)>) -> Self {
        let keep = {
            let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            sorted_last_occurrences(&keys)
        };
        let mut slots: Vec<Option<(String, V)>> = entries.into_iter().map(Some).collect();
        SortedMap {
            entries: keep
                .into_iter()
                .filter_map(|i| slots.get_mut(i).and_then(Option::take))
                .collect(),
        }
    }

    /// From entries already in key order without repeats (what a caller that knows its keys'
    /// order writes); `Err` gives them back when they are not.
    pub fn from_sorted(entries: Vec<(String, V)>) -> Result<Self, Vec<(String, V)>> {
        let sorted = entries.windows(2).all(|w| key_order(&w[0].0, &w[1].0) == std::cmp::Ordering::Less);
        if sorted {
            Ok(SortedMap { entries })
        } else {
            Err(entries)
        }
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.search(key)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    /// Where `key` is (a position for [`SortedMap::value_at`], valid until the next insert).
    pub fn position(&self, key: &str) -> Option<usize> {
        self.search(key).ok()
    }

    /// The value at a position from [`SortedMap::position`].
    pub fn value_at(&self, position: usize) -> Option<&V> {
        self.entries.get(position).map(|(_, v)| v)
    }

    /// Adds or replaces one entry.
    pub fn insert(&mut self, key: String, value: V) {
        match self.search(&key) {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (key, value)),
        }
    }

    /// Entries, shorter keys first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    fn search(&self, key: &str) -> Result<usize, usize> {
        // Not in the WASM module: there a context usually lives for one evaluation.
        #[cfg(not(target_arch = "wasm32"))]
        if self.entries.len() <= 8 {
            // A typical context: a walk that mostly compares lengths beats bisection
            // (measured on the evaluate bench: 2.5x fewer instructions per lookup).
            for (i, (k, _)) in self.entries.iter().enumerate() {
                if k.len() < key.len() {
                    continue;
                }
                if k.len() > key.len() {
                    return Err(i);
                }
                match k.as_bytes().cmp(key.as_bytes()) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => return Ok(i),
                    std::cmp::Ordering::Greater => return Err(i),
                }
            }
            return Err(self.entries.len());
        }
        self.entries.binary_search_by(|(k, _)| key_order(k, key))
    }
}

/// Shorter keys first, then by bytes: most comparisons end at the lengths, before any byte is
/// read (attribute names rarely share a length).
pub(crate) fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// Positions of `keys` in key order, only the last occurrence of each key.
#[cfg_attr(edgeflag_size, optimize(size))]
pub(crate) fn sorted_last_occurrences(keys: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    // Equal keys by position, so the last of each run is the last in the input.
    order.sort_unstable_by(|&a, &b| key_order(keys[a], keys[b]).then(a.cmp(&b)));
    let mut keep: Vec<usize> = Vec::with_capacity(order.len());
    for &p in &order {
        match keep.last_mut() {
            Some(last) if keys[*last] == keys[p] => *last = p,
            _ => keep.push(p),
        }
    }
    keep
}

/// For each of `keys` (in order), the position of the first occurrence of the same key: its
/// own position when it is the first. What duplicate checks report ("first used at").
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn first_positions(keys: &[&str]) -> Vec<usize> {
    let mut slots = Slots::for_len(keys.len());
    let mut first = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        // The table holds the positions of first occurrences only.
        match slots.probe(keys, key) {
            Ok(earlier) => first.push(earlier),
            Err(slot) => {
                slots.take(slot, i);
                first.push(i);
            }
        }
    }
    first
}

const EMPTY: u32 = u32::MAX;

/// Positions into a key vector, by hash; empty, or a power of two at least twice the keys.
#[derive(Debug, Clone, Default)]
struct Slots(Vec<u32>);

impl Slots {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn for_len(len: usize) -> Slots {
        Slots(if len == 0 {
            Vec::new()
        } else {
            vec![EMPTY; (2 * len).next_power_of_two()]
        })
    }

    /// `Ok(position)` of `key` among `keys`, or `Err(slot)`: the free slot it would take.
    fn probe<K: AsRef<str>>(&self, keys: &[K], key: &str) -> Result<usize, usize> {
        if self.0.is_empty() {
            // An empty table (most deny and target lists): no need to hash the key.
            return Err(usize::MAX);
        }
        let mask = self.0.len() - 1;
        let mut slot = table_hash(key.as_bytes()) as usize & mask;
        // At most half the slots are taken, so the walk ends at a free one.
        while let Some(&taken) = self.0.get(slot) {
            if taken == EMPTY {
                return Err(slot);
            }
            if keys.get(taken as usize).is_some_and(|k| k.as_ref() == key) {
                return Ok(taken as usize);
            }
            slot = (slot + 1) & mask;
        }
        Err(usize::MAX)
    }

    fn take(&mut self, slot: usize, position: usize) {
        if let Some(s) = self.0.get_mut(slot) {
            *s = position as u32;
        }
    }
}

/// A fast multiplicative hash (FxHash's step, eight bytes at a time) for the tables only; the
/// bucketing hash is murmur3 ([`crate::hashing`]).
fn table_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let mut word = [0u8; 8];
    word[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    // The high bits are the well-mixed ones; fold them down for the mask.
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Lookups answer as a `HashMap` filled first-wins would, and duplicates are found
        /// at the same places as with a set of seen keys.
        #[test]
        fn behaves_like_a_first_wins_hash_map(
            keys in proptest::collection::vec("[a-c]{0,3}|[a-z0-9-]{6,20}", 0..60),
            probes in proptest::collection::vec("[a-d]{0,3}", 0..20),
        ) {
            let entries: Vec<(String, usize)> = keys.iter().cloned().zip(0..).collect();
            let map = KeyMap::from_entries(entries.clone());
            let mut reference = HashMap::new();
            for (k, v) in entries {
                reference.entry(k).or_insert(v);
            }
            prop_assert_eq!(map.len(), reference.len());
            for probe in probes.iter().chain(&keys) {
                prop_assert_eq!(map.get(probe), reference.get(probe));
                prop_assert_eq!(map.contains_key(probe), reference.contains_key(probe));
            }

            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let first = first_positions(&refs);
            let mut seen = HashMap::new();
            for (i, k) in refs.iter().enumerate() {
                let expected = *seen.entry(*k).or_insert(i);
                prop_assert_eq!(first[i], expected);
            }

        }
    }

    proptest! {
        #[test]
        fn sorted_map_behaves_like_a_last_wins_hash_map(
            keys in proptest::collection::vec("[a-c]{0,3}", 0..60),
            probes in proptest::collection::vec("[a-d]{0,3}", 0..20),
        ) {
            let entries: Vec<(String, usize)> = keys.iter().cloned().zip(0..).collect();
            let map = SortedMap::from_entries(entries.clone());
            let reference: HashMap<String, usize> = entries.into_iter().collect();
            for probe in probes.iter().chain(&keys) {
                prop_assert_eq!(map.get(probe), reference.get(probe));
            }
            prop_assert_eq!(map.iter().count(), reference.len());
            let mut inserted = SortedMap::default();
            for (i, k) in keys.iter().enumerate() {
                inserted.insert(k.clone(), i);
            }
            prop_assert_eq!(inserted, map);
        }
    }

    #[test]
    fn fifty_thousand_request_keys_are_found() {
        let entries: Vec<(String, u32)> = (0..50_000)
            .map(|i| (format!("attribute-{i:08}"), i))
            .collect();
        let map = SortedMap::from_entries(entries);
        assert_eq!(map.get("attribute-00049999"), Some(&49_999));
        assert_eq!(map.get("attribute-x"), None);
    }

    #[test]
    fn empty_maps_and_equality_ignore_order() {
        let empty: KeyMap<u8> = KeyMap::default();
        assert_eq!(empty.get(""), None);
        let ab = KeyMap::from_entries(vec![("a".to_string(), 1), ("b".to_string(), 2)]);
        let ba = KeyMap::from_entries(vec![("b".to_string(), 2), ("a".to_string(), 1)]);
        assert_eq!(ab, ba);
        assert_ne!(ab, KeyMap::from_entries(vec![("a".to_string(), 1)]));
        assert!(KeySet::from_keys(["x".to_string()]).contains("x"));
    }
}
