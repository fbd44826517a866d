// Live flags in the browser: loads the server's flag file, then follows its change stream
// (GET /api/flags/stream, server-sent events) and swaps each new version into the FlagSet
// atomically (`replace` validates the whole file before swapping; an invalid one keeps the
// old flags). While the stream is down (an error, a refused subscription, or no event for
// three heartbeat intervals) it polls GET /api/flags with If-None-Match, and it goes back to
// the stream as soon as the stream is back.
//
//   const live = new LiveFlags({ server: "https://flags.example.com", FlagSet, onChange });
//   const flags = await live.start();   // a FlagSet, kept current
//   live.status();                       // { mode: "stream" | "polling", version, etag, ... }

export class LiveFlags {
  /**
   * @param {object} options
   * @param {string} options.server   the edgeflag server's base URL (CORS allows any origin)
   * @param {Function} options.FlagSet the WASM package's FlagSet class (after `await init()`)
   * @param {number} [options.pollMs]  poll interval while the stream is down (default 5000)
   * @param {(flags, info) => void} [options.onChange] after each swap: info = { version, via }
   * @param {(status) => void} [options.onStatus] when the mode changes
   */
  constructor({ server, FlagSet, pollMs = 5000, onChange = () => {}, onStatus = () => {} }) {
    this.server = server.replace(/\/+$/, "");
    this.FlagSet = FlagSet;
    this.pollMs = pollMs;
    this.onChange = onChange;
    this.onStatus = onStatus;
    this.flags = null;
    this.version = null;
    this.etag = null;
    this.mode = "starting";
    this.via = null;
    this.updates = { stream: 0, poll: 0 };
    this.heartbeatMs = 15_000;
    this.lastError = null;
    this.source = null; // the EventSource
    this.pollTimer = null;
    this.watchdog = null;
    this.reconnectTimer = null;
  }

  /** Loads the current file, subscribes, and resolves with the FlagSet. */
  async start() {
    const res = await fetch(`${this.server}/api/flags`);
    if (!res.ok) throw new Error(`GET /api/flags: HTTP ${res.status}`);
    this.flags = new this.FlagSet(await res.text());
    this.etag = res.headers.get("etag");
    this.version = Number(res.headers.get("x-edgeflag-version"));
    this.#subscribe();
    return this.flags;
  }

  status() {
    return { mode: this.mode, version: this.version, etag: this.etag, via: this.via, updates: { ...this.updates }, lastError: this.lastError };
  }

  stop() {
    this.source?.close();
    clearTimeout(this.watchdog);
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pollTimer);
    this.#setMode("stopped");
  }

  #setMode(mode) {
    if (this.mode === mode) return;
    this.mode = mode;
    if (mode === "polling" && !this.pollTimer) this.pollTimer = setInterval(() => this.#poll(), this.pollMs);
    if (mode !== "polling") {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
    this.onStatus(this.status());
  }

  #subscribe() {
    // The ETag held resumes the stream: the server sends the file only if it changed.
    const url = new URL(`${this.server}/api/flags/stream`);
    if (this.etag) url.searchParams.set("last_event_id", this.etag);
    const source = new EventSource(url);
    this.source = source;
    const alive = () => {
      // Silent for three heartbeat intervals: the connection is dead even if it looks open.
      clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => this.#down("no event for three heartbeat intervals"), Math.max(3 * this.heartbeatMs, 1000));
    };
    source.addEventListener("version", (e) => {
      this.#setMode("stream");
      const data = JSON.parse(e.data);
      this.#beat(data);
      alive();
      this.#apply(data, "stream").catch((err) => (this.lastError = String(err.message ?? err)));
    });
    source.addEventListener("heartbeat", (e) => {
      this.#setMode("stream");
      const data = JSON.parse(e.data);
      this.#beat(data);
      alive();
      // A version missed while reconnecting: fetch it.
      if (data.version > this.version) this.#poll();
    });
    source.onerror = () => {
      // EventSource retries by itself (after the server's `retry:`) unless the response was
      // not a stream (e.g. 503 at the subscriber limit): then it is closed and we reconnect.
      this.#down("the stream dropped", source.readyState === EventSource.CLOSED);
    };
  }

  #beat(data) {
    if (Number.isFinite(data.heartbeat_ms) && data.heartbeat_ms > 0) this.heartbeatMs = data.heartbeat_ms;
  }

  #down(reason, reconnect = true) {
    this.lastError = reason;
    clearTimeout(this.watchdog);
    this.#setMode("polling");
    this.#poll();
    if (reconnect) {
      this.source?.close();
      clearTimeout(this.reconnectTimer);
      // Jittered, so that many pages do not come back at the same instant.
      this.reconnectTimer = setTimeout(() => this.#subscribe(), 1000 + Math.random() * 2000);
    }
  }

  async #apply(data, via) {
    if (!(data.version > this.version)) return; // older or the same (a lagging replica)
    const text = data.file !== undefined ? JSON.stringify(data.file) : await (await fetch(new URL(data.fetch, this.server))).text();
    this.#swap(text, data.etag, data.version, via);
  }

  #swap(text, etag, version, via) {
    if (!(version > this.version)) return;
    this.flags.replace(text); // throws on an invalid file: the old flags keep serving
    this.etag = etag;
    this.version = version;
    this.via = via;
    this.updates[via === "stream" ? "stream" : "poll"]++;
    this.onChange(this.flags, { version, via });
  }

  async #poll() {
    try {
      const res = await fetch(`${this.server}/api/flags`, { headers: this.etag ? { "if-none-match": this.etag } : {}, cache: "no-store" });
      if (res.status === 304) return;
      if (!res.ok) throw new Error(`GET /api/flags: HTTP ${res.status}`);
      this.#swap(await res.text(), res.headers.get("etag"), Number(res.headers.get("x-edgeflag-version")), "poll");
    } catch (e) {
      this.lastError = String(e.message ?? e);
    }
  }
}
