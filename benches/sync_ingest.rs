//! Sync ingest throughput through the real HTTP endpoint, with the
//! derived work (accounts, signals, income roll-up) done by a worker as on
//! a real server, and the lag from a visit stored to its account updated.
//!
//! A server runs `router(state)` on a loopback port and one worker loop
//! (what every instance runs). Two loads, each client on its own
//! keep-alive connection:
//! - one visit per request, 8 clients (a phone syncing after each
//!   household);
//! - batches of 50, 32 clients (phones back in signal with a day's work).
//!
//! Each visit has ≈ 10 verification lines and an 8 KB signature. Reported
//! per load: visits/s, per-request p50/p99, and the lag p50/p99 from a
//! visit's work queued to its account stored. Then both loads again with
//! the signal worker running too (signals of made-up visits computed as
//! they arrive), as a share of the rate without. Then the raw store baseline
//! (the same rows straight through the store, no derived work). With
//! `--history N`, N more visits are then stored (one day's worth per
//! household after another, as a season goes) and both loads run again on
//! that database, to show the cost does not grow with history. SQLite
//! always; PostgreSQL when `TEST_DATABASE_URL` (or `BENCH_DATABASE_URL`)
//! names a server (VACUUM ANALYZE between loads, as autovacuum would: the
//! machine's server runs without it).
//!
//! `cargo bench --features ssr --bench sync_ingest [-- --visits 6400] [--history 200000]`

use std::sync::{Arc, Mutex};
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

