// Edge entry (Cloudflare Workers, workerd): the runtime compiles the imported .wasm when the
// worker is deployed and hands it over as a WebAssembly.Module; we only instantiate it,
// synchronously. Compiling bytes at run time is forbidden on Workers, so this file never does.
import wasmModule from "./edgeflag_wasm_bg.wasm";
import { initSync } from "./edgeflag_wasm.js";

initSync({ module: wasmModule });

export * from "./edgeflag_wasm.js";
// FlagSet (loading large text as bytes) with its evaluation methods and flag handles, hash
// and bucket (see fast.js).
export { FlagSet, hash, bucket, validateFlagFile } from "./fast.js";
// FlagSet.loadValidated and the sets it returns (see validated.js).
export { ValidatedFlagSet } from "./validated.js";
