// `FlagSet.loadValidated(text, checksum)`: the edge's cold-start path for a file the server
// has already validated (it refuses an invalid file at publish; `/edge/manifest.json` carries
// the body's XXH64, `xxh64`, checked here inside the module in the call that scans the layout, and
// its SHA-256, `sha256`, checked with WebCrypto: Node loads WebCrypto's JS for that, ~3 ms of
// a cold start). The checked constructor parses, validates and compiles every flag at
// load; in a new V8 isolate that is mostly V8 compiling the engine's load code while it runs
// (README "Cold start"). Here the load only finds where each flag's text
// is (the module's byte scan of the first two JSON levels, wasm/src/layout.rs, then the keys
// here) and checks the rest of the file (top level, environments, segments) through the
// engine; each flag is loaded by the engine, with the checked constructor, the first time it
// is evaluated, together with what it depends on (its prerequisites, transitively, and the
// segments they test). `evaluateAll` loads the whole file at once when most flags are not
// loaded yet.
//
// No evaluation happens here, and every answer comes from the engine as `FlagSet` gives it:
// a flag's own FlagSet holds that flag and its dependencies, so its answers are the whole
// file's (tests/js/validated.test.mjs replays the native corpus through this path).
// What changes is when a broken flag is reported: on its first evaluation (an EdgeflagError
// with the problems' paths in the whole file), not at load. The checksum makes that an
// accident that cannot happen silently: a text whose checksum is not the one given is loaded
// by the checked constructor, which refuses a bad file with every problem. Neither checksum is
// a signature (whoever can change the file where it is served can change the manifest too):
// they tell the validated text from any other by accident, and 64 bits do that.
import { FlagSet as LoadedSet, __wireMemory } from "./edgeflag_wasm.js";
import { FlagSet } from "./fast.js";

const textEncoder = new TextEncoder();

function hexOf(buffer) {
  const digest = new Uint8Array(buffer);
  let hex = "";
  for (let i = 0; i < digest.length; i++) hex += digest[i].toString(16).padStart(2, "0");
  return hex;
}

// ---- where things are in the text: the first two levels, read exactly; deeper, only
// brackets and strings are followed. Anything unexpected answers null: the checked load then
// reads the file and reports what is wrong with it.

const isSpace = (c) => c === 32 || c === 10 || c === 13 || c === 9;

function skipSpace(s, i) {
  while (isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** The end (after the closing quote) of the string starting at `i`, or -1. */
function stringEnd(s, i) {
  for (let from = i + 1; ; ) {
    const q = s.indexOf('"', from);
    if (q < 0) return -1;
    let b = q - 1;
    while (s.charCodeAt(b) === 92) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1; // an even run of backslashes: not escaped
    from = q + 1;
  }
}

/** The end of the value starting at `i`, or -1. */
function valueEnd(s, i) {
  const c = s.charCodeAt(i);
  if (c === 34) return stringEnd(s, i);
  if (c !== 123 && c !== 91) {
    // A scalar: up to the next delimiter.
    let j = i;
    for (let d = s.charCodeAt(j); j < s.length && d !== 44 && d !== 125 && d !== 93 && !isSpace(d); d = s.charCodeAt(++j));
    return j > i ? j : -1;
  }
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const d = s.charCodeAt(j);
    if (d === 34) {
      j = stringEnd(s, j) - 1;
      if (j < 0) return -1;
    } else if (d === 123 || d === 91) {
      depth++;
    } else if ((d === 125 || d === 93) && --depth === 0) {
      return j + 1;
    }
  }
  return -1;
}

/** The string at `i..end` (quotes included), or null when its escapes are not JSON's. */
function nameAt(s, i, end) {
  const raw = s.slice(i, end);
  if (!raw.includes("\\")) return raw.slice(1, -1);
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

/**
 * An array of objects at `i`: `{ open, close, items: [{ start, end, key }] }`, or null. Most
 * of a lazy load's time is here, in JS that is still cold: one small loop over the characters
 * (strings skipped with indexOf) finds the objects, then each one's key is read where a
 * serializer puts it, first (anywhere else, `keyOf` looks member by member).
 */
function objectList(s, i) {
  const spans = [];
  let depth = 0;
  let start = -1;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) {
      j = stringEnd(s, j) - 1;
      if (j < 0) return null;
    } else if (c === 123 || c === 91) {
      if (++depth === 2) start = j;
    } else if (c === 125 || c === 93) {
      if (--depth === 1) {
        spans.push(start, j + 1);
      } else if (depth === 0) {
        return c === 93 ? items(s, i, j, spans, 0, spans.length, 2) : null;
      }
    } else if (depth === 1 && c > 32 && c !== 44) {
      return null; // something other than an object in the list
    }
  }
  return null;
}