/// (clients, visits per request) of each load.
const LOADS: [(usize, usize); 2] = [(8, 1), (32, 50)];

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let visits = arg(&args, "--visits", 6400);
    let history = arg(&args, "--history", 0);
    let dir = std::env::temp_dir().join(format!("daohu-bench-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = format!("sqlite:{}", dir.join("bench.db").display());
    println!("sync ingest: {visits} visits per load, history {history}\n");
    run("sqlite", &sqlite, visits, history).await?;
    if let Ok(admin) =
        std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL"))
    {
        let name = format!("daohu_bench_{}", Uuid::now_v7().simple());
        db::PostgresStore::admin_execute(&admin, &format!("CREATE DATABASE {name}")).await?;
        let url = format!(
            "{}/{name}",
            admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin)
        );
        let result = run("postgres", &url, visits, history).await;
        db::PostgresStore::admin_execute(&admin, &format!("DROP DATABASE {name} WITH (FORCE)"))
            .await?;
        result?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// What the worker settled, with each piece's lag in seconds.
type Lags = Arc<Mutex<Vec<f64>>>;

/// The worker loop every instance runs, recording lags.
async fn worker(store: Arc<dyn Store>, lags: Lags) {
    loop {
        match daohu::income::service::work_once(store.as_ref()).await {
            Ok(done) if done.is_empty() => {
                tokio::time::sleep(daohu::income::service::IDLE_POLL).await
            }
            Ok(done) => {
                let now = chrono::Utc::now();
                let mut lags = lags.lock().unwrap();
                lags.extend(
                    done.iter()
                        .map(|c| (now - c.queued_at).as_seconds_f64().max(0.0)),
                );
            }
            Err(e) => {
                eprintln!("worker: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

async fn run(backend: &str, url: &str, visits: usize, history: usize) -> anyhow::Result<()> {
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
    // Half the households for the loads without the signal worker, half for
    // those with it: each half's visits meet the same history, so the two
    // differ only by the worker.
    let (without, with) = households.split_at(households.len() / 2);

    // The endpoint, on a real socket, and the instance's worker.
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
    let lags: Lags = Arc::default();
    let work = tokio::spawn(worker(store.clone(), lags.clone()));
    let cookie = sign_in(addr).await?;

    let mut fresh = Vec::new();
    for (clients, per_request) in LOADS {
        vacuum(backend, url).await?;
        let rate = load(
            backend,
            &store,
            addr,
            &cookie,
            without,
            year,
            visits,
            clients,
            per_request,
            &lags,
            "fresh",
        )
        .await?;
        fresh.push(rate);
    }

    // The same loads again, on the other half, with the signal worker
    // (可疑走访) computing as visits arrive, as on a server: what computing
    // the signals costs ingest. The backlog of the loads above is computed
    // first, untimed.
    daohu::signals::service::compute_until_idle(store.as_ref()).await?;
    let signals = tokio::spawn(daohu::signals::service::compute_forever(store.clone()));
    for (i, (clients, per_request)) in LOADS.into_iter().enumerate() {
        vacuum(backend, url).await?;
        let rate = load(
            backend,
            &store,
            addr,
            &cookie,
            with,
            year,
            visits,
            clients,
            per_request,
            &lags,
            "signals",
        )
        .await?;
        println!(
            "{backend:<9}   with signals computed: {:.0} % of the rate without",
            rate / fresh[i] * 100.0
        );
    }
    signals.abort();

    // Raw baseline: the same rows straight through the store, one
    // transaction per 50, no derived work.
    let records: Vec<VisitRecord> = (0..visits)
        .map(|i| record(visit(&households[i % households.len()], year, i), county.id))
        .collect();
    let cpu_before = cpu_times();
    let start = Instant::now();
    for chunk in records.chunks(50) {
        store.insert_visits(chunk).await?;
    }
    println!(
        "{backend:<9} raw store, batches of 50: {:>7.0} visits/s | {}",
        visits as f64 / start.elapsed().as_secs_f64(),
        cpu_share(cpu_before, cpu_times()),
    );

    if history > 0 {
        let start = Instant::now();
        let records: Vec<VisitRecord> = (0..history)
            .map(|i| {
                record(
                    visit(&households[i % households.len()], year, i + visits),
                    county.id,
                )
            })
            .collect();
        for chunk in records.chunks(500) {
            store.insert_visits(chunk).await?;
        }
        store.analyze().await?;
        println!(
            "{backend:<9} history: {} visits stored ({:.0} s)",
            store.count_visits().await?,
            start.elapsed().as_secs_f64()
        );
        for (i, (clients, per_request)) in LOADS.into_iter().enumerate() {
            vacuum(backend, url).await?;
            let rate = load(
                backend,
                &store,
                addr,
                &cookie,
                &households,
                year,
                visits,
                clients,
                per_request,
                &lags,
                "history",
            )
            .await?;
            println!(
                "{backend:<9}   {} of the fresh rate",
                format_args!("{:.0} %", rate / fresh[i] * 100.0)
            );
        }
    }
    work.abort();
    server.abort();
    Ok(())
}

/// VACUUM ANALYZE on PostgreSQL, as autovacuum would between loads.
async fn vacuum(backend: &str, url: &str) -> anyhow::Result<()> {
    if backend == "postgres" {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query("VACUUM ANALYZE").execute(&mut conn).await?;
        conn.close().await?;
    }
    Ok(())
}

/// One load: `visits` new visits from `clients` clients, `per_request` at a
/// time; prints and answers its rate (visits/s).
#[allow(clippy::too_many_arguments)]
async fn load(
    backend: &str,
    store: &Arc<dyn Store>,
    addr: std::net::SocketAddr,
    cookie: &str,
    households: &[(Uuid, Vec<(Uuid, i64)>)],
    year: StatYear,
    visits: usize,
    clients: usize,
    per_request: usize,
    lags: &Lags,
    label: &str,
) -> anyhow::Result<f64> {
    let before = store.count_visits().await?;
    let offset = before as usize;
    let made: Vec<VisitSubmission> = (0..visits)
        .map(|i| {
            visit(
                &households[(offset + i) % households.len()],
                year,
                offset + i,
            )
        })
        .collect();
    let requests: Vec<String> = made
        .chunks(per_request)
        .map(|c| serde_json::json!({ "visits": c }).to_string())
        .collect();
    let per_client: Vec<Vec<String>> = (0..clients)
        .map(|c| requests.iter().skip(c).step_by(clients).cloned().collect())
        .collect();
    lags.lock().unwrap().clear();
    let cpu_before = cpu_times();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for work in per_client {
        let cookie = cookie.to_owned();
        tasks.push(tokio::spawn(
            async move { client(addr, &cookie, work).await },
        ));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    let stored = store.count_visits().await? - before;
    anyhow::ensure!(
        stored as usize == visits,
        "{stored} of {visits} visits stored"
    );
    // The worker catches up.
    let drained = loop {
        if store.income_backlog().await?.pending == 0 {
            break start.elapsed().as_secs_f64();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut latencies: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    latencies.sort_by(f64::total_cmp);
    let mut lag = lags.lock().unwrap().clone();
    lag.sort_by(f64::total_cmp);
    let rate = visits as f64 / secs;
    println!(
        "{backend:<9} {label:<7} {per_request:>2}/request, {clients:>2} clients: {rate:>7.0} visits/s  \
         request p50 {:>6.1} ms p99 {:>6.1} ms | account lag p50 {:.2} s p99 {:.2} s | all work done {:.1} s after the start | {}",
        pct(&latencies, 0.50),
        pct(&latencies, 0.99),
        pct(&lag, 0.50),
        pct(&lag, 0.99),
        drained,
        cpu_share(cpu_before, cpu_times()),
    );
    Ok(rate)
}

/// The machine's CPU time so far (Linux `/proc/stat`, in ticks): busy,
/// idle, and stolen by the hypervisor. `None` elsewhere.
fn cpu_times() -> Option<[u64; 3]> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let f: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy = f.get(0..3)?.iter().sum::<u64>() + f.get(5..7)?.iter().sum::<u64>();
    Some([busy, f.get(3)? + f.get(4)?, *f.get(7)?])
}

/// How the machine's CPU went during a load: a figure measured while the
/// hypervisor took a large share (steal) is not comparable with others.
fn cpu_share(before: Option<[u64; 3]>, after: Option<[u64; 3]>) -> String {
    let (Some(b), Some(a)) = (before, after) else {
        return String::new();
    };
    let d: Vec<f64> = (0..3).map(|i| a[i].saturating_sub(b[i]) as f64).collect();
    let total = (d[0] + d[1] + d[2]).max(1.0);
    format!(
        "cpu busy {:.0} %, idle {:.0} %, steal {:.0} %",
        d[0] / total * 100.0,
        d[1] / total * 100.0,
        d[2] / total * 100.0
    )
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

/// The `n`th visit of the run: a month into the year (or an hour ago while
/// the year is younger: a visit may not lie in the future), minus a minute
/// per `n`, so that the visits of one household come in all orders.
fn visit((household, due): &(Uuid, Vec<(Uuid, i64)>), year: StatYear, n: usize) -> VisitSubmission {
    let latest = (year.first_day().and_hms_opt(2, 0, 0).unwrap().and_utc()
        + chrono::Duration::days(30))
    .min(chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0) - chrono::Duration::hours(1));
    let started = latest - chrono::Duration::minutes((n % 20_000) as i64);
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
        evidence: Vec::new(),
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
        evidence_jpeg: Vec::new(),
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
