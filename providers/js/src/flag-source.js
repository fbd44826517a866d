// Where the flags come from, and how new versions arrive:
//
// - `flags`: inline (a flag file object or its JSON text): loaded once, never updated;
// - `url`: any URL serving the flag file (a CDN, object storage, the server's /api/flags):
//   polled every `pollMs` with If-None-Match;
// - `server`: an edgeflag server's base URL: GET /api/flags, then its change stream
//   (GET /api/flags/stream, server-sent events) pushes each new version; while the stream is
//   down (an error, a 503, no event for three heartbeat intervals) the file is polled with
//   If-None-Match every `pollMs`, and the stream is retried after a jittered backoff.
//
// With `background: false` nothing runs between calls (edge runtimes such as Cloudflare
// Workers allow I/O only inside a request): the app calls `refresh()` itself, e.g. from
// `ctx.waitUntil(provider.refresh())`, and it fetches only when the last fetch is older than
// `pollMs`.

import { readEvents } from "./sse.js";

const DEFAULT_POLL_MS = { url: 30_000, server: 5_000 };
const MAX_FILE_BYTES = 64 * 1024 * 1024; // 16 Mi UTF-16 units are at most 64 MiB of UTF-8
// Browsers: keep their HTTP cache out of conditional requests (a CDN's max-age would hide new
// versions). Not elsewhere: workerd refuses the `cache` option, and Node has no HTTP cache.
const NO_STORE = typeof window !== "undefined" && typeof document !== "undefined" ? { cache: "no-store" } : {};

export class FlagSource {
  /**
   * @param {object} options provider options (flags | url | server, pollMs, stream, headers, background)
   * @param {object} hooks { onVersion(text, {etag, version, via}), onFailure(error), onSuccess() }
   */
  constructor(options, hooks) {
    const given = ["flags", "url", "server"].filter((k) => options[k] !== undefined && options[k] !== null);
    if (given.length !== 1) throw new TypeError(`edgeflag provider: give exactly one of flags, url or server (got ${given.join(", ") || "none"})`);
    this.kind = given[0];
    this.options = options;
    this.hooks = hooks;
    this.fetch = options.fetch ?? ((...a) => globalThis.fetch(...a));
    this.headers = { ...(options.headers ?? {}) };
    this.pollMs = positive(options.pollMs, DEFAULT_POLL_MS[this.kind] ?? 30_000);
    this.background = options.background !== false;
    this.requestTimeoutMs = positive(options.requestTimeoutMs, 10_000);
    this.useStream = this.kind === "server" && options.stream !== false && this.background;
    if (this.kind === "server") this.base = String(options.server).replace(/\/+$/, "");
    this.fileUrl = this.kind === "server" ? `${this.base}/api/flags` : this.kind === "url" ? String(options.url) : null;
    this.etag = null;
    this.version = null;
    this.fetchedAt = 0;
    this.stopped = false;
    this.pollTimer = null;
    this.streamAbort = null;
    this.streamState = "off"; // "connecting" | "open" | "down" | "off"
    this.heartbeatMs = 15_000;
    this.inflight = null;
    this.stats = { polls: 0, notModified: 0, streamConnects: 0, streamVersions: 0, failures: 0, lastError: null };
  }

  /** The first file: `{ text, etag, version }`. Throws when it cannot be had. */
  async load() {
    if (this.kind === "flags") {
      const f = this.options.flags;
      return { text: typeof f === "string" ? f : JSON.stringify(f), etag: null, version: null, via: "inline" };
    }
    const got = await this.#get(false);
    if (!got) throw new Error(`${this.fileUrl}: 304 without a held version`);
    return got;
  }

  /** Starts background updates (stream and/or polling), unless `background: false`. */
  start() {
    if (this.kind === "flags" || !this.background || this.stopped) return;
    if (this.useStream) this.#streamLoop();
    else this.#schedulePoll();
  }

  /**
   * One conditional fetch now (or only when the last is older than `pollMs`, with
   * `{ ifOlderThanPoll: true }`). Resolves when done; never rejects (failures go to the hooks).
   */
  refresh({ ifOlderThanPoll = false } = {}) {
    if (this.kind === "flags" || this.stopped) return Promise.resolve();
    if (ifOlderThanPoll && Date.now() - this.fetchedAt < this.pollMs) return Promise.resolve();
    this.inflight ??= this.#poll().finally(() => (this.inflight = null));
    return this.inflight;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    this.streamAbort?.abort();
  }

  status() {
    return { source: this.kind, etag: this.etag, version: this.version, stream: this.streamState, ...this.stats };
  }

  /** Accepts a version from the outside (the provider applied it): conditional requests use its ETag. */
  held(etag, version) {
    this.etag = etag ?? this.etag;
    if (version !== null && version !== undefined) this.version = version;
  }

