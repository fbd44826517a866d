// Node entry: reads the .wasm next to this file and instantiates it synchronously at import,
// so `import { FlagSet } from "edgeflag"` is ready to use with no init call.
import { readFileSync } from "node:fs";
import { initSync } from "./edgeflag_wasm.js";

initSync({ module: readFileSync(new URL("./edgeflag_wasm_bg.wasm", import.meta.url)) });

export * from "./edgeflag_wasm.js";
// The fast path of evaluate / evaluateAs / evaluateAll, and flag handles (see fast.js).
import "./fast.js";
