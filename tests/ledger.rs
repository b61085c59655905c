//! Tamper evidence (migration 0012): every signed record is chained per
//! county, and a verification names each record changed, deleted or
//! inserted around the app, and each chain entry edited, removed or
//! slipped in, on both backends.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use common::{TestDb, household_of, signed_visit, year};
use daohu::ledger::service::{chain_until_idle, verify_area};
use daohu::ledger::{Problem, ProblemKind, RecordKind};
use daohu::server::db::{ReviewRecord, Store};
use daohu::visits::ReviewState;
use uuid::Uuid;

on_both_backends!(
    an_untouched_database_verifies_clean_with_every_record_chained,
    direct_edits_of_records_are_each_named,
    edits_of_the_chain_itself_are_found,
    records_waiting_to_be_chained_are_checked_too,
    concurrent_writers_and_chainers_make_one_unbroken_chain,
);

const COUNTY: &str = "621102000000";

/// The demo county with two workers' visits (lines, discrepancies, declared
/// income, measure moves) and a supervisor's review of one visit.
async fn county_with_records(db: TestDb) -> TestDb {
    let db = db.with_demo().await;
    let workers = ["worker1".to_owned(), "worker2".to_owned()];
    let made = daohu::demo::load_visits(db.store.as_ref(), &workers, year(), 40, 7)
        .await
        .unwrap();
    assert!(made > 10, "{made} visits");
    let visit = any_id(&db, "SELECT id FROM visits").await;
    let reviewer = db
        .store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap();
    db.store
        .insert_review(&ReviewRecord {
            id: Uuid::now_v7(),
            visit_id: visit,
            state: ReviewState::HasIssues,
            comment: "签名不清".into(),
            reviewer_id: reviewer.id,
            at: Utc::now(),
        })
        .await
        .unwrap();
    db
}

async fn any_id(db: &TestDb, sql: &str) -> Uuid {
    let sql = format!("{sql} ORDER BY id LIMIT 1");
    id_of(db, &sql).await
}

/// The `n`th id of `table` (from 0), in id order.
async fn nth_id(db: &TestDb, table: &str, n: usize) -> Uuid {
    id_of(
        db,
        &format!("SELECT id FROM {table} ORDER BY id LIMIT 1 OFFSET {n}"),
    )
    .await
}

async fn id_of(db: &TestDb, sql: &str) -> Uuid {
    with_pool!(db, |pool| sqlx::query_scalar::<_, Uuid>(sql)
        .fetch_one(&pool)
        .await
        .unwrap())
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&pool)
        .await
        .unwrap())
}

async fn execute(db: &TestDb, sql: &str, ids: &[Uuid]) {
    with_pool!(db, |pool| {
        let mut q = sqlx::query(sql);
        for id in ids {
            q = q.bind(*id);
        }
        let done = q.execute(&pool).await.unwrap();
        assert!(done.rows_affected() > 0, "{sql} changed nothing");
    })
}

async fn problems(store: &dyn Store) -> Vec<Problem> {
    verify_area(store, None, "test")
        .await
        .unwrap()
        .into_iter()
        .flat_map(|(_, w)| w.problems)
        .collect()
}

fn named(problems: &[Problem], kind: ProblemKind, record: (RecordKind, Uuid)) -> bool {
    problems
        .iter()
        .any(|p| p.kind == kind && p.record == Some(record))
}

/// Records of every kind the chain holds, counted in their own tables.
async fn records(db: &TestDb) -> [i64; 5] {
    [
        count(db, "SELECT COUNT(*) FROM visits").await,
        count(db, "SELECT COUNT(*) FROM visit_reviews").await,
        count(db, "SELECT COUNT(*) FROM discrepancies").await,
        count(db, "SELECT COUNT(*) FROM discrepancy_events").await,
        count(db, "SELECT COUNT(*) FROM measure_events").await,
    ]
}

