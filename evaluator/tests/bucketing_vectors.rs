//! The published bucketing vectors (spec/bucketing-vectors.json, generated with Python's mmh3)
//! checked against two implementations: the engine, and one written here from the spec alone.

use serde::Deserialize;

#[derive(Deserialize)]
struct VectorFile {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    salt: String,
    unit: String,
    hash: u32,
    bucket: u32,
}

fn vectors() -> Vec<Vector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/bucketing-vectors.json");
    let text = std::fs::read_to_string(path).expect("spec/bucketing-vectors.json is readable");
    serde_json::from_str::<VectorFile>(&text).expect("vectors file parses").vectors
}

/// murmur3 x86 32-bit exactly as Austin Appleby's reference MurmurHash3_x86_32 describes it.
fn reference_murmur3_x86_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let blocks = data.len() / 4;
    for i in 0..blocks {
        let b = &data[i * 4..i * 4 + 4];
        let mut k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = &data[blocks * 4..];
    let mut k: u32 = 0;
    if tail.len() >= 3 {
        k ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        k ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        k ^= tail[0] as u32;
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

fn reference_bucket(salt: &str, unit: &str) -> (u32, u32) {
    let joined = format!("{salt}:{unit}");
    let h = reference_murmur3_x86_32(joined.as_bytes(), 0);
    (h, ((h as u64 * 10_000) >> 32) as u32)
}

#[test]
fn vectors_file_is_large_and_covers_hard_units() {
    let v = vectors();
    assert!(v.len() >= 50, "only {} vectors", v.len());
    for needle in ["", "José", "日本語", "🚀"] {
        assert!(v.iter().any(|r| r.unit == needle), "no vector for unit {needle:?}");
    }
    assert!(v.iter().any(|r| r.unit.len() >= 1000), "no long unit");
}

#[test]
fn reference_implementation_matches_every_vector() {
    for row in vectors() {
        assert_eq!(reference_bucket(&row.salt, &row.unit), (row.hash, row.bucket), "salt {:?} unit {:?}", row.salt, row.unit);
    }
}

#[test]
fn engine_matches_every_vector() {
    for row in vectors() {
        assert_eq!(edgeflag_evaluator::hashing::hash(&row.salt, &row.unit), row.hash, "hash of {:?}:{:?}", row.salt, row.unit);
        assert_eq!(edgeflag_evaluator::hashing::bucket(&row.salt, &row.unit), row.bucket, "bucket of {:?}:{:?}", row.salt, row.unit);
    }
}
