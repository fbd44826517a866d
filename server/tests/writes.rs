//! Per-flag writes against the real server process while its canary controller writes too:
//! no lost update, no reverted decision, and who did what in the history.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{canary_flag, failing, flag_file, healthy, plain_flag, spawn_with, INGEST, TOKEN};
use edgeflag_server::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// The controller every 200 ms over a 60 s window (the posted streams stay in it).
const CONTROLLER: [&str; 8] =
    ["--token", TOKEN, "--ingest-token", INGEST, "--controller-interval", "200ms", "--controller-window", "60s"];

/// Admin tokens named `names`, created in the data directory before the server starts.
fn admins(dir: &Path, names: &[&str]) -> Vec<String> {
    names.iter().map(|n| common::create_token(dir, n, Role::Admin)).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Two admins keep PATCHing the canary flag itself, each from a base read a while earlier, while
/// the controller advances it through five stages; a third PUTs whole versions of another flag.
/// Every admin write lands (nothing lost), the controller never skips or repeats a stage, and
/// the history names each actor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_flag_writes_race_the_controller_without_losing_updates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let tokens = admins(&data, &["alice", "bob", "carol"]);
    let stages = [(5.0, "1s"), (10.0, "1s"), (20.0, "1s"), (40.0, "1s"), (60.0, "1s")];
    let flags = flag_file(dir.path(), vec![canary_flag("rollout", &stages, "running"), plain_flag("other")]);
    let server = spawn_with(&data, &flags, &CONTROLLER).await;
    assert_eq!(server.post_events(INGEST, healthy("rollout")).await, 202);

    // alice accumulates tags, bob accumulates a description: each base is held 250 ms, so
    // controller writes land in between; their fields never overlap the controller's.
    let writer = |token: String, field: &'static str, name: &'static str| {
        let server = server.api.clone();
        tokio::spawn(async move {
            let (mut written, mut merged_over_controller) = (Vec::new(), 0);
            for i in 0.. {
                let (etag, _, flag) = server.flag("rollout").await;
                if flag["canary"]["status"] == "completed" && i >= 4 {
                    break;
                }
                assert!(i < 200, "{name}: the canary never completed");
                tokio::time::sleep(Duration::from_millis(250)).await;
                let entry = format!("{name}-{i}");
                let patch = match field {
                    "tags" => {
                        let mut tags = strings(&flag["tags"]);
                        tags.push(entry.clone());
                        json!({ "tags": tags })
                    }
                    _ => {
                        let text = flag["description"].as_str().unwrap_or("").to_string();
                        json!({ "description": format!("{text} {entry}").trim().to_string() })
                    }
                };
                let (status, body) = server.write_flag(Method::PATCH, "rollout", &token, &etag, Some(&patch)).await;
                assert_eq!(status, 200, "{name}'s PATCH from a stale base is merged: {body}");
                if strings(&body["kept_theirs"]).iter().any(|p| p.starts_with("canary.")) {
                    merged_over_controller += 1;
                }
                written.push(entry);
            }
            (written, merged_over_controller)
        })
    };
    let alice = writer(tokens[0].clone(), "tags", "alice");
    let bob = writer(tokens[1].clone(), "description", "bob");
    // carol: whole-flag PUTs of another flag, always from a fresh read.
    let carol = {
        let (server, token) = (server.api.clone(), tokens[2].clone());
        tokio::spawn(async move {
            for i in 0..15 {
                let (etag, _, mut flag) = server.flag("other").await;
                flag["description"] = json!(format!("carol-{i}"));
                let (status, body) = server.write_flag(Method::PUT, "other", &token, &etag, Some(&flag)).await;
                assert_eq!(status, 200, "{body}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let (alice_wrote, alice_merged) = alice.await.expect("alice");
    let (bob_wrote, bob_merged) = bob.await.expect("bob");
    carol.await.expect("carol");

    let (_, _, flag) = server.flag("rollout").await;
    assert_eq!((flag["canary"]["status"].as_str(), flag["canary"]["current_stage"].as_u64()), (Some("completed"), Some(4)));
    assert_eq!(strings(&flag["tags"]), alice_wrote, "every tag alice wrote is there, in order");
    let words: Vec<String> = flag["description"].as_str().unwrap_or("").split(' ').map(str::to_string).collect();
    assert_eq!(words, bob_wrote, "every word bob wrote is there, in order");
    assert_eq!(server.flag("other").await.2["description"], "carol-14");
    assert!(alice_merged + bob_merged > 0, "no write was based on a version the controller replaced: the race did not happen");

    let history = server.history().await;
    let by = |author: &str| history.iter().filter(|e| e["author"] == author).count();
    assert_eq!((by("alice"), by("bob"), by("carol")), (alice_wrote.len(), bob_wrote.len(), 15));
    let decisions: Vec<String> = history
        .iter()
        .rev()
        .filter(|e| e["author"] == "canary-controller")
        .map(|e| e["message"].as_str().unwrap_or("").to_string())
        .collect();
    let expected = ["advance current_stage 0 -> 1", "advance current_stage 1 -> 2", "advance current_stage 2 -> 3", "advance current_stage 3 -> 4", "complete at current_stage 4"];
    assert_eq!(decisions.len(), expected.len(), "one write per decision: {decisions:#?}");
    for (message, want) in decisions.iter().zip(expected) {
        assert!(message.starts_with(&format!("canary rollout: {want}")), "{message}");
    }
    assert!(history.iter().filter(|e| e["author"] != "initial-import").all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    assert_eq!(history.len(), 1 + alice_wrote.len() + bob_wrote.len() + 15 + 5, "nothing else was written");
}

/// An admin edits a flag in a tab opened before the controller rolled its canary back. The
/// whole-flag PUT carries `"running"`: refused with 409, the field, both values and who set
/// it; nothing is written. After a re-read the same edit goes through and keeps the rollback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_whole_flag_put_that_would_revert_the_controller_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = flag_file(dir.path(), vec![canary_flag("spiky", &[(10.0, "1s"), (50.0, "1s")], "running"), plain_flag("other")]);
    let mut args = CONTROLLER.to_vec();
    args.extend(["--controller-failures", "1"]);
    let server = spawn_with(&dir.path().join("data"), &flags, &args).await;
    let (stale_etag, _, stale) = server.flag("spiky").await;
    let (file_etag, _, _) = server.current().await;

    assert_eq!(server.post_events(INGEST, failing("spiky")).await, 202);
    server.wait_canary("spiky", 15, "rollback", |c| c["status"] == "rolled_back").await;
    let (_, version, before) = server.current().await;
    let rollback_version = server.history().await[0]["version"].as_u64().expect("version");

    let mut mine = stale.clone();
    mine["description"] = json!("edited in an old tab");
    for base in [&stale_etag, &file_etag] {
        let (status, body) = server.write_flag(Method::PUT, "spiky", TOKEN, base, Some(&mine)).await;
        assert_eq!(status, 409, "{body}");
        let c = &body["conflicts"][0];
        assert_eq!(body["conflicts"].as_array().map(Vec::len), Some(1), "{body}");
        assert_eq!((c["path"].as_str(), c["kind"].as_str()), (Some("canary.status"), Some("would_revert")));
        assert_eq!((c["base"].as_str(), c["mine"].as_str(), c["theirs"].as_str()), (Some("running"), Some("running"), Some("rolled_back")));
        assert_eq!((c["theirs_version"].as_u64(), c["theirs_author"].as_str()), (Some(rollback_version), Some("canary-controller")));
        let error = body["error"].as_str().unwrap_or("");
        assert!(
            error.contains(&format!("canary.status is \"rolled_back\" since version {rollback_version} (canary-controller); your write, based on version 1, would set it back to \"running\"")),
            "{error}"
        );
        assert_eq!(body["current_version"], version);
    }
    // The whole-file PUT with the old ETag stays strict.
    let mut whole = server.get_json("/api/flags/versions/1").await;
    whole["flags"][1]["description"] = json!("x");
    assert_eq!(server.put(&whole, &file_etag).await.status(), 412);
    let (_, version_after, after) = server.current().await;
    assert_eq!((version_after, &after), (version, &before), "nothing was written");

    // Re-read, same edit: applied, the rollback stays.
    let (etag, _, mut fresh) = server.flag("spiky").await;
    fresh["description"] = json!("edited in an old tab");
    let (status, body) = server.write_flag(Method::PUT, "spiky", TOKEN, &etag, Some(&fresh)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], version + 1);
    assert!(body["flag_etag"].as_str().is_some_and(|t| t.starts_with(&format!("\"{}-", version + 1))), "{body}");
    let c = server.canary("spiky").await;
    assert_eq!(c["status"], "rolled_back");
    let entry = &server.history().await[0];
    assert_eq!((entry["author"].as_str(), entry["changed_flags"].clone()), (Some("admin"), json!(["spiky"])));
}

/// Pause from a stale base: applied when the controller only moved the stage (the patch does
/// not carry it; the stage is kept), refused when the controller changed the status itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_pause_applies_unless_the_controller_changed_the_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = flag_file(
        dir.path(),
        vec![
            // Advances 0 -> 1 at once, then holds (its second stage lasts an hour).
            canary_flag("steady", &[(10.0, "1s"), (50.0, "1h")], "running"),
            canary_flag("spiky", &[(10.0, "1s"), (50.0, "1s")], "running"),
        ],
    );
    let mut args = CONTROLLER.to_vec();
    args.extend(["--controller-failures", "1"]);
    let server = spawn_with(&dir.path().join("data"), &flags, &args).await;
    let (steady_etag, _, _) = server.flag("steady").await;
    let (spiky_etag, _, _) = server.flag("spiky").await;
    let mut events = healthy("steady");
    events.extend(failing("spiky"));
    assert_eq!(server.post_events(INGEST, events).await, 202);
    server.wait_canary("steady", 15, "advance", |c| c["current_stage"] == 1).await;
    server.wait_canary("spiky", 15, "rollback", |c| c["status"] == "rolled_back").await;
    let pause = json!({"canary": {"status": "paused"}});

    let (status, body) = server.write_flag(Method::PATCH, "steady", TOKEN, &steady_etag, Some(&pause)).await;
    assert_eq!(status, 200, "{body}");
    let kept = strings(&body["kept_theirs"]);
    assert!(kept.contains(&"canary.current_stage".to_string()) && kept.contains(&"canary.stage_started_at".to_string()), "{body}");
    let c = server.canary("steady").await;
    assert_eq!((c["status"].as_str(), c["current_stage"].as_u64()), (Some("paused"), Some(1)), "paused where the controller had moved it");

    let (_, version, _) = server.current().await;
    let (status, body) = server.write_flag(Method::PATCH, "spiky", TOKEN, &spiky_etag, Some(&pause)).await;
    assert_eq!(status, 409, "{body}");
    let c = &body["conflicts"][0];
    assert_eq!((c["path"].as_str(), c["kind"].as_str()), (Some("canary.status"), Some("both_changed")));
    assert_eq!((c["mine"].as_str(), c["theirs"].as_str(), c["theirs_author"].as_str()), (Some("paused"), Some("rolled_back"), Some("canary-controller")));
    assert_eq!(server.current().await.1, version, "nothing written");
    assert_eq!(server.canary("spiky").await["status"], "rolled_back");

    // Paused: the controller leaves it alone (ten ticks).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(server.current().await.1, version, "no controller write after the pause");
}

/// The admin writes flag A with a base from before the controller wrote flag B: both land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_to_one_flag_lands_while_the_controller_writes_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = flag_file(dir.path(), vec![plain_flag("a"), canary_flag("b", &[(10.0, "1s"), (50.0, "1h")], "running")]);
    let server = spawn_with(&dir.path().join("data"), &flags, &CONTROLLER).await;
    let (a_etag, _, a) = server.flag("a").await;
    let (file_etag, _, _) = server.current().await;
    assert_eq!(server.post_events(INGEST, healthy("b")).await, 202);
    server.wait_canary("b", 15, "advance", |c| c["current_stage"] == 1).await;

    // Per-flag ETag from before the controller's write: A has not changed, so no merge at all.
    let (status, body) = server.write_flag(Method::PATCH, "a", TOKEN, &a_etag, Some(&json!({"enabled": false}))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("kept_theirs").is_none(), "{body}");
    // Whole-file ETag of version 1 as the base of a whole-flag PUT of A: merged with the PATCH.
    let mut mine = a.clone();
    mine["description"] = json!("from version 1");
    let (status, body) = server.write_flag(Method::PUT, "a", TOKEN, &file_etag, Some(&mine)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kept_theirs"], json!(["enabled"]));
    let (_, _, a) = server.flag("a").await;
    assert_eq!((a["enabled"].as_bool(), a["description"].as_str()), (Some(false), Some("from version 1")));
    assert_eq!(server.canary("b").await["current_stage"], 1, "the controller's decision stays");
    let authors: Vec<String> = server.history().await.iter().rev().filter_map(|e| e["author"].as_str().map(str::to_string)).collect();
    assert_eq!(authors, ["initial-import", "canary-controller", "admin", "admin"]);

    // The canary state API shows the controller's judgement and what it wrote: the advance
    // (decision_version 2), then holds at stage 1 (an hour long).
    let history = server.history().await;
    let advance = history.iter().find(|e| e["author"] == "canary-controller").expect("the advance");
    assert_eq!(advance["version"], 2);
    let mut state = server.get_json("/api/canaries/b").await;
    for _ in 0..50 {
        if state["last_judgement"]["stage"] == 1 {
            break;
        }
        assert_eq!((state["last_judgement"]["action"].as_str(), state["last_judgement"]["decision_version"].as_u64()), (Some("advance"), Some(2)), "{state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = server.get_json("/api/canaries/b").await;
    }
    assert_eq!((state["status"].as_str(), state["current_stage"].as_u64(), state["stage_count"].as_u64()), (Some("running"), Some(1), Some(2)));
    assert_eq!(state["percent"].as_f64(), Some(50.0));
    let last = &state["last_judgement"];
    assert_eq!((last["action"].as_str(), last["stage"].as_u64(), last["decision_version"].as_u64()), (Some("hold"), Some(1), None), "{state}");
    assert!(last["file_version"].as_u64().is_some_and(|v| v >= 2), "{state}");
    assert!(last["reasons"].as_array().is_some_and(|r| !r.is_empty()) && last["checks"].as_array().is_some_and(|c| !c.is_empty()), "{state}");
    let all = server.get_json("/api/canaries").await;
    assert_eq!(all["canaries"].as_array().map(Vec::len), Some(1));
    assert_eq!(all["canaries"][0]["flag"], "b");
}
