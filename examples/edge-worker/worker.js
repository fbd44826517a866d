// edgeflag at the edge: a Cloudflare Worker (runs in workerd) that evaluates every flag for the
// requesting user with the WASM engine and either answers with the flags or forwards the
// request to the origin with the flags in a header.
//
// Bindings (all optional, see config.capnp):
//   FLAGS_URL        where to poll the flag file; without it the bundled flags.json is used
//   FLAGS_TTL_MS     how long a fetched file is fresh (default 30000): the poll interval, used
//                    only while the stream (STREAM_URL) is down
//   STREAM_URL       the server's GET /api/flags/stream: new versions are pushed and swapped in
//                    within about a second; when the stream drops the worker polls FLAGS_URL
//                    (ETag) until it is back
//   STREAM_HOLD_MS   how long one subscription is held (default 25000): on Cloudflare, work in
//                    waitUntil ends 30 s after the response, so a subscription is renewed by a
//                    later request (resuming with Last-Event-ID: no file is resent); 0 = no limit
//   ORIGIN_URL       forward requests there (with the x-edgeflag header) instead of answering
//   EDGEFLAG_ENV     environment to evaluate in (dev, staging, prod...)
//   EVENTS_URL       the server's POST /api/metrics/events: with ORIGIN_URL, each forwarded
//                    request reports its outcome and latency per canary arm / experiment variant
//   INGEST_TOKEN     a SECRET: the ingest token the server requires for EVENTS_URL (created
//                    with `edgeflag token create NAME --role ingest`). Cloudflare: `wrangler
//                    secret put INGEST_TOKEN`; workerd: a text binding (see config.capnp)
//   EVENTS_BATCH     events per POST (default 100); EVENTS_FLUSH_MS: oldest event's maximum
//                    wait before a POST (default 5000)
import { FlagSet, engineVersion } from "./edgeflag/edge.js";
import bundledFlags from "./flags.json";

const COOKIE = "ef_uid";
const USER_HEADER = "x-user-id";
const FLAGS_HEADER = "x-edgeflag";
// Events kept while the server is unreachable; beyond this the oldest are dropped (counted).
const MAX_PENDING_EVENTS = 10_000;

// Per-isolate state: the last good flag set survives across requests; a failed refresh keeps it.
const state = {
  flags: null, // FlagSet
  source: "none", // "bundled" | "url" (polled) | "stream" (pushed)
  fetchedAt: 0, // Date.now() of the last refresh attempt
  etag: null,
  version: null, // the server's version number (X-Edgeflag-Version / the event's), when known
  lastError: null,
  refreshes: 0,
  failures: 0,
};

// The subscription to STREAM_URL. Its fetch and its reads belong to the request whose
// waitUntil started it (workerd forbids I/O across request contexts); the flags it swaps in
// are plain per-isolate state that every request reads.
const stream = {
  state: "down", // "connecting" | "connected" | "down"
  active: false, // a subscription is running in some request's waitUntil
  connects: 0,
  versions: 0, // versions swapped in from the stream
  heartbeats: 0,
  heartbeatMs: 15_000,
  lastEventAt: 0,
  retryAt: 0, // no reconnect before this (backoff after a failure)
  backoffMs: 0,
  lastError: null,
};

function ttl(env) {
  const n = Number(env.FLAGS_TTL_MS);
  return Number.isFinite(n) && n >= 0 ? n : 30_000;
}

// Metric events waiting to be posted (plain data may outlive a request; I/O may not, so each
// flush runs in the waitUntil of the request that triggers it).
const events = {
  pending: [],
  oldestAt: 0,
  sent: 0,
  dropped: 0,
  failures: 0,
  lastError: null,
};

function positiveNumber(value, fallback) {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) && n >= 0 ? n : fallback;
}

