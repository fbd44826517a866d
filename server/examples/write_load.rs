//! Write load for `server/bench/scale.sh`: `writers` concurrent admins, each PATCHing its own
//! flag's description in a loop (`If-Match`: the flag ETag of its previous write), spread over
//! the given server URLs (writer w talks to url[w % n]). Prints one JSON line: acknowledged
//! writes per second, latency percentiles, and every non-200 by status.
//!
//! ```sh
//! cargo run --release -p edgeflag-server --example write_load -- \
//!   --token T --seconds 10 --writers 12 --flags 12 --url http://127.0.0.1:8080 [--url …]
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Args {
    urls: Vec<String>,
    token: String,
    seconds: u64,
    writers: usize,
    flags: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { urls: Vec::new(), token: String::new(), seconds: 10, writers: 12, flags: 12 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => a.urls.push(value.trim_end_matches('/').to_string()),
            "--token" => a.token = value,
            "--seconds" => a.seconds = value.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--writers" => a.writers = value.parse().map_err(|e| format!("--writers: {e}"))?,
            "--flags" => a.flags = value.parse().map_err(|e| format!("--flags: {e}"))?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if a.urls.is_empty() || a.token.is_empty() || a.writers == 0 || a.flags == 0 {
        return Err("usage: write_load --url URL [--url URL…] --token T [--seconds 10] [--writers 12] [--flags 12]".into());
    }
    Ok(a)
}

/// One writer's results: latencies of acknowledged writes, and other statuses.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    other: BTreeMap<String, u64>,
}

async fn writer(client: reqwest::Client, url: String, token: String, key: String, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut etag: Option<String> = None;
    let mut n = 0u64;
    while Instant::now() < until {
        let tag = match &etag {
            Some(t) => t.clone(),
            None => match client.get(format!("{url}/api/flags/{key}")).send().await {
                Ok(r) if r.status() == 200 => r.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string(),
                Ok(r) => {
                    *tally.other.entry(format!("GET {}", r.status().as_u16())).or_default() += 1;
                    continue;
                }
                Err(e) => {
                    *tally.other.entry(format!("GET error {e}")).or_default() += 1;
                    continue;
                }
            },
        };
        n += 1;
        let started = Instant::now();
        let resp = client
            .patch(format!("{url}/api/flags/{key}"))
            .bearer_auth(&token)
            .header("if-match", &tag)
            .header("content-type", "application/merge-patch+json")
            .body(json!({"description": format!("write {n}")}).to_string())
            .send()
            .await;
        match resp {
            Ok(r) if r.status() == 200 => {
                tally.latencies.push(started.elapsed());
                let body: Value = r.json().await.unwrap_or(Value::Null);
                etag = body["flag_etag"].as_str().map(str::to_string);
            }
            Ok(r) => {
                *tally.other.entry(r.status().as_u16().to_string()).or_default() += 1;
                etag = None;
            }
            Err(e) => {
                *tally.other.entry(format!("error {e}")).or_default() += 1;
                etag = None;
            }
        }
    }
    tally
}

#[tokio::main]
async fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.writers)
        .map(|w| {
            let url = args.urls[w % args.urls.len()].clone();
            let key = format!("load-{}", w % args.flags);
            tokio::spawn(writer(client.clone(), url, args.token.clone(), key, until))
        })
        .collect();
    let mut all = Tally::default();
    for t in tasks {
        if let Ok(t) = t.await {
            all.latencies.extend(t.latencies);
            for (k, v) in t.other {
                *all.other.entry(k).or_default() += v;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.latencies.sort();
    let pct = |p: f64| all.latencies.get(((all.latencies.len() as f64 - 1.0) * p).round() as usize).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{}",
        json!({
            "replicas": args.urls.len(), "writers": args.writers, "seconds": elapsed,
            "writes": all.latencies.len(), "writes_per_s": all.latencies.len() as f64 / elapsed,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "other": all.other,
        })
    );
}
