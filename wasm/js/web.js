// Browser entry: `await init()` (the default export) fetches and instantiates the .wasm.
export { default } from "./edgeflag_wasm.js";
export * from "./edgeflag_wasm.js";
// The fast path of evaluate / evaluateAs / evaluateAll, and flag handles (see fast.js).
import "./fast.js";