  async #get(conditional) {
    this.fetchedAt = Date.now();
    const headers = { ...this.headers };
    if (conditional && this.etag) headers["if-none-match"] = this.etag;
    // Bounded: a server that accepts and never answers must not hold the provider forever.
    const res = await this.fetch(this.fileUrl, { headers, ...NO_STORE, signal: AbortSignal.timeout(this.requestTimeoutMs) });
    if (res.status === 304) {
      await res.body?.cancel?.();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel?.();
      throw new Error(`GET ${this.fileUrl}: HTTP ${res.status}`);
    }
    // The engine refuses files over 16 Mi characters; do not even read one announced as larger.
    const length = Number(res.headers.get("content-length"));
    if (Number.isFinite(length) && length > MAX_FILE_BYTES) {
      await res.body?.cancel?.();
      throw new Error(`GET ${this.fileUrl}: ${length} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
    }
    const text = await res.text();
    const v = res.headers.get("x-edgeflag-version");
    return { text, etag: res.headers.get("etag"), version: v === null ? null : Number(v), via: "poll" };
  }

  async #poll() {
    this.stats.polls++;
    try {
      const got = await this.#get(true);
      if (got) this.hooks.onVersion(got.text, got);
      else this.stats.notModified++;
      this.hooks.onSuccess();
    } catch (e) {
      this.#failed(e);
    }
  }

  #failed(e) {
    this.stats.failures++;
    this.stats.lastError = String(e?.message ?? e);
    this.hooks.onFailure(e);
  }

  #schedulePoll() {
    clearTimeout(this.pollTimer);
    if (this.stopped) return;
    this.pollTimer = unref(
      setTimeout(async () => {
        // Polling runs only while the stream is not delivering.
        if (this.useStream && this.streamState === "open") return;
        await this.refresh();
        this.#schedulePoll();
      }, this.pollMs),
    );
  }

  async #streamLoop() {
    let backoff = 1000;
    while (!this.stopped) {
      const abort = new AbortController();
      this.streamAbort = abort;
      let watchdog = null;
      const alive = () => {
        clearTimeout(watchdog);
        // Silent for three heartbeat intervals: dead, even if the connection looks open.
        watchdog = unref(setTimeout(() => abort.abort(new Error("no event for three heartbeat intervals")), Math.max(3 * this.heartbeatMs, 1000)));
      };
      try {
        this.streamState = "connecting";
        const url = new URL(`${this.base}/api/flags/stream`);
        // The ETag held resumes: the server then sends a heartbeat, not the file. A query
        // parameter, not Last-Event-ID: a custom header would cost browsers a preflight.
        if (this.etag) url.searchParams.set("last_event_id", this.etag);
        const res = await this.fetch(url, { headers: { ...this.headers, accept: "text/event-stream" }, signal: abort.signal, ...NO_STORE });
        if (!res.ok || !res.body) {
          await res.body?.cancel?.();
          throw new Error(`GET /api/flags/stream: HTTP ${res.status}`);
        }
        this.stats.streamConnects++;
        alive();
        for await (const ev of readEvents(res.body)) {
          alive();
          if (this.streamState !== "open") {
            this.streamState = "open";
            clearTimeout(this.pollTimer);
          }
          backoff = 1000;
          await this.#onStreamEvent(ev);
        }
        throw new Error("the stream ended");
      } catch (e) {
        if (this.stopped) break;
        this.stats.lastError = String(abort.signal.reason?.message ?? e?.message ?? e);
      } finally {
        clearTimeout(watchdog);
      }
      // Down: poll meanwhile (at once, then every pollMs), and come back after a jittered backoff.
      this.streamState = "down";
      this.refresh();
      this.#schedulePoll();
      await sleep(backoff * (1 + Math.random()));
      backoff = Math.min(backoff * 2, 30_000);
    }
    this.streamState = "off";
  }

  async #onStreamEvent({ event, data }) {
    let body;
    try {
      body = JSON.parse(data);
    } catch {
      return; // not ours
    }
    if (Number.isFinite(body.heartbeat_ms) && body.heartbeat_ms > 0) this.heartbeatMs = body.heartbeat_ms;
    if (event === "heartbeat") {
      // A version missed while reconnecting: fetch it.
      if (Number.isFinite(body.version) && this.version !== null && body.version > this.version) await this.refresh();
      else this.hooks.onSuccess();
      return;
    }
    if (event !== "version") return;
    if (this.version !== null && !(body.version > this.version)) return; // older or the same (a lagging replica)
    try {
      let text;
      if (body.file !== undefined) text = JSON.stringify(body.file);
      else {
        // A large file comes as a notice to fetch its (immutable) version.
        const res = await this.fetch(new URL(body.fetch, this.base), { headers: this.headers, signal: AbortSignal.timeout(this.requestTimeoutMs) });
        if (!res.ok) throw new Error(`GET ${body.fetch}: HTTP ${res.status}`);
        text = await res.text();
      }
      this.stats.streamVersions++;
      this.hooks.onVersion(text, { etag: body.etag ?? null, version: body.version ?? null, via: "stream" });
      this.hooks.onSuccess();
    } catch (e) {
      this.#failed(e);
    }
  }
}

function positive(v, fallback) {
  const n = Number(v);
  return v !== undefined && v !== null && Number.isFinite(n) && n > 0 ? n : fallback;
}

function sleep(ms) {
  return new Promise((r) => unref(setTimeout(r, ms)));
}

/** Node: timers of the provider alone do not keep the process alive. */
function unref(timer) {
  timer?.unref?.();
  return timer;
}