// One event per flag whose answer is a canary arm or an experiment variant: what the server's
// canary controller and experiment analysis judge.
function recordOutcome(env, results, outcome, latencyMs) {
  if (!env.EVENTS_URL) return;
  const ts = Date.now();
  if (events.pending.length === 0) events.oldestAt = ts;
  for (const r of results) {
    let event;
    if (r.arm) event = { arm: r.arm };
    else if (r.experiment && r.variant) event = { variant: r.variant };
    else continue;
    events.pending.push({ ts, flag: r.key, env: env.EDGEFLAG_ENV || "default", outcome, latency_ms: latencyMs, ...event });
  }
  const over = events.pending.length - MAX_PENDING_EVENTS;
  if (over > 0) {
    events.pending.splice(0, over);
    events.dropped += over;
  }
}

function flushDue(env) {
  if (!env.EVENTS_URL || events.pending.length === 0) return false;
  return events.pending.length >= positiveNumber(env.EVENTS_BATCH, 100) || Date.now() - events.oldestAt >= positiveNumber(env.EVENTS_FLUSH_MS, 5000);
}

// Posts the pending events with the ingest token. The server refuses anonymous events, so
// without a token nothing is sent and the status says why; a refused or failed batch is
// dropped (counted): retrying it could only be refused again or arrive too late to judge.
async function flushEvents(env) {
  const batch = events.pending.splice(0, events.pending.length);
  if (batch.length === 0) return;
  if (!env.INGEST_TOKEN) {
    events.dropped += batch.length;
    events.lastError = "INGEST_TOKEN is not set: the server refuses anonymous events";
    return;
  }
  try {
    const res = await fetch(env.EVENTS_URL, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` },
      body: JSON.stringify({ events: batch }),
    });
    if (res.status !== 202) throw new Error(`events: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    events.sent += batch.length;
    events.lastError = null;
  } catch (e) {
    events.failures++;
    events.dropped += batch.length;
    events.lastError = String(e?.message ?? e);
    console.warn(`edgeflag: dropped ${batch.length} metric events: ${events.lastError}`);
  }
}

// Swaps in a new file (validated fully first: an invalid one throws and the old flags keep
// serving). A version older than the one held (a lagging replica) is ignored.
function swapIn(text, { etag, version, source }) {
  if (version != null && state.version != null && version <= state.version) return false;
  if (state.flags) state.flags.replace(text);
  else state.flags = new FlagSet(text);
  state.source = source;
  state.etag = etag ?? null;
  state.version = version ?? null;
  state.lastError = null;
  return true;
}

// Fetches the flag file and swaps it in; any failure (network, HTTP, invalid file) leaves the
// current flags serving and is recorded for /__edgeflag/status.
async function refresh(env) {
  state.fetchedAt = Date.now();
  state.refreshes++;
  try {
    const headers = state.etag && state.source !== "bundled" ? { "if-none-match": state.etag } : {};
    const res = await fetch(env.FLAGS_URL, { headers });
    if (res.status === 304) return;
    if (!res.ok) throw new Error(`flag file fetch: HTTP ${res.status}`);
    const text = await res.text();
    const version = res.headers.get("x-edgeflag-version");
    swapIn(text, { etag: res.headers.get("etag"), version: version === null ? null : Number(version), source: "url" });
  } catch (e) {
    state.failures++;
    state.lastError = String(e?.message ?? e);
    console.warn(`edgeflag: keeping revision ${state.flags?.revision ?? "none"}: ${state.lastError}`);
  }
}

// Whether the stream is delivering: connected, and an event (a heartbeat at least) arrived
// within three heartbeat intervals.
function streamHealthy() {
  return stream.state === "connected" && Date.now() - stream.lastEventAt < 3 * stream.heartbeatMs;
}

// One `version` or `heartbeat` event from the stream.
async function onStreamEvent(env, type, data) {
  stream.lastEventAt = Date.now();
  if (Number.isFinite(data.heartbeat_ms) && data.heartbeat_ms > 0) stream.heartbeatMs = data.heartbeat_ms;
  if (type === "heartbeat") {
    stream.heartbeats++;
    // A version this worker missed (e.g. while reconnecting): fetch it now.
    if (Number.isFinite(data.version) && state.version != null && data.version > state.version) await refresh(env);
    return;
  }
  if (type !== "version") return;
  // Small files come inline; larger ones as a notice to fetch the (immutable) version.
  let text;
  if (data.file !== undefined) {
    text = JSON.stringify(data.file);
  } else {
    const res = await fetch(new URL(data.fetch, env.STREAM_URL));
    if (!res.ok) throw new Error(`stream notice: fetching ${data.fetch}: HTTP ${res.status}`);
    text = await res.text();
  }
  if (swapIn(text, { etag: data.etag, version: data.version, source: "stream" })) stream.versions++;
}

// Reads the stream until it ends, fails, falls silent (no event in three heartbeat
// intervals) or has been held STREAM_HOLD_MS. Runs in a request's waitUntil.
async function subscribe(env) {
  stream.active = true;
  stream.state = "connecting";
  stream.connects++;
  const holdMs = positiveNumber(env.STREAM_HOLD_MS, 25_000);
  const started = Date.now();
  const abort = new AbortController();
  let renew = false;
  try {
    const headers = { accept: "text/event-stream" };
    if (state.etag) headers["last-event-id"] = state.etag; // resume: no file when nothing changed
    const res = await fetch(env.STREAM_URL, { headers, signal: abort.signal });
    if (res.status !== 200 || !res.body) throw new Error(`stream: HTTP ${res.status}`);
    stream.state = "connected";
    stream.lastEventAt = Date.now();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    // A read outlives a timeout that won the race: it is awaited again, so no data is lost.
    let pending = null;
    while (true) {
      const silentFor = 3 * stream.heartbeatMs;
      const left = holdMs > 0 ? holdMs - (Date.now() - started) : Infinity;
      if (left <= 0) {
        renew = true;
        pending?.catch(() => {});
        break;
      }
      let timer;
      const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.min(silentFor, left))));
      pending ??= reader.read();
      const next = await Promise.race([pending, timeout]);
      clearTimeout(timer);
      if (next === "timeout") {
        pending.catch(() => {});
        if (Date.now() - stream.lastEventAt >= silentFor) throw new Error(`stream: no event for ${silentFor} ms`);
        continue; // the hold limit: checked at the top
      }
      pending = null;
      if (next.done) throw new Error("stream: the server ended it");
      buffer += next.value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "message";
        let data = "";
        for (const line of block.split("\n")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") type = value;
          else if (field === "data") data += (data ? "\n" : "") + value;
        }
        if (data) await onStreamEvent(env, type, JSON.parse(data));
      }
      if (buffer.length > 16 * 1024 * 1024) throw new Error("stream: an event larger than 16 MiB");
    }
    stream.backoffMs = 0;
    stream.lastError = null;
  } catch (e) {
    stream.lastError = String(e?.message ?? e);
    // Back off 1 s, 2 s, 4 s … 30 s between failed attempts; polling covers the gap.
    stream.backoffMs = Math.min(30_000, stream.backoffMs ? stream.backoffMs * 2 : 1000);
    stream.retryAt = Date.now() + stream.backoffMs;
    console.warn(`edgeflag: stream down (polling meanwhile): ${stream.lastError}`);
  } finally {
    abort.abort();
    stream.state = "down";
    stream.active = false;
    // A renewal reconnects at the next request; a failure after the backoff.
    if (renew) stream.retryAt = 0;
  }
}

