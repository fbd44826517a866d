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

import { evaluateUnleash } from "../../wasm/pkg/unleash/node.js";
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
