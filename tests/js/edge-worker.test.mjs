// The example edge worker in the real workerd runtime: bundled flags, cookie/header users,
// forwarding to an origin, polling a flag URL and keeping the last good file, reporting metric
// events with its ingest token (to a loopback collector, and to the real server when built),
// following the real server's change stream and polling while it is down.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import { FlagSet } from "../../wasm/pkg/node.js";
import { edgeflagMissing, edit, startEdgeflag } from "./edgeflag-server.mjs";
import { examplesFlags, manyFlags, root } from "./helpers.mjs";
import { startStreamProxy } from "./stream-proxy.mjs";
import { startWorkerd } from "./workerd.mjs";

const config = path.join(root, "examples/edge-worker/config.capnp");
const reference = new FlagSet(examplesFlags);

/** What the worker must put in x-edgeflag for this context (computed by the same engine in Node). */
function expectedHeader(flags, ctx, env) {
  return flags
    .evaluateAll(ctx, env)
    .filter((r) => r.variant !== null)
    .map((r) => `${encodeURIComponent(r.key)}=${encodeURIComponent(r.variant)}`)
    .join(",");
}

function parseHeader(value) {
  return Object.fromEntries(value.split(",").map((p) => p.split("=").map(decodeURIComponent)));
}

// A loopback origin: serves the flag file (mutable, with ETag) and echoes forwarded requests.
const origin = { flagsText: JSON.stringify(manyFlags(3, "remote")), status: 200, flagRequests: 0, posts: [] };
const COLLECTOR_TOKEN = "collector-ingest-token";
let originServer;
let originBase;

before(async () => {
  originServer = http.createServer((req, res) => {
    if (req.url === "/flags.json") {
      origin.flagRequests++;
      const etag = `"${origin.flagsText.length}-${origin.status}-${hashText(origin.flagsText)}"`;
      if (origin.status === 200 && req.headers["if-none-match"] === etag) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(origin.status, { "content-type": "application/json", etag }).end(origin.flagsText);
      return;
    }
    if (req.url === "/api/metrics/events" && req.method === "POST") {
      // A stand-in for the server's events route: the ingest token or 401.
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        const authorization = req.headers.authorization ?? null;
        origin.posts.push({ authorization, body: JSON.parse(body) });
        const ok = authorization === `Bearer ${COLLECTOR_TOKEN}`;
        res.writeHead(ok ? 202 : 401, { "content-type": "application/json" }).end(ok ? '{"accepted":1}' : '{"error":"token"}');
      });
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ path: req.url, flags: req.headers["x-edgeflag"] ?? null, user: req.headers["x-user-id"] ?? null }));
  });
  await new Promise((r) => originServer.listen(0, "127.0.0.1", r));
  originBase = `http://127.0.0.1:${originServer.address().port}`;
});

after(() => originServer?.close());

function hashText(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h >>> 0;
}

test("bundled flags: known users get the engine's answers, by header and by cookie", async () => {
  const wd = await startWorkerd(config, { EDGEFLAG_ENV: "prod" });
  try {
    for (const user of ["alice", "bob", "carol", "mallory", "user-17", "user-18", "ünïcode-✓"]) {
      // Header values are ASCII; non-ASCII ids travel in the (percent-encoded) cookie only.
      const ascii = /^[\x20-\x7e]*$/.test(user);
      const byHeader = ascii ? await fetch(`${wd.base}/`, { headers: { "x-user-id": user } }) : null;
      const ctx = { targetingKey: user };
      const expected = expectedHeader(reference, ctx, "prod");
      const viaCookie = await fetch(`${wd.base}/page`, { headers: { cookie: `theme=dark; ef_uid=${encodeURIComponent(user)}` } });
      assert.equal(viaCookie.status, 200);
      assert.equal(viaCookie.headers.get("x-edgeflag"), expected, `cookie user ${user}`);
      const body = await viaCookie.json();
      assert.equal(body.user, user);
      for (const r of reference.evaluateAll(ctx, "prod")) assert.deepEqual(body.flags[r.key], r);
      assert.equal(viaCookie.headers.get("set-cookie"), null, "known users get no new cookie");
      if (byHeader) {
        assert.equal(byHeader.headers.get("x-edgeflag"), expected, `header user ${user}`);
      }
    }
    // Facts from examples/flags.json, independent of the engine under test.
    assert.equal(parseHeader((await fetch(`${wd.base}/`, { headers: { "x-user-id": "alice" } })).headers.get("x-edgeflag"))["new-dashboard"], "on");
    assert.equal(parseHeader((await fetch(`${wd.base}/`, { headers: { "x-user-id": "mallory" } })).headers.get("x-edgeflag"))["new-dashboard"], "off");
  } finally {
    await wd.stop();
  }
});

