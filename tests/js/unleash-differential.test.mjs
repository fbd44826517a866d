// edgeflag's Unleash answers through the WASM package (`evaluateUnleash`) against the official
// Node SDK, unleash-client 6.12.1 (pinned in package.json), on the 12,000 seeded toggle and
// context pairs of evaluator/tests/support/unleash_cases.rs (the same ones
// evaluator/tests/unleash_agrees.rs compares with yggdrasil). isEnabled and getVariant must be
// identical, except in cases built on a deviation that evaluator/UNLEASH.md lists for the Node
// SDK ("fromNode" in the cases file); any other difference fails.
//
// The SDK runs offline: its UnleashClient (the evaluation core the Unleash class wraps) over an
// in-memory repository of the case's payload, with its default strategies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

import { evaluateUnleash, UnleashSet } from "../../wasm/pkg/unleash/node.js";
import { root } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const UnleashClient = require("unleash-client/lib/client.js").default;
const { defaultStrategies } = require("unleash-client/lib/strategy/index.js");
const sdkVersion = require("unleash-client/package.json").version;

const casesPath = process.env.EDGEFLAG_UNLEASH_CASES ?? path.join(root, "target/edgeflag-wasm/unleash-cases.json");

function loadCases() {
  if (!existsSync(casesPath)) {
    // scripts/test-unleash.sh and test-wasm.sh write it first; generate it when run alone.
    const run = spawnSync(
      "cargo",
      ["run", "--quiet", "-p", "edgeflag-evaluator", "--example", "unleash_cases", "--", casesPath],
      { cwd: root, stdio: "inherit" },
    );
    assert.equal(run.status, 0, "cargo run --example unleash_cases failed");
  }
  return JSON.parse(readFileSync(casesPath, "utf8"));
}

/** The Node SDK's two answers for one case. */
function nodeSdk({ payload, feature, context }) {
  const features = new Map(payload.features.map((f) => [f.name, f]));
  const segments = new Map((payload.segments ?? []).map((s) => [s.id, s]));
  const client = new UnleashClient(
    { getToggle: (name) => features.get(name), getSegment: (id) => segments.get(id) },
    defaultStrategies,
  );
  client.on("warn", () => {});
  client.on("error", () => {});
  const enabled = client.isEnabled(feature, context, () => false);
  const v = client.getVariant(feature, context);
  const variant = { name: v.name, enabled: v.enabled, feature_enabled: v.feature_enabled };
  if (v.payload !== undefined) variant.payload = v.payload;
  return { enabled, variant };
}

function edgeflag({ payload, feature, context }) {
  const answer = JSON.parse(evaluateUnleash(JSON.stringify(payload), JSON.stringify(context), feature));
  return { enabled: answer.enabled, variant: answer.variant };
}

test(`Unleash answers agree with the Node SDK (unleash-client ${sdkVersion}) through WASM`, () => {
  const { cases, fromNode } = loadCases();
  assert.ok(cases.length >= 10_000, `only ${cases.length} cases`);
  const deviations = new Map();
  const failures = [];
  let identical = 0;
  for (const c of cases) {
    const ours = edgeflag(c);
    const theirs = nodeSdk(c);
    try {
      assert.deepStrictEqual(ours, theirs);
      identical += 1;
      continue;
    } catch {
      // compared below
    }
    const listed = c.tags.find((t) => fromNode.includes(t));
    if (listed) {
      deviations.set(listed, (deviations.get(listed) ?? 0) + 1);
    } else {
      failures.push(`ours   ${JSON.stringify(ours)}\nnode   ${JSON.stringify(theirs)}\ncase   ${JSON.stringify(c)}`);
    }
  }
  console.log(
    `unleash vs node sdk ${sdkVersion}: ${cases.length} cases, ${identical} identical, listed deviations: ` +
      JSON.stringify(Object.fromEntries(deviations)),
  );
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} cases differ from the Node SDK outside UNLEASH.md's list`);
  assert.ok(identical >= cases.length * 0.9, `only ${identical} of ${cases.length} identical`);
  for (const tag of fromNode) {
    assert.ok(deviations.has(tag), `no case showed the listed deviation "${tag}": is it still one?`);
  }
});

// The same cases through a loaded UnleashSet, whose isEnabled/getVariant/evaluate copy only the
// fields a feature reads over the wire (wasm/js/unleash.js): every answer must equal the
// old path's (evaluateUnleash: the whole context as JSON text), and the wire must be the path
// actually taken (its answers are frozen objects; the old path's are not).
test("UnleashSet's wire answers as the JSON path does, on every differential case", () => {
  const { cases } = loadCases();
  const failures = [];
  let wire = 0;
  for (const c of cases) {
    const set = new UnleashSet(c.payload);
    const expected = edgeflag(c);
    const ours = { enabled: set.isEnabled(c.feature, c.context), variant: set.getVariant(c.feature, c.context) };
    const both = set.evaluate(c.feature, c.context);
    if (Object.isFrozen(both)) wire += 1;
    try {
      assert.deepStrictEqual(ours, expected);
      assert.deepStrictEqual({ enabled: both.enabled, variant: both.variant }, expected);
    } catch {
      failures.push(`wire   ${JSON.stringify(ours)}\njson   ${JSON.stringify(expected)}\ncase   ${JSON.stringify(c)}`);
    }
    set.free();
  }
  console.log(`unleash UnleashSet wire vs JSON path: ${cases.length} cases, ${cases.length - failures.length} identical, ${wire} over the wire`);
  assert.deepEqual(failures.slice(0, 3), [], `${failures.length} cases differ between the wire and the JSON path`);
  assert.ok(wire >= cases.length * 0.9, `only ${wire} of ${cases.length} cases took the wire`);
});

