//! `GET/PUT/PATCH/DELETE /api/flags/{key}` and `/api/segments/{key}` against the real server
//! process (no controller): shapes, preconditions, roles, encoded keys, validation.

mod common;

use common::{client, flag_file, header, plain_flag, spawn_with, TOKEN};
use edgeflag_server::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn a_flag_round_trip_with_item_etags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut slash = plain_flag("team/checkout");
    slash["description"] = json!("a key with a slash");
    let flags = flag_file(dir.path(), vec![plain_flag("a"), slash]);
    let server = spawn_with(&dir.path().join("data"), &flags, &["--token", TOKEN, "--no-controller"]).await;
    let http = client();

    // GET: the flag, its ETag (version it last changed in), the file version; 304; 404.
    let resp = http.get(server.url("/api/flags/team%2Fcheckout")).send().await.expect("get");
    assert_eq!(resp.status(), 200);
    let etag = header(&resp, "etag");
    assert!(etag.starts_with("\"1-") && etag.len() == 20, "{etag}");
    assert_eq!((header(&resp, "x-edgeflag-version").as_str(), header(&resp, "cache-control").as_str()), ("1", "no-cache"));
    let flag: Value = resp.json().await.expect("json");
    assert_eq!(flag["description"], "a key with a slash");
    let resp = http.get(server.url("/api/flags/team%2Fcheckout")).header("if-none-match", &etag).send().await.expect("get");
    assert_eq!(resp.status(), 304);
    assert_eq!(http.get(server.url("/api/flags/nope")).send().await.expect("get").status(), 404);
    assert_eq!(http.get(server.url("/api/flags/team/checkout")).send().await.expect("get").status(), 404, "an unencoded slash is another path");

    // A write to "a" leaves the other flag's ETag alone.
    let (status, body) = server.write_flag(Method::PATCH, "a", TOKEN, &server.flag("a").await.0, Some(&json!({"enabled": false}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert!(body["etag"].as_str().is_some_and(|e| e.len() == 34) && body["flag_etag"].as_str().is_some_and(|e| e.starts_with("\"2-")), "{body}");
    let (etag_now, version_now, _) = server.flag("team%2Fcheckout").await;
    assert_eq!((etag_now.as_str(), version_now), (etag.as_str(), 2));

    // Preconditions.
    let (status, body) = server.write_flag(Method::PATCH, "a", TOKEN, "\"0123456789abcdef0123456789abcdef\"", Some(&json!({}))).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["current_version"], 2);
    assert!(body["current_etag"].is_string() && body["flag_etag"].is_string(), "{body}");
    let (status, _) = server.write_flag(Method::PATCH, "a", TOKEN, "*", Some(&json!({}))).await;
    assert_eq!(status, 428, "If-Match: * is not a base");
    let resp = http
        .patch(server.url("/api/flags/a"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/merge-patch+json")
        .body("{}")
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), 428);
    let resp = http
        .patch(server.url("/api/flags/a"))
        .bearer_auth(TOKEN)
        .header("if-match", server.flag("a").await.0)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), 415);

    // Create with If-None-Match: *, through an encoded key; 412 when it exists.
    let mut created = plain_flag("team/payments");
    created["tags"] = json!(["new"]);
    let create = || {
        http.put(server.url("/api/flags/team%2Fpayments"))
            .bearer_auth(TOKEN)
            .header("if-none-match", "*")
            .header("x-edgeflag-message", "créé: a new flag")
            .json(&created)
            .send()
    };
    let resp = create().await.expect("create");
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-edgeflag-version"), "3");
    let resp = create().await.expect("create again");
    assert_eq!(resp.status(), 412);
    let history = server.history().await;
    assert_eq!((history[0]["author"].as_str(), history[0]["message"].as_str()), (Some("admin"), Some("créé: a new flag")));
    assert_eq!(history[0]["changed_flags"], json!(["team/payments"]));

    // Body rules: the key must match, the result must validate (paths into the whole file).
    let (etag, _, flag) = server.flag("a").await;
    let mut renamed = flag.clone();
    renamed["key"] = json!("b");
    let (status, body) = server.write_flag(Method::PUT, "a", TOKEN, &etag, Some(&renamed)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["problems"][0]["path"], "key");
    let (status, body) = server.write_flag(Method::PATCH, "a", TOKEN, &etag, Some(&json!({"default_variation": "nope", "off_variation": "nope"}))).await;
    assert_eq!(status, 422, "{body}");
    let paths: Vec<&str> = body["problems"].as_array().expect("problems").iter().filter_map(|p| p["path"].as_str()).collect();
    assert!(paths.contains(&"flags[0].default_variation") && paths.contains(&"flags[0].off_variation"), "{paths:?}");
    let resp = http.put(server.url("/api/flags/a")).bearer_auth(TOKEN).header("if-match", &etag).body("{oops").send().await.expect("put");
    assert_eq!(resp.status(), 422);

    // DELETE: stale → 409, current → 200, then 404.
    let (stale, _, _) = server.flag("team%2Fpayments").await;
    let (status, _) = server.write_flag(Method::PATCH, "team%2Fpayments", TOKEN, &stale, Some(&json!({"enabled": false}))).await;
    assert_eq!(status, 200);
    let (status, body) = server.write_flag(Method::DELETE, "team%2Fpayments", TOKEN, &stale, None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!((body["conflicts"][0]["path"].as_str(), body["conflicts"][0]["kind"].as_str()), (Some("enabled"), Some("changed_since_base")));
    let (status, body) = server.write_flag(Method::DELETE, "team%2Fpayments", TOKEN, &server.flag("team%2Fpayments").await.0, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("flag_etag").is_none());
    assert_eq!(http.get(server.url("/api/flags/team%2Fpayments")).send().await.expect("get").status(), 404);
    let (status, _) = server.write_flag(Method::DELETE, "team%2Fpayments", TOKEN, &stale, None).await;
    assert_eq!(status, 404);
    // The history route is not a flag; a flag called "history" is reached encoded.
    assert!(server.get_json("/api/flags/history").await.is_array());
}

