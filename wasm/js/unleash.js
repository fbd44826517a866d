// UnleashSet's per-call methods (isEnabled, getVariant, evaluate) over the module's exports,
// for the `edgeflag/unleash` entries (the build appends an import of this file to them).
//
// No evaluation happens here: the engine in WASM decides every answer. This file only moves
// data cheaply (wasm/src/unleash.rs has the format), as fast.js does for FlagSet:
// - in: only the context fields the feature reads (the engine says which), resolved the way
//   Unleash resolves a field (`context[f] ?? context.properties[f]`), copied into a buffer in
//   WASM memory instead of JSON.stringify of the whole context;
// - out: the engine answers with an integer code; the answer object for each (feature, code)
//   is rendered by the engine once, frozen, and handed back after that.
// Whatever this path cannot copy exactly (a context as JSON text or not a plain object, an
// object or array as a value, a BigInt, a lone surrogate, a huge string, an unknown feature, a
// wrong argument type) takes the old path, which gives the old answers and errors.
import { UnleashSet, __wireMemory } from "./edgeflag_wasm.js";

const NO_CODE = 0xffffffff;
const TAG_TEXT = 1;
const TAG_JSON = 2;
const TAG_NUMBER = 3;
/** Longer strings take the old path (and its size limits and errors). */
const MAX_STRING = 64 * 1024;
const CURRENT_TIME = "currentTime";

const P = UnleashSet.prototype;
const old = { isEnabled: P.isEnabled, getVariant: P.getVariant, evaluate: P.evaluate, replace: P.replace };
const STATE = Symbol("edgeflag.unleashWire");
const utf8Encoder = new TextEncoder();

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
    const names = set.featureNames;
    this.index = new Map();
    // Of two features with one name the engine answers for the last, and so does this map.
    for (let i = 0; i < names.length; i++) this.index.set(names[i], i);
    this.fields = set.__wireNames();
    this.flat = set.__wireReads();
    this.at = new Uint32Array(names.length);
    for (let i = 0, at = 0; i < names.length; i++, at += 1 + this.flat[at]) this.at[i] = at;
    this.readCache = new Array(names.length);
    this.results = new Array(names.length); // per feature: code -> frozen {name, enabled, variant}
    this.cap = 1024;
    this.ptr = set.__wireInput(this.cap);
  }

  /** Feature `index`'s read list: field ids and names. */
  reads(index) {
    let r = this.readCache[index];
    if (r === undefined) {
      const at = this.at[index];
      const ids = Array.from(this.flat.subarray(at + 1, at + 1 + this.flat[at]));
      const names = ids.map((id) => this.fields[id]);
      // "__proto__" cannot be read as an own property with ctx[name]: such features go the
      // old way.
      this.readCache[index] = r = { ids, names, old: names.includes("__proto__") };
    }
    return r;
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

/** A value JSON.stringify writes as something other than null (or leaves out). */
function present(v) {
  if (v === undefined || v === null) return false;
  const t = typeof v;
  if (t === "number") return Number.isFinite(v); // NaN and ±Infinity are JSON null
  return t !== "function" && t !== "symbol";
}

/** A record's header: field id, tag, byte length. */
function header(o, id, tag, len) {
  dv.setUint32(o, id, true);
  u8[o + 4] = tag;
  dv.setUint32(o + 5, len, true);
}

/** Writes one record of text that is ASCII (a number's or a boolean's). */
function putAscii(set, w, o, id, tag, text) {
  const n = text.length;
  o = ensure(set, w, o, 9 + n);
  if (o < 0) return -1;
  const start = o + 9;
  for (let i = 0; i < n; i++) u8[start + i] = text.charCodeAt(i);
  header(o, id, tag, n);
  return start + n;
}

/** Writes one field; returns the next offset, or -1 for the old path. */
function put(set, w, o, id, v, raw) {
  switch (typeof v) {
    case "string": {
      const n = v.length;
      if (n > MAX_STRING) return -1;
      // Room for the longest UTF-8 form first: making room may move the buffer.
      o = ensure(set, w, o, 9 + 3 * n);
      if (o < 0) return -1;
      const start = o + 9;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c > 0x7f) break;
        u8[start + i] = c;
      }
      let len = n;
      if (i < n) {
        // Not ASCII: UTF-8 through the native encoder. A lone surrogate has no UTF-8 form
        // (the encoder would write U+FFFD where the old path refuses the context): old path.
        if (!v.isWellFormed()) return -1;
        len = utf8Encoder.encodeInto(v, u8.subarray(start, start + 3 * n)).written;
      }
      header(o, id, TAG_TEXT, len);
      return start + len;
    }
    case "number":
      // A top-level currentTime stays a number (epoch milliseconds); other numbers are
      // compared as text, the text serde_json writes (a safe integer's is String(v)).
      if (raw) return putAscii(set, w, o, id, TAG_JSON, JSON.stringify(v));
      if (Number.isSafeInteger(v)) return putAscii(set, w, o, id, TAG_TEXT, String(v));
      return putAscii(set, w, o, id, TAG_NUMBER, JSON.stringify(v));
    case "boolean":
      return putAscii(set, w, o, id, raw ? TAG_JSON : TAG_TEXT, v ? "true" : "false");
    default:
      return -1; // objects, arrays, BigInts: the old path
  }
}

