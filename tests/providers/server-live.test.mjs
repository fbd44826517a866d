// The server provider against the real edgeflag server, in Node and in workerd, through the
// real @openfeature/server-sdk: dynamic context per evaluation, versions pushed by the change
// stream, polled while the stream is cut, STALE while the server is unreachable (the last good
// flags keep answering) and READY again, a provider started while the server is down (ERROR,
// then READY), tracking counted by the server, and the same answers as the server's OFREP.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";

import * as edgeflag from "../../wasm/pkg/node.js";
import { EdgeflagServerProvider } from "../../providers/js/src/server.js";
import { edgeflagMissing, edit, startEdgeflag } from "../js/edgeflag-server.mjs";
import { examplesFlags, root } from "../js/helpers.mjs";
import { startStreamProxy } from "../js/stream-proxy.mjs";
import { startWorkerd } from "../js/workerd.mjs";

const INGEST = "server-provider-test-ingest";
const USERS = ["alice", "mallory", "user-1", "user-42", "bob", "carol", "u-7", "u-8", "u-9", "u-10"];
const TYPES = { boolean: "Boolean", string: "String", number: "Number", json: "Object" };
const kinds = new Map(JSON.parse(examplesFlags).flags.map((f) => [f.key, f.kind]));

after(() => OpenFeature.close());

