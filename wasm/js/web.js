// Browser entry: `await init()` (the default export) fetches and instantiates the .wasm.
export { default } from "./edgeflag_wasm.js";
export * from "./edgeflag_wasm.js";
// FlagSet's evaluation methods and flag handles, hash and bucket (see fast.js).
export { hash, bucket, validateFlagFile } from "./fast.js";