#[tokio::test]
async fn writes_need_an_admin_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let ingest = common::create_token(&data, "edge", Role::Ingest);
    let read = common::create_token(&data, "viewer", Role::Read);
    let flags = flag_file(dir.path(), vec![plain_flag("a")]);
    let server = spawn_with(&data, &flags, &["--token", TOKEN, "--no-controller"]).await;
    let (etag, _, _) = server.flag("a").await;
    let patch = json!({"enabled": false});
    for (token, status) in [("", 401), ("wrong", 401), (ingest.as_str(), 403), (read.as_str(), 403)] {
        for method in [Method::PATCH, Method::PUT, Method::DELETE] {
            let body = if method == Method::DELETE { None } else { Some(&patch) };
            let (got, body) = server.write_flag(method.clone(), "a", token, &etag, body).await;
            assert_eq!(got, status, "{method} with {token:?}: {body}");
        }
        let resp = client()
            .put(server.url("/api/flags"))
            .bearer_auth(token)
            .header("if-match", server.current().await.0)
            .json(&server.current().await.2)
            .send()
            .await
            .expect("put");
        assert_eq!(resp.status(), status, "whole-file PUT with {token:?}");
    }
    assert_eq!(server.current().await.1, 1, "nothing written");
}

#[tokio::test]
async fn segments_have_the_same_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = flag_file(dir.path(), vec![plain_flag("a")]);
    let server = spawn_with(&dir.path().join("data"), &flags, &["--token", TOKEN, "--no-controller"]).await;
    let http = client();
    let url = server.url("/api/segments/beta%20testers");
    let resp = http
        .put(&url)
        .bearer_auth(TOKEN)
        .header("if-none-match", "*")
        .json(&json!({"key": "beta testers", "included": ["alice"]}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert!(body["segment_etag"].as_str().is_some_and(|t| t.starts_with("\"2-")), "{body}");
    let resp = http.get(&url).send().await.expect("get");
    let etag = header(&resp, "etag");
    assert_eq!(resp.json::<Value>().await.expect("json"), json!({"key": "beta testers", "included": ["alice"]}));

    // Two admins from the same base: different members merge, the same member conflicts.
    let patch = |body: Value, etag: String| {
        http.patch(&url).bearer_auth(TOKEN).header("if-match", etag).header("content-type", "application/merge-patch+json").body(body.to_string()).send()
    };
    assert_eq!(patch(json!({"excluded": ["carol"]}), etag.clone()).await.expect("patch").status(), 200);
    assert_eq!(patch(json!({"description": "testers"}), etag.clone()).await.expect("patch").status(), 200);
    let resp = patch(json!({"excluded": ["dave"]}), etag.clone()).await.expect("patch");
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.expect("json");
    assert_eq!((body["conflicts"][0]["path"].as_str(), body["conflicts"][0]["theirs"].clone()), (Some("excluded"), json!(["carol"])));
    assert_eq!(body["conflicts"][0]["theirs_version"], 3);
    let segment: Value = http.get(&url).send().await.expect("get").json().await.expect("json");
    assert_eq!(segment, json!({"key": "beta testers", "description": "testers", "included": ["alice"], "excluded": ["carol"]}));
    let history = server.history().await;
    assert_eq!(history[0]["changed_segments"], json!(["beta testers"]));
    assert_eq!(history[0]["changed_flags"], json!([]));

    // A segment a flag uses cannot be deleted (422, the flag's path).
    let (fetag, _, _) = server.flag("a").await;
    let rule = json!({"rules": [{"clauses": [{"operator": "in_segment", "values": ["beta testers"]}], "variation": "on"}]});
    assert_eq!(server.write_flag(Method::PATCH, "a", TOKEN, &fetag, Some(&rule)).await.0, 200);
    let etag = header(&http.get(&url).send().await.expect("get"), "etag");
    let resp = http.delete(&url).bearer_auth(TOKEN).header("if-match", etag).send().await.expect("delete");
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.expect("json");
    assert!(body["problems"].as_array().is_some_and(|p| p.iter().any(|p| p["path"].as_str().is_some_and(|p| p.starts_with("flags[0].rules[0]")))), "{body}");
}
