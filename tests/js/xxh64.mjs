// XXH64 (seed 0) written from the xxHash specification with BigInt: a reference independent of
// the engine's (xxhash-rust in the WASM module), for checking the `xxh64` the server publishes
// and `FlagSet.loadValidated` checks, and for benches that stand in for the manifest.
// Slow (BigInt); for tests and benches only.
const M = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;
const rotl = (x, r) => ((x << BigInt(r)) | (x >> BigInt(64 - r))) & M;
const round = (acc, lane) => (rotl((acc + lane * P2) & M, 31) * P1) & M;
const mergeRound = (acc, v) => (((acc ^ round(0n, v)) * P1 + P4) & M);

/** XXH64 of `input` (a string, as its UTF-8 bytes, or bytes), as 16 lowercase hex digits. */
export function xxh64(input) {
  const b = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.length;
  let i = 0;
  let h;
  if (n >= 32) {
    let v1 = (P1 + P2) & M;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (0n - P1) & M;
    for (; i + 32 <= n; i += 32) {
      v1 = round(v1, view.getBigUint64(i, true));
      v2 = round(v2, view.getBigUint64(i + 8, true));
      v3 = round(v3, view.getBigUint64(i + 16, true));
      v4 = round(v4, view.getBigUint64(i + 24, true));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) & M;
    for (const v of [v1, v2, v3, v4]) h = mergeRound(h, v);
  } else {
    h = P5;
  }
  h = (h + BigInt(n)) & M;
  for (; i + 8 <= n; i += 8) h = (rotl(h ^ round(0n, view.getBigUint64(i, true)), 27) * P1 + P4) & M;
  for (; i + 4 <= n; i += 4) h = (rotl(h ^ ((BigInt(view.getUint32(i, true)) * P1) & M), 23) * P2 + P3) & M;
  for (; i < n; i++) h = (rotl(h ^ ((BigInt(b[i]) * P5) & M), 11) * P1) & M;
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return h.toString(16).padStart(16, "0");
}
