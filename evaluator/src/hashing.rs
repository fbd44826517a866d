//! The bucketing spec. Servers in other languages must reproduce it bit for bit:
//!
//! - `h(salt, unit)` = murmur3 x86 32-bit, seed 0, over the UTF-8 bytes of `salt + ":" + unit`.
//! - `bucket(salt, unit)` = `(h as u64 * 10000) >> 32`, so `0 <= bucket < 10000`.
//! - A unit is in a rollout or canary stage iff `bucket(rollout_salt, unit) < percent_bp`
//!   (`rollout_salt` defaults to the flag key). Raising a percentage only adds units.
//! - Experiment variants: cumulative weights over `bucket(experiment_salt, unit)`
//!   (`experiment_salt` defaults to `<flag key>/experiment`).
//!
//! Published vectors: `spec/bucketing-vectors.json`.

/// Number of buckets: one per basis point.
pub const BUCKETS: u32 = 10_000;

/// murmur3 x86 32-bit (seed 0) of `salt + ":" + unit`, without building the joined string.
pub fn hash(salt: &str, unit: &str) -> u32 {
    hash_seeded(salt, unit, 0)
}

/// [`hash`] with another murmur3 seed (Unleash hashes variants with seed 86028157).
pub fn hash_seeded(salt: &str, unit: &str, seed: u32) -> u32 {
    let len = salt.len() + 1 + unit.len();
    if len <= JOINED_ON_STACK {
        // The common case: salt and unit joined in a stack buffer and hashed as one slice.
        let mut joined = [0u8; JOINED_ON_STACK];
        joined[..salt.len()].copy_from_slice(salt.as_bytes());
        joined[salt.len()] = b':';
        joined[salt.len() + 1..len].copy_from_slice(unit.as_bytes());
        murmur3_32(&joined[..len], seed)
    } else {
        let mut state = Murmur3::new(seed);
        state.write(salt.as_bytes());
        state.write(b":");
        state.write(unit.as_bytes());
        state.finish()
    }
}

/// Longest `salt:unit` hashed from a stack buffer; longer ones are streamed.
const JOINED_ON_STACK: usize = 192;

/// murmur3 x86 32-bit over one slice: the reference algorithm, written here rather than taken
/// from the `murmur3` crate (whose `Read`-based loop costs a rollout time and the WASM module
/// bytes; README "Benchmarks" and wasm/README.md "Size"); the tests check it against the crate and the published vectors.
fn murmur3_32(bytes: &[u8], seed: u32) -> u32 {
    let mut state = Murmur3::new(seed);
    state.write(bytes);
    state.finish()
}

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// murmur3 x86 32-bit fed in pieces (blocks may straddle them).
struct Murmur3 {
    h: u32,
    tail: u32,
    tail_len: u32,
    len: u32,
}

impl Murmur3 {
    fn new(seed: u32) -> Self {
        Murmur3 { h: seed, tail: 0, tail_len: 0, len: 0 }
    }

    fn write(&mut self, bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len() as u32);
        let mut rest = bytes;
        while self.tail_len != 0 && !rest.is_empty() {
            self.push_byte(rest[0]);
            rest = &rest[1..];
        }
        let mut blocks = rest.chunks_exact(4);
        for block in &mut blocks {
            self.block(u32::from_le_bytes([block[0], block[1], block[2], block[3]]));
        }
        for &b in blocks.remainder() {
            self.push_byte(b);
        }
    }

    fn push_byte(&mut self, b: u8) {
        self.tail |= (b as u32) << (8 * self.tail_len);
        self.tail_len += 1;
        if self.tail_len == 4 {
            let k = self.tail;
            self.tail = 0;
            self.tail_len = 0;
            self.block(k);
        }
    }

    fn block(&mut self, k: u32) {
        self.h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        self.h = self.h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }

    fn finish(self) -> u32 {
        let mut h = self.h;
        if self.tail_len != 0 {
            h ^= self.tail.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        }
        h ^= self.len;
        h ^= h >> 16;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
        h = h.wrapping_mul(0xc2b2_ae35);
        h ^ (h >> 16)
    }
}

