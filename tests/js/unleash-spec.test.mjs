// The official Unleash client specification (npm @unleash/client-specification, pinned in the
// root package.json) through the WASM module (`evaluateUnleash`) and through the `edgeflag`
// CLI (`eval --format unleash`). The native run is evaluator/tests/unleash_spec.rs.
// Each runtime prints `unleash spec (<runtime>): N passed, M failed` and fails on any failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";

import { evaluateUnleash, UnleashSet } from "../../wasm/pkg/unleash/node.js";
import { root } from "./helpers.mjs";

const specDir =
  process.env.UNLEASH_SPEC_DIR ?? path.join(root, "node_modules/@unleash/client-specification/specifications");
const cli = process.env.EDGEFLAG_BIN ?? path.join(root, "target/debug/edgeflag");

/** Every case of every spec file: { file, state, description, toggleName, context, check }. */
function cases() {
  const files = JSON.parse(readFileSync(path.join(specDir, "index.json"), "utf8"));
  const out = [];
  for (const file of files) {
    const spec = JSON.parse(readFileSync(path.join(specDir, file), "utf8"));
    const state = JSON.stringify(spec.state);
    for (const t of spec.tests ?? []) out.push({ file, state, ...t, kind: "enabled" });
    for (const t of spec.variantTests ?? []) out.push({ file, state, ...t, kind: "variant" });
  }
  return { files, out };
}

/** Runs every case through `evaluate(case) -> {enabled, variant}` and reports per runtime. */
function runSuite(runtime, evaluate) {
  const { files, out } = cases();
  const failures = [];
  let passed = 0;
  for (const c of out) {
    let answer;
    try {
      answer = evaluate(c);
    } catch (e) {
      failures.push(`${c.file}: ${c.description}: threw ${e.message}`);
      continue;
    }
    const got = c.kind === "enabled" ? answer.enabled : answer.variant;
    try {
      assert.deepStrictEqual(got, c.expectedResult);
      passed += 1;
    } catch {
      failures.push(`${c.file}: ${c.description}: got ${JSON.stringify(got)}, expected ${JSON.stringify(c.expectedResult)}`);
    }
  }
  for (const f of failures) console.log(`FAILED (${runtime}) ${f}`);
  const tests = out.filter((c) => c.kind === "enabled").length;
  console.log(
    `unleash spec (${runtime}): ${files.length} files, ${tests} tests + ${out.length - tests} variantTests: ` +
      `${passed} passed, ${failures.length} failed`,
  );
  assert.ok(out.length > 0, "the spec has no cases");
  assert.deepEqual(failures, [], `${failures.length} Unleash spec cases failed in ${runtime}`);
}

test("Unleash client specification through the WASM module", () => {
  runSuite("wasm", (c) => JSON.parse(evaluateUnleash(c.state, JSON.stringify(c.context), c.toggleName)));
});

test("Unleash client specification through UnleashSet (each spec's payload loaded once)", () => {
  const sets = new Map();
  runSuite("wasm UnleashSet", (c) => {
    let set = sets.get(c.file);
    if (!set) sets.set(c.file, (set = new UnleashSet(c.state)));
    return { enabled: set.isEnabled(c.toggleName, c.context), variant: set.getVariant(c.toggleName, c.context) };
  });
});

test("UnleashSet: evaluate agrees with isEnabled/getVariant and evaluateUnleash; replace is atomic", () => {
  const payload = {
    features: [
      { name: "on", enabled: true, strategies: [{ name: "default", parameters: {}, constraints: [] }] },
      { name: "half", enabled: true, strategies: [{ name: "flexibleRollout", parameters: { rollout: "50", stickiness: "userId", groupId: "half" } }],
        variants: [{ name: "a", weight: 500, stickiness: "userId" }, { name: "b", weight: 500, stickiness: "userId" }] },
    ],
  };
  const set = new UnleashSet(payload);
  assert.equal(set.revision, 1);
  assert.deepEqual(set.featureNames, ["on", "half"]);
  for (let i = 0; i < 50; i++) {
    const ctx = { userId: `u-${i}`, properties: { plan: "pro" } };
    const both = set.evaluate("half", ctx);
    assert.equal(both.enabled, set.isEnabled("half", ctx));
    assert.deepEqual(both.variant, set.getVariant("half", ctx));
    assert.deepEqual(both, JSON.parse(evaluateUnleash(JSON.stringify(payload), JSON.stringify(ctx), "half")));
    assert.deepEqual(set.evaluate("half", JSON.stringify(ctx)), both, "JSON text contexts too");
  }
  assert.equal(set.isEnabled("missing", {}), false);
  assert.equal(set.evaluateAll(undefined).length, 2);
  // A bad payload throws with the field's path and the old one keeps serving.
  assert.throws(() => set.replace({ features: [{ name: 3 }] }), (e) => e.name === "EdgeflagError" && /features\[0\]\.name/.test(e.message));
  assert.throws(() => set.replace("{ nope"), (e) => e.name === "EdgeflagError");
  assert.equal(set.revision, 1);
  assert.equal(set.isEnabled("on", {}), true);
  set.replace({ features: [{ name: "on", enabled: false, strategies: [] }] });
  assert.equal(set.revision, 2);
  assert.equal(set.isEnabled("on", {}), false);
  assert.equal(set.isEnabled("half", { userId: "u-1" }), false, "gone with the old payload");
  assert.throws(() => set.isEnabled(7, {}), (e) => e.code === "INVALID_ARGUMENT");
  assert.throws(() => set.isEnabled("on", "[1]"), (e) => e.code === "INVALID_CONTEXT");
  // What the wire (wasm/js/unleash.js) cannot copy takes the JSON path, errors included.
  assert.throws(() => set.isEnabled("on", { properties: "pro" }), (e) => e.code === "INVALID_CONTEXT");
  assert.throws(() => set.getVariant("on", { properties: [1] }), (e) => e.code === "INVALID_CONTEXT");
  assert.throws(() => set.evaluate("on", 7), (e) => e.code === "INVALID_ARGUMENT");
});

