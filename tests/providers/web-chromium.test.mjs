// The web provider in Debian's Chromium (headless, playwright-core) with the real
// @openfeature/web-sdk, against the real edgeflag server on another origin, through a proxy
// that can take the server away: ready, a context change, a published version arriving as
// PROVIDER_CONFIGURATION_CHANGED by the change stream, the server unreachable (PROVIDER_STALE
// while the last good flags keep answering) and back (PROVIDER_READY), and tracking posted
// to the metrics endpoint from an allowed origin with an ingest token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { FlagSet } from "../../wasm/pkg/node.js";
import { edgeflagMissing, edit, startEdgeflag } from "../js/edgeflag-server.mjs";
import { examplesFlags } from "../js/helpers.mjs";
import { startStreamProxy } from "../js/stream-proxy.mjs";
import { startStaticServer } from "../js/static-server.mjs";
import { launchChromium, chromiumMissing } from "../js/chromium.mjs";

const skip = chromiumMissing || edgeflagMissing;
const INGEST = "web-provider-test-ingest";

let statics;
let browser;
let context;

before(async () => {
  if (skip) return;
  // The provider, the WASM package, the test page and the OpenFeature SDK's ES modules.
  statics = await startStaticServer(["wasm/pkg/", "providers/js/", "tests/providers/web/", "node_modules/@openfeature/"]);
  browser = await launchChromium("edgeflag-chromium-of-");
  context = browser.context;
});

after(async () => {
  await browser?.close();
  await statics?.close();
});

async function until(page, what, check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await page.evaluate(() => ({ status: window.harness.status(), events: window.harness.events }));
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}: ${JSON.stringify(last).slice(0, 2000)}`);
}

test("web provider in Chromium: ready, context change, a pushed version, the server unreachable and back, tracking", { skip }, async () => {
  const edgeflag = await startEdgeflag(["--no-controller", "--stream-heartbeat", "300ms", "--ingest-token", INGEST, "--allowed-origin", statics.base]);
  const proxy = await startStreamProxy(edgeflag.base);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(`${statics.base}/tests/providers/web/index.html`);
    await page.waitForSelector("body[data-ready]", { state: "attached", timeout: 30_000 });
    const reference = new FlagSet(examplesFlags);

    // Ready: bootstrapped from the server (through the proxy, another origin), version 1.
    const status = await page.evaluate(
      ([server, events]) => window.harness.start({ server, pollMs: 300, environment: "prod", metrics: { eventsUrl: events, ingestToken: "web-provider-test-ingest", flushMs: 200 } }, { targetingKey: "alice" }),
      [proxy.base, `${edgeflag.base}/api/metrics/events`],
    );
    assert.equal(status, "READY", errors.join("\n"));
    let d = await page.evaluate(() => window.harness.details("new-dashboard"));
    const engine = reference.evaluate("new-dashboard", { targetingKey: "alice" }, "prod");
    assert.deepEqual([d.value, d.variant, d.reason, d.flagMetadata.flagSetVersion], [engine.value, engine.variant, engine.reason, 1]);
    await until(page, "the stream", (s) => s.status.provider.stream === "open");

    // Context change: the static context's answers, the SDK's CONTEXT_CHANGED.
    await page.evaluate(() => window.harness.setContext({ targetingKey: "mallory" }));
    d = await page.evaluate(() => window.harness.details("new-dashboard"));
    const mallory = reference.evaluate("new-dashboard", { targetingKey: "mallory" }, "prod");
    assert.deepEqual([d.value, d.variant, d.reason], [mallory.value, mallory.variant, mallory.reason]);
    await until(page, "PROVIDER_CONTEXT_CHANGED", (s) => s.events.some((e) => e.type === "PROVIDER_CONTEXT_CHANGED"));
    d = await page.evaluate(() => window.harness.details("payment-processor", "String", "x"));
    const arm = reference.evaluate("payment-processor", { targetingKey: "mallory" }, "prod").arm;
    assert.equal(d.flagMetadata.arm, arm);

    // A published version arrives by the stream as PROVIDER_CONFIGURATION_CHANGED.
    await page.evaluate(() => window.harness.setContext({ targetingKey: "alice" }));
    const v2 = await edgeflag.publish(edit((file) => (file.flags.find((f) => f.key === "new-dashboard").enabled = false)));
    const s2 = await until(page, "CONFIGURATION_CHANGED", (s) => s.events.some((e) => e.type === "PROVIDER_CONFIGURATION_CHANGED"));
    const changed = s2.events.find((e) => e.type === "PROVIDER_CONFIGURATION_CHANGED").flagsChanged;
    // new-dashboard, and mobile-banner, which has it as a prerequisite.
    assert.deepEqual([...changed].sort(), ["mobile-banner", "new-dashboard"]);
    assert.equal(s2.status.provider.streamVersions, 1, "pushed, not polled");
    d = await page.evaluate(() => window.harness.details("new-dashboard"));
    assert.deepEqual([d.value, d.reason, d.flagMetadata.flagSetVersion], [false, "DISABLED", v2.version]);

    // The server unreachable: STALE, and the last good flags keep answering.
    proxy.down();
    const s3 = await until(page, "PROVIDER_STALE", (s) => s.status.sdk === "STALE");
    assert.ok(s3.events.some((e) => e.type === "PROVIDER_STALE"));
    d = await page.evaluate(() => window.harness.details("new-dashboard"));
    assert.deepEqual([d.value, d.reason, d.flagMetadata.flagSetVersion, d.errorCode], [false, "DISABLED", v2.version, undefined]);

    // Back: READY again, and a version published meanwhile is picked up.
    const v3 = await edgeflag.publish(edit((file) => (file.flags.find((f) => f.key === "new-dashboard").enabled = true)));
    proxy.restore();
    await until(page, "READY and version 3", (s) => s.status.sdk === "READY" && s.status.provider.version === v3.version);
    d = await page.evaluate(() => window.harness.details("new-dashboard"));
    assert.deepEqual([d.value, d.flagMetadata.flagSetVersion], [engine.value, v3.version]);

    // Tracking: one event per canary/experiment flag for this user, posted with the ingest token
    // from an allowed origin, counted by the server.
    await page.evaluate(() => {
      for (let i = 0; i < 5; i++) window.harness.track("request", { outcome: i === 0 ? "error" : "ok", latencyMs: 20 + i });
      return window.harness.flush();
    });
    const m = await until(page, "events sent", (s) => s.status.provider.metrics.sent > 0 || s.status.provider.metrics.failures > 0);
    assert.equal(m.status.provider.metrics.failures, 0, JSON.stringify(m.status.provider.metrics));
    const canary = reference.evaluate("payment-processor", { targetingKey: "alice" }, "prod").arm;
    const res = await fetch(`${edgeflag.base}/api/metrics?flag=payment-processor&env=prod&window=5m`);
    const metrics = await res.json();
    assert.equal(metrics.arms[canary]?.summary.requests, 5, JSON.stringify(metrics).slice(0, 500));
    assert.equal(metrics.arms[canary]?.summary.errors, 1);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await proxy.close();
    await edgeflag.stop();
  }
});
