//! Test support: a fresh database per test on each backend, the demo data,
//! and calls through the router without a socket.
#![allow(dead_code, reason = "each test binary uses a different part")]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use daohu::demo::{self, DemoSpec};
use daohu::server::config::Config;
use daohu::server::db::{self, Store};
use daohu::server::{AppState, router};
use daohu::subsidies::StatYear;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub mod derived;
pub mod dice;
pub mod raw_http;
pub mod server;

/// The statistics year of today: what the household page shows.
pub fn year() -> StatYear {
    StatYear::containing(chrono::Local::now().date_naive())
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    pub store: Arc<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(tempdir::TempDir),
    PgDatabase { admin_url: String, name: String },
}

pub mod tempdir {
    /// A directory under the system temp dir, removed on drop.
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> TempDir {
            let p =
                std::env::temp_dir().join(format!("daohu-test-{}", uuid::Uuid::now_v7().simple()));
            std::fs::create_dir_all(&p).expect("create temp dir");
            TempDir(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let db = TestDb::unmigrated_sqlite().await;
        db.store.migrate().await.expect("migrate sqlite");
        db
    }

    /// A SQLite file as a first start finds it: no schema yet.
    pub async fn unmigrated_sqlite() -> TestDb {
        let dir = tempdir::TempDir::new();
        let url = format!("sqlite:{}", dir.0.join("daohu.db").display());
        let store = db::connect(&url).await.expect("open sqlite");
        TestDb {
            url,
            store,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is
    /// unset. When it is set, an unreachable server fails the test: CI must
    /// never pass by skipping PostgreSQL.
    pub async fn postgres() -> Option<TestDb> {
        let db = TestDb::unmigrated_postgres().await?;
        db.store.migrate().await.expect("migrate postgres");
        Some(db)
    }

    /// A PostgreSQL database as a first start finds it: no schema yet.
    pub async fn unmigrated_postgres() -> Option<TestDb> {
        let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
        let name = format!("daohu_test_{}", uuid::Uuid::now_v7().simple());
        let admin =
            db::PostgresStore::admin_execute(&admin_url, &format!("CREATE DATABASE {name}")).await;
        admin.unwrap_or_else(|e| {
            panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
        });
        let url = with_database(&admin_url, &name);
        let store = db::connect(&url).await.expect("open postgres");
        Some(TestDb {
            url,
            store,
            cleanup: Cleanup::PgDatabase { admin_url, name },
        })
    }

    /// The demo county at a test-friendly size: 200 households, 2 townships.
    pub async fn with_demo(self) -> TestDb {
        let spec = DemoSpec {
            households: 200,
            seed: 11,
            year: year(),
        };
        demo::load(self.store.as_ref(), &spec, false)
            .await
            .expect("load demo");
        self
    }

    pub fn state(&self) -> AppState {
        AppState::new(Config::for_database(&self.url), self.store.clone())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::PgDatabase { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime; a fresh one on another
            // thread can block on the DROP.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(db::PostgresStore::admin_execute(
                        &admin_url,
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ))
            })
            .join();
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// Runs `body` once on SQLite and, when configured, once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match $crate::common::TestDb::postgres().await {
                        Some(db) => super::$name(db).await,
                        None => eprintln!("TEST_DATABASE_URL unset: PostgreSQL run of {} skipped", stringify!($name)),
                    }
                }
            )*
        }
    };
}

/// A response read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (for downloads).
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The session cookie set by this response, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("daohu_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    }
}

/// One request through the router, then the derived work it queued done
/// (what the instance's background workers do within moments), so a test
/// reads what a user would see a moment later.
pub async fn send(state: &AppState, req: Request<Body>) -> Reply {
    let what = format!("{} {}", req.method(), req.uri());
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        router(state.clone()).oneshot(req),
    )
    .await
    .unwrap_or_else(|_| panic!("no answer within a minute: {what}"))
    .expect("router answers");
    let work = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        daohu::income::service::work_until_idle(state.store.as_ref()),
    )
    .await
    .unwrap_or_else(|_| panic!("derived work not done within a minute after {what}"));
    // A test of an unmigrated or vanished database has no queue to work.
    if let Err(e) = work {
        eprintln!("derived work after {what}: {e}");
    }
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        res.into_body().collect(),
    )
    .await
    .unwrap_or_else(|_| panic!("body not read within a minute: {what}"))
    .expect("body")
    .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// POSTs a server function the way the browser client does.
