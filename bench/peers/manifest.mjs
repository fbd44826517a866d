// The checksums /edge/manifest.json publishes for a flag file, as the benches stand in for the
// server (Node only): `sha256` (loadValidated checks it with WebCrypto) and `xxh64` (checked in
// the module, by builds since 2026-12-02; tests/js/xxh64.mjs is a reference from the spec).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { xxh64 } from "../../tests/js/xxh64.mjs";

/** `{ sha256, xxh64 }` of `text` (a string, as its UTF-8 bytes, or bytes). */
export const manifestChecksums = (text) => ({ sha256: createHash("sha256").update(text).digest("hex"), xxh64: xxh64(text) });

/** Whether the package at `pkgDir` has `FlagSet.loadValidated`. */
export const hasLoadValidated = (pkgDir) => existsSync(path.join(pkgDir, "validated.js"));

/** Whether its `loadValidated` takes the manifest's `xxh64` (older builds: the SHA-256 only). */
export const takesXxh64 = (pkgDir) => hasLoadValidated(pkgDir) && readFileSync(path.join(pkgDir, "validated.js"), "utf8").includes("XXH64");
