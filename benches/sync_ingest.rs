//! Sync ingest throughput through the real HTTP endpoint.
//!
//! A server runs `router(state)` on a loopback port; 32 clients, each on its
//! own keep-alive connection, POST batches of 50 signed visits (≈10
//! verification lines and an 8 KB signature each) to /api/sync/v1/visits.
//! Reported: visits/s and per-request p50/p99. In the same run, the raw
//! baseline inserts the same kind of rows straight through the store, one
//! transaction per batch. SQLite always; PostgreSQL when
//! `TEST_DATABASE_URL` (or `BENCH_DATABASE_URL`) names a server.
//!
//! `cargo bench --features ssr --bench sync_ingest [-- --visits 6400]`

use std::time::{Duration, Instant};

use base64::Engine;
use daohu::demo::{self, DemoSpec};
use daohu::server::config::Config;
use daohu::server::db::{self, Store, VisitRecord};
use daohu::server::{AppState, router};
use daohu::subsidies::StatYear;
use daohu::visits::*;
use tokio::net::TcpStream;

#[path = "../tests/common/raw_http.rs"]
mod raw_http;
use uuid::Uuid;

const CLIENTS: usize = 32;
const BATCH: usize = 50;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let visits = args
        .iter()
        .position(|a| a == "--visits")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(6400usize);
    let dir = std::env::temp_dir().join(format!("daohu-bench-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = format!("sqlite:{}", dir.join("bench.db").display());
    println!("sync ingest: {visits} visits, batches of {BATCH}, {CLIENTS} clients\n");
    run("sqlite", &sqlite, visits).await?;
    if let Ok(admin) =
        std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL"))
    {
        let name = format!("daohu_bench_{}", Uuid::now_v7().simple());
        db::PostgresStore::admin_execute(&admin, &format!("CREATE DATABASE {name}")).await?;
        let url = format!(
            "{}/{name}",
            admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin)
        );
        let result = run("postgres", &url, visits).await;
        db::PostgresStore::admin_execute(&admin, &format!("DROP DATABASE {name} WITH (FORCE)"))
            .await?;
        result?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn run(backend: &str, url: &str, visits: usize) -> anyhow::Result<()> {
    let store = db::connect(url).await?;
    store.migrate().await?;
    let year = StatYear::containing(chrono::Local::now().date_naive());
    demo::load(
        store.as_ref(),
        &DemoSpec {
            households: 3000,
            seed: 5,
            year,
        },
        false,
    )
    .await?;
    let county = store
        .user_by_username("county")
        .await?
        .expect("demo county admin");
    let households = rich_households(store.as_ref(), year).await?;

    // The endpoint, on a real socket.
    let state = AppState::new(Config::for_database(url), store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let cookie = sign_in(addr).await?;

    let make = |n: usize| -> Vec<VisitSubmission> {
        (0..n)
            .map(|i| visit(&households[i % households.len()], year))
            .collect()
    };
    let batches: Vec<String> = make(visits)
        .chunks(BATCH)
        .map(|c| serde_json::json!({ "visits": c }).to_string())
        .collect();
    let per_client: Vec<Vec<String>> = (0..CLIENTS)
        .map(|c| batches.iter().skip(c).step_by(CLIENTS).cloned().collect())
        .collect();

    let start = Instant::now();
    let mut tasks = Vec::new();
    for work in per_client {
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(
            async move { client(addr, &cookie, work).await },
        ));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let http_secs = start.elapsed().as_secs_f64();
    server.abort();
    let stored = store.count_visits().await?;
    anyhow::ensure!(
        stored as usize == visits,
        "{stored} of {visits} visits stored"
    );

    // Raw baseline: the same rows straight through the store, one
    // transaction per batch.
    let records: Vec<VisitRecord> = make(visits)
        .into_iter()
        .map(|v| record(v, county.id))
        .collect();
    let start = Instant::now();
    for chunk in records.chunks(BATCH) {
        store.insert_visits(chunk).await?;
    }
    let raw_secs = start.elapsed().as_secs_f64();

    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let http_rate = visits as f64 / http_secs;
    let raw_rate = visits as f64 / raw_secs;
    println!(
        "{backend:<9} endpoint {http_rate:>7.0} visits/s  p50 {:>6.1} ms  p99 {:>6.1} ms | raw store {raw_rate:>7.0} visits/s | ratio {:.2}",
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        http_rate / raw_rate,
    );
    Ok(())
}

/// Households with at least 9 expected payments, and those payments.
async fn rich_households(
    store: &dyn Store,
    year: StatYear,
) -> anyhow::Result<Vec<(Uuid, Vec<(Uuid, i64)>)>> {
    let county = daohu::areas::AreaCode::parse("621102000000").unwrap();
    let q = db::HouseholdQuery {
        scope: county,
        worker_id: None,
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: 5000,
        offset: 0,
    };
    let mut out = Vec::new();
    for h in store.list_households(&q).await?.0 {
        let due = store.entitlement_ids(h.id, year.0).await?;
        if due.len() >= 9 {
            out.push((h.id, due));
        }
    }
    anyhow::ensure!(!out.is_empty(), "no household with 9+ entitlements");
    Ok(out)
}

fn visit((household, due): &(Uuid, Vec<(Uuid, i64)>), year: StatYear) -> VisitSubmission {
    // A month into the year, or an hour ago while it is younger: a visit
    // may not lie in the future.
    let started = (year.first_day().and_hms_opt(2, 0, 0).unwrap().and_utc()
        + chrono::Duration::days(30))
    .min(chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0) - chrono::Duration::hours(1));
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0..8 * 1024).map(|i| (i * 31 % 251) as u8));
    let mut v = VisitSubmission {
        id: Uuid::now_v7(),
        household_id: *household,
        stat_year: year.0,
        started_at: started,
        ended_at: started + chrono::Duration::minutes(18),
        met_with: "户主本人".into(),
        notes: String::new(),
        location: Location::Fix {
            lat_e6: 35_579_812,
            lon_e6: 104_626_301,
            accuracy_m: 15,
        },
        lines: due
            .iter()
            .map(|&(id, fen)| VerificationLine {
                entitlement_id: id,
                status: PaymentStatus::ReceivedInFull,
                received_fen: Some(fen),
                received_on: Some(started.date_naive()),
                channel: Some(daohu::subsidies::Channel::OneCard),
                reason: None,
                reason_text: String::new(),
            })
            .collect(),
        signature: Signature {
            signer_name: "户主".into(),
            signer_relation: "户主".into(),
            thumbprint: false,
            proxy_reason: None,
            strokes_json: "[[[10,20,0],[30,40,16]]]".into(),
            png_base64: base64::engine::general_purpose::STANDARD.encode(&png),
            content_hash: String::new(),
        },
        photo_base64: None,
        measure_updates: Vec::new(),
        income: Vec::new(),
        household_size: None,
    };
    v.lines.sort_by_key(|l| l.entitlement_id);
    v.signature.content_hash = confirmation_hash(&v);
    v
}

