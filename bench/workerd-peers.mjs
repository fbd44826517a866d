// edgeflag beside GrowthBook inside real workerd (bench/peers/workerd.capnp), the same
// workloads and timing as bench/js-peers.mjs (workerd's performance.now, wall clock).
//   scripts/build-wasm.sh && node bench/workerd-peers.mjs [--quick]
import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { startWorkerd } from "../tests/js/workerd.mjs";
import { table } from "./peers/measure.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const server = await startWorkerd(path.join(root, "bench/peers/workerd.capnp"));
try {
  const res = await fetch(`${server.base}/${quick ? "?quick" : ""}`, { signal: AbortSignal.timeout(900_000) });
  if (!res.ok) throw new Error(`${res.status}: ${await res.text()}\n${server.log()}`);
  const { results } = await res.json();
  const perCall = Object.fromEntries(Object.entries(results).filter(([w]) => !w.startsWith("all")));
  const all = Object.fromEntries(Object.entries(results).filter(([w]) => w.startsWith("all")));
  const ours = ["edgeflag", "edgeflag evaluate(key, object)"];
  console.log(table("workerd, per call, one flag, a new user each call", perCall, { ours, peers: ["GrowthBook"] }));
  console.log();
  console.log(table("workerd, evaluate all 100 flags for one user", all, { ours, peers: ["GrowthBook"], unit: "µs" }));
  console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}.`);
} finally {
  await server.stop();
}
