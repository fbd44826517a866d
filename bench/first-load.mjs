// Bytes the dashboard's first load moves over the wire, in Debian's headless Chromium against
// the real server: the sum of Chromium's encodedDataLength (headers + body as received) of
// every request from navigation until the app is ready and the network is quiet, with an empty
// cache. Measured twice in the same run: dist/ as built (with its .br/.gz variants), and a
// copy of dist/ without them (the server then sends every file as is) as the peer.
//   scripts/build-dashboard.sh && cargo build -p edgeflag-server && node bench/first-load.mjs
// EDGEFLAG_SERVER_BIN picks the server binary (default target/debug/edgeflag-server).
// Fails (exit 1) when the precompressed first load is over the 450 KB goal (issue 13).
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { assert, openPage, ROOT, run, start, stop, tempDir, test } from '../tests/e2e/harness.mjs';

const GOAL_BYTES = 450 * 1000;
const DIST = join(ROOT, 'dist');
const BIN = process.env.EDGEFLAG_SERVER_BIN ?? join(ROOT, 'target/debug/edgeflag-server');

async function measure(staticDir) {
  const { child, match } = await start(BIN, [
    '--static-dir', staticDir, '--addr', '127.0.0.1:0', '--data-dir', tempDir('edgeflag-first-load-'),
    '--flags', join(ROOT, 'examples/flags.json'), '--token', 'first-load-token', '--no-controller',
  ], /listening on (http:\/\/127\.0\.0\.1:\d+)/, 'edgeflag server');
  const base = match[1];
  const { page, pageErrors } = await openPage({ timeout: 30000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const urls = new Map();
  const rows = [];
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, { url: e.response.url, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '-' }));
  cdp.on('Network.loadingFinished', (e) => {
    const r = urls.get(e.requestId) ?? { url: '?', encoding: '-' };
    rows.push({ path: r.url.replace(base, ''), encoding: r.encoding, bytes: e.encodedDataLength });
  });
  await page.goto(base + '/');
  await page.waitForSelector('[data-testid=match-count]');
  await page.waitForLoadState('networkidle');
  await page.context().browser().close();
  await stop(child);
  if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join('; ')}`);
  return rows;
}

function report(title, rows) {
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  console.log(`${title}: ${(total / 1000).toFixed(1)} KB over the wire, ${rows.length} requests`);
  for (const r of [...rows].sort((a, b) => b.bytes - a.bytes)) {
    console.log(`  ${(r.bytes / 1000).toFixed(1).padStart(8)} KB  ${r.encoding.padEnd(4)}  ${r.path}`);
  }
  return total;
}

await run(async () => {
  await test('the dashboard\'s first load moves at most 450 KB over the wire', async () => {
    assert(existsSync(join(DIST, 'index.html')), 'dist/ is not built: run scripts/build-dashboard.sh first');
    const precompressed = report('precompressed (dist/)', await measure(DIST));
    const plain = tempDir('edgeflag-dist-plain-');
    cpSync(DIST, plain, { recursive: true });
    for (const f of readdirSync(plain)) if (/\.(br|gz)$/.test(f)) rmSync(join(plain, f));
    const identity = report('as is (dist/ without .br/.gz)', await measure(plain));
    console.log(`first load: ${(precompressed / 1000).toFixed(1)} KB vs ${(identity / 1000).toFixed(1)} KB as is (${(precompressed / identity).toFixed(2)}x); goal <= ${GOAL_BYTES / 1000} KB`);
    assert(precompressed <= GOAL_BYTES, `${precompressed} B over the ${GOAL_BYTES} B goal`);
  });
});
