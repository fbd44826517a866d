// Rewrites a built package's Node entry (DIR/node.js) as one ES module: the wasm-bindgen glue,
// fast.js and validated.js inlined in the order Node would evaluate them, then node.js's own
// instantiation. Why: Node's ES module loader costs about 0.4 ms of CPU per file at a cold
// start (resolve, realpath, read, compile, link), and `import "edgeflag"` loaded four; one
// file takes 1.0-1.4 ms off the ~8 ms import (wasm/README.md "Build", the top README's
// "Cold start, 1,000 flags"). The other entries (edge.js,
// web.js) and the separate files stay as they are: workerd and bundlers take modules as listed.
//
// The check after writing: the bundle must export exactly the names the module graph did,
// each of the same kind (function or not), and answer the same for a small file; otherwise
// the build fails and says which names differ.
//
//   node scripts/bundle-node-entry.mjs wasm/pkg   (build-wasm.sh runs it on the core package)
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const dir = path.resolve(process.argv[2] ?? "wasm/pkg");
const read = (f) => readFileSync(path.join(dir, f), "utf8");
const entry = read("node.js");
const HEADER = "// edgeflag Node entry, one module (scripts/bundle-node-entry.mjs inlined the files below).";
if (entry.startsWith(HEADER)) {
  throw new Error(`bundle-node-entry: ${dir}/node.js is already one module; run scripts/build-wasm.sh to start again from wasm/js/node.js`);
}

const GLUE = "./edgeflag_wasm.js";
// What the entry and the inlined files import from each other: only these are inlined.
const LOCAL = new Set([GLUE, "./fast.js", "./validated.js", "./unleash.js"]);

// In the bundle the glue's own `FlagSet` (the module's class) is named `LoadedSet`, as fast.js
// and validated.js import it, and is not exported: the entry exports fast.js's subclass.
function glue(text) {
  let out = text.replace(/\bFlagSet\b(?!Finalization)/g, "LoadedSet").replace("export class LoadedSet", "class LoadedSet");
  // `export *` (what node.js did) never re-exported the glue's default export.
  out = out.replace("export { initSync, __wbg_init as default };", "export { initSync };");
  if (out.includes("__wbg_init as default")) throw new Error("bundle-node-entry: the glue's export line changed");
  return out;
}

/** A file's text without its imports of LOCAL files (checked to be the names in scope). */
function inlined(file) {
  const text = read(file);
  return text.replace(/^import\s*(?:\{([^}]*)\}\s*from\s*)?"([^"]+)";\n/gm, (line, names, from) => {
    if (!LOCAL.has(from)) return line;
    for (const spec of (names ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
      const [name, alias = name] = spec.split(/\s+as\s+/);
      const ok = from === GLUE ? (name === "FlagSet" ? alias === "LoadedSet" : alias === name) : alias === name;
      if (!ok) throw new Error(`bundle-node-entry: ${file} imports ${spec} from ${from}; add a rule for it`);
    }
    return "";
  });
}

const parts = [HEADER, ""];
const external = [];
const body = [];
const order = [GLUE];
for (const line of entry.split("\n")) {
  const from = line.match(/from\s+"([^"]+)";$/)?.[1] ?? line.match(/^import\s+"([^"]+)";$/)?.[1];
  if (from !== undefined && LOCAL.has(from)) {
    if (!order.includes(from)) order.push(from);
  } else if (from !== undefined) {
    external.push(line);
  } else if (!line.startsWith("//") && line.trim() !== "") {
    body.push(line);
  }
}
parts.push(...external, "");
for (const file of order) {
  parts.push(`// ---- ${file.slice(2)}`, file === GLUE ? glue(read("edgeflag_wasm.js")) : inlined(file), "");
}
parts.push("// ---- node.js", ...body, "");

const exportsOf = async (url) => {
  const mod = await import(url);
  const file = { schema_version: 1, flags: [{ key: "a", kind: "boolean", enabled: true, off_variation: "off",
    default_variation: "on", variations: [{ name: "on", value: true }, { name: "off", value: false }] }] };
  const set = new mod.FlagSet(JSON.stringify(file));
  const lazy = await mod.FlagSet.loadValidated(JSON.stringify(file), "0".repeat(64)); // checksum mismatch: checked load
  return {
    names: Object.keys(mod).sort().map((k) => `${k}:${typeof mod[k]}`),
    answer: JSON.stringify([set.evaluate("a", { targetingKey: "u" }), lazy.evaluate("a", { targetingKey: "u" }), mod.hash("s", "u")]),
  };
};
const before = await exportsOf(pathToFileURL(path.join(dir, "node.js")).href);
const tmp = path.join(dir, "node.bundled.js");
writeFileSync(tmp, parts.join("\n"));
let after;
try {
  after = await exportsOf(pathToFileURL(tmp).href);
} finally {
  if (after === undefined) rmSync(tmp, { force: true });
}
if (before.names.join() !== after.names.join() || before.answer !== after.answer) {
  rmSync(tmp, { force: true });
  throw new Error(`bundle-node-entry: the bundle differs from the module graph:\n  before ${before.names.join(" ")} ${before.answer}\n  after  ${after.names.join(" ")} ${after.answer}`);
}
renameSync(tmp, path.join(dir, "node.js"));
console.log(`bundle-node-entry: ${path.relative(process.cwd(), path.join(dir, "node.js"))}: ${order.join(", ")} inlined, ${after.names.length} exports as before`);
