// Node benchmark of the WASM package against the native engine measured in the same run.
//   node bench/wasm-bench.mjs        (after scripts/build-wasm.sh)
// Prints evaluations per second for one flag by each JS path, evaluateAll over 100 flags,
// the native figures and the ratios, and a Node cold start (compile + instantiate + load a
// 1,000-flag file).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";

import { FlagSet, PreparedContext } from "../wasm/pkg/node.js";
import { manyFlags, root } from "../tests/js/helpers.mjs";

const FLAG = "checkout-redesign";
const context = { targetingKey: "user-1234", country: "FR", email: "someone@example.com", plan: "pro" };
const contextJson = JSON.stringify(context);
const out = path.join(root, "target/edgeflag-wasm");
mkdirSync(out, { recursive: true });
const manyPath = path.join(out, "flags-100.json");
writeFileSync(manyPath, JSON.stringify(manyFlags(100)));
const thousandPath = path.join(out, "flags-1000.json");
writeFileSync(thousandPath, JSON.stringify(manyFlags(1000)));

/** Best ns per call over 5 rounds. */
function perCall(iterations, fn) {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) fn(); // warm up the JIT
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, ((performance.now() - t0) * 1e6) / iterations);
  }
  return best;
}

const flags = new FlagSet(readFileSync(path.join(root, "examples/flags.json"), "utf8"));
const many = new FlagSet(readFileSync(manyPath, "utf8"));
const prepared = new PreparedContext(context);
let sink = 0;

const wasm = {
  object: perCall(100_000, () => (sink += flags.evaluate(FLAG, context).variant.length)),
  jsonText: perCall(100_000, () => (sink += flags.evaluateJson(FLAG, contextJson).length)),
  prepared: perCall(100_000, () => (sink += flags.evaluatePrepared(FLAG, prepared).variant.length)),
  allObject: perCall(2_000, () => (sink += many.evaluateAll(context).length)),
  allPrepared: perCall(2_000, () => (sink += many.evaluateAllPrepared(prepared).length)),
};

const nativeBin = path.join(root, "target/release/examples/native_bench");
execFileSync("cargo", ["build", "--quiet", "--release", "-p", "edgeflag-wasm", "--example", "native_bench"], { cwd: root, stdio: "inherit" });
const native = JSON.parse(
  execFileSync(nativeBin, [path.join(root, "examples/flags.json"), FLAG, contextJson, manyPath], { encoding: "utf8" }),
);

// Node cold start, in a fresh process: compile + instantiate, then load 1,000 flags.
const coldScript = `
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { initSync, FlagSet } from ${JSON.stringify(path.join(root, "wasm/pkg/edgeflag_wasm.js"))};
const bytes = readFileSync(${JSON.stringify(path.join(root, "wasm/pkg/edgeflag_wasm_bg.wasm"))});
const text = readFileSync(${JSON.stringify(thousandPath)}, "utf8");
let t = performance.now();
const module = new WebAssembly.Module(bytes);
const compileMs = performance.now() - t;
t = performance.now();
initSync({ module });
const instantiateMs = performance.now() - t;
t = performance.now();
const n = new FlagSet(text).flagKeys.length;
console.log(JSON.stringify({ compileMs, instantiateMs, loadMs: performance.now() - t, n, kib: text.length / 1024 }));
`;
const colds = [];
for (let i = 0; i < 5; i++) {
  colds.push(JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", coldScript], { encoding: "utf8" })));
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cold = {
  compileMs: median(colds.map((c) => c.compileMs)),
  instantiateMs: median(colds.map((c) => c.instantiateMs)),
  loadMs: median(colds.map((c) => c.loadMs)),
};

// Cold start in workerd: a fresh process per sample; the worker times its own first request.
const { startWorkerd } = await import("../tests/js/workerd.mjs");
const wd = [];
for (let i = 0; i < 5; i++) {
  const server = await startWorkerd(path.join(root, "bench/workerd-cold/config.capnp"));
  try {
    wd.push(await (await fetch(server.base)).json());
  } finally {
    await server.stop();
  }
}
const wdCold = {
  instantiateMs: median(wd.map((w) => w.instantiateMs)),
  loadMs: median(wd.map((w) => w.loadMs)),
  firstAllMs: median(wd.map((w) => w.firstEvaluateAllMs)),
};

const row = (name, ns, peerNs) =>
  console.log(
    `${name.padEnd(44)} ${(1e9 / ns).toFixed(0).padStart(10)} /s ${ns.toFixed(0).padStart(8)} ns/call` +
      (peerNs ? `   ${(ns / peerNs).toFixed(1)}x native` : ""),
  );
console.log(`one flag (${FLAG}), context with 4 attributes:`);
row("native evaluate (context prepared)", native.oneFlagNs);
row("native parse context JSON + evaluate + to JSON", native.oneFlagJsonNs);
row("wasm evaluate(flag, object)", wasm.object, native.oneFlagNs);
row("wasm evaluateJson(flag, jsonText) -> text", wasm.jsonText, native.oneFlagNs);
row("wasm evaluatePrepared(flag, prepared)", wasm.prepared, native.oneFlagNs);
console.log(`evaluateAll over ${native.allFlags} flags, per call:`);
row("native evaluate_all", native.allNs);
row("wasm evaluateAll(object)", wasm.allObject, native.allNs);
row("wasm evaluateAllPrepared(prepared)", wasm.allPrepared, native.allNs);
console.log(`object path / prepared path, one flag: ${(wasm.object / wasm.prepared).toFixed(2)}x`);
console.log(
  `node cold start (median of 5 processes): compile ${cold.compileMs.toFixed(1)} ms, instantiate ${cold.instantiateMs.toFixed(2)} ms, ` +
    `load 1,000 flags (${colds[0].kib.toFixed(0)} KiB) ${cold.loadMs.toFixed(1)} ms`,
);
console.log(
  `workerd cold start (median of 5 processes): instantiate ${wdCold.instantiateMs.toFixed(2)} ms + load 1,000 flags ${wdCold.loadMs.toFixed(1)} ms ` +
    `= ${(wdCold.instantiateMs + wdCold.loadMs).toFixed(1)} ms; first evaluateAll over 1,000 flags ${wdCold.firstAllMs.toFixed(1)} ms`,
);
if (sink === 42) console.log(""); // keep results alive
