// Writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) next to every compressible file of a
// static build, for servers that send precompressed files by Accept-Encoding (the edgeflag
// server does). Node's built-in zlib has both, so no tool is installed for this. A variant is
// kept only when it is smaller than the file; stale variants of removed files are deleted.
// Prints raw / gzip / brotli sizes.
//   node scripts/precompress.mjs [dist]
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = process.argv[2] ?? "dist";
const COMPRESSIBLE = /\.(html|js|mjs|css|wasm|svg|json|map|txt|xml|ico|webmanifest)$/;
const MIN_BYTES = 256;

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

const files = [...walk(root)];
const present = new Set(files);
let totals = { raw: 0, gz: 0, br: 0 };
const rows = [];
for (const path of files) {
  if (/\.(br|gz)$/.test(path)) {
    // A variant whose file is gone (or is no longer compressed) is stale.
    const source = path.slice(0, -3);
    if (!present.has(source) || !COMPRESSIBLE.test(source)) unlinkSync(path);
    continue;
  }
  if (!COMPRESSIBLE.test(path)) continue;
  const data = readFileSync(path);
  const variants = { gz: null, br: null };
  if (data.length >= MIN_BYTES) {
    variants.gz = gzipSync(data, { level: 9 });
    variants.br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        [constants.BROTLI_PARAM_MODE]: path.endsWith(".wasm") ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
      },
    });
  }
  for (const [ext, bytes] of Object.entries(variants)) {
    const out = `${path}.${ext}`;
    if (bytes && bytes.length < data.length) {
      writeFileSync(out, bytes);
      statSync(out); // fail loudly if the write did not land
    } else if (present.has(out)) {
      unlinkSync(out);
      variants[ext] = null;
    } else {
      variants[ext] = null;
    }
  }
  const gz = variants.gz?.length ?? data.length;
  const br = variants.br?.length ?? data.length;
  totals.raw += data.length;
  totals.gz += gz;
  totals.br += br;
  rows.push([relative(root, path), data.length, gz, br]);
}
rows.sort((a, b) => b[1] - a[1]);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(10);
console.log(`precompressed ${rows.length} files in ${root}/ (raw, gzip -9, brotli 11):`);
for (const [name, raw, gz, br] of rows) console.log(`  ${kb(raw)} ${kb(gz)} ${kb(br)}  ${name}`);
console.log(`  ${kb(totals.raw)} ${kb(totals.gz)} ${kb(totals.br)}  total`);
