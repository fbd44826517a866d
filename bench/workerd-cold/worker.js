// Cold start in workerd: the first request instantiates the WASM module (already compiled by
// workerd from the `wasm` module) and loads a 1,000-flag file, timing each step. Local
// workerd's clock advances during execution (the production runtime's does not).
// `?checksum=HEX` on the first request (the manifest's `xxh64` or `sha256`) loads with
// `FlagSet.loadValidated(text, checksum)` (the server-validated path: flags loaded on first
// use) instead of the checked constructor; the answer then also times the first single-flag
// evaluation.
import wasmModule from "./edgeflag/edgeflag_wasm_bg.wasm";
import { initSync, FlagSet as GlueSet } from "./edgeflag/edgeflag_wasm.js";
// The FlagSet edge.js exports, with its methods (builds before 2026-12-02 exported the glue's).
import * as fast from "./edgeflag/fast.js";
const FlagSet = fast.FlagSet ?? GlueSet;
import flagsText from "./flags-1000.json";

let flags = null;
let timings = null;

export default {
  async fetch(request) {
    // The test harness's readiness probe (tests/js/workerd.mjs) must not be the cold start.
    if (new URL(request.url).pathname === "/__edgeflag/ping") return new Response("ready");
    if (!flags) {
      const checksum = new URL(request.url).searchParams.get("checksum");
      let t = performance.now();
      initSync({ module: wasmModule });
      const instantiateMs = performance.now() - t;
      t = performance.now();
      if (checksum) {
        // validated.js sets FlagSet.loadValidated when imported (dynamically here, so that
        // builds without it still run the checked path).
        await import("./edgeflag/validated.js");
        t = performance.now();
        flags = await FlagSet.loadValidated(flagsText, checksum);
      } else {
        flags = new FlagSet(flagsText);
      }
      const loadMs = performance.now() - t;
      // Before evaluateAll, which may load the whole file (lazy then turns false).
      const lazyAtLoad = flags.lazy === true;
      t = performance.now();
      flags.evaluate("rules-5-2", { targetingKey: "user-1", country: "FR" });
      const firstEvaluateMs = performance.now() - t;
      t = performance.now();
      flags.evaluateAll({ targetingKey: "user-1" });
      timings = {
        instantiateMs,
        loadMs,
        firstEvaluateMs,
        firstEvaluateAllMs: performance.now() - t,
        flags: flags.flagKeys.length,
        lazy: flags.lazy === true,
        lazyAtLoad,
      };
    }
    return Response.json(timings);
  },
};
