// The fast path of FlagSet.evaluate, evaluateAs and evaluateAll, and flag handles
// (FlagSet.prototype.flag). Imported for its effect by every entry (node.js, edge.js, web.js).
//
// No evaluation happens here: the engine in WASM decides every answer. This file only moves
// data cheaply (wasm/src/wire.rs has the format):
// - in: only the context fields the flag reads (the engine says which, per flag), copied as
//   bytes into a buffer in WASM memory, instead of JSON.stringify of the whole context;
// - out: the engine answers with an integer code; the EvaluationResult for each (flag,
//   environment, code) is rendered by the engine once, frozen, and handed back after that.
// Whatever this path cannot copy exactly (a context that is JSON text or not a plain object,
// a BigInt, a cycle, a lone surrogate, a huge string, an unknown flag or environment, a
// wrong argument type) takes the old path, which gives the old answers and errors.
import { FlagSet, __wireMemory } from "./edgeflag_wasm.js";

const NO_CODE = 0xffffffff;
const TAG_STRING = 1;
const TAG_INTEGER = 2;
const TAG_TRUE = 3;
const TAG_FALSE = 4;
const TAG_JSON = 5;
/** Longer strings take the old path (and its size limits and errors). */
const MAX_STRING = 64 * 1024;
const KINDS = { boolean: "b", string: "s", number: "n", json: "j" };

const old = {
  evaluate: FlagSet.prototype.evaluate,
  evaluateAs: FlagSet.prototype.evaluateAs,
  evaluateAll: FlagSet.prototype.evaluateAll,
  replace: FlagSet.prototype.replace,
};
const STATE = Symbol("edgeflag.wire");
const encoder = new TextEncoder();
const wellFormed =
  typeof String.prototype.isWellFormed === "function"
    ? (s) => s.isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

// Views of WASM memory; remade when the memory grows (the old buffer is then detached).
let memory = null;
let u8 = new Uint8Array(0);
let dv = new DataView(u8.buffer);
function views() {
  if (u8.byteLength === 0) {
    memory ??= __wireMemory();
    u8 = new Uint8Array(memory.buffer);
    dv = new DataView(memory.buffer);
  }
}

/** What the glue knows about one loaded revision of a set. */
class Wire {
  constructor(set) {
    const layout = JSON.parse(set.__wireLayout());
    const keys = set.flagKeys;
    this.index = new Map(keys.map((k, i) => [k, i]));
    this.count = keys.length;
    this.kinds = layout.kinds;
    const names = layout.attributes;
    const everyId = names.map((_, id) => id);
    // "__proto__" cannot be read as an own property with ctx[name]: such flags go the old way.
    const readsProto = (ids) => ids.some((id) => names[id] === "__proto__");
    this.reads = layout.reads.map(([k, ...ids]) => {
      const list = k & 2 ? everyId : ids;
      return { key: (k & 1) === 1 || (k & 2) === 2, slots: list.map((id) => id + 1), names: list.map((id) => names[id]), old: readsProto(list) };
    });
    this.readsAll = { key: this.reads.some((r) => r.key), slots: everyId.map((id) => id + 1), names, old: readsProto(everyId) };
    this.environments = new Map(layout.environments.map((name, i) => [name, i + 1]));
    this.declared = layout.declared;
    // results[envId][flag] = Map(code -> frozen EvaluationResult)
    this.results = Array.from({ length: layout.environments.length + 1 }, () => new Array(this.count));
    this.codes = new Uint32Array(this.count);
    this.cap = 1024;
    this.ptr = set.__wireInput(this.cap);
  }

  /** The environment's id, or -1 for the old path (a wrong type, an undeclared name). */
  envId(env) {
    if (env === undefined || env === null) return 0;
    if (typeof env !== "string") return -1;
    return this.environments.get(env) ?? (this.declared ? -1 : 0);
  }
}

function wireOf(set) {
  let w = set[STATE];
  if (w === undefined) set[STATE] = w = new Wire(set);
  return w;
}

