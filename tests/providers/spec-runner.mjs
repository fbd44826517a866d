// A small step-definition runner for OpenFeature's gherkin suites (providers/spec/gherkin),
// against the real OpenFeature JS SDKs (web or server) with edgeflag's providers. The
// feature files are parsed and their outlines expanded by @cucumber/gherkin; every step of a
// scenario must match one definition below (an unknown step fails the scenario).
//
// Scenarios that do not apply to edgeflag are listed in NOT_APPLICABLE with the reason and
// reported as skipped; providers/README.md lists them too.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { AstBuilder, GherkinClassicTokenMatcher, Parser, compile } from "@cucumber/gherkin";
import { IdGenerator } from "@cucumber/messages";

import { startFlagHost } from "./flag-host.mjs";

export const SPEC_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../providers/spec");
export const FEATURES = ["evaluation.feature", "evaluation_v2.feature", "metadata.feature", "events.feature", "contextMerging.feature"];
export const specFlags = readFileSync(path.join(SPEC_DIR, "openfeature-flags.json"), "utf8");

/** Scenario name (feature file: scenario) → why it does not apply; `kinds` limits it to a provider. */
export const NOT_APPLICABLE = [
  { feature: "evaluation_v2.feature", name: "CACHED reason", why: "edgeflag evaluates every call locally and caches no answers, so the reason is never CACHED" },
  {
    feature: "evaluation_v2.feature",
    name: "Error message in evaluation details",
    why: 'the expected wording ("flag error-flag not found") is flagd\'s; edgeflag answers FLAG_NOT_FOUND with reason ERROR and the message `flag "error-flag" not found` (the key quoted, so that any key reads unambiguously)',
  },
  { feature: "evaluation_v2.feature", name: "Flag metadata in evaluation details", why: "edgeflag flags carry no author-defined metadata; the providers' metadata is edgeflag's own (flagSetVersion, arm, experiment, ruleIndex, unitMissing)" },
  { feature: "metadata.feature", name: "Returns metadata", why: "edgeflag flags carry no author-defined metadata (see above)" },
  { feature: "evaluation_v2.feature", name: "Asynchronous flag evaluation", kinds: ["web"], why: "the web SDK's evaluation is synchronous by design (static context); the server provider runs it" },
  {
    feature: "contextMerging.feature",
    name: "*",
    why: "tests the SDK merging API, transaction, client, invocation and before-hook contexts before a provider is called, through a test provider that stores the context it was given; edgeflag's providers keep no user data, and the merging is the SDK's own code",
  },
];

export function notApplicable(kind, feature, name) {
  return NOT_APPLICABLE.find((n) => n.feature === feature && (n.name === "*" || n.name === name) && (!n.kinds || n.kinds.includes(kind)));
}

/** Every scenario of the suites: `{ feature, name, title, tags, steps: [{ text, table }] }`. */
export function loadScenarios() {
  const out = [];
  for (const feature of FEATURES) {
    const text = readFileSync(path.join(SPEC_DIR, "gherkin", feature), "utf8");
    const parser = new Parser(new AstBuilder(IdGenerator.incrementing()), new GherkinClassicTokenMatcher());
    const doc = parser.parse(text);
    const seen = new Map();
    for (const pickle of compile(doc, feature, IdGenerator.incrementing())) {
      const n = (seen.get(pickle.name) ?? 0) + 1;
      seen.set(pickle.name, n);
      out.push({
        feature,
        name: pickle.name,
        title: `${feature}: ${pickle.name} #${n}`,
        tags: pickle.tags.map((t) => t.name),
        steps: pickle.steps.map((s) => ({ text: s.text, table: s.argument?.dataTable?.rows.map((r) => r.cells.map((c) => c.value)) ?? null })),
      });
    }
  }
  return out;
}

