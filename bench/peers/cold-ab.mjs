// Cold start of two (or more) builds of the package, alternating in one run: a new Node
// process per sample (import -> load 1,000 flags -> first answer, CPU time of the process and
// wall clock, as bench/js-peers.mjs --cold-only measures it) with GrowthBook beside them, then
// the same builds in real workerd (bench/workerd-cold). On a shared machine only the ratios
// within one run are worth reading. A build with `validated.js` is also measured through
// `FlagSet.loadValidated(text, sha256)` (the server-validated, lazy load), named "<dir> loadValidated",
// and, when it takes the manifest's `xxh64` too, with that ("<dir> loadValidated xxh64").
//
//   node bench/peers/cold-ab.mjs [--rounds 9] target/pkg-before wasm/pkg
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import * as W from "./workloads.mjs";
import { median } from "./measure.mjs";
import { hasLoadValidated, manifestChecksums, takesXxh64 } from "./manifest.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 9;
const pkgs = args.map((p) => path.resolve(root, p));
if (pkgs.length === 0) throw new Error("usage: node bench/peers/cold-ab.mjs [--rounds N] PKG_DIR...");

const dir = path.join(root, "target/cold-ab");
mkdirSync(dir, { recursive: true });
const flagsFile = path.join(dir, "flags-1000.json");
writeFileSync(flagsFile, JSON.stringify(W.edgeflagFile(1000)));
const gbFile = path.join(dir, "growthbook.json");
writeFileSync(gbFile, JSON.stringify(W.growthbookPayload(1000)));
const ctx = JSON.stringify({ targetingKey: "user-1", ...W.USER });
// The checksums the server publishes with the file (/edge/manifest.json), for loadValidated.
const { sha256, xxh64: checksum } = manifestChecksums(readFileSync(flagsFile));
const validated = hasLoadValidated;

const bodies = Object.fromEntries(pkgs.map((p) => [path.relative(root, p), `const text = readFileSync(${JSON.stringify(flagsFile)}, "utf8"); const t0 = performance.now();
  const { FlagSet } = await import(${JSON.stringify(pathToFileURL(path.join(p, "node.js")).href)});
  const answer = new FlagSet(text).evaluate("rules-5-2", ${ctx}).value;`]));
// Builds with FlagSet.loadValidated: also the server-validated (lazy) load.
for (const p of pkgs.filter(validated)) {
  bodies[`${path.relative(root, p)} loadValidated`] = `const text = readFileSync(${JSON.stringify(flagsFile)}, "utf8"); const t0 = performance.now();
  const { FlagSet } = await import(${JSON.stringify(pathToFileURL(path.join(p, "node.js")).href)});
  const answer = (await FlagSet.loadValidated(text, ${JSON.stringify(sha256)})).evaluate("rules-5-2", ${ctx}).value;`;
}
for (const p of pkgs.filter(takesXxh64)) {
  bodies[`${path.relative(root, p)} loadValidated xxh64`] = `const text = readFileSync(${JSON.stringify(flagsFile)}, "utf8"); const t0 = performance.now();
  const { FlagSet } = await import(${JSON.stringify(pathToFileURL(path.join(p, "node.js")).href)});
  const set = await FlagSet.loadValidated(text, ${JSON.stringify(checksum)}); if (!set.lazy) throw new Error("xxh64 not taken");
  const answer = set.evaluate("rules-5-2", ${ctx}).value;`;
}
bodies.GrowthBook = `const text = readFileSync(${JSON.stringify(gbFile)}, "utf8"); const t0 = performance.now();
  const { GrowthBookClient } = await import("@growthbook/growthbook");
  const client = new GrowthBookClient().initSync({ payload: JSON.parse(text) });
  const answer = client.evalFeature("rules-5-2", { attributes: ${JSON.stringify(W.growthbookAttributes("user-1"))} }).value;`;

const node = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, body] of Object.entries(bodies)) {
    const script = `import { readFileSync } from "node:fs"; import { performance } from "node:perf_hooks";
      const u0 = process.cpuUsage(); const cpu0 = (u0.user + u0.system) / 1000;
      ${body}
      const ms = performance.now() - t0; const u = process.cpuUsage();
      console.log(JSON.stringify({ ms, cpuMs: (u.user + u.system) / 1000 - cpu0, answer }));
      process.exit(0);`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    const sample = JSON.parse(out.trim().split("\n").pop());
    if (typeof sample.answer !== "boolean") throw new Error(`${name}: answered ${sample.answer}`);
    (node[name] ??= []).push(sample);
  }
}
console.log(`Node ${process.version}, ${rounds} rounds, medians (ms):`);
for (const [name, xs] of Object.entries(node)) {
  console.log(`  ${name.padEnd(36)} CPU ${median(xs.map((x) => x.cpuMs)).toFixed(1).padStart(7)}   wall ${median(xs.map((x) => x.ms)).toFixed(1).padStart(7)}`);
}

// workerd: each build in its own copy of bench/workerd-cold, alternating.
const { startWorkerd } = await import("../../tests/js/workerd.mjs");
const config = readFileSync(path.join(root, "bench/workerd-cold/config.capnp"), "utf8")
  .replaceAll("../../wasm/pkg/", "edgeflag/")
  .replace("../../target/edgeflag-wasm/flags-1000.json", "flags-1000.json");
const workers = pkgs.map((p, i) => {
  const d = path.join(dir, `workerd-${i}`);
  mkdirSync(path.join(d, "edgeflag"), { recursive: true });
  for (const f of ["edgeflag_wasm.js", "fast.js", "validated.js", "edgeflag_wasm_bg.wasm"]) {
    if (existsSync(path.join(p, f))) cpSync(path.join(p, f), path.join(d, "edgeflag", f));
  }
  cpSync(path.join(root, "bench/workerd-cold/worker.js"), path.join(d, "worker.js"));
  cpSync(flagsFile, path.join(d, "flags-1000.json"));
  // A build without validated.js: its module line goes (workerd refuses a missing file).
  writeFileSync(path.join(d, "config.capnp"), validated(p) ? config : config.split("\n").filter((l) => !l.includes("validated.js")).join("\n"));
  const name = path.relative(root, p);
  const file = path.join(d, "config.capnp");
  const rows = [[name, file, ""]];
  if (validated(p)) rows.push([`${name} loadValidated`, file, `?checksum=${sha256}`]);
  if (takesXxh64(p)) rows.push([`${name} loadValidated xxh64`, file, `?checksum=${checksum}`]);
  return rows;
}).flat();
const wd = {};
for (let r = 0; r < Math.min(rounds, 7); r++) {
  for (const [name, file, query] of workers) {
    const server = await startWorkerd(file);
    try {
      (wd[name] ??= []).push(await (await fetch(server.base + query)).json());
    } finally {
      await server.stop();
    }
  }
}
console.log("workerd (whole ms), medians:");
for (const [name, xs] of Object.entries(wd)) {
  const m = (f) => median(xs.map(f));
  console.log(`  ${name.padEnd(36)} instantiate ${m((x) => x.instantiateMs)}   load 1,000 flags ${m((x) => x.loadMs)}   instantiate + load ${m((x) => x.instantiateMs + x.loadMs)}   first evaluate ${m((x) => x.firstEvaluateMs ?? NaN)}   first evaluateAll ${m((x) => x.firstEvaluateAllMs)}`);
}
