// FlagSet's evaluation methods (evaluate, evaluateAs, evaluateAll, the JSON-text and
// prepared-context ones, flag handles) and hash/bucket, over the module's exports. Every
// entry (node.js, edge.js, web.js) loads it; their types are in the .d.ts (typescript.rs).
//
// No evaluation happens here: the engine in WASM decides every answer. This file only moves
// data cheaply (wasm/src/wire.rs has the format):
// - in: only the context fields the flag reads (the engine says which, per flag), copied as
//   ASCII bytes into a buffer in WASM memory (other strings as escaped JSON text), instead of
//   JSON.stringify of the whole context;
// - out: the engine answers with an integer code; the EvaluationResult for each (flag,
//   environment, code) is rendered by the engine once, frozen, and handed back after that.
// Whatever this path cannot copy exactly (a context that is JSON text or not a plain object,
// a BigInt, a cycle, a lone surrogate, a huge string, an unknown flag or environment, a
// wrong argument type) takes the old path, which gives the old answers and errors.
import { FlagSet as LoadedSet, __wireMemory, __hash } from "./edgeflag_wasm.js";

const NO_CODE = 0xffffffff;
const ALL_FLAGS = 0xffffffff; // __wireEvaluate's "every flag" (wasm/src/api.rs)
const TAG_STRING = 1;
const TAG_INTEGER = 2;
const TAG_TRUE = 3;
const TAG_FALSE = 4;
const TAG_JSON = 5;
/** Longer strings take the old path (and its size limits and errors). */
const MAX_STRING = 64 * 1024;

// The old path: one export for every way to ask (wasm/src/api.rs `__evaluate`, `mode` bits).
const ALL = 1;
const TYPED = 2;
const TEXT = 4;
// It answers JSON text, parsed here unless the caller asked for text.
const old = {
  evaluate: (set, flagKey, context, env) => JSON.parse(set.__evaluate(flagKey, undefined, context, env, 0)),
  evaluateAs: (set, flagKey, kind, context, env) => JSON.parse(set.__evaluate(flagKey, kind, context, env, TYPED)),
  evaluateAll: (set, context, env) => JSON.parse(set.__evaluate(undefined, undefined, context, env, ALL)),
  replace: LoadedSet.prototype.replace,
};
const STATE = Symbol("edgeflag.wire");

// A large ASCII flag file crosses as bytes from the native TextEncoder (wasm/src/input.rs):
// the generated glue copies a string character by character, in JS that is still cold when
// a worker loads its flags (README "Cold start" measures it). As many bytes as
// characters means every character was ASCII; other text, small files and objects take the
// glue's path (and its limits and errors).
const encoder = new TextEncoder();
const BYTES_FROM = 4096;
const MAX_FILE_CHARS = 16 * 1024 * 1024; // input.rs MAX_FLAG_FILE_CHARS
function fileArg(file) {
  if (typeof file !== "string" || file.length < BYTES_FROM || file.length > MAX_FILE_CHARS) return file;
  const bytes = encoder.encode(file);
  return bytes.length === file.length ? bytes : file;
}

