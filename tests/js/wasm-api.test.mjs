// The JS API of the WASM package in Node: loading, evaluating, replacing, errors, and the
// "never a trap" guarantee on hostile input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { FlagSet, PreparedContext, validateFlagFile, hash, bucket, engineVersion } from "../../wasm/pkg/node.js";
import { examplesFlags, manyFlags, pkgDir } from "./helpers.mjs";

const alice = { targetingKey: "alice", email: "alice@example.com", country: "FR" };

function assertEdgeflagError(fn, code, messagePart) {
  let thrown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof Error, `expected an Error, got ${thrown}`);
  assert.equal(thrown.name, "EdgeflagError");
  assert.equal(thrown.code, code, thrown.message);
  if (messagePart) assert.match(thrown.message, messagePart);
  assert.ok(Array.isArray(thrown.problems));
  return thrown;
}

test("loads the example flag file from text and from an object, with the same answers", () => {
  const fromText = new FlagSet(examplesFlags);
  const fromObject = new FlagSet(JSON.parse(examplesFlags));
  assert.deepEqual(fromText.flagKeys, fromObject.flagKeys);
  assert.ok(fromText.flagKeys.includes("new-dashboard"));
  for (const key of fromText.flagKeys) {
    for (const env of [undefined, "dev", "staging", "prod"]) {
      assert.deepEqual(fromText.evaluate(key, alice, env), fromObject.evaluate(key, alice, env));
    }
  }
});

test("evaluate answers with the documented shape", () => {
  const flags = new FlagSet(examplesFlags);
  const r = flags.evaluate("new-dashboard", { targetingKey: "alice" });
  assert.equal(r.key, "new-dashboard");
  assert.equal(r.value, true, "alice is on the allow list");
  assert.equal(r.variant, "on");
  assert.equal(r.reason, "TARGETING_MATCH");
  const denied = flags.evaluate("new-dashboard", { targetingKey: "mallory" });
  assert.equal(denied.variant, "off");
  assert.equal(denied.reason, "TARGETING_MATCH");
  for (const key of Object.keys(r)) {
    assert.ok(
      ["key", "value", "variant", "reason", "ruleIndex", "arm", "experiment", "errorCode", "errorMessage"].includes(key),
      `unexpected field ${key}`,
    );
  }
});

test("an unknown flag is an answer with FLAG_NOT_FOUND, not a throw", () => {
  const flags = new FlagSet(examplesFlags);
  const r = flags.evaluate("no-such-flag", alice);
  assert.equal(r.key, "no-such-flag");
  assert.equal(r.reason, "ERROR");
  assert.equal(r.errorCode, "FLAG_NOT_FOUND");
  assert.equal(r.value, null);
  assert.equal(r.variant, null);
});

test("evaluateAs reports TYPE_MISMATCH for the wrong kind and rejects unknown kinds", () => {
  const flags = new FlagSet(manyFlags(1));
  assert.equal(flags.evaluateAs("flag-0", "boolean", alice).errorCode, undefined);
  assert.equal(flags.evaluateAs("flag-0", "string", alice).errorCode, "TYPE_MISMATCH");
  assertEdgeflagError(() => flags.evaluateAs("flag-0", "colour", alice), "INVALID_ARGUMENT", /colour/);
});

// fast.js names the engine's kind codes with its own KINDS list (it must mirror Rust's
// FlagKind::ALL): a flag of another kind than asked takes the fast path only when the names
// agree, so any disagreement shows here as a value where TYPE_MISMATCH is due, or the reverse.
test("evaluateAs agrees on every pair of kinds (fast.js's KINDS mirror FlagKind::ALL)", () => {
  const kinds = { boolean: [true, false], string: ["a", "b"], number: [1, 2], json: [{ a: 1 }, [2]] };
  const flags = Object.entries(kinds).map(([kind, [on, off]]) => ({
    key: `${kind}-flag`, kind, enabled: true, off_variation: "off", default_variation: "on",
    variations: [{ name: "on", value: on }, { name: "off", value: off }],
  }));
  const set = new FlagSet({ schema_version: 1, flags });
  for (const flagKind of Object.keys(kinds)) {
    for (const asked of Object.keys(kinds)) {
      const r = set.evaluateAs(`${flagKind}-flag`, asked, alice);
      if (asked === flagKind) {
        assert.equal(r.errorCode, undefined, `${flagKind} asked as ${asked}`);
        assert.deepEqual(r.value, kinds[flagKind][0]);
      } else {
        assert.equal(r.errorCode, "TYPE_MISMATCH", `${flagKind} asked as ${asked}`);
      }
    }
  }
  // The source list itself, in Rust's order (the wire's kind code is the position).
  const fast = readFileSync(path.join(pkgDir, "fast.js"), "utf8");
  const list = fast.match(/const KINDS = (\[[^\]]*\]);/);
  assert.ok(list, "fast.js declares KINDS");
  assert.deepEqual(JSON.parse(list[1]), ["boolean", "string", "number", "json"]);
});

