// Server-sent events read from a fetch response body. EventSource is not in Node 20 nor in
// workerd, and it cannot be aborted from a watchdog cleanly; a fetch stream works everywhere
// (browsers, Node, workerd) and is one code path.

/** Yields `{ event, data, id }` for each dispatched event of `body` (a ReadableStream of bytes). */
export async function* readEvents(body, { maxEventBytes = 32 * 1024 * 1024 } = {}) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data = [];
  let id = null;
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { event, data: data.join("\n"), id };
          event = "message";
          data = [];
          size = 0;
          continue;
        }
        if (line.startsWith(":")) continue; // a comment
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let val = colon === -1 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "event") event = val;
        else if (field === "data") {
          size += val.length;
          // A bound on what one event may hold: a broken or hostile stream cannot grow it forever.
          if (size > maxEventBytes) throw new Error(`stream event over ${maxEventBytes} bytes`);
          data.push(val);
        } else if (field === "id") id = val;
      }
      if (buffer.length > maxEventBytes) throw new Error(`stream line over ${maxEventBytes} bytes`);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
