// End-to-end tests of the dashboard's URLs (dashboard/src/route.rs, dashboard/src/ui/url.rs) in
// Debian's headless Chromium against the real server serving the built dashboard: deep links,
// the back button, reloads, the editor's selection by key, links to missing flags. Run by
// scripts/test-dashboard.sh (which builds first).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { assert, openPage, ROOT, run, sleep, startServer, tempDir, test, TOKEN } from './harness.mjs';

const example = JSON.parse(readFileSync(join(ROOT, 'examples/flags.json'), 'utf8'));
// A second canary flag, so that the canary choice in a URL is not simply the tab's default
// (the first), with a key that must be encoded (`/`) and a file-like `.json` ending (which the
// server must still answer with the dashboard on reload).
const ODD = 'eu/payments.json';
const ODD_PATH = 'eu%2Fpayments.json';
const file = structuredClone(example);
file.flags.push({ ...structuredClone(example.flags.find((f) => f.key === 'payment-processor')), key: ODD });

const tabSelector = (label) => `nav.tabs button[data-page="${label}"]`;
const currentTab = (page) => page.getAttribute('nav.tabs button[aria-current=page]', 'data-page');
const path = (page) => page.evaluate(() => location.pathname + location.search);
const editorKey = (page) => page.textContent('#editor-title code');
const KEY_FIELD = 'section.editor label.field:has(> span.label:text-is("Key")) input';

