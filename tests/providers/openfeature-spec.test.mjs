// OpenFeature's own provider suites (providers/spec/gherkin) against edgeflag's web and server
// providers, through the real @openfeature/web-sdk and @openfeature/server-sdk. Scenarios
// that do not apply are skipped with their reason (spec-runner.mjs, NOT_APPLICABLE).
import { after, test } from "node:test";
import * as webSdk from "@openfeature/web-sdk";
import * as serverSdk from "@openfeature/server-sdk";

import * as edgeflag from "../../wasm/pkg/node.js";
import { EdgeflagServerProvider } from "../../providers/js/src/server.js";
import { EdgeflagWebProvider } from "../../providers/js/src/web.js";
import { loadScenarios, notApplicable, runScenario } from "./spec-runner.mjs";

const scenarios = loadScenarios();
const targets = [
  { kind: "server", sdk: serverSdk, Provider: EdgeflagServerProvider },
  { kind: "web", sdk: webSdk, Provider: EdgeflagWebProvider },
];
const tally = {};

for (const target of targets) {
  const counts = (tally[target.kind] = { passed: 0, failed: 0, notApplicable: 0 });
  for (const scenario of scenarios) {
    const na = notApplicable(target.kind, scenario.feature, scenario.name);
    test(`[${target.kind}] ${scenario.title}`, { skip: na ? `not applicable: ${na.why}` : false }, async () => {
      try {
        await runScenario(scenario, { ...target, engine: edgeflag });
        counts.passed++;
      } catch (e) {
        counts.failed++;
        throw e;
      }
    });
    if (na) counts.notApplicable++;
  }
}

after(async () => {
  await Promise.all([serverSdk.OpenFeature.close(), webSdk.OpenFeature.close()]);
  for (const [kind, c] of Object.entries(tally)) {
    console.log(`openfeature suites, ${kind} provider: ${c.passed} passed, ${c.failed} failed, ${c.notApplicable} not applicable (of ${scenarios.length} scenarios)`);
  }
});
