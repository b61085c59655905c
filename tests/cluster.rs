//! The province set-up for real: `scripts/cluster.sh` starts three `daohu`
//! processes (this build) on one fresh PostgreSQL database, all at once
//! with `--demo-if-empty`, behind HAProxy (round-robin, health-checked,
//! adding the forwarded headers `DAOHU_TRUST_FORWARDED_FOR` trusts). Then,
//! through the balancer and on each instance directly: parallel start,
//! sessions, sync through kills, the sign-in throttle.
//!
//! Needs `haproxy` on PATH and `TEST_DATABASE_URL` (CI has both:
//! `scripts/test.sh` installs HAProxy); skipped with a message otherwise.
//! The checks run one after another on one cluster, since starting it loads
//! the demo; a failing check prints the end of every process's log.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use common::raw_http::{self, RawReply};
use common::tempdir::TempDir;
use common::{TestDb, household_of, signed_visit};
use daohu::auth::throttle;
use daohu::demo::DEMO_PASSWORD;
use daohu::sync::VISITS_PATH;
use daohu::visits::VisitSubmission;
use tokio::net::{TcpSocket, TcpStream};
use uuid::Uuid;

const INSTANCES: u16 = 3;
/// The households `serve --demo-if-empty` loads.
const DEMO_HOUSEHOLDS: i64 = 300;
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cluster.sh");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_province_cluster_behind_haproxy() {
    if !on_path("haproxy") {
        eprintln!(
            "haproxy not installed: cluster test skipped (scripts/test.sh installs it: apt-get install haproxy)"
        );
        return;
    }
    let Some(db) = TestDb::unmigrated_postgres().await else {
        eprintln!("TEST_DATABASE_URL unset: cluster test skipped (it needs PostgreSQL)");
        return;
    };
    let cluster = Cluster::start(&db.url).await;

    instances_started_together_load_the_demo_once(&cluster, &db).await;
    a_session_from_the_balancer_works_on_every_instance(&cluster).await;
    visits_synced_through_a_killed_instance_are_stored_exactly_once(&cluster, &db).await;
    the_sign_in_limit_holds_across_instances_and_per_client(&cluster, &db).await;
    imports_through_the_balancer_run_one_at_a_time_and_answer_everywhere(&cluster, &db).await;
    periodic_and_derived_work_ran_once_and_left_nothing_stale(&cluster, &db).await;
}

/// The cluster the script started; stopped (by the script) when dropped.
struct Cluster {
    run: TempDir,
    balancer: SocketAddr,
    port: u16,
    database_url: String,
}

impl Cluster {
    async fn start(database_url: &str) -> Cluster {
        let run = TempDir::new();
        let port = free_port_range(INSTANCES + 1);
        let cluster = Cluster {
            run,
            balancer: SocketAddr::from(([127, 0, 0, 1], port)),
            port,
            database_url: database_url.to_owned(),
        };
        let out = cluster.script(&["start"]).await;
        eprintln!("{out}");
        cluster
    }

    /// `cluster.sh <args>` with this cluster's settings.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new("bash");
        c.arg(SCRIPT)
            .args(args)
            .env("DAOHU_BIN", env!("CARGO_BIN_EXE_daohu"))
            .env("CLUSTER_DIR", &self.run.0)
            .env("CLUSTER_PORT", self.port.to_string())
            .env(
                "CLUSTER_STATS_PORT",
                (self.port + INSTANCES + 1).to_string(),
            )
            .env("CLUSTER_INSTANCES", INSTANCES.to_string())
            .env("CLUSTER_DATABASE_URL", &self.database_url)
            // No pages are asked for: an empty site will do.
            .env("DAOHU_SITE_ROOT", self.run.0.join("site"))
            .env("RUST_LOG", "warn");
        c
    }

    /// Runs `cluster.sh <args>` for this cluster; fails the test if it fails.
    async fn script(&self, args: &[&str]) -> String {
        let out = tokio::process::Command::from(self.command(args))
            .output()
            .await
            .expect("run scripts/cluster.sh");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "cluster.sh {args:?}: {text}");
        text
    }

    /// Instance `i` (1-based), directly.
    fn instance(&self, i: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port + i))
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.run.0.join(format!("{name}.log"))).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for name in (1..=INSTANCES)
                .map(|i| format!("daohu-{i}"))
                .chain(["haproxy".to_owned()])
            {
                let log = self.log(&name);
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                eprintln!("--- {name}.log (end) ---");
                for l in tail.iter().rev() {
                    eprintln!("{l}");
                }
            }
        }
        // The test's runtime is going away: a plain process, waited for.
        let _ = self.command(&["stop"]).output();
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