async fn an_untouched_database_verifies_clean_with_every_record_chained(db: TestDb) {
    let db = county_with_records(db).await;
    let [visits, reviews, items, _, moves] = records(&db).await;
    assert!(visits > 0 && reviews > 0 && items > 0 && moves > 0);
    let total: i64 = records(&db).await.iter().sum();
    // Waiting records verify against the hashes their writes took.
    assert_eq!(problems(db.store.as_ref()).await, vec![]);
    assert_eq!(db.store.ledger_pending().await.unwrap(), total);

    assert_eq!(
        chain_until_idle(db.store.as_ref()).await.unwrap() as i64,
        total
    );
    assert_eq!(db.store.ledger_pending().await.unwrap(), 0);
    let walks = verify_area(db.store.as_ref(), None, "test").await.unwrap();
    let ours = walks.iter().find(|(c, _)| c == COUNTY).unwrap();
    assert_eq!(ours.1.problems, vec![]);
    assert_eq!(ours.1.records, total);
    assert_eq!(ours.1.head.0, total);
    assert!(walks.iter().all(|(_, w)| w.problems.is_empty()));

    // The dispatch table's stamp is the county's head; the last
    // verification is kept for the county page.
    let county = daohu::areas::AreaCode::parse(COUNTY).unwrap();
    let stamp = daohu::ledger::service::stamp(db.store.as_ref(), &county)
        .await
        .unwrap();
    assert_eq!((stamp.entries, stamp.hash.clone()), ours.1.head);
    let township = daohu::areas::AreaCode::parse("621102100000").unwrap();
    assert_eq!(
        daohu::ledger::service::stamp(db.store.as_ref(), &township)
            .await
            .unwrap(),
        stamp
    );
    let last = db.store.last_verification(COUNTY).await.unwrap().unwrap();
    assert_eq!((last.head_seq, last.problems), (total, 0));

    // More records after a verification extend the chain it saw.
    let household = household_of(db.store.as_ref(), "worker3").await;
    store_visit(db.store.as_ref(), household, "worker3").await;
    chain_until_idle(db.store.as_ref()).await.unwrap();
    assert_eq!(problems(db.store.as_ref()).await, vec![]);
}

async fn store_visit(store: &dyn Store, household: Uuid, worker: &str) -> Uuid {
    let v = signed_visit(store, household).await;
    common::store_directly(store, v, worker).await
}