pub async fn call(
    state: &AppState,
    cookie: Option<&str>,
    path: &str,
    form: &[(&str, &str)],
) -> Reply {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(state, req.body(Body::from(body)).expect("request")).await
}

/// GETs a page the way a browser navigation does.
pub async fn page(state: &AppState, cookie: Option<&str>, path: &str) -> Reply {
    let mut req = Request::get(path).header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(state, req.body(Body::empty()).expect("request")).await
}

pub async fn sign_in(state: &AppState, username: &str) -> String {
    let r = call(
        state,
        None,
        "/api/auth/sign_in",
        &[("username", username), ("password", demo::DEMO_PASSWORD)],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "sign-in of {username}: {}",
        r.body
    );
    r.session_cookie().expect("session cookie set")
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// POSTs JSON with the session cookie, as the phone's sync does.
pub async fn post_json(
    state: &AppState,
    cookie: Option<&str>,
    path: &str,
    body: impl Into<String>,
) -> Reply {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(state, req.body(Body::from(body.into())).expect("request")).await
}

/// When a test's visit starts: 40 days into the statistics year, or 26
/// hours ago while the year is younger (a visit may not lie in the
/// future, and tests move one a day later), to the second.
pub fn visit_start() -> chrono::DateTime<chrono::Utc> {
    use chrono::{Duration, SubsecRound, Utc};
    let planned = year().first_day().and_hms_opt(9, 30, 0).unwrap().and_utc() + Duration::days(40);
    planned.min(Utc::now().trunc_subsecs(0) - Duration::hours(26))
}

/// A valid, signed visit of `household_id` covering all its entitlements
/// of the current statistics year, each received in full.
pub async fn signed_visit(
    store: &dyn Store,
    household_id: uuid::Uuid,
) -> daohu::visits::VisitSubmission {
    use base64::Engine;
    use daohu::visits::*;
    let year = year();
    let lines = store
        .entitlements(household_id, year.0)
        .await
        .expect("entitlements")
        .into_iter()
        .map(|e| VerificationLine {
            entitlement_id: e.entitlement.id,
            status: PaymentStatus::ReceivedInFull,
            received_fen: Some(e.entitlement.expected_fen),
            received_on: Some(e.entitlement.expected_date),
            channel: Some(e.entitlement.channel),
            reason: None,
            reason_text: String::new(),
        })
        .collect();
    let started = visit_start();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(std::iter::repeat_n(7u8, 8 * 1024));
    let mut v = VisitSubmission {
        id: uuid::Uuid::now_v7(),
        household_id,
        stat_year: year.0,
        started_at: started,
        ended_at: started + chrono::Duration::minutes(20),
        met_with: "户主本人".into(),
        notes: "一切正常".into(),
        location: Location::Fix {
            lat_e6: 35_579_812,
            lon_e6: 104_626_301,
            accuracy_m: 15,
        },
        lines,
        signature: Signature {
            signer_name: "户主".into(),
            signer_relation: "户主".into(),
            thumbprint: false,
            proxy_reason: None,
            strokes_json: "[[[10,20,0],[30,40,16],[50,45,33]]]".into(),
            png_base64: base64::engine::general_purpose::STANDARD.encode(&png),
            content_hash: String::new(),
        },
        photo_base64: None,
        measure_updates: Vec::new(),
        income: Vec::new(),
        household_size: None,
        evidence: Vec::new(),
    };
    v.signature.content_hash = confirmation_hash(&v);
    v
}

/// A submission as the sync service would hand it to the store: its
/// signature decoded, its payload hashed, no derived work.
pub fn record(
    v: daohu::visits::VisitSubmission,
    worker_id: uuid::Uuid,
) -> daohu::server::db::VisitRecord {
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(&v.signature.png_base64)
        .unwrap();
    daohu::server::db::VisitRecord {
        payload_hash: daohu::visits::payload_hash(&v),
        visit: v,
        worker_id,
        signature_png: png,
        photo_jpeg: None,
        evidence_jpeg: Vec::new(),
        earlier_payload_hash: None,
        income_work: Vec::new(),
    }
}

/// Stores `v` as `worker`'s straight through the store (no HTTP, no
/// derived work); returns its id.
pub async fn store_directly(
    store: &dyn Store,
    v: daohu::visits::VisitSubmission,
    worker: &str,
) -> uuid::Uuid {
    let worker = store.user_by_username(worker).await.unwrap().unwrap();
    let id = v.id;
    let answers = store.insert_visits(&[record(v, worker.id)]).await.unwrap();
    assert!(
        matches!(answers[0], Ok(daohu::server::db::VisitInsert::Stored)),
        "{:?}",
        answers[0]
    );
    id
}

/// The first `n` households assigned to `username` (asserted to exist).
pub async fn households_of(store: &dyn Store, username: &str, n: u32) -> Vec<uuid::Uuid> {
    let w = store.user_by_username(username).await.unwrap().unwrap();
    let q = daohu::server::db::HouseholdQuery {
        scope: w.area.clone(),
        worker_id: Some(w.id),
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: n,
        offset: 0,
    };
    let ids: Vec<uuid::Uuid> = store
        .list_households(&q)
        .await
        .unwrap()
        .0
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids.len(), n as usize, "{username} has {n} households");
    ids
}

