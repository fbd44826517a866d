# workerd config for the edgeflag edge worker. Run from the repo root after scripts/build-wasm.sh:
#   node_modules/.bin/workerd serve examples/edge-worker/config.capnp
# Override the listen address with --socket-addr http=127.0.0.1:PORT; settings come from the
# environment (EDGEFLAG_FLAGS_URL, EDGEFLAG_FLAGS_TTL_MS, EDGEFLAG_STREAM_URL,
# EDGEFLAG_STREAM_HOLD_MS, EDGEFLAG_ORIGIN_URL, EDGEFLAG_ENV,
# EDGEFLAG_EVENTS_URL, EDGEFLAG_EVENTS_BATCH, EDGEFLAG_EVENTS_FLUSH_MS, EDGEFLAG_INGEST_TOKEN).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .edgeWorker),
    # Outbound fetches (flag file, origin). Loopback ("local") is allowed for the tests.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const edgeWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    # The package's edge entry imports the .wasm as a module: workerd compiles it at load
    # time and the worker instantiates it synchronously (initSync).
    (name = "edgeflag/edge.js", esModule = embed "../../wasm/pkg/edge.js"),
    (name = "edgeflag/edgeflag_wasm.js", esModule = embed "../../wasm/pkg/edgeflag_wasm.js"),
    (name = "edgeflag/fast.js", esModule = embed "../../wasm/pkg/fast.js"),
    (name = "edgeflag/validated.js", esModule = embed "../../wasm/pkg/validated.js"),
    (name = "edgeflag/edgeflag_wasm_bg.wasm", wasm = embed "../../wasm/pkg/edgeflag_wasm_bg.wasm"),
    (name = "flags.json", text = embed "../flags.json"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "FLAGS_URL", fromEnvironment = "EDGEFLAG_FLAGS_URL"),
    (name = "FLAGS_TTL_MS", fromEnvironment = "EDGEFLAG_FLAGS_TTL_MS"),
    # The server's GET /api/flags/stream: pushed versions; FLAGS_URL is polled only while it is down.
    (name = "STREAM_URL", fromEnvironment = "EDGEFLAG_STREAM_URL"),
    (name = "STREAM_HOLD_MS", fromEnvironment = "EDGEFLAG_STREAM_HOLD_MS"),
    (name = "ORIGIN_URL", fromEnvironment = "EDGEFLAG_ORIGIN_URL"),
    (name = "EDGEFLAG_ENV", fromEnvironment = "EDGEFLAG_ENV"),
    (name = "EVENTS_URL", fromEnvironment = "EDGEFLAG_EVENTS_URL"),
    (name = "EVENTS_BATCH", fromEnvironment = "EDGEFLAG_EVENTS_BATCH"),
    (name = "EVENTS_FLUSH_MS", fromEnvironment = "EDGEFLAG_EVENTS_FLUSH_MS"),
    # The ingest token is a secret: a text binding read from the environment when workerd
    # starts, so it is never written in this file. (A literal `text = "ef_..."` binding works
    # too, but then the config file is a secret.) On Cloudflare it is a secret binding of the
    # same name: `wrangler secret put INGEST_TOKEN`.
    (name = "INGEST_TOKEN", fromEnvironment = "EDGEFLAG_INGEST_TOKEN"),
  ],
);
