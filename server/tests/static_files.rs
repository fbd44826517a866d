//! The dashboard's files from the real server: precompressed variants chosen by
//! `Accept-Encoding`, `Vary`, caching headers, and identity for clients that accept neither.
//! The variants are written by the real build step, `scripts/precompress.mjs` (node).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, IF_MODIFIED_SINCE, LAST_MODIFIED, VARY};

const JS: &str = "edgeflag-dashboard-0123456789abcdef.js";
const WASM: &str = "edgeflag-dashboard-0123456789abcdef_bg.wasm";
const CSS: &str = "style-89abcdef0123456.css";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A small build: index.html naming hashed assets, compressible enough to be worth it.
fn write_dist(dir: &Path) {
    let filler: String = (0..200).map(|i| format!("<!-- line {i} of a page that compresses well -->\n")).collect();
    let index = format!(
        "<!doctype html><html><head><link rel=\"stylesheet\" href=\"./{CSS}\"><script type=\"module\" src=\"./{JS}\"></script></head><body>{filler}</body></html>"
    );
    std::fs::write(dir.join("index.html"), index).expect("index");
    let js: String = (0..2000).map(|i| format!("export function f{i}(x) {{ return x + {i}; }}\n")).collect();
    std::fs::write(dir.join(JS), js).expect("js");
    let wasm: Vec<u8> = (0..100_000u32).map(|i| (i % 7) as u8).collect();
    std::fs::write(dir.join(WASM), wasm).expect("wasm");
    let css: String = (0..300).map(|i| format!(".c{i} {{ margin: {i}px; }}\n")).collect();
    std::fs::write(dir.join(CSS), css).expect("css");
    std::fs::write(dir.join("tiny.txt"), "too small to compress").expect("tiny");
    // A variant left over from an older build: the script removes it.
    std::fs::write(dir.join("old-1111111111111111.js.br"), "stale").expect("stale");
}