async function serverWrite(base, mutate) {
  const got = await fetch(`${base}/api/flags`);
  const etag = got.headers.get('etag');
  const put = await fetch(`${base}/api/flags`, {
    method: 'PUT', body: JSON.stringify(mutate(await got.json()), null, 2),
    headers: { 'If-Match': etag, Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
  });
  assert(put.status === 200, `PUT /api/flags: ${put.status} ${await put.text()}`);
}

async function waitForList(page) {
  await page.waitForFunction(() => /^\d+ of \d+ flags match/.test(document.querySelector('[data-testid=match-count]')?.textContent ?? ''));
}

async function main() {
  const flagsPath = join(tempDir('edgeflag-e2e-routes-'), 'flags.json');
  writeFileSync(flagsPath, JSON.stringify(file, null, 2));
  const base = await startServer(['--flags', flagsPath]);
  const { page, pageErrors } = await openPage();

  await test('a link to a flag\'s canary opens the Canary tab with that flag chosen', async () => {
    await page.goto(`${base}/flags/${ODD_PATH}/canary`);
    await page.waitForSelector(`[data-testid=canary-flag] option[value="${ODD}"]`, { state: 'attached' });
    assert(await currentTab(page) === 'Canary', `tab: ${await currentTab(page)}`);
    const chosen = await page.$eval('[data-testid=canary-flag]', (s) => s.value);
    assert(chosen === ODD, `chosen canary flag: ${chosen} (the default would be payment-processor)`);
    assert(await path(page) === `/flags/${ODD_PATH}/canary`, `URL: ${await path(page)}`);
    assert(await page.$('[data-testid=missing-flag]') === null, 'an existing flag is reported missing');
  });

  await test('tabs and the canary choice push URLs; the back button returns to each', async () => {
    await page.selectOption('[data-testid=canary-flag]', 'payment-processor');
    await page.waitForFunction(() => location.pathname === '/flags/payment-processor/canary');
    await page.click(tabSelector('Flags'));
    await page.waitForFunction(() => location.pathname === '/flags');
    await page.click(tabSelector('Segments'));
    await page.waitForFunction(() => location.pathname === '/segments');
    assert(await currentTab(page) === 'Segments', `tab: ${await currentTab(page)}`);

    await page.goBack();
    await page.waitForFunction(() => location.pathname === '/flags');
    await page.waitForSelector('[data-testid=match-count]');
    assert(await currentTab(page) === 'Flags', `after back: ${await currentTab(page)}`);
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid=canary-flag]')?.value === 'payment-processor');
    assert(await currentTab(page) === 'Canary', `after back: ${await currentTab(page)}`);
    // Back within the tab: the select follows the URL while it is shown.
    await page.goBack();
    await page.waitForFunction((k) => document.querySelector('[data-testid=canary-flag]')?.value === k, ODD);
    assert(await path(page) === `/flags/${ODD_PATH}/canary`, `URL: ${await path(page)}`);
    await page.goForward();
    await page.waitForFunction(() => document.querySelector('[data-testid=canary-flag]')?.value === 'payment-processor');
  });

  await test('a reload on a flag\'s editor stays on that flag', async () => {
    await page.click(tabSelector('Flags'));
    await page.click('table.flags button.link:text-is("checkout-redesign")');
    await page.waitForFunction(() => location.pathname === '/flags/checkout-redesign');
    assert(await editorKey(page) === 'checkout-redesign', `editor: ${await editorKey(page)}`);
    await page.reload();
    await page.waitForSelector('#editor-title code');
    assert(await editorKey(page) === 'checkout-redesign', `after reload: ${await editorKey(page)}`);
    assert(await currentTab(page) === 'Edit flag', `tab: ${await currentTab(page)}`);
    // A key with `/` and a `.json` ending: the server answers the page, the assets load.
    await page.goto(`${base}/flags/${ODD_PATH}`);
    await page.waitForSelector('#editor-title code');
    assert(await editorKey(page) === ODD, `editor: ${await editorKey(page)}`);
  });

  await test('deleting or moving other flags keeps the editor on the same flag', async () => {
    await page.goto(`${base}/flags/search-ranking`);
    await page.waitForSelector('#editor-title code');
    assert(await editorKey(page) === 'search-ranking', `editor: ${await editorKey(page)}`);
    // Another admin deletes a flag above it: the page follows the server (no local edits).
    await serverWrite(base, (f) => ({ ...f, flags: f.flags.filter((x) => x.key !== 'recommendations') }));
    await page.waitForFunction(() => /same as published version 2/.test(document.querySelector('[data-testid=draft-state]')?.textContent ?? ''));
    assert(await editorKey(page) === 'search-ranking', `after the server's deletion: ${await editorKey(page)}`);
    // The admin deletes the first flag in the list, then goes back to the editor.
    await page.click(tabSelector('Flags'));
    await page.click('button[aria-label="Delete new-dashboard"]');
    await page.click('button:text-is("Yes, delete")');
    await page.waitForFunction(() => !document.querySelector('table.flags')?.textContent.includes('new-dashboard'));
    await page.click(tabSelector('Edit flag'));
    await page.waitForSelector('#editor-title code');
    assert(await editorKey(page) === 'search-ranking', `after deleting new-dashboard: ${await editorKey(page)}`);
    assert(await path(page) === '/flags/search-ranking', `URL: ${await path(page)}`);
  });

  await test('renaming the open flag moves the selection and replaces the URL', async () => {
    const before = await page.evaluate(() => history.length);
    await page.fill(KEY_FIELD, 'search-ranking-v2');
    await page.press(KEY_FIELD, 'Tab');
    await page.waitForFunction(() => location.pathname === '/flags/search-ranking-v2');
    assert(await editorKey(page) === 'search-ranking-v2', `editor: ${await editorKey(page)}`);
    const after = await page.evaluate(() => history.length);
    assert(after === before, `the rename added a history entry: ${before} -> ${after}`);
    await page.reload();
    await page.waitForSelector('#editor-title code');
    assert(await editorKey(page) === 'search-ranking-v2', `after reload (the draft restored): ${await editorKey(page)}`);
    // Back to the server's version for the next tests.
    await page.evaluate(() => localStorage.clear());
  });

  await test('renaming the open flag to another flag\'s key keeps the editor on the renamed flag', async () => {
    await page.goto(`${base}/flags/search-ranking`);
    await page.waitForSelector('#editor-title code');
    const description = 'section.editor label.field:has(> span.label:text-is("Description")) textarea';
    const own = example.flags.find((f) => f.key === 'search-ranking').description;
    assert(await page.inputValue(description) === own, 'the editor shows search-ranking');
    // The key of a flag listed before it (a duplicate the file then shows as a problem): the
    // editor stays on the flag it has open, not the first one with that key.
    await page.fill(KEY_FIELD, 'mobile-banner');
    await page.press(KEY_FIELD, 'Tab');
    await page.waitForFunction(() => location.pathname === '/flags/mobile-banner');
    await sleep(600); // past the pause after which the forms write the text
    assert(await page.inputValue(description) === own, `the editor moved to the other flag: ${await page.inputValue(description)}`);
    await page.evaluate(() => localStorage.clear());
  });

  await test('a link to a missing flag, before and after the file loads, says so clearly', async () => {
    await page.evaluate(() => localStorage.clear());
    // The file arrives late: the link is kept, and the message waits for it.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/flags', async (route) => {
      if (route.request().method() === 'GET') await held;
      return route.fallback();
    });
    await page.goto(`${base}/flags/no-such-flag`);
    await page.waitForSelector(tabSelector('Edit flag') + '[aria-current=page]');
    assert(await page.$('[data-testid=missing-flag]') === null, 'said missing before the file was loaded');
    release();
    await page.waitForSelector('[data-testid=missing-flag]');
    const message = await page.textContent('[data-testid=missing-flag]');
    assert(/No flag "no-such-flag" in this draft/.test(message), `message: ${message}`);
    await page.unrouteAll();
    // An existing flag behind a slow load opens once the file is there.
    await page.route('**/api/flags', async (route) => {
      if (route.request().method() === 'GET') await sleep(1000);
      return route.fallback();
    });
    await page.goto(`${base}/flags/checkout-redesign`);
    await page.waitForSelector('#editor-title code');
    assert(await editorKey(page) === 'checkout-redesign', `editor: ${await editorKey(page)}`);
    await page.unrouteAll();

    await page.goto(`${base}/flags/no-such-flag/canary`);
    await page.waitForSelector('[data-testid=missing-flag]');
    const canary = await page.textContent('[data-testid=missing-flag]');
    assert(/No flag "no-such-flag" with a canary on the server/.test(canary), `canary message: ${canary}`);
    assert(await currentTab(page) === 'Canary', `tab: ${await currentTab(page)}`);
    const shown = await page.$eval('[data-testid=canary-flag]', (s) => s.value);
    assert(shown === 'no-such-flag', `the select shows ${shown}, not the missing choice`);

    await page.goto(`${base}/no/such/screen`);
    await waitForList(page);
    assert(await currentTab(page) === 'Flags', `tab: ${await currentTab(page)}`);
    const notice = await page.textContent('[data-testid=notice]');
    assert(/There is no dashboard screen at \/no\/such\/screen/.test(notice), `notice: ${notice}`);
    assert(await path(page) === '/flags', `URL: ${await path(page)}`);
  });

  await test('no uncaught errors in the page', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
}

await run(main);