test("attributes come from request headers (country, ip, email)", async () => {
  const wd = await startWorkerd(config, {});
  try {
    const headers = { "x-user-id": "dave", "cf-ipcountry": "FR", "cf-connecting-ip": "10.20.3.4", "x-user-email": "dave@edgeflag.dev" };
    const res = await fetch(`${wd.base}/`, { headers });
    const ctx = { targetingKey: "dave", country: "FR", ip: "10.20.3.4", email: "dave@edgeflag.dev" };
    assert.equal(res.headers.get("x-edgeflag"), expectedHeader(reference, ctx, undefined));
    const plain = await fetch(`${wd.base}/`, { headers: { "x-user-id": "dave" } });
    assert.equal(plain.headers.get("x-edgeflag"), expectedHeader(reference, { targetingKey: "dave" }, undefined));
  } finally {
    await wd.stop();
  }
});

test("anonymous users get a sticky id cookie", async () => {
  const wd = await startWorkerd(config, {});
  try {
    const first = await fetch(`${wd.base}/`);
    const setCookie = first.headers.get("set-cookie");
    assert.match(setCookie ?? "", /^ef_uid=[0-9a-f-]{36};/);
    const id = decodeURIComponent(setCookie.split(";")[0].split("=")[1]);
    assert.equal((await first.json()).user, id);
    const again = await fetch(`${wd.base}/`, { headers: { cookie: `ef_uid=${id}` } });
    assert.equal(again.headers.get("x-edgeflag"), first.headers.get("x-edgeflag"));
  } finally {
    await wd.stop();
  }
});

test("forwards to the origin with the flags header", async () => {
  const wd = await startWorkerd(config, { EDGEFLAG_ORIGIN_URL: originBase, EDGEFLAG_ENV: "staging" });
  try {
    const res = await fetch(`${wd.base}/checkout?step=2`, { headers: { "x-user-id": "user-5" } });
    assert.equal(res.status, 200);
    const echoed = await res.json();
    assert.equal(echoed.path, "/checkout?step=2");
    assert.equal(echoed.user, "user-5");
    assert.equal(echoed.flags, expectedHeader(reference, { targetingKey: "user-5" }, "staging"));
  } finally {
    await wd.stop();
  }
});

