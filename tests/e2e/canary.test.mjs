// End-to-end tests of the canary view's metrics sources, in Debian's headless Chromium against
// the real server (controller off, so only the page judges) and a real Prometheus scraping the
// server's /metrics. Run by scripts/test-dashboard.sh after tests/e2e/dashboard.test.mjs.
// Prints "ok - / not ok - / skip -" per test and "N passed, M failed, K skipped".
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { assert, freePort, openPage, ROOT, run, SHOTS, sleep, start, startServer, stop, tempDir, test, TOKEN } from './harness.mjs';

// EDGEFLAG_PROMETHEUS names another binary (a missing path exercises the skip).
const PROMETHEUS = (process.env.EDGEFLAG_PROMETHEUS ? [process.env.EDGEFLAG_PROMETHEUS] : ['/usr/bin/prometheus', '/usr/local/bin/prometheus'])
  .find((p) => existsSync(p));
const FLAG = 'payment-processor';

async function postEvents(base, events) {
  const posted = await fetch(`${base}/api/metrics/events`, {
    // Only authenticated sources may post; the admin token may (an ingest token would too).
    method: 'POST', body: JSON.stringify({ events }), headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
  });
  assert(posted.status === 202, `POST /api/metrics/events: ${posted.status} ${await posted.text()}`);
}

// `n` events of one arm in one environment, within the last second; `errorEvery` = 0 for none.
function events(env, arm, n, { errorEvery = 0, latency = (i) => 40 + (i % 50) } = {}) {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    ts: now - (i % 1000), flag: FLAG, env, arm, stage: 0,
    outcome: errorEvery && i % errorEvery === 0 ? 'error' : 'ok', latency_ms: latency(i),
  }));
}

// The checks table as {check: {outcome, observed}}.
async function checks(page) {
  return page.$$eval('[data-testid=canary-checks] tbody tr', (rows) => Object.fromEntries(rows.map((r) => {
    const cells = [...r.querySelectorAll('td')].map((td) => td.textContent.trim());
    return [cells[0], { outcome: cells[1], observed: cells[2] }];
  })));
}

const healthText = (page) => page.textContent('[data-testid=canary-health]').then((t) => t.trim());

async function selectCanary(page, env) {
  await page.click('nav.tabs button[data-page="Canary"]');
  await page.selectOption('[data-testid=canary-flag]', FLAG);
  await page.selectOption('[data-testid=canary-env]', env);
}

