// Timing and tables shared by the Node, Chromium and workerd runs of the peer benchmark.
// No imports: runs as is in all three. `now` is performance.now (ms).

let lastAnswer; // every answer is stored here, so no engine can skip work whose result is unused
export const keep = () => lastAnswer;

/**
 * Best ns per call over `rounds` rounds. `fn(userKey)` is called with a new user each call
 * (the keys cycle; `keys.length` must be a power of two). Each round runs about `roundMs`.
 */
export function bestNs(fn, keys, { rounds = 5, roundMs = 60, now = () => performance.now() } = {}) {
  const mask = keys.length - 1;
  // Warm up (JIT tiers) and calibrate the iteration count.
  let iterations = 256;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < iterations; i++) lastAnswer = fn(keys[i & mask]);
    const ms = now() - t0;
    if (ms > roundMs / 4 || iterations >= 1 << 24) {
      iterations = Math.max(64, Math.round((iterations * roundMs) / Math.max(ms, 0.001)));
      break;
    }
    iterations *= 4;
  }
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const t0 = now();
    for (let i = 0; i < iterations; i++) lastAnswer = fn(keys[i & mask]);
    best = Math.min(best, ((now() - t0) * 1e6) / iterations);
  }
  return best;
}

const fmt = (ns, unit) => {
  if (!Number.isFinite(ns)) return "n/a";
  if (unit === "µs") return (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
  if (unit === "ms") return ns.toFixed(ns < 10 ? 2 : 1);
  return ns < 100 ? ns.toFixed(1) : Math.round(ns).toLocaleString("en-US");
};

/**
 * A markdown table: one row per workload, one column per system, then the fastest peer and
 * each edgeflag column's ratio to it. `results[workload][system] = ns` (or ms for "ms" units).
 */
export function table(title, results, { ours, peers, unit = "ns" }) {
  const workloads = Object.keys(results);
  const head = ["workload", ...ours, ...peers, "fastest peer", ...ours.map((o) => `${o} / fastest`)];
  const lines = [`${title} (${unit}${unit === "ms" ? "" : "/call"}; lower is better)`, "", `| ${head.join(" | ")} |`, `|${head.map((_, i) => (i ? "---:" : "---")).join("|")}|`];
  for (const w of workloads) {
    const r = results[w];
    const present = peers.filter((p) => Number.isFinite(r[p]));
    const fastest = present.reduce((a, p) => (a === null || r[p] < r[a] ? p : a), null);
    const cells = [w, ...ours.map((o) => fmt(r[o], unit)), ...peers.map((p) => fmt(r[p], unit))];
    cells.push(fastest ? `${fastest} ${fmt(r[fastest], unit)}` : "n/a");
    for (const o of ours) cells.push(fastest && Number.isFinite(r[o]) ? `${(r[o] / r[fastest]).toFixed(2)}×` : "n/a");
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Median of a list of numbers. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