/// The first household assigned to `username`.
pub async fn household_of(store: &dyn Store, username: &str) -> uuid::Uuid {
    households_of(store, username, 1).await[0]
}

/// The page with its per-response CSP nonce blanked (a cached copy keeps
/// its own nonce together with its own header).
pub fn without_nonces(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let next = |s: &str| {
        [s.find("nonce=\""), s.find("crossorigin=\"")]
            .into_iter()
            .flatten()
            .min()
    };
    while let Some(at) = next(rest) {
        let value_start = at + rest[at..].find('"').unwrap() + 1;
        out.push_str(&rest[..value_start]);
        let value_end = value_start + rest[value_start..].find('"').unwrap();
        rest = &rest[value_end..];
    }
    out.push_str(rest);
    out
}

/// A multipart form as a browser posts it.
pub async fn upload(
    state: &AppState,
    cookie: Option<&str>,
    kind: &str,
    file: &str,
    bytes: &[u8],
) -> Reply {
    let boundary = "----daohu-test-boundary";
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = Request::post("/roster/upload").header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={boundary}"),
    );
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(state, req.body(Body::from(body)).unwrap()).await
}

/// Uploads and waits for the import to finish, as the page does.
pub async fn import(
    state: &AppState,
    cookie: &str,
    kind: &str,
    file: &str,
    bytes: &[u8],
) -> daohu::roster::ImportJob {
    let r = upload(state, Some(cookie), kind, file, bytes).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    for _ in 0..1500 {
        let r = call(state, Some(cookie), "/api/roster/job", &[("id", &id)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let job: Option<daohu::roster::ImportJob> = serde_json::from_str(&r.body).unwrap();
        let job = job.expect("the importer sees their job");
        if job.phase.is_finished() {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("import did not finish");
}

/// A second county of the demo city, without households (通渭县).
pub const SECOND_COUNTY: &str = "621121000000";

/// Adds the second county and its officer (the demo's password).
pub async fn second_county(store: &dyn Store) {
    store
        .upsert_areas(&[daohu::areas::Area {
            code: daohu::areas::AreaCode::parse(SECOND_COUNTY).unwrap(),
            name: "通渭县".into(),
        }])
        .await
        .unwrap();
    let county = store.user_by_username("county").await.unwrap().unwrap();
    store
        .insert_user(&daohu::server::db::UserRecord {
            id: uuid::Uuid::now_v7(),
            username: "county2".into(),
            display_name: "通渭县乡村振兴局".into(),
            role: daohu::auth::Role::CountyAdmin,
            area: daohu::areas::AreaCode::parse(SECOND_COUNTY).unwrap(),
            password_hash: county.password_hash,
            active: true,
        })
        .await
        .unwrap();
}
