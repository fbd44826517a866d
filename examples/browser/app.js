// Loads the WASM package (the browser entry: async init), fetches the flag file and evaluates
// on every form submit. `?flags=URL` picks another flag file.
import init, { FlagSet, engineVersion } from "../../wasm/pkg/web.js";

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
  const source = new URLSearchParams(location.search).get("flags") ?? "../flags.json";
  $("source").textContent = source;
  const flags = new FlagSet(await (await fetch(source)).text());
  const form = $("ctx");
  const evaluate = () => {
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
  window.edgeflag = { FlagSet, flags };
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  $("error").textContent = `failed to start: ${e.message}`;
  document.body.dataset.ready = "error";
});
