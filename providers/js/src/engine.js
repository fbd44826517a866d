// The one module that calls the edgeflag WASM package's API (`FlagSet`). The providers reach
// the engine only through `Engine`, so moving to another API of the package (handle-based
// evaluation, say) changes this file alone.

/** OpenFeature's flag types → the engine's flag kinds (`evaluateAs`). */
export const KIND = { boolean: "boolean", string: "string", number: "number", object: "json" };

export class Engine {
  /**
   * @param {object} wasm the `edgeflag` package's module namespace (`import * as edgeflag from "edgeflag"`)
   */
  constructor(wasm) {
    if (!wasm || typeof wasm.FlagSet !== "function") {
      throw new TypeError("edgeflag provider: `engine` must be the edgeflag WASM module (import * as edgeflag from \"edgeflag\")");
    }
    this.wasm = wasm;
    this.flags = null;
  }

  /** Instantiates the module where that is asynchronous (the browser entry's `init`). */
  async ready() {
    // The browser entry exports `init` as its default; Node and edge entries are ready on import
    // and export no default. wasm-bindgen's init returns at once when already instantiated.
    if (typeof this.wasm.default === "function") await this.wasm.default();
  }

  /**
   * Loads a flag file (text), replacing the current one atomically: an invalid file throws
   * (an `EdgeflagError` listing every problem) and the previous flags keep answering.
   */
  load(text) {
    if (this.flags) this.flags.replace(text);
    else this.flags = new this.wasm.FlagSet(text);
  }

  get loaded() {
    return this.flags !== null;
  }

  /** One flag, typed: `TYPE_MISMATCH` when the flag is of another kind. */
  evaluateAs(flagKey, kind, context, env) {
    return this.flags.evaluateAs(flagKey, kind, context, env);
  }

  /** Every flag, in file order. */
  evaluateAll(context, env) {
    return this.flags.evaluateAll(context, env);
  }
}
