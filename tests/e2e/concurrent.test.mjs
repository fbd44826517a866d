// End-to-end tests of the dashboard with several writers at once, in Debian's headless
// Chromium against the real server: its canary controller (1 s ticks) judging metric events
// this script posts with an ingest token, a second admin ("ops-bot") writing through the API,
// reloads, and an old-format localStorage draft. Run by scripts/test-dashboard.sh.
// Prints "ok - / not ok - / skip -" per test and "N passed, M failed, K skipped".
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { assert, openPage, ROOT, run, SHOTS, sleep, start, tempDir, test, TOKEN } from './harness.mjs';

const BIN = join(ROOT, 'target/debug/edgeflag');
const PAYMENT = 'payment-processor';
const RANKING = 'ranking-model';

/** The example file with canaries the controller can move within seconds: payment-processor
 * advances through eight 2-second stages while healthy events arrive; ranking-model is rolled
 * back once its canary arm fails. */
function flagFile() {
  const file = JSON.parse(readFileSync(join(ROOT, 'examples/flags.json'), 'utf8'));
  const payment = file.flags.find((f) => f.key === PAYMENT);
  const gate = { max_error_rate: 0.05, max_p99_ms: 800, min_samples: 20 };
  payment.canary.stages = [1, 2, 5, 10, 20, 40, 60, 100].map((percent) => ({ percent, min_duration: '2s', gate }));
  payment.canary.stage_started_at = new Date(Date.now() - 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
  const ranking = JSON.parse(JSON.stringify(payment));
  ranking.key = RANKING;
  ranking.description = 'New ranking model, rolled back when its canary fails';
  delete ranking.environments;
  ranking.canary.stages = [20, 100].map((percent) => ({ percent, min_duration: '2s', gate }));
  file.flags.push(ranking);
  return file;
}

/** Named tokens made with the CLI before the server starts (as an operator would). */
function createToken(dataDir, name, role) {
  return execFileSync(BIN, ['token', 'create', name, '--role', role, '--data-dir', dataDir], { encoding: 'utf8' }).trim();
}

// Metric events from "edges": every 400 ms while a canary is fed, within the controller's
// 4-second window (so the controller holds again soon after feeding stops).
const feeding = { [PAYMENT]: false, [RANKING]: false };
let ingestToken = '';
let base = '';
let stopFeeding = false;

async function postEvents(events) {
  const posted = await fetch(`${base}/api/metrics/events`, {
    method: 'POST', body: JSON.stringify({ events }),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ingestToken}` },
  });
  assert(posted.status === 202, `POST /api/metrics/events: ${posted.status} ${await posted.text()}`);
}

async function feed() {
  while (!stopFeeding) {
    const now = Date.now();
    const events = [];
    for (const [flag, on] of Object.entries(feeding)) {
      if (!on) continue;
      const failing = flag === RANKING;
      for (let i = 0; i < 30; i++) {
        events.push({ ts: now - i * 10, flag, env: 'prod', arm: 'canary', outcome: failing && i % 2 ? 'error' : 'ok', latency_ms: 40 + (i % 20) });
      }
    }
    if (events.length) await postEvents(events).catch((e) => console.log(`  (feeding: ${e.message})`));
    await sleep(400);
  }
}

const getJson = async (path) => (await fetch(`${base}${path}`)).json();

/** Waits until the draft-state line names `version` or a later one: another writer (the
 * controller finishing a stage from its last window of events) may publish meanwhile. */
async function waitForDraftVersion(page, version, pattern) {
  try {
    await page.waitForFunction(([v, src]) => {
      const m = (document.querySelector('[data-testid=draft-state]')?.textContent ?? '').match(new RegExp(src));
      return m && Number(m[1]) >= v;
    }, [version, pattern]);
  } catch (e) {
    const shown = await page.locator('[data-testid=draft-state]').first().textContent().catch(() => '');
    const history = (await getJson('/api/flags/history?limit=5')).map((h) => `${h.version} ${h.author}`);
    throw new Error(`draft state "${shown}", expected /${pattern}/ with version >= ${version}; history: ${history.join(', ')}`);
  }
}
/** The published version the draft-state line names, or null. */
async function draftBaseVersion(page) {
  const m = (await text(page, '[data-testid=draft-state]')).match(/published version (\d+)/);
  return m ? Number(m[1]) : null;
}
const serverFlag = async (key) => (await getJson('/api/flags')).flags.find((f) => f.key === key);
const canaryOf = async (key) => (await serverFlag(key)).canary;

async function waitFor(what, cond, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await cond();
    if (got) return got;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** A second admin's per-flag write: a JSON Merge Patch with the flag's ETag. */
async function opsPatch(token, key, patch, message) {
  const got = await fetch(`${base}/api/flags/${encodeURIComponent(key)}`);
  const res = await fetch(`${base}/api/flags/${encodeURIComponent(key)}`, {
    method: 'PATCH', body: JSON.stringify(patch),
    headers: { 'If-Match': got.headers.get('etag'), Authorization: `Bearer ${token}`, 'Content-Type': 'application/merge-patch+json', 'X-Edgeflag-Message': message },
  });
  const body = await res.json();
  assert(res.status === 200, `ops-bot PATCH ${key}: ${res.status} ${JSON.stringify(body)}`);
  return body.version;
}

/** Holds the page's next publish (PUT /api/flags): before it reaches the server, or with
 * `answered`, after the server has written it and before the page sees the answer. */
async function holdPublish(page, { answered = false } = {}) {
  let release;
  const held = new Promise((r) => { release = r; });
  let seen;
  const sent = new Promise((r) => { seen = r; });
  await page.route('**/api/flags', async (route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    if (!answered) {
      seen();
      await held;
      return route.continue();
    }
    const response = await route.fetch();
    seen(response.status());
    await held;
    return route.fulfill({ response });
  });
  return { sent, release };
}

/** Clicks Publish with the server's answer held (`holdPublish` with `answered`). Returns the
 * hold and the newest version once the server has written it; throws (releasing everything,
 * `onRefused` too) when another writer came first, which is not the case under test. */
async function publishHeld(page, onRefused = () => {}) {
  const hold = await holdPublish(page, { answered: true });
  await tab(page, 'Publish');
  if (await page.locator('[data-testid=notice] button').count()) await page.click('[data-testid=notice] button');
  await page.click('[data-testid=publish]');
  const status = await hold.sent;
  if (status !== 200) {
    hold.release();
    onRefused();
    await page.unrouteAll();
    throw new Error(`the held publish was answered ${status} (another writer came first); not the case under test`);
  }
  return { hold, mine: (await getJson('/api/flags/history?limit=1'))[0].version };
}

const publishNotice = async (page) => (await page.waitForFunction(() => {
  const n = document.querySelector('[data-testid=notice]')?.textContent ?? '';
  return /Published version \d+|Not published/.test(n) && n;
})).jsonValue();

async function tab(page, label) {
  await page.click(`nav.tabs button[data-page="${label}"]`);
}

const text = (page, sel) => page.locator(sel).first().textContent({ timeout: 2000 }).then((t) => t ?? '', () => '');

/** Publishes the draft; a 412 (someone wrote meanwhile) rebases it, and the admin publishes
 * again after checking the diff is still theirs only. Returns the published version. */
async function publish(page, expectDiffKeys) {
  await tab(page, 'Publish');
  for (let attempt = 0; attempt < 6; attempt++) {
    await page.waitForSelector('[data-testid=publish]:not([disabled])');
    const keys = await page.$$eval('.diff-entry h4', (hs) => hs.map((h) => h.textContent.split(' — ')[0]));
    assert(JSON.stringify(keys) === JSON.stringify(expectDiffKeys), `the publish diff is the admin's changes only: ${JSON.stringify(keys)}`);
    // A notice from an earlier publish must not be read as this one's outcome.
    if (await page.locator('[data-testid=notice] button').count()) await page.click('[data-testid=notice] button');
    await page.click('[data-testid=publish]');
    const outcome = await page.waitForFunction(() => {
      const n = document.querySelector('[data-testid=notice]')?.textContent ?? '';
      return /Published version \d+|Not published/.test(n) && n;
    });
    const notice = await outcome.jsonValue();
    const published = notice.match(/Published version (\d+)/);
    if (published) return Number(published[1]);
    assert(/the server moved to version \d+/.test(notice), `publish failed: ${notice}`);
    await page.waitForFunction(() => !/Publishing/.test(document.querySelector('[data-testid=publish]')?.textContent ?? ''));
  }
  throw new Error('could not publish in 6 attempts');
}

/** Sets the base rollout of a flag through the editor form. */
async function setRollout(page, key, percent) {
  await tab(page, 'Flags');
  await page.click(`table.flags button.link:text-is("${key}")`);
  const input = page.locator('input[aria-label="Rollout in percent"]').first();
  await input.fill(String(percent));
  await input.press('Tab');
  await page.waitForFunction(() => /differs/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
}

/** A flag's description typed in its form (the change event: a form edit). */
async function editDescriptionInForm(page, key, value) {
  await tab(page, 'Flags');
  await page.click(`table.flags button.link:text-is("${key}")`);
  const field = page.locator('label.field:has(> span.label:text-is("Description")) textarea').first();
  await field.fill(value);
  await field.press('Tab');
}

async function setDescription(page, key, description) {
  await tab(page, 'Raw JSON');
  const file = JSON.parse(await page.inputValue('[data-testid=raw-editor]'));
  file.flags.find((f) => f.key === key).description = description;
  await page.fill('[data-testid=raw-editor]', JSON.stringify(file, null, 2));
  await page.waitForFunction(() => /differs/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
}

const draftKeys = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('edgeflag.draft')));

async function reload(page) {
  await page.reload();
  // A reload stays on the tab its URL names (not always the flags list): wait for the app.
  await page.waitForSelector('nav.tabs button[aria-current=page]');
  await page.waitForFunction(() => /version \d+|differs/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
}

async function main() {
  const dataDir = tempDir('edgeflag-e2e-concurrent-');
  const flagsPath = join(tempDir('edgeflag-e2e-flags-'), 'flags.json');
  writeFileSync(flagsPath, JSON.stringify(flagFile(), null, 2));
  ingestToken = createToken(dataDir, 'edge-e2e', 'ingest');
  const opsToken = createToken(dataDir, 'ops-bot', 'admin');
  const { match } = await start(BIN, [
    'serve', '--static-dir', join(ROOT, 'dist'), '--addr', '127.0.0.1:0', '--data-dir', dataDir, '--token', TOKEN,
    '--flags', flagsPath, '--controller-interval', '1s', '--controller-window', '4s', '--controller-no-baseline',
    '--controller-failures', '2',
    // This suite is about concurrent writers, not statistics: stages advance on time (after
    // min_duration and min_samples, nothing failing) rather than waiting for proven gates.
    '--controller-low-traffic', 'advance_on_time',
  ], /listening on (http:\/\/127\.0\.0\.1:\d+)/, 'edgeflag server');
  base = match[1];
  const feeder = feed();
  const { page, pageErrors } = await openPage({ height: 900, timeout: 15000 });
  await page.goto(base + '/');
  await page.waitForSelector('[data-testid=match-count]');
  await page.evaluate((t) => sessionStorage.setItem('edgeflag.token', t), TOKEN);
  await reload(page);

  await test('the Canary tab follows the server as the controller advances, with the controller\'s reasons', async () => {
    await tab(page, 'Canary');
    await page.selectOption('[data-testid=canary-flag]', PAYMENT);
    await page.waitForFunction(() => /Status: running · stage 1 of 8/.test(document.querySelector('[data-testid=canary-status]')?.textContent ?? ''));
    feeding[PAYMENT] = true;
    const stageShown = async () => Number(((await text(page, '[data-testid=canary-stage]')).match(/stage (\d+) of/) ?? [])[1] ?? 0);
    // Two advances seen in the open page, no reload: the stage numbers follow the server.
    await waitFor('the page to show stage 2', async () => (await stageShown()) >= 2);
    const first = await stageShown();
    await waitFor('the page to show a later stage', async () => (await stageShown()) > first);
    const shown = await stageShown();
    const server = await canaryOf(PAYMENT);
    assert(Math.abs(server.current_stage + 1 - shown) <= 1, `page stage ${shown}, server stage ${server.current_stage + 1}`);
    // The controller's judgement as the server reports it (right after an advance it may hold
    // for want of samples in the new stage; a judgement with data follows within a few ticks).
    const decision = await text(page, '[data-testid=controller-decision]');
    assert(/Decision: (advance|hold)/.test(decision), `controller decision: ${decision}`);
    await waitFor('a judgement of the error rate', async () => /error_rate/.test(await text(page, '[data-testid=controller-checks]')), 15000);
    const reasons = await page.$$eval('[data-testid=controller-reasons] li', (lis) => lis.map((li) => li.textContent));
    assert(reasons.length > 0 && reasons.every((r) => r.trim().length > 0), `controller reasons: ${JSON.stringify(reasons)}`);
    // The page's own charts and judgement follow too (fetched again with each judgement).
    await waitFor('the page\'s metrics to show the fed samples', async () => /samples\s*pass/.test(await text(page, '[data-testid=canary-checks]')), 15000);
    const api = (await getJson('/api/canaries')).canaries.find((c) => c.flag === PAYMENT && c.env === null);
    assert(api.last_judgement && api.last_judgement.reasons.length > 0, `the API's judgement: ${JSON.stringify(api)}`);
    await page.screenshot({ path: join(SHOTS, 'canary-live.png'), fullPage: true });
  });

  await test('concurrent writers: another flag edited in the open tab and published while the controller advances keeps its decisions; the diff is the admin\'s change only', async () => {
    feeding[PAYMENT] = true;
    await setRollout(page, 'new-dashboard', 30);
    const before = await getJson('/api/flags/history?limit=1');
    // The controller writes a version under the draft: the draft is rebased onto it.
    await waitFor('a controller version', async () => {
      const h = await getJson('/api/flags/history?limit=1');
      return h[0].version > before[0].version && h[0].author === 'canary-controller';
    });
    await page.waitForFunction(() => /server moved to version \d+ \(canary-controller\); your edits were rebased/.test(document.querySelector('[data-testid=rebase-note]')?.textContent ?? ''));
    await tab(page, 'Publish');
    await page.fill('[data-testid=publish-message]', 'new-dashboard to 30 % while the controller works');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'rebased.png'), fullPage: false });
    const version = await publish(page, ['flag new-dashboard']);
    feeding[PAYMENT] = false;
    // The server's file: the admin's version changed new-dashboard only, and holds every canary
    // field as the version before it (the controller's decisions).
    const mine = await getJson(`/api/flags/versions/${version}`);
    const prev = await getJson(`/api/flags/versions/${version - 1}`);
    const history = await getJson('/api/flags/history?limit=50');
    const entry = history.find((e) => e.version === version);
    assert(entry.author === 'admin' && JSON.stringify(entry.changed_flags) === '["new-dashboard"]', `history: ${JSON.stringify(entry)}`);
    assert(entry.message === 'new-dashboard to 30 % while the controller works', `message: ${entry.message}`);
    const find = (f, key) => f.flags.find((x) => x.key === key);
    assert(JSON.stringify(find(mine, PAYMENT)) === JSON.stringify(find(prev, PAYMENT)), 'the publish changed payment-processor');
    assert(find(mine, PAYMENT).canary.current_stage >= 2, `the controller's advances are kept: stage ${find(mine, PAYMENT).canary.current_stage}`);
    assert(find(mine, 'new-dashboard').rollout.percent_bp === 3000, 'the admin\'s change is published');
    const controllerVersions = history.filter((e) => e.author === 'canary-controller' && e.version < version).length;
    assert(controllerVersions >= 3, `the controller wrote ${controllerVersions} versions meanwhile`);
    await page.waitForFunction(() => /same as published version/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
    assert((await draftKeys(page)).length === 0, 'no draft after publishing');
  });

  await test('a page opened earlier, the controller rolls a canary back: a pause from the stale view is refused (409, shown); a reload has no draft and the rolled-back state; an edit + publish does not re-open it', async () => {
    // The open Canary tab shows ranking-model running. To act on exactly that view while the
    // controller rolls it back, the view's reads are held at what it showed (as if the admin
    // clicked in the instant between the rollback and the next poll).
    await tab(page, 'Canary');
    await page.selectOption('[data-testid=canary-flag]', RANKING);
    await page.waitForFunction(() => /Status: running/.test(document.querySelector('[data-testid=canary-status]')?.textContent ?? ''));
    const shownCanaries = await (await fetch(`${base}/api/canaries`)).text();
    const shownFlag = await fetch(`${base}/api/flags/${RANKING}`);
    const shownFlagHeaders = { etag: shownFlag.headers.get('etag'), 'x-edgeflag-version': shownFlag.headers.get('x-edgeflag-version'), 'content-type': 'application/json' };
    const shownFlagBody = await shownFlag.text();
    await page.route('**/api/canaries', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: shownCanaries }));
    await page.route(`**/api/flags/${RANKING}`, (route) => (route.request().method() === 'GET'
      ? route.fulfill({ status: 200, headers: shownFlagHeaders, body: shownFlagBody }) : route.fallback()));
    feeding[RANKING] = true;
    await waitFor('the controller to roll ranking-model back', async () => (await canaryOf(RANKING)).status === 'rolled_back');
    feeding[RANKING] = false;
    const rolledBackIn = (await getJson('/api/flags/history?limit=1'))[0].version;
    await page.click('[data-testid=canary-pause]');
    await page.click('[data-testid=canary-confirm-yes]');
    await page.waitForFunction(() => /refused the pause \(409\)/.test(document.querySelector('[data-testid=notice]')?.textContent ?? ''));
    const refusal = await text(page, '[data-testid=notice]');
    assert(refusal.includes('canary.status') && refusal.includes('"rolled_back"') && refusal.includes('canary-controller')
      && refusal.includes(`version ${rolledBackIn}`), `the 409 says what changed and by whom: ${refusal}`);
    assert((await canaryOf(RANKING)).status === 'rolled_back', 'the pause did not overwrite the rollback');
    await page.unrouteAll();
    await page.waitForFunction(() => /Status: rolled_back/.test(document.querySelector('[data-testid=canary-status]')?.textContent ?? ''));
    await reload(page);
    const current = (await getJson('/api/flags/history?limit=1'))[0].version;
    // This version or a later one: the controller may still be writing (payment-processor).
    await waitForDraftVersion(page, current, 'same as published version (\\d+)');
    assert(!/Restored/.test(await text(page, '[data-testid=notice]')), 'a reload without edits restores nothing');
    assert((await draftKeys(page)).length === 0, 'no draft in localStorage');
    await tab(page, 'Canary');
    await page.selectOption('[data-testid=canary-flag]', RANKING);
    await page.waitForFunction(() => /Status: rolled_back/.test(document.querySelector('[data-testid=canary-status]')?.textContent ?? ''));
    await setDescription(page, 'checkout-redesign', 'edited after the rollback');
    const version = await publish(page, ['flag checkout-redesign']);
    const published = await getJson(`/api/flags/versions/${version}`);
    assert(published.flags.find((f) => f.key === RANKING).canary.status === 'rolled_back', 'the publish re-opened the canary');
    assert((await canaryOf(RANKING)).status === 'rolled_back', 'ranking-model is rolled back on the server');
  });

  await test('reload with no edits: no draft; an old-format entry equal to its base is no draft; an old edited one is rebased, never laid over the server', async () => {
    await reload(page);
    assert((await draftKeys(page)).length === 0, 'no draft after a plain reload');
    assert(!/Restored/.test(await text(page, '[data-testid=notice]')), 'no restore notice');
    // Format 1 saved the whole text on every load, edited or not. Version 1 as it was:
    const v1 = await fetch(`${base}/api/flags/versions/1`);
    const v1Text = await v1.text();
    const oldEntry = (t) => JSON.stringify({ text: t, base_etag: v1.headers.get('etag'), base_version: 1 });
    await page.evaluate((e) => localStorage.setItem('edgeflag.draft.v1', e), oldEntry(v1Text));
    await reload(page);
    const current = (await getJson('/api/flags/history?limit=1'))[0].version;
    await waitForDraftVersion(page, current, 'same as published version (\\d+)');
    assert((await draftKeys(page)).length === 0, 'the unedited old entry was dropped');
    assert(!/Restored/.test(await text(page, '[data-testid=notice]')), 'an unedited old entry is no draft');
    // An old entry with an edit, from version 1: its edit is rebased onto the server's
    // version; the controller's later decisions stay.
    const edited = JSON.parse(v1Text);
    edited.flags.find((f) => f.key === 'search-ranking').description = 'edited in an old tab';
    await page.evaluate((e) => localStorage.setItem('edgeflag.draft.v1', e), oldEntry(JSON.stringify(edited, null, 2)));
    await reload(page);
    await page.waitForFunction(() => /Restored your unpublished draft\. It started from version 1/.test(document.querySelector('[data-testid=notice]')?.textContent ?? ''));
    await waitForDraftVersion(page, current, 'published version (\\d+)');
    await tab(page, 'Publish');
    const keys = await page.$$eval('.diff-entry h4', (hs) => hs.map((h) => h.textContent.split(' — ')[0]));
    assert(JSON.stringify(keys) === '["flag search-ranking"]', `the old draft's diff is its own edit only: ${keys}`);
    await tab(page, 'Raw JSON');
    // The controller may still be advancing payment-processor, and the page rebases the draft
    // when it sees a new version: compare the draft with the version it says it is based on,
    // read before and after the text so that a rebase in between is read again.
    const { draft, baseVersion } = await waitFor('a draft whose base holds still while it is read', async () => {
      const before = await draftBaseVersion(page);
      const text = await page.inputValue('[data-testid=raw-editor]');
      const after = await draftBaseVersion(page);
      return before !== null && before === after && before >= current && { draft: JSON.parse(text), baseVersion: before };
    });
    const baseFile = await getJson(`/api/flags/versions/${baseVersion}`);
    assert(draft.flags.find((f) => f.key === RANKING).canary.status === 'rolled_back', 'the old draft would re-open the canary');
    const draftPayment = JSON.stringify(draft.flags.find((f) => f.key === PAYMENT).canary);
    const basePayment = JSON.stringify(baseFile.flags.find((f) => f.key === PAYMENT).canary);
    assert(draftPayment === basePayment, `the old draft undid the controller: draft ${draftPayment}, version ${baseVersion} ${basePayment}`);
    assert(JSON.stringify(await draftKeys(page)) === '["edgeflag.draft.v2"]', `migrated: ${await draftKeys(page)}`);
    await tab(page, 'Publish');
    await page.click('[data-testid=discard-draft]');
    await page.click('[data-testid=discard-confirm]');
    await page.waitForFunction(() => /same as published version/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
    assert((await draftKeys(page)).length === 0, 'discarded');
  });

  await test('the same field changed on both sides: the conflict UI names the field and both values; each choice publishes its value', async () => {
    const round = async (pageValue, opsValue, pick) => {
      await setRollout(page, 'new-dashboard', pageValue);
      await setDescription(page, 'new-dashboard', `round picking ${pick}`);
      const opsVersion = await opsPatch(opsToken, 'new-dashboard', { rollout: { percent_bp: opsValue * 100 } }, 'ops-bot sets the rollout');
      await page.waitForSelector('[data-testid=conflicts]');
      const field = page.locator('[data-testid=conflict][data-path="flags[\\"new-dashboard\\"].rollout.percent_bp"]');
      await field.waitFor();
      assert((await page.locator('[data-testid=conflict]').count()) === 1, 'one conflicting field (the description is only the admin\'s)');
      assert((await field.locator('[data-testid=conflict-path]').textContent()) === 'flags["new-dashboard"].rollout.percent_bp', 'the field is named');
      assert((await field.locator('[data-testid=conflict-mine]').textContent()) === String(pageValue * 100), 'yours');
      assert((await field.locator('[data-testid=conflict-theirs]').textContent()) === String(opsValue * 100), 'the server\'s');
      await page.waitForFunction((v) => document.querySelector('[data-testid=conflict-by]')?.textContent.includes(`On the server, by ops-bot in version ${v}`), opsVersion);
      const panel = await text(page, '[data-testid=conflicts]');
      assert(!/your changes/i.test(panel), `the server's edit is never called the admin's: ${panel}`);
      await tab(page, 'Publish');
      assert(await page.isDisabled('[data-testid=publish]'), 'publishing waits for the choice');
      assert(/choose a value for each field/.test(await text(page, '[data-testid=publish-blocked]')), 'and says why');
      if (pick === 'mine') {
        if (await page.locator('[data-testid=notice] button').count()) await page.click('[data-testid=notice] button');
        await page.screenshot({ path: join(SHOTS, 'conflict.png'), fullPage: false });
      }
      await field.locator(`[data-testid=choose-${pick}]`).check();
      await page.click('[data-testid=conflict-apply]');
      await page.waitForSelector('[data-testid=conflicts]', { state: 'detached' });
      const version = await publish(page, ['flag new-dashboard']);
      const published = (await getJson(`/api/flags/versions/${version}`)).flags.find((f) => f.key === 'new-dashboard');
      const want = (pick === 'mine' ? pageValue : opsValue) * 100;
      assert(published.rollout.percent_bp === want, `picking ${pick} published ${published.rollout.percent_bp}, expected ${want}`);
      assert(published.description === `round picking ${pick}`, 'the admin\'s other edit is published too');
    };
    await round(25, 75, 'mine');
    await round(35, 80, 'theirs');
  });

  await test('a form edit made just before applying the conflict choices is in what is applied and published', async () => {
    await setRollout(page, 'new-dashboard', 45);
    await opsPatch(opsToken, 'new-dashboard', { rollout: { percent_bp: 8500 } }, 'ops-bot sets the rollout again');
    const field = page.locator('[data-testid=conflict][data-path="flags[\\"new-dashboard\\"].rollout.percent_bp"]');
    await field.waitFor();
    await field.locator('[data-testid=choose-mine]').check();
    // Another flag edited through its form, then Apply at once (inside the pause before forms
    // write the text): the conflicts are worked out again with the edit in the text.
    await tab(page, 'Flags');
    await page.click('table.flags button.link:text-is("search-ranking")');
    const description = page.locator('label.field:has(> span.label:text-is("Description")) textarea').first();
    await description.fill('typed right before applying the choice');
    await description.press('Tab');
    await page.click('[data-testid=conflict-apply]');
    await page.waitForSelector('[data-testid=conflicts]', { state: 'detached' });
    const version = await publish(page, ['flag new-dashboard', 'flag search-ranking']);
    const published = await getJson(`/api/flags/versions/${version}`);
    assert(published.flags.find((f) => f.key === 'new-dashboard').rollout.percent_bp === 4500, 'the choice (mine) was applied');
    assert(published.flags.find((f) => f.key === 'search-ranking').description === 'typed right before applying the choice', 'the edit made before Apply was lost');
  });

  await test('the publish message survives a rebase and a reload and appears in history', async () => {
    // Not ASCII: a header cannot carry it as is (the dashboard sends an RFC 8187 value).
    const MESSAGE = 'banner copy, reviewed by Ana Müller ✓ 支付';
    await setDescription(page, 'mobile-banner', 'message test');
    await tab(page, 'Publish');
    await page.fill('[data-testid=publish-message]', MESSAGE);
    const opsVersion = await opsPatch(opsToken, 'search-ranking', { description: 'ops-bot was here' }, 'unrelated');
    // ops-bot's version, or a later one that includes it (the controller may write too).
    await page.waitForFunction((v) => {
      const m = (document.querySelector('[data-testid=rebase-note]')?.textContent ?? '').match(/server moved to version (\d+) \(([^)]*)\)/);
      return m && Number(m[1]) >= v && m[2].split(', ').includes('ops-bot');
    }, opsVersion);
    assert(await page.inputValue('[data-testid=publish-message]') === MESSAGE, 'the message survived the rebase');
    await reload(page);
    await tab(page, 'Publish');
    await page.waitForFunction((m) => document.querySelector('[data-testid=publish-message]')?.value === m, MESSAGE);
    const version = await publish(page, ['flag mobile-banner']);
    const entry = (await getJson('/api/flags/history?limit=20')).find((e) => e.version === version);
    assert(entry.message === MESSAGE, `history message: ${JSON.stringify(entry)}`);
    await tab(page, 'History');
    await page.waitForSelector(`tr[data-version="${version}"]`);
    assert((await text(page, `tr[data-version="${version}"]`)).includes(MESSAGE), 'the History tab shows it');
    await tab(page, 'Publish');
    assert(await page.inputValue('[data-testid=publish-message]') === '', 'the message is cleared after publishing');
  });

  await test('a form edit is kept when the page reloads or publishes right after it (forms write the text once typing pauses, and before anything reads it)', async () => {
    const editInForm = (value) => editDescriptionInForm(page, 'search-ranking', value);
    // Reloaded at once, inside the pause before the text is written: the page saves it as it goes.
    await editInForm('typed right before a reload');
    await page.reload();
    await page.waitForFunction(() => /differs/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
    await tab(page, 'Raw JSON');
    const restored = JSON.parse(await page.inputValue('[data-testid=raw-editor]'));
    assert(restored.flags.find((f) => f.key === 'search-ranking').description === 'typed right before a reload', 'the edit typed before the reload was lost');
    // Published at once: the publish carries the form's edit.
    await editInForm('typed right before publishing');
    const version = await publish(page, ['flag search-ranking']);
    const published = await getJson(`/api/flags/versions/${version}`);
    assert(published.flags.find((f) => f.key === 'search-ranking').description === 'typed right before publishing', 'the publish missed the form edit');
  });

  await test('an edit made while a publish is on its way is not lost: it stays as a draft against the version just published', async () => {
    let version = null;
    let later = null;
    // The PUT is held until the admin has made a second edit (a slow network); a 412 (the
    // controller wrote meanwhile) rebases and the admin publishes again.
    for (let attempt = 0; attempt < 4 && version === null; attempt++) {
      await editDescriptionInForm(page, 'search-ranking', `sent while publishing (${attempt})`);
      const hold = await holdPublish(page);
      await tab(page, 'Publish');
      await page.waitForSelector('[data-testid=publish]:not([disabled])');
      if (await page.locator('[data-testid=notice] button').count()) await page.click('[data-testid=notice] button');
      await page.click('[data-testid=publish]');
      await hold.sent;
      // Each attempt types a new value: after a 412 the one before is in the draft, and sent.
      later = `typed while the publish was on its way (${attempt})`;
      await editDescriptionInForm(page, 'checkout-redesign', later);
      // And the message for the next publish.
      await tab(page, 'Publish');
      await page.fill('[data-testid=publish-message]', 'typed while the first publish was on its way');
      // Past the forms' pause, so that the edit is in the text before the answer comes.
      await sleep(400);
      await hold.release();
      const notice = await publishNotice(page);
      await page.unrouteAll();
      const m = notice.match(/Published version (\d+)/);
      if (m) {
        version = Number(m[1]);
        assert(/kept as your draft/.test(notice), `the notice says the later edit is kept: ${notice}`);
      } else {
        assert(/the server moved to version \d+/.test(notice), `publish failed: ${notice}`);
        // Start the next attempt from the rebased draft, without the in-flight edit's flag.
        await page.waitForFunction(() => !/Publishing/.test(document.querySelector('[data-testid=publish]')?.textContent ?? ''));
      }
    }
    assert(version !== null, 'could not publish in 4 attempts');
    const published = await getJson(`/api/flags/versions/${version}`);
    assert(/^sent while publishing/.test(published.flags.find((f) => f.key === 'search-ranking').description), 'the publish carried what was sent');
    assert(published.flags.find((f) => f.key === 'checkout-redesign').description !== later, 'the later edit was not sent');
    await waitForDraftVersion(page, version, 'draft differs from published version (\\d+)');
    await tab(page, 'Publish');
    const keys = await page.$$eval('.diff-entry h4', (hs) => hs.map((h) => h.textContent.split(' — ')[0]));
    assert(JSON.stringify(keys) === '["flag checkout-redesign"]', `the draft is the later edit only: ${keys}`);
    assert(await page.inputValue('[data-testid=publish-message]') === 'typed while the first publish was on its way', 'the message typed meanwhile was kept');
    // It survives a reload, and publishes.
    await reload(page);
    const again = await publish(page, ['flag checkout-redesign']);
    const after = await getJson(`/api/flags/versions/${again}`);
    assert(after.flags.find((f) => f.key === 'checkout-redesign').description === later, 'the later edit was lost');
  });

  await test('discarding while a publish is on its way: the page follows the version published, with no draft that would undo it', async () => {
    for (let attempt = 0; ; attempt++) {
      await setDescription(page, 'search-ranking', `published, then discarded on the page (${attempt})`);
      const hold = await holdPublish(page);
      await tab(page, 'Publish');
      if (await page.locator('[data-testid=notice] button').count()) await page.click('[data-testid=notice] button');
      await page.click('[data-testid=publish]');
      await hold.sent;
      await page.click('[data-testid=discard-draft]');
      await page.click('[data-testid=discard-confirm]');
      await hold.release();
      const notice = await publishNotice(page);
      await page.unrouteAll();
      const m = notice.match(/Published version (\d+)/);
      if (!m) {
        // The controller wrote meanwhile (412): the discard left nothing to publish; go again.
        assert(attempt < 3 && /the server moved/.test(notice), `publish failed: ${notice}`);
        continue;
      }
      assert(!/kept as your draft/.test(notice), `no draft is kept after a discard: ${notice}`);
      await waitForDraftVersion(page, Number(m[1]), 'same as published version (\\d+)');
      assert((await draftKeys(page)).length === 0, 'no draft saved');
      break;
    }
  });

  await test('a publish answered after the page has already seen a later version: the page stays on the later one, with no draft', async () => {
    await setDescription(page, 'search-ranking', 'published while ops-bot writes after it');
    const { hold, mine } = await publishHeld(page);
    const after = await opsPatch(opsToken, 'mobile-banner', { description: 'ops-bot, right after the admin' }, 'after the admin');
    assert(after > mine, `ops-bot wrote after the admin: ${after} > ${mine}`);
    // The page's poll brings ops-bot's version before the publish's answer arrives.
    await waitForDraftVersion(page, after, 'published version (\\d+)');
    await hold.release();
    const notice = await publishNotice(page);
    await page.unrouteAll();
    assert(!/kept as your draft/.test(notice), `nothing of the admin's is left to keep: ${notice}`);
    await waitForDraftVersion(page, after, 'same as published version (\\d+)');
    const shown = await text(page, '[data-testid=draft-state]');
    assert(Number(shown.match(/version (\d+)/)[1]) >= after, `the page went back to an older version: ${shown}`);
    assert((await draftKeys(page)).length === 0, 'no draft saved');
  });

  await test('a poll that reaches the admin\'s own version before the publish is answered leaves no "server moved" note about it', async () => {
    await setDescription(page, 'search-ranking', 'published, seen by the poll before the answer');
    // The page's history reads are held too: the note's, which names who moved the server,
    // then arrives after the publish's answer.
    let releaseHistory;
    const historyHeld = new Promise((r) => { releaseHistory = r; });
    await page.route('**/api/flags/history*', async (route) => { await historyHeld; return route.continue(); });
    const { hold, mine } = await publishHeld(page, releaseHistory);
    // An edit meanwhile: the poll then rebases it onto the admin's own version.
    await editDescriptionInForm(page, 'checkout-redesign', 'typed while the poll saw our own version');
    await waitForDraftVersion(page, mine, 'draft differs from published version (\\d+)');
    hold.release();
    await publishNotice(page);
    releaseHistory();
    await sleep(1500);
    await page.unrouteAll();
    const note = await text(page, '[data-testid=rebase-note]');
    assert(!/server moved to version/.test(note), `a note about the admin's own publish: ${note}`);
    // Leave no draft for the next test.
    await tab(page, 'Publish');
    await page.click('[data-testid=discard-draft]');
    await page.click('[data-testid=discard-confirm]');
    await page.waitForFunction(() => /same as published version/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
  });

  await test('an unmatched old draft is never opened over edits made on the page since', async () => {
    const server = await fetch(`${base}/api/flags`);
    const file = JSON.parse(await server.text());
    file.flags.find((f) => f.key === 'mobile-banner').description = 'from an unmatched old draft';
    const orphan = { text: JSON.stringify(file, null, 2), base_etag: '"gone"', base_version: 9999, message: '' };
    await page.evaluate((e) => localStorage.setItem('edgeflag.draft.unmatched', e), JSON.stringify(orphan));
    await reload(page);
    await page.waitForSelector('[data-testid=orphan]');
    await setDescription(page, 'search-ranking', 'made on the page after the old draft was set aside');
    await page.click('[data-testid=orphan-adopt]');
    await page.waitForFunction(() => /Not opened: the page has edits of yours/.test(document.querySelector('[data-testid=notice]')?.textContent ?? ''));
    await tab(page, 'Raw JSON');
    const kept = JSON.parse(await page.inputValue('[data-testid=raw-editor]'));
    assert(kept.flags.find((f) => f.key === 'search-ranking').description === 'made on the page after the old draft was set aside', 'the page\'s edit was replaced');
    assert(kept.flags.find((f) => f.key === 'mobile-banner').description !== 'from an unmatched old draft', 'the old draft was laid over the page');
    assert(await page.locator('[data-testid=orphan]').count() === 1, 'the old draft is still offered');
    // With the page's edits discarded, it opens.
    await tab(page, 'Publish');
    await page.click('[data-testid=discard-draft]');
    await page.click('[data-testid=discard-confirm]');
    await page.waitForFunction(() => /same as published version/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
    await page.click('[data-testid=orphan-adopt]');
    await page.waitForSelector('[data-testid=orphan]', { state: 'detached' });
    await page.waitForSelector('.diff-entry h4');
    const keys = await page.$$eval('.diff-entry h4', (hs) => hs.map((h) => h.textContent.split(' — ')[0]));
    assert(JSON.stringify(keys) === '["flag mobile-banner"]', `the old draft opened as edits: ${keys}`);
    await page.click('[data-testid=discard-draft]');
    await page.click('[data-testid=discard-confirm]');
    await page.waitForFunction(() => /same as published version/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
  });

  await test('no uncaught errors in the page', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });

  stopFeeding = true;
  await feeder;
}

await run(main);