/** Makes room for `extra` more bytes after `o`; returns `o` in the (maybe moved) buffer, or -1. */
function ensure(set, w, o, extra) {
  const used = o - w.ptr;
  if (used + extra <= w.cap) return o;
  const cap = Math.max(w.cap * 2, used + extra);
  const ptr = set.__wireInput(cap);
  if (ptr === 0) return -1;
  w.ptr = ptr;
  w.cap = cap;
  u8 = new Uint8Array(0);
  views();
  return ptr + used;
}

/** Writes one field; returns the next offset, or -1 for the old path. */
function put(set, w, o, slot, v) {
  switch (typeof v) {
    case "string": {
      const n = v.length;
      if (n > MAX_STRING) return -1;
      o = ensure(set, w, o, 9 + 3 * n);
      if (o < 0) return -1;
      dv.setUint32(o, slot, true);
      u8[o + 4] = TAG_STRING;
      const start = o + 9;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c > 0x7f) break;
        u8[start + i] = c;
      }
      let len = n;
      if (i < n) {
        if (!wellFormed(v)) return -1; // the old path reports the lone surrogate
        len = encoder.encodeInto(v, u8.subarray(start, start + 3 * n)).written;
      }
      dv.setUint32(o + 5, len, true);
      return start + len;
    }
    case "number":
      if (Number.isSafeInteger(v)) {
        o = ensure(set, w, o, 13);
        if (o < 0) return -1;
        dv.setUint32(o, slot, true);
        u8[o + 4] = TAG_INTEGER;
        dv.setFloat64(o + 5, v, true);
        return o + 13;
      }
      return putJson(set, w, o, slot, JSON.stringify(v)); // floats, NaN (null), huge integers
    case "boolean":
      if (slot === 0) return -1; // targetingKey: the old path reports the wrong type
      o = ensure(set, w, o, 5);
      if (o < 0) return -1;
      dv.setUint32(o, slot, true);
      u8[o + 4] = v ? TAG_TRUE : TAG_FALSE;
      return o + 5;
    case "object": {
      if (slot === 0) return -1;
      let text;
      try {
        text = JSON.stringify(v);
      } catch {
        return -1; // a cycle or a BigInt inside: the old path reports it
      }
      return text === undefined ? -1 : putJson(set, w, o, slot, text);
    }
    default:
      return -1; // bigint (the old path reports it); functions and symbols are skipped earlier
  }
}

function putJson(set, w, o, slot, text) {
  if (text.length > MAX_STRING) return -1;
  o = ensure(set, w, o, 9 + 3 * text.length);
  if (o < 0) return -1;
  dv.setUint32(o, slot, true);
  u8[o + 4] = TAG_JSON;
  const len = encoder.encodeInto(text, u8.subarray(o + 9, o + 9 + 3 * text.length)).written;
  dv.setUint32(o + 5, len, true);
  return o + 9 + len;
}

/** Writes the fields `read` names from `ctx`; returns the byte length, or -1 for the old path. */
function encode(set, w, ctx, read) {
  views();
  const start = w.ptr;
  let o = start + 4;
  let count = 0;
  if (ctx !== undefined && ctx !== null) {
    if (typeof ctx !== "object" || read.old) return -1;
    const proto = Object.getPrototypeOf(ctx);
    // Plain objects only: what JSON.stringify would write is then what ctx[name] reads.
    if ((proto !== Object.prototype && proto !== null) || ctx.toJSON !== undefined) return -1;
    if (read.key) {
      const v = ctx.targetingKey;
      if (v !== undefined && v !== null) {
        o = put(set, w, o, 0, v);
        if (o < 0) return -1;
        count++;
      }
    }
    const { slots, names } = read;
    for (let j = 0; j < slots.length; j++) {
      const v = ctx[names[j]];
      // Absent, null, and what JSON.stringify leaves out (functions: also Object.prototype's
      // own members read through the prototype, such as ctx.constructor).
      if (v === undefined || v === null || typeof v === "function" || typeof v === "symbol") continue;
      o = put(set, w, o, slots[j], v);
      if (o < 0) return -1;
      count++;
    }
  }
  dv.setUint32(w.ptr, count, true);
  return o - w.ptr;
}

