//! Signing in under attack, sessions that end, and one's own password:
//! through the router, on both backends.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use common::{Reply, TestDb, call, send};
use daohu::auth::throttle;
use daohu::demo::DEMO_PASSWORD;
use daohu::server::AppState;
use daohu::server::config::Config;

on_both_backends!(
    an_attackers_failures_do_not_stop_the_real_user_at_a_known_address,
    an_unknown_address_is_slowed_but_not_locked_for_good,
    a_device_cookie_lets_its_owner_in_from_a_new_address,
    made_up_names_are_throttled_like_real_ones,
    limits_hold_across_two_instances_on_one_database,
    a_session_ends_when_idle_and_at_its_absolute_end,
    sessions_are_judged_by_the_clock_the_services_are_given,
    last_seen_is_written_at_most_once_an_hour,
    changing_the_password_checks_it_and_signs_out_the_other_sessions,
    signing_out_the_other_sessions_keeps_this_one,
    weak_passwords_are_refused_wherever_a_password_is_set,
);

/// An instance behind a proxy that sets `X-Forwarded-For`, so each test
/// request can come from an address of its choosing.
fn behind_proxy(db: &TestDb) -> AppState {
    let mut config = Config::for_database(&db.url);
    config.trust_forwarded_for = true;
    AppState::new(config, db.store.clone())
}

