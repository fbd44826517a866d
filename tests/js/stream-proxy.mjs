// A loopback HTTP proxy in front of the edgeflag server that a test can use to break the
// change stream (GET /api/flags/stream) while every other request still goes through:
// `cut()` resets the open streams and refuses new ones, `freeze()` keeps them open but
// forwards nothing more (a silent, half-dead connection), `restore()` lets streams through again.
import http from "node:http";

const STREAM_PATH = "/api/flags/stream";
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"];

export async function startStreamProxy(target) {
  const upstream = new URL(target);
  const open = new Set(); // { res, up, upRes }
  let mode = "pass"; // "pass" | "cut" | "freeze"
  const stats = { streams: 0, refused: 0 };

  const server = http.createServer((req, res) => {
    const isStream = new URL(req.url, "http://x").pathname === STREAM_PATH;
    if (isStream && mode === "cut") {
      stats.refused++;
      req.socket.destroy();
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    const up = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent: false },
      (upRes) => {
        const out = { ...upRes.headers };
        for (const h of HOP_BY_HOP) delete out[h];
        res.writeHead(upRes.statusCode, out);
        if (!isStream) {
          upRes.pipe(res);
          return;
        }
        stats.streams++;
        const entry = { res, up, upRes };
        open.add(entry);
        res.flushHeaders();
        upRes.on("data", (chunk) => {
          if (mode !== "freeze") res.write(chunk);
        });
        upRes.on("end", () => res.end());
        const drop = () => {
          open.delete(entry);
          up.destroy();
        };
        res.on("close", drop);
        upRes.on("error", () => res.destroy());
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 1000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    stats,
    /** Open streams right now. */
    get streams() {
      return open.size;
    },
    cut() {
      mode = "cut";
      for (const { res, up } of open) {
        res.destroy();
        up.destroy();
      }
      open.clear();
    },
    freeze() {
      mode = "freeze";
    },
    restore() {
      mode = "pass";
    },
    close: () =>
      new Promise((r) => {
        for (const { res, up } of open) {
          res.destroy();
          up.destroy();
        }
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}
