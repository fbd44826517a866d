// What the web and the server providers share: loading and updating the flags (FlagSource),
// the engine (Engine), the mapping of answers (resolution.js), provider events, and tracking.
// `sdk` is the OpenFeature SDK module the provider is for (web or server): its event emitter,
// event names and error classes must be that SDK's own.

import { Engine, KIND } from "./engine.js";
import { changedFlags, describe } from "./flag-file.js";
import { FlagSource } from "./flag-source.js";
import { MetricsReporter } from "./metrics.js";
import { engineContext, failure, toResolution } from "./resolution.js";

export class ProviderCore {
  constructor(options, sdk) {
    if (!options || typeof options !== "object") throw new TypeError("edgeflag provider: options are required");
    this.sdk = sdk;
    this.engine = new Engine(options.engine);
    this.environment = options.environment ?? undefined;
    this.events = new sdk.OpenFeatureEventEmitter();
    this.description = null;
    this.version = null;
    this.stale = false;
    this.errored = false;
    this.closed = false;
    this.source = new FlagSource(options, {
      onVersion: (text, info) => this.#apply(text, info),
      onFailure: (e) => this.#sourceFailed(e),
      onSuccess: () => this.#sourceOk(),
    });
    this.metrics = options.metrics
      ? new MetricsReporter({ environment: this.environment, background: options.background !== false, fetch: options.fetch, ...options.metrics })
      : null;
  }

  async initialize() {
    await this.engine.ready();
    let first;
    try {
      first = await this.source.load();
    } catch (e) {
      // Not fatal: the source is retried in the background, and READY follows the first load.
      this.errored = true;
      this.source.start();
      throw new this.sdk.GeneralError(`edgeflag: could not load the flags: ${e?.message ?? e}`);
    }
    try {
      this.#load(first.text, first);
    } catch (e) {
      if (this.source.kind === "flags") {
        // Inline flags never change: an invalid file cannot get better.
        throw new this.sdk.ProviderFatalError(`edgeflag: invalid flags: ${e?.message ?? e}`);
      }
      this.errored = true;
      this.source.start();
      throw new this.sdk.GeneralError(`edgeflag: invalid flag file from ${this.source.fileUrl}: ${e?.message ?? e}`);
    }
    this.source.start();
  }

  async onClose() {
    this.closed = true;
    this.source.stop();
    await this.metrics?.flush({ keepalive: true });
  }

  /** One conditional fetch if the last is older than `pollMs`, and a flush of metric events: for edge runtimes (`background: false`). */
  async refresh() {
    await Promise.all([this.source.refresh({ ifOlderThanPoll: true }), this.metrics?.flush()]);
  }

  status() {
    return { ...this.source.status(), version: this.version, stale: this.stale, metrics: this.metrics?.status() ?? null };
  }

  /** Typed resolution details. `type`: "boolean" | "string" | "number" | "object". */
  resolve(flagKey, type, defaultValue, context) {
    if (!this.engine.loaded) return failure(defaultValue, this.sdk.ErrorCode.PROVIDER_NOT_READY, "edgeflag: flags not loaded yet");
    let result;
    try {
      result = this.engine.evaluateAs(flagKey, KIND[type], engineContext(context), this.environment);
    } catch (e) {
      // The engine throws only for inputs it cannot read (a context that is not JSON, too large).
      return failure(defaultValue, this.sdk.ErrorCode.INVALID_CONTEXT, String(e?.message ?? e));
    }
    return toResolution(result, defaultValue, this.version);
  }

  /** Every flag's answer for a context (tracking, and checking a context). */
  evaluateAll(context) {
    return this.engine.evaluateAll(engineContext(context), this.environment);
  }

  /**
   * OpenFeature tracking: reports the outcome of work done for `context` to the server's
   * metrics endpoint, for every flag (or `details.flags`) that answers this context with a
   * canary arm or an experiment variant. details: { outcome: "ok" | "error", latencyMs (or
   * OpenFeature's numeric `value`), flags? }.
   */
  track(trackingEventName, context, details = {}) {
    if (!this.metrics || !this.engine.loaded) return;
    let results;
    try {
      results = this.evaluateAll(context);
    } catch {
      this.metrics.stats.skipped++;
      return;
    }
    if (Array.isArray(details.flags)) {
      const only = new Set(details.flags);
      results = results.filter((r) => only.has(r.key));
    }
    const outcome = details.outcome ?? (trackingEventName === "error" ? "error" : "ok");
    this.metrics.record(results, { outcome, latencyMs: details.latencyMs ?? details.value });
  }

  #load(text, info) {
    const description = describe(text); // the engine validates below; describe only reads keys
    this.engine.load(text);
    const before = this.description;
    this.description = description;
    this.version = info.version ?? null;
    this.source.held(info.etag, info.version);
    return before;
  }

  #apply(text, info) {
    if (this.closed) return;
    if (this.version !== null && info.version !== null && info.version !== undefined && !(info.version > this.version)) return;
    let before;
    try {
      before = this.#load(text, info);
    } catch (e) {
      // An invalid file: the last good flags keep answering.
      this.errored = true;
      this.events.emit(this.sdk.ProviderEvents.Error, { message: `edgeflag: ignored an invalid flag file (version ${info.version ?? "?"}): ${e?.message ?? e}` });
      return;
    }
    if (before === null) {
      // The first load after a failed initialization.
      this.errored = false;
      this.stale = false;
      this.events.emit(this.sdk.ProviderEvents.Ready, { message: `edgeflag: flags loaded (version ${this.version ?? "?"})` });
      return;
    }
    this.#sourceOk();
    const flagsChanged = changedFlags(before, this.description);
    this.events.emit(this.sdk.ProviderEvents.ConfigurationChanged, {
      flagsChanged,
      message: `edgeflag: version ${this.version ?? "?"} via ${info.via}`,
      metadata: this.version === null ? {} : { flagSetVersion: this.version },
    });
  }

  #sourceFailed(e) {
    if (this.closed || !this.engine.loaded || this.stale) return;
    this.stale = true;
    this.events.emit(this.sdk.ProviderEvents.Stale, { message: `edgeflag: serving the last good flags (version ${this.version ?? "?"}): ${e?.message ?? e}` });
  }

  #sourceOk() {
    if (this.closed || !this.engine.loaded || !(this.stale || this.errored)) return;
    this.stale = false;
    this.errored = false;
    this.events.emit(this.sdk.ProviderEvents.Ready, { message: `edgeflag: flags current (version ${this.version ?? "?"})` });
  }
}
