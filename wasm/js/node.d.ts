// Ready on import: no init() needed.
export * from "./edgeflag_wasm.js";