/// Maps a hash onto `0..10000` by multiply-shift (no modulo bias worth speaking of).
pub fn bucket_of_hash(hash: u32) -> u32 {
    ((hash as u64 * BUCKETS as u64) >> 32) as u32
}

/// The bucket of `unit` under `salt`, in `0..10000`.
pub fn bucket(salt: &str, unit: &str) -> u32 {
    bucket_of_hash(hash(salt, unit))
}

/// Whether `unit` is inside a `percent_bp` rollout salted with `salt`.
pub fn in_rollout(salt: &str, unit: &str, percent_bp: u32) -> bool {
    bucket(salt, unit) < percent_bp
}

/// Index of the weight range `bucket` falls into (cumulative weights in basis points).
/// Returns `None` only if the weights sum to no more than `bucket` (validation prevents it).
pub fn pick_weighted(bucket: u32, weights_bp: impl IntoIterator<Item = u32>) -> Option<usize> {
    let mut upper = 0u32;
    for (index, weight) in weights_bp.into_iter().enumerate() {
        upper = upper.saturating_add(weight);
        if bucket < upper {
            return Some(index);
        }
    }
    None
}

/// [`hash_seeded`] for one salt and many units: the murmur3 state after `salt:` is computed
/// once (Unleash strategies hash every unit under the same group id). Kept at the end of the
/// file: the lines above it are in the edge WASM module (as panic locations), which has a
/// size budget that moving them measurably changes.
pub struct SaltedHash(Murmur3);

impl SaltedHash {
    pub fn new(salt: &str, seed: u32) -> Self {
        let mut state = Murmur3::new(seed);
        state.write(salt.as_bytes());
        state.write(b":");
        SaltedHash(state)
    }

    /// `hash_seeded(salt, unit, seed)`.
    pub fn hash(&self, unit: &str) -> u32 {
        let Murmur3 { h, tail, tail_len, len } = self.0;
        let mut state = Murmur3 { h, tail, tail_len, len };
        state.write(unit.as_bytes());
        state.finish()
    }
}

impl Clone for SaltedHash {
    fn clone(&self) -> Self {
        let Murmur3 { h, tail, tail_len, len } = self.0;
        SaltedHash(Murmur3 { h, tail, tail_len, len })
    }
}

impl std::fmt::Debug for SaltedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SaltedHash")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_is_always_below_10000() {
        assert_eq!(bucket_of_hash(0), 0);
        assert_eq!(bucket_of_hash(u32::MAX), 9_999);
    }

    #[test]
    fn hash_joins_salt_and_unit_with_a_colon() {
        // Moving the separator changes the hash: "a:bc" and "ab:c" are different inputs.
        assert_ne!(hash("a", "bc"), hash("ab", "c"));
        let joined = murmur3::murmur3_32(&mut &b"flag:user-1"[..], 0).unwrap();
        assert_eq!(hash("flag", "user-1"), joined);
    }

    proptest::proptest! {
        /// The slice implementation equals the crate's, on both sides of the stack buffer.
        #[test]
        fn murmur3_equals_the_crate(salt in ".{0,150}", unit in ".{0,150}", seed: u32) {
            let mut joined = salt.clone().into_bytes();
            joined.push(b':');
            joined.extend_from_slice(unit.as_bytes());
            let reference = murmur3::murmur3_32(&mut &joined[..], seed).unwrap();
            proptest::prop_assert_eq!(murmur3_32(&joined, seed), reference);
            proptest::prop_assert_eq!(hash_seeded(&salt, &unit, seed), reference);
            proptest::prop_assert_eq!(SaltedHash::new(&salt, seed).hash(&unit), reference);
        }
    }

    #[test]
    fn weighted_pick_uses_cumulative_ranges() {
        assert_eq!(pick_weighted(0, [5000, 5000]), Some(0));
        assert_eq!(pick_weighted(4999, [5000, 5000]), Some(0));
        assert_eq!(pick_weighted(5000, [5000, 5000]), Some(1));
        assert_eq!(pick_weighted(9999, [5000, 5000]), Some(1));
        assert_eq!(pick_weighted(9999, [0, 10000]), Some(1));
        assert_eq!(pick_weighted(100, [50, 50]), None);
    }
}