async fn sign_in_from(
    state: &AppState,
    username: &str,
    password: &str,
    address: &str,
    cookies: Option<&str>,
) -> Reply {
    let body = format!("username={username}&password={}", urlencoded(password));
    let mut req = Request::post("/api/auth/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header("x-forwarded-for", address);
    if let Some(c) = cookies {
        req = req.header(header::COOKIE, c);
    }
    send(state, req.body(Body::from(body)).unwrap()).await
}

fn urlencoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `name=value` of a cookie this response sets.
fn set_cookie(r: &Reply, name: &str) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Runs one statement with one timestamp bound, straight on the database:
/// moving stored times is how these tests let days pass.
async fn at(db: &TestDb, sql: &str, time: DateTime<Utc>) {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(sql).bind(time).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(sql).bind(time).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Lets `by` pass for the throttle: every failure happened that much earlier.
async fn let_time_pass(db: &TestDb, by: Duration) {
    let now = Utc::now();
    // One bound value for all rows: put every count's last failure at
    // `now - by` (they were all within the last minutes anyway).
    at(
        db,
        "UPDATE sign_in_failures SET last_failure_at = $1",
        now - by,
    )
    .await;
}

/// A key that has just used its free failures makes the next attempt wait
/// only a second, which a slow test machine may let pass. An attacker who
/// keeps going doubles it: each round lets the current wait pass (an hour)
/// and fails once more, so after `ROUNDS` the wait is long.
const ROUNDS: u32 = 5;

fn retry_after(r: &Reply) -> u64 {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let secs = r.json()["TooManyAttempts"]["retry_after_secs"]
        .as_u64()
        .unwrap();
    // The same wait in the header, for clients that read only that.
    assert_eq!(
        r.headers[axum::http::header::RETRY_AFTER],
        secs.to_string(),
        "Retry-After"
    );
    secs
}

const OFFICE: &str = "10.1.1.1";

async fn an_attackers_failures_do_not_stop_the_real_user_at_a_known_address(db: TestDb) {
    let db = db.with_demo().await;
    let state = behind_proxy(&db);
    let mut attempts = 0;
    // The county officer signs in from the office, behind its one NAT address.
    let r = sign_in_from(&state, "county", DEMO_PASSWORD, OFFICE, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // An attacker guesses at the account from the same NAT address and from
    // thirty others, and sprays made-up names from the office until the
    // address itself is throttled; and keeps at it.
    for _ in 0..10 {
        sign_in_from(&state, "county", "guess-guess-1", OFFICE, None).await;
        attempts += 1;
    }
    for i in 0..30 {
        let r = sign_in_from(
            &state,
            "county",
            "guess-guess-2",
            &format!("10.2.0.{i}"),
            None,
        )
        .await;
        assert!(r.status.is_client_error(), "{}", r.body);
        attempts += 1;
    }
    for i in 0..throttle::ADDRESS.free {
        sign_in_from(&state, &format!("nobody{i}"), "guess-guess-3", OFFICE, None).await;
        attempts += 1;
    }
    for round in 0..ROUNDS {
        let_time_pass(&db, Duration::hours(1)).await;
        sign_in_from(
            &state,
            &format!("again{round}"),
            "guess-guess-3",
            OFFICE,
            None,
        )
        .await;
        sign_in_from(
            &state,
            "county",
            "guess-guess-2",
            &format!("10.2.1.{round}"),
            None,
        )
        .await;
        attempts += 2;
    }
    // Every key is now throttled: the address (a colleague who never
    // signed in from here waits), the account (from anywhere else).
    retry_after(&sign_in_from(&state, "township1", DEMO_PASSWORD, OFFICE, None).await);
    retry_after(&sign_in_from(&state, "county", "guess-guess-4", "10.3.3.3", None).await);
    attempts += 2;
    // The real officer, with the right password, from the office: in.
    let r = sign_in_from(&state, "county", DEMO_PASSWORD, OFFICE, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.session_cookie().is_some());
    // A wrong password from the known address is answered as from anywhere
    // (the answer does not tell that the officer signs in here).
    retry_after(&sign_in_from(&state, "county", "guess-guess-5", OFFICE, None).await);
    attempts += 1;
    // Each failure checked was audited; attempts refused for waiting were
    // not even checked (no argon2 hash for a flood).
    let refused = db.store.audit_events("sign_in").await.unwrap();
    assert!(refused.iter().all(|e| e.outcome == "refused"));
    assert!(refused.len() < attempts, "{} of {attempts}", refused.len());
}

async fn an_unknown_address_is_slowed_but_not_locked_for_good(db: TestDb) {
    let db = db.with_demo().await;
    let state = behind_proxy(&db);
    for i in 0..throttle::ACCOUNT.free {
        let r = sign_in_from(
            &state,
            "county",
            "guess-guess",
            &format!("10.4.0.{i}"),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    for round in 0..ROUNDS {
        let_time_pass(&db, Duration::hours(1)).await;
        let r = sign_in_from(
            &state,
            "county",
            "guess-guess",
            &format!("10.4.1.{round}"),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    // The real officer on a new phone, at an address never seen: slowed,
    // told how long, never more than the cap.
    let wait = retry_after(&sign_in_from(&state, "county", DEMO_PASSWORD, "10.5.5.5", None).await);
    assert!(wait >= 1 && wait <= throttle::MAX_WAIT.as_secs(), "{wait}");
    // Waiting is not counted as failing: knocking does not make it longer.
    for _ in 0..5 {
        let again =
            retry_after(&sign_in_from(&state, "county", DEMO_PASSWORD, "10.5.5.5", None).await);
        assert!(again <= wait);
    }
    // Once the wait is over the right password gets in.
    let_time_pass(
        &db,
        Duration::seconds(throttle::MAX_WAIT.as_secs() as i64 + 1),
    )
    .await;
    let r = sign_in_from(&state, "county", DEMO_PASSWORD, "10.5.5.5", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A day without failures and even the guesser starts afresh.
    let_time_pass(&db, throttle::FORGET_AFTER + Duration::seconds(1)).await;
    let r = sign_in_from(&state, "county", "guess-guess", "10.4.0.1", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

async fn a_device_cookie_lets_its_owner_in_from_a_new_address(db: TestDb) {
    let db = db.with_demo().await;
    let state = behind_proxy(&db);
    let r = sign_in_from(&state, "worker1", DEMO_PASSWORD, "10.6.0.1", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let device = set_cookie(&r, "daohu_device").expect("a device cookie is set");
    let raw = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("daohu_device="))
        .unwrap();
    assert!(
        raw.contains("Path=/api/auth") && raw.contains("HttpOnly"),
        "{raw}"
    );
    for i in 0..throttle::ACCOUNT.free {
        sign_in_from(
            &state,
            "worker1",
            "guess-guess",
            &format!("10.7.0.{i}"),
            None,
        )
        .await;
    }
    for round in 0..ROUNDS {
        let_time_pass(&db, Duration::hours(1)).await;
        sign_in_from(
            &state,
            "worker1",
            "guess-guess",
            &format!("10.7.1.{round}"),
            None,
        )
        .await;
    }
    // Mobile data gave the phone a new address; its cookie is known.
    retry_after(&sign_in_from(&state, "worker1", DEMO_PASSWORD, "10.8.8.8", None).await);
    let r = sign_in_from(&state, "worker1", DEMO_PASSWORD, "10.8.8.8", Some(&device)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        set_cookie(&r, "daohu_device").is_none(),
        "a known device keeps its cookie"
    );
    // The cookie is no key on its own: a wrong password is still refused,
    // and a cookie of our own making but unknown counts for nothing.
    retry_after(&sign_in_from(&state, "worker1", "guess-again", "10.8.8.8", Some(&device)).await);
    let forged = format!("daohu_device={}", "ab".repeat(32));
    retry_after(&sign_in_from(&state, "worker1", DEMO_PASSWORD, "10.8.8.9", Some(&forged)).await);
}

async fn made_up_names_are_throttled_like_real_ones(db: TestDb) {
    let db = db.with_demo().await;
    let state = behind_proxy(&db);
    let mut answers = Vec::new();
    for name in ["county", "no-such-officer"] {
        let mut seen = Vec::new();
        let attempt = || async {
            let r = sign_in_from(&state, name, "guess-guess", "10.9.0.1", None).await;
            (r.status, r.body)
        };
        for _ in 0..throttle::PAIR.free {
            seen.push(attempt().await);
        }
        for _ in 0..ROUNDS {
            let_time_pass(&db, Duration::hours(1)).await;
            seen.push(attempt().await);
        }
        seen.push(attempt().await);
        answers.push(seen);
    }
    // The same answers, in the same order: the throttle tells no name apart.
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].last().unwrap().0, StatusCode::TOO_MANY_REQUESTS);
}

async fn limits_hold_across_two_instances_on_one_database(db: TestDb) {
    let db = db.with_demo().await;
    // Two instances behind a balancer: separate states and routers, one
    // database.
    let a = behind_proxy(&db);
    let b = AppState::new(
        {
            let mut c = Config::for_database(&db.url);
            c.trust_forwarded_for = true;
            c
        },
        daohu::server::db::connect(&db.url).await.unwrap(),
    );
    for i in 0..throttle::PAIR.free + i64::from(ROUNDS) {
        if i >= throttle::PAIR.free {
            let_time_pass(&db, Duration::hours(1)).await;
        }
        let instance = if i % 2 == 0 { &a } else { &b };
        let r = sign_in_from(instance, "township1", "guess-guess", "10.10.0.1", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    // Each instance saw only some of the failures; together they are enough.
    retry_after(&sign_in_from(&a, "township1", DEMO_PASSWORD, "10.10.0.1", None).await);
    retry_after(&sign_in_from(&b, "township1", DEMO_PASSWORD, "10.10.0.1", None).await);
}

async fn session_row_times(db: &TestDb) -> Vec<DateTime<Utc>> {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let r = sqlx::query_scalar("SELECT last_seen_at FROM sessions ORDER BY last_seen_at")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let r = sqlx::query_scalar("SELECT last_seen_at FROM sessions ORDER BY last_seen_at")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    }
}

async fn whoami(state: &AppState, cookie: &str) -> StatusCode {
    call(state, Some(cookie), "/api/households/list", &[])
        .await
        .status
}

async fn a_session_ends_when_idle_and_at_its_absolute_end(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    assert_eq!(state.config.session_idle_days, 14, "the shipped default");
    let cookie = common::sign_in(&state, "county").await;
    assert_eq!(whoami(&state, &cookie).await, StatusCode::OK);
    // Thirteen days without use: still signed in (and seen again now).
    let now = Utc::now();
    at(
        &db,
        "UPDATE sessions SET last_seen_at = $1",
        now - Duration::days(13),
    )
    .await;
    assert_eq!(whoami(&state, &cookie).await, StatusCode::OK);
    // Fifteen days: out.
    at(
        &db,
        "UPDATE sessions SET last_seen_at = $1",
        now - Duration::days(15),
    )
    .await;
    assert_eq!(whoami(&state, &cookie).await, StatusCode::UNAUTHORIZED);
    // Used every day, a session still ends at its absolute end.
    let cookie = common::sign_in(&state, "township1").await;
    at(
        &db,
        "UPDATE sessions SET expires_at = $1",
        now - Duration::minutes(1),
    )
    .await;
    assert_eq!(whoami(&state, &cookie).await, StatusCode::UNAUTHORIZED);
    // The idle limit is the configured one (DAOHU_SESSION_IDLE_DAYS).
    let mut short = Config::for_database(&db.url);
    short.session_idle_days = 2;
    let short = AppState::new(short, db.store.clone());
    let cookie = common::sign_in(&short, "township2").await;
    // Each sign-in deleted what had died: county's idle session and
    // township1's expired one are gone.
    assert_eq!(
        session_row_times(&db).await.len(),
        1,
        "dead sessions deleted"
    );
    at(
        &db,
        "UPDATE sessions SET last_seen_at = $1",
        now - Duration::days(3),
    )
    .await;
    assert_eq!(whoami(&short, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        whoami(&state, &cookie).await,
        StatusCode::OK,
        "14 days here"
    );
}

/// The same idle limit, with days passing on the clock `AppState` hands to
/// the services instead of in the database.
async fn sessions_are_judged_by_the_clock_the_services_are_given(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = common::sign_in(&state, "county").await;
    let mut later = db.state();
    later.clock = || Utc::now() + Duration::days(15);
    assert_eq!(whoami(&later, &cookie).await, StatusCode::UNAUTHORIZED);
    later.clock = || Utc::now() + Duration::days(13);
    assert_eq!(whoami(&later, &cookie).await, StatusCode::OK);
    assert_eq!(whoami(&state, &cookie).await, StatusCode::OK);
}

async fn last_seen_is_written_at_most_once_an_hour(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = common::sign_in(&state, "county").await;
    let signed_in = session_row_times(&db).await[0];
    for _ in 0..3 {
        assert_eq!(whoami(&state, &cookie).await, StatusCode::OK);
    }
    assert_eq!(
        session_row_times(&db).await[0],
        signed_in,
        "no write per request"
    );
    let earlier = Utc::now() - Duration::minutes(61);
    at(&db, "UPDATE sessions SET last_seen_at = $1", earlier).await;
    assert_eq!(whoami(&state, &cookie).await, StatusCode::OK);
    let seen = session_row_times(&db).await[0];
    assert!(
        seen > earlier + Duration::minutes(60),
        "refreshed after an hour"
    );
}

async fn account(state: &AppState, cookie: &str) -> serde_json::Value {
    let r = call(state, Some(cookie), "/api/auth/account", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

fn refusal_field(r: &Reply) -> String {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    r.json()["Validation"]["field"].as_str().unwrap().to_owned()
}

async fn change(state: &AppState, cookie: &str, current: &str, new: &str, again: &str) -> Reply {
    call(
        state,
        Some(cookie),
        "/api/auth/change_password",
        &[("current", current), ("new", new), ("again", again)],
    )
    .await
}

async fn changing_the_password_checks_it_and_signs_out_the_other_sessions(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let phone = common::sign_in(&state, "worker1").await;
    let lost_phone = common::sign_in(&state, "worker1").await;
    let colleague = common::sign_in(&state, "worker2").await;
    let new = "马家湾村七组的那口老井";
    let r = change(&state, &phone, "not-my-password", new, new).await;
    assert_eq!(refusal_field(&r), "当前密码");
    let r = change(&state, &phone, DEMO_PASSWORD, "woaini1314", "woaini1314").await;
    assert_eq!(refusal_field(&r), "新密码");
    assert!(r.body.contains("常见密码"), "{}", r.body);
    let r = change(&state, &phone, DEMO_PASSWORD, "short", "short").await;
    assert_eq!(refusal_field(&r), "新密码");
    let r = change(&state, &phone, DEMO_PASSWORD, new, "马家湾村七组的那棵老树").await;
    assert_eq!(refusal_field(&r), "确认新密码");
    // Nothing changed so far: every session lives.
    assert_eq!(whoami(&state, &lost_phone).await, StatusCode::OK);

    let r = change(&state, &phone, DEMO_PASSWORD, new, new).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        whoami(&state, &phone).await,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(whoami(&state, &lost_phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        whoami(&state, &colleague).await,
        StatusCode::OK,
        "others' stay"
    );
    let old = call(
        &state,
        None,
        "/api/auth/sign_in",
        &[("username", "worker1"), ("password", DEMO_PASSWORD)],
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let fresh = call(
        &state,
        None,
        "/api/auth/sign_in",
        &[("username", "worker1"), ("password", new)],
    )
    .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    let audited = db.store.audit_events("change_password").await.unwrap();
    let outcomes: Vec<_> = audited.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(outcomes, ["refused", "ok"]);

    // Guessing the current password through a borrowed session is slowed
    // like guessing at the sign-in.
    for i in 0..throttle::PAIR.free + i64::from(ROUNDS) {
        if i >= throttle::PAIR.free {
            let_time_pass(&db, Duration::hours(1)).await;
        }
        let r = change(
            &state,
            &phone,
            "guess-guess",
            "tiger-lamp-river",
            "tiger-lamp-river",
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = change(&state, &phone, new, "tiger-lamp-river", "tiger-lamp-river").await;
    retry_after(&r);
    // Signed out, nothing at all.
    let r = call(
        &state,
        None,
        "/api/auth/change_password",
        &[("current", new), ("new", new), ("again", new)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn signing_out_the_other_sessions_keeps_this_one(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let office = common::sign_in(&state, "township1").await;
    let phone = common::sign_in(&state, "township1").await;
    let tablet = common::sign_in(&state, "township1").await;
    let other_user = common::sign_in(&state, "township2").await;
    let a = account(&state, &office).await;
    let sessions = a["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{a}");
    assert_eq!(
        sessions.iter().filter(|s| s["current"] == true).count(),
        1,
        "{a}"
    );
    assert!(
        sessions
            .iter()
            .all(|s| s["signed_in_at"].as_str().unwrap().len() == 16)
    );
    let r = call(&state, Some(&office), "/api/auth/sign_out_others", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), 2);
    assert_eq!(whoami(&state, &office).await, StatusCode::OK);
    assert_eq!(whoami(&state, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&state, &tablet).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&state, &other_user).await, StatusCode::OK);
    let a = account(&state, &office).await;
    assert_eq!(a["sessions"].as_array().unwrap().len(), 1);
    // The page, for every role, from the nav.
    for user in ["worker1", "township1", "county"] {
        let cookie = common::sign_in(&state, user).await;
        let home = common::page(&state, Some(&cookie), "/account").await;
        assert_eq!(home.status, StatusCode::OK, "{user}");
        assert!(
            home.body.contains("data-testid=\"change-password\""),
            "{user}"
        );
        assert!(home.body.contains("data-testid=\"sessions\""), "{user}");
    }
    let households = common::page(&state, Some(&office), "/households").await;
    assert!(households.body.contains("href=\"/account\""));
    let r = common::page(&state, None, "/account").await;
    assert!(r.status.is_redirection(), "signed out: to the sign-in page");
}

async fn weak_passwords_are_refused_wherever_a_password_is_set(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = common::sign_in(&state, "county").await;
    // 1. An administrator creating a user.
    for weak in [
        "daohu2026",
        "woaini1314",
        "1qaz2wsx3edc",
        "13912345678",
        "lisi-lisi-lisi",
    ] {
        let r = call(
            &state,
            Some(&county),
            "/api/users/create",
            &[
                ("username", "lisi"),
                ("display_name", "李四"),
                ("role", "field_worker"),
                ("area", "621102100000"),
                ("password", weak),
            ],
        )
        .await;
        assert_eq!(refusal_field(&r), "密码", "{weak}");
    }
    assert!(db.store.user_by_username("lisi").await.unwrap().is_none());
    // 2. `daohu user add` on the command line.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_daohu"))
        .args([
            "--database-url",
            &db.url,
            "user",
            "add",
            "--username",
            "wangwu",
            "--name",
            "王五",
            "--role",
            "field_worker",
            "--area",
            "621102100000",
        ])
        .env("DAOHU_PASSWORD", "Password2026!")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("常见密码"), "{stderr}");
    assert!(db.store.user_by_username("wangwu").await.unwrap().is_none());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_daohu"))
        .args([
            "--database-url",
            &db.url,
            "user",
            "add",
            "--username",
            "wangwu",
            "--name",
            "王五",
        ])
        .args(["--role", "field_worker", "--area", "621102100000"])
        .env("DAOHU_PASSWORD", "tiger-lamp-river")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 3. Changing one's own password: tests above.
    let r = change(&state, &county, DEMO_PASSWORD, "qwertyuiop", "qwertyuiop").await;
    assert_eq!(refusal_field(&r), "新密码");
}
