//! The CDN-friendly origin: `GET /api/flags` and the public read-only path `/edge/` send
//! Cache-Control with stale-while-revalidate guidance and strong ETags; the manifest describes
//! exactly the bytes served.

mod common;

use common::{client, header, spawn, TOKEN};
use serde_json::Value;
use sha2::Digest;

#[tokio::test]
async fn the_origin_tells_caches_how_long_and_how_stale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN, "--edge-max-age", "2s", "--edge-stale-while-revalidate", "1m"]).await;
    let http = client();

    let api = http.get(server.url("/api/flags")).send().await.expect("GET");
    let etag = header(&api, "etag");
    let cc = header(&api, "cache-control");
    assert!(cc.contains("max-age=0") && cc.contains("stale-while-revalidate=") && cc.contains("stale-if-error="), "{cc}");
    let not_modified = http.get(server.url("/api/flags")).header("if-none-match", &etag).send().await.expect("GET");
    assert_eq!(not_modified.status(), 304);
    assert_eq!(header(&not_modified, "cache-control"), cc, "a 304 refreshes the cache's copy with the same guidance");
    let api_body = api.bytes().await.expect("body");

    let edge = http.get(server.url("/edge/flags.json")).send().await.expect("GET");
    assert_eq!(edge.status(), 200);
    assert_eq!(header(&edge, "cache-control"), "public, max-age=2, stale-while-revalidate=60, stale-if-error=86400");
    assert_eq!(header(&edge, "etag"), etag, "the same entity as /api/flags");
    assert_eq!(header(&edge, "x-edgeflag-version"), "1");
    assert_eq!(edge.bytes().await.expect("body"), api_body);
    let edge_304 = http.get(server.url("/edge/flags.json")).header("if-none-match", &etag).send().await.expect("GET");
    assert_eq!(edge_304.status(), 304);

    let manifest = http.get(server.url("/edge/manifest.json")).send().await.expect("GET");
    assert_eq!(header(&manifest, "cache-control"), "public, max-age=2, stale-while-revalidate=60, stale-if-error=86400");
    let manifest_etag = header(&manifest, "etag");
    assert_ne!(manifest_etag, etag, "the manifest is its own entity");
    let m: Value = manifest.json().await.expect("json");
    let sha: String = sha2::Sha256::digest(&api_body).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!((m["version"].as_u64(), m["etag"].as_str(), m["sha256"].as_str()), (Some(1), Some(etag.as_str()), Some(sha.as_str())));
    assert_eq!(m["bytes"].as_u64(), Some(api_body.len() as u64));
    // The checksum loadValidated checks in the module: of the very bytes served.
    assert_eq!(m["xxh64"].as_str(), Some(edgeflag_evaluator::checksum::file_checksum_hex(&api_body).as_str()));
    let immutable = http.get(server.url(&format!("/edge/{}", m["immutable"].as_str().expect("path")))).send().await.expect("GET");
    assert_eq!(header(&immutable, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(immutable.bytes().await.expect("body"), api_body);
    for missing in ["/edge/versions/9.json", "/edge/versions/x.json", "/edge/versions/1"] {
        assert_eq!(http.get(server.url(missing)).send().await.expect("GET").status(), 404, "{missing}");
    }
    // Read-only: nothing under /edge/ writes, whatever the token.
    let put = http.put(server.url("/edge/flags.json")).bearer_auth(TOKEN).body(api_body.clone()).send().await.expect("PUT");
    assert_eq!(put.status(), 405);

    // A new version: new ETag and manifest on the edge path at once.
    let (_, _, file) = server.current().await;
    let resp = server.put(&common::with_description(&file, 0, "v2"), &etag).await;
    assert_eq!(resp.status(), 200);
    let edge = http.get(server.url("/edge/flags.json")).header("if-none-match", &etag).send().await.expect("GET");
    assert_eq!(edge.status(), 200);
    let m: Value = http.get(server.url("/edge/manifest.json")).send().await.expect("GET").json().await.expect("json");
    assert_eq!(m["version"], 2);
    assert_ne!(header(&http.get(server.url("/edge/manifest.json")).send().await.expect("GET"), "etag"), manifest_etag);
}