async fn precompress(dir: &Path) -> bool {
    let status = tokio::process::Command::new("node")
        .arg(repo_root().join("scripts/precompress.mjs"))
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .await;
    match status {
        Ok(s) => s.success(),
        Err(e) => panic!("node is needed for scripts/precompress.mjs (scripts/setup.sh installs it): {e}"),
    }
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<&str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn assets_are_sent_precompressed_by_accept_encoding_with_vary_and_cache_headers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dist = tmp.path().join("dist");
    std::fs::create_dir_all(&dist).expect("dist");
    write_dist(&dist);
    assert!(precompress(&dist).await, "precompress.mjs failed");
    for name in [JS, WASM, CSS, "index.html"] {
        for ext in ["br", "gz"] {
            let variant = dist.join(format!("{name}.{ext}"));
            let size = std::fs::metadata(&variant).map(|m| m.len()).unwrap_or(0);
            let raw = std::fs::metadata(dist.join(name)).map(|m| m.len()).unwrap_or(0);
            assert!(size > 0 && size < raw, "{name}.{ext}: {size} B for {raw} B");
        }
    }
    assert!(!dist.join("tiny.txt.br").exists(), "tiny files are left alone");
    assert!(!dist.join("old-1111111111111111.js.br").exists(), "stale variants are removed");

    let server = spawn_with_static(&tmp.path().join("data"), &dist).await;
    let http = common::client();
    let get = |path: &str, accept: Option<&str>| {
        let mut req = http.get(server.url(path));
        if let Some(a) = accept {
            req = req.header(ACCEPT_ENCODING, a);
        }
        req.send()
    };

    // Brotli first when both are accepted; the bytes are the .br file.
    for (path, file) in [(format!("/{JS}"), JS), (format!("/{WASM}"), WASM), (format!("/{CSS}"), CSS)] {
        let resp = get(&path, Some("gzip, deflate, br, zstd")).await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, CONTENT_ENCODING), Some("br"), "{path}");
        assert_eq!(header(&resp, VARY), Some("accept-encoding"), "{path}");
        assert_eq!(header(&resp, CACHE_CONTROL), Some("public, max-age=31536000, immutable"), "{path}");
        let body = resp.bytes().await.expect("body");
        assert_eq!(body.as_ref(), std::fs::read(dist.join(format!("{file}.br"))).expect("br").as_slice(), "{path}");
    }
    // gzip when brotli is not accepted (or refused with q=0).
    for accept in ["gzip", "br;q=0, gzip"] {
        let resp = get(&format!("/{JS}"), Some(accept)).await.expect("get");
        assert_eq!(header(&resp, CONTENT_ENCODING), Some("gzip"), "{accept}");
        let body = resp.bytes().await.expect("body");
        assert_eq!(body.as_ref(), std::fs::read(dist.join(format!("{JS}.gz"))).expect("gz").as_slice());
    }
    // No Accept-Encoding (or only unknown codings): identity, still with Vary.
    for accept in [None, Some("identity"), Some("compress")] {
        let resp = get(&format!("/{JS}"), accept).await.expect("get");
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, CONTENT_ENCODING), None, "{accept:?}");
        assert_eq!(header(&resp, VARY), Some("accept-encoding"));
        let body = resp.bytes().await.expect("body");
        assert_eq!(body.as_ref(), std::fs::read(dist.join(JS)).expect("js").as_slice());
    }

    // index.html, at / and as the SPA fallback: compressed, never cached without revalidation.
    // A flag URL whose key ends like a file name (`config.json`) is the dashboard too.
    for path in ["/", "/index.html", "/canary/payment-processor", "/flags/a.b/canary", "/flags/config.json"] {
        let resp = get(path, Some("br, gzip")).await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, CACHE_CONTROL), Some("no-cache"), "{path}");
        assert_eq!(header(&resp, CONTENT_ENCODING), Some("br"), "{path}");
        assert_eq!(header(&resp, VARY), Some("accept-encoding"), "{path}");
        assert!(header(&resp, reqwest::header::CONTENT_TYPE).is_some_and(|ct| ct.starts_with("text/html")), "{path}");
    }
    // Revalidation of index.html: 304 with the same headers.
    let resp = get("/index.html", Some("br")).await.expect("get");
    let modified = header(&resp, LAST_MODIFIED).expect("Last-Modified").to_string();
    let resp = http
        .get(server.url("/index.html"))
        .header(ACCEPT_ENCODING, "br")
        .header(IF_MODIFIED_SINCE, modified)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 304);
    assert_eq!(header(&resp, CACHE_CONTROL), Some("no-cache"));
    assert_eq!(header(&resp, VARY), Some("accept-encoding"));
    // A file without a content hash is revalidated too.
    let resp = get("/tiny.txt", Some("br")).await.expect("get");
    assert_eq!((resp.status().as_u16(), header(&resp, CONTENT_ENCODING)), (200, None));
    assert_eq!(header(&resp, CACHE_CONTROL), Some("no-cache"));
    // A missing asset is a 404 (a stale page must not get HTML as its script), never cached
    // as immutable; an unknown API path is a JSON 404, not the dashboard.
    let resp = get("/missing-fedcba9876543210.js", Some("br")).await.expect("get");
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, CACHE_CONTROL), Some("no-cache"));
    for path in ["/api/nope", "/edge/nope.json", "/ofrep/v1/nope"] {
        let resp = get(path, Some("br")).await.expect("get");
        assert_eq!(resp.status(), 404, "{path}");
        let body: serde_json::Value = resp.json().await.expect("a JSON error body");
        assert!(body["error"].as_str().is_some_and(|e| e.contains(path)), "{path}: {body}");
    }
    // The API is not affected.
    let resp = get("/healthz", Some("br")).await.expect("get");
    assert_eq!((resp.status().as_u16(), header(&resp, CONTENT_ENCODING)), (200, None));
}

/// Like `common::spawn`, with `--static-dir dist`.
async fn spawn_with_static(data: &Path, dist: &Path) -> common::Server {
    use tokio::io::AsyncBufReadExt;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgeflag-server"));
    cmd.arg("--addr").arg("127.0.0.1:0").arg("--data-dir").arg(data);
    cmd.arg("--flags").arg(common::fixture()).arg("--static-dir").arg(dist);
    cmd.args(["--token", common::TOKEN, "--no-controller"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    break rest.trim_end_matches('/').to_string();
                }
            }
            _ => panic!("server exited before listening"),
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    common::Server { child, api: common::Api { base }, banner: Vec::new() }
}
