// edgeflag's UnleashSet (one or more builds of the package) against the Unleash Node SDK
// (unleash-client), in one process, rounds round-robin over the systems so that a change in
// the machine's load hits them alike; CPU time, best of the rounds. The same 296-toggle
// payload and per-call contexts as bench/js-peers.mjs's Unleash table, a new user per call.
//   node bench/peers/unleash-ab.mjs [pkg-dir ...]          # default: wasm/pkg
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as W from "./workloads.mjs";
import * as S from "./node-systems.mjs";
import { bestNs, table } from "./measure.mjs";

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ["wasm/pkg"];
const keys = W.userKeys(4096);
const timing = { rounds: 1, roundMs: 60, now: cpuMs };
const N = 300 - (300 % 4);
const payload = W.unleashPayload(N);
const names = W.flagKeys(N);

const systems = {};
for (const dir of dirs) {
  const mod = await import(pathToFileURL(path.resolve(dir, "unleash/node.js")).href);
  const set = new mod.UnleashSet(payload);
  systems[`edgeflag ${dir}`] = (key) =>
    W.unleashIsVariant(key) ? (u) => set.getVariant(key, W.unleashContext(u)).name : (u) => set.isEnabled(key, W.unleashContext(u));
}
const sdk = await S.unleash(N);
systems["unleash-client"] = sdk.one;

console.error(`Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
const rows = {};
for (const shape of W.SHAPES) {
  const key = names.find((k) => k.startsWith(shape));
  const fns = Object.fromEntries(Object.entries(systems).map(([name, make]) => [name, make(key)]));
  const best = {};
  for (let round = 0; round < 5; round++) {
    for (const [name, fn] of Object.entries(fns)) best[name] = Math.min(best[name] ?? Infinity, bestNs(fn, keys, timing));
  }
  rows[shape] = best;
}
sdk.stop();
console.error(`load average after ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(table("UnleashSet vs unleash-client, 296-toggle payload, per call", rows, {
  ours: Object.keys(systems).filter((s) => s !== "unleash-client"),
  peers: ["unleash-client"],
}));