test("evaluateAll answers every flag in file order", () => {
  const flags = new FlagSet(manyFlags(100));
  const all = flags.evaluateAll({ targetingKey: "u-1", country: "US" });
  assert.equal(all.length, 100);
  assert.deepEqual(all.map((r) => r.key), flags.flagKeys);
  const on = all.filter((r) => r.value === true).length;
  assert.ok(on > 20 && on < 80, `a 50 % rollout put ${on}/100 flags on`);
  const fr = flags.evaluateAll({ targetingKey: "u-1", country: "FR" });
  assert.ok(fr.every((r) => r.value === true && r.reason === "TARGETING_MATCH" && r.ruleIndex === 0));
});

test("the object, JSON-text and prepared paths give identical answers", () => {
  const flags = new FlagSet(examplesFlags);
  for (const user of ["alice", "bob", "carol", "mallory", "u-42", "u-43"]) {
    const ctx = { targetingKey: user, email: `${user}@edgeflag.dev`, country: "DE", ip: "10.20.1.2" };
    const prepared = new PreparedContext(ctx);
    assert.equal(prepared.targetingKey, user);
    for (const key of flags.flagKeys) {
      for (const env of [undefined, "prod"]) {
        const viaObject = flags.evaluate(key, ctx, env);
        assert.deepEqual(flags.evaluate(key, JSON.stringify(ctx), env), viaObject);
        assert.deepEqual(JSON.parse(flags.evaluateJson(key, JSON.stringify(ctx), env)), viaObject);
        assert.deepEqual(flags.evaluatePrepared(key, prepared, env), viaObject);
      }
    }
    assert.deepEqual(flags.evaluateAllPrepared(prepared, "dev"), flags.evaluateAll(ctx, "dev"));
    assert.deepEqual(JSON.parse(flags.evaluateAllJson(JSON.stringify(ctx), "dev")), flags.evaluateAll(ctx, "dev"));
    prepared.free();
  }
});

test("a missing context is anonymous: splits report TARGETING_KEY_MISSING", () => {
  const flags = new FlagSet(manyFlags(1));
  for (const ctx of [undefined, null, {}]) {
    const r = flags.evaluate("flag-0", ctx);
    assert.equal(r.variant, "off");
    assert.equal(r.errorCode, "TARGETING_KEY_MISSING");
  }
});

test("an invalid flag file throws one Error listing every problem with its path", () => {
  const file = manyFlags(3);
  file.flags[0].default_variation = "nope";
  file.flags[1].rules[0].clauses[0].operator = "almost_equal";
  file.flags[2].rollout.percent_bp = 20000;
  file.flags[2].surprise = 1;
  const e = assertEdgeflagError(() => new FlagSet(file), "INVALID_FLAG_FILE");
  const paths = e.problems.map((p) => p.path);
  assert.ok(paths.includes("flags[0].default_variation"), paths.join("\n"));
  assert.ok(paths.some((p) => p.startsWith("flags[1].rules[0].clauses[0]")), paths.join("\n"));
  assert.ok(paths.some((p) => p.startsWith("flags[2].rollout")), paths.join("\n"));
  assert.ok(paths.includes("flags[2].surprise"), paths.join("\n"));
  for (const p of e.problems) {
    assert.ok(e.message.includes(`${p.path}: ${p.message}`), `message lacks ${p.path}`);
  }
  assert.deepEqual(validateFlagFile(file).map((p) => p.path).sort(), [...paths].sort());
  assert.deepEqual(validateFlagFile(examplesFlags), []);
});