/** The module's FlagSet, loading large text as bytes (every entry exports this one). */
export class FlagSet extends LoadedSet {
  constructor(file) {
    super(fileArg(file));
  }
}
const KINDS = ["boolean", "string", "number", "json"];

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
    // Read once per revision, and cheaply: a cold start pays for this before its first answer.
    const keys = set.flagKeys;
    this.index = new Map();
    for (let i = 0; i < keys.length; i++) this.index.set(keys[i], i);
    this.count = keys.length;
    this.names = set.__wireNames(0);
    // Whether environments are declared, then per flag: k, n, n ids (wasm/src/wire.rs `reads`);
    // each flag's read list is built the first time the flag is evaluated.
    const flat = set.__wireReads();
    this.declared = flat[0] === 1;
    this.flat = flat;
    this.at = new Uint32Array(this.count);
    for (let i = 0, at = 1; i < this.count; i++, at += 2 + flat[at + 1]) this.at[i] = at;
    this.readCache = new Array(this.count);
    this.allReads = undefined;
    const environments = set.__wireNames(1);
    this.environments = new Map(environments.map((name, i) => [name, i + 1]));
    // results[envId][flag] = Map(code -> frozen EvaluationResult)
    this.results = Array.from({ length: environments.length + 1 }, () => new Array(this.count));
    this.codes = new Uint32Array(this.count);
    this.cap = 1024;
    this.ptr = set.__wireInput(this.cap);
  }

  /** What `ids` (attribute ids) and `key` mean for the encoder. */
  read(ids, key) {
    // Ascending ids: the engine numbered names in its contexts' order, so written this way
    // the attributes arrive sorted.
    ids = [...ids].sort((a, b) => a - b);
    const names = ids.map((id) => this.names[id]);
    // "__proto__" cannot be read as an own property with ctx[name]: such flags go the old way.
    return { key, slots: ids.map((id) => id + 1), names, old: names.includes("__proto__"), none: !key && ids.length === 0 };
  }

  /** Flag `index`'s read list. */
  reads(index) {
    let r = this.readCache[index];
    if (r === undefined) {
      const at = this.at[index];
      const k = this.flat[at];
      const ids = k & 2 ? this.names.map((_, id) => id) : Array.from(this.flat.subarray(at + 2, at + 2 + this.flat[at + 1]));
      this.readCache[index] = r = this.read(ids, (k & 3) !== 0);
    }
    return r;
  }

  /** The flag's kind ("boolean", "string", "number", "json"). */
  kind(index) {
    return KINDS[this.flat[this.at[index]] >> 2];
  }

  /** What evaluateAll reads: every attribute, and the key if any flag reads it. */
  readsAll() {
    if (this.allReads === undefined) {
      let key = false;
      for (let i = 0; i < this.count; i++) key ||= (this.flat[this.at[i]] & 3) !== 0;
      this.allReads = this.read(this.names.map((_, id) => id), key);
    }
    return this.allReads;
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
      o = ensure(set, w, o, 9 + n);
      if (o < 0) return -1;
      const start = o + 9;
      for (let i = 0; i < n; i++) {
        const c = v.charCodeAt(i);
        // Not ASCII: sent as escaped JSON text (the wire is ASCII, see wire.rs).
        if (c > 0x7f) return putJson(set, w, o, slot, JSON.stringify(v));
        u8[start + i] = c;
      }
      dv.setUint32(o, slot, true);
      u8[o + 4] = TAG_STRING;
      dv.setUint32(o + 5, n, true);
      return start + n;
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

const HAS_NOT_ASCII = /[\u0080-\uffff]/;
const NOT_ASCII = /[\u0080-\uffff]/g;
const escape = (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");

function putJson(set, w, o, slot, text) {
  if (text.length > MAX_STRING) return -1;
  // JSON.stringify already escapes lone surrogates; the rest of non-ASCII is escaped here.
  if (HAS_NOT_ASCII.test(text)) text = text.replace(NOT_ASCII, escape);
  const n = text.length;
  o = ensure(set, w, o, 9 + n);
  if (o < 0) return -1;
  dv.setUint32(o, slot, true);
  u8[o + 4] = TAG_JSON;
  dv.setUint32(o + 5, n, true);
  const start = o + 9;
  for (let i = 0; i < n; i++) u8[start + i] = text.charCodeAt(i);
  return start + n;
}

/** Writes the fields `read` names from `ctx`; returns the byte length, or -1 for the old path. */
function encode(set, w, ctx, read) {
  if (read.none) {
    // The flag reads nothing from a context: nothing to copy (the engine then evaluates an
    // anonymous one). Only a context that is no context at all takes the old path (its error).
    return ctx === undefined || ctx === null || typeof ctx === "object" ? 0 : -1;
  }
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
  const len = encode(set, w, context, w.reads(index));
  if (len < 0) return undefined;
  const code = set.__wireEvaluate(index, envId, len);
  return code === NO_CODE ? undefined : result(set, w, index, envId, code);
}

LoadedSet.prototype.evaluate = function evaluate(flagKey, context, env) {
  const w = wireOf(this);
  const index = w.index.get(flagKey);
  const envId = w.envId(env);
  if (index !== undefined && envId >= 0) {
    const r = evaluateIndex(this, w, index, envId, context);
    if (r !== undefined) return r;
  }
  return old.evaluate(this, flagKey, context, env);
};

LoadedSet.prototype.evaluateAs = function evaluateAs(flagKey, kind, context, env) {
  const w = wireOf(this);
  const index = w.index.get(flagKey);
  const envId = w.envId(env);
  // A flag of another kind (TYPE_MISMATCH) or an unknown kind takes the old path.
  if (index !== undefined && envId >= 0 && kind === w.kind(index)) {
    const r = evaluateIndex(this, w, index, envId, context);
    if (r !== undefined) return r;
  }
  return old.evaluateAs(this, flagKey, kind, context, env);
};

LoadedSet.prototype.evaluateAll = function evaluateAll(context, env) {
  const w = wireOf(this);
  const envId = w.envId(env);
  if (envId >= 0) {
    const len = encode(this, w, context, w.readsAll());
    if (len >= 0) {
      const at = this.__wireEvaluate(ALL_FLAGS, envId, len);
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
  return old.evaluateAll(this, context, env);
};

// The text and prepared-context ways: no fast path, one export each (see api.rs).
LoadedSet.prototype.evaluateJson = function evaluateJson(flagKey, contextJson, env) {
  return this.__evaluate(flagKey, undefined, contextJson, env, TEXT);
};
LoadedSet.prototype.evaluateAllJson = function evaluateAllJson(contextJson, env) {
  return this.__evaluate(undefined, undefined, contextJson, env, ALL | TEXT);
};
LoadedSet.prototype.evaluatePrepared = function evaluatePrepared(flagKey, prepared, env) {
  return JSON.parse(this.__evaluatePrepared(flagKey, prepared, env, 0));
};
LoadedSet.prototype.evaluateAllPrepared = function evaluateAllPrepared(prepared, env) {
  return JSON.parse(this.__evaluatePrepared(undefined, prepared, env, ALL));
};

/**
 * Every problem of a flag file, with its path; empty when it is valid (throws only for an
 * unusable argument). Through the constructor, which checks exactly this and reports the same
 * problems: a second export doing the same cost the module bytes it has no room for.
 */
export function validateFlagFile(file) {
  let set;
  try {
    set = new LoadedSet(fileArg(file));
  } catch (e) {
    if (e?.code === "INVALID_FLAG_FILE") return e.problems;
    throw e;
  }
  set.free();
  return [];
}

/** The bucketing hash: murmur3 x86 32-bit (seed 0) of `salt + ":" + unit`, unsigned. */
export function hash(salt, unit) {
  return __hash(salt, unit, false);
}

/** The bucket of `unit` under `salt`, in 0..10000 (basis points). */
export function bucket(salt, unit) {
  return __hash(salt, unit, true);
}

// The keys of every flag, in file order: one string from the module, split here (1,000 keys
// cross as one string instead of 1,000).
Object.defineProperty(LoadedSet.prototype, "flagKeys", {
  configurable: true,
  get() {
    const [joined] = this.__wireNames(2);
    return joined === "" ? [] : joined.split("\n");
  },
});

LoadedSet.prototype.replace = function replace(file) {
  old.replace.call(this, fileArg(file));
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
    return old.evaluate(set, this.key, context, this.env);
  }
}

LoadedSet.prototype.flag = function flag(flagKey, env) {
  return new FlagHandle(this, flagKey, env);
};


