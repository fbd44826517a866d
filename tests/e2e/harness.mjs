// The end-to-end suites' shared runner: `test` (ok / not ok / skip lines), child processes and
// temp dirs that are always cleaned up, the headless Chromium launch, and `run(main)`, which
// prints "N passed, M failed, K skipped" (scripts/test-dashboard.sh reads it) and exits 1 on
// any failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = process.cwd();
export const TOKEN = 'e2e-admin-token';
export const SHOTS = join(ROOT, 'docs/screenshots');

const results = [];
const children = [];
const tempDirs = [];
let browser;

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one test; with `skipReason` it is reported as skipped, with the reason. */
export async function test(name, fn, skipReason) {
  if (skipReason) {
    results.push([name, 'skip']);
    console.log(`skip - ${name}: ${skipReason}`);
    return;
  }
  try {
    await fn();
    results.push([name, 'pass']);
    console.log(`ok - ${name}`);
  } catch (e) {
    results.push([name, 'fail']);
    console.log(`not ok - ${name}\n  ${String((e && e.stack) || e).split('\n').slice(0, 4).join('\n  ')}`);
  }
}

/** A temp dir removed when the suite ends. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Starts a child process (stopped when the suite ends) and resolves with the first match of
 * `ready` in its output. */
export function start(cmd, args, ready, what) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out.slice(-2000)}`)), 30000);
    const onData = (chunk) => {
      out += chunk;
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${out.slice(-2000)}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The edgeflag server (target/debug/edgeflag) serving the built dashboard from a fresh data
 * dir; resolves with its base URL. */
export async function startServer(extraArgs = []) {
  const { match } = await start(join(ROOT, 'target/debug/edgeflag'), [
    'serve', '--static-dir', join(ROOT, 'dist'), '--addr', '127.0.0.1:0', '--data-dir', tempDir('edgeflag-e2e-'),
    '--token', TOKEN, ...extraArgs,
  ], /listening on (http:\/\/127\.0\.0\.1:\d+)/, 'edgeflag server');
  return match[1];
}

/** A page in Debian's headless Chromium (never a downloaded browser), collecting page errors. */
export async function openPage({ height = 850, timeout = 10000 } = {}) {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = await (await browser.newContext({ viewport: { width: 1366, height } })).newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(timeout);
  return { page, pageErrors };
}

/** Runs the suite, cleans up whatever happened, prints the summary and exits. */
export async function run(main, atEnd = () => {}) {
  try {
    await main();
  } catch (e) {
    console.log(`not ok - harness: ${(e && e.stack) || e}`);
    results.push(['harness', 'fail']);
  } finally {
    if (browser) await browser.close().catch(() => {});
    for (const child of children) await stop(child).catch(() => {});
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    atEnd();
  }
  const count = (s) => results.filter((r) => r[1] === s).length;
  console.log(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  process.exit(count('fail') > 0 ? 1 : 0);
}
