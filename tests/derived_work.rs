//! Derived work (migration 0010): queued in the write's own transaction,
//! done by workers on any instance, exactly once in effect; roll-ups moved
//! by deltas that always equal a rewrite; periodic work once per interval.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::derived::{assert_derived_match_recomputation, snapshot};
use common::dice::Dice;
use common::{TestDb, household_of, signed_visit};
use daohu::income::service::{income_work, work_until_idle};
use daohu::server::db::{self, IncomeWork, Store, VisitInsert, VisitRecord};
use daohu::visits::{PaymentStatus, VisitSubmission};
use uuid::Uuid;

on_both_backends!(
    a_visits_work_is_queued_with_it_and_done_after_a_crash,
    a_write_during_the_work_leaves_it_queued,
    claims_never_overlap_and_a_dead_workers_claim_runs_out,
    periodic_work_runs_once_per_interval_across_instances,
    roll_up_deltas_equal_a_rewrite_in_any_order,
    concurrent_batches_keep_every_derived_row_right,
    a_threshold_change_recomputes_every_account_once,
    migration_0018_counts_payments_in_full_as_a_rewrite_does,
    migration_0021_gives_every_line_its_visits_start,
);

fn record(v: VisitSubmission, worker_id: Uuid) -> VisitRecord {
    let income_work = income_work(
        v.household_id,
        v.stat_year,
        daohu::subsidies::china_date(Utc::now()),
    );
    VisitRecord {
        income_work,
        ..common::record(v, worker_id)
    }
}

/// The households of the demo's first worker, and the worker's id.
async fn households(store: &dyn Store, n: usize) -> (Vec<Uuid>, Uuid) {
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let first = household_of(store, "worker1").await;
    let village = store.household(first).await.unwrap().unwrap().village;
    let q = db::HouseholdQuery {
        scope: village,
        worker_id: Some(worker.id),
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: n as _,
        offset: 0,
    };
    let ids = store
        .list_households(&q)
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|h| h.id)
        .collect();
    (ids, worker.id)
}

/// A visit of `household` started `hours_back` before the usual start,
/// each line's outcome drawn from `dice`.
async fn varied_visit(
    store: &dyn Store,
    household: Uuid,
    hours_back: i64,
    dice: &mut Dice,
) -> VisitSubmission {
    let mut v = signed_visit(store, household).await;
    v.started_at -= Duration::hours(hours_back);
    v.ended_at -= Duration::hours(hours_back);
    for l in &mut v.lines {
        let roll = dice.roll();
        if roll < 0.3 {
            l.status = PaymentStatus::NotReceived;
            l.received_fen = None;
        } else if roll < 0.6 {
            l.status = PaymentStatus::ReceivedInPart;
            l.received_fen = l.received_fen.map(|f| f / 2 + (dice.roll() * 100.0) as i64);
        }
    }
    v
}

async fn a_visits_work_is_queued_with_it_and_done_after_a_crash(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let (ids, worker) = households(store, 3).await;
    let records: Vec<VisitRecord> = {
        let mut out = Vec::new();
        for h in &ids {
            out.push(record(signed_visit(store, *h).await, worker));
        }
        out
    };
    let stored = store.insert_visits(&records).await.unwrap();
    assert!(stored.iter().all(|s| matches!(s, Ok(VisitInsert::Stored))));
    // The process dies here: the visits are committed, their work with them.
    let backlog = store.income_backlog().await.unwrap();
    assert!(
        backlog.pending >= ids.len() as i64,
        "work queued: {backlog:?}"
    );
    assert!(backlog.oldest.is_some());
    // The same visits again change nothing and queue nothing more.
    let again = store.insert_visits(&records).await.unwrap();
    assert!(
        again
            .iter()
            .all(|s| matches!(s, Ok(VisitInsert::AlreadyStored)))
    );
    assert_eq!(
        store.income_backlog().await.unwrap().pending,
        backlog.pending
    );

    // Another instance (a fresh store on the same database) does it.
    let restarted = db::connect(&db.url).await.unwrap();
    let done = work_until_idle(restarted.as_ref()).await.unwrap();
    assert_eq!(done as i64, backlog.pending);
    assert_eq!(store.income_backlog().await.unwrap().pending, 0);
    assert_derived_match_recomputation(&db).await;
}

