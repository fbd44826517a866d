export { default } from "./edgeflag_wasm.js";
export * from "./edgeflag_wasm.js";