async function currentFlags(env, ctx) {
  if (!env.FLAGS_URL) {
    if (!state.flags) {
      state.flags = new FlagSet(bundledFlags);
      state.source = "bundled";
    }
    return state.flags;
  }
  if (!state.flags) {
    // First request in this isolate: wait for the remote file, fall back to the bundled one.
    await refresh(env);
    if (!state.flags) {
      state.flags = new FlagSet(bundledFlags);
      state.source = "bundled";
    }
  }
  // The stream: (re)subscribe from this request when none is running and the backoff is over.
  if (env.STREAM_URL && !stream.active && Date.now() >= stream.retryAt) {
    ctx.waitUntil(subscribe(env));
  }
  // Polling: only while the stream is not delivering. Stale: serve the current flags now,
  // refresh in the background. (Promises are not shared between requests: workerd forbids I/O
  // objects crossing request contexts.)
  const polling = !env.STREAM_URL || !streamHealthy();
  if (polling && Date.now() - state.fetchedAt >= ttl(env)) {
    state.fetchedAt = Date.now();
    ctx.waitUntil(refresh(env));
  }
  return state.flags;
}

function cookie(request, name) {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

// The user: header wins (service-to-service calls), then the cookie, else a new anonymous id.
function identify(request) {
  const fromHeader = request.headers.get(USER_HEADER);
  if (fromHeader) return { id: fromHeader, isNew: false };
  const fromCookie = cookie(request, COOKIE);
  if (fromCookie) return { id: fromCookie, isNew: false };
  return { id: crypto.randomUUID(), isNew: true };
}

function context(request, userId) {
  const ctx = { targetingKey: userId };
  const country = request.cf?.country ?? request.headers.get("cf-ipcountry");
  if (country) ctx.country = country;
  const ip = request.headers.get("cf-connecting-ip");
  if (ip) ctx.ip = ip;
  const email = request.headers.get("x-user-email");
  if (email) ctx.email = email;
  return ctx;
}

// `key=variant` pairs, percent-encoded so any flag key or variation name is header-safe.
function flagsHeader(results) {
  return results
    .filter((r) => r.variant !== null)
    .map((r) => `${encodeURIComponent(r.key)}=${encodeURIComponent(r.variant)}`)
    .join(",");
}

function withUserCookie(response, user) {
  if (!user.isNew) return response;
  const out = new Response(response.body, response);
  out.headers.append("set-cookie", `${COOKIE}=${encodeURIComponent(user.id)}; Path=/; Max-Age=31536000; SameSite=Lax`);
  return out;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const flags = await currentFlags(env, ctx);

    if (url.pathname === "/__edgeflag/status") {
      return Response.json({
        engine: engineVersion(),
        revision: flags.revision,
        source: state.source,
        version: state.version,
        etag: state.etag,
        flagKeys: flags.flagKeys,
        refreshes: state.refreshes,
        failures: state.failures,
        lastError: state.lastError,
        stream: {
          state: env.STREAM_URL ? (streamHealthy() ? "connected" : stream.state === "connected" ? "silent" : stream.state) : "off",
          connects: stream.connects,
          versions: stream.versions,
          heartbeats: stream.heartbeats,
          lastError: stream.lastError,
        },
        events: {
          pending: events.pending.length,
          sent: events.sent,
          dropped: events.dropped,
          failures: events.failures,
          lastError: events.lastError,
        },
      });
    }

    // The rest of /__edgeflag/ is reserved for the worker itself: never forwarded, no events.
    if (url.pathname.startsWith("/__edgeflag/")) {
      return Response.json({ error: `unknown worker endpoint ${url.pathname}` }, { status: 404 });
    }

    const user = identify(request);
    const results = flags.evaluateAll(context(request, user.id), env.EDGEFLAG_ENV || undefined);
    const header = flagsHeader(results);

    if (env.ORIGIN_URL) {
      const target = new URL(url.pathname + url.search, env.ORIGIN_URL);
      const forwarded = new Request(target, request);
      forwarded.headers.set(FLAGS_HEADER, header);
      forwarded.headers.set(USER_HEADER, user.id);
      // Date.now() in workerd advances across I/O, so this is the origin's latency.
      const started = Date.now();
      let response;
      try {
        response = await fetch(forwarded);
      } catch (e) {
        recordOutcome(env, results, "error", Date.now() - started);
        if (flushDue(env)) ctx.waitUntil(flushEvents(env));
        return new Response(`origin unreachable: ${e?.message ?? e}`, { status: 502 });
      }
      recordOutcome(env, results, response.status >= 500 ? "error" : "ok", Date.now() - started);
      if (flushDue(env)) ctx.waitUntil(flushEvents(env));
      return withUserCookie(response, user);
    }

    const body = {
      user: user.id,
      revision: flags.revision,
      flags: Object.fromEntries(results.map((r) => [r.key, r])),
    };
    const response = Response.json(body, {
      headers: { [FLAGS_HEADER]: header, "x-edgeflag-revision": String(flags.revision) },
    });
    return withUserCookie(response, user);
  },
};
