// Seeds the fuzz corpora (fuzz/corpus/<target>/seed-<sha1>) from what the project already has:
// examples/, server/demo/, the Unleash client specification (node_modules/@unleash/
// client-specification), spec/bucketing-vectors.json, and the committed seeds of fuzz/seeds/
// (hand-picked edge cases, and the invalid-file corpus of evaluator/tests/invalid_corpus.rs).
// Idempotent: a seed is named by its content's hash, so rerunning adds nothing new.
//
//   node fuzz/seeds.mjs [corpus-dir]
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const corpus = path.resolve(process.argv[2] ?? path.join(root, "fuzz/corpus"));
const SEPARATOR = Buffer.from([0xff]); // checks::PART_SEPARATOR

const counts = {};
function seed(target, content) {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content, "utf8");
  const dir = path.join(corpus, target);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `seed-${createHash("sha1").update(bytes).digest("hex")}`);
  if (!existsSync(file)) {
    writeFileSync(file, bytes);
    counts[target] = (counts[target] ?? 0) + 1;
  }
}

const read = (p) => readFileSync(path.join(root, p), "utf8");

// Every string and number of a JSON value, for the scalar readers.
function walk(value, visit) {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (value && typeof value === "object") Object.entries(value).forEach(([k, v]) => (visit(k), walk(v, visit)));
  else visit(value);
}
// Number tokens as written (JSON.parse would lose how they were spelled).
const numberTokens = (text) => text.match(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g) ?? [];

const documents = [];
function jsonDocument(text) {
  documents.push(text);
  seed("json_reader", text);
  for (const token of numberTokens(text)) seed("float_reader", token);
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return; // a broken document is a seed as it is
  }
  walk(value, (v) => {
    if (typeof v !== "string") return;
    if (/^\s*\d{4}-\d\d-\d\d/.test(v)) seed("rfc3339_reader", v);
    if (/^\s*[-+.\d]/.test(v) && v.length < 64) seed("float_reader", v);
  });
}

// Flag files: the example, the demo, and the committed ones (invalid corpus, hand seeds).
for (const file of ["examples/flags.json", "server/demo/flags.json"]) {
  const text = read(file);
  seed("flag_file", text);
  jsonDocument(text);
}

// Contexts of the bucketing vectors (salt and unit as a flag's context would carry them).
const vectors = JSON.parse(read("spec/bucketing-vectors.json"));
jsonDocument(read("spec/bucketing-vectors.json"));
for (const v of vectors.vectors ?? []) {
  seed("context", JSON.stringify({ targetingKey: v.unit, salt: v.salt }));
}

// The Unleash specification: each state is a payload; each test's context goes with it.
const specDir = path.join(root, "node_modules/@unleash/client-specification/specifications");
if (existsSync(specDir)) {
  for (const name of JSON.parse(readFileSync(path.join(specDir, "index.json"), "utf8"))) {
    const text = readFileSync(path.join(specDir, name), "utf8");
    jsonDocument(text);
    const spec = JSON.parse(text);
    const payload = JSON.stringify(spec.state);
    for (const t of [...(spec.tests ?? []), ...(spec.variantTests ?? [])]) {
      const context = JSON.stringify(t.context ?? {});
      seed("unleash", Buffer.concat([Buffer.from(payload), SEPARATOR, Buffer.from(context)]));
      seed("context", context);
    }
  }
} else {
  console.warn(`seeds: ${specDir} missing (npm install); no Unleash seeds`);
}

// The committed seeds, as they are.
const committed = path.join(root, "fuzz/seeds");
for (const target of readdirSync(committed)) {
  for (const file of readdirSync(path.join(committed, target))) {
    const bytes = readFileSync(path.join(committed, target, file));
    seed(target, bytes);
    if (target === "flag_file") jsonDocument(bytes.toString("utf8"));
  }
}

// Two-part flag-file inputs are not needed (the flag_file target evaluates built-in contexts),
// but every document is also a context candidate.
for (const text of documents) seed("context", text);

const summary = Object.entries(counts).map(([t, n]) => `${t} +${n}`).join(", ");
console.log(`seeds: ${summary || "nothing new"} (${corpus})`);
