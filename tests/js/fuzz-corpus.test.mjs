// The fuzz corpora (fuzz/README.md) replayed through the WASM package: every input the
// coverage-guided runs kept, plus the committed seeds and regressions, as a flag file, a
// context, or an Unleash payload and context. No input may trap the module, and every error
// thrown must be an EdgeflagError (an Error with name "EdgeflagError" and a code), on the
// JSON paths and on the fast paths (flag handles, UnleashSet). A failed
// `replace` must leave the set answering as before. (The judgement target has no WASM
// counterpart: canary analysis is not in the edge module.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

import { FlagSet, PreparedContext, validateFlagFile } from "../../wasm/pkg/node.js";
import { UnleashSet, evaluateUnleash } from "../../wasm/pkg/unleash/node.js";
import { examplesFlags, root } from "./helpers.mjs";

const fuzzDir = path.join(root, "fuzz");
const decoder = new TextDecoder(); // invalid UTF-8 becomes U+FFFD, as a JS caller's text would
const SEPARATOR = 0xff; // checks::PART_SEPARATOR

/** Every input of a target: corpus (when a fuzz run made one), seeds and regressions. */
function inputs(target) {
  const out = [];
  for (const kind of ["corpus", "seeds", "regressions"]) {
    const dir = path.join(fuzzDir, kind, target);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) out.push({ name: `${kind}/${target}/${name}`, bytes: readFileSync(path.join(dir, name)) });
  }
  return out;
}

/** Runs `fn`; a throw must be an EdgeflagError. Returns the result, or undefined on a throw. */
function edgeflagErrorsOnly(name, fn, failures) {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof Error) || e.name !== "EdgeflagError" || typeof e.code !== "string") {
      failures.push(`${name}: threw ${e?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 200)}`);
    }
    return undefined;
  }
}

const contexts = [{}, { targetingKey: "user-1" }, { targetingKey: "user-42", country: "DE", plan: "pro", version: "2.3.4" }];

function replay(target, each) {
  const all = inputs(target);
  const failures = [];
  for (const input of all) each(input, failures);
  console.log(`fuzz corpus ${target}: ${all.length} inputs through WASM, ${failures.length} failures`);
  assert.ok(all.length > 0, `no inputs for ${target}`);
  assert.deepEqual(failures.slice(0, 10), []);
}

test("flag files and JSON documents: load, evaluate everywhere, validate, replace", () => {
  for (const target of ["flag_file", "json_reader"]) {
    replay(target, ({ name, bytes }, failures) => {
      const text = decoder.decode(bytes);
      edgeflagErrorsOnly(name, () => validateFlagFile(text), failures);
      const set = edgeflagErrorsOnly(name, () => new FlagSet(text), failures);
      if (set) {
        for (const env of [undefined, "no-such-environment", "prod"]) {
          for (const context of contexts) {
            edgeflagErrorsOnly(`${name} evaluateAll`, () => set.evaluateAll(context, env), failures);
          }
        }
        for (const key of set.flagKeys.slice(0, 20)) {
          edgeflagErrorsOnly(`${name} evaluate`, () => set.evaluate(key, contexts[2]), failures);
        }
        set.free();
      }
      // Replace: the example set serves; a file that does not load leaves it serving.
      const serving = new FlagSet(examplesFlags);
      const before = JSON.stringify(serving.evaluateAll(contexts[2], "prod"));
      const replaced = edgeflagErrorsOnly(`${name} replace`, () => (serving.replace(text), true), failures);
      if (!replaced) {
        const after = JSON.stringify(serving.evaluateAll(contexts[2], "prod"));
        if (after !== before || serving.revision !== 1) failures.push(`${name}: a failed replace changed the answers`);
      }
      serving.free();
    });
  }
});

test("contexts, numbers and date-times: evaluated against the example flags", () => {
  const set = new FlagSet(examplesFlags);
  // The fast path too (flag handles: the context read into the wire buffer, not as JSON), with
  // the context as text and, where it is a JSON object, as the object a caller would pass.
  const handles = set.flagKeys.flatMap((key) => [undefined, "prod"].map((env) => set.flag(key, env)));
  assert.ok(handles.length >= 2, "the example file has flags");
  const asObject = (text) => {
    try {
      const value = JSON.parse(text);
      return value !== null && typeof value === "object" && !Array.isArray(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };
  for (const target of ["context", "float_reader", "rfc3339_reader"]) {
    replay(target, ({ name, bytes }, failures) => {
      const text = decoder.decode(bytes);
      // A context as text; a number or time as a context attribute (raw, so often invalid JSON).
      const texts =
        target === "context"
          ? [text]
          : [`{"targetingKey": "user-1", "score": ${text}}`, JSON.stringify({ targetingKey: "user-1", signup: text, version: text })];
      for (const context of texts) {
        for (const env of [undefined, "dev", "staging", "prod"]) {
          edgeflagErrorsOnly(`${name} evaluateAll`, () => set.evaluateAll(context, env), failures);
        }
        const object = asObject(context);
        for (const handle of handles) {
          edgeflagErrorsOnly(`${name} flag handle (text)`, () => handle.evaluate(context), failures);
          if (object) edgeflagErrorsOnly(`${name} flag handle (object)`, () => handle.evaluate(object), failures);
        }
        const prepared = edgeflagErrorsOnly(`${name} PreparedContext`, () => new PreparedContext(context), failures);
        if (prepared) {
          edgeflagErrorsOnly(`${name} evaluateAllPrepared`, () => set.evaluateAllPrepared(prepared, "prod"), failures);
          prepared.free();
        }
      }
    });
  }
  set.free();
});

test("Unleash payloads and contexts: evaluate every feature", () => {
  replay("unleash", ({ name, bytes }, failures) => {
    const at = bytes.indexOf(SEPARATOR);
    const payload = decoder.decode(at < 0 ? bytes : bytes.subarray(0, at));
    const context = at < 0 ? "{}" : decoder.decode(bytes.subarray(at + 1));
    edgeflagErrorsOnly(name, () => evaluateUnleash(payload, context), failures);
    edgeflagErrorsOnly(name, () => evaluateUnleash(payload, '{"userId": "7"}', "no-such-feature"), failures);
    // The loaded path (UnleashSet): every feature's isEnabled and getVariant, and an unknown one.
    const set = edgeflagErrorsOnly(`${name} UnleashSet`, () => new UnleashSet(payload), failures);
    if (set) {
      edgeflagErrorsOnly(`${name} UnleashSet evaluateAll`, () => set.evaluateAll(context), failures);
      for (const feature of [...set.featureNames.slice(0, 50), "no-such-feature"]) {
        edgeflagErrorsOnly(`${name} isEnabled ${feature}`, () => set.isEnabled(feature, context), failures);
        edgeflagErrorsOnly(`${name} getVariant ${feature}`, () => set.getVariant(feature, context), failures);
      }
      set.free();
    }
  });
});
