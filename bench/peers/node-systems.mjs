// Every system of the Node benchmark, loaded with the same logical flags (workloads.mjs), each
// through its own recommended server-side API. A system is
//   { name, one(key) -> (userKey) => answer, all() -> (userKey) => answers }
// where `one(key)` returns the per-call function for one flag: it builds that system's context
// for the user (a new object on every call, as a request handler would) and evaluates.
import * as W from "./workloads.mjs";

const silent = { error() {}, warn() {}, info() {}, debug() {} };

export async function flagd(n) {
  const { FlagdCore } = await import("@openfeature/flagd-core");
  // Interpreter mode: edge runtimes forbid `new Function`, which the compiled mode uses.
  const core = new FlagdCore(undefined, silent, { disableDynamicCodeGeneration: true });
  core.setConfigurations(JSON.stringify(W.flagdConfig(n)));
  return {
    name: "flagd-core",
    one(key) {
      return W.flagdIsString(key)
        ? (u) => core.resolveStringEvaluation(key, "A", { targetingKey: u, ...W.USER }, silent).value
        : (u) => core.resolveBooleanEvaluation(key, false, { targetingKey: u, ...W.USER }, silent).value;
    },
    all: () => (u) => core.resolveAll({ targetingKey: u, ...W.USER }, silent),
  };
}

export async function growthbook(n) {
  const { GrowthBookClient } = await import("@growthbook/growthbook");
  // The multi-user server client: one payload, user attributes per call.
  const client = new GrowthBookClient().initSync({ payload: W.growthbookPayload(n) });
  const keys = W.flagKeys(n);
  return {
    name: "GrowthBook",
    one: (key) => (u) => client.evalFeature(key, { attributes: { id: u, ...W.USER } }).value,
    all: () => (u) => {
      const user = { attributes: { id: u, ...W.USER } };
      return keys.map((k) => client.evalFeature(k, user));
    },
  };
}

export async function unleash(n) {
  const { Unleash, InMemStorageProvider } = await import("unleash-client");
  const client = new Unleash({
    appName: "edgeflag-bench",
    url: "http://127.0.0.1:9/api/", // never reached: refresh is off, the bootstrap is the state
    refreshInterval: 0,
    disableMetrics: true,
    skipInstanceCountWarning: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: { data: W.unleashPayload(n).features },
  });
  client.on("error", () => {});
  client.on("warn", () => {});
  await new Promise((resolve) => (client.isSynchronized?.() ? resolve() : client.once("ready", resolve)));
  const keys = W.flagKeys(n);
  return {
    name: "unleash-client",
    client,
    one(key) {
      return W.unleashIsVariant(key)
        ? (u) => client.getVariant(key, W.unleashContext(u)).name
        : (u) => client.isEnabled(key, W.unleashContext(u));
    },
    all: () => (u) => {
      const ctx = W.unleashContext(u);
      return keys.map((k) => (W.unleashIsVariant(k) ? client.getVariant(k, ctx) : client.isEnabled(k, ctx)));
    },
    stop: () => client.destroy(),
  };
}

export async function flipt(n) {
  const { FliptClient } = await import("@flipt-io/flipt-client-js");
  const snapshot = W.fliptSnapshot(n);
  const client = await FliptClient.init({
    namespace: "default",
    url: "http://127.0.0.1:9",
    updateInterval: 1_000_000,
    fetcher: async () => ({ ok: true, status: 200, statusText: "OK", headers: { get: () => null }, json: async () => snapshot }),
  });
  const keys = W.flagKeys(n);
  return {
    name: "Flipt",
    one(key) {
      return W.fliptIsVariant(key)
        ? (u) => client.evaluateVariant({ flagKey: key, entityId: u, context: W.fliptContext() }).variantKey
        : (u) => client.evaluateBoolean({ flagKey: key, entityId: u, context: W.fliptContext() }).enabled;
    },
    all: () => (u) => client.evaluateBatch(keys.map((k) => ({ flagKey: k, entityId: u, context: W.fliptContext() }))),
    stop: () => client.close?.(),
  };
}
