// Options shared by the web and the server provider.

/** The `edgeflag` WASM package's module (`import * as edgeflag from "edgeflag"`). */
export interface EdgeflagEngineModule {
  FlagSet: new (file: string | object) => unknown;
  default?: (...args: unknown[]) => Promise<unknown>;
}

export interface MetricsOptions {
  /** The server's `POST /api/metrics/events` URL. */
  eventsUrl: string;
  /** An ingest token (`edgeflag token create NAME --role ingest`). In a browser it is public: see providers/README.md. */
  ingestToken: string | null;
  /** Events per POST (default 100, at most 10,000). */
  batchSize?: number;
  /** The oldest event's longest wait before a POST, in ms (default 5000). */
  flushMs?: number;
  /** Events kept while posts fail; the oldest beyond are dropped and counted (default 10,000). */
  maxPending?: number;
}

interface CommonOptions {
  engine: EdgeflagEngineModule;
  /** Environment whose overrides apply; also the `env` of metric events. */
  environment?: string;
  /** Poll interval: 30 s for `url`; for `server`, 5 s and only while the change stream is down. */
  pollMs?: number;
  /** `server`: follow the change stream (default true). */
  stream?: boolean;
  /** false: no timers and no stream; call `refresh()` (Cloudflare Workers, workerd). */
  background?: boolean;
  /** Bound on each flag-file request (default 10,000 ms). */
  requestTimeoutMs?: number;
  /** Headers sent with flag-file requests. */
  headers?: Record<string, string>;
  /** Report canary arms and experiment variants with `client.track`. */
  metrics?: MetricsOptions;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

/** Exactly one source: inline flags, a URL serving the flag file, or an edgeflag server. */
export type EdgeflagProviderOptions = CommonOptions &
  ({ flags: string | object; url?: never; server?: never } | { url: string; flags?: never; server?: never } | { server: string; flags?: never; url?: never });

/** `client.track(name, details)` details the providers read. */
export interface EdgeflagTrackingDetails {
  outcome?: "ok" | "error";
  /** The work's latency in ms (or OpenFeature's numeric `value`). Required by the server. */
  latencyMs?: number;
  value?: number;
  /** Only these flags (default: every flag answering with a canary arm or an experiment variant). */
  flags?: string[];
}

export interface EdgeflagProviderStatus {
  source: "flags" | "url" | "server";
  etag: string | null;
  /** The server's version number (flagSetVersion), when known. */
  version: number | null;
  stream: "off" | "connecting" | "open" | "down";
  stale: boolean;
  polls: number;
  notModified: number;
  streamConnects: number;
  streamVersions: number;
  failures: number;
  lastError: string | null;
  metrics: { pending: number; recorded: number; sent: number; dropped: number; failures: number; skipped: number; lastError: string | null } | null;
}
