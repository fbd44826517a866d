// FlagSet.loadValidated (wasm/js/validated.js): a server-validated file loaded lazily, each
// flag by the engine on first use. Same answers as the native engine through every path
// (the differential corpus), the same problems (with whole-file paths) for a file that was not
// in fact valid, the checked load when the checksum does not match, and the layouts a file
// can have (member order, escapes, whitespace, segments before flags).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import { FlagSet, PreparedContext, ValidatedFlagSet } from "../../wasm/pkg/node.js";
import { edgeflagMissing, startEdgeflag } from "./edgeflag-server.mjs";
import { corpusPath, examplesFlags, manyFlags, replayCorpus } from "./helpers.mjs";
import { xxh64 } from "./xxh64.mjs";

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");
// The manifest's `xxh64`, as an edge passes it (the fast path; `sha256` is tested below).
const load = (text) => FlagSet.loadValidated(text, xxh64(text));
const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));

/** Every flag's answer through every path, plus evaluateAll, for comparing two sets. */
function answers(set, contexts, envs = [undefined]) {
  const out = [];
  for (const env of envs) {
    for (const ctx of contexts) {
      for (const key of [...set.flagKeys, "no-such-flag"]) {
        out.push(set.evaluate(key, ctx, env), set.flag(key, env).evaluate(ctx));
        out.push(JSON.parse(set.evaluateJson(key, JSON.stringify(ctx), env)));
      }
      out.push(set.evaluateAll(ctx, env), JSON.parse(set.evaluateAllJson(JSON.stringify(ctx), env)));
    }
  }
  return out;
}

async function sameAsChecked(text, contexts, envs) {
  const lazy = await load(text);
  assert.equal(lazy.lazy, true, "loaded lazily");
  const checked = new FlagSet(text);
  assert.deepStrictEqual(lazy.flagKeys, checked.flagKeys);
  assert.deepStrictEqual(answers(lazy, contexts, envs), answers(checked, contexts, envs));
}

const MODES = {
  "flags loaded as the cases ask": null,
  "evaluateAll first (the whole file loaded at once)": false,
  "every flag loaded one by one first (evaluateAll flag by flag)": true,
};
for (const [mode, lazyAfter] of Object.entries(MODES)) test(`the differential corpus: identical answers through every path of a lazily loaded set, ${mode}`, async () => {
  const sets = [];
  for (const f of corpus.files) {
    const set = await load(f.text);
    assert.equal(set.lazy, true, "the corpus files load lazily");
    if (lazyAfter === true) for (const key of set.flagKeys) set.evaluate(key, {});
    if (lazyAfter === false) set.evaluateAll({});
    sets.push(set);
  }
  const paths = {
    object: (c, set, env) => (c.all ? set.evaluateAll(c.context, env) : set.evaluate(c.flag, c.context, env)),
    handle: (c, set, env) => (c.all ? set.evaluateAll(c.context, env) : set.flag(c.flag, env).evaluate(c.context)),
    json: (c, set, env) => {
      const text = JSON.stringify(c.context);
      return JSON.parse(c.all ? set.evaluateAllJson(text, env) : set.evaluateJson(c.flag, text, env));
    },
    prepared: (c, set, env) => {
      const prepared = new PreparedContext(c.context);
      try {
        return c.all ? set.evaluateAllPrepared(prepared, env) : set.evaluatePrepared(c.flag, prepared, env);
      } finally {
        prepared.free();
      }
    },
  };
  assert.ok(corpus.cases.length >= 10_000);
  for (const [name, evaluateOne] of Object.entries(paths)) replayCorpus(corpus, sets, name, evaluateOne);
  if (lazyAfter !== null) for (const set of sets) assert.equal(set.lazy, lazyAfter, "evaluateAll loads the whole file only when many flags are not loaded");
});

