// A shorter side-by-side for working on the fast path: edgeflag's two paths against
// flagd-core and GrowthBook only (the two fastest peers), one flag per shape and
// evaluate-all over 100 flags.   node bench/peers/quick-compare.mjs [pkg-dir ...]
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as W from "./workloads.mjs";
import * as S from "./node-systems.mjs";
import { bestNs } from "./measure.mjs";

const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ["wasm/pkg"];
const keys = W.userKeys(4096);
const timing = { rounds: 5, roundMs: 40 };
const rows = [];
for (const dir of dirs) {
  const mod = await import(pathToFileURL(path.resolve(dir, "node.js")).href);
  const set = new mod.FlagSet(W.edgeflagFile(4));
  const all = new mod.FlagSet(W.edgeflagFile(100));
  const ctx = (u) => ({ targetingKey: u, ...W.USER });
  for (const key of W.SHAPES) {
    const h = set.flag ? set.flag(key) : null;
    if (h) rows.push([dir, "flag(key).evaluate", key, bestNs((u) => h.evaluate(ctx(u)), keys, timing)]);
    rows.push([dir, "evaluate(key, obj)", key, bestNs((u) => set.evaluate(key, ctx(u)), keys, timing)]);
  }
  rows.push([dir, "evaluateAll(obj)", "all-100", bestNs((u) => all.evaluateAll(ctx(u)), keys, timing)]);
}
for (const make of [S.flagd, S.growthbook]) {
  const s = await make(4);
  for (const key of W.SHAPES) rows.push(["peer", s.name, key, bestNs(s.one(key), keys, timing)]);
  const s100 = await make(100);
  rows.push(["peer", s.name, "all-100", bestNs(s100.all(), keys, timing)]);
}
for (const r of rows) console.log(r[0].padEnd(22), r[1].padEnd(20), r[2].padEnd(14), r[3].toFixed(0).padStart(9), "ns");