const KEY_FIRST = /\{\s*"key"\s*:\s*"/y;
const COMPACT_KEY = '{"key":"';

/**
 * The list `[open, close]` whose elements are at `spans[k]..spans[k + 1]` for k = from, from
 * + step, ... < to: `{ open, close, items: [{ start, end, key }] }`, or null when anything
 * but objects separated by commas is in it, or an object has no string "key".
 */
function items(s, open, close, spans, from, to, step) {
  const list = [];
  let j = open + 1;
  for (let k = from; k < to; k += step) {
    const start = spans[k];
    j = skipSpace(s, j);
    if (k > from) {
      if (s.charCodeAt(j) !== 44) return null;
      j = skipSpace(s, j + 1);
    }
    if (j !== start || s.charCodeAt(start) !== 123) return null;
    j = spans[k + 1];
    let key = null;
    // As serializers write it (first, compact, no escapes): one comparison and one search.
    if (s.startsWith(COMPACT_KEY, start)) {
      const q = s.indexOf('"', start + 8);
      if (q > 0 && q < j) key = s.slice(start + 8, q);
      if (key !== null && key.includes("\\")) key = null;
    }
    if (key === null) {
      KEY_FIRST.lastIndex = start;
      if (KEY_FIRST.test(s)) {
        const at = KEY_FIRST.lastIndex - 1;
        const end = stringEnd(s, at);
        key = end > 0 && end <= j ? nameAt(s, at, end) : null;
      } else {
        key = keyOf(s, start);
      }
    }
    if (key === null) return null;
    list.push({ start, end: j, key });
  }
  return skipSpace(s, j) === close ? { open, close, items: list } : null;
}

/** The string value of the member "key" of the object at `i`, or null. */
function keyOf(s, i) {
  let key = null;
  let j = skipSpace(s, i + 1);
  while (s.charCodeAt(j) !== 125) {
    if (s.charCodeAt(j) !== 34) return null;
    const nameEnd = stringEnd(s, j);
    if (nameEnd < 0) return null;
    const name = nameAt(s, j, nameEnd);
    j = skipSpace(s, nameEnd);
    if (s.charCodeAt(j) !== 58) return null;
    j = skipSpace(s, j + 1);
    const end = valueEnd(s, j);
    if (end < 0) return null;
    if (name === "key") {
      // Twice, or not a string: the checked load reports it.
      if (key !== null || s.charCodeAt(j) !== 34) return null;
      key = nameAt(s, j, end);
    }
    j = skipSpace(s, end);
    if (s.charCodeAt(j) === 44) j = skipSpace(s, j + 1);
    else if (s.charCodeAt(j) !== 125) return null;
  }
  return key;
}

// `__wireEvaluate`'s flag index for "the layout of the text in the input buffer"
// (wasm/src/layout.rs, reached through api.rs's `LAYOUT`).
const LAYOUT = 0xfffffffe;
// `__wireInput`'s bit for "a flag file's bytes" (a larger limit than a context's: wire.rs).
const FILE_INPUT = 0x80000000;
/** Longer text goes to the checked load, which refuses it (input.rs MAX_FLAG_FILE_CHARS). */
const MAX_TEXT_CHARS = 16 * 1024 * 1024;
/** The manifest's `xxh64` (checked in the module) or its `sha256` (checked with WebCrypto). */
const XXH64_HEX = /^[0-9a-f]{16}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The module's passes over the UTF-8 bytes of `text`, in one call: the file's XXH64
 * (`checksum`, hex; not computed when `sha256` is asked for instead) and, when the text is
 * ASCII (byte and character offsets then agree), where its containers are (`lists`, else
 * null). With `sha256`, also the SHA-256 of the bytes, started (`digest`). Null when the text
 * is too large for the module's buffer, or the module could not take it (out of memory): the
 * checked load then.
 */
function scan(text, sha256) {
  // A set only for its input buffer, freed after: the buffer is as large as the text.
  let scratch = null;
  try {
    scratch = new LoadedSet('{"schema_version":1,"flags":[]}');
    return scanWith(scratch, text, sha256);
  } catch {
    return null;
  } finally {
    scratch?.free();
  }
}

function scanWith(scratch, text, sha256) {
  let len = text.length;
  let ptr = scratch.__wireInput((FILE_INPUT | len) >>> 0);
  if (ptr === 0) return null;
  const { read, written } = textEncoder.encodeInto(text, new Uint8Array(__wireMemory().buffer, ptr, len));
  const ascii = read === len && written === len;
  if (!ascii) {
    // Offsets in bytes are not the string's: only the checksum is wanted from the module.
    const bytes = textEncoder.encode(text);
    len = bytes.length;
    ptr = scratch.__wireInput((FILE_INPUT | len) >>> 0);
    if (ptr === 0) return null;
    new Uint8Array(__wireMemory().buffer, ptr, len).set(bytes);
  }
  // No copy of our own: `digest` copies the bytes before it returns (WebCrypto: "get a copy of
  // the bytes held by the data parameter", step 2), so the scan may then grow the memory. A
  // runtime that read them later could only get a wrong digest: the checked load then.
  const digest = sha256 ? crypto.subtle.digest("SHA-256", new Uint8Array(__wireMemory().buffer, ptr, len)) : null;
  // `env` bits: 1 the layout (ASCII text only), 2 the XXH64.
  const end = scratch.__wireEvaluate(LAYOUT, (ascii ? 1 : 0) | (sha256 ? 0 : 2), len) >>> 2;
  const u32 = new Uint32Array(__wireMemory().buffer);
  const count = u32[end];
  const checksum = u32[end + 2].toString(16).padStart(8, "0") + u32[end + 1].toString(16).padStart(8, "0");
  // Copied out: the list lives in the scratch set's memory, freed next.
  return { digest, checksum, lists: ascii ? containersOf(u32.slice(end - count, end)) : null };
}

/**
 * The containers the scan found, by start: `{ close, from, to }`, where `flat[from..to]` are
 * the `[3, start, end]` of its elements.
 */
function containersOf(flat) {
  const lists = new Map();
  let from = 0;
  for (let k = 0; k + 2 < flat.length; k += 3) {
    if (flat[k] === 2) {
      lists.set(flat[k + 1], { flat, close: flat[k + 2] - 1, from, to: k });
      from = k + 3;
    }
  }
  return lists;
}

/** A list the module scanned, if it is an array of objects and nothing else. */
function scannedList(s, i, found) {
  if (found === undefined || s.charCodeAt(found.close) !== 93) return null;
  return items(s, i, found.close, found.flat, found.from + 1, found.to, 3);
}

/**
 * The layout of a flag file: its `flags` and `segments` lists (segments may be absent).
 * `lists`: what the module's scan found, or null to scan here.
 */
function layout(s, lists) {
  let i = skipSpace(s, 0);
  if (s.charCodeAt(i) !== 123) return null;
  let flags = null;
  let segments = null;
  i = skipSpace(s, i + 1);
  if (s.charCodeAt(i) === 125) return null;
  for (;;) {
    if (s.charCodeAt(i) !== 34) return null;
    const nameEnd = stringEnd(s, i);
    if (nameEnd < 0) return null;
    const name = nameAt(s, i, nameEnd);
    i = skipSpace(s, nameEnd);
    if (s.charCodeAt(i) !== 58) return null;
    i = skipSpace(s, i + 1);
    let end;
    if ((name === "flags" || name === "segments") && s.charCodeAt(i) === 91) {
      const list = lists === null ? objectList(s, i) : scannedList(s, i, lists.get(i));
      if (list === null) return null;
      if (name === "flags" ? flags !== null : segments !== null) return null; // twice: the checked load says so
      if (name === "flags") flags = list;
      else segments = list;
      end = list.close + 1;
    } else {
      if (name === "flags" || name === "segments") return null;
      const scanned = lists?.get(i);
      end = scanned === undefined ? valueEnd(s, i) : scanned.close + 1;
      if (end < 0) return null;
    }
    i = skipSpace(s, end);
    const d = s.charCodeAt(i);
    if (d === 125) break;
    if (d !== 44) return null;
    i = skipSpace(s, i + 1);
  }
  if (flags === null || skipSpace(s, i + 1) !== s.length) return null;
  return { flags, segments };
}

// ---- what a flag depends on, from its own text (JSON.parse of one flag, on first use).

function dependencies(flagText) {
  let flag;
  try {
    flag = JSON.parse(flagText);
  } catch {
    // Not JSON: the flag's own checked load says where.
    return { prerequisites: [], segments: [] };
  }
  const prerequisites = [];
  const segments = [];
  if (Array.isArray(flag.prerequisites)) {
    for (const p of flag.prerequisites) if (typeof p?.flag === "string") prerequisites.push(p.flag);
  }
  const rulesOf = (holder) => {
    if (!Array.isArray(holder?.rules)) return;
    for (const rule of holder.rules) {
      if (!Array.isArray(rule?.clauses)) continue;
      for (const clause of rule.clauses) {
        if (clause?.operator === "in_segment" && Array.isArray(clause.values)) {
          for (const v of clause.values) if (typeof v === "string") segments.push(v);
        }
      }
    }
  };
  rulesOf(flag);
  if (flag.environments !== null && typeof flag.environments === "object") {
    for (const name of Object.keys(flag.environments)) rulesOf(flag.environments[name]);
  }
  return { prerequisites, segments };
}

/** The text with `[start, end)` ranges (ascending, not overlapping) replaced. */
function splice(text, edits) {
  let out = "";
  let at = 0;
  for (const [start, end, replacement] of edits) {
    out += text.slice(at, start) + replacement;
    at = end;
  }
  return out + text.slice(at);
}

const PATH = /^(flags|segments)\[(\d+)\]/;

/** A problem path of a flag's own file, as a path in the whole file. */
function wholePath(path, flagAt, segmentAt) {
  return path.replace(PATH, (_, list, k) => `${list}[${(list === "flags" ? flagAt : segmentAt)[Number(k)]}]`);
}

/** One loaded file: its layout, and each flag's own FlagSet once it has been asked for. */
class Lazy {
  constructor(text, shape, top) {
    this.text = text;
    this.flags = shape.flags.items;
    this.segments = shape.segments?.items ?? [];
    this.shape = shape;
    this.top = top; // the file without its flags (checked at load): unknown keys, bad env/ctx
    this.index = new Map();
    for (let i = 0; i < this.flags.length; i++) this.index.set(this.flags[i].key, i);
    this.segmentIndex = new Map();
    for (let i = 0; i < this.segments.length; i++) this.segmentIndex.set(this.segments[i].key, i);
    this.sets = new Array(this.flags.length);
    this.loaded = 0;
    this.keys = this.flags.map((f) => f.key);
    this.wholeError = undefined;
  }

  /** Flag `i`'s own FlagSet (throws the flag's problems, with whole-file paths). */
  set(i) {
    let set = this.sets[i];
    if (set === undefined) {
      try {
        set = this.load(i);
      } catch (e) {
        set = { error: e };
      }
      this.sets[i] = set;
      this.loaded++;
    }
    if (set.error !== undefined) throw set.error;
    return set;
  }

  load(i) {
    const flagAt = [i];
    const seen = new Set([i]);
    const segmentAt = [];
    const segmentSeen = new Set();
    for (let k = 0; k < flagAt.length; k++) {
      const f = this.flags[flagAt[k]];
      const deps = dependencies(this.text.slice(f.start, f.end));
      for (const key of deps.prerequisites) {
        const p = this.index.get(key);
        if (p !== undefined && !seen.has(p)) {
          seen.add(p);
          flagAt.push(p);
        }
      }
      for (const key of deps.segments) {
        const s = this.segmentIndex.get(key);
        if (s !== undefined && !segmentSeen.has(s)) {
          segmentSeen.add(s);
          segmentAt.push(s);
        }
      }
    }
    segmentAt.sort((a, b) => a - b);
    const slices = (list, at) => at.map((k) => this.text.slice(list[k].start, list[k].end)).join(",");
    const { flags, segments } = this.shape;
    const edits = [[flags.open + 1, flags.close, slices(this.flags, flagAt)]];
    if (segments) edits.push([segments.open + 1, segments.close, slices(this.segments, segmentAt)]);
    edits.sort((a, b) => a[0] - b[0]);
    try {
      return new FlagSet(splice(this.text, edits));
    } catch (e) {
      if (Array.isArray(e?.problems)) {
        e.problems = e.problems.map((p) => ({ path: wholePath(p.path, flagAt, segmentAt), message: p.message }));
        const lines = e.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
        e.message = [e.message.split("\n")[0], ...lines].join("\n");
      }
      throw e;
    }
  }

  /** The set that answers for `flagKey`: its own, or the top one (FLAG_NOT_FOUND, wrong types). */
  setFor(flagKey) {
    const i = this.index.get(flagKey);
    return i === undefined ? this.top : this.set(i);
  }

  free() {
    for (const set of this.sets) if (set !== undefined && set.error === undefined) set.free();
    this.top.free();
  }
}

async function loadLazy(text, checksum) {
  if (typeof text !== "string" || typeof checksum !== "string" || text.length > MAX_TEXT_CHARS) return null;
  const want = checksum.toLowerCase();
  const sha256 = SHA256_HEX.test(want);
  if (!sha256 && !XXH64_HEX.test(want)) return null;
  // A SHA-256 is started first: where it runs on another thread (Node), the scan overlaps it.
  const scanned = scan(text, sha256);
  const digest = sha256 ? scanned?.digest ?? crypto.subtle.digest("SHA-256", textEncoder.encode(text)) : null;
  // The module's XXH64 is known already: a text that does not match is not laid out in JS.
  if (!sha256 && scanned?.checksum !== want) return null;
  const shape = layout(text, scanned?.lists ?? null);
  if (sha256 && hexOf(await digest) !== want) return null;
  if (shape === null) return null;
  const { flags } = shape;
  // The file without its flags, through the checked load: the top level, environments and
  // every segment are checked now; keys must be unique (the checked load would say which).
  const top = new FlagSet(splice(text, [[flags.open + 1, flags.close, ""]]));
  const lazy = new Lazy(text, shape, top);
  if (lazy.index.size !== lazy.flags.length || lazy.segmentIndex.size !== lazy.segments.length) {
    lazy.free();
    return null;
  }
  return lazy;
}

/**
 * A flag file loaded by `FlagSet.loadValidated`: the same methods and answers as `FlagSet`.
 * `lazy` says whether the flags are loaded on first use (the checksum matched) or were all
 * loaded and checked at once (it did not, or `replace` was used since).
 */
export class ValidatedFlagSet {
  #lazy = null;
  #full = null;
  #revision = 1;
  /** Moves whenever the sets that answer change (handles then look their flag up again). */
  #generation = 0;

  /** Loads `text` (the server's body, with the manifest's `xxh64` or `sha256` of it). */
  static async load(text, checksum) {
    const set = new ValidatedFlagSet();
    set.#lazy = await loadLazy(text, checksum);
    if (set.#lazy === null) set.#full = new FlagSet(text);
    return set;
  }

  /** True while flags are loaded on first use (false once the whole file is loaded). */
  get lazy() {
    return this.#lazy !== null;
  }

  get revision() {
    return this.#revision;
  }

  get flagKeys() {
    return this.#lazy !== null ? [...this.#lazy.keys] : this.#full.flagKeys;
  }

  /** Like `FlagSet.replace`: the whole new file is checked first; on error the old one stays. */
  replace(file) {
    const next = new FlagSet(file);
    this.#drop();
    this.#full = next;
    this.#revision++;
  }

  /**
   * The set to evaluate every flag with: the whole file loaded at once (checked) when more
   * than an eighth of its flags are not loaded yet, one flag at a time being slower (about
   * three times, in workerd: wasm/README.md "Server-validated files");
   * null to go flag by flag. A whole file that is invalid throws its problems, every time.
   */
  #whole() {
    const lazy = this.#lazy;
    if (lazy === null) return this.#full;
    if (lazy.keys.length - lazy.loaded <= lazy.keys.length / 8) return null;
    if (lazy.wholeError !== undefined) throw lazy.wholeError;
    let whole;
    try {
      whole = new FlagSet(lazy.text);
    } catch (e) {
      lazy.wholeError = e;
      throw e;
    }
    lazy.free();
    this.#lazy = null;
    this.#full = whole;
    this.#generation++;
    return whole;
  }

  /** Like `loadValidated`, for a newer version: atomic, the old flags answer until it is in. */
  async replaceValidated(text, checksum) {
    const lazy = await loadLazy(text, checksum);
    const full = lazy === null ? new FlagSet(text) : null;
    this.#drop();
    this.#lazy = lazy;
    this.#full = full;
    this.#revision++;
  }

  #drop() {
    this.#lazy?.free();
    this.#full?.free();
    this.#lazy = null;
    this.#full = null;
    this.#generation++;
  }

  free() {
    this.#drop();
  }

  #for(flagKey) {
    return this.#lazy !== null ? this.#lazy.setFor(flagKey) : this.#full;
  }

  evaluate(flagKey, context, env) {
    return this.#for(flagKey).evaluate(flagKey, context, env);
  }

  evaluateAs(flagKey, kind, context, env) {
    return this.#for(flagKey).evaluateAs(flagKey, kind, context, env);
  }

  evaluateJson(flagKey, contextJson, env) {
    return this.#for(flagKey).evaluateJson(flagKey, contextJson, env);
  }

  evaluatePrepared(flagKey, prepared, env) {
    return this.#for(flagKey).evaluatePrepared(flagKey, prepared, env);
  }

  /**
   * Every flag in file order: from the whole file (see `#whole`), or each flag's answer from
   * its own set (the same answers as one set's).
   */
  evaluateAll(context, env) {
    const whole = this.#whole();
    if (whole !== null) return whole.evaluateAll(context, env);
    const lazy = this.#lazy;
    if (lazy.keys.length === 0) return lazy.top.evaluateAll(context, env);
    return lazy.keys.map((key, i) => lazy.set(i).evaluate(key, context, env));
  }

  evaluateAllJson(contextJson, env) {
    const whole = this.#whole();
    if (whole !== null) return whole.evaluateAllJson(contextJson, env);
    const lazy = this.#lazy;
    if (lazy.keys.length === 0) return lazy.top.evaluateAllJson(contextJson, env);
    return `[${lazy.keys.map((key, i) => lazy.set(i).evaluateJson(key, contextJson, env)).join(",")}]`;
  }

  evaluateAllPrepared(prepared, env) {
    const whole = this.#whole();
    if (whole !== null) return whole.evaluateAllPrepared(prepared, env);
    const lazy = this.#lazy;
    if (lazy.keys.length === 0) return lazy.top.evaluateAllPrepared(prepared, env);
    return lazy.keys.map((key, i) => lazy.set(i).evaluatePrepared(key, prepared, env));
  }

  /** A handle on one flag, as `FlagSet.flag`: resolved once per load, follows `replace`. */
  flag(flagKey, env) {
    return new ValidatedHandle(flagKey, env, () => this.#generation, (key, e) => this.#for(key).flag(key, e));
  }
}

class ValidatedHandle {
  #generation;
  #handleOf;
  #seen = -1;
  #handle = null;
  constructor(key, env, generation, handleOf) {
    this.key = key;
    this.env = env ?? null;
    this.#generation = generation;
    this.#handleOf = handleOf;
    Object.freeze(this);
  }

  evaluate(context) {
    const generation = this.#generation();
    if (this.#seen !== generation) {
      this.#handle = this.#handleOf(this.key, this.env ?? undefined);
      this.#seen = generation;
    }
    return this.#handle.evaluate(context);
  }
}

/** `FlagSet.loadValidated(text, checksum)`: see `ValidatedFlagSet`. */
FlagSet.loadValidated = (text, checksum) => ValidatedFlagSet.load(text, checksum);
