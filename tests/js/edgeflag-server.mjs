// Starts the real edgeflag server (target/debug/edgeflag, built by `cargo build -p
// edgeflag-cli`) on a loopback port with its own data directory, for the JS tests; always
// stopped and cleaned up by `stop()`.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "./helpers.mjs";

export const edgeflagBin = path.join(root, "target/debug/edgeflag");
export const edgeflagMissing = existsSync(edgeflagBin) ? false : `${edgeflagBin} is not built (cargo build -p edgeflag-cli)`;
export const ADMIN = "js-test-admin-token";

// The tokens are given on the command line; none may come from the caller's environment.
function cleanEnv() {
  const env = { ...process.env };
  delete env.EDGEFLAG_ADMIN_TOKEN;
  delete env.EDGEFLAG_INGEST_TOKEN;
  return env;
}

/** `edgeflag serve` with `examples/flags.json` and `args`; resolves once it listens. */
export async function startEdgeflag(args = []) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "edgeflag-js-"));
  const child = spawn(
    edgeflagBin,
    ["serve", "--addr", "127.0.0.1:0", "--data-dir", path.join(dir, "data"), "--flags", path.join(root, "examples/flags.json"),
      "--static-dir", path.join(dir, "none"), "--token", ADMIN, ...args],
    { stdio: ["ignore", "pipe", "inherit"], env: cleanEnv() },
  );
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const base = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`edgeflag exited ${code}: ${out}`)));
  });
  child.stdout.resume();
  const api = {
    base,
    /** GET /api/flags → { etag, version, file }. */
    async current() {
      const res = await fetch(`${base}/api/flags`);
      return { etag: res.headers.get("etag"), version: Number(res.headers.get("x-edgeflag-version")), file: await res.json() };
    },
    /** Publishes `change(file)` as a new version; resolves with { etag, version, file }. */
    async publish(change) {
      const { etag, file } = await api.current();
      const next = change(structuredClone(file));
      const res = await fetch(`${base}/api/flags`, {
        method: "PUT",
        headers: { authorization: `Bearer ${ADMIN}`, "if-match": etag, "content-type": "application/json" },
        body: JSON.stringify(next),
      });
      if (res.status !== 200) throw new Error(`publish: HTTP ${res.status} ${await res.text()}`);
      const body = await res.json();
      return { etag: body.etag, version: body.version, file: next };
    },
    async stop() {
      process.removeListener("exit", kill);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}

/** The file with a flag's `default_variation` (or anything) changed: `set(file)` edits in place. */
export function edit(set) {
  return (file) => {
    set(file);
    return file;
  };
}