async fn a_write_during_the_work_leaves_it_queued(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let (ids, _) = households(store, 1).await;
    let work = IncomeWork {
        household_id: ids[0],
        stat_year: common::year().0,
    };
    store.queue_income_work(&[work]).await.unwrap();
    let now = Utc::now();
    let claimed = store
        .claim_income_work(10, now, now + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // A write lands while the worker computes: its version moves on, and
    // its claim is dropped so that it waits for no lease.
    store.queue_income_work(&[work]).await.unwrap();
    daohu::income::service::recompute(
        store,
        &db::IncomeScope::Households(vec![ids[0]]),
        work.stat_year,
        daohu::subsidies::china_date(now),
        &claimed,
    )
    .await
    .unwrap();
    assert_eq!(
        store.income_backlog().await.unwrap().pending,
        1,
        "the later write's work is still queued"
    );
    let again = store
        .claim_income_work(10, now, now + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "claimable at once");
    assert!(again[0].version > claimed[0].version);
    daohu::income::service::recompute(
        store,
        &db::IncomeScope::Households(vec![ids[0]]),
        work.stat_year,
        daohu::subsidies::china_date(now),
        &again,
    )
    .await
    .unwrap();
    assert_eq!(store.income_backlog().await.unwrap().pending, 0);
}

async fn claims_never_overlap_and_a_dead_workers_claim_runs_out(db: TestDb) {
    let store: Arc<dyn Store> = db.store.clone();
    let year = common::year().0;
    let work: Vec<IncomeWork> = (0..600)
        .map(|_| IncomeWork {
            household_id: Uuid::now_v7(),
            stat_year: year,
        })
        .collect();
    store.queue_income_work(&work).await.unwrap();
    // Six workers on their own connections, claiming as fast as they can.
    let now = Utc::now();
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move {
                let store = db::connect(&url).await.unwrap();
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .claim_income_work(37, now, now + Duration::seconds(60))
                        .await
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|c| c.work));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for w in workers {
        for piece in w.await.unwrap() {
            assert!(seen.insert(piece), "{piece:?} claimed twice");
        }
    }
    assert_eq!(seen.len(), work.len(), "every piece claimed");
    // Nobody finished: within the lease nothing is claimable, after it all.
    let later = now + Duration::seconds(30);
    assert!(
        store
            .claim_income_work(1000, later, later + Duration::seconds(60))
            .await
            .unwrap()
            .is_empty()
    );
    let expired = now + Duration::seconds(61);
    let again = store
        .claim_income_work(1000, expired, expired + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(again.len(), work.len(), "a dead worker's claims run out");
}

async fn periodic_work_runs_once_per_interval_across_instances(db: TestDb) {
    let now = Utc::now();
    let next = now + Duration::hours(6);
    let instances: Vec<_> = (0..8)
        .map(|i| {
            let url = db.url.clone();
            tokio::spawn(async move {
                let store = db::connect(&url).await.unwrap();
                store
                    .claim_schedule("refresh", now, next, &format!("instance-{i}"), Some(now))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut runs = 0;
    for i in instances {
        runs += usize::from(i.await.unwrap());
    }
    assert_eq!(runs, 1, "exactly one instance runs it");
    let store = db.store.as_ref();
    assert!(
        !store
            .claim_schedule("refresh", now + Duration::hours(1), next, "late", Some(now))
            .await
            .unwrap(),
        "not again within the interval"
    );
    let due = next + Duration::seconds(1);
    assert!(
        store
            .claim_schedule("refresh", due, due + Duration::hours(6), "a", Some(now))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_schedule("refresh", due, due + Duration::hours(6), "b", Some(now))
            .await
            .unwrap()
    );
    assert_eq!(store.schedule_runs("refresh").await.unwrap(), 2);
    // A schedule only something else makes due is never due by itself.
    assert!(
        !store
            .claim_schedule("on_demand", due, due, "a", None)
            .await
            .unwrap()
    );
    assert_eq!(store.schedule_runs("never").await.unwrap(), 0);
}

async fn roll_up_deltas_equal_a_rewrite_in_any_order(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let (ids, worker) = households(store, 5).await;
    for seed in [1u64, 7, 42] {
        let mut dice = Dice(seed);
        // Several visits per household, started in random order over days
        // (a visit made earlier often arrives later), some in one batch.
        let mut pending = Vec::new();
        for _ in 0..18 {
            let h = ids[(dice.roll() * ids.len() as f64) as usize % ids.len()];
            let hours_back = (dice.roll() * 240.0) as i64;
            pending.push(record(
                varied_visit(store, h, hours_back, &mut dice).await,
                worker,
            ));
        }
        while !pending.is_empty() {
            let n = 1 + (dice.roll() * 4.0) as usize;
            let batch: Vec<VisitRecord> = pending.drain(..n.min(pending.len())).collect();
            store.insert_visits(&batch).await.unwrap();
            let moved = snapshot(&db).await;
            daohu::income::service::rebuild_rollups(store)
                .await
                .unwrap();
            let rewritten = snapshot(&db).await;
            assert_eq!(
                moved.paid, rewritten.paid,
                "seed {seed}: deltas against a rewrite"
            );
        }
    }
    assert_derived_match_recomputation(&db).await;
}

async fn concurrent_batches_keep_every_derived_row_right(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.clone();
    let (ids, worker) = households(store.as_ref(), 6).await;
    let mut dice = Dice(99);
    let mut batches = Vec::new();
    for _ in 0..24 {
        let mut batch = Vec::new();
        for _ in 0..(1 + (dice.roll() * 3.0) as usize) {
            let h = ids[(dice.roll() * ids.len() as f64) as usize % ids.len()];
            let hours_back = (dice.roll() * 100.0) as i64;
            batch.push(record(
                varied_visit(store.as_ref(), h, hours_back, &mut dice).await,
                worker,
            ));
        }
        batches.push(batch);
    }
    // Eight senders at once on the same households and villages, and two
    // workers doing the work they queue meanwhile.
    let senders: Vec<_> = batches
        .chunks(3)
        .map(|chunk| {
            let store = store.clone();
            let chunk = chunk.to_vec();
            tokio::spawn(async move {
                for b in chunk {
                    for r in store.insert_visits(&b).await.unwrap() {
                        assert!(matches!(r, Ok(VisitInsert::Stored)), "{r:?}");
                    }
                }
            })
        })
        .collect();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..40 {
                    work_until_idle(store.as_ref()).await.unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    for w in workers {
        w.await.unwrap();
    }
    assert_derived_match_recomputation(&db).await;
}

async fn a_threshold_change_recomputes_every_account_once(db: TestDb) {
    use daohu::income::service::{RECOMPUTE_SCHEDULE, recompute_if_due};
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let year = common::year().0;
    let by = store.user_by_username("county").await.unwrap().unwrap().id;
    let accounts = || async {
        common::derived::snapshot(&db)
            .await
            .accounts
            .keys()
            .filter(|k| k.1 == year)
            .count()
    };
    assert_eq!(accounts().await, 0);
    recompute_if_due(store, "a").await;
    assert_eq!(accounts().await, 0, "not due before a change");

    store
        .set_income_threshold(year, daohu::subsidies::Fen(800_000), by, RECOMPUTE_SCHEDULE)
        .await
        .unwrap();
    // The instance that made the change dies now: any instance runs it.
    recompute_if_due(store, "b").await;
    assert_eq!(accounts().await, 200, "every household recomputed");
    assert_eq!(store.schedule_runs(RECOMPUTE_SCHEDULE).await.unwrap(), 1);
    recompute_if_due(store, "c").await;
    assert_eq!(
        store.schedule_runs(RECOMPUTE_SCHEDULE).await.unwrap(),
        1,
        "once per change"
    );
    store
        .set_income_threshold(year, daohu::subsidies::Fen(810_000), by, RECOMPUTE_SCHEDULE)
        .await
        .unwrap();
    recompute_if_due(store, "c").await;
    assert_eq!(store.schedule_runs(RECOMPUTE_SCHEDULE).await.unwrap(), 2);
    assert_derived_match_recomputation(&db).await;
}

/// Stores one visit, which must be new.
async fn store_stored(store: &dyn Store, r: VisitRecord) {
    for r in store.insert_visits(&[r]).await.unwrap() {
        assert!(matches!(r, Ok(VisitInsert::Stored)), "{r:?}");
    }
}

/// The SQL of migration `file` for the backend `db` runs on.
fn migration_sql(db: &TestDb, file: &str) -> String {
    let backend = if db.url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    std::fs::read_to_string(format!(
        "{}/migrations/{backend}/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Migration 0018 adds the paid-in-full columns to `rollup_paid` and fills
/// them from the lines. Run on a populated database (visits with lines in
/// full, in part and not received, some households visited twice): the
/// roll-up it leaves equals what the store's own rewrite gives.
async fn migration_0018_counts_payments_in_full_as_a_rewrite_does(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let (ids, worker) = households(store, 12).await;
    let mut dice = Dice(18);
    for (n, h) in ids.iter().chain(&ids[..4]).enumerate() {
        let v = varied_visit(store, *h, 30 - n as i64, &mut dice).await;
        store_stored(store, record(v, worker)).await;
    }
    let migration = migration_sql(&db, "0018_paid_in_full.sql");
    // The table as 0017 left it: no such columns, and the demo's deltas.
    with_pool!(db, |pool| {
        for column in ["full_paid", "full_fen"] {
            sqlx::raw_sql(&format!("ALTER TABLE rollup_paid DROP COLUMN {column}"))
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::raw_sql(&migration).execute(&pool).await.unwrap();
    });
    let migrated = snapshot(&db).await;
    assert!(
        migrated.paid.iter().any(|p| p.6 > 0) && migrated.paid.iter().any(|p| p.6 < p.4),
        "the demo has payments in full and in part"
    );
    daohu::income::service::rebuild_rollups(db.store.as_ref())
        .await
        .unwrap();
    assert_eq!(snapshot(&db).await.paid, migrated.paid);
}

/// Migration 0021 copies each visit's start onto its lines (so that a
/// new line's neighbours are index seeks). Run on a populated database
/// whose lines have no such column: every line gets its own visit's start,
/// and visits stored after it still move the roll-ups as a rewrite does.
async fn migration_0021_gives_every_line_its_visits_start(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let (ids, worker) = households(store, 8).await;
    let mut dice = Dice(21);
    for (n, h) in ids.iter().chain(&ids[..3]).enumerate() {
        let v = varied_visit(store, *h, 30 - n as i64, &mut dice).await;
        store_stored(store, record(v, worker)).await;
    }
    let migration = migration_sql(&db, "0021_line_order.sql");
    let (lines, wrong): (i64, i64) = with_pool!(db, |pool| {
        // The table as 0020 left it.
        sqlx::raw_sql(
            "DROP INDEX verification_lines_payment; \
             ALTER TABLE verification_lines DROP COLUMN started_at; \
             CREATE INDEX verification_lines_entitlement ON verification_lines (entitlement_id);",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::raw_sql(&migration).execute(&pool).await.unwrap();
        sqlx::query_as(
            "SELECT COUNT(*), \
                    COALESCE(SUM(CASE WHEN l.started_at = v.started_at THEN 0 ELSE 1 END), 0) \
             FROM verification_lines l JOIN visits v ON v.id = l.visit_id",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    });
    assert!(lines > 40, "the visits have lines: {lines}");
    assert_eq!(wrong, 0, "every line carries its visit's start");

    // Visits after the migration, some placed before earlier ones, still
    // move the roll-ups exactly as a rewrite does.
    for (n, h) in ids.iter().enumerate() {
        let v = varied_visit(store, *h, 40 + n as i64 % 3 * 7, &mut dice).await;
        store_stored(store, record(v, worker)).await;
    }
    // Two visits that started at the same instant are ordered by id, also
    // when the later id arrives first.
    for h in &ids[..2] {
        let first = varied_visit(store, *h, 35, &mut dice).await;
        let mut second = varied_visit(store, *h, 35, &mut dice).await;
        second.started_at = first.started_at;
        second.ended_at = first.ended_at;
        assert!(first.id < second.id);
        for v in [second, first] {
            store_stored(store, record(v, worker)).await;
        }
    }
    let moved = snapshot(&db).await;
    daohu::income::service::rebuild_rollups(db.store.as_ref())
        .await
        .unwrap();
    assert_eq!(snapshot(&db).await.paid, moved.paid);
}
