// Node entry: reads the .wasm next to this file and instantiates it synchronously at import,
// so `import { FlagSet } from "edgeflag"` is ready to use with no init call.
import { readFileSync } from "node:fs";
import { initSync } from "./edgeflag_wasm.js";

initSync({ module: readFileSync(new URL("./edgeflag_wasm_bg.wasm", import.meta.url)) });

export * from "./edgeflag_wasm.js";
// FlagSet (loading large text as bytes) with its evaluation methods and flag handles, hash
// and bucket (see fast.js).
export { FlagSet, hash, bucket, validateFlagFile } from "./fast.js";
// FlagSet.loadValidated and the sets it returns (see validated.js).
export { ValidatedFlagSet } from "./validated.js";
