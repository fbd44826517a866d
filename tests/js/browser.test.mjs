// The browser example in Debian's Chromium (headless, driven by playwright-core): the page
// loads the WASM package, evaluates client-side, and matches the native engine on a corpus.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

import { FlagSet } from "../../wasm/pkg/node.js";
import { corpusPath, examplesFlags } from "./helpers.mjs";
import { startStaticServer } from "./static-server.mjs";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

let server;
let context;
let profile;

before(async () => {
  if (skip) return;
  server = await startStaticServer();
  profile = mkdtempSync(path.join(os.tmpdir(), "edgeflag-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await context?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function openPage() {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${server.base}/examples/browser/index.html`);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  assert.equal(await page.getAttribute("body", "data-ready"), "true", `page failed: ${await page.textContent("#error")} ${errors}`);
  return page;
}

test("the page evaluates client-side and shows the engine's answers", { skip }, async () => {
  const page = await openPage();
  const reference = new FlagSet(examplesFlags);
  for (const [user, country, env] of [["alice", "", ""], ["mallory", "", "prod"], ["user-42", "FR", "staging"], ["bob", "DE", "dev"]]) {
    await page.fill("input[name=targetingKey]", user);
    await page.fill("input[name=country]", country);
    await page.selectOption("select[name=env]", env);
    await page.click("button[type=submit]");
    const rows = await page.$$eval("#results tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    const ctx = { targetingKey: user, ...(country ? { country } : {}) };
    const expected = reference.evaluateAll(ctx, env || undefined);
    assert.equal(rows.length, expected.length);
    rows.forEach((row, i) => {
      const r = expected[i];
      assert.deepEqual(row, [r.key, r.variant ?? "", JSON.stringify(r.value), r.reason + (r.errorCode ? ` (${r.errorCode})` : "")], `${user}: ${r.key}`);
    });
  }
  assert.equal(await page.$$eval("#results tr[data-flag=new-dashboard] td:nth-child(2)", (tds) => tds[0]?.textContent), "on", "bob in beta-testers");
  await page.close();
});

test("in Chromium, corpus cases give the native engine's answers", { skip }, async () => {
  const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
  const cases = corpus.cases.filter((_, i) => i % 4 === 0); // a quarter: the full set runs in Node
  const page = await openPage();
  const mismatches = await page.evaluate(
    ({ files, cases, hashes }) => {
      const { FlagSet } = window.edgeflag;
      const sets = files.map((f) => new FlagSet(f.text));
      const bad = [];
      // Key order differs (the corpus was written with sorted keys): compare canonical forms.
      const canon = (v) =>
        Array.isArray(v) ? v.map(canon) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
      const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
      for (const c of cases) {
        const set = sets[c.file];
        const got = c.all ? set.evaluateAll(c.context, c.env ?? undefined) : set.evaluate(c.flag, c.context, c.env ?? undefined);
        if (!same(got, c.expected)) bad.push({ c, got });
      }
      return { count: cases.length, bad: bad.slice(0, 5), badCount: bad.length };
    },
    { files: corpus.files, cases, hashes: corpus.hashes },
  );
  assert.ok(mismatches.count >= 2500, `only ${mismatches.count} cases`);
  assert.equal(mismatches.badCount, 0, JSON.stringify(mismatches.bad, null, 1));
  await page.close();
});
