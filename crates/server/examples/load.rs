//! Load benchmark of `cguard server` with simulated shields on loopback.
//!
//! Starts the given `cguard` binary on a fresh SQLite or PostgreSQL database, enrols N
//! shields, then for a number of seconds has every shield heartbeat every 10 s and send
//! its share of the event rate in batches, while a console user reads list endpoints.
//! Prints events sent, accepted and lost, and p50/p99 latencies per request kind.
//!
//! `cargo run --release -p server --example load -- --backend sqlite --cguard target/release/cguard`

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

struct Args {
    backend: String,
    cguard: String,
    shields: usize,
    events_per_second: usize,
    seconds: u64,
}

fn parse_args() -> Args {
    let mut a = Args {
        backend: "sqlite".into(),
        cguard: "target/release/cguard".into(),
        shields: 2000,
        events_per_second: 5000,
        seconds: 60,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--backend" => a.backend = value,
            "--cguard" => a.cguard = value,
            "--shields" => a.shields = value.parse().expect("--shields N"),
            "--events-per-second" => a.events_per_second = value.parse().expect("--events-per-second N"),
            "--seconds" => a.seconds = value.parse().expect("--seconds N"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

#[derive(Default)]
struct Stats {
    heartbeat: Vec<Duration>,
    ingest: Vec<Duration>,
    list: Vec<Duration>,
    errors: Vec<String>,
    events_sent: u64,
    events_acked: u64,
}

fn percentile(v: &mut [Duration], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

async fn post(c: &reqwest::Client, url: &str, token: Option<&str>, body: &Value) -> Result<Value, String> {
    let mut r = c.post(url).json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if status.is_success() { Ok(v) } else { Err(format!("{status}: {v}")) }
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let backend = match args.backend.as_str() {
        "sqlite" => store::Backend::Sqlite,
        "postgres" => store::Backend::Postgres,
        other => panic!("--backend is sqlite or postgres, not {other}"),
    };
    let db = store::scratch::ScratchDb::new(backend).await.expect("scratch database");
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let password = "load-benchmark-password";
    let mut cmd = std::process::Command::new(&args.cguard);
    cmd.args(["server", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"]).arg(data.path());
    if backend == store::Backend::Postgres {
        cmd.args(["--database", &db.url]);
    }
    let mut server = cmd
        .env("CGUARD_ADMIN_PASSWORD", password)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start cguard server");
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).build().unwrap();
    let started = Instant::now();
    while client.get(format!("{base}/api/v1/health")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let login =
        post(&client, &format!("{base}/api/v1/auth/login"), None, &json!({"username": "admin", "password": password}))
            .await
            .unwrap();
    let admin = login["token"].as_str().unwrap().to_string();
    client.put(format!("{base}/api/v1/authorization")).bearer_auth(&admin).send().await.unwrap();
    let cluster =
        post(&client, &format!("{base}/api/v1/clusters"), Some(&admin), &json!({"name": "load", "kind": "hosts"}))
            .await
            .unwrap();
    let opened = post(
        &client,
        &format!("{base}/api/v1/clusters/{}/protection/open", cluster["id"].as_str().unwrap()),
        Some(&admin),
        &json!({"accept_disclaimer": true}),
    )
    .await
    .unwrap();
    let enrol_token = opened["enrolment_token"].as_str().unwrap().to_string();

    // Enrol the shields, 32 at a time.
    let t = Instant::now();
    let mut creds = Vec::with_capacity(args.shields);
    for chunk in (0..args.shields).collect::<Vec<_>>().chunks(32) {
        let futs = chunk.iter().map(|i| {
            let body = json!({"token": enrol_token, "node_name": format!("node-{i}"), "shield_version": "bench"});
            let (client, url) = (client.clone(), format!("{base}/api/v1/shield/enrol"));
            async move { post(&client, &url, None, &body).await }
        });
        for r in futures_join(futs).await {
            creds.push(r.expect("enrol")["credential"].as_str().unwrap().to_string());
        }
    }
    eprintln!("enrolled {} shields in {:.1} s", creds.len(), t.elapsed().as_secs_f64());

    let stats = Arc::new(Mutex::new(Stats::default()));
    let period = Duration::from_secs(10);
    let per_batch = (args.events_per_second * 10 / args.shields.max(1)).max(1);
    let run_for = Duration::from_secs(args.seconds);
    let begin = Instant::now() + Duration::from_millis(500);
    let mut tasks = Vec::new();
    for (i, cred) in creds.into_iter().enumerate() {
        let (client, base, stats) = (client.clone(), base.clone(), stats.clone());
        let offset = period.mul_f64(i as f64 / args.shields as f64);
        tasks.push(tokio::spawn(async move {
            let mut round = 0u64;
            loop {
                let at = begin + offset + period * round as u32;
                if at >= begin + run_for {
                    return;
                }
                tokio::time::sleep_until(at.into()).await;
                let hb = json!({"shield_version": "bench", "policy_revision": 0});
                let t = Instant::now();
                let r = post(&client, &format!("{base}/api/v1/shield/heartbeat"), Some(&cred), &hb).await;
                let hb_time = t.elapsed();
                let events: Vec<Value> = (0..per_batch)
                    .map(|k| {
                        json!({"id": format!("{i}-{round}-{k}"), "time": "2026-11-27T00:00:00Z", "category": "process",
                               "type": "abnormal-program", "container": {"id": format!("c{i}"), "name": "app"},
                               "image": "app:1", "description": "load", "blocked": false})
                    })
                    .collect();
                let t = Instant::now();
                let ing =
                    post(&client, &format!("{base}/api/v1/shield/events"), Some(&cred), &json!({"events": events}))
                        .await;
                let ing_time = t.elapsed();
                let mut s = stats.lock().await;
                s.heartbeat.push(hb_time);
                s.ingest.push(ing_time);
                s.events_sent += per_batch as u64;
                if let Err(e) = r {
                    s.errors.push(format!("heartbeat: {e}"));
                }
                match ing {
                    Ok(v) => s.events_acked += v["accepted"].as_u64().unwrap_or(0),
                    Err(e) => s.errors.push(format!("ingest: {e}")),
                }
                round += 1;
            }
        }));
    }
    // A console user reading lists while the shields report.
    let reader = {
        let (client, base, stats, admin) = (client.clone(), base.clone(), stats.clone(), admin.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(begin.into()).await;
            while Instant::now() < begin + run_for {
                for path in ["/api/v1/runtime/events?limit=50", "/api/v1/nodes?limit=50"] {
                    let t = Instant::now();
                    let r = client.get(format!("{base}{path}")).bearer_auth(&admin).send().await;
                    let ok = matches!(&r, Ok(resp) if resp.status().is_success());
                    if let Ok(resp) = r {
                        let _ = resp.bytes().await;
                    }
                    let mut s = stats.lock().await;
                    s.list.push(t.elapsed());
                    if !ok {
                        s.errors.push(format!("list {path} failed"));
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    reader.await.unwrap();
    let elapsed = (Instant::now() - begin).as_secs_f64();

    let page = client.get(format!("{base}/api/v1/runtime/events?limit=1")).bearer_auth(&admin).send().await.unwrap();
    let stored = page.json::<Value>().await.unwrap()["total"].as_u64().unwrap();
    let mut guard = stats.lock().await;
    let s = &mut *guard;
    let lost = s.events_sent.saturating_sub(stored);
    println!("cguard server load, backend {}, {} shields, {} s", args.backend, args.shields, args.seconds);
    println!(
        "events sent {}  accepted {}  stored {}  lost {}  ({:.0} events/s)",
        s.events_sent,
        s.events_acked,
        stored,
        lost,
        s.events_sent as f64 / elapsed
    );
    println!("{:<10} {:>8} {:>10} {:>10}", "request", "count", "p50 ms", "p99 ms");
    for (name, v) in [("heartbeat", &mut s.heartbeat), ("ingest", &mut s.ingest), ("list", &mut s.list)] {
        let n = v.len();
        let (p50, p99) = (percentile(v, 0.50), percentile(v, 0.99));
        println!("{name:<10} {n:>8} {p50:>10.1} {p99:>10.1}");
    }
    println!("errors {}", s.errors.len());
    for e in s.errors.iter().take(5) {
        println!("  {e}");
    }
    let _ = server.kill();
    let _ = server.wait();
    drop(guard);
    db.drop_now().await.ok();
}

/// Runs futures concurrently and returns their outputs in order.
async fn futures_join<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
