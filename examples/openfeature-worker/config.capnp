# workerd config for the OpenFeature example worker. Run from the repo root after
# scripts/build-wasm.sh and `npm install`:
#   EDGEFLAG_FLAGS_SERVER=http://127.0.0.1:8080 node_modules/.bin/workerd serve examples/openfeature-worker/config.capnp
# Without a bundler every module is listed by name, and workerd resolves every import, bare or
# not, as a path relative to the importing module's name: the provider's files sit at the top
# (so their `@openfeature/server-sdk` is the worker's, one copy of the SDK), and the SDK's own
# `@openfeature/core` import, made from `@openfeature/`, is `@openfeature/@openfeature/core`.
# With wrangler (a bundler) none of this applies: import "@edgeflag/openfeature/server".
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8788", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "@openfeature/server-sdk", esModule = embed "../../node_modules/@openfeature/server-sdk/dist/esm/index.js"),
    (name = "@openfeature/@openfeature/core", esModule = embed "../../node_modules/@openfeature/core/dist/esm/index.js"),
    (name = "server.js", esModule = embed "../../providers/js/src/server.js"),
    (name = "core.js", esModule = embed "../../providers/js/src/core.js"),
    (name = "engine.js", esModule = embed "../../providers/js/src/engine.js"),
    (name = "flag-file.js", esModule = embed "../../providers/js/src/flag-file.js"),
    (name = "flag-source.js", esModule = embed "../../providers/js/src/flag-source.js"),
    (name = "metrics.js", esModule = embed "../../providers/js/src/metrics.js"),
    (name = "resolution.js", esModule = embed "../../providers/js/src/resolution.js"),
    (name = "sse.js", esModule = embed "../../providers/js/src/sse.js"),
    (name = "edgeflag/edge.js", esModule = embed "../../wasm/pkg/edge.js"),
    (name = "edgeflag/edgeflag_wasm.js", esModule = embed "../../wasm/pkg/edgeflag_wasm.js"),
    (name = "edgeflag/fast.js", esModule = embed "../../wasm/pkg/fast.js"),
    (name = "edgeflag/validated.js", esModule = embed "../../wasm/pkg/validated.js"),
    (name = "edgeflag/edgeflag_wasm_bg.wasm", wasm = embed "../../wasm/pkg/edgeflag_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  # The server SDK imports node:events and async_hooks.
  compatibilityFlags = ["nodejs_compat"],
  bindings = [
    (name = "FLAGS_SERVER", fromEnvironment = "EDGEFLAG_FLAGS_SERVER"),
    (name = "EDGEFLAG_ENV", fromEnvironment = "EDGEFLAG_ENV"),
    (name = "POLL_MS", fromEnvironment = "EDGEFLAG_POLL_MS"),
    (name = "EVENTS_URL", fromEnvironment = "EDGEFLAG_EVENTS_URL"),
    # A secret, read from the environment when workerd starts (never written in this file).
    (name = "INGEST_TOKEN", fromEnvironment = "EDGEFLAG_INGEST_TOKEN"),
  ],
);