async function main() {
  const base = await startServer(['--flags', join(ROOT, 'examples/flags.json'), '--no-controller']);
  const { page, pageErrors } = await openPage({ height: 900, timeout: 15000 });
  await page.goto(base + '/');
  await page.waitForSelector('[data-testid=match-count]');

  await test('/api/metrics latency histograms let the page compare latency with the baseline', async () => {
    // Same latency distribution in both arms, no canary errors against 5 % in the baseline:
    // every check can pass, with enough traffic for the sequential bounds to prove it (the p99
    // gate needs about 1,000 requests; the error comparison, whose margin is 0, passes only for
    // a canary credibly better than its baseline).
    await postEvents(base, [...events('prod', 'canary', 2000), ...events('prod', 'baseline', 6000, { errorEvery: 20 })]);
    const report = await (await fetch(`${base}/api/metrics?flag=${FLAG}&env=prod&window=5m`)).json();
    const buckets = report.arms.canary.summary.latency_buckets;
    assert(Array.isArray(buckets) && buckets.reduce((s, b) => s + b.count, 0) === 2000, `latency_buckets: ${JSON.stringify(buckets)}`);
    await selectCanary(page, 'prod');
    await page.waitForSelector('[data-testid=canary-checks] tbody tr');
    const c = await checks(page);
    assert(c.latency_vs_baseline?.outcome === 'pass', `latency_vs_baseline: ${JSON.stringify(c)}`);
    assert(/Health: healthy/.test(await healthText(page)), `health: ${await healthText(page)}; ${JSON.stringify(c)}`);
    // Each check shows its anytime-valid bounds, drawn against its limit.
    const bounds = await page.$$eval('[data-testid=canary-checks] [data-testid=check-bounds]', (cells) => cells.map((c) => c.textContent.trim()));
    assert(bounds.some((b) => /^\[[\d.e-]+, [\d.e-]+\]$/.test(b)), `bounds: ${JSON.stringify(bounds)}`);
    assert(await page.locator('[data-testid=canary-checks] svg.bounds line.limit').count() >= 2, 'bounds drawn against the limits');
  });

  await test('a crossed bound rolls back at the first failed judgement; the count carries across refreshes and resets with the environment', async () => {
    // staging: the canary fails its error-rate gate (30 % against 2 %) on every judgement.
    await postEvents(base, [...events('staging', 'canary', 300, { errorEvery: 3 }), ...events('staging', 'baseline', 900, { errorEvery: 200 })]);
    await selectCanary(page, 'staging');
    const failures = (n, was) => page.waitForFunction(([n, was]) =>
      (document.querySelector('[data-testid=canary-failures]')?.textContent ?? '').startsWith(`Consecutive failed judgements: ${n} (was ${was};`), [n, was]);
    await failures(1, 0);
    // On totals since the stage start a crossed bound stays crossed: the default policy rolls
    // back at the first failed judgement.
    const decision = await page.textContent('[data-testid=canary-decision]');
    assert(/Decision: rollback/.test(decision), `first failed judgement: ${decision}`);
    await page.click('[data-testid=canary-refresh]');
    await failures(2, 1);
    // Another environment and back: the count starts again.
    await page.selectOption('[data-testid=canary-env]', 'prod');
    await page.waitForFunction(() => /Health: healthy/.test(document.querySelector('[data-testid=canary-health]')?.textContent ?? ''));
    await page.selectOption('[data-testid=canary-env]', 'staging');
    await failures(1, 0);
  });

  const noProm = PROMETHEUS ? null : `no prometheus binary (${process.env.EDGEFLAG_PROMETHEUS ?? '/usr/bin/prometheus'}); scripts/setup.sh installs Debian's prometheus`;
  let prom = null;
  const promDir = noProm ? null : tempDir('edgeflag-e2e-prometheus-');
  await test('a real Prometheus scraping /metrics feeds the canary view (charts, decision from its numbers)', async () => {
    const port = await freePort();
    const serverPort = new URL(base).port;
    writeFileSync(join(promDir, 'prometheus.yml'), [
      'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
      'scrape_configs:', '  - job_name: edgeflag', '    metrics_path: /metrics',
      '    static_configs:', `      - targets: ['127.0.0.1:${serverPort}']`, '',
    ].join('\n'));
    // The dashboard (served by edgeflag at `base`) calls Prometheus from the browser: a
    // cross-origin request that Prometheus allows only for origins matching --web.cors.origin.
    const corsOrigin = base.replace(/\./g, '\\.');
    ({ child: prom } = await start(PROMETHEUS, [
      `--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, `--web.cors.origin=${corsOrigin}`,
    ], /Server is ready to receive web requests/, 'prometheus'));
    const promUrl = `http://127.0.0.1:${port}`;
    const cors = async (origin) => (await fetch(`${promUrl}/api/v1/query?query=up`, { headers: { Origin: origin } })).headers.get('access-control-allow-origin');
    assert(await cors(base) === base, `CORS header for the dashboard origin: ${await cors(base)}`);
    assert(await cors('http://evil.example') === null, 'Prometheus allowed a foreign origin');

    const instant = async (q) => {
      const r = await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json();
      return r.data?.result?.[0] ? Number(r.data.result[0].value[1]) : null;
    };
    const scraped = async (want) => {
      for (let i = 0; i < 60; i++) {
        if (await instant(`sum(edgeflag_flag_requests_total{flag="${FLAG}",env="prod",arm="canary"})`) === want) return;
        await sleep(500);
      }
      throw new Error(`Prometheus never saw ${want} canary requests`);
    };
    // The series already exist (earlier test): wait for Prometheus to have their current
    // values, then post in batches over several seconds, so increase() sees the rises.
    await scraped(2000);
    let canaryTotal = 2000;
    for (let b = 0; b < 8; b++) {
      // Enough for the gates to be proven on what increase() sees (the earlier events came
      // before the first scrape, which increase() cannot count).
      await postEvents(base, [...events('prod', 'canary', 200), ...events('prod', 'baseline', 600, { errorEvery: 60 })]);
      canaryTotal += 200;
      await sleep(1200);
    }
    await scraped(canaryTotal);
    await sleep(2500); // a couple more scrapes after the last rise

    await selectCanary(page, 'prod');
    // The last 5 minutes rather than the stage (which started long ago: an hour of 1-minute
    // steps would put every event in one point).
    await page.fill('[data-testid=canary-window]', '5m');
    await page.press('[data-testid=canary-window]', 'Tab');
    await page.click('[data-testid=prometheus-settings] summary');
    await page.check('[data-testid=use-prometheus]');
    await page.fill('[data-testid=prometheus-url]', promUrl);
    await page.press('[data-testid=prometheus-url]', 'Tab');
    await page.waitForFunction(() => /Metrics source: Prometheus/.test(document.querySelector('[data-testid=prometheus-settings] summary')?.textContent ?? ''));
    await page.click('[data-testid=canary-refresh]');
    await page.waitForFunction(() => {
      const samples = [...document.querySelectorAll('[data-testid=canary-checks] tbody tr')].find((r) => r.cells[0]?.textContent === 'samples');
      return samples && samples.cells[1].textContent === 'pass';
    });
    assert(await page.$('[data-testid=metrics-error]') === null, `source error: ${await page.textContent('[data-testid=metrics-error]').catch(() => '')}`);
    const c = await checks(page);
    const observed = Number(c.samples.observed);
    assert(observed >= 50, `canary requests from Prometheus: ${JSON.stringify(c.samples)}`);
    assert(c.error_rate?.outcome === 'pass' && c.p99_latency?.outcome === 'pass', `gate checks: ${JSON.stringify(c)}`);
    // The latency buckets query gives the comparison with the baseline real data too.
    // Both arms have the same latency distribution: never `fail`, and never `no_data`.
    assert(['pass', 'inconclusive'].includes(c.latency_vs_baseline?.outcome), `latency_vs_baseline: ${JSON.stringify(c.latency_vs_baseline)}`);
    const health = await healthText(page);
    assert(!/unknown/.test(health), `health with Prometheus data: ${health}`);
    const decision = await page.textContent('[data-testid=canary-decision]');
    // A healthy canary (no errors, same latency as the baseline) holds or advances, nothing else.
    assert(/Decision: (hold|advance)\b/.test(decision), `decision: ${decision}`);
    // The charts have data: canary requests per step, some of them non-zero.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=chart]').length === 3);
    const points = await page.getAttribute('[data-testid=chart] polyline[data-arm=canary]', 'points');
    const ys = (points ?? '').trim().split(/\s+/).filter(Boolean).map((p) => Number(p.split(',')[1]));
    assert(ys.length > 1 && Math.min(...ys) < Math.max(...ys), `canary requests chart: "${points}"`);
    console.log(`  Prometheus source: ${observed} canary requests judged, health "${health.replace('Health: ', '')}", ${decision.trim()}`);
    await page.screenshot({ path: join(SHOTS, 'canary-prometheus.png'), fullPage: true });
  }, noProm);

  await test('with Prometheus gone the view says "unknown", never "healthy"', async () => {
    assert(prom, 'Prometheus did not run in the previous test');
    await stop(prom);
    await page.click('[data-testid=canary-refresh]');
    await page.waitForSelector('[data-testid=metrics-error]');
    await page.waitForFunction(() => /Health: unknown/.test(document.querySelector('[data-testid=canary-health]')?.textContent ?? ''));
    const decision = await page.textContent('[data-testid=canary-decision]');
    assert(!/advance|complete/.test(decision), `decision without metrics: ${decision}`);
  }, noProm);

  await test('no uncaught errors in the page', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
}

await run(main);