test("UnleashSet answers are frozen objects made once per feature and answer; replace() starts afresh", () => {
  const variants = ["a", "b"].map((name) => ({ name, weight: 500, stickiness: "userId", payload: { type: "string", value: name } }));
  const payload = { features: [{ name: "ab", enabled: true, strategies: [{ name: "default", parameters: {} }], variants }] };
  const set = new UnleashSet(payload);
  const seen = new Map();
  for (let i = 0; i < 200; i++) {
    const v = set.getVariant("ab", { userId: `u-${i}` });
    assert.ok(Object.isFrozen(v) && Object.isFrozen(v.payload), "a frozen variant");
    if (seen.has(v.name)) assert.equal(v, seen.get(v.name), "one object per answer");
    else seen.set(v.name, v);
    assert.equal(set.evaluate("ab", { userId: `u-${i}` }).variant, v, "evaluate hands back the same variant");
  }
  assert.deepEqual([...seen.keys()].sort(), ["a", "b"]);
  // A context given as JSON text takes the JSON path: equal answers, fresh objects.
  const fromText = set.getVariant("ab", JSON.stringify({ userId: "u-1" }));
  assert.ok(!Object.isFrozen(fromText));
  assert.deepEqual(fromText, set.getVariant("ab", { userId: "u-1" }));
  // After replace() the new payload's answers, not the old cached ones.
  set.replace({ features: [{ name: "ab", enabled: true, strategies: [{ name: "default", parameters: {} }], variants: [{ name: "c", weight: 1, payload: { type: "string", value: "c" } }] }] });
  assert.equal(set.getVariant("ab", { userId: "u-1" }).name, "c");
  assert.equal(set.isEnabled("ab", { userId: "u-1" }), true);
});

test("Unleash client specification through `edgeflag eval --format unleash`", (t) => {
  if (!existsSync(cli)) {
    // scripts/test-unleash.sh builds it; other suites that glob tests/js may not have.
    t.skip(`${cli} not built (cargo build -p edgeflag-cli, or set EDGEFLAG_BIN)`);
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), "edgeflag-unleash-"));
  const written = new Map();
  try {
    runSuite("cli", (c) => {
      let file = written.get(c.file);
      if (!file) {
        file = path.join(dir, c.file);
        writeFileSync(file, c.state);
        written.set(c.file, file);
      }
      const args = ["eval", "--format", "unleash", file, "--flag", c.toggleName, "--context", JSON.stringify(c.context)];
      const run = spawnSync(cli, args, { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`exit ${run.status}: ${run.stderr}`);
      return JSON.parse(run.stdout);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("evaluateUnleash rejects unreadable payloads and contexts with the field's path", () => {
  assert.throws(() => evaluateUnleash('{"features":[{"name":3}]}', "{}", "x"), /features\[0\]\.name/);
  assert.throws(() => evaluateUnleash('{"features":[]}', "[1]", "x"), /must be a JSON object/);
  const all = JSON.parse(evaluateUnleash('{"features":[{"name":"a","enabled":true,"strategies":[]}]}', "{}"));
  assert.deepEqual(all, [
    { name: "a", enabled: true, variant: { name: "disabled", enabled: false, feature_enabled: true } },
  ]);
});

test("UnleashSet's wire under hostile contexts: huge values take the JSON path and its limits; no trap", () => {
  const payload = {
    features: [
      { name: "mail", enabled: true, strategies: [{ name: "default", parameters: {}, constraints: [{ contextName: "email", operator: "STR_ENDS_WITH", values: ["ü.org"] }] }] },
    ],
  };
  const set = new UnleashSet(payload);
  const json = JSON.stringify(payload);
  const old = (ctx) => JSON.parse(evaluateUnleash(json, JSON.stringify(ctx), "mail"));
  // Just under the wire's string limit, non-ASCII, on a fresh set (its buffer grows, and moves,
  // while the string is written): on the wire.
  for (const long of ["ü".repeat(60_000) + "@ü.org", "a".repeat(30_000) + "ü".repeat(30_000) + "@ü.org"]) {
    const fresh = new UnleashSet(payload);
    const answer = fresh.evaluate("mail", { email: long });
    assert.ok(Object.isFrozen(answer), "over the wire");
    assert.deepEqual({ ...answer }, old({ email: long }));
  }
  // Over it: the JSON path, whose context limit (1 M characters) refuses 2 M with an error.
  assert.throws(() => set.isEnabled("mail", { email: "x".repeat(2_000_000) }), (e) => e.name === "EdgeflagError" && e.code === "INPUT_TOO_LARGE");
  // Fields the feature does not read are not copied, however many.
  const wide = { properties: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`p${i}`, "v"])) };
  wide.properties.email = "a@ü.org";
  assert.equal(set.isEnabled("mail", wide), true);
  // Deep values, cycles and BigInts in a field it reads: the JSON path's errors, not a trap.
  const cyclic = {};
  cyclic.self = cyclic;
  assert.throws(() => set.isEnabled("mail", { email: cyclic }), (e) => e.name === "EdgeflagError");
  assert.throws(() => set.isEnabled("mail", { email: 1n }), (e) => e.name === "EdgeflagError");
  let deep = "x";
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.throws(() => set.isEnabled("mail", { email: deep }), (e) => e.name === "EdgeflagError");
  // Still serving.
  assert.equal(set.isEnabled("mail", { email: "b@ü.org" }), true);
});
