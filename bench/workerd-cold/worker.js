// Cold start in workerd: the first request instantiates the WASM module (already compiled by
// workerd from the `wasm` module) and loads a 1,000-flag file, timing each step. Local
// workerd's clock advances during execution (the production runtime's does not).
import wasmModule from "./edgeflag/edgeflag_wasm_bg.wasm";
import { initSync, FlagSet } from "./edgeflag/edgeflag_wasm.js";
import "./edgeflag/fast.js"; // FlagSet's evaluation methods (what edge.js also loads)
import flagsText from "./flags-1000.json";

let flags = null;
let timings = null;

export default {
  async fetch() {
    if (!flags) {
      let t = performance.now();
      initSync({ module: wasmModule });
      const instantiateMs = performance.now() - t;
      t = performance.now();
      flags = new FlagSet(flagsText);
      const loadMs = performance.now() - t;
      t = performance.now();
      flags.evaluateAll({ targetingKey: "user-1" });
      timings = { instantiateMs, loadMs, firstEvaluateAllMs: performance.now() - t, flags: flags.flagKeys.length };
    }
    return Response.json(timings);
  },
};
