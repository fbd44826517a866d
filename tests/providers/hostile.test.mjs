// The providers' inputs from outside, pushed to their bounds: an invalid file from the source
// (PROVIDER_ERROR, the last good flags keep answering), a broken or oversized event stream,
// unreadable contexts, and the metric queue's bound and refusals.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";

import * as edgeflag from "../../wasm/pkg/node.js";
import { EdgeflagServerProvider } from "../../providers/js/src/server.js";
import { MetricsReporter } from "../../providers/js/src/metrics.js";
import { readEvents } from "../../providers/js/src/sse.js";
import { examplesFlags } from "../js/helpers.mjs";
import { startFlagHost } from "./flag-host.mjs";

after(() => OpenFeature.close());

const until = async (what, check, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

test("an invalid file from the source: PROVIDER_ERROR, the last good flags keep answering, a good one recovers", async () => {
  const host = await startFlagHost(examplesFlags);
  try {
    const provider = new EdgeflagServerProvider({ engine: edgeflag, url: host.url, pollMs: 30 });
    await OpenFeature.setProviderAndWait("hostile-file", provider);
    const client = OpenFeature.getClient("hostile-file");
    const seen = [];
    for (const t of Object.values(ProviderEvents)) client.addHandler(t, (d) => seen.push({ t, ...d }));
    host.set('{"schema_version": 1, "flags": [{"key": "x", "kind": "boolean"}]}');
    await until("PROVIDER_ERROR", () => seen.some((e) => e.t === ProviderEvents.Error));
    assert.match(seen.find((e) => e.t === ProviderEvents.Error).message, /invalid flag file|problem/);
    assert.equal(await client.getBooleanValue("new-dashboard", false, { targetingKey: "alice" }), true, "last good flags");
    host.set("{not json");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await client.getBooleanValue("new-dashboard", false, { targetingKey: "alice" }), true);
    const next = JSON.parse(examplesFlags);
    next.flags.find((f) => f.key === "new-dashboard").enabled = false;
    host.set(next);
    await until("READY and the new file", async () => client.providerStatus === "READY" && (await client.getBooleanDetails("new-dashboard", true, { targetingKey: "alice" })).reason === "DISABLED");
  } finally {
    await host.close();
  }
});

test("unreadable contexts are INVALID_CONTEXT answers, never throws", async () => {
  await OpenFeature.setProviderAndWait("hostile-ctx", new EdgeflagServerProvider({ engine: edgeflag, flags: examplesFlags }));
  const client = OpenFeature.getClient("hostile-ctx");
  const cyclic = { targetingKey: "a" };
  cyclic.self = cyclic;
  // new-dashboard reads the targeting key and, through the segment beta-testers, `email`.
  for (const ctx of [cyclic, { targetingKey: "a", email: 10n }, { targetingKey: "x".repeat(2_000_000), nested: { a: 1 } }]) {
    const d = await client.getBooleanDetails("new-dashboard", false, ctx);
    assert.equal(d.value, false);
    assert.equal(d.reason, "ERROR", JSON.stringify(d, (_, v) => (typeof v === "bigint" ? `${v}n` : v)));
    assert.equal(d.errorCode, "INVALID_CONTEXT");
    assert.ok(d.errorMessage, "the engine's reason is passed on");
  }
  // The engine reads a context only as far as the flag needs it (wasm/README.md, "A context is
  // read only as far as the flag needs it"): a BigInt in an attribute no flag reads is no
  // error, and the provider gives the engine's answer, as every other place would.
  const unread = await client.getBooleanDetails("new-dashboard", true, { targetingKey: "a", unread: 10n });
  assert.deepEqual([unread.value, unread.reason, unread.errorCode], [false, "DEFAULT", undefined]);
});

function body(chunks) {
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
      c.close();
    },
  });
}

test("the event-stream reader: CRLF and LF, comments, multi-line data, and a bound on one event", async () => {
  const got = [];
  for await (const e of readEvents(body([": hello\r\n", "event: version\r\nid: \"1\"\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n", "event: heart", "beat\ndata: {}\n\n"]))) got.push(e);
  assert.deepEqual(got, [
    { event: "version", data: '{"a":\n1}', id: '"1"' },
    { event: "heartbeat", data: "{}", id: '"1"' },
  ]);
  await assert.rejects(async () => {
    for await (const _ of readEvents(body(["data: " + "x".repeat(2000) + "\n", "data: " + "y".repeat(2000) + "\n"]), { maxEventBytes: 3000 }));
  }, /over 3000 bytes/);
  await assert.rejects(async () => {
    for await (const _ of readEvents(body(["data: " + "z".repeat(5000)]), { maxEventBytes: 3000 }));
  }, /line over/);
});

test("the metric queue: bounded, refusals counted, nothing sent without a token", async () => {
  const posts = [];
  const fetch = async (url, init) => {
    posts.push(JSON.parse(init.body));
    return new Response(JSON.stringify({ accepted: JSON.parse(init.body).events.length, refused: 0 }), { status: 202 });
  };
  const r = new MetricsReporter({ eventsUrl: "http://x/api/metrics/events", ingestToken: "t", batchSize: 1000, maxPending: 5, background: false, fetch });
  const canary = [{ key: "c", arm: "canary" }, { key: "plain", variant: "on" }, { key: "e", experiment: true, variant: "b" }];
  for (let i = 0; i < 10; i++) r.record(canary, { latencyMs: i });
  assert.deepEqual([r.status().pending, r.status().dropped, r.status().recorded], [5, 15, 20]);
  assert.equal(r.record(canary, { latencyMs: -1 }), 0);
  assert.equal(r.record(canary, { latencyMs: 5, outcome: "maybe" }), 0);
  assert.equal(r.status().skipped, 2);
  await r.flush();
  assert.equal(posts.length, 1);
  assert.deepEqual(posts[0].events.map((e) => e.latency_ms), [7, 8, 8, 9, 9], "the newest kept");
  assert.ok(posts[0].events.every((e) => e.env === "default" && (e.arm === "canary" || e.variant === "b")));
  const none = new MetricsReporter({ eventsUrl: "http://x", ingestToken: null, background: false, fetch });
  none.record(canary, { latencyMs: 1 });
  await none.flush();
  assert.equal(posts.length, 1, "nothing posted without a token");
  assert.match(none.status().lastError, /no ingest token/);
});
