// edgeflag beside GrowthBook in headless Chromium (bench/peers/page.html), the same logical
// flags and timing as bench/js-peers.mjs (wall clock here: performance.now in the page).
//   scripts/build-wasm.sh && node bench/browser-peers.mjs [--quick]
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { table } from "./peers/measure.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm" };
const ALLOWED = ["wasm/pkg/", "bench/peers/", "node_modules/@growthbook/growthbook/dist/bundles/"];

const server = http.createServer(async (req, res) => {
  const file = path.resolve(root, decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, ""));
  if (!ALLOWED.some((dir) => file.startsWith(path.join(root, dir)))) return res.writeHead(404).end();
  try {
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(await readFile(file));
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const profile = mkdtempSync(path.join(os.tmpdir(), "edgeflag-bench-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/bench/peers/page.html${quick ? "?quick" : ""}`);
  await page.waitForSelector("body[data-done]", { timeout: 600_000 });
  const done = await page.getAttribute("body", "data-done");
  if (done !== "ok") throw new Error(await page.textContent("#out"));
  const { results, edgeflagLoadMs, growthbookLoadMs, userAgent } = await page.evaluate(() => window.benchResults);
  const perCall = Object.fromEntries(Object.entries(results).filter(([w]) => !w.startsWith("all")));
  const all = Object.fromEntries(Object.entries(results).filter(([w]) => w.startsWith("all")));
  const ours = ["edgeflag", "edgeflag evaluate(key, object)"];
  console.log(table("Chromium, per call, one flag, a new user each call", perCall, { ours, peers: ["GrowthBook"] }));
  console.log();
  console.log(table("Chromium, evaluate all 100 flags for one user", all, { ours, peers: ["GrowthBook"], unit: "µs" }));
  console.log();
  console.log(`Chromium, load 1,000 flags and answer once (module already instantiated): edgeflag ${edgeflagLoadMs.toFixed(1)} ms, GrowthBook ${growthbookLoadMs.toFixed(1)} ms.`);
  console.log(`${userAgent}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}.`);
} finally {
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
