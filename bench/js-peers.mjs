// edgeflag against the pure-JS (and Flipt's Rust→WASM) flag SDKs, all in one Node process and
// one run, with the same logical flags (bench/peers/workloads.mjs) and a new user on every call.
//
//   scripts/build-wasm.sh && node bench/js-peers.mjs            # full run (~2 minutes)
//   node bench/js-peers.mjs --quick                             # smoke run (seconds; CI)
//   node bench/js-peers.mjs --pkg target/pkg-baseline           # another build of the package
//   node bench/js-peers.mjs --cold-only                         # only the cold starts
//
// Prints markdown tables: ns per call for one flag, µs per evaluate-all over 100 flags (best of
// 5 rounds; the rounds go round-robin over the systems, so a change in the machine's load hits
// them alike, and time is the process's CPU time, not the wall clock, which a busy shared
// machine stretches), ms of cold start for 1,000 flags (median of 5 fresh processes, wall
// clock, import to first answer), and edgeflag's UnleashSet against the Unleash Node SDK.
// Ratios are against the fastest peer in the same run. Peers: flagd-core (interpreter mode),
// GrowthBook, unleash-client, Flipt.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import * as W from "./peers/workloads.mjs";
import * as S from "./peers/node-systems.mjs";
import { bestNs, median, table } from "./peers/measure.mjs";
import { hasLoadValidated, manifestChecksums, takesXxh64 } from "./peers/manifest.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
// --cold-only: only the cold starts (Node and workerd).
const coldOnly = args.includes("--cold-only");
const pkgArg = args.indexOf("--pkg");
const pkgDir = path.resolve(root, pkgArg >= 0 ? args[pkgArg + 1] : "wasm/pkg");
const rounds = quick ? 1 : 5;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const timing = { rounds: 1, roundMs: quick ? 3 : 60, now: cpuMs };
/** Best ns per call of each system, rounds round-robin over the systems. */
function compare(cases) {
  const best = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(cases)) best[name] = Math.min(best[name] ?? Infinity, bestNs(fn, keys, timing));
  }
  return best;
}
const keys = W.userKeys(quick ? 256 : 4096);
const log = (...a) => console.error(...a); // progress on stderr, tables on stdout

// ---- edgeflag's paths ------------------------------------------------------------------------
async function edgeflag(n) {
  const mod = await import(pathToFileURL(path.join(pkgDir, "node.js")).href);
  const set = new mod.FlagSet(W.edgeflagFile(n));
  const ctx = (u) => ({ targetingKey: u, ...W.USER });
  const handles = typeof set.flag === "function";
  return {
    // Recommended: a flag handle resolved once (key and environment), the context a plain
    // object per call. Builds without handles: a PreparedContext per user, then evaluatePrepared.
    recommended: {
      name: "edgeflag",
      one: handles
        ? (key) => {
            const flag = set.flag(key);
            return (u) => flag.evaluate(ctx(u)).value;
          }
        : (key) => (u) => {
            const prepared = new mod.PreparedContext(ctx(u));
            const value = set.evaluatePrepared(key, prepared).value;
            prepared.free();
            return value;
          },
      all: handles ? () => (u) => set.evaluateAll(ctx(u)) : () => (u) => JSON.parse(set.evaluateAllJson(JSON.stringify(ctx(u)))),
    },
    // Per request: the plain API, key and object in, object out.
    perRequest: {
      name: "edgeflag evaluate(key, object)",
      one: (key) => (u) => set.evaluate(key, ctx(u)).value,
      all: () => (u) => set.evaluateAll(ctx(u)),
    },
    mod,
  };
}

const PEERS = [S.flagd, S.growthbook, S.unleash, S.flipt];
const OURS = ["edgeflag", "edgeflag evaluate(key, object)"];