test("replace swaps atomically and keeps the last good file on error", () => {
  const flags = new FlagSet(manyFlags(2, "old"));
  assert.equal(flags.revision, 1);
  assertEdgeflagError(() => flags.replace("{ not json"), "INVALID_FLAG_FILE");
  assertEdgeflagError(() => flags.replace({ schema_version: 1, flags: [{ key: "x" }] }), "INVALID_FLAG_FILE");
  assert.equal(flags.revision, 1);
  assert.deepEqual(flags.flagKeys, ["old-0", "old-1"]);
  assert.equal(flags.evaluate("old-0", alice).reason, "TARGETING_MATCH");
  flags.replace(manyFlags(3, "new"));
  assert.equal(flags.revision, 2);
  assert.deepEqual(flags.flagKeys, ["new-0", "new-1", "new-2"]);
  assert.equal(flags.evaluate("old-0", alice).errorCode, "FLAG_NOT_FOUND");
});

test("hash and bucket follow the spec vectors", () => {
  const spec = JSON.parse(readFileSync(path.join(pkgDir, "../../spec/bucketing-vectors.json"), "utf8"));
  assert.ok(spec.vectors.length > 0);
  for (const v of spec.vectors) {
    assert.equal(hash(v.salt, v.unit), v.hash, `hash(${v.salt}, ${v.unit})`);
    assert.equal(bucket(v.salt, v.unit), v.bucket, `bucket(${v.salt}, ${v.unit})`);
  }
  assert.match(engineVersion(), /^\d+\.\d+\.\d+/);
});

test("wrong argument types throw EdgeflagError, never a RuntimeError", () => {
  const flags = new FlagSet(examplesFlags);
  assertEdgeflagError(() => new FlagSet(42), "INVALID_ARGUMENT", /flag file must be/);
  assertEdgeflagError(() => new FlagSet(undefined), "INVALID_ARGUMENT");
  assertEdgeflagError(() => new FlagSet(null), "INVALID_ARGUMENT");
  assertEdgeflagError(() => new FlagSet("[1, 2]"), "INVALID_FLAG_FILE");
  assertEdgeflagError(() => new FlagSet(""), "INVALID_FLAG_FILE");
  assertEdgeflagError(() => flags.evaluate(42, alice), "INVALID_ARGUMENT", /flagKey must be a string/);
  assertEdgeflagError(() => flags.evaluate(undefined, alice), "INVALID_ARGUMENT");
  assertEdgeflagError(() => flags.evaluate("new-dashboard", alice, 7), "INVALID_ARGUMENT", /env must be a string/);
  assertEdgeflagError(() => flags.evaluate("new-dashboard", 42), "INVALID_CONTEXT");
  assertEdgeflagError(() => flags.evaluate("new-dashboard", "not json"), "INVALID_CONTEXT");
  assertEdgeflagError(() => flags.evaluate("new-dashboard", "[1]"), "INVALID_CONTEXT", /object/);
  assertEdgeflagError(() => flags.evaluate("new-dashboard", [1, 2]), "INVALID_CONTEXT");
  assertEdgeflagError(() => flags.evaluate("new-dashboard", { targetingKey: true }), "INVALID_CONTEXT", /targetingKey/);
  // new-dashboard reads `email` (through the beta-testers segment): a value it cannot read
  // there is an error, as in the JSON text and prepared paths.
  assertEdgeflagError(() => flags.evaluate("new-dashboard", { email: 10n }), "INVALID_CONTEXT", /JSON/);
  const cyclic = { targetingKey: "a" };
  cyclic.email = { back: cyclic };
  assertEdgeflagError(() => flags.evaluate("new-dashboard", cyclic), "INVALID_CONTEXT");
  assertEdgeflagError(() => flags.evaluateAll(cyclic), "INVALID_CONTEXT");
  assertEdgeflagError(() => new PreparedContext({ big: 10n }), "INVALID_CONTEXT", /JSON/);
  assertEdgeflagError(() => flags.evaluate("new-dashboard", JSON.stringify({ a: 1 }).slice(1)), "INVALID_CONTEXT");
  assertEdgeflagError(() => new PreparedContext(Symbol("x")), "INVALID_CONTEXT");
  assertEdgeflagError(() => hash(1, "u"), "INVALID_ARGUMENT");
  // Still healthy afterwards.
  assert.equal(flags.evaluate("new-dashboard", { targetingKey: "alice" }).value, true);
});

