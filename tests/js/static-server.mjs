// A loopback static file server for the browser tests: serves only the listed directories
// (by default wasm/pkg and examples), with the MIME types ES modules and instantiateStreaming need.
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { root } from "./helpers.mjs";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const DEFAULT_ALLOWED = ["wasm/pkg/", "examples/"];

export async function startStaticServer(allowed = DEFAULT_ALLOWED) {
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, "");
    const file = path.resolve(root, rel);
    if (!allowed.some((dir) => file.startsWith(path.join(root, dir)))) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}