// The generated corpus has string contexts only. The wire also converts numbers, booleans,
// nulls, NaN, a clock given as a number, and a top-level field hiding a property: seeded
// contexts mixing them, each answer against the old path's (JSON text of the whole context),
// errors included.
test("UnleashSet's wire converts every kind of context value as the JSON path does", () => {
  const c = (contextName, operator, extra) => ({ contextName, operator, ...extra });
  const when = (constraint) => ({ name: "default", parameters: {}, constraints: [constraint] });
  const payload = {
    features: [
      { name: "in", enabled: true, strategies: [when(c("plan", "IN", { values: ["pro", "1", "true", "1.5", "", "1e+21", "1e21", "0"] }))] },
      { name: "num", enabled: true, strategies: [when(c("age", "NUM_GT", { value: "17" }))] },
      { name: "str", enabled: true, strategies: [when(c("email", "STR_ENDS_WITH", { values: ["ü.org", "e"], caseInsensitive: true }))] },
      { name: "date", enabled: true, strategies: [when(c("currentTime", "DATE_AFTER", { value: "2020-01-01T00:00:00.000Z" }))] },
      { name: "semver", enabled: true, strategies: [when(c("version", "SEMVER_GTE", { value: "1.2.0" }))] },
      { name: "cidr", enabled: true, strategies: [when(c("ip", "IN_CIDR", { values: ["10.0.0.0/8"] }))] },
      { name: "user", enabled: true, strategies: [{ name: "userWithId", parameters: { userIds: "u1, ,42,true" } }] },
      { name: "roll", enabled: true, strategies: [{ name: "flexibleRollout", parameters: { rollout: "50", stickiness: "plan", groupId: "g" } }] },
      { name: "split", enabled: true, strategies: [{ name: "flexibleRollout", parameters: { rollout: "100", stickiness: "default", groupId: "s" } }],
        variants: [
          { name: "a", weight: 500, stickiness: "default", overrides: [{ contextName: "age", values: ["7"] }] },
          { name: "b", weight: 500, stickiness: "default", payload: { type: "json", value: "{\"x\":1}" } },
        ] },
      { name: "child", enabled: true, strategies: [], dependencies: [{ feature: "num", variants: [] }, { feature: "in", enabled: false }] },
    ],
  };
  const values = [undefined, null, NaN, Infinity, "", "pro", "ü.org", "user@e", "10.1.2.3", " 10.1.2.3", "1.2.3", "1.10.0+b",
    0, -0, 1, 42, 17.5, 1.5, 1e21, 2 ** 60, true, false, "2021-06-01T00:00:00.000Z", "u1", "1e21"];
  const fields = ["userId", "sessionId", "remoteAddress", "plan", "age", "email", "currentTime", "version", "ip"];
  let seed = 14;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const set = new UnleashSet(payload);
  const json = JSON.stringify(payload);
  let wire = 0;
  let random = 0;
  const failures = [];
  for (let i = 0; i < 3000; i++) {
    const context = {};
    const properties = {};
    for (const f of fields) {
      const where = rand(4); // absent, top, property, both
      if (where & 1) context[f] = values[rand(values.length)];
      if (where & 2) properties[f] = values[rand(values.length)];
    }
    if (rand(3)) context.properties = properties;
    if (rand(50) === 0) context.currentTime = 1_700_000_000_000 + rand(10) * 1e11; // epoch ms
    for (const feature of payload.features.map((f) => f.name)) {
      let expected;
      try {
        expected = JSON.parse(evaluateUnleash(json, JSON.stringify(context), feature));
      } catch (e) {
        expected = { error: e.message };
      }
      let got;
      try {
        got = set.evaluate(feature, context);
        if (Object.isFrozen(got)) wire += 1;
        if (got.enabled !== set.isEnabled(feature, context)) throw new Error("isEnabled disagrees with evaluate");
        got = { ...got };
      } catch (e) {
        got = { error: e.message };
      }
      try {
        assert.deepStrictEqual(got, expected);
      } catch {
        // Without a stickiness unit the variant is a random draw: then the JSON path itself
        // answers differently from call to call, and there is nothing to compare.
        const again = () => evaluateUnleash(json, JSON.stringify(context), feature);
        const first = again();
        if (Array.from({ length: 40 }, again).some((a) => a !== first)) {
          random += 1;
          continue;
        }
        failures.push(`${feature}: wire ${JSON.stringify(got)} json ${JSON.stringify(expected)} context ${JSON.stringify(context)}`);
      }
    }
  }
  const total = 3000 * payload.features.length;
  console.log(
    `unleash UnleashSet wire, mixed value kinds: ${total} answers, ${total - failures.length - random} identical, ` +
      `${random} random draws (not compared), ${wire} over the wire`,
  );
  assert.deepEqual(failures.slice(0, 5), []);
  assert.ok(wire >= total * 0.9, `only ${wire} of ${total} took the wire`);
});