test("hostile and huge inputs are refused with errors and the module keeps working", () => {
  const flags = new FlagSet(examplesFlags);
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  assertEdgeflagError(() => new FlagSet(deep), "INVALID_FLAG_FILE");
  assertEdgeflagError(() => flags.evaluate("new-dashboard", `{"a":${deep}}`), "INVALID_CONTEXT", /recursion|depth/i);
  let nested = {};
  for (let i = 0; i < 100_000; i++) nested = { n: nested };
  assertEdgeflagError(() => flags.evaluate("new-dashboard", { email: nested }), "INVALID_CONTEXT");
  assertEdgeflagError(() => flags.evaluateAll({ email: nested }), "INVALID_CONTEXT");
  // 200 levels: within JSON.stringify's reach, past the engine's reader limit (127).
  let deepish = "x";
  for (let i = 0; i < 200; i++) deepish = [deepish];
  assertEdgeflagError(() => flags.evaluate("new-dashboard", { email: deepish }), "INVALID_CONTEXT", /recursion|depth/i);
  const huge = "x".repeat(20 * 1024 * 1024);
  assertEdgeflagError(() => new FlagSet(huge), "INPUT_TOO_LARGE", /too large/);
  assertEdgeflagError(() => flags.evaluate("new-dashboard", { targetingKey: huge }), "INPUT_TOO_LARGE");
  assertEdgeflagError(() => flags.evaluate(huge, alice), "INPUT_TOO_LARGE");
  assertEdgeflagError(() => new FlagSet(`{"schema_version": 1, "flags": [${'"x",'.repeat(500_000)}"x"]}`), "INVALID_FLAG_FILE");
  // Big but legal: a 900 KB attribute and a 5,000-flag file.
  const wide = { targetingKey: "u", blob: "y".repeat(900_000) };
  assert.equal(flags.evaluate("new-dashboard", wide).key, "new-dashboard");
  const bigSet = new FlagSet(manyFlags(5000));
  assert.equal(bigSet.evaluateAll(alice).length, 5000);
  // Odd strings: lone surrogates, NUL, emoji in keys and values.
  assert.equal(flags.evaluate("\uD800", { targetingKey: "\u0000🚀" }).errorCode, "FLAG_NOT_FOUND");
  // JSON.stringify escapes a lone surrogate and strict JSON refuses it: an error, not a trap.
  assertEdgeflagError(() => flags.evaluate("new-dashboard", { targetingKey: "\uDFFF" }), "INVALID_CONTEXT");
  assert.equal(typeof bucket("\uD800", "\u0000"), "number");
  assert.equal(flags.evaluate("new-dashboard", { targetingKey: "alice" }).value, true);
});

test("evaluate reads only the attributes the flag uses: others are never looked at", () => {
  const flags = new FlagSet(examplesFlags);
  const cyclic = {};
  cyclic.self = cyclic;
  let nested = {};
  for (let i = 0; i < 100_000; i++) nested = { n: nested };
  const noisy = { targetingKey: "alice", big: 10n, cyclic, nested, huge: "z".repeat(20 * 1024 * 1024), fn() {}, [Symbol("s")]: 1 };
  const expected = flags.evaluate("new-dashboard", { targetingKey: "alice" });
  assert.deepEqual(flags.evaluate("new-dashboard", noisy), expected);
  assert.equal(expected.value, true);
  assert.equal(flags.evaluateAll(noisy).length, flags.flagKeys.length);
  // The whole-context paths still read (and check) everything.
  assertEdgeflagError(() => new PreparedContext(noisy), "INVALID_CONTEXT");
});

test("answers are frozen and shared; every field still equals the JSON-text path", () => {
  const flags = new FlagSet(examplesFlags);
  const a = flags.evaluate("checkout-redesign", { targetingKey: "u-1" }, "prod");
  const b = flags.evaluate("checkout-redesign", { targetingKey: "u-1" }, "prod");
  assert.equal(a, b, "the same answer object for the same (flag, environment, answer)");
  assert.ok(Object.isFrozen(a));
  assert.throws(() => {
    a.value = "changed";
  }, TypeError);
  assert.deepEqual(a, JSON.parse(flags.evaluateJson("checkout-redesign", '{"targetingKey":"u-1"}', "prod")));
});

