//! Faults without a browser: phones push their outboxes while requests are
//! dropped at random (mid-body, or after sending but before the answer) and
//! the server process is killed with SIGKILL and restarted several times.
//! At the end every visit is on the server exactly once, byte-identical.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::dice::Dice;
use common::raw_http;
use common::server::Server;
use common::{TestDb, household_of, signed_visit};
use daohu::sync::VISITS_PATH;
use daohu::visits::VisitSubmission;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use uuid::Uuid;

on_both_backends!(every_visit_arrives_exactly_once_through_drops_and_kills);

const PHONES: [&str; 4] = ["worker1", "worker2", "worker3", "worker4"];
const VISITS_PER_PHONE: usize = 60;
const KILLS: usize = 5;

/// One delivery attempt. Some attempts are cut off on purpose.
async fn attempt(
    addr: SocketAddr,
    cookie: &str,
    batch: &[VisitSubmission],
    dice: &mut Dice,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let body = serde_json::json!({ "visits": batch })
        .to_string()
        .into_bytes();
    let mut conn = TcpStream::connect(addr).await?;
    let roll = dice.roll();
    if roll < 0.15 {
        // The signal drops mid-request.
        let head = raw_http::post_head(VISITS_PATH, cookie, "application/json", body.len());
        conn.write_all(head.as_bytes()).await?;
        conn.write_all(&body[..body.len() / 2]).await?;
        anyhow::bail!("dropped mid-body");
    }
    raw_http::send_post(&mut conn, VISITS_PATH, cookie, "application/json", &body).await?;
    if roll < 0.30 {
        // The request went out; the answer never comes back.
        anyhow::bail!("dropped before the answer");
    }
    let reply =
        tokio::time::timeout(Duration::from_secs(20), raw_http::read_reply(&mut conn)).await??;
    anyhow::ensure!(
        reply.status == 200,
        "status {}: {}",
        reply.status,
        reply.body
    );
    let json: serde_json::Value = serde_json::from_str(&reply.body)?;
    Ok(json["results"].as_array().cloned().unwrap_or_default())
}

/// A phone: signs in, then empties its outbox with retries, backoff and jitter.
/// Returns how many attempts failed and when the outbox became empty.
async fn phone(
    addr: SocketAddr,
    username: &'static str,
    mut outbox: Vec<VisitSubmission>,
    seed: u64,
) -> (usize, Instant) {
    let mut dice = Dice(seed);
    let deadline = Instant::now() + Duration::from_secs(120);
    let form = format!(
        "username={username}&password={}",
        daohu::demo::DEMO_PASSWORD
    );
    let cookie = loop {
        assert!(Instant::now() < deadline, "{username} never signed in");
        if let Ok(mut c) = TcpStream::connect(addr).await
            && let Ok(r) = raw_http::post(
                &mut c,
                "/api/auth/sign_in",
                "",
                "application/x-www-form-urlencoded",
                form.as_bytes(),
            )
            .await
            && let Some(cookie) = raw_http::session_cookie(&r)
        {
            break cookie;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut failed_attempts = 0;
    let mut failures = 0u32;
    while !outbox.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{username}: {} visits still pending",
            outbox.len()
        );
        let batch: Vec<VisitSubmission> = outbox.iter().take(5).cloned().collect();
        match attempt(addr, &cookie, &batch, &mut dice).await {
            Ok(results) => {
                failures = 0;
                for r in results {
                    let outcome = r["outcome"].as_str().unwrap_or_default();
                    assert!(
                        matches!(outcome, "stored" | "already_stored"),
                        "{username}: {r}"
                    );
                    let id: Uuid = r["id"].as_str().unwrap().parse().unwrap();
                    // Only an acknowledgement removes a visit from the outbox.
                    outbox.retain(|v| v.id != id);
                }
            }
            Err(_) => {
                failed_attempts += 1;
                failures += 1;
                let backoff = 20.0 * 2f64.powi(failures.min(5) as i32);
                let jittered = backoff * (0.5 + dice.roll());
                tokio::time::sleep(Duration::from_millis(jittered as u64)).await;
            }
        }
    }
    (failed_attempts, Instant::now())
}