// ---- per call, one flag ------------------------------------------------------------------------
log(`package: ${path.relative(root, pkgDir)}; Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
const ef = await edgeflag(4);
const peers = [];
for (const make of PEERS) peers.push(await make(4));
const systems = [ef.recommended, ef.perRequest, ...peers];
const perCall = {};
for (const key of coldOnly ? [] : W.SHAPES) {
  perCall[key] = compare(Object.fromEntries(systems.map((s) => [s.name, s.one(key)])));
  log(`${key}: ${JSON.stringify(perCall[key], (_, v) => (typeof v === "number" ? Math.round(v) : v))}`);
}
for (const p of peers) p.stop?.();

// ---- evaluate-all, 100 flags -----------------------------------------------------------------
const all100 = {};
if (!coldOnly) {
  const ef100 = await edgeflag(100);
  const peers100 = [];
  for (const make of PEERS) peers100.push(await make(100));
  const row = compare(Object.fromEntries([ef100.recommended, ef100.perRequest, ...peers100].map((s) => [s.name, s.all()])));
  log(`all 100: ${JSON.stringify(row, (_, v) => (typeof v === "number" ? Math.round(v) : v))}`);
  all100["all 100 flags, one user"] = row;
  for (const p of peers100) p.stop?.();
}

// ---- Unleash entry vs the Unleash Node SDK ------------------------------------------------
const unleashRows = {};
if (coldOnly) {
  // only the cold starts
} else if (!existsSync(path.join(pkgDir, "unleash/node.js"))) {
  log("no unleash/ in the package (EDGEFLAG_WASM_LEAN build): Unleash table skipped");
} else {
  const mod = await import(pathToFileURL(path.join(pkgDir, "unleash/node.js")).href);
  const payload = W.unleashPayload(300 - 300 % 4); // the four shapes among 296 others
  const sdk = await S.unleash(300 - 300 % 4);
  let ours;
  if (typeof mod.UnleashSet === "function") {
    const set = new mod.UnleashSet(payload);
    ours = (key) =>
      W.unleashIsVariant(key) ? (u) => set.getVariant(key, W.unleashContext(u)).name : (u) => set.isEnabled(key, W.unleashContext(u));
  } else {
    // Builds without a loaded set: the payload is parsed on every call.
    const text = JSON.stringify(payload);
    ours = (key) => (u) => JSON.parse(mod.evaluateUnleash(text, JSON.stringify(W.unleashContext(u)), key)).enabled;
  }
  const names = W.flagKeys(296);
  for (const shape of W.SHAPES) {
    const key = names.find((k) => k.startsWith(shape));
    unleashRows[shape] = compare({ "edgeflag UnleashSet": ours(key), "unleash-client": sdk.one(key) });
    log(`unleash ${shape}: ${JSON.stringify(unleashRows[shape])}`);
  }
  sdk.stop();
}

// ---- cold start, 1,000 flags, fresh processes ---------------------------------------------
const cold = {};
let workerdCold = null;
if (!quick || args.includes("--cold")) {
  const dir = path.join(root, "target/edgeflag-bench");
  mkdirSync(dir, { recursive: true });
  const files = {
    edgeflag: ["edgeflag.json", W.edgeflagFile(1000)],
    flagd: ["flagd.json", W.flagdConfig(1000)],
    growthbook: ["growthbook.json", W.growthbookPayload(1000)],
    unleash: ["unleash.json", W.unleashPayload(1000)],
    flipt: ["flipt.json", W.fliptSnapshot(1000)],
  };
  for (const [name, text] of Object.values(files)) writeFileSync(path.join(dir, name), JSON.stringify(text));
  const at = (name) => JSON.stringify(path.join(dir, name));
  const url = (p) => JSON.stringify(pathToFileURL(p).href);
  const ctx = JSON.stringify({ targetingKey: "user-1", ...W.USER });
  // The checksum the server publishes with the file (/edge/manifest.json `xxh64`, checked in
  // the module), for loadValidated; a build from before the xxh64 (--pkg) takes the SHA-256.
  const published = manifestChecksums(JSON.stringify(files.edgeflag[1]));
  const checksum = takesXxh64(pkgDir) ? published.xxh64 : published.sha256;
  // Each script: read the file (not timed), then import → load → first answer (timed).
  const scripts = {
    edgeflag: `const text = readFileSync(${at("edgeflag.json")}, "utf8"); const t0 = performance.now();
      const { FlagSet } = await import(${url(path.join(pkgDir, "node.js"))});
      const answer = new FlagSet(text).evaluate("rules-5-2", ${ctx}).value;`,
    // The server-validated file, flags loaded on first use (builds since 2026-12-02).
    ...(hasLoadValidated(pkgDir) && {
      "edgeflag loadValidated": `const text = readFileSync(${at("edgeflag.json")}, "utf8"); const t0 = performance.now();
      const { FlagSet } = await import(${url(path.join(pkgDir, "node.js"))});
      const set = await FlagSet.loadValidated(text, ${JSON.stringify(checksum)}); if (!set.lazy) throw new Error("the checksum was not taken: the checked load ran");
      const answer = set.evaluate("rules-5-2", ${ctx}).value;`,
    }),
    "flagd-core": `const text = readFileSync(${at("flagd.json")}, "utf8"); const t0 = performance.now();
      const { FlagdCore } = await import("@openfeature/flagd-core");
      const core = new FlagdCore(undefined, undefined, { disableDynamicCodeGeneration: true }); core.setConfigurations(text);
      const answer = core.resolveBooleanEvaluation("rules-5-2", false, ${ctx}).value;`,
    GrowthBook: `const text = readFileSync(${at("growthbook.json")}, "utf8"); const t0 = performance.now();
      const { GrowthBookClient } = await import("@growthbook/growthbook");
      const client = new GrowthBookClient().initSync({ payload: JSON.parse(text) });
      const answer = client.evalFeature("rules-5-2", { attributes: ${JSON.stringify(W.growthbookAttributes("user-1"))} }).value;`,
    "unleash-client": `const text = readFileSync(${at("unleash.json")}, "utf8"); const t0 = performance.now();
      const { Unleash, InMemStorageProvider } = await import("unleash-client");
      const client = new Unleash({ appName: "cold", url: "http://127.0.0.1:9/api/", refreshInterval: 0, disableMetrics: true,
        skipInstanceCountWarning: true, storageProvider: new InMemStorageProvider(), bootstrap: { data: JSON.parse(text).features } });
      client.on("error", () => {}); client.on("warn", () => {});
      await new Promise((r) => (client.isSynchronized?.() ? r() : client.once("ready", r)));
      const answer = client.isEnabled("rules-5-2", ${JSON.stringify(W.unleashContext("user-1"))}); client.destroy();`,
    Flipt: `const text = readFileSync(${at("flipt.json")}, "utf8"); const t0 = performance.now();
      const { FliptClient } = await import("@flipt-io/flipt-client-js");
      const client = await FliptClient.init({ namespace: "default", url: "http://127.0.0.1:9", updateInterval: 1e6,
        fetcher: async () => ({ ok: true, status: 200, statusText: "OK", headers: { get: () => null }, json: async () => JSON.parse(text) }) });
      const answer = client.evaluateBoolean({ flagKey: "rules-5-2", entityId: "user-1", context: ${JSON.stringify(W.fliptContext())} }).enabled;`,
  };
  const samples = quick ? 1 : 5;
  const row = {};
  const cpuRow = {};
  for (const [name, body] of Object.entries(scripts)) {
    const script = `import { readFileSync } from "node:fs"; import { performance } from "node:perf_hooks";
      const u0 = process.cpuUsage(); const cpu0 = (u0.user + u0.system) / 1000;
      ${body}
      const ms = performance.now() - t0;
      const u = process.cpuUsage();
      console.log(JSON.stringify({ ms, cpuMs: (u.user + u.system) / 1000 - cpu0, answer }));
      process.exit(0);`;
    const times = [];
    const cpu = [];
    for (let i = 0; i < samples; i++) {
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      const { ms, cpuMs, answer } = JSON.parse(out.trim().split("\n").pop());
      if (typeof answer !== "boolean") throw new Error(`${name}: cold start answered ${answer}`);
      times.push(ms);
      cpu.push(cpuMs);
    }
    row[name] = median(times);
    cpuRow[name] = median(cpu);
    log(`cold ${name}: ${median(times).toFixed(1)} ms wall, ${median(cpu).toFixed(1)} ms CPU`);
  }
  // Wall clock is what a user waits; on a busy machine the process's CPU time (all its
  // threads, from before the import) is the steadier comparison.
  cold["cold start, 1,000 flags: import → load → first answer (wall clock)"] = row;
  cold["same, CPU time of the process"] = cpuRow;

  // workerd: a fresh process per sample; the worker times its own first request
  // (bench/workerd-cold: instantiate the module workerd compiled, load the same 1,000 flags).
  mkdirSync(path.join(root, "target/edgeflag-wasm"), { recursive: true });
  writeFileSync(path.join(root, "target/edgeflag-wasm/flags-1000.json"), JSON.stringify(W.edgeflagFile(1000)));
  const { startWorkerd } = await import("../tests/js/workerd.mjs");
  const modes = { checked: "" };
  if (hasLoadValidated(pkgDir)) modes.loadValidated = `?checksum=${checksum}`;
  workerdCold = {};
  for (const [mode, query] of Object.entries(modes)) {
    const wd = [];
    for (let i = 0; i < samples; i++) {
      const server = await startWorkerd(path.join(root, "bench/workerd-cold/config.capnp"));
      try {
        const timing = await (await fetch(server.base + query)).json();
        if (mode === "loadValidated" && timing.lazyAtLoad !== true) throw new Error("workerd: the checksum was not taken: the checked load ran");
        wd.push(timing);
      } finally {
        await server.stop();
      }
    }
    workerdCold[mode] = {
      instantiateMs: median(wd.map((w) => w.instantiateMs)),
      loadMs: median(wd.map((w) => w.loadMs)),
      bothMs: median(wd.map((w) => w.instantiateMs + w.loadMs)),
      firstMs: median(wd.map((w) => w.firstEvaluateMs ?? NaN)),
      firstAllMs: median(wd.map((w) => w.firstEvaluateAllMs)),
      samples,
    };
  }
  log(`workerd cold: ${JSON.stringify(workerdCold)}`);
}

// ---- report ----------------------------------------------------------------------------------
const peerNames = peers.map((p) => p.name);
if (!coldOnly) {
  console.log(table("Per call, one flag, a new user each call", perCall, { ours: OURS, peers: peerNames }));
  console.log();
  console.log(table("Evaluate all 100 flags for one user", all100, { ours: OURS, peers: peerNames, unit: "µs" }));
}
if (Object.keys(cold).length) {
  console.log();
  console.log(table("Cold start in a new Node process", cold, { ours: ["edgeflag", "edgeflag loadValidated"].filter((o) => o in cold["same, CPU time of the process"]), peers: peerNames, unit: "ms" }));
}
if (workerdCold) {
  console.log();
  for (const [mode, w] of Object.entries(workerdCold)) {
    console.log(
      `workerd, ${mode === "checked" ? "new FlagSet(text)" : "FlagSet.loadValidated(text, xxh64)"} (median of ${w.samples} fresh processes): instantiate ` +
        `${w.instantiateMs.toFixed(1)} ms + load 1,000 flags ${w.loadMs.toFixed(1)} ms = ${w.bothMs.toFixed(1)} ms (goal <= 10 ms); ` +
        `then the first evaluate ${w.firstMs.toFixed(1)} ms, the first evaluateAll over them ${w.firstAllMs.toFixed(1)} ms. Local workerd's clock runs during execution, in whole ms.`,
    );
  }
}
if (Object.keys(unleashRows).length) console.log();
if (Object.keys(unleashRows).length) console.log(table("Unleash toggles (296-toggle payload), per call", unleashRows, { ours: ["edgeflag UnleashSet"], peers: ["unleash-client"] }));
console.log();
console.log(`Stand-ins: ${W.STAND_INS.join("; ")}.`);
console.log(`Per call: best of ${rounds} rounds of CPU time, a new user on every call. Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, package ${path.relative(root, pkgDir)}.`);
process.exit(0);