test("flag handles answer as evaluate does, and follow replace()", () => {
  const flags = new FlagSet(manyFlags(3, "old"));
  const handle = flags.flag("new-1", "prod");
  assert.equal(handle.key, "new-1");
  assert.equal(handle.env, "prod");
  assert.equal(handle.evaluate({ targetingKey: "u" }).errorCode, "FLAG_NOT_FOUND");
  const old1 = flags.flag("old-1");
  const fr = { targetingKey: "u-9", country: "FR" };
  assert.deepEqual(old1.evaluate(fr), flags.evaluate("old-1", fr));
  assert.equal(old1.evaluate(fr).reason, "TARGETING_MATCH");
  flags.replace(manyFlags(3, "new"));
  assert.equal(old1.evaluate(fr).errorCode, "FLAG_NOT_FOUND");
  for (const user of ["a", "b", "c", "d"]) {
    assert.deepEqual(handle.evaluate({ targetingKey: user }), flags.evaluate("new-1", { targetingKey: user }, "prod"));
  }
  assertEdgeflagError(() => flags.flag(42).evaluate({}), "INVALID_ARGUMENT", /flagKey must be a string/);
  assertEdgeflagError(() => flags.flag("new-1", 7).evaluate({}), "INVALID_ARGUMENT", /env must be a string/);
  assert.equal(new FlagSet(examplesFlags).flag("new-dashboard", "nowhere").evaluate({}).errorCode, "INVALID_CONTEXT");
});

test("odd context values the fast path copies give the answers of the JSON-text path", () => {
  const file = manyFlags(1);
  file.flags[0].rules = [
    { clauses: [{ attribute: "n", operator: "num_gt", values: [1.5] }], variation: "on" },
    { clauses: [{ attribute: "tags", operator: "in", values: ["beta"] }], variation: "on" },
    { clauses: [{ attribute: "ok", operator: "eq", values: [true] }], variation: "on" },
    { clauses: [{ attribute: "name", operator: "eq", values: ["josé"], case_insensitive: true }], variation: "on" },
    { clauses: [{ attribute: "constructor", operator: "eq", values: ["x"] }], variation: "on" },
  ];
  file.flags[0].rollout.stickiness = "org";
  const flags = new FlagSet(file);
  const contexts = [
    { targetingKey: 7 }, { targetingKey: -0 }, { targetingKey: 2 ** 60 }, { targetingKey: 1.25 }, { targetingKey: NaN },
    { n: 2 }, { n: 1.5 }, { n: 1e21 }, { n: Infinity }, { n: "3" }, { tags: ["alpha", "beta"] }, { tags: { beta: true } },
    { ok: true }, { ok: false }, { name: "JOSÉ" }, { name: "josé" }, { org: 12 }, { org: "acme" }, { org: 1.5 },
    { org: 2 ** 53 + 2 }, { org: null }, { constructor: "x" }, {}, Object.create(null), { date: new Date(0), org: new Date(0) },
  ];
  for (const ctx of contexts) {
    const viaText = JSON.parse(flags.evaluateJson("flag-0", JSON.stringify(ctx)));
    assert.deepEqual(flags.evaluate("flag-0", ctx), viaText, JSON.stringify(ctx));
    assert.deepEqual(flags.evaluateAll(ctx), [viaText], JSON.stringify(ctx));
  }
});

test("a long prerequisite chain evaluates without exhausting the WASM stack", () => {
  const n = 2000;
  const file = manyFlags(n, "chain");
  for (let i = 1; i < n; i++) file.flags[i].prerequisites = [{ flag: `chain-${i - 1}`, variation: "on" }];
  let set;
  try {
    set = new FlagSet(file);
  } catch (e) {
    // Refusing an over-deep chain at load time is also safe: the point is no trap.
    assert.equal(e.name, "EdgeflagError", String(e));
    return;
  }
  // The engine bounds prerequisite depth (MAX_PREREQUISITE_DEPTH): past it the answer is
  // PREREQUISITE_FAILED, never a stack overflow.
  const r = set.evaluate(`chain-${n - 1}`, { targetingKey: "u", country: "FR" });
  assert.equal(r.key, `chain-${n - 1}`);
  assert.ok(["TARGETING_MATCH", "PREREQUISITE_FAILED"].includes(r.reason), JSON.stringify(r));
  const short = manyFlags(20, "short");
  for (let i = 1; i < 20; i++) short.flags[i].prerequisites = [{ flag: `short-${i - 1}`, variation: "on" }];
  assert.equal(new FlagSet(short).evaluate("short-19", { targetingKey: "u", country: "FR" }).value, true);
});