/** A plain object, read the same through ctx[name] as through JSON.stringify. */
function plain(o) {
  const proto = Object.getPrototypeOf(o);
  return (proto === Object.prototype || proto === null) && o.toJSON === undefined && !Array.isArray(o);
}

/** Writes the fields `read` names from `ctx`; returns the byte length, or -1 for the old path. */
function encode(set, w, ctx, read) {
  if (ctx === undefined || ctx === null) return 0;
  if (typeof ctx !== "object" || read.old || !plain(ctx)) return -1;
  let props = ctx.properties;
  if (props === undefined || props === null) props = undefined;
  else if (typeof props !== "object" || !plain(props)) return -1;
  views();
  let o = w.ptr + 4;
  let count = 0;
  const { ids, names } = read;
  for (let j = 0; j < ids.length; j++) {
    const name = names[j];
    let v = ctx[name];
    let raw = name === CURRENT_TIME;
    // A top-level field hides the property even when empty (only absent or null lets it
    // through), as in the SDKs and UnleashContext::from_value.
    if (!present(v)) {
      if (props === undefined) continue;
      v = props[name];
      if (!present(v)) continue;
      raw = false;
    }
    o = put(set, w, o, ids[j], v, raw);
    if (o < 0) return -1;
    count++;
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

/** Feature `name`'s answer for `context` ({name, enabled, variant}, frozen), or undefined. */
function answer(set, name, context, variant) {
  const w = wireOf(set);
  const index = w.index.get(name);
  if (index === undefined) return undefined;
  const len = encode(set, w, context, w.reads(index));
  if (len < 0) return undefined;
  const code = set.__wireEvaluate(index, len, variant);
  if (code === NO_CODE) return undefined;
  if (!variant) return code === 1;
  let byCode = w.results[index];
  if (byCode === undefined) w.results[index] = byCode = [];
  let r = byCode[code];
  if (r === undefined) byCode[code] = r = deepFreeze(JSON.parse(set.__wireRender(index, code)));
  return r;
}

P.isEnabled = function isEnabled(featureName, context) {
  const r = answer(this, featureName, context, false);
  return r === undefined ? old.isEnabled.call(this, featureName, context) : r;
};

P.getVariant = function getVariant(featureName, context) {
  const r = answer(this, featureName, context, true);
  return r === undefined ? old.getVariant.call(this, featureName, context) : r.variant;
};

P.evaluate = function evaluate(featureName, context) {
  const r = answer(this, featureName, context, true);
  return r === undefined ? old.evaluate.call(this, featureName, context) : r;
};

P.replace = function replace(payload) {
  old.replace.call(this, payload);
  this[STATE] = undefined; // the next call reads the new payload's layout
};
