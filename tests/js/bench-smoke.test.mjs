// A short run of the peer benchmark (bench/js-peers.mjs --quick, seconds): CI catches a bench
// that no longer runs (a peer's API, the package's). Its figures mean nothing; the README's
// come from full runs by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { root } from "./helpers.mjs";

test("the peer benchmark runs and prints every table", () => {
  const run = spawnSync(process.execPath, [path.join(root, "bench/js-peers.mjs"), "--quick"], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `exit ${run.status} (${run.signal ?? "no signal"}):\n${run.stderr.slice(-3000)}`);
  const out = run.stdout;
  for (const title of ["Per call, one flag", "Evaluate all 100 flags", "Unleash toggles"]) {
    assert.ok(out.includes(title), `no "${title}" table in:\n${out}`);
  }
  for (const workload of ["static-bool", "rollout-10", "rules-5", "experiment-3", "all 100 flags"]) {
    const row = out.split("\n").find((line) => line.startsWith(`| ${workload}`));
    assert.ok(row, `no ${workload} row`);
    const cells = row.split("|").slice(2, -1).map((c) => c.trim());
    // Every system has a figure: no "n/a" (a peer or a path that failed to run).
    assert.ok(cells.every((c) => c !== "n/a" && c !== ""), `${workload}: ${row}`);
  }
});