async fn every_visit_arrives_exactly_once_through_drops_and_kills(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.clone();
    let mut sent: HashMap<Uuid, VisitSubmission> = HashMap::new();
    let mut outboxes = Vec::new();
    for worker in PHONES {
        let household = household_of(store.as_ref(), worker).await;
        let mut outbox = Vec::new();
        for _ in 0..VISITS_PER_PHONE {
            let v = signed_visit(store.as_ref(), household).await;
            sent.insert(v.id, v.clone());
            outbox.push(v);
        }
        outboxes.push((worker, outbox));
    }
    let mut server = Server::start(&db.url).await;
    let addr = server.addr;
    let phones: Vec<_> = outboxes
        .into_iter()
        .enumerate()
        .map(|(i, (worker, outbox))| {
            tokio::spawn(phone(addr, worker, outbox, 0x9E37_79B9 + i as u64))
        })
        .collect();
    let mut dice = Dice(42);
    let mut kills = Vec::new();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(50 + (dice.roll() * 150.0) as u64)).await;
        server.kill_and_restart().await;
        kills.push(Instant::now());
    }
    let mut failed = 0;
    let mut last_done = Instant::now() - Duration::from_secs(3600);
    for p in phones {
        let (f, done) = p.await.expect("phone task");
        failed += f;
        last_done = last_done.max(done);
    }
    // The faults really happened while visits were still on the phones.
    assert!(failed >= 10, "only {failed} failed attempts");
    assert!(
        last_done > kills[KILLS - 1],
        "the phones finished before the last kill"
    );

    assert_eq!(
        store.count_visits().await.unwrap() as usize,
        sent.len(),
        "exactly once"
    );
    for (id, mut original) in sent {
        let stored = store.visit(id).await.unwrap().expect("delivered");
        original.lines.sort_by_key(|l| l.entitlement_id);
        let bytes = serde_json::to_vec(&original).unwrap();
        assert_eq!(
            serde_json::to_vec(&stored.visit).unwrap(),
            bytes,
            "byte-identical"
        );
        assert_eq!(
            stored.payload_hash,
            daohu::visits::hex(&Sha256::digest(&bytes))
        );
        assert!(store.visit_conflicts(id).await.unwrap().is_empty());
    }

    // The dispatch roll-up, refreshed by concurrent batches, agrees with the
    // raw rows (the household list's payment filter reads those).
    let county = daohu::areas::AreaCode::parse("621102000000").unwrap();
    let today = daohu::subsidies::china_date(chrono::Utc::now());
    let y = common::year().0;
    let paid = store.dispatch_paid(&county, y, today).await.unwrap();
    let mut items: Vec<String> = paid.iter().map(|f| f.item_code.clone()).collect();
    items.sort();
    items.dedup();
    assert!(!items.is_empty(), "the visits verified payments");
    for item in items {
        let rolled: i64 = paid
            .iter()
            .filter(|f| f.item_code == item)
            .map(|f| f.progress.paid)
            .sum();
        let q = daohu::server::db::HouseholdQuery {
            scope: county.clone(),
            worker_id: None,
            village: None,
            search: None,
            payment: Some(daohu::server::db::PaymentQuery {
                stat_year: y,
                item_code: Some(item.clone()),
                cutoff: daohu::reports::service::end_of_china_day(today),
                state: daohu::reports::PaymentState::Paid,
            }),
            flags: None,
            limit: 1,
            offset: 0,
        };
        let (_, raw) = store.list_households(&q).await.unwrap();
        assert_eq!(rolled, raw, "{item}: roll-up against the raw rows");
    }

    // Every account, signal and roll-up equals a recomputation from the raw
    // rows, with no repair by hand: what a kill between a batch's commit
    // and its reply left queued, the restarted server's workers did.
    common::derived::settled(&db, Duration::from_secs(30), false).await;
    drop(server);
    common::derived::assert_derived_match_recomputation(&db).await;
}
