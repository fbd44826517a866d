// A loopback static server for the web provider's page: the provider, the WASM package and the
// OpenFeature SDK's ES modules, with the MIME types browsers need for modules and WASM.
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { root } from "../js/helpers.mjs";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const ALLOWED = ["wasm/pkg/", "providers/js/", "tests/providers/web/", "node_modules/@openfeature/"];

export async function startStaticServer() {
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, "");
    const file = path.resolve(root, rel);
    if (!ALLOWED.some((dir) => file.startsWith(path.join(root, dir)))) {
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
