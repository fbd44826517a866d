# Cold-start benchmark worker (see bench/wasm-bench.mjs). Needs target/edgeflag-wasm/flags-1000.json,
# written by the bench, and wasm/pkg from scripts/build-wasm.sh.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .coldWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8788", http = (), service = "main") ],
);

const coldWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "edgeflag/edgeflag_wasm.js", esModule = embed "../../wasm/pkg/edgeflag_wasm.js"),
    (name = "edgeflag/fast.js", esModule = embed "../../wasm/pkg/fast.js"),
    (name = "edgeflag/validated.js", esModule = embed "../../wasm/pkg/validated.js"),
    (name = "edgeflag/edgeflag_wasm_bg.wasm", wasm = embed "../../wasm/pkg/edgeflag_wasm_bg.wasm"),
    (name = "flags-1000.json", text = embed "../../target/edgeflag-wasm/flags-1000.json"),
  ],
  compatibilityDate = "2025-09-01",
);
