// A form edit in a 5,000-flag file, in headless Chromium: the time from the input's change
// event to the next frame (what the admin feels per edit), and, for builds that write the text
// once edits pause, when the problems list and draft state follow. Several builds of the
// dashboard alternate in one run (this machine is shared: read the ratios, not the times).
//   node bench/form-edit-5000.mjs dist [other-dist ...]
// Needs `cargo build -p edgeflag-cli --bin edgeflag` and the dashboards built.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

import { generatedFlagFile } from '../tests/e2e/generated-flags.mjs';

const dists = process.argv.slice(2).map((d) => resolve(d));
if (dists.length === 0) throw new Error('usage: node bench/form-edit-5000.mjs DIST [DIST ...]');
const dir = mkdtempSync(join(tmpdir(), 'edgeflag-form-bench-'));
const big = generatedFlagFile(5000);
const file = join(dir, 'big.json');
writeFileSync(file, JSON.stringify(big, null, 2));

async function serve(dist, port) {
  const child = spawn('target/debug/edgeflag', ['serve', '--addr', `127.0.0.1:${port}`, '--flags', 'examples/flags.json',
    '--static-dir', dist, '--data-dir', mkdtempSync(join(dir, 'data-'))], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/api/flags`)).ok) return child; } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('server did not start');
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const results = Object.fromEntries(dists.map((d) => [d, []]));
for (let round = 0; round < 3; round++) {
  for (const [k, dist] of dists.entries()) {
    const port = 18500 + k;
    const server = await serve(dist, port);
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForSelector('nav.tabs');
      await page.click('nav.tabs button[data-page="Load / export"]');
      await page.setInputFiles('[data-testid=import-file]', file);
      await page.click('nav.tabs button[data-page="Flags"]');
      await page.waitForFunction(() => document.querySelector('[data-testid=match-count]')?.textContent.includes('of 5000'));
      await page.fill('[data-testid=flag-search]', 'flag-2500');
      await page.click('table.flags button.link:text-is("flag-2500")');
      await page.waitForSelector('input[aria-label="Rollout in percent"]');
      const times = await page.evaluate(async () => {
        const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        const out = [];
        for (let i = 0; i < 8; i++) {
          // Looked up each time: a build may render the field anew after an edit.
          const input = document.querySelector('input[aria-label="Rollout in percent"]');
          const t0 = performance.now();
          input.value = String(10 + i);
          input.dispatchEvent(new Event('change', { bubbles: true }));
          await frame();
          out.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 600)); // past any pause-triggered write
        }
        return out;
      });
      const rollout = await page.evaluate(() => document.querySelector('input[aria-label="Rollout in percent"]').value);
      if (rollout !== '17') throw new Error(`the last edit did not stick: ${rollout}`);
      results[dist].push(...times);
      await page.close();
    } finally {
      server.kill(); // also when a run fails: a server left behind would hold the port
    }
  }
}
await browser.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results[dists[0]]);
for (const d of dists) {
  const m = median(results[d]);
  console.log(`${d}: change event to next frame, median ${m.toFixed(1)} ms, max ${Math.max(...results[d]).toFixed(1)} ms (${(m / base).toFixed(2)}x the first build)`);
}