async function until(what, check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function recorder(client) {
  const events = [];
  for (const type of Object.values(ProviderEvents)) client.addHandler(type, (d) => events.push({ type, ...d }));
  return events;
}

test("Node: dynamic context, pushed and polled versions, STALE and back, tracking, OFREP agrees", { skip: edgeflagMissing }, async () => {
  const server = await startEdgeflag(["--no-controller", "--stream-heartbeat", "300ms", "--ingest-token", INGEST]);
  const proxy = await startStreamProxy(server.base);
  try {
    const provider = new EdgeflagServerProvider({
      engine: edgeflag,
      server: proxy.base,
      environment: "prod",
      pollMs: 200,
      metrics: { eventsUrl: `${server.base}/api/metrics/events`, ingestToken: INGEST, flushMs: 100 },
    });
    await OpenFeature.setProviderAndWait("live", provider);
    const client = OpenFeature.getClient("live");
    const events = recorder(client);
    const reference = new edgeflag.FlagSet(examplesFlags);

    // Dynamic context: every flag for every user, typed, equals the engine; OFREP answers the same.
    for (const user of [...USERS, null]) {
      const ctx = user ? { targetingKey: user, country: "FR", email: `${user}@example.com` } : { country: "FR" };
      for (const [key, kind] of kinds) {
        const d = await client[`get${TYPES[kind]}Details`](key, null, ctx);
        const e = reference.evaluateAs(key, kind, ctx, "prod");
        assert.deepEqual([d.value, d.variant, d.reason, d.flagMetadata.arm, d.flagMetadata.flagSetVersion], [e.value, e.variant, e.reason, e.arm, 1], `${key} ${user}`);
        if (!user && e.errorCode === "TARGETING_KEY_MISSING") assert.equal(d.flagMetadata.unitMissing, true, key);
        const res = await fetch(`${server.base}/ofrep/v1/evaluate/flags/${key}?env=prod`, { method: "POST", body: JSON.stringify({ context: ctx }) });
        const ofrep = await res.json();
        assert.equal(res.status, 200, JSON.stringify(ofrep));
        assert.deepEqual([ofrep.value, ofrep.variant, ofrep.reason, ofrep.metadata], [d.value, d.variant, d.reason, { ...d.flagMetadata }], `OFREP ${key} ${user}`);
      }
    }

    // A publish arrives by the stream as CONFIGURATION_CHANGED with the changed keys.
    await until("the stream", () => provider.status().stream === "open");
    const v2 = await server.publish(edit((f) => (f.flags.find((x) => x.key === "checkout-redesign").enabled = false)));
    await until("CONFIGURATION_CHANGED", () => events.find((e) => e.type === ProviderEvents.ConfigurationChanged));
    assert.deepEqual(events.find((e) => e.type === ProviderEvents.ConfigurationChanged).flagsChanged, ["checkout-redesign"]);
    assert.equal(provider.status().streamVersions, 1);
    let d = await client.getStringDetails("checkout-redesign", "x", { targetingKey: "alice" });
    assert.deepEqual([d.reason, d.flagMetadata.flagSetVersion], ["DISABLED", v2.version]);

    // The stream cut: the next version is polled.
    proxy.cut();
    await until("the stream down", () => provider.status().stream !== "open");
    const v3 = await server.publish(edit((f) => (f.flags.find((x) => x.key === "checkout-redesign").enabled = true)));
    await until("version 3 by polling", () => provider.status().version === v3.version);

    // The server unreachable: STALE, the last good flags keep answering; back: READY.
    proxy.down();
    await until("STALE", () => client.providerStatus === "STALE");
    d = await client.getStringDetails("checkout-redesign", "x", { targetingKey: "alice" });
    assert.deepEqual([d.errorCode, d.flagMetadata.flagSetVersion], [undefined, v3.version]);
    proxy.restore();
    await until("READY", () => client.providerStatus === "READY");

    // Tracking: each canary/experiment flag of the user's answers, counted by the server.
    const tracked = USERS.map((u) => ({ u, arm: reference.evaluate("payment-processor", { targetingKey: u }, "prod").arm }));
    for (const { u } of tracked) client.track("request", { targetingKey: u }, { outcome: u === "alice" ? "error" : "ok", latencyMs: 30 });
    client.track("request", { targetingKey: "alice" }, { outcome: "ok" }); // no latency: skipped, counted
    await provider.flushMetrics();
    const status = provider.status().metrics;
    assert.deepEqual([status.failures, status.skipped, status.pending], [0, 1, 0], JSON.stringify(status));
    const metrics = await (await fetch(`${server.base}/api/metrics?flag=payment-processor&env=prod&window=5m`)).json();
    for (const arm of ["canary", "baseline"]) {
      const want = tracked.filter((t) => t.arm === arm).length;
      assert.equal(metrics.arms[arm]?.summary.requests ?? 0, want, `${arm}: ${JSON.stringify(metrics.arms[arm]?.summary)}`);
    }
  } finally {
    await proxy.close();
    await server.stop();
  }
});

test("Node: a provider started while the server is down is ERROR, then READY when it answers", { skip: edgeflagMissing }, async () => {
  const server = await startEdgeflag(["--no-controller"]);
  const proxy = await startStreamProxy(server.base);
  proxy.down();
  try {
    const provider = new EdgeflagServerProvider({ engine: edgeflag, server: proxy.base, pollMs: 100, requestTimeoutMs: 2000 });
    await assert.rejects(OpenFeature.setProviderAndWait("late", provider));
    const client = OpenFeature.getClient("late");
    assert.equal(client.providerStatus, "ERROR");
    const d = await client.getBooleanDetails("new-dashboard", true, { targetingKey: "alice" });
    assert.deepEqual([d.value, d.errorCode], [true, "PROVIDER_NOT_READY"]);
    proxy.restore();
    await until("READY", () => client.providerStatus === "READY");
    assert.equal((await client.getBooleanValue("new-dashboard", false, { targetingKey: "alice" })), true);
  } finally {
    await proxy.close();
    await server.stop();
  }
});

// A CDN in front of the server fetches /edge/flags.json (server/SCALE.md); a provider pointed
// at it with `url` sees the same versions: the number from its header, a publish picked up by
// a conditional poll (304s while nothing changes).
test("Node: the server's CDN origin (/edge/flags.json) as a `url` source: versions, conditional polls, CONFIGURATION_CHANGED", { skip: edgeflagMissing }, async () => {
  const server = await startEdgeflag(["--no-controller"]);
  try {
    const provider = new EdgeflagServerProvider({ engine: edgeflag, url: `${server.base}/edge/flags.json`, pollMs: 100 });
    await OpenFeature.setProviderAndWait("edge-origin", provider);
    const client = OpenFeature.getClient("edge-origin");
    const events = recorder(client);
    let d = await client.getStringDetails("checkout-redesign", "x", { targetingKey: "alice" });
    assert.equal(d.flagMetadata.flagSetVersion, 1);
    assert.notEqual(d.reason, "DISABLED");
    await until("a 304", () => provider.status().notModified > 0);
    const v2 = await server.publish(edit((f) => (f.flags.find((x) => x.key === "checkout-redesign").enabled = false)));
    await until("CONFIGURATION_CHANGED", () => events.find((e) => e.type === ProviderEvents.ConfigurationChanged));
    assert.deepEqual(events.find((e) => e.type === ProviderEvents.ConfigurationChanged).flagsChanged, ["checkout-redesign"]);
    d = await client.getStringDetails("checkout-redesign", "x", { targetingKey: "alice" });
    assert.deepEqual([d.reason, d.flagMetadata.flagSetVersion], ["DISABLED", v2.version]);
    assert.equal(provider.status().version, v2.version);
  } finally {
    await server.stop();
  }
});

test("workerd: the example worker evaluates with the server provider, refreshes per request, reports metrics", { skip: edgeflagMissing }, async () => {
  const server = await startEdgeflag(["--no-controller", "--ingest-token", INGEST]);
  let worker;
  try {
    worker = await startWorkerd(path.join(root, "examples/openfeature-worker/config.capnp"), {
      EDGEFLAG_FLAGS_SERVER: server.base,
      EDGEFLAG_ENV: "prod",
      EDGEFLAG_POLL_MS: "100",
      EDGEFLAG_EVENTS_URL: `${server.base}/api/metrics/events`,
      EDGEFLAG_INGEST_TOKEN: INGEST,
    });
    const reference = new edgeflag.FlagSet(examplesFlags);
    const evalAs = async (user, key, type) => (await fetch(`${worker.base}/eval?flag=${key}&type=${type}`, { headers: { "x-user-id": user } })).json();
    for (const user of USERS) {
      for (const [key, kind] of kinds) {
        const d = await evalAs(user, key, { json: "object" }[kind] ?? kind);
        const e = reference.evaluateAs(key, kind, { targetingKey: user }, "prod");
        assert.deepEqual([d.value, d.variant, d.reason, d.flagMetadata.arm], [e.value, e.variant, e.reason, e.arm], `${key} ${user}`);
      }
    }
    // A publish is picked up by a later request's refresh (no background work in a worker).
    const v2 = await server.publish(edit((f) => (f.flags.find((x) => x.key === "new-dashboard").enabled = false)));
    await until("version 2 in the worker", async () => (await evalAs("alice", "new-dashboard", "boolean")).flagMetadata.flagSetVersion === v2.version);
    assert.equal((await evalAs("alice", "new-dashboard", "boolean")).reason, "DISABLED");
    // Tracking from the worker, posted from waitUntil with the ingest token.
    for (const user of USERS) await fetch(`${worker.base}/work?latency_ms=25&outcome=ok`, { method: "POST", headers: { "x-user-id": user } });
    await until("events counted", async () => {
      await fetch(`${worker.base}/__status`); // a request: its waitUntil flushes
      const m = await (await fetch(`${server.base}/api/metrics?flag=payment-processor&env=prod&window=5m`)).json();
      const n = Object.values(m.arms ?? {}).reduce((s, a) => s + a.summary.requests, 0);
      return n === USERS.length;
    });
  } finally {
    await worker?.stop();
    await server.stop();
  }
});
