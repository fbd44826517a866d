// OpenFeature in a Cloudflare Worker (workerd): the server SDK with edgeflag's provider, which
// evaluates with the WASM engine in the isolate. Workers allow I/O only inside a request, so
// the provider runs nothing in the background (`background: false`): each request hands
// `provider.refresh()` to `ctx.waitUntil`, which fetches the flags when the copy held is older
// than POLL_MS (a conditional GET: 304 when nothing changed) and posts waiting metric events.
//
// Bindings (config.capnp): FLAGS_SERVER (the edgeflag server's base URL), EDGEFLAG_ENV,
// POLL_MS, EVENTS_URL and INGEST_TOKEN (a secret: `wrangler secret put INGEST_TOKEN`).
//
//   GET /eval?flag=KEY&type=boolean|string|number|object   (user: the x-user-id header)
//   POST /work?latency_ms=N&outcome=ok|error                (reports the outcome: client.track)
//   GET /__status
import * as edgeflag from "edgeflag/edge.js";
import { OpenFeature } from "@openfeature/server-sdk";
// With wrangler: import { EdgeflagServerProvider } from "@edgeflag/openfeature/server";
import { EdgeflagServerProvider } from "./server.js";

let provider = null;

async function ready(env) {
  if (provider && OpenFeature.getClient().providerStatus !== "NOT_READY" && OpenFeature.getClient().providerStatus !== "ERROR") return;
  provider = new EdgeflagServerProvider({
    engine: edgeflag,
    server: env.FLAGS_SERVER,
    environment: env.EDGEFLAG_ENV || undefined,
    background: false,
    pollMs: Number(env.POLL_MS) > 0 ? Number(env.POLL_MS) : 5000,
    metrics: env.EVENTS_URL ? { eventsUrl: env.EVENTS_URL, ingestToken: env.INGEST_TOKEN || null } : undefined,
  });
  // Inside this request: the first load is this request's I/O.
  await OpenFeature.setProviderAndWait(provider);
}

export default {
  async fetch(request, env, ctx) {
    try {
      await ready(env);
    } catch (e) {
      return Response.json({ error: `flags unavailable: ${e?.message ?? e}` }, { status: 503 });
    }
    ctx.waitUntil(provider.refresh());
    const url = new URL(request.url);
    const context = { targetingKey: request.headers.get("x-user-id") ?? "anonymous" };
    const country = request.headers.get("cf-ipcountry");
    if (country) context.country = country;
    const client = OpenFeature.getClient();
    if (url.pathname === "/eval") {
      const type = url.searchParams.get("type") ?? "boolean";
      const method = { boolean: "getBooleanDetails", string: "getStringDetails", number: "getNumberDetails", object: "getObjectDetails" }[type];
      if (!method) return Response.json({ error: `unknown type ${type}` }, { status: 400 });
      const fallback = { boolean: false, string: "", number: 0, object: {} }[type];
      return Response.json(await client[method](url.searchParams.get("flag") ?? "", fallback, context));
    }
    if (url.pathname === "/work" && request.method === "POST") {
      client.track("request", context, { outcome: url.searchParams.get("outcome") ?? "ok", latencyMs: Number(url.searchParams.get("latency_ms")) });
      return Response.json({ tracked: true });
    }
    if (url.pathname === "/__status" || url.pathname === "/__edgeflag/ping") return Response.json(provider.status());
    return Response.json({ error: "not found" }, { status: 404 });
  },
};