test("invalid files: lazily, each broken flag throws its own problems with whole-file paths", async () => {
  assert.ok(corpus.invalid.length >= 5);
  let lazilyFound = 0;
  for (const bad of corpus.invalid) {
    let set;
    try {
      set = await load(bad.text);
    } catch (e) {
      // Problems outside the flags (or a layout the scan does not take): the checked load's.
      assert.equal(e.code, "INVALID_FLAG_FILE");
      assert.deepStrictEqual(e.problems, bad.problems);
      continue;
    }
    assert.equal(set.lazy, true);
    // Every problem the checked load reports in flags[i] is thrown by flag i's first use
    // (with the same path and message), and nothing is thrown that it does not report.
    const line = (p) => `${p.path}: ${p.message}`;
    const expected = new Set(bad.problems.map(line));
    const flagKeys = set.flagKeys;
    for (let i = 0; i < flagKeys.length; i++) {
      let thrown = null;
      try {
        set.evaluate(flagKeys[i], { targetingKey: "u" });
      } catch (e) {
        thrown = e;
      }
      const own = bad.problems.filter((p) => p.path.startsWith(`flags[${i}]`));
      if (own.length === 0 && thrown === null) continue;
      assert.ok(thrown, `flags[${i}] has problems but answered: ${JSON.stringify(own)}`);
      assert.equal(thrown.name, "EdgeflagError");
      assert.equal(thrown.code, "INVALID_FLAG_FILE");
      for (const p of thrown.problems) assert.ok(expected.has(line(p)), `not a problem of the file: ${line(p)}`);
      for (const p of own) assert.ok(thrown.problems.some((q) => q.path === p.path && q.message === p.message), `not thrown: ${JSON.stringify(p)}`);
      assert.match(thrown.message, /^invalid flag file \(\d+ problems?\)\n/);
      for (const p of thrown.problems) assert.ok(thrown.message.includes(`${p.path}: ${p.message}`));
      // The same error again on the next call (the flag is not read again).
      assert.throws(() => set.evaluate(flagKeys[i], {}), (e) => e === thrown);
      lazilyFound++;
    }
    // evaluateAll reaches every flag: the whole file's problems, as the checked load gives them.
    const fresh = await load(bad.text);
    assert.throws(() => fresh.evaluateAll({}), (e) => assert.deepStrictEqual(e.problems, bad.problems) ?? true);
    assert.throws(() => fresh.evaluateAllJson("{}"), (e) => e.code === "INVALID_FLAG_FILE");
  }
  assert.ok(lazilyFound > 0, "some corpus file had problems only inside flags");
});

test("either checksum of the manifest: xxh64 checked in the module, sha256 with WebCrypto", async () => {
  // The module's XXH64 against the reference (xxh64.mjs, from the specification), for text
  // that is ASCII (the module's layout) and not (the layout in JS, the checksum in the module).
  const ascii = examplesFlags;
  const other = JSON.stringify(manyFlags(40, "ключ-é-🚩"));
  for (const text of [ascii, other]) {
    const right = await FlagSet.loadValidated(text, xxh64(text));
    assert.equal(right.lazy, true, "the module's checksum is XXH64 of the UTF-8 bytes");
    assert.deepStrictEqual(right.evaluateAll({ targetingKey: "u" }), new FlagSet(text).evaluateAll({ targetingKey: "u" }));
    assert.equal((await FlagSet.loadValidated(text, xxh64(text).toUpperCase())).lazy, true, "upper-case hex");
    assert.equal((await FlagSet.loadValidated(text, sha256(text))).lazy, true, "the SHA-256 still does");
    // One bit off, in either checksum: the whole file is loaded and checked at once.
    const flip = (hex) => hex.slice(0, -1) + (parseInt(hex.at(-1), 16) ^ 1).toString(16);
    assert.equal((await FlagSet.loadValidated(text, flip(xxh64(text)))).lazy, false);
    assert.equal((await FlagSet.loadValidated(text, flip(sha256(text)))).lazy, false);
    // Neither form (a truncated digest, a prefix, not hex): the checked load too.
    for (const digest of [xxh64(text).slice(1), `xxh64:${xxh64(text)}`, "g".repeat(16), sha256(text).slice(0, 63), ""]) {
      assert.equal((await FlagSet.loadValidated(text, digest)).lazy, false, JSON.stringify(digest));
    }
  }
  // Lengths across a 32-byte stripe, so every tail (8-, 4- and 1-byte steps) is taken: loaded
  // lazily only when the module computed the reference's digest.
  const flag = JSON.stringify(manyFlags(1, "p").flags[0]);
  for (let pad = 0; pad < 40; pad++) {
    const text = `{"schema_version":1,"flags":[${flag}]${" ".repeat(pad)}}`;
    assert.equal((await FlagSet.loadValidated(text, xxh64(text))).lazy, true, `pad ${pad}`);
  }
  // Larger than a context may be (4 MB): the file's own limit applies to the checksum.
  const big = manyFlags(3000, "big");
  for (const f of big.flags) f.description = "d".repeat(1500);
  const bigText = JSON.stringify(big);
  assert.ok(bigText.length > 4 * 1024 * 1024);
  const bigSet = await FlagSet.loadValidated(bigText, xxh64(bigText));
  assert.equal(bigSet.lazy, true);
  assert.equal(bigSet.evaluate("big-2999", { targetingKey: "u" }).value, new FlagSet(bigText).evaluate("big-2999", { targetingKey: "u" }).value);
});

