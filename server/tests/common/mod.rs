//! Starts the real server binary on a loopback port and talks to it over HTTP.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const TOKEN: &str = "test-token-0123456789";
/// Passed with `--ingest-token` where a test posts metric events.
pub const INGEST: &str = "test-ingest-token-0123456789";

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flags.json")
}

pub fn fixture_text() -> String {
    std::fs::read_to_string(fixture()).expect("fixture readable")
}

pub struct Server {
    pub child: Child,
    pub base: String,
    /// Lines printed before "listening on".
    pub banner: Vec<String>,
}

/// Spawns `edgeflag-server --addr 127.0.0.1:0 --data-dir DIR --flags FIXTURE EXTRA...` and waits
/// for its "listening on" line. The process is killed when the value is dropped.
pub async fn spawn(data_dir: &Path, extra: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edgeflag-server"));
    cmd.arg("--addr").arg("127.0.0.1:0").arg("--data-dir").arg(data_dir);
    cmd.arg("--flags").arg(fixture()).arg("--static-dir").arg(data_dir.join("no-dist"));
    cmd.args(extra).env_remove("EDGEFLAG_ADMIN_TOKEN").env_remove("EDGEFLAG_INGEST_TOKEN");
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn edgeflag-server");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.trim_end_matches('/').to_string();
            }
            banner.push(line);
        }
        panic!("server exited before listening; banner: {banner:?}");
    })
    .await
    .expect("server listens within 30 s");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server { child, base, banner }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET /api/flags → (etag, version, body).
    pub async fn current(&self) -> (String, u64, Value) {
        let resp = client().get(self.url("/api/flags")).send().await.expect("GET /api/flags");
        assert_eq!(resp.status(), 200);
        let etag = header(&resp, "etag");
        let version = header(&resp, "x-edgeflag-version").parse().expect("numeric version");
        (etag, version, resp.json().await.expect("json body"))
    }

    pub async fn put(&self, body: &Value, if_match: &str) -> reqwest::Response {
        client()
            .put(self.url("/api/flags"))
            .bearer_auth(TOKEN)
            .header("if-match", if_match)
            .json(body)
            .send()
            .await
            .expect("PUT /api/flags")
    }
}

pub fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .expect("ascii header")
        .to_string()
}

/// The file with one flag's description changed.
pub fn with_description(file: &Value, flag_index: usize, description: &str) -> Value {
    let mut file = file.clone();
    file["flags"][flag_index]["description"] = Value::from(description);
    file
}
