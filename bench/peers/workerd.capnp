# edgeflag beside GrowthBook inside real workerd (bench/workerd-peers.mjs starts it).
# GrowthBook's self-contained ESM bundle is embedded as a module; flagd-core, unleash-client
# and Flipt would need a bundler.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .peersWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8789", http = (), service = "main") ],
);

const peersWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "workloads.mjs", esModule = embed "workloads.mjs"),
    (name = "measure.mjs", esModule = embed "measure.mjs"),
    (name = "growthbook.js", esModule = embed "../../node_modules/@growthbook/growthbook/dist/bundles/esm.js"),
    (name = "edgeflag/edge.js", esModule = embed "../../wasm/pkg/edge.js"),
    (name = "edgeflag/edgeflag_wasm.js", esModule = embed "../../wasm/pkg/edgeflag_wasm.js"),
    (name = "edgeflag/fast.js", esModule = embed "../../wasm/pkg/fast.js"),
    (name = "edgeflag/validated.js", esModule = embed "../../wasm/pkg/validated.js"),
    (name = "edgeflag/edgeflag_wasm_bg.wasm", wasm = embed "../../wasm/pkg/edgeflag_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
);