function deepFreeze(v) {
  if (v !== null && typeof v === "object") {
    for (const k of Object.keys(v)) deepFreeze(v[k]);
    Object.freeze(v);
  }
  return v;
}

/** The result object for a code, rendered by the engine the first time it is seen. */
function result(set, w, index, envId, code) {
  const byFlag = w.results[envId];
  let byCode = byFlag[index];
  if (byCode === undefined) byFlag[index] = byCode = new Map();
  let r = byCode.get(code);
  if (r === undefined) {
    r = deepFreeze(JSON.parse(set.__wireRender(index, envId, code)));
    byCode.set(code, r);
  }
  return r;
}

/** One flag by index; `undefined` means: take the old path. */
function evaluateIndex(set, w, index, envId, context) {
  const len = encode(set, w, context, w.reads[index]);
  if (len < 0) return undefined;
  const code = set.__wireEvaluate(index, envId, len);
  return code === NO_CODE ? undefined : result(set, w, index, envId, code);
}

FlagSet.prototype.evaluate = function evaluate(flagKey, context, env) {
  const w = wireOf(this);
  const index = w.index.get(flagKey);
  const envId = w.envId(env);
  if (index !== undefined && envId >= 0) {
    const r = evaluateIndex(this, w, index, envId, context);
    if (r !== undefined) return r;
  }
  return old.evaluate.call(this, flagKey, context, env);
};

FlagSet.prototype.evaluateAs = function evaluateAs(flagKey, kind, context, env) {
  const w = wireOf(this);
  const index = w.index.get(flagKey);
  const envId = w.envId(env);
  // A flag of another kind (TYPE_MISMATCH) or an unknown kind takes the old path.
  if (index !== undefined && envId >= 0 && KINDS[kind] === w.kinds[index]) {
    const r = evaluateIndex(this, w, index, envId, context);
    if (r !== undefined) return r;
  }
  return old.evaluateAs.call(this, flagKey, kind, context, env);
};

FlagSet.prototype.evaluateAll = function evaluateAll(context, env) {
  const w = wireOf(this);
  const envId = w.envId(env);
  if (envId >= 0) {
    const len = encode(this, w, context, w.readsAll);
    if (len >= 0) {
      const at = this.__wireEvaluateAll(envId, len);
      if (at !== 0) {
        views();
        // Copied out first: rendering a new answer below may grow memory.
        w.codes.set(new Uint32Array(memory.buffer, at, w.count));
        const out = new Array(w.count);
        let i = 0;
        for (; i < w.count; i++) {
          const code = w.codes[i];
          if (code === NO_CODE) break;
          out[i] = result(this, w, i, envId, code);
        }
        if (i === w.count) return out;
      }
    }
  }
  return old.evaluateAll.call(this, context, env);
};

FlagSet.prototype.replace = function replace(file) {
  old.replace.call(this, file);
  this[STATE] = undefined; // the next call reads the new layout
};

/**
 * A handle on one flag (and environment): `flags.flag("checkout").evaluate(context)`. The key
 * and environment are resolved once per loaded revision, not per call; an unknown key answers
 * FLAG_NOT_FOUND as `evaluate` does (and finds the flag if a `replace` adds it).
 */
class FlagHandle {
  #set;
  #wire = undefined;
  #index = undefined;
  #envId = -1;
  constructor(set, key, env) {
    this.#set = set;
    this.key = key;
    this.env = env ?? null;
    Object.freeze(this);
  }

  evaluate(context) {
    const set = this.#set;
    const w = wireOf(set);
    if (this.#wire !== w) {
      this.#wire = w;
      this.#index = w.index.get(this.key);
      this.#envId = w.envId(this.env);
    }
    if (this.#index !== undefined && this.#envId >= 0) {
      const r = evaluateIndex(set, w, this.#index, this.#envId, context);
      if (r !== undefined) return r;
    }
    return old.evaluate.call(set, this.key, context, this.env);
  }
}

FlagSet.prototype.flag = function flag(flagKey, env) {
  return new FlagHandle(this, flagKey, env);
};


