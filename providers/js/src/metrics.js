// Canary and experiment metrics for the server's POST /api/metrics/events: one event per flag
// that answered the user with a canary arm or an experiment variant, with the request's outcome
// and latency, batched. Recording never blocks and never throws: at most `maxPending` events
// wait (the oldest beyond are dropped, counted), a batch is posted when `batchSize` are
// waiting or the oldest has waited `flushMs`, and a refused or failed batch is dropped
// (counted): retrying could only be refused again or arrive too late to judge.

export class MetricsReporter {
  /**
   * @param {object} o
   * @param {string} o.eventsUrl the server's /api/metrics/events
   * @param {string} o.ingestToken an ingest token (`edgeflag token create NAME --role ingest`)
   * @param {string} [o.environment] the `env` of every event (default "default")
   * @param {number} [o.batchSize] default 100
   * @param {number} [o.flushMs] default 5000
   * @param {number} [o.maxPending] default 10000
   * @param {boolean} [o.background] false: no timer; the app calls flush() (edge runtimes)
   */
  constructor({ eventsUrl, ingestToken, environment, batchSize = 100, flushMs = 5000, maxPending = 10_000, background = true, fetch }) {
    if (!eventsUrl) throw new TypeError("edgeflag metrics: eventsUrl is required");
    this.eventsUrl = eventsUrl;
    this.ingestToken = ingestToken ?? null;
    this.environment = environment || "default";
    this.batchSize = Math.max(1, Math.min(batchSize, 10_000)); // the server takes at most 10,000 per batch
    this.flushMs = flushMs;
    this.maxPending = maxPending;
    this.background = background;
    this.fetch = fetch ?? ((...a) => globalThis.fetch(...a));
    this.pending = [];
    this.timer = null;
    this.posting = new Set();
    this.stats = { recorded: 0, sent: 0, dropped: 0, failures: 0, skipped: 0, lastError: null };
  }

  /**
   * Records the outcome of work done for one user, for each of `results` (engine answers) that
   * carries a canary arm or an experiment variant.
   */
  record(results, { outcome = "ok", latencyMs, ts = Date.now() } = {}) {
    const latency = Number(latencyMs);
    if (!Number.isFinite(latency) || latency < 0 || latency > 3_600_000) {
      this.stats.skipped++;
      this.stats.lastError = "track: latencyMs (or value) must be a number of milliseconds in 0..3600000";
      return 0;
    }
    if (outcome !== "ok" && outcome !== "error") {
      this.stats.skipped++;
      this.stats.lastError = `track: outcome must be "ok" or "error", got ${JSON.stringify(outcome)}`;
      return 0;
    }
    let n = 0;
    for (const r of results) {
      let label;
      if (r.arm) label = { arm: r.arm };
      else if (r.experiment && r.variant) label = { variant: r.variant };
      else continue;
      this.pending.push({ ts, flag: r.key, env: this.environment, outcome, latency_ms: latency, ...label });
      n++;
    }
    this.stats.recorded += n;
    const over = this.pending.length - this.maxPending;
    if (over > 0) {
      this.pending.splice(0, over);
      this.stats.dropped += over;
    }
    if (this.pending.length >= this.batchSize) this.flush();
    else if (n > 0 && this.background && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.flushMs);
      this.timer.unref?.();
    }
    return n;
  }

  /** Posts what is waiting, in batches. Never rejects. */
  async flush({ keepalive = false } = {}) {
    clearTimeout(this.timer);
    this.timer = null;
    const posts = [];
    while (this.pending.length > 0) posts.push(this.#post(this.pending.splice(0, this.batchSize), keepalive));
    await Promise.all([...posts, ...this.posting]);
  }

  status() {
    return { pending: this.pending.length, ...this.stats };
  }

  #post(batch, keepalive) {
    const p = (async () => {
      if (!this.ingestToken) {
        this.stats.dropped += batch.length;
        this.stats.lastError = "no ingest token: the server refuses anonymous events";
        return;
      }
      try {
        const res = await this.fetch(this.eventsUrl, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${this.ingestToken}` },
          body: JSON.stringify({ events: batch }),
          // Only when asked (a page going away): not every runtime knows the option.
          ...(keepalive ? { keepalive: true } : {}),
        });
        const text = await res.text();
        if (res.status !== 202) throw new Error(`HTTP ${res.status} ${text.slice(0, 200)}`);
        const body = JSON.parse(text);
        this.stats.sent += body.accepted ?? batch.length;
        if (body.refused) {
          this.stats.dropped += body.refused;
          this.stats.lastError = `refused ${body.refused}: ${body.problems?.[0]?.message ?? ""}`;
        }
      } catch (e) {
        this.stats.failures++;
        this.stats.dropped += batch.length;
        this.stats.lastError = String(e?.message ?? e);
      }
    })();
    this.posting.add(p);
    p.finally(() => this.posting.delete(p));
    return p;
  }
}