test("the real server's /edge/manifest.json: its xxh64 and sha256 are what loadValidated checks, version by version", { skip: edgeflagMissing }, async () => {
  const server = await startEdgeflag();
  try {
    const fetchVersion = async () => {
      const manifest = await (await fetch(`${server.base}/edge/manifest.json`)).json();
      const text = await (await fetch(`${server.base}/edge/${manifest.immutable}`)).text();
      return { manifest, text };
    };
    const first = await fetchVersion();
    assert.equal(first.manifest.xxh64, xxh64(first.text), "the reference's XXH64 of the served bytes");
    const set = await FlagSet.loadValidated(first.text, first.manifest.xxh64);
    assert.equal(set.lazy, true, "the server's xxh64 is the module's");
    assert.equal((await FlagSet.loadValidated(first.text, first.manifest.sha256)).lazy, true);
    const ctx = { targetingKey: "alice", country: "FR" };
    assert.deepStrictEqual(set.evaluateAll(ctx), new FlagSet(first.text).evaluateAll(ctx));
    // A new version: the next manifest's checksum swaps it in lazily; the old one does not match.
    const key = JSON.parse(first.text).flags[0].key;
    await server.publish((file) => {
      file.flags[0].enabled = !file.flags[0].enabled;
      return file;
    });
    const second = await fetchVersion();
    assert.equal(second.manifest.version, first.manifest.version + 1);
    assert.notEqual(second.manifest.xxh64, first.manifest.xxh64);
    await set.replaceValidated(second.text, second.manifest.xxh64);
    assert.equal(set.lazy, true);
    assert.deepStrictEqual(set.evaluate(key, ctx), new FlagSet(second.text).evaluate(key, ctx));
    assert.equal((await FlagSet.loadValidated(second.text, first.manifest.xxh64)).lazy, false, "a stale manifest: the checked load");
  } finally {
    await server.stop();
  }
});

test("a checksum that does not match: the whole file is checked at load, as by new FlagSet", async () => {
  for (const bad of corpus.invalid) {
    for (const digest of ["0".repeat(64), "0".repeat(16)]) {
      await assert.rejects(FlagSet.loadValidated(bad.text, digest), (e) => {
        assert.equal(e.code, "INVALID_FLAG_FILE");
        assert.deepStrictEqual(e.problems, bad.problems);
        return true;
      });
    }
  }
  const set = await FlagSet.loadValidated(examplesFlags, sha256(examplesFlags + " "));
  assert.equal(set.lazy, false);
  assert.deepStrictEqual(set.evaluateAll({ targetingKey: "u" }), new FlagSet(examplesFlags).evaluateAll({ targetingKey: "u" }));
  // Upper-case hex is the same checksum.
  assert.equal((await FlagSet.loadValidated(examplesFlags, sha256(examplesFlags).toUpperCase())).lazy, true);
  // Too long: refused as the checked load refuses it, before any scan.
  const huge = `{"schema_version":1,"flags":[],"pad":"${"x".repeat(17 * 1024 * 1024)}"}`;
  await assert.rejects(load(huge), (e) => e.code === "INPUT_TOO_LARGE");
  // Not text, or no checksum: the checked load's errors.
  await assert.rejects(FlagSet.loadValidated(42, "x"), (e) => e.name === "EdgeflagError" && e.code === "INVALID_ARGUMENT");
  assert.equal((await FlagSet.loadValidated(examplesFlags)).lazy, false);
});

const contexts = [
  { targetingKey: "alice", country: "FR", plan: "enterprise", email: "a@example.org", app_version: "9.1.0", ip: "10.2.3.4" },
  { targetingKey: "bob", country: "DE" },
  {},
  undefined,
];

test("layouts: member order, escapes, whitespace, segments before or after flags", async () => {
  const file = JSON.parse(examplesFlags);
  const envs = [undefined, ...(file.environments ?? []), "nowhere"];
  // Pretty-printed, and the original.
  await sameAsChecked(examplesFlags, contexts, envs);
  await sameAsChecked(JSON.stringify(file, null, "\t"), contexts, envs);
  // "key" last in every flag and segment, flags before segments, escapes in keys and values.
  const reordered = {
    schema_version: file.schema_version,
    flags: file.flags.map(({ key, ...rest }) => ({ ...rest, description: 'a "quoted" \\ key: {not [a] bracket}', key })),
    environments: file.environments,
    segments: (file.segments ?? []).map(({ key, ...rest }) => ({ ...rest, key })),
  };
  const text = JSON.stringify(reordered).replaceAll('"key":"', '"k\\u0065y":"');
  assert.ok(text.includes('"k\\u0065y"'));
  await sameAsChecked(text, contexts, envs);
  // Keys with escapes and non-ASCII; no segments; no flags.
  const odd = manyFlags(3, 'odd "ключ"\\');
  await sameAsChecked(JSON.stringify(odd), contexts);
  await sameAsChecked(JSON.stringify({ schema_version: 1, flags: [] }), contexts);
  const empty = await load('{"schema_version":1,"flags":[]}');
  assert.deepStrictEqual(empty.evaluateAll({}), []);
  assert.equal(empty.evaluateAllJson("{}"), "[]");
  assert.throws(() => empty.evaluateAll(7), (e) => e.name === "EdgeflagError");
});

