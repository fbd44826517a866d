// Browser entry: `await init()` (the default export) fetches and instantiates the .wasm.
export { default } from "./edgeflag_wasm.js";
export * from "./edgeflag_wasm.js";
// FlagSet (loading large text as bytes) with its evaluation methods and flag handles, hash
// and bucket (see fast.js).
export { FlagSet, hash, bucket, validateFlagFile } from "./fast.js";
// FlagSet.loadValidated and the sets it returns (see validated.js).
export { ValidatedFlagSet } from "./validated.js";
