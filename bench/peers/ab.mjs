// A/B of builds of the package in one process, rounds interleaved so that a change in the
// machine's load hits every build alike; CPU time (process.cpuUsage), best of the rounds.
//   node bench/peers/ab.mjs target/pkg-a target/pkg-b ...
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as W from "./workloads.mjs";
import { bestNs } from "./measure.mjs";

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const keys = W.userKeys(4096);
const ctx = (u) => ({ targetingKey: u, ...W.USER });
const builds = [];
for (const dir of process.argv.slice(2)) {
  const mod = await import(pathToFileURL(path.resolve(dir, "node.js")).href);
  const one = new mod.FlagSet(W.edgeflagFile(4));
  const all = new mod.FlagSet(W.edgeflagFile(100));
  const cases = {};
  for (const key of W.SHAPES) cases[key] = (u) => one.evaluate(key, ctx(u));
  cases["all-100"] = (u) => all.evaluateAll(ctx(u));
  builds.push({ dir, cases, best: {} });
}
for (let round = 0; round < 5; round++) {
  for (const b of builds) {
    for (const [name, fn] of Object.entries(b.cases)) {
      const ns = bestNs(fn, keys, { rounds: 1, roundMs: 40, now: cpuMs });
      b.best[name] = Math.min(b.best[name] ?? Infinity, ns);
    }
  }
}
const names = Object.keys(builds[0].cases);
console.log(["build", ...names].join("\t"));
for (const b of builds) console.log([b.dir, ...names.map((n) => b.best[n].toFixed(0))].join("\t"));