/// `n` consecutive free ports on 127.0.0.1 (the balancer, the instances),
/// and the one after them (HAProxy's statistics).
fn free_port_range(n: u16) -> u16 {
    let mut seed = std::process::id() as u64 ^ Uuid::now_v7().as_u128() as u64;
    for _ in 0..200 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let base = 20_000 + (seed >> 33) as u16 % 30_000;
        let all_free =
            (base..=base + n).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no {n} consecutive free ports");
}

/// One request on a fresh connection, from `source` (any 127.x address: the
/// balancer tells clients apart by it) or the default.
async fn request(
    to: SocketAddr,
    source: Option<IpAddr>,
    head: &str,
    body: &[u8],
) -> anyhow::Result<RawReply> {
    use tokio::io::AsyncWriteExt;
    let mut conn: TcpStream = match source {
        Some(ip) => {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(ip, 0))?;
            socket.connect(to).await?
        }
        None => TcpStream::connect(to).await?,
    };
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body).await?;
    tokio::time::timeout(Duration::from_secs(20), raw_http::read_reply(&mut conn)).await?
}

/// A server function call the way the browser client makes it, with extra
/// header lines (`Name: value\r\n` each).
async fn call(
    to: SocketAddr,
    source: Option<IpAddr>,
    path: &str,
    cookie: &str,
    extra_headers: &str,
    form: &str,
) -> RawReply {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Accept: application/json\r\nCookie: {cookie}\r\n{extra_headers}Content-Length: {}\r\n\
         Connection: close\r\n\r\n",
        form.len()
    );
    request(to, source, &head, form.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("POST {path} to {to}: {e}"))
}

async fn sign_in(
    to: SocketAddr,
    source: Option<IpAddr>,
    username: &str,
    password: &str,
    extra_headers: &str,
) -> RawReply {
    let form = format!(
        "username={username}&password={}",
        common::urlencode(password)
    );
    call(to, source, "/api/auth/sign_in", "", extra_headers, &form).await
}

