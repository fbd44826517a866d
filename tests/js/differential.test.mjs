// Same answers: every case of the native corpus (wasm/examples/corpus.rs, >= 10,000 cases,
// answers computed by the native engine) replayed through the WASM module in Node, by the
// object path (the fast path of wasm/js/fast.js: only the fields a flag reads, integer answer
// codes, shared result objects), flag handles, the JSON-text path and the prepared-context
// path (the old object path: the whole context through JSON). Every field must be identical.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { FlagSet, PreparedContext, hash, bucket } from "../../wasm/pkg/node.js";
import { corpusPath, replayCorpus } from "./helpers.mjs";

const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
const sets = corpus.files.map((f) => new FlagSet(f.text));

const replay = (name, evaluateOne) => replayCorpus(corpus, sets, name, evaluateOne);

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

test("flag handles: identical answers", () => {
  const handles = sets.map(() => new Map());
  replay("handle", (c, set, env) => {
    if (c.all) return set.evaluateAll(c.context, env);
    const byKey = handles[c.file];
    const id = `${c.flag}\u0000${env ?? ""}`;
    let handle = byKey.get(id);
    if (!handle) byKey.set(id, (handle = set.flag(c.flag, env)));
    return handle.evaluate(c.context);
  });
});

test("the fast path answers the cases, it does not hand them to the old path", () => {
  // Unknown flags and environments go the old way (it writes their messages); nothing else.
  const proto = Object.getPrototypeOf(sets[0]);
  const wire = proto.__wireEvaluate;
  let through = false;
  proto.__wireEvaluate = function (...args) {
    through = true;
    return wire.apply(this, args);
  };
  const missed = [];
  let fast = 0;
  try {
    for (const c of corpus.cases) {
      if (c.all) continue;
      through = false;
      sets[c.file].evaluate(c.flag, c.context, c.env ?? undefined);
      if (through) fast++;
      else if (!["FLAG_NOT_FOUND", "INVALID_CONTEXT"].includes(c.expected.errorCode)) missed.push(c);
    }
  } finally {
    proto.__wireEvaluate = wire;
  }
  assert.ok(fast > 10_000, `${fast} cases through the wire`);
  assert.deepEqual(missed.slice(0, 3), [], `${missed.length} cases took the old path`);
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