async fn direct_edits_of_records_are_each_named(db: TestDb) {
    let db = county_with_records(db).await;
    chain_until_idle(db.store.as_ref()).await.unwrap();

    let visit = any_id(&db, "SELECT id FROM visits").await;
    execute(
        &db,
        "UPDATE verification_lines SET received_fen = COALESCE(received_fen, 0) + 10000 \
         WHERE visit_id = $1",
        &[visit],
    )
    .await;
    let renamed = nth_id(&db, "visits", 1).await;
    execute(
        &db,
        "UPDATE visits SET signer_name = '别人' WHERE id = $1",
        &[renamed],
    )
    .await;
    // Only the lines' copy of the visit's start (migration 0021), which
    // orders the roll-ups and accounts: the visit itself is untouched.
    let reordered = nth_id(&db, "visits", 2).await;
    execute(
        &db,
        "UPDATE verification_lines SET started_at = \
         (SELECT received_at FROM visits WHERE id = $1) WHERE visit_id = $2",
        &[reordered, reordered],
    )
    .await;
    let review = any_id(&db, "SELECT id FROM visit_reviews").await;
    execute(&db, "DELETE FROM visit_reviews WHERE id = $1", &[review]).await;
    let item = any_id(&db, "SELECT id FROM discrepancies").await;
    execute(
        &db,
        "UPDATE discrepancies SET expected_fen = 1 WHERE id = $1",
        &[item],
    )
    .await;
    let moved = any_id(&db, "SELECT id FROM measure_events").await;
    execute(
        &db,
        "UPDATE measure_events SET note = '补记' WHERE id = $1",
        &[moved],
    )
    .await;
    // A review written straight into the database, never through the app.
    let forged = Uuid::now_v7();
    let reviewer = any_id(&db, "SELECT id FROM users").await;
    execute(
        &db,
        "INSERT INTO visit_reviews (id, visit_id, state, comment, reviewer_id, at) \
         SELECT $1, id, 'approved', '补录', $2, received_at FROM visits WHERE id = $3",
        &[forged, reviewer, visit],
    )
    .await;
    // Moving an item's state is the app's own business: not a problem.
    execute(
        &db,
        "UPDATE discrepancies SET assignee_id = $1 WHERE id = $2",
        &[reviewer, item],
    )
    .await;

    let found = problems(db.store.as_ref()).await;
    for (kind, record) in [
        (ProblemKind::Changed, (RecordKind::Visit, visit)),
        (ProblemKind::Changed, (RecordKind::Visit, renamed)),
        (ProblemKind::Changed, (RecordKind::Visit, reordered)),
        (ProblemKind::Deleted, (RecordKind::Review, review)),
        (ProblemKind::Changed, (RecordKind::Discrepancy, item)),
        (ProblemKind::Changed, (RecordKind::MeasureEvent, moved)),
        (ProblemKind::Unchained, (RecordKind::Review, forged)),
    ] {
        assert!(
            named(&found, kind, record),
            "{kind:?} {record:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), 7, "{found:#?}");
    let last = db.store.last_verification(COUNTY).await.unwrap().unwrap();
    assert_eq!(last.problems, 7);
    assert!(last.report.contains(&visit.to_string()), "{}", last.report);
}

async fn edits_of_the_chain_itself_are_found(db: TestDb) {
    let db = county_with_records(db).await;
    let total = chain_until_idle(db.store.as_ref()).await.unwrap() as i64;
    assert!(total > 10);
    assert_eq!(problems(db.store.as_ref()).await, vec![]);

    // An entry's content hash edited to match an edited record.
    execute(
        &db,
        "UPDATE ledger_entries SET content_hash = 'forged' WHERE seq = 3",
        &[],
    )
    .await;
    let found = problems(db.store.as_ref()).await;
    assert!(
        found
            .iter()
            .any(|p| p.kind == ProblemKind::EntryAltered && p.seq == Some(3)),
        "{found:#?}"
    );

    // An entry removed from the middle.
    execute(&db, "DELETE FROM ledger_entries WHERE seq = 5", &[]).await;
    let found = problems(db.store.as_ref()).await;
    assert!(
        found
            .iter()
            .any(|p| p.kind == ProblemKind::BrokenLink && p.seq == Some(6)),
        "{found:#?}"
    );

    // The end of the chain cut off.
    let sql = format!("DELETE FROM ledger_entries WHERE seq = {total}");
    execute(&db, &sql, &[]).await;
    let found = problems(db.store.as_ref()).await;
    assert!(
        found.iter().any(|p| p.kind == ProblemKind::HeadMismatch),
        "{found:#?}"
    );
}

async fn records_waiting_to_be_chained_are_checked_too(db: TestDb) {
    let db = county_with_records(db).await;
    let visit = any_id(&db, "SELECT id FROM visits").await;
    execute(
        &db,
        "UPDATE verification_lines SET status = 'received_in_full' WHERE visit_id = $1 \
         AND status <> 'received_in_full'",
        &[visit],
    )
    .await;
    let found = problems(db.store.as_ref()).await;
    assert!(
        named(&found, ProblemKind::Changed, (RecordKind::Visit, visit)),
        "{found:#?}"
    );
    // Chaining keeps the hash the write took, so the edit still shows.
    chain_until_idle(db.store.as_ref()).await.unwrap();
    let found = problems(db.store.as_ref()).await;
    assert!(
        named(&found, ProblemKind::Changed, (RecordKind::Visit, visit)),
        "{found:#?}"
    );
}

async fn concurrent_writers_and_chainers_make_one_unbroken_chain(db: TestDb) {
    let db = db.with_demo().await;
    let store: Arc<dyn Store> = db.store.clone();
    let mut households = Vec::new();
    for worker in ["worker1", "worker2", "worker3", "worker4"] {
        let w = store.user_by_username(worker).await.unwrap().unwrap();
        let q = daohu::server::db::HouseholdQuery {
            scope: w.area.clone(),
            worker_id: Some(w.id),
            village: None,
            search: None,
            payment: None,
            flags: None,
            limit: 6,
            offset: 0,
        };
        for h in store.list_households(&q).await.unwrap().0 {
            households.push((h.id, worker));
        }
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let chainers: Vec<_> = (0..3)
        .map(|_| {
            let (store, done) = (store.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    store.chain_pending(7, Utc::now()).await.unwrap();
                }
            })
        })
        .collect();
    let writers: Vec<_> = households
        .chunks(6)
        .map(|chunk| {
            let (store, chunk) = (store.clone(), chunk.to_vec());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for (h, worker) in chunk {
                    ids.push(store_visit(store.as_ref(), h, worker).await);
                }
                ids
            })
        })
        .collect();
    let mut written = HashSet::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for c in chainers {
        c.await.unwrap();
    }
    chain_until_idle(store.as_ref()).await.unwrap();
    let facts = store.chain_facts(COUNTY).await.unwrap();
    let seqs: Vec<i64> = facts.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let chained: HashSet<Uuid> = facts
        .entries
        .iter()
        .filter(|e| e.kind == RecordKind::Visit)
        .map(|e| e.record_id)
        .collect();
    assert_eq!(chained, written);
    assert_eq!(problems(store.as_ref()).await, vec![]);
}
