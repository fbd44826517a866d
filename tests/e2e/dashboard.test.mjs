// End-to-end tests of the dashboard in Debian's headless Chromium against the real server
// serving the built dashboard. Run by scripts/test-dashboard.sh (which builds first).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { assert, openPage, ROOT, run, SHOTS, startServer, tempDir, test, TOKEN } from './harness.mjs';
import { generatedFlagFile } from './generated-flags.mjs';

const example = JSON.parse(readFileSync(join(ROOT, 'examples/flags.json'), 'utf8'));

const figures = {};

async function tab(page, label) {
  await page.click(`nav.tabs button[data-page="${label}"]`);
}

async function serverWrite(base, mutate) {
  const got = await fetch(`${base}/api/flags`);
  const etag = got.headers.get('etag');
  const file = mutate(await got.json());
  const put = await fetch(`${base}/api/flags`, {
    method: 'PUT', body: JSON.stringify(file, null, 2),
    headers: { 'If-Match': etag, Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
  });
  const body = await put.text();
  assert(put.status === 200, `second writer PUT failed: ${put.status} ${body}`);
  return JSON.parse(body);
}

async function previewVariant(page, key) {
  const cell = page.locator(`[data-testid=preview-results] tr[data-flag="${key}"] [data-testid=variant]`).first();
  return (await cell.textContent()).trim();
}

async function main() {
  const base = await startServer(['--flags', join(ROOT, 'examples/flags.json')]);
  const { page, pageErrors } = await openPage();

  await test('loads the example file from the server', async () => {
    await page.goto(base + '/');
    await page.waitForSelector('[data-testid=match-count]');
    await page.waitForFunction((n) => document.querySelector('[data-testid=match-count]').textContent.startsWith(`${n} of ${n}`), example.flags.length);
    const state = await page.textContent('[data-testid=draft-state]');
    assert(state.includes('same as published version 1'), `draft state: ${state}`);
    await page.screenshot({ path: join(SHOTS, 'flags.png'), fullPage: true });
  });

  await test('filters the list by status and text', async () => {
    await page.selectOption('[data-testid=status-filter]', 'canary');
    await page.waitForFunction(() => document.querySelector('[data-testid=match-count]').textContent.startsWith('1 of'));
    await page.selectOption('[data-testid=status-filter]', 'any');
    await page.fill('[data-testid=flag-search]', 'checkout');
    await page.waitForFunction(() => document.querySelector('[data-testid=match-count]').textContent.startsWith('1 of'));
    await page.fill('[data-testid=flag-search]', '');
  });

  await test('changing a rollout changes the preview', async () => {
    await page.click('table.flags button.link:text-is("new-dashboard")');
    await page.waitForSelector('[data-testid=preview-results]');
    const input = page.locator('input[aria-label="Rollout in percent"]').first();
    await input.fill('0');
    await input.press('Tab');
    await page.waitForFunction(() => !document.querySelector('input[aria-label="Rollout in percent"]').matches(':focus'));
    const before = await previewVariant(page, 'new-dashboard');
    await input.fill('100');
    await input.press('Tab');
    await page.waitForFunction((b) => {
      const c = document.querySelector('[data-testid=preview-results] tr[data-flag="new-dashboard"] [data-testid=variant]');
      return c && c.textContent.trim() !== b;
    }, before);
    const after = await previewVariant(page, 'new-dashboard');
    assert(after === 'on', `100 % rollout should serve "on", got ${after} (before: ${before})`);
    const state = await page.textContent('[data-testid=draft-state]');
    assert(state.includes('differs'), `draft state after an edit: ${state}`);
    await page.screenshot({ path: join(SHOTS, 'editor.png'), fullPage: false });
  });

  await test('the preview page lists every flag', async () => {
    await tab(page, 'Preview');
    await page.waitForSelector('[data-testid=preview-results]');
    const rows = await page.locator('[data-testid=preview-results] tbody tr').count();
    assert(rows === example.flags.length, `preview rows: ${rows}`);
    // The draft (new-dashboard at 100 %) or the published version (0 %), and it says which.
    let source = await page.textContent('[data-testid=preview-source]');
    assert(/Evaluating your draft: version 1 with your unpublished edits/.test(source), `preview source: ${source}`);
    assert(await previewVariant(page, 'new-dashboard') === 'on', 'the draft serves "on"');
    await page.check('[data-testid=preview-published]');
    await page.waitForFunction(() => /Evaluating the published version 1/.test(document.querySelector('[data-testid=preview-source]')?.textContent ?? ''));
    await page.waitForFunction(() => document.querySelector('[data-testid=preview-results] tr[data-flag="new-dashboard"] [data-testid=variant]')?.textContent.trim() === 'off');
    await page.check('[data-testid=preview-draft]');
    await page.waitForFunction(() => document.querySelector('[data-testid=preview-results] tr[data-flag="new-dashboard"] [data-testid=variant]')?.textContent.trim() === 'on');
    source = await page.textContent('[data-testid=preview-source]');
    assert(/your draft/.test(source), `preview source: ${source}`);
    await page.screenshot({ path: join(SHOTS, 'preview.png'), fullPage: true });
  });

  await test('the draft survives a reload', async () => {
    await page.reload();
    await page.waitForFunction(() => (document.querySelector('[data-testid=draft-state]') || {}).textContent?.includes('differs'));
    const notice = await page.textContent('[data-testid=notice]');
    assert(notice.includes('Restored your unpublished draft'), `notice: ${notice}`);
  });

  await test('broken JSON lists path-precise problems and jumps to them', async () => {
    await tab(page, 'Raw JSON');
    const file = JSON.parse(await page.inputValue('[data-testid=raw-editor]'));
    file.flags[0].rollout.percent_bp = 20000;
    await page.fill('[data-testid=raw-editor]', JSON.stringify(file, null, 2));
    const item = page.locator('[data-testid=problems] button', { hasText: 'flags[0].rollout.percent_bp' });
    await item.waitFor();
    await item.click();
    const selected = await page.$eval('[data-testid=raw-editor]', (t) => t.value.substring(t.selectionStart, t.selectionEnd));
    assert(selected === '20000', `selection after jump: ${JSON.stringify(selected)}`);
    await page.screenshot({ path: join(SHOTS, 'raw-errors.png'), fullPage: false });
    // A syntax error names its line and jumps there.
    const text = JSON.stringify(file, null, 2).replace('"schema_version": 1,', '"schema_version": 1');
    await page.fill('[data-testid=raw-editor]', text);
    const syntax = page.locator('[data-testid=problems] button', { hasText: 'line' });
    await syntax.waitFor();
    file.flags[0].rollout.percent_bp = 10000;
    await page.fill('[data-testid=raw-editor]', JSON.stringify(file, null, 2));
    await page.waitForFunction(() => document.querySelector('[data-testid=problems]').children.length === 0);
  });

  await test('publishing shows a diff and a new version in history', async () => {
    await tab(page, 'Publish');
    await page.waitForSelector('.diff-entry');
    const diff = await page.textContent('[data-testid=diff]');
    assert(diff.includes('new-dashboard') && diff.includes('"percent_bp": 10000'), `diff: ${diff.slice(0, 300)}`);
    await page.fill('[data-testid=token]', TOKEN);
    await page.press('[data-testid=token]', 'Tab');
    await page.screenshot({ path: join(SHOTS, 'publish-diff.png'), fullPage: false });
    await page.click('[data-testid=publish]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=notice]') || {}).textContent?.includes('Published version 2'));
    await tab(page, 'History');
    await page.waitForSelector('tr[data-version="2"]');
    const row = await page.textContent('tr[data-version="2"]');
    assert(row.includes('new-dashboard') && row.includes('admin'), `history row: ${row}`);
    await page.screenshot({ path: join(SHOTS, 'history.png'), fullPage: false });
  });

  await test('a second writer\'s version is rebased under the draft; a 412 at publish rebases again; both changes kept', async () => {
    // The draft: a description in the raw editor.
    await tab(page, 'Raw JSON');
    const file = JSON.parse(await page.inputValue('[data-testid=raw-editor]'));
    file.flags[6].description = 'edited in the dashboard';
    const edited = file.flags[6].key;
    await page.fill('[data-testid=raw-editor]', JSON.stringify(file, null, 2));
    // Another admin publishes version 3: the page's poll rebases the draft onto it.
    await serverWrite(base, (f) => { f.flags[3].enabled = false; return f; });
    await page.waitForFunction(() => /server moved to version 3/.test(document.querySelector('[data-testid=rebase-note]')?.textContent ?? ''));
    await tab(page, 'Publish');
    await page.waitForFunction(() => /against version 3/.test(document.querySelector('[data-testid=diff-title]')?.textContent ?? ''));
    let diff = await page.$$eval('.diff-entry h4', (hs) => hs.map((h) => h.textContent));
    assert(diff.length === 1 && diff[0].startsWith(`flag ${edited} `), `the diff is the admin's change only: ${diff}`);
    // A publish racing a third write: the page's polls are held back, so its PUT carries
    // If-Match of version 3 while the server is at 4: 412, nothing overwritten, rebased again.
    let holdPolls = true;
    await page.route('**/api/flags', (route) => (holdPolls && route.request().method() === 'GET' ? route.abort() : route.fallback()));
    await serverWrite(base, (f) => { f.flags[4].description = 'third writer'; return f; });
    await page.route('**/api/flags', (route) => {
      if (route.request().method() === 'PUT') holdPolls = false;
      return route.fallback();
    });
    await page.click('[data-testid=publish]');
    await page.waitForFunction(() => /Not published: the server moved to version 4/.test(document.querySelector('[data-testid=notice]')?.textContent ?? ''));
    await page.unrouteAll();
    const server = await (await fetch(`${base}/api/flags`)).json();
    assert(server.flags[6].description !== 'edited in the dashboard', 'the server was overwritten');
    assert(server.flags[3].enabled === false && server.flags[4].description === 'third writer', 'the other writers\' changes are there');
    await page.waitForFunction(() => /against version 4/.test(document.querySelector('[data-testid=diff-title]')?.textContent ?? ''));
    diff = await page.$$eval('.diff-entry h4', (hs) => hs.map((h) => h.textContent));
    assert(diff.length === 1 && diff[0].startsWith(`flag ${edited} `), `after the 412, the diff is still the admin's change only: ${diff}`);
    await page.click('[data-testid=publish]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=notice]') || {}).textContent?.includes('Published version 5'));
    const merged = await (await fetch(`${base}/api/flags`)).json();
    assert(merged.flags[3].enabled === false && merged.flags[4].description === 'third writer'
      && merged.flags[6].description === 'edited in the dashboard', 'all three changes kept');
  });

  await test('the canary view charts real metrics, shows the evaluator decision, and "unknown" without data', async () => {
    // Canary and baseline arms of payment-processor in prod, within the last few seconds.
    const now = Date.now();
    const events = [];
    for (let i = 0; i < 120; i++) {
      events.push({ ts: now - i * 40, flag: 'payment-processor', env: 'prod', arm: 'canary', stage: 0, outcome: 'ok', latency_ms: 40 + (i % 50) });
    }
    for (let i = 0; i < 300; i++) {
      events.push({ ts: now - i * 15, flag: 'payment-processor', env: 'prod', arm: 'baseline', outcome: i % 150 === 0 ? 'error' : 'ok', latency_ms: 35 + (i % 60) });
    }
    const posted = await fetch(`${base}/api/metrics/events`, { method: 'POST', body: JSON.stringify({ events }), headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` } });
    assert(posted.status === 202, `POST /api/metrics/events: ${posted.status} ${await posted.text()}`);

    await tab(page, 'Canary');
    await page.selectOption('[data-testid=canary-flag]', 'payment-processor');
    await page.selectOption('[data-testid=canary-env]', 'prod');
    await page.waitForSelector('[data-testid=canary-decision]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=chart]').length === 3);
    const points = await page.getAttribute('[data-testid=chart] polyline[data-arm=canary]', 'points');
    assert(points && points.trim().split(' ').length >= 1, `canary series is empty: "${points}"`);
    const thresholds = await page.locator('[data-testid=threshold]').count();
    assert(thresholds === 2, `expected the error-rate and p99 gate lines, got ${thresholds}`);
    const health = (await page.textContent('[data-testid=canary-health]')).trim();
    // 120 canary requests cannot prove the gates yet: "unknown", and the page says what it needs.
    assert(/Health: (healthy|inconclusive|failing|unknown)/.test(health), `with data in /api/metrics: ${health}`);
    const needs = await page.textContent('[data-testid=canary-needs]');
    assert(/too little traffic: needs about \d+ more canary requests/.test(needs), `needs: ${needs}`);
    // /api/metrics carries the latency histogram, so the comparison with the baseline has data.
    const latencyRow = await page.$$eval('[data-testid=canary-checks] tbody tr', (rows) =>
      rows.map((r) => [...r.cells].map((c) => c.textContent.trim())).find((cells) => cells[0] === 'latency_vs_baseline'));
    assert(latencyRow && latencyRow[1] !== 'no_data', `latency_vs_baseline: ${JSON.stringify(latencyRow)}`);
    const decision = await page.textContent('[data-testid=canary-decision]');
    assert(/Decision: (hold|advance|rollback|complete)/.test(decision), `decision: ${decision}`);
    const checks = await page.textContent('[data-testid=canary-checks]');
    assert(checks.includes('samples') && checks.includes('error_rate'), `checks: ${checks}`);
    await page.screenshot({ path: join(SHOTS, 'canary.png'), fullPage: true });

    // No events in staging: the view must say "unknown", never "healthy".
    await page.selectOption('[data-testid=canary-env]', 'staging');
    await page.waitForFunction(() => /Health: unknown/.test(document.querySelector('[data-testid=canary-health]')?.textContent ?? ''));

    // Pause and resume act on the server (PATCH of the canary fields, after a confirmation),
    // not on the draft.
    await page.selectOption('[data-testid=canary-env]', 'prod');
    const paused = async () => (await (await fetch(`${base}/api/flags/payment-processor`)).json()).canary.status;
    // The server's controller runs here too (payment-processor's stage began long ago, so with
    // these events it may advance it at any tick): when it moves the canary between the view and
    // the click, the page sends nothing and says so, and the admin looks again and retries.
    for (let attempt = 1; ; attempt++) {
      if (await page.locator('[data-testid=notice] button').count()) await page.click('[data-testid=notice] button');
      await page.click('[data-testid=canary-pause]');
      const confirm = await page.textContent('[data-testid=canary-confirm]');
      assert(/Pause the canary of payment-processor \(prod\), now running at stage \d+ of \d+, on the server\?/.test(confirm), `confirmation: ${confirm}`);
      assert(await paused() === 'running', 'nothing is sent before the confirmation');
      await page.click('[data-testid=canary-confirm-yes]');
      await page.waitForFunction(() => /Status: paused/.test(document.querySelector('[data-testid=canary-status]')?.textContent ?? '')
        || /Nothing was sent|refused|failed/.test(document.querySelector('[data-testid=notice]')?.textContent ?? ''));
      const notice = await page.textContent('[data-testid=notice]').catch(() => '');
      if (/Status: paused/.test(await page.textContent('[data-testid=canary-status]'))) break;
      assert(attempt < 3 && /Nothing was sent: the canary of payment-processor changed on the server/.test(notice), `after the pause: ${notice}`);
      assert(await paused() === 'running', 'a refused pause changed nothing');
      await new Promise((r) => setTimeout(r, 2500)); // the view's next poll shows the new stage
    }
    assert(await paused() === 'paused', 'the server has the pause');
    const state = await page.textContent('[data-testid=draft-state]');
    assert(/same as published version \d+/.test(state), `the pause is no draft edit: ${state}`);
    await page.click('[data-testid=canary-resume]');
    await page.click('[data-testid=canary-confirm-yes]');
    await page.waitForFunction(() => /Status: running/.test(document.querySelector('[data-testid=canary-status]')?.textContent ?? ''));
    assert(await paused() === 'running', 'the server has the resume');
    const history = await (await fetch(`${base}/api/flags/history`)).json();
    assert(/pause the canary of payment-processor/.test(history[1].message ?? '') && /resume/.test(history[0].message ?? ''),
      `the actions are in history with a message: ${JSON.stringify(history.slice(0, 2))}`);
  });

  await test('the experiment view analyses pasted data: lift, p-value, winner only when significant', async () => {
    // From the metrics endpoint: units = requests per variant, conversions = ok outcomes.
    const now = Date.now();
    const events = [];
    for (let i = 0; i < 200; i++) {
      events.push({ ts: now - i * 20, flag: 'checkout-redesign', env: 'prod', variant: 'control', outcome: i % 10 === 0 ? 'error' : 'ok', latency_ms: 20 });
      events.push({ ts: now - i * 20, flag: 'checkout-redesign', env: 'prod', variant: 'treatment', outcome: i % 20 === 0 ? 'error' : 'ok', latency_ms: 20 });
    }
    const posted = await fetch(`${base}/api/metrics/events`, { method: 'POST', body: JSON.stringify({ events }), headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` } });
    assert(posted.status === 202, `POST /api/metrics/events: ${posted.status}`);
    await tab(page, 'Experiment');
    await page.selectOption('[data-testid=experiment-flag]', 'checkout-redesign');
    await page.waitForSelector('[data-testid=experiment-comparisons] tr[data-variant=treatment]');
    const counts = await page.textContent('[data-testid=experiment-counts]');
    assert(/control\s*200/.test(counts) && /treatment\s*200/.test(counts), `counts from /api/metrics: ${counts}`);
    const fromMetrics = await page.textContent('[data-testid=experiment-comparisons] tr[data-variant=treatment]');
    assert(fromMetrics.includes('0.9500') && fromMetrics.includes('0.9000'), `rates from ok outcomes: ${fromMetrics}`);
    await page.check('[data-testid=experiment-use-pasted]');
    const data = { assignments: { control: 10000, treatment: 10050 }, metrics: [{ name: 'checkout', kind: 'conversion',
      arms: { control: { units: 10000, conversions: 1000 }, treatment: { units: 10050, conversions: 1200 } } }] };
    await page.fill('[data-testid=experiment-json]', JSON.stringify(data));
    await page.waitForSelector('[data-testid=experiment-comparisons] tr[data-variant=treatment]');
    const winner = (await page.textContent('tr[data-variant=treatment] [data-testid=winner]')).trim();
    assert(winner === 'treatment', `winner: ${winner}`);
    // Same rates: not significant, no winner.
    data.metrics[0].arms.treatment.conversions = 1005;
    await page.fill('[data-testid=experiment-json]', JSON.stringify(data));
    await page.waitForFunction(() => document.querySelector('tr[data-variant=treatment] [data-testid=winner]')?.textContent.trim() === '—');
    // Broken assignment: the SRM warning shows and no winner is declared.
    data.assignments.treatment = 12000;
    data.metrics[0].arms.treatment = { units: 12000, conversions: 2000 };
    await page.fill('[data-testid=experiment-json]', JSON.stringify(data));
    await page.waitForFunction(() => /Sample ratio mismatch/.test(document.querySelector('[data-testid=experiment-srm]')?.textContent ?? ''));
    const noWinner = (await page.textContent('tr[data-variant=treatment] [data-testid=winner]')).trim();
    assert(noWinner === '—', `winner despite SRM: ${noWinner}`);
    await page.screenshot({ path: join(SHOTS, 'experiment.png'), fullPage: true });
    await tab(page, 'Flags');
  });

  await test('markup in names and descriptions stays inert text', async () => {
    const evil = '<img src=x onerror="window.__xss=1"><b>bold</b>';
    await serverWrite(base, (f) => { f.flags[0].description = evil; return f; });
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.waitForFunction(() => document.querySelector('td.description')?.textContent.includes('<img'));
    const cell = await page.textContent('td.description');
    assert(cell === evil, `description cell: ${cell}`);
    assert(await page.$('td.description img') === null, 'an <img> element was created');
    assert(await page.evaluate(() => window.__xss) === undefined, 'onerror ran');
  });

  await test('filtering a 5,000-flag file finds the right flags (time reported, not asserted)', async () => {
    const big = generatedFlagFile(5000);
    const path = join(tempDir('edgeflag-e2e-big-'), 'big.json');
    writeFileSync(path, JSON.stringify(big, null, 2));
    await tab(page, 'Load / export');
    await page.setInputFiles('[data-testid=import-file]', path);
    await tab(page, 'Flags');
    await page.waitForFunction(() => document.querySelector('[data-testid=match-count]')?.textContent.includes('of 5000'));
    const queries = ['flag-12', 'number 4', 'flag-0', 'zzz', '7', '', 'flag-49', 'number 1', 'flag-3', ''];
    // Peer in the same page: a bare JS filter of the same flags (no rendering), per query.
    const peerMs = await page.evaluate(({ flags, queries }) => {
      const t0 = performance.now();
      let n = 0;
      for (let r = 0; r < 10; r++) {
        for (const q of queries) {
          const needle = q.toLowerCase();
          n += flags.filter((f) => f.key.toLowerCase().includes(needle) || f.description.toLowerCase().includes(needle)).length;
        }
      }
      return n >= 0 ? (performance.now() - t0) / (10 * queries.length) : 0;
    }, { flags: big.flags, queries });
    figures.peerJsFilterMs = peerMs;
    const timings = await page.evaluate(async () => {
      const input = document.querySelector('[data-testid=flag-search]');
      const count = document.querySelector('[data-testid=match-count]');
      const out = [];
      for (const q of ['flag-12', 'number 4', 'flag-0', 'zzz', '7', '', 'flag-49', 'number 1', 'flag-3', '']) {
        const before = count.textContent;
        const t0 = performance.now();
        input.value = q;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((resolve) => {
          if (count.textContent !== before) return resolve();
          const obs = new MutationObserver(() => { obs.disconnect(); resolve(); });
          obs.observe(count, { childList: true, characterData: true, subtree: true });
          setTimeout(() => { obs.disconnect(); resolve(); }, 2000);
        });
        // Include layout of the updated rows.
        document.body.getBoundingClientRect();
        out.push(performance.now() - t0);
      }
      return out;
    });
    const sorted = [...timings].sort((a, b) => a - b);
    figures.filterMedianMs = sorted[Math.floor(sorted.length / 2)];
    figures.filterMaxMs = sorted[sorted.length - 1];
    console.log(`  filter 5000 flags (input event to updated list): median ${figures.filterMedianMs.toFixed(1)} ms, max ${figures.filterMaxMs.toFixed(1)} ms; bare JS filter of the same data ${peerMs.toFixed(2)} ms per query`);
    // The time is a figure for the README (goal < 100 ms), not a pass/fail criterion: this
    // machine is shared and noisy. What must hold is that filtering gives the right answer.
    await page.fill('[data-testid=flag-search]', 'flag-49');
    await page.waitForFunction(() => /\b100\b[^0-9]*of 5000/.test(document.querySelector('[data-testid=match-count]')?.textContent ?? ''));
    await page.fill('[data-testid=flag-search]', 'zzz');
    await page.waitForFunction(() => /^\D*0\b[^0-9]*of 5000/.test(document.querySelector('[data-testid=match-count]')?.textContent ?? ''));
    await page.fill('[data-testid=flag-search]', '');
  });

  await test('no uncaught errors in the page', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
}

await run(main, () => {
  if (Object.keys(figures).length) writeFileSync(join(ROOT, 'target/dashboard-e2e-figures.json'), JSON.stringify(figures, null, 2));
});
