// edgeflag for @openfeature/web-sdk: the flags are evaluated in the page by the WASM engine.
//
//   import * as edgeflag from "edgeflag";
//   import { OpenFeature } from "@openfeature/web-sdk";
//   import { EdgeflagWebProvider } from "@edgeflag/openfeature/web";
//   await OpenFeature.setContext({ targetingKey: userId, country });
//   await OpenFeature.setProviderAndWait(new EdgeflagWebProvider({ engine: edgeflag, server: "https://flags.example.com" }));
//   OpenFeature.getClient().getBooleanValue("new-dashboard", false);
//
// Static context: the SDK holds one context; evaluations are synchronous and local, and
// `onContextChange` evaluates every flag for the new context once (an unreadable context
// rejects, and the SDK reports PROVIDER_ERROR for that change).

import * as sdk from "@openfeature/web-sdk";
import { ProviderCore } from "./core.js";

export class EdgeflagWebProvider {
  metadata = { name: "edgeflag" };
  runsOn = "client";
  hooks = [];

  /** @param {import("../types/web").EdgeflagWebProviderOptions} options */
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

  async onContextChange(_oldContext, newContext) {
    if (this.core.engine.loaded) this.core.evaluateAll(newContext); // throws for an unreadable context
  }

  resolveBooleanEvaluation(flagKey, defaultValue, context) {
    return this.core.resolve(flagKey, "boolean", defaultValue, context);
  }

  resolveStringEvaluation(flagKey, defaultValue, context) {
    return this.core.resolve(flagKey, "string", defaultValue, context);
  }

  resolveNumberEvaluation(flagKey, defaultValue, context) {
    return this.core.resolve(flagKey, "number", defaultValue, context);
  }

  resolveObjectEvaluation(flagKey, defaultValue, context) {
    return this.core.resolve(flagKey, "object", defaultValue, context);
  }

  /** `client.track(name, { outcome, latencyMs | value, flags? })`: see core.js. */
  track(trackingEventName, context, details) {
    this.core.track(trackingEventName, context, details);
  }

  /** Posts waiting metric events now (e.g. on `pagehide`, with keepalive). */
  flushMetrics() {
    return this.core.metrics?.flush({ keepalive: true });
  }

  /** Where the flags came from, their version, stream state, failures, metric counters. */
  status() {
    return this.core.status();
  }
}