test("prerequisites and segments come along with the flag that needs them", async () => {
  const file = manyFlags(6, "p");
  for (let i = 1; i < 6; i++) file.flags[i].prerequisites = [{ flag: `p-${i - 1}`, variation: "on" }];
  file.segments = [
    { key: "unused", included: ["nobody"] },
    { key: "vip", included: ["alice"], rules: [{ clauses: [{ attribute: "plan", operator: "in", values: ["gold"] }] }] },
  ];
  file.flags[0].rules.unshift({ clauses: [{ operator: "in_segment", values: ["vip"] }], variation: "off" });
  file.flags[3].environments = { prod: { rules: [{ clauses: [{ operator: "in_segment", values: ["vip"] }], variation: "on" }] } };
  const users = [...contexts, { targetingKey: "carol", plan: "gold", country: "FR" }];
  await sameAsChecked(JSON.stringify(file), users, [undefined, "prod"]);
  // The last flag alone first: its chain and the segment load with it.
  const set = await load(JSON.stringify(file));
  assert.deepStrictEqual(set.evaluate("p-5", users[4]), new FlagSet(JSON.stringify(file)).evaluate("p-5", users[4]));
});

test("a layout the scan does not take, or duplicate keys: the checked load decides", async () => {
  const dup = manyFlags(3);
  dup.flags[2].key = dup.flags[0].key;
  const text = JSON.stringify(dup);
  let checked;
  try {
    new FlagSet(text);
  } catch (e) {
    checked = e;
  }
  assert.ok(checked);
  await assert.rejects(load(text), (e) => assert.deepStrictEqual(e.problems, checked.problems) ?? true);
  // A flag that is not an object, a key that is not a string, a flags member twice, trailing text.
  for (const bad of [
    '{"schema_version":1,"flags":[1]}',
    '{"schema_version":1,"flags":[{"key":1}]}',
    '{"schema_version":1,"flags":[],"flags":[]}',
    '{"schema_version":1,"flags":[]} x',
    '{"schema_version":1,"flags":[{"key":"a"]}',
    '{"schema_version":1,"flags":[{"key":"\\x"}]}',
    '{"schema_version":1,"fl\\qags":[]}',
  ]) {
    await assert.rejects(load(bad), (e) => e.code === "INVALID_FLAG_FILE", bad);
  }
  // A flag that is not JSON inside (a trusted file that is not what it claims): its own load
  // reports it, as an EdgeflagError with the whole file's path, not a SyntaxError.
  const broken = '{"schema_version":1,"flags":[{"key":"a","kind":"boolean","variations":[1 2]}]}';
  const set = await load(broken);
  assert.equal(set.lazy, true);
  assert.throws(() => set.evaluate("a", {}), (e) => e.name === "EdgeflagError" && e.code === "INVALID_FLAG_FILE" && e.problems[0].path.startsWith("flags[0]"));
});

test("replace and replaceValidated are atomic and move the revision; handles follow", async () => {
  const first = manyFlags(4, "a");
  const set = await load(JSON.stringify(first));
  const handle = set.flag("b-1");
  assert.equal(handle.evaluate({ targetingKey: "u" }).errorCode, "FLAG_NOT_FOUND");
  assert.equal(set.revision, 1);
  assert.throws(() => set.replace('{"schema_version":1}'), (e) => e.code === "INVALID_FLAG_FILE");
  assert.equal(set.revision, 1);
  assert.equal(set.evaluate("a-1", { targetingKey: "u", country: "FR" }).value, true);
  const second = JSON.stringify(manyFlags(4, "b"));
  await set.replaceValidated(second, sha256(second));
  assert.equal(set.revision, 2);
  assert.equal(set.lazy, true);
  assert.equal(handle.evaluate({ targetingKey: "u", country: "FR" }).value, true);
  assert.equal(set.evaluate("a-1", {}).errorCode, "FLAG_NOT_FOUND");
  await assert.rejects(set.replaceValidated("{", sha256("{")), (e) => e.code === "INVALID_FLAG_FILE");
  assert.equal(set.revision, 2);
  set.replace(JSON.stringify(first));
  assert.equal(set.revision, 3);
  assert.equal(set.lazy, false);
  assert.equal(handle.evaluate({}).errorCode, "FLAG_NOT_FOUND");
  assert.ok(set instanceof ValidatedFlagSet);
  set.free();
});
