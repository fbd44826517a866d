// A loopback HTTP server that serves a flag file the way a CDN or object store does (ETag,
// If-None-Match → 304), and that a test can make fail (HTTP 500), hang (accept and never
// answer) or serve an invalid file. Always closed by the test.
import http from "node:http";
import { createHash } from "node:crypto";

export async function startFlagHost(file) {
  let text = typeof file === "string" ? file : JSON.stringify(file);
  let mode = "ok"; // "ok" | "fail" | "hang"
  const stats = { requests: 0, notModified: 0 };
  const hanging = new Set();
  const server = http.createServer((req, res) => {
    stats.requests++;
    if (mode === "hang") {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (mode === "fail") {
      res.writeHead(500, { "content-type": "text/plain" }).end("down for maintenance");
      return;
    }
    const etag = `"${createHash("sha256").update(text).digest("hex").slice(0, 16)}"`;
    if (req.headers["if-none-match"] === etag) {
      stats.notModified++;
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json", etag, "access-control-allow-origin": "*" }).end(text);
  });
  server.keepAliveTimeout = 500;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/flags.json`,
    stats,
    set(file) {
      text = typeof file === "string" ? file : JSON.stringify(file);
    },
    get file() {
      return JSON.parse(text);
    },
    mode(m) {
      mode = m;
    },
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections?.();
      return new Promise((r) => server.close(r));
    },
  };
}
