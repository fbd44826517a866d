// The browser example in Debian's Chromium (headless, driven by playwright-core): the page
// loads the WASM package, evaluates client-side, and matches the native engine on a corpus;
// with `?server=` it follows the real server's change stream (from another origin), polls
// while the stream is cut or silent, and goes back to it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { FlagSet } from "../../wasm/pkg/node.js";
import { edgeflagMissing, edit, startEdgeflag } from "./edgeflag-server.mjs";
import { corpusPath, examplesFlags } from "./helpers.mjs";
import { launchChromium, chromiumMissing } from "./chromium.mjs";
import { startStaticServer } from "./static-server.mjs";
import { startStreamProxy } from "./stream-proxy.mjs";

const skip = chromiumMissing;

let server;
let browser;
let context;

before(async () => {
  if (skip) return;
  server = await startStaticServer();
  browser = await launchChromium("edgeflag-chromium-");
  context = browser.context;
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function openPage(query = "") {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${server.base}/examples/browser/index.html${query}`);
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

const dashboard = (enabled) => edit((file) => (file.flags.find((f) => f.key === "new-dashboard").enabled = enabled));

test("live: follows the server's stream from another origin, polls while it is down, returns to it", { skip: skip || edgeflagMissing }, async () => {
  const edgeflag = await startEdgeflag(["--no-controller", "--stream-heartbeat", "300ms"]);
  // The page (static server) and the flags (through a proxy that can break the stream) are on
  // different origins: CORS for GET, If-None-Match and EventSource are exercised for real.
  const proxy = await startStreamProxy(edgeflag.base);
  let page;
  try {
    page = await openPage(`?server=${encodeURIComponent(proxy.base)}&poll=300`);
    const status = () => page.evaluate(() => window.edgeflag.live.status());
    const until = async (what, check, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      let last;
      while (Date.now() < deadline) {
        last = await status();
        if (check(last)) return last;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.fail(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    };
    // The rendered answer for alice (the form's default user), re-rendered on every swap.
    const shown = () => page.$eval("#results tr[data-flag=new-dashboard] td:nth-child(2)", (td) => td.textContent);

    await until("the stream", (s) => s.mode === "stream" && s.version === 1);
    assert.equal(await shown(), "on");
    const started = Date.now();
    const v2 = await edgeflag.publish(dashboard(false));
    let s = await until("version 2 from the stream", (x) => x.version === v2.version);
    const pushMs = Date.now() - started;
    assert.deepEqual([s.via, s.etag, s.updates.poll], ["stream", v2.etag, 0]);
    assert.equal(await shown(), "off");
    // The page's FlagSet is the new file: every flag answers as the engine does on it.
    const reference = new FlagSet(JSON.stringify(v2.file)).evaluateAll({ targetingKey: "alice" });
    const inPage = await page.evaluate(() => window.edgeflag.flags.evaluateAll({ targetingKey: "alice" }));
    assert.deepEqual(JSON.parse(JSON.stringify(inPage)), JSON.parse(JSON.stringify(reference)));

    proxy.cut();
    await until("polling", (x) => x.mode === "polling");
    const v3 = await edgeflag.publish(dashboard(true));
    s = await until("version 3 by polling", (x) => x.version === v3.version);
    assert.equal(s.via, "poll");
    assert.equal(await shown(), "on");

    proxy.restore();
    await until("the stream again", (x) => x.mode === "stream");
    const v4 = await edgeflag.publish(dashboard(false));
    s = await until("version 4 from the stream", (x) => x.version === v4.version);
    assert.equal(s.via, "stream");

    proxy.freeze();
    await until("the silent stream noticed", (x) => x.mode === "polling" && /no event/.test(x.lastError ?? ""));
    const v5 = await edgeflag.publish(dashboard(true));
    s = await until("version 5 by polling", (x) => x.version === v5.version);
    assert.equal(s.via, "poll");
    proxy.restore();
    s = await until("the stream after the freeze", (x) => x.mode === "stream");
    assert.equal(await page.getAttribute("#live", "data-mode"), "stream");
    console.log(`  browser: version pushed in ${pushMs} ms; ${JSON.stringify(s.updates)}`);
  } finally {
    await page?.close();
    await proxy.close();
    await edgeflag.stop();
  }
});
