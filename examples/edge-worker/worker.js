// edgeflag at the edge: a Cloudflare Worker (runs in workerd) that evaluates every flag for the
// requesting user with the WASM engine and either answers with the flags or forwards the
// request to the origin with the flags in a header.
//
// Bindings (all optional, see config.capnp):
//   FLAGS_URL     where to poll the flag file; without it the bundled flags.json is used
//   FLAGS_TTL_MS  how long a fetched file is fresh (default 30000)
//   ORIGIN_URL    forward requests there (with the x-edgeflag header) instead of answering
//   EDGEFLAG_ENV  environment to evaluate in (dev, staging, prod...)
import { FlagSet, engineVersion } from "./edgeflag/edge.js";
import bundledFlags from "./flags.json";

const COOKIE = "ef_uid";
const USER_HEADER = "x-user-id";
const FLAGS_HEADER = "x-edgeflag";

// Per-isolate state: the last good flag set survives across requests; a failed refresh keeps it.
const state = {
  flags: null, // FlagSet
  source: "none", // "bundled" | "url"
  fetchedAt: 0, // Date.now() of the last refresh attempt
  etag: null,
  lastError: null,
  refreshes: 0,
  failures: 0,
};

function ttl(env) {
  const n = Number(env.FLAGS_TTL_MS);
  return Number.isFinite(n) && n >= 0 ? n : 30_000;
}

// Fetches the flag file and swaps it in; any failure (network, HTTP, invalid file) leaves the
// current flags serving and is recorded for /__edgeflag/status.
async function refresh(env) {
  state.fetchedAt = Date.now();
  state.refreshes++;
  try {
    const headers = state.etag && state.source === "url" ? { "if-none-match": state.etag } : {};
    const res = await fetch(env.FLAGS_URL, { headers });
    if (res.status === 304) return;
    if (!res.ok) throw new Error(`flag file fetch: HTTP ${res.status}`);
    const text = await res.text();
    if (state.flags) state.flags.replace(text); // validates fully before swapping
    else state.flags = new FlagSet(text);
    state.source = "url";
    state.etag = res.headers.get("etag");
    state.lastError = null;
  } catch (e) {
    state.failures++;
    state.lastError = String(e?.message ?? e);
    console.warn(`edgeflag: keeping revision ${state.flags?.revision ?? "none"}: ${state.lastError}`);
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
  } else if (Date.now() - state.fetchedAt >= ttl(env)) {
    // Stale: serve the current flags now, refresh in the background. (Promises are not shared
    // between requests: workerd forbids I/O objects crossing request contexts.)
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
        flagKeys: flags.flagKeys,
        refreshes: state.refreshes,
        failures: state.failures,
        lastError: state.lastError,
      });
    }

    const user = identify(request);
    const results = flags.evaluateAll(context(request, user.id), env.EDGEFLAG_ENV || undefined);
    const header = flagsHeader(results);

    if (env.ORIGIN_URL) {
      const target = new URL(url.pathname + url.search, env.ORIGIN_URL);
      const forwarded = new Request(target, request);
      forwarded.headers.set(FLAGS_HEADER, header);
      forwarded.headers.set(USER_HEADER, user.id);
      const response = await fetch(forwarded);
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
