// Starts the real workerd on loopback for a test and always stops it.
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { root } from "./helpers.mjs";

export const workerdBin = path.join(root, "node_modules/.bin/workerd");

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `workerd serve config` and resolves once it answers HTTP. */
export async function startWorkerd(config, env = {}, { timeoutMs = 30_000 } = {}) {
  const port = await freePort();
  const child = spawn(workerdBin, ["serve", config, "--socket-addr", `http=127.0.0.1:${port}`], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  // Even if the test process dies, do not leave workerd running.
  process.once("exit", () => child.kill("SIGKILL"));
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while (true) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${log}`);
    try {
      await fetch(`${base}/__edgeflag/ping`, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() - started > timeoutMs) {
        await stop();
        throw new Error(`workerd did not answer within ${timeoutMs} ms:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { base, port, stop, log: () => log, startupMs: Date.now() - started };
}
