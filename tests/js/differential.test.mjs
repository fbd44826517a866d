// Same answers: every case of the native corpus (wasm/examples/corpus.rs, >= 10,000 cases,
// answers computed by the native engine) replayed through the WASM module in Node, by the
// object, JSON-text and prepared-context paths. Every field must be identical.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { FlagSet, PreparedContext, hash, bucket } from "../../wasm/pkg/node.js";
import { corpusPath } from "./helpers.mjs";

const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
const sets = corpus.files.map((f) => new FlagSet(f.text));

function replay(name, evaluateOne) {
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

test("the corpus is large and varied", () => {
  assert.ok(corpus.cases.length >= 10_000, `${corpus.cases.length} cases`);
  const reasons = new Set();
  const codes = new Set();
  let arms = 0;
  for (const c of corpus.cases) {
    for (const r of c.all ? c.expected : [c.expected]) {
      reasons.add(r.reason);
      if (r.errorCode) codes.add(r.errorCode);
      if (r.arm) arms++;
    }
  }
  for (const reason of ["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "PREREQUISITE_FAILED", "ERROR"]) {
    assert.ok(reasons.has(reason), `no case answers ${reason} (have ${[...reasons]})`);
  }
  assert.ok(codes.has("FLAG_NOT_FOUND") && codes.has("TARGETING_KEY_MISSING"), [...codes].join());
  assert.ok(arms > 100, `${arms} canary answers`);
});

test("object contexts: identical answers to the native engine", () => {
  replay("object", (c, set, env) => (c.all ? set.evaluateAll(c.context, env) : set.evaluate(c.flag, c.context, env)));
});

test("JSON-text contexts: identical answers", () => {
  replay("json", (c, set, env) => {
    const text = JSON.stringify(c.context);
    return JSON.parse(c.all ? set.evaluateAllJson(text, env) : set.evaluateJson(c.flag, text, env));
  });
});

test("prepared contexts: identical answers", () => {
  replay("prepared", (c, set, env) => {
    const prepared = new PreparedContext(c.context);
    try {
      return c.all ? set.evaluateAllPrepared(prepared, env) : set.evaluatePrepared(c.flag, prepared, env);
    } finally {
      prepared.free();
    }
  });
});

test("hashing vectors: identical hash and bucket", () => {
  assert.ok(corpus.hashes.length >= 1000);
  for (const v of corpus.hashes) {
    assert.equal(hash(v.salt, v.unit), v.hash, JSON.stringify(v));
    assert.equal(bucket(v.salt, v.unit), v.bucket, JSON.stringify(v));
  }
});

test("invalid files: the same problems, with the same paths", () => {
  assert.ok(corpus.invalid.length >= 5);
  for (const bad of corpus.invalid) {
    let thrown;
    try {
      new FlagSet(bad.text);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof Error, `accepted: ${bad.text.slice(0, 100)}`);
    assert.equal(thrown.code, "INVALID_FLAG_FILE");
    assert.deepStrictEqual(thrown.problems, bad.problems);
  }
});