test("polls FLAGS_URL, swaps in new files, keeps the last good one when a refresh fails", async () => {
  origin.flagsText = JSON.stringify(manyFlags(3, "remote"));
  origin.status = 200;
  const wd = await startWorkerd(config, { EDGEFLAG_FLAGS_URL: `${originBase}/flags.json`, EDGEFLAG_FLAGS_TTL_MS: "0" });
  const status = async () => (await fetch(`${wd.base}/__edgeflag/status`)).json();
  const waitFor = async (what, check) => {
    const deadline = Date.now() + 10_000;
    let last;
    while (Date.now() < deadline) {
      last = await status();
      if (check(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
  };
  try {
    let s = await status();
    assert.equal(s.source, "url");
    assert.deepEqual(s.flagKeys, ["remote-0", "remote-1", "remote-2"]);
    const remote = new FlagSet(origin.flagsText);
    const res = await fetch(`${wd.base}/`, { headers: { "x-user-id": "u-9", "cf-ipcountry": "US" } });
    assert.equal(res.headers.get("x-edgeflag"), expectedHeader(remote, { targetingKey: "u-9", country: "US" }));

    // An invalid file: the worker keeps serving the previous flags.
    origin.flagsText = JSON.stringify({ schema_version: 1, flags: [{ key: "broken" }] });
    const failuresBefore = s.failures;
    s = await waitFor("a failed refresh", (x) => x.failures > failuresBefore);
    assert.match(s.lastError, /invalid flag file/);
    assert.deepEqual(s.flagKeys, ["remote-0", "remote-1", "remote-2"]);
    // The origin down (HTTP 500): still the last good flags.
    origin.status = 500;
    s = await waitFor("an HTTP failure", (x) => /HTTP 500/.test(x.lastError ?? ""));
    assert.deepEqual(s.flagKeys, ["remote-0", "remote-1", "remote-2"]);
    const during = await fetch(`${wd.base}/`, { headers: { "x-user-id": "u-9", "cf-ipcountry": "US" } });
    assert.equal(during.headers.get("x-edgeflag"), expectedHeader(remote, { targetingKey: "u-9", country: "US" }));

    // A good new file arrives: swapped in.
    origin.status = 200;
    origin.flagsText = JSON.stringify(manyFlags(2, "fresh"));
    s = await waitFor("the new file", (x) => x.flagKeys[0] === "fresh-0");
    assert.equal(s.lastError, null);
    assert.ok(s.revision >= 2);
  } finally {
    await wd.stop();
  }
});

/** What the worker must report for these users in prod: one event per canary arm or
 * experiment variant answer. */
function expectedEvents(users) {
  const out = [];
  for (const user of users) {
    for (const r of reference.evaluateAll({ targetingKey: user }, "prod")) {
      if (r.arm) out.push(`${r.key}/arm/${r.arm}`);
      else if (r.experiment && r.variant) out.push(`${r.key}/variant/${r.variant}`);
    }
  }
  return out.sort();
}

async function waitFor(what, check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("reports canary arms and experiment variants with its ingest token (a secret binding)", async () => {
  origin.posts = [];
  const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
  const wd = await startWorkerd(config, {
    EDGEFLAG_ORIGIN_URL: originBase,
    EDGEFLAG_ENV: "prod",
    EDGEFLAG_EVENTS_URL: `${originBase}/api/metrics/events`,
    EDGEFLAG_EVENTS_FLUSH_MS: "0",
    EDGEFLAG_INGEST_TOKEN: COLLECTOR_TOKEN,
  });
  try {
    for (const user of users) {
      const res = await fetch(`${wd.base}/page`, { headers: { "x-user-id": user } });
      assert.equal(res.status, 200);
      await res.text();
    }
    const posted = await waitFor("all events posted", async () => {
      const events = origin.posts.flatMap((p) => p.body.events);
      return events.length >= expectedEvents(users).length ? events : null;
    });
    assert.ok(origin.posts.every((p) => p.authorization === `Bearer ${COLLECTOR_TOKEN}`), "every POST carries the token");
    const got = posted.map((e) => `${e.flag}/${e.arm ? "arm" : "variant"}/${e.arm ?? e.variant}`).sort();
    assert.deepEqual(got, expectedEvents(users));
    for (const e of posted) {
      assert.equal(e.env, "prod");
      assert.equal(e.outcome, "ok");
      assert.ok(Number.isInteger(e.ts) && e.latency_ms >= 0, JSON.stringify(e));
    }
    // The worker counts a batch as sent when the collector's answer reaches it, which can be
    // just after the collector recorded the POST.
    const status = await waitFor("the worker's count of sent events", async () => {
      const s = await (await fetch(`${wd.base}/__edgeflag/status`)).json();
      return s.events.sent >= posted.length ? s : null;
    });
    assert.equal(status.events.sent, posted.length);
    assert.equal(status.events.lastError, null);
  } finally {
    await wd.stop();
  }

  // A wrong token: the collector refuses, the worker says so and drops the batch.
  origin.posts = [];
  const wrong = await startWorkerd(config, {
    EDGEFLAG_ORIGIN_URL: originBase,
    EDGEFLAG_ENV: "prod",
    EDGEFLAG_EVENTS_URL: `${originBase}/api/metrics/events`,
    EDGEFLAG_EVENTS_FLUSH_MS: "0",
    EDGEFLAG_INGEST_TOKEN: "not-the-token",
  });
  try {
    await (await fetch(`${wrong.base}/`, { headers: { "x-user-id": "user-1" } })).text();
    const status = await waitFor("a refused batch", async () => {
      const s = await (await fetch(`${wrong.base}/__edgeflag/status`)).json();
      return s.events.failures > 0 ? s : null;
    });
    assert.match(status.events.lastError, /HTTP 401/);
    assert.equal(status.events.sent, 0);
  } finally {
    await wrong.stop();
  }
});

// The real server (target/debug/edgeflag: `cargo build -p edgeflag-cli`, which scripts/test.sh
// does before this suite): events from the worker land in /api/metrics only with the token.
const edgeflagBin = path.join(root, "target/debug/edgeflag");
test(
  "the real server counts the worker's events",
  { skip: existsSync(edgeflagBin) ? false : `${edgeflagBin} is not built (cargo build -p edgeflag-cli)` },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "edgeflag-worker-"));
    const server = spawn(edgeflagBin, [
      "serve", "--addr", "127.0.0.1:0", "--data-dir", path.join(dir, "data"), "--flags", path.join(root, "examples/flags.json"),
      "--static-dir", path.join(dir, "none"), "--no-controller", "--token", "worker-test-admin", "--ingest-token", "worker-test-ingest",
    ], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, EDGEFLAG_ADMIN_TOKEN: "", EDGEFLAG_INGEST_TOKEN: "" } });
    process.once("exit", () => server.kill("SIGKILL"));
    try {
      const base = await new Promise((resolve, reject) => {
        let out = "";
        server.stdout.on("data", (d) => {
          out += d;
          const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
          if (m) resolve(m[1]);
        });
        server.once("exit", (code) => reject(new Error(`edgeflag exited ${code}: ${out}`)));
      });
      const users = Array.from({ length: 20 }, (_, i) => `real-${i}`);
      const want = expectedEvents(users).filter((e) => e.startsWith("payment-processor/"));
      const wd = await startWorkerd(config, {
        EDGEFLAG_ORIGIN_URL: originBase,
        EDGEFLAG_ENV: "prod",
        EDGEFLAG_EVENTS_URL: `${base}/api/metrics/events`,
        EDGEFLAG_EVENTS_FLUSH_MS: "0",
        EDGEFLAG_INGEST_TOKEN: "worker-test-ingest",
      });
      try {
        for (const user of users) await (await fetch(`${wd.base}/`, { headers: { "x-user-id": user } })).text();
        const report = await waitFor("the events in /api/metrics", async () => {
          const r = await (await fetch(`${base}/api/metrics?flag=payment-processor&env=prod&window=5m`)).json();
          const total = Object.values(r.arms).reduce((n, a) => n + a.summary.requests, 0);
          return total >= want.length ? r : null;
        });
        for (const arm of ["canary", "baseline"]) {
          const n = want.filter((e) => e === `payment-processor/arm/${arm}`).length;
          assert.equal(report.arms[arm]?.summary.requests ?? 0, n, `${arm} requests`);
        }
      } finally {
        await wd.stop();
      }
    } finally {
      server.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

// `new-dashboard` on or off for everyone: alice (a beta tester) gets "on" only when enabled.
const dashboard = (enabled) => edit((file) => (file.flags.find((f) => f.key === "new-dashboard").enabled = enabled));

test(
  "follows the real server's change stream, polls while it is cut or silent, and returns to it",
  { skip: edgeflagMissing },
  async () => {
    const server = await startEdgeflag(["--no-controller", "--stream-heartbeat", "300ms"]);
    const proxy = await startStreamProxy(server.base);
    let wd;
    let pump;
    try {
      wd = await startWorkerd(config, {
        EDGEFLAG_FLAGS_URL: `${proxy.base}/api/flags`,
        EDGEFLAG_STREAM_URL: `${proxy.base}/api/flags/stream`,
        EDGEFLAG_FLAGS_TTL_MS: "300", // the poll interval while the stream is down
        EDGEFLAG_STREAM_HOLD_MS: "0",
      });
      // Requests give the worker the contexts it subscribes and polls from.
      pump = setInterval(() => fetch(`${wd.base}/`, { headers: { "x-user-id": "pump" } }).then((r) => r.text()).catch(() => {}), 50);
      const status = async () => (await fetch(`${wd.base}/__edgeflag/status`)).json();
      const until = async (what, check, timeoutMs = 15_000) => {
        const deadline = Date.now() + timeoutMs;
        let last;
        while (Date.now() < deadline) {
          last = await status();
          if (check(last)) return last;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.fail(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
      };
      const alice = async () => parseHeader((await fetch(`${wd.base}/`, { headers: { "x-user-id": "alice" } })).headers.get("x-edgeflag"))["new-dashboard"];

      let s = await until("the stream", (x) => x.stream.state === "connected" && x.version === 1);
      assert.equal(await alice(), "on");

      // Pushed: the new version is served without a single poll.
      const polls = s.refreshes;
      const started = Date.now();
      const v2 = await server.publish(dashboard(false));
      s = await until("version 2 from the stream", (x) => x.version === v2.version);
      const pushMs = Date.now() - started;
      assert.equal(s.source, "stream");
      assert.equal(s.etag, v2.etag);
      assert.equal(s.refreshes, polls, "no poll while the stream delivers");
      assert.equal(await alice(), "off");
      const expected = expectedHeader(new FlagSet(JSON.stringify(v2.file)), { targetingKey: "user-3" }, undefined);
      assert.equal((await fetch(`${wd.base}/`, { headers: { "x-user-id": "user-3" } })).headers.get("x-edgeflag"), expected);

      // The stream is cut (connections reset, new ones refused): the worker polls with its ETag.
      proxy.cut();
      await until("the stream to drop", (x) => x.stream.state !== "connected");
      const v3 = await server.publish(dashboard(true));
      s = await until("version 3 by polling", (x) => x.version === v3.version);
      assert.equal(s.source, "url");
      assert.ok(s.refreshes > polls);
      assert.equal(await alice(), "on");

      // Back: the worker resubscribes (after its backoff) and is pushed to again.
      proxy.restore();
      s = await until("the stream again", (x) => x.stream.state === "connected");
      const v4 = await server.publish(dashboard(false));
      s = await until("version 4 from the stream", (x) => x.version === v4.version);
      assert.equal(s.source, "stream");

      // Silent but open (no FIN, no heartbeat): the watchdog gives up after three heartbeats.
      proxy.freeze();
      s = await until("the silent stream to be dropped", (x) => x.stream.state !== "connected" && /no event/.test(x.stream.lastError ?? ""));
      const v5 = await server.publish(dashboard(true));
      s = await until("version 5 by polling", (x) => x.version === v5.version);
      assert.equal(s.source, "url");
      proxy.restore();
      s = await until("the stream after the freeze", (x) => x.stream.state === "connected");
      assert.ok(s.stream.connects >= 3, JSON.stringify(s.stream));
      console.log(`  worker: version pushed in ${pushMs} ms; stream ${JSON.stringify(s.stream)}`);
    } finally {
      clearInterval(pump);
      await wd?.stop();
      await proxy.close();
      await server.stop();
    }
  },
);

test(
  "a held subscription is renewed by later requests, resuming without the file",
  { skip: edgeflagMissing },
  async () => {
    const server = await startEdgeflag(["--no-controller", "--stream-heartbeat", "200ms"]);
    let wd;
    let pump;
    try {
      // Held 800 ms at a time (on Cloudflare, waitUntil work ends 30 s after the response).
      wd = await startWorkerd(config, {
        EDGEFLAG_FLAGS_URL: `${server.base}/api/flags`,
        EDGEFLAG_STREAM_URL: `${server.base}/api/flags/stream`,
        EDGEFLAG_FLAGS_TTL_MS: "60000",
        EDGEFLAG_STREAM_HOLD_MS: "800",
      });
      pump = setInterval(() => fetch(`${wd.base}/`, { headers: { "x-user-id": "pump" } }).then((r) => r.text()).catch(() => {}), 50);
      const status = async () => (await fetch(`${wd.base}/__edgeflag/status`)).json();
      const deadline = Date.now() + 15_000;
      let s = await status();
      while (s.stream.connects < 4 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        s = await status();
      }
      assert.ok(s.stream.connects >= 4, `renewed: ${JSON.stringify(s.stream)}`);
      // Every renewal resumed at the held ETag: heartbeats only, no file, no error.
      assert.equal(s.stream.versions, 0, JSON.stringify(s.stream));
      assert.equal(s.stream.lastError, null);
      assert.equal(s.refreshes, 1, "only the first load was fetched");
      const v2 = await server.publish(dashboard(false));
      while (s.version !== v2.version && Date.now() < deadline + 10_000) {
        await new Promise((r) => setTimeout(r, 20));
        s = await status();
      }
      assert.equal(s.version, v2.version);
      assert.equal(s.source, "stream");
    } finally {
      clearInterval(pump);
      await wd?.stop();
      await server.stop();
    }
  },
);