/// Which instance the balancer sent a request to (HAProxy's
/// `X-Daohu-Instance`).
fn answered_by(r: &RawReply) -> String {
    r.headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-daohu-instance:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no X-Daohu-Instance: {}", r.headers))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

async fn instances_started_together_load_the_demo_once(cluster: &Cluster, db: &TestDb) {
    for i in 1..=INSTANCES {
        let r = request(
            cluster.instance(i),
            None,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"",
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200, "instance {i}");
    }
    let loaded = (1..=INSTANCES)
        .filter(|i| cluster.log(&format!("daohu-{i}")).contains("demo loaded"))
        .count();
    assert_eq!(loaded, 1, "instances that loaded the demo");
    assert_eq!(db.store.count_households().await.unwrap(), DEMO_HOUSEHOLDS);
}

async fn a_session_from_the_balancer_works_on_every_instance(cluster: &Cluster) {
    let lb = cluster.balancer;
    // As a browser posts the sign-in form: the origin it names is the
    // balancer's, which the instance knows from X-Forwarded-Host/-Proto.
    let browser = format!("Origin: http://{lb}\r\nSec-Fetch-Site: same-origin\r\n");
    let r = sign_in(lb, None, "county", DEMO_PASSWORD, &browser).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = raw_http::session_cookie(&r).expect("session cookie");
    let foreign = "Origin: http://evil.example\r\nSec-Fetch-Site: same-origin\r\n";
    let r = sign_in(lb, None, "county", DEMO_PASSWORD, foreign).await;
    assert_eq!(r.status, 403, "another site's form: {}", r.body);

    for i in 1..=INSTANCES {
        let r = call(
            cluster.instance(i),
            None,
            "/api/auth/current_user",
            &cookie,
            "",
            "",
        )
        .await;
        assert_eq!(r.status, 200, "instance {i}: {}", r.body);
        assert!(r.body.contains("\"county\""), "instance {i}: {}", r.body);
    }
    let mut seen = HashSet::new();
    for _ in 0..2 * INSTANCES {
        let r = call(lb, None, "/api/households/list", &cookie, "", "").await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.insert(answered_by(&r));
    }
    assert_eq!(seen.len(), INSTANCES as usize, "round-robin over {seen:?}");
}

const PHONES: [&str; 4] = ["worker1", "worker2", "worker3", "worker4"];
const VISITS_PER_PHONE: usize = 40;
/// A worker syncs after a household or two.
const BATCH: usize = 2;

/// A phone emptying its outbox through the balancer: what got no answer
/// (a dead instance, a 502) is sent again. Returns how many attempts got no
/// usable answer and when the outbox became empty.
async fn phone(
    lb: SocketAddr,
    username: &'static str,
    mut outbox: Vec<VisitSubmission>,
) -> (usize, Instant) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let cookie = loop {
        let r = sign_in(lb, None, username, DEMO_PASSWORD, "").await;
        if let Some(c) = raw_http::session_cookie(&r) {
            break c;
        }
        assert!(Instant::now() < deadline, "{username} never signed in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut unanswered = 0;
    while !outbox.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{username}: {} visits still pending",
            outbox.len()
        );
        let batch: Vec<&VisitSubmission> = outbox.iter().take(BATCH).collect();
        let body = serde_json::json!({ "visits": batch }).to_string();
        let head = raw_http::post_head(VISITS_PATH, &cookie, "application/json", body.len());
        match request(lb, None, &head, body.as_bytes()).await {
            Ok(r) if r.status == 200 => {
                let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                for v in json["results"].as_array().unwrap() {
                    let outcome = v["outcome"].as_str().unwrap_or_default();
                    assert!(
                        matches!(outcome, "stored" | "already_stored"),
                        "{username}: {v}"
                    );
                    let id: Uuid = v["id"].as_str().unwrap().parse().unwrap();
                    outbox.retain(|o| o.id != id);
                }
            }
            // The balancer's 502/503 while an instance dies, or a cut
            // connection: no answer for these visits, so they stay.
            Ok(r) => {
                assert!(r.status >= 500, "{username}: {} {}", r.status, r.body);
                unanswered += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => {
                unanswered += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    (unanswered, Instant::now())
}

async fn visits_synced_through_a_killed_instance_are_stored_exactly_once(
    cluster: &Cluster,
    db: &TestDb,
) {
    let store = db.store.as_ref();
    let before = store.count_visits().await.unwrap();
    let mut sent: HashMap<Uuid, VisitSubmission> = HashMap::new();
    let mut phones = Vec::new();
    for worker in PHONES {
        let household = household_of(store, worker).await;
        let mut outbox = Vec::new();
        for _ in 0..VISITS_PER_PHONE {
            let v = signed_visit(store, household).await;
            sent.insert(v.id, v.clone());
            outbox.push(v);
        }
        phones.push(tokio::spawn(phone(cluster.balancer, worker, outbox)));
    }
    // Kill an instance while the phones sync, and later another, each
    // restarted after a while down (the balancer notices and sends the
    // phones to the others meanwhile).
    let mut kills = Vec::new();
    for i in [2, 3] {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cluster.script(&["kill", &i.to_string()]).await;
        kills.push(Instant::now());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        cluster.script(&["restart", &i.to_string()]).await;
    }
    let mut unanswered = 0;
    let mut last_done = Instant::now() - Duration::from_secs(3600);
    for p in phones {
        let (u, done) = p.await.expect("phone");
        unanswered += u;
        last_done = last_done.max(done);
    }
    eprintln!(
        "sync through kills: {} visits, {unanswered} attempts unanswered",
        sent.len()
    );
    assert!(
        last_done > kills[0],
        "the phones were done before the first kill: nothing was tested"
    );
    assert_eq!(
        (store.count_visits().await.unwrap() - before) as usize,
        sent.len(),
        "every visit stored exactly once"
    );
    for id in sent.keys() {
        assert!(store.visit(*id).await.unwrap().is_some(), "{id} missing");
    }
}

/// Lets an hour pass for the throttle: every failure counted an hour earlier.
async fn let_an_hour_pass(db: &TestDb) {
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::query(
        "UPDATE sign_in_failures SET last_failure_at = last_failure_at - INTERVAL '1 hour'",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

async fn failures_of(db: &TestDb, key: &str) -> i64 {
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let n: Option<i64> = sqlx::query_scalar("SELECT failures FROM sign_in_failures WHERE key = $1")
        .bind(key)
        .fetch_optional(&pool)
        .await
        .unwrap();
    pool.close().await;
    n.unwrap_or(0)
}

async fn the_sign_in_limit_holds_across_instances_and_per_client(cluster: &Cluster, db: &TestDb) {
    let lb = cluster.balancer;
    // Two clients of the balancer: a guesser and the account's owner at
    // another address. The instances see both only as the balancer's
    // connections; X-Forwarded-For tells them apart.
    let guesser = ip("127.0.0.2");
    let owner = ip("127.0.0.3");
    let account = "township2";
    // A key makes attempts wait after its free failures; each round lets
    // the wait pass and fails again, doubling it to well over a test's
    // length (a slow machine could let the first one-second wait pass).
    const ROUNDS: i64 = 5;
    let mut instances = HashSet::new();
    for i in 0..throttle::PAIR.free + ROUNDS {
        if i >= throttle::PAIR.free {
            let_an_hour_pass(db).await;
        }
        let r = sign_in(lb, guesser, account, "guess-guess", "").await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
        instances.insert(answered_by(&r));
    }
    assert!(
        instances.len() > 1,
        "the guesses went to one instance only: {instances:?}"
    );
    let key = throttle::Keys::new(account, Some("127.0.0.2"));
    assert_eq!(
        failures_of(db, &key.pair).await,
        throttle::PAIR.free + ROUNDS,
        "every instance counted in the database"
    );
    // Each instance now makes the guesser wait, whichever it reaches (by
    // the balancer, or directly naming the same client address), and
    // whatever X-Forwarded-For the guesser writes itself.
    for _ in 0..INSTANCES {
        let r = sign_in(lb, guesser, account, DEMO_PASSWORD, "").await;
        assert_eq!(r.status, 429, "through the balancer: {}", r.body);
        let spoofed = sign_in(
            lb,
            guesser,
            account,
            DEMO_PASSWORD,
            "X-Forwarded-For: 127.0.0.9\r\n",
        )
        .await;
        assert_eq!(
            spoofed.status, 429,
            "with a made-up X-Forwarded-For: {}",
            spoofed.body
        );
    }
    for i in 1..=INSTANCES {
        let r = sign_in(
            cluster.instance(i),
            None,
            account,
            DEMO_PASSWORD,
            "X-Forwarded-For: 127.0.0.2\r\n",
        )
        .await;
        assert_eq!(r.status, 429, "instance {i}: {}", r.body);
    }
    // One guesser does not slow everyone behind the balancer.
    let r = sign_in(lb, owner, account, DEMO_PASSWORD, "").await;
    assert_eq!(r.status, 200, "the owner at another address: {}", r.body);
}

/// A roster upload through the balancer, as the import page's form posts it.
async fn upload(cluster: &Cluster, cookie: &str, file: &str, bytes: &[u8]) -> RawReply {
    let lb = cluster.balancer;
    let boundary = "----daohu-cluster-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nhouseholds\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST /roster/upload HTTP/1.1\r\nHost: {lb}\r\nOrigin: http://{lb}\r\n\
         Sec-Fetch-Site: same-origin\r\nCookie: {cookie}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    request(lb, None, &head, &body).await.expect("upload")
}

async fn job(to: SocketAddr, cookie: &str, id: &str) -> Option<daohu::roster::ImportJob> {
    let r = call(to, None, "/api/roster/job", cookie, "", &format!("id={id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("a job or null")
}

async fn imports_through_the_balancer_run_one_at_a_time_and_answer_everywhere(
    cluster: &Cluster,
    db: &TestDb,
) {
    let lb = cluster.balancer;
    let browser = format!("Origin: http://{lb}\r\nSec-Fetch-Site: same-origin\r\n");
    let r = sign_in(lb, ip("127.0.0.4"), "county", DEMO_PASSWORD, &browser).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = raw_http::session_cookie(&r).expect("session cookie");
    // The demo's own households as an import file: a real import of the
    // whole county (that finds nothing to change).
    let year = common::year();
    let data = daohu::demo::generate(&daohu::demo::DemoSpec {
        households: DEMO_HOUSEHOLDS as usize,
        seed: 2023,
        year,
    });
    let items = db.store.subsidy_items().await.unwrap();
    let (households, _) = daohu::demo::roster::csv_files(&data, &items);
    // Two uploads for one county at once, through the balancer.
    let (a, b) = tokio::join!(
        upload(cluster, &cookie, "a.csv", households.as_bytes()),
        upload(cluster, &cookie, "b.csv", households.as_bytes()),
    );
    let mut ids = Vec::new();
    for r in [a, b] {
        assert_eq!(r.status, 303, "{}", r.body);
        let location = r
            .headers
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("location:")
                    .then(|| l[9..].trim().to_owned())
            })
            .expect("a redirect to the job's page");
        ids.push(location.rsplit('/').next().unwrap().to_owned());
    }
    // Followed through the balancer (any instance) to the end.
    for id in &ids {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let j = job(lb, &cookie, id).await.expect("the importer sees it");
            if j.phase.is_finished() {
                assert!(
                    matches!(j.phase, daohu::roster::ImportPhase::Done(_)),
                    "{:?}",
                    j.phase
                );
                break;
            }
            assert!(Instant::now() < deadline, "import {id} never finished");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Every instance answers for it, the same.
        let first = job(cluster.instance(1), &cookie, id).await;
        for i in 2..=INSTANCES {
            assert_eq!(
                job(cluster.instance(i), &cookie, id).await,
                first,
                "instance {i}"
            );
        }
    }
    // One after the other: the second started when the first had finished.
    let mut spans: Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> = {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query_as("SELECT started_at, finished_at FROM import_jobs")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(spans.len(), 2);
    spans.sort();
    assert!(spans[1].0 >= spans[0].1, "imports overlapped: {spans:?}");
}

async fn periodic_and_derived_work_ran_once_and_left_nothing_stale(cluster: &Cluster, db: &TestDb) {
    use daohu::income::service::{RECOMPUTE_SCHEDULE, REFRESH_SCHEDULE};
    // Three instances, each checking the schedule since it started (and
    // two of them restarted): the refresh ran once.
    let _ = cluster;
    assert_eq!(db.store.schedule_runs(REFRESH_SCHEDULE).await.unwrap(), 1);
    assert_eq!(db.store.schedule_runs(RECOMPUTE_SCHEDULE).await.unwrap(), 0);
    // The instances' workers did what the synced visits and the imports
    // queued (through two kill -9s), and nothing derived is stale. A
    // killed instance's claim holds for its lease (60 s) before another
    // instance takes the work over: wait past it.
    common::derived::settled(db, Duration::from_secs(75), false).await;
    common::derived::assert_derived_match_recomputation(db).await;
}
