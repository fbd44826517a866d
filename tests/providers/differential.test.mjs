// Same answers through OpenFeature: the native corpus (wasm/examples/corpus.rs: flags, contexts
// and environments with the native engine's answers) replayed through the server and web
// providers' typed APIs in the real SDKs. Each answer must be the engine's, mapped by the rules
// of providers/README.md ("How answers map"), written out again here from the README.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as webSdk from "@openfeature/web-sdk";
import * as serverSdk from "@openfeature/server-sdk";

import * as edgeflag from "../../wasm/pkg/node.js";
import { EdgeflagServerProvider } from "../../providers/js/src/server.js";
import { EdgeflagWebProvider } from "../../providers/js/src/web.js";
import { corpusPath } from "../js/helpers.mjs";

const skip = existsSync(corpusPath) ? false : `${corpusPath} is missing (cargo run --release -p edgeflag-wasm --example corpus -- ${corpusPath})`;
const corpus = skip ? null : JSON.parse(readFileSync(corpusPath, "utf8"));

const METHOD = { boolean: "getBooleanDetails", string: "getStringDetails", number: "getNumberDetails", json: "getObjectDetails" };
const DEFAULTS = { boolean: false, string: "coded-default", number: -42, json: { coded: "default" } };

/** Every single-flag case, `all` cases expanded into one case per flag. */
function cases() {
  const kinds = corpus.files.map((f) => new Map(JSON.parse(f.text).flags.map((fl) => [fl.key, fl.kind])));
  const out = [];
  for (const c of corpus.cases) {
    const answers = c.all ? c.expected : [c.expected];
    for (const expected of answers) {
      // An unknown flag has no kind: ask for a boolean.
      const kind = kinds[c.file].get(expected.key) ?? "boolean";
      out.push({ file: c.file, env: c.env ?? undefined, context: c.context ?? {}, key: expected.key, kind, expected });
    }
  }
  return out;
}

/** The rule, from the README: what OpenFeature's evaluation details must hold for an engine answer. */
function openFeatureView(expected, kind) {
  if (expected.reason === "ERROR") {
    return { flagKey: expected.key, value: DEFAULTS[kind], reason: "ERROR", errorCode: expected.errorCode, flagMetadata: {} };
  }
  const flagMetadata = {};
  if (expected.arm) flagMetadata.arm = expected.arm;
  if (expected.experiment) flagMetadata.experiment = true;
  if (expected.ruleIndex !== undefined) flagMetadata.ruleIndex = expected.ruleIndex;
  if (expected.errorCode === "TARGETING_KEY_MISSING") flagMetadata.unitMissing = true;
  return { flagKey: expected.key, value: expected.value, variant: expected.variant, reason: expected.reason, flagMetadata };
}

function view(details) {
  const out = { flagKey: details.flagKey, value: details.value, reason: details.reason, flagMetadata: { ...details.flagMetadata } };
  if (details.errorCode) out.errorCode = details.errorCode;
  else out.variant = details.variant;
  return out;
}

const providers = [];
function provider(Provider, c) {
  const p = new Provider({ engine: edgeflag, flags: corpus.files[c.file].text, environment: c.env });
  providers.push(p);
  return p;
}

after(async () => {
  await Promise.all([serverSdk.OpenFeature.close(), webSdk.OpenFeature.close()]);
});

test("server provider: every corpus case, typed, equals the native engine's answer", { skip }, async () => {
  const { OpenFeature } = serverSdk;
  const all = cases();
  assert.ok(all.length >= 10_000, `${all.length} cases`);
  const domains = new Map();
  const bad = [];
  let typeMismatch = 0;
  for (const c of all) {
    const domain = `diff-server-${c.file}-${c.env ?? ""}`;
    if (!domains.has(domain)) {
      domains.set(domain, true);
      await OpenFeature.setProviderAndWait(domain, provider(EdgeflagServerProvider, c));
    }
    const client = OpenFeature.getClient(domain);
    const got = view(await client[METHOD[c.kind]](c.key, DEFAULTS[c.kind], c.context));
    const want = openFeatureView(c.expected, c.kind);
    try {
      assert.deepStrictEqual(got, want);
    } catch {
      bad.push({ c, got, want });
    }
    // And the wrong type is TYPE_MISMATCH with the caller's default, for known flags.
    if (c.expected.reason !== "ERROR" && typeMismatch < 2000) {
      typeMismatch++;
      const other = c.kind === "string" ? "boolean" : "string";
      const d = await client[METHOD[other]](c.key, DEFAULTS[other], c.context);
      if (d.errorCode !== "TYPE_MISMATCH" || d.value !== DEFAULTS[other]) bad.push({ c, mismatch: d });
    }
  }
  assert.equal(bad.length, 0, `${bad.length} of ${all.length} differ; first: ${JSON.stringify(bad.slice(0, 3), null, 1)}`);
  console.log(`corpus through the server provider: ${all.length} answers equal the native engine's, ${typeMismatch} wrong-type evaluations gave TYPE_MISMATCH`);
});

test("web provider: a third of the corpus cases, one static context each, equal the native engine's answers", { skip }, async () => {
  const { OpenFeature } = webSdk;
  const all = cases().filter((_, i) => i % 3 === 0);
  const bad = [];
  const domains = new Set();
  for (const c of all) {
    const domain = `diff-web-${c.file}-${c.env ?? ""}`;
    if (!domains.has(domain)) {
      domains.add(domain);
      await OpenFeature.setProviderAndWait(domain, provider(EdgeflagWebProvider, c));
    }
    await OpenFeature.setContext(domain, c.context);
    const got = view(OpenFeature.getClient(domain)[METHOD[c.kind]](c.key, DEFAULTS[c.kind]));
    const want = openFeatureView(c.expected, c.kind);
    try {
      assert.deepStrictEqual(got, want);
    } catch {
      bad.push({ c, got, want });
    }
  }
  assert.ok(all.length >= 3000, `${all.length} cases`);
  assert.equal(bad.length, 0, `${bad.length} of ${all.length} differ; first: ${JSON.stringify(bad.slice(0, 3), null, 1)}`);
  console.log(`corpus through the web provider: ${all.length} answers equal the native engine's`);
});