fn record(v: VisitSubmission, worker_id: Uuid) -> VisitRecord {
    let png = base64::engine::general_purpose::STANDARD
        .decode(&v.signature.png_base64)
        .unwrap();
    VisitRecord {
        payload_hash: payload_hash(&v),
        visit: v,
        worker_id,
        signature_png: png,
        photo_jpeg: None,
        earlier_payload_hash: None,
        income_work: Vec::new(),
    }
}

async fn sign_in(addr: std::net::SocketAddr) -> anyhow::Result<String> {
    let mut conn = TcpStream::connect(addr).await?;
    let body = format!("username=county&password={}", demo::DEMO_PASSWORD);
    let form = "application/x-www-form-urlencoded";
    let reply = raw_http::post(&mut conn, "/api/auth/sign_in", "", form, body.as_bytes()).await?;
    anyhow::ensure!(reply.status == 200, "sign-in answered {}", reply.status);
    raw_http::session_cookie(&reply).ok_or_else(|| anyhow::anyhow!("no session cookie"))
}

async fn client(
    addr: std::net::SocketAddr,
    cookie: &str,
    batches: Vec<String>,
) -> anyhow::Result<Vec<Duration>> {
    let mut conn = TcpStream::connect(addr).await?;
    conn.set_nodelay(true)?;
    let mut latencies = Vec::with_capacity(batches.len());
    for body in batches {
        let t = Instant::now();
        let path = daohu::sync::VISITS_PATH;
        let reply =
            raw_http::post(&mut conn, path, cookie, "application/json", body.as_bytes()).await?;
        latencies.push(t.elapsed());
        anyhow::ensure!(
            reply.status == 200,
            "sync answered {}: {}",
            reply.status,
            reply.body
        );
        let refused = reply.body.contains("rejected") || reply.body.contains("conflict");
        anyhow::ensure!(!refused, "{}", reply.body);
    }
    Ok(latencies)
}
