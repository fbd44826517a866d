// The peer bench inside workerd: GET /?quick or / runs it and answers the figures as JSON.
import { FlagSet } from "./edgeflag/edge.js";
import { GrowthBookClient } from "./growthbook.js";
import * as W from "./workloads.mjs";

// workerd's clock stands still while JS runs (it moves between I/O, a Spectre mitigation), so
// each clock reading here comes after a zero-delay timer; rounds are long enough (>= 60 ms
// of work) for the ~1 ms steps of the clock.
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
async function now() {
  await tick();
  return Date.now();
}
let lastAnswer;
async function bestNs(fn, keys, { rounds, roundMs }) {
  const mask = keys.length - 1;
  let iterations = 1024;
  for (;;) {
    const t0 = await now();
    for (let i = 0; i < iterations; i++) lastAnswer = fn(keys[i & mask]);
    const ms = (await now()) - t0;
    if (ms >= roundMs / 2 || iterations >= 1 << 26) {
      iterations = Math.max(1024, Math.round((iterations * roundMs) / Math.max(ms, 1)));
      break;
    }
    iterations *= 4;
  }
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const t0 = await now();
    for (let i = 0; i < iterations; i++) lastAnswer = fn(keys[i & mask]);
    best = Math.min(best, (((await now()) - t0) * 1e6) / iterations);
  }
  return best;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname !== "/") return new Response("ok");
    const quick = url.searchParams.has("quick");
    const timing = { rounds: 1, roundMs: quick ? 10 : 100 };
    const rounds = quick ? 1 : 5;
    const keys = W.userKeys(quick ? 256 : 4096);
    const ctx = (u) => ({ targetingKey: u, ...W.USER });
    const set = new FlagSet(W.edgeflagFile(4));
    const set100 = new FlagSet(W.edgeflagFile(100));
    const gb = new GrowthBookClient().initSync({ payload: W.growthbookPayload(4) });
    const gb100 = new GrowthBookClient().initSync({ payload: W.growthbookPayload(100) });
    const keys100 = W.flagKeys(100);
    const cases = {};
    for (const key of W.SHAPES) {
      const handle = set.flag(key);
      cases[key] = {
        edgeflag: (u) => handle.evaluate(ctx(u)).value,
        "edgeflag evaluate(key, object)": (u) => set.evaluate(key, ctx(u)).value,
        GrowthBook: (u) => gb.evalFeature(key, { attributes: { id: u, ...W.USER } }).value,
      };
    }
    cases["all 100 flags, one user"] = {
      edgeflag: (u) => set100.evaluateAll(ctx(u)),
      "edgeflag evaluate(key, object)": (u) => set100.evaluateAll(ctx(u)),
      GrowthBook: (u) => {
        const user = { attributes: { id: u, ...W.USER } };
        return keys100.map((k) => gb100.evalFeature(k, user));
      },
    };
    const results = {};
    for (let round = 0; round < rounds; round++) {
      for (const [workload, systems] of Object.entries(cases)) {
        results[workload] ??= {};
        for (const [name, fn] of Object.entries(systems)) {
          results[workload][name] = Math.min(results[workload][name] ?? Infinity, await bestNs(fn, keys, timing));
        }
      }
    }
    return Response.json({ results, answered: lastAnswer !== undefined });
  },
};
