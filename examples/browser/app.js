// Loads the WASM package (the browser entry: async init), fetches the flag file and evaluates
// on every form submit. `?flags=URL` picks another flag file. `?server=URL` follows an edgeflag
// server instead: its change stream swaps new versions in as they are published (falling back
// to polling every `?poll=` ms while the stream is down), and the answers update on their own.
import init, { FlagSet, engineVersion } from "../../wasm/pkg/web.js";
import { LiveFlags } from "./live-flags.js";

const $ = (id) => document.getElementById(id);

function contextFrom(form) {
  const data = new FormData(form);
  const ctx = {};
  for (const name of ["targetingKey", "country", "email"]) {
    const v = String(data.get(name) ?? "").trim();
    if (v) ctx[name] = v;
  }
  return { ctx, env: String(data.get("env") ?? "") || undefined };
}

function render(results) {
  const rows = results.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.flag = r.key;
    for (const text of [r.key, r.variant ?? "", JSON.stringify(r.value), r.reason + (r.errorCode ? ` (${r.errorCode})` : "")]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  });
  $("results").replaceChildren(...rows);
}

async function main() {
  await init(); // fetches edgeflag_wasm_bg.wasm next to the JS module (instantiateStreaming)
  $("engine").textContent = engineVersion();
  const params = new URLSearchParams(location.search);
  const server = params.get("server");
  const source = server ? `${server} (live)` : params.get("flags") ?? "../flags.json";
  $("source").textContent = source;
  let live = null;
  let evaluate = () => {};
  const showLive = () => {
    const s = live.status();
    $("live").textContent = `${s.mode === "stream" ? "live (stream)" : s.mode === "polling" ? "polling (stream down)" : s.mode}, version ${s.version}`;
    $("live").dataset.mode = s.mode;
  };
  let flags;
  if (server) {
    const pollMs = Number(params.get("poll") ?? 5000);
    live = new LiveFlags({
      server,
      FlagSet,
      pollMs: Number.isFinite(pollMs) && pollMs > 0 ? pollMs : 5000,
      onChange: () => {
        evaluate();
        showLive();
      },
      onStatus: showLive,
    });
    flags = await live.start();
    showLive();
  } else {
    flags = new FlagSet(await (await fetch(source)).text());
  }
  const form = $("ctx");
  evaluate = () => {
    try {
      const { ctx, env } = contextFrom(form);
      render(flags.evaluateAll(ctx, env));
      $("error").textContent = "";
    } catch (e) {
      $("error").textContent = e.message;
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    evaluate();
  });
  evaluate();
  // For tests and the console: the module and the loaded set.
  window.edgeflag = { FlagSet, flags, live };
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  $("error").textContent = `failed to start: ${e.message}`;
  document.body.dataset.ready = "error";
});