const unescape = (s) => s.replace(/\\"/g, '"');

function parseValue(type, raw) {
  switch (type.toLowerCase()) {
    case "boolean":
      return raw === "true";
    case "integer":
      return Number.parseInt(raw, 10);
    case "float":
    case "double":
      return Number.parseFloat(raw);
    case "object":
      return JSON.parse(unescape(raw));
    default:
      return raw;
  }
}

const METHOD = { boolean: "Boolean", string: "String", integer: "Number", float: "Number", object: "Object" };

/**
 * The world of one scenario. `kind`: "web" | "server"; `sdk`: that SDK's module; `Provider`:
 * the edgeflag provider class; `engine`: the edgeflag WASM module.
 */
export class World {
  static count = 0;

  constructor({ kind, sdk, Provider, engine }) {
    Object.assign(this, { kind, sdk, Provider, engine });
    this.domain = `spec-${kind}-${++World.count}`;
    this.context = {};
    this.hosts = [];
    this.handlers = new Map();
  }

  get client() {
    return this.sdk.OpenFeature.getClient(this.domain);
  }

  provider(options) {
    return new this.Provider({ engine: this.engine, pollMs: 50, ...options });
  }

  async host(file = specFlags) {
    const h = await startFlagHost(file);
    this.hosts.push(h);
    return h;
  }

  async setStable() {
    await this.sdk.OpenFeature.setProviderAndWait(this.domain, this.provider({ flags: specFlags }));
  }

  /** A provider in the given state, reached for real. */
  async setProviderInState(state) {
    const { OpenFeature } = this.sdk;
    if (state === "stable") return this.setStable();
    if (state === "not ready") {
      const h = await this.host();
      h.mode("hang"); // accepts, never answers: initialization is still pending
      OpenFeature.setProvider(this.domain, this.provider({ url: h.url }));
      return;
    }
    if (state === "error") {
      const h = await this.host();
      h.mode("fail");
      await OpenFeature.setProviderAndWait(this.domain, this.provider({ url: h.url })).catch(() => {});
      return;
    }
    if (state === "fatal") {
      await OpenFeature.setProviderAndWait(this.domain, this.provider({ flags: '{"schema_version": 1, "flags": [{"key": 5}]}' })).catch(() => {});
      return;
    }
    if (state === "stale") {
      const h = await this.host();
      await OpenFeature.setProviderAndWait(this.domain, this.provider({ url: h.url }));
      h.mode("fail");
      await until(() => this.client.providerStatus === "STALE", "STALE");
      return;
    }
    throw new Error(`unknown provider state ${state}`);
  }

  async evaluate(type, key, defaultValue, options) {
    const method = `get${METHOD[type.toLowerCase()]}Details`;
    if (this.kind === "web") {
      // Static context: set it when the scenario gave one (an empty one is the default).
      if (Object.keys(this.context).length > 0 || this.contextEmptied) await this.sdk.OpenFeature.setContext(this.domain, this.context);
      return this.client[method](key, defaultValue, options);
    }
    return this.client[method](key, defaultValue, this.context, options);
  }

  async close() {
    await Promise.all(this.hosts.map((h) => h.close()));
  }
}

export async function until(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** [pattern, async (world, ...captures, table)] */
export const STEPS = [
  // --- providers
  [/^a stable provider$|^a provider is registered$/, (w) => w.setStable()],
  [/^a (stable|not ready|error|fatal|stale) provider$/, (w, state) => w.setProviderInState(state)],
  [/^the provider status should be "(.*)"$/, (w, status) => assert.equal(w.client.providerStatus, status)],

  // --- evaluation_v2 / metadata
  [/^a (Boolean|String|Integer|Float|Object)-flag with key "(.*)" and a default value "(.*)"$/, (w, type, key, def) => (w.flag = { type, key, default: parseValue(type, def) })],
  [/^a context containing a key "(.*)", with type "(.*)" and with value "(.*)"$/, (w, key, type, value) => (w.context[key] = parseValue(type, value))],
  [/^a context containing a key "(.*)" with null value$/, (w, key) => (w.context[key] = null)],
  [/^the flag was evaluated with details$/, async (w) => (w.details = await w.evaluate(w.flag.type, w.flag.key, w.flag.default))],
  [/^the resolved details value should be "(.*)"$/, (w, raw) => assert.deepEqual(w.details.value, parseValue(w.flag.type, raw), JSON.stringify(w.details))],
  [/^the reason should be "(.*)"$/, (w, reason) => assert.equal(w.details.reason, reason, JSON.stringify(w.details))],
  [/^the error-code should be "(.*)"$/, (w, code) => assert.equal(w.details.errorCode, code, JSON.stringify(w.details))],
  [/^the flag key should be "(.*)"$/, (w, key) => assert.equal(w.details.flagKey, key)],
  [/^the variant should be "([^"]*)"$/, (w, variant) => assert.equal(w.details.variant, variant, JSON.stringify(w.details))],
  [/^the error message should contain "(.*)"$/, (w, text) => assert.ok(w.details.errorMessage?.includes(text), JSON.stringify(w.details))],
  [
    /^the resolved metadata should contain$/,
    (w, table) => {
      for (const [key, type, value] of table.slice(1)) assert.deepEqual(w.details.flagMetadata[key], parseValue(type, value), key);
    },
  ],
  [/^the resolved metadata is empty$/, (w) => assert.deepEqual({ ...w.details.flagMetadata }, {})],
  [
    /^evaluation options containing specific hooks$/,
    (w) => {
      w.calls = [];
      const hook = (name) => ({
        before: () => void w.calls.push(`${name}.before`),
        after: () => void w.calls.push(`${name}.after`),
        error: () => void w.calls.push(`${name}.error`),
        finally: () => void w.calls.push(`${name}.finally`),
      });
      w.options = { hooks: [hook("first"), hook("second")] };
    },
  ],
  [/^the flag was evaluated with details using the evaluation options$/, async (w) => (w.details = await w.evaluate(w.flag.type, w.flag.key, w.flag.default, w.options))],
  [/^the specified hooks should execute during evaluation$/, (w) => assert.ok(w.calls.includes("first.after") && w.calls.includes("second.after") && w.details.value === true, w.calls.join())],
  // Spec 4.4.2: before hooks in order; after, error and finally hooks in reverse.
  [/^the hook order should be maintained$/, (w) => assert.deepEqual(w.calls, ["first.before", "second.before", "second.after", "first.after", "second.finally", "first.finally"])],
  [
    /^an evaluation context with modifiable data$/,
    (w) => {
      w.context = { targetingKey: "user-1", tags: ["a", "b"], nested: { level: 1 } };
      w.contextCopy = structuredClone(w.context);
    },
  ],
  [/^the original evaluation context should remain unmodified$/, (w) => assert.deepEqual(w.context, w.contextCopy)],
  [
    /^the evaluation details should be immutable$/,
    (w) => {
      assert.ok(Object.isFrozen(w.details.flagMetadata), "flag metadata is frozen");
      assert.throws(() => {
        "use strict";
        w.details.flagMetadata.injected = 1;
      });
    },
  ],
  [
    /^the flag was evaluated with details asynchronously$/,
    (w) => {
      w.pending = w.client.getBooleanDetails(w.flag.key, w.flag.default, w.context);
    },
  ],
  [
    /^the evaluation should complete without blocking$/,
    async (w) => {
      assert.ok(w.pending instanceof Promise, "the server SDK answers with a promise");
      w.details = await w.pending;
    },
  ],
  [/^the result should be equivalent to synchronous evaluation$/, async (w) => assert.deepEqual(w.details, await w.client.getBooleanDetails(w.flag.key, w.flag.default, w.context))],

  // --- evaluation.feature (deprecated upstream, still published)
  [/^a (boolean|string) flag with key "(.*)" is evaluated with default value "(.*)"$/, async (w, type, key, def) => (w.details = await w.evaluate(type, key, parseValue(type, def)))],
  [/^an integer flag with key "(.*)" is evaluated with default value (\d+)$/, async (w, key, def) => (w.details = await w.evaluate("integer", key, Number(def)))],
  [/^a float flag with key "(.*)" is evaluated with default value ([\d.]+)$/, async (w, key, def) => (w.details = await w.evaluate("float", key, Number(def)))],
  [/^an object flag with key "(.*)" is evaluated with a null default value$/, async (w, key) => (w.details = await w.evaluate("object", key, null))],
  [/^a (boolean|string) flag with key "(.*)" is evaluated with details and default value "(.*)"$/, async (w, type, key, def) => (w.details = await w.evaluate(type, key, parseValue(type, def)))],
  [/^an integer flag with key "(.*)" is evaluated with details and default value (\d+)$/, async (w, key, def) => (w.details = await w.evaluate("integer", key, Number(def)))],
  [/^a float flag with key "(.*)" is evaluated with details and default value ([\d.]+)$/, async (w, key, def) => (w.details = await w.evaluate("float", key, Number(def)))],
  [/^an object flag with key "(.*)" is evaluated with details and a null default value$/, async (w, key) => (w.details = await w.evaluate("object", key, null))],
  [/^the resolved (boolean|string) value should be "(.*)"$/, (w, type, v) => assert.deepEqual(w.details.value, parseValue(type, v))],
  [/^the resolved (integer|float) value should be ([\d.]+)$/, (w, _type, v) => assert.equal(w.details.value, Number(v))],
  [
    /^the resolved object (?:details )?value should be contain fields "(.*)", "(.*)", and "(.*)", with values "(.*)", "(.*)" and (\d+), respectively$/,
    (w, f1, f2, f3, v1, v2, v3) => assert.deepEqual([w.details.value[f1], w.details.value[f2], w.details.value[f3]], [v1 === "true", v2, Number(v3)]),
  ],
  [
    /^the resolved (boolean|string) details value should be "(.*)", the variant should be "(.*)", and the reason should be "(.*)"$/,
    (w, type, v, variant, reason) => assert.deepEqual([w.details.value, w.details.variant, w.details.reason], [parseValue(type, v), variant, reason]),
  ],
  [
    /^the resolved (integer|float) details value should be ([\d.]+), the variant should be "(.*)", and the reason should be "(.*)"$/,
    (w, _type, v, variant, reason) => assert.deepEqual([w.details.value, w.details.variant, w.details.reason], [Number(v), variant, reason]),
  ],
  [/^the variant should be "(.*)", and the reason should be "(.*)"$/, (w, variant, reason) => assert.deepEqual([w.details.variant, w.details.reason], [variant, reason])],
  [
    /^context contains keys "(.*)", "(.*)", "(.*)", "(.*)" with values "(.*)", "(.*)", (\d+), "(.*)"$/,
    (w, k1, k2, k3, k4, v1, v2, v3, v4) => (w.context = { [k1]: v1, [k2]: v2, [k3]: Number(v3), [k4]: v4 === "true" }),
  ],
  [/^a flag with key "(.*)" is evaluated with default value "(.*)"$/, async (w, key, def) => ((w.flag = { key, default: def }), (w.details = await w.evaluate("string", key, def)))],
  [/^the resolved string response should be "(.*)"$/, (w, v) => assert.equal(w.details.value, v)],
  [
    /^the resolved flag value is "(.*)" when the context is empty$/,
    async (w, v) => {
      w.context = {};
      w.contextEmptied = true;
      assert.equal((await w.evaluate("string", w.flag.key, w.flag.default)).value, v);
    },
  ],
  [/^a non-existent string flag with key "(.*)" is evaluated with details and a default value "(.*)"$/, async (w, key, def) => ((w.expected = def), (w.details = await w.evaluate("string", key, def)))],
  [/^a string flag with key "(.*)" is evaluated as an integer, with details and a default value (\d+)$/, async (w, key, def) => ((w.expected = Number(def)), (w.details = await w.evaluate("integer", key, Number(def))))],
  [/^the default (string|integer) value should be returned$/, (w) => assert.equal(w.details.value, w.expected)],
  [
    /^the reason should indicate an error and the error code should indicate (?:a missing flag|a type mismatch) with "(.*)"$/,
    (w, code) => assert.deepEqual([w.details.reason, w.details.errorCode], ["ERROR", code]),
  ],

  // --- events.feature
  [
    /^a provider which supports events and requires initialization$/,
    async (w) => {
      w.flagHost = await w.host();
    },
  ],
  [
    /^a (PROVIDER_READY|PROVIDER_ERROR|PROVIDER_CONFIGURATION_CHANGED) handler is attached$/,
    (w, event) => {
      const calls = [];
      w.handlers.set(event, calls);
      w.client.addHandler(event, (details) => calls.push(details));
    },
  ],
  [/^the provider is set and successully initialized$/, (w) => w.sdk.OpenFeature.setProviderAndWait(w.domain, w.provider({ url: w.flagHost.url }))],
  [
    /^the provider is set and fails to initialize$/,
    async (w) => {
      w.flagHost.mode("fail");
      await assert.rejects(w.sdk.OpenFeature.setProviderAndWait(w.domain, w.provider({ url: w.flagHost.url })));
    },
  ],
  [
    /^a flag with key "(.*)" is modified$/,
    async (w, key) => {
      await w.sdk.OpenFeature.setProviderAndWait(w.domain, w.provider({ url: w.flagHost.url }));
      const file = w.flagHost.file;
      const flag = file.flags.find((f) => f.key === key);
      flag.default_variation = flag.default_variation === "foo" ? "bar" : "foo";
      w.flagHost.set(file);
    },
  ],
  [/^the (PROVIDER_READY|PROVIDER_ERROR|PROVIDER_CONFIGURATION_CHANGED) handler must run$/, (w, event) => until(() => w.handlers.get(event).length > 0, `${event} handler`)],
  [
    /^the event details must indicate "(.*)" was altered$/,
    (w, key) => {
      const [details] = w.handlers.get("PROVIDER_CONFIGURATION_CHANGED");
      assert.deepEqual(details.flagsChanged, [key]);
    },
  ],
];

/** Runs one scenario's steps in a fresh world. */
export async function runScenario(scenario, worldOptions) {
  const w = new World(worldOptions);
  try {
    for (const step of scenario.steps) {
      const found = STEPS.map(([re, fn]) => [step.text.match(re), fn]).find(([m]) => m);
      if (!found) assert.fail(`undefined step: ${step.text}`);
      const [m, fn] = found;
      await fn(w, ...m.slice(1), step.table);
    }
  } finally {
    await w.close();
  }
}