test("the generated .d.ts types the API with the custom types, not any", () => {
  const dts = readFileSync(path.join(pkgDir, "edgeflag_wasm.d.ts"), "utf8");
  const api = dts.slice(0, dts.indexOf("export type InitInput"));
  assert.doesNotMatch(api, /:\s*any\b|\bany\[\]|<any>/, "the public API uses the type `any`");
  for (const sig of [
    "evaluate(flagKey: string, context: EvaluationContext | string, env?: string | null): EvaluationResult;",
    "evaluateAll(context: EvaluationContext | string, env?: string | null): EvaluationResult[];",
    "constructor(file: FlagFile | string);",
    "replace(file: FlagFile | string): void;",
    "export interface EdgeflagError extends Error",
    "export function validateFlagFile(file: FlagFile | string): Problem[];",
  ]) {
    assert.ok(dts.includes(sig), `missing in .d.ts: ${sig}`);
  }
});

test("the package root is the core engine; edgeflag/unleash adds evaluateUnleash with the same answers", async () => {
  const core = await import("../../wasm/pkg/node.js");
  const full = await import("../../wasm/pkg/unleash/node.js");
  assert.equal(core.evaluateUnleash, undefined, "the core module must not carry the Unleash model");
  assert.equal(typeof full.evaluateUnleash, "function");
  const a = new core.FlagSet(examplesFlags);
  const b = new full.FlagSet(examplesFlags);
  assert.deepEqual(b.evaluateAll(alice, "prod"), a.evaluateAll(alice, "prod"));
  const coreBytes = readFileSync(path.join(pkgDir, "edgeflag_wasm_bg.wasm")).length;
  const fullBytes = readFileSync(path.join(pkgDir, "unleash/edgeflag_wasm_bg.wasm")).length;
  assert.ok(coreBytes < fullBytes, `core ${coreBytes} B should be smaller than unleash ${fullBytes} B`);
  // Every file the exports map names exists in the built package.
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  const targets = JSON.stringify(pkg.exports).match(/"\.\/[^"]+\.(js|ts|wasm|json)"/g) ?? [];
  assert.ok(targets.length > 10, "the exports map lists its files");
  for (const target of new Set(targets.map((t) => JSON.parse(t)))) {
    assert.ok(existsSync(path.join(pkgDir, target)), `exports names ${target}, which the build did not write`);
  }
});

test("a large file loads as ASCII bytes or, with other characters, as text: same answers and errors", () => {
  // fast.js hands a large ASCII file over as TextEncoder bytes (input.rs); any other
  // character sends it the old way. Both must read the file the same, errors included.
  const file = manyFlags(200);
  const ascii = JSON.stringify(file);
  assert.ok(ascii.length >= 4096 && /^[\x00-\x7f]*$/.test(ascii));
  const accented = JSON.parse(ascii);
  accented.flags[0].description = "déjà vu \u{1F680}";
  const users = ["alice", "bob", "user-17"].map((targetingKey) => ({ targetingKey, country: "FR" }));
  const asText = new FlagSet(JSON.stringify(accented));
  const asBytes = new FlagSet(ascii);
  for (const user of users) assert.deepEqual(asBytes.evaluateAll(user), asText.evaluateAll(user));
  assert.equal(asText.flagKeys.length, file.flags.length);
  const broken = JSON.parse(ascii);
  broken.flags[3].kind = "colour";
  const e = assertEdgeflagError(() => new FlagSet(JSON.stringify(broken)), "INVALID_FLAG_FILE", /flags\[3\]\.kind/);
  assert.match(e.message, /unknown variant `colour`/);
  assertEdgeflagError(() => asBytes.replace(JSON.stringify(broken) + " x"), "INVALID_FLAG_FILE", /trailing characters/);
  assert.equal(asBytes.revision, 1, "a failed replace keeps the file");
  // Bytes given directly must be ASCII: never read as anything else.
  assertEdgeflagError(() => new FlagSet(new Uint8Array([0x7b, 0xff, 0x7d])), "INVALID_ARGUMENT", /ASCII/);
});
