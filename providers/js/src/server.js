// edgeflag for @openfeature/server-sdk (Node, and edge runtimes that run it, e.g. workerd):
// dynamic context, each evaluation is local and in-process.
//
//   import * as edgeflag from "edgeflag";
//   import { OpenFeature } from "@openfeature/server-sdk";
//   import { EdgeflagServerProvider } from "@edgeflag/openfeature/server";
//   await OpenFeature.setProviderAndWait(new EdgeflagServerProvider({ engine: edgeflag, server: "http://flags:8080", environment: "prod" }));
//   await OpenFeature.getClient().getBooleanValue("new-dashboard", false, { targetingKey: userId });
//
// In Cloudflare Workers / workerd, I/O may only happen inside a request: pass
// `background: false` and call `ctx.waitUntil(provider.refresh())` in each request.

import * as sdk from "@openfeature/server-sdk";
import { ProviderCore } from "./core.js";

export class EdgeflagServerProvider {
  metadata = { name: "edgeflag" };
  runsOn = "server";
  hooks = [];

  /** @param {import("../types/server").EdgeflagServerProviderOptions} options */
  constructor(options) {
    this.core = new ProviderCore(options, sdk);
    this.events = this.core.events;
  }

  initialize(context) {
    return this.core.initialize(context);
  }

  onClose() {
    return this.core.onClose();
  }

  async resolveBooleanEvaluation(flagKey, defaultValue, context) {
    return this.core.resolve(flagKey, "boolean", defaultValue, context);
  }

  async resolveStringEvaluation(flagKey, defaultValue, context) {
    return this.core.resolve(flagKey, "string", defaultValue, context);
  }

  async resolveNumberEvaluation(flagKey, defaultValue, context) {
    return this.core.resolve(flagKey, "number", defaultValue, context);
  }

  async resolveObjectEvaluation(flagKey, defaultValue, context) {
    return this.core.resolve(flagKey, "object", defaultValue, context);
  }

  /** `client.track(name, context, { outcome, latencyMs | value, flags? })`: see core.js. */
  track(trackingEventName, context, details) {
    this.core.track(trackingEventName, context, details);
  }

  /** For `background: false`: one conditional fetch when due, and a flush of metric events. */
  refresh() {
    return this.core.refresh();
  }

  flushMetrics() {
    return this.core.metrics?.flush();
  }

  status() {
    return this.core.status();
  }
}
