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

use std::io::Read;

/// Number of buckets: one per basis point.
pub const BUCKETS: u32 = 10_000;

/// murmur3 x86 32-bit (seed 0) of `salt + ":" + unit`, without building the joined string.
pub fn hash(salt: &str, unit: &str) -> u32 {
    hash_seeded(salt, unit, 0)
}

/// [`hash`] with another murmur3 seed (Unleash hashes variants with seed 86028157).
pub fn hash_seeded(salt: &str, unit: &str, seed: u32) -> u32 {
    let mut bytes = salt.as_bytes().chain(&b":"[..]).chain(unit.as_bytes());
    // Reading from in-memory slices cannot fail; 0 keeps this total rather than panicking.
    murmur3::murmur3_32(&mut bytes, seed).unwrap_or(0)
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
