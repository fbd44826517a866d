//! The published flag file as static files, so edges can be fed from object storage and a CDN
//! without the server: `edgeflag export DIR` writes them, and the server's public read-only
//! path `/edge/` serves the same layout.
//!
//! ```text
//! DIR/flags.json          the current file (canonical JSON, byte for byte what GET /api/flags serves)
//! DIR/manifest.json       {"version", "etag", "sha256", "xxh64", "bytes", "created_at", "file", "immutable"}
//! DIR/versions/<n>.json   the same bytes under a name that never changes (cache it forever)
//! ```
//!
//! An edge polls the small `manifest.json` (or revalidates `flags.json` with its ETag), and
//! checks the body it fetched against `sha256` before swapping it in (or hands it with `xxh64`
//! to `FlagSet.loadValidated`, which checks that one inside the WASM module). Files are written to a
//! temporary name and renamed, the manifest last, so a reader never sees a torn file, nor a
//! manifest naming a file that is not there yet.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{hex, Snapshot};

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// The flag-file version.
    pub version: u64,
    /// Its strong ETag, as the server sends it (quoted).
    pub etag: String,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The engine's file checksum (XXH64, 16 lowercase hex digits) of the same bytes: what
    /// `FlagSet.loadValidated` checks without loading WebCrypto (evaluator `checksum`).
    #[serde(default)] // absent from manifests written before it
    pub xxh64: String,
    pub bytes: u64,
    /// When the version was written (RFC 3339).
    pub created_at: String,
    /// The current file, relative to the manifest.
    pub file: String,
    /// The same bytes under a name unique to this version, relative to the manifest.
    pub immutable: String,
}

impl Manifest {
    /// The manifest of version `version` whose stored text is `body`.
    pub fn new(version: u64, etag: &str, body: &[u8], created_at: &str) -> Manifest {
        Manifest {
            version,
            etag: etag.to_string(),
            sha256: hex(&Sha256::digest(body)),
            xxh64: edgeflag_evaluator::checksum::file_checksum_hex(body),
            bytes: body.len() as u64,
            created_at: created_at.to_string(),
            file: "flags.json".into(),
            immutable: format!("versions/{version}.json"),
        }
    }

    pub fn of(snapshot: &Snapshot) -> Manifest {
        Manifest::new(snapshot.version, &snapshot.etag, &snapshot.body, &snapshot.created_at)
    }
}

/// Writes `snapshot` into `dir` (created if missing) and returns its manifest.
pub fn export(snapshot: &Snapshot, dir: &Path) -> anyhow::Result<Manifest> {
    export_version(Manifest::of(snapshot), &snapshot.body, dir)
}

/// Writes `body` (the version `manifest` describes) into `dir`, the manifest last.
pub fn export_version(manifest: Manifest, body: &[u8], dir: &Path) -> anyhow::Result<Manifest> {
    let versions = dir.join("versions");
    std::fs::create_dir_all(&versions).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", versions.display()))?;
    write_atomically(&dir.join(&manifest.immutable), body)?;
    write_atomically(&dir.join(&manifest.file), body)?;
    let mut text = serde_json::to_vec_pretty(&manifest)?;
    text.push(b'\n');
    write_atomically(&dir.join("manifest.json"), &text)?;
    Ok(manifest)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!("cannot write {}: {e}", path.display());
    }
    Ok(())
}
