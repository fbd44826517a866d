// Shared paths and fixtures for the WASM tests.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import assert from "node:assert/strict";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const pkgDir = path.join(root, "wasm/pkg");
export const examplesFlags = readFileSync(path.join(root, "examples/flags.json"), "utf8");
export const corpusPath =
  process.env.EDGEFLAG_CORPUS ?? path.join(root, "target/edgeflag-wasm/corpus.json");

/** A valid flag file with `n` boolean flags, each a 50 % rollout. */
export function manyFlags(n, prefix = "flag") {
  const flags = [];
  for (let i = 0; i < n; i++) {
    flags.push({
      key: `${prefix}-${i}`,
      kind: "boolean",
      enabled: true,
      variations: [
        { name: "on", value: true },
        { name: "off", value: false },
      ],
      off_variation: "off",
      default_variation: "off",
      rules: [
        {
          clauses: [{ attribute: "country", operator: "in", values: ["FR", "DE"] }],
          variation: "on",
        },
      ],
      rollout: { percent_bp: 5000, variation: "on" },
    });
  }
  return { schema_version: 1, flags };
}

/**
 * Replays every case of the native corpus through `evaluateOne(case, set, env)` against
 * `sets` (one per corpus file) and fails with the first mismatches: the native-vs-WASM
 * differential, whichever path or loader is under test.
 */
export function replayCorpus(corpus, sets, name, evaluateOne) {
  const bad = [];
  for (const c of corpus.cases) {
    const got = evaluateOne(c, sets[c.file], c.env ?? undefined);
    try {
      assert.deepStrictEqual(got, c.expected);
    } catch {
      bad.push({ case: c, got });
    }
  }
  assert.equal(bad.length, 0, `${name}: ${bad.length} mismatches, first: ${JSON.stringify(bad.slice(0, 3), null, 1)}`);
}
