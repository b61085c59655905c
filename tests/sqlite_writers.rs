//! SQLite has one writer. Every writing transaction of the store takes the
//! write lock when it starts (`BEGIN IMMEDIATE`), so one that starts while
//! another connection writes waits for it and then succeeds. A deferred
//! transaction that had read first would fail instead once the other
//! connection committed (`SQLITE_BUSY_SNAPSHOT`, which no busy timeout
//! waits out): under load that answered a sync 500.

mod common;

use std::time::Duration;

use common::{TestDb, households_of, record, signed_visit};
use daohu::server::db::{AssignTarget, VisitInsert};
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_wait_for_another_connections_commit() {
    let db = TestDb::sqlite().await.with_demo().await;
    let store = db.store.clone();
    let hs = households_of(store.as_ref(), "worker1", 3).await;
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let township = store.user_by_username("township1").await.unwrap().unwrap();
    let village = store.household(hs[0]).await.unwrap().unwrap().village;
    let visits = [
        record(signed_visit(store.as_ref(), hs[0]).await, worker.id),
        record(signed_visit(store.as_ref(), hs[1]).await, worker.id),
    ];

    // Another process writes, and holds the lock a while.
    let mut other = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    let before = visit_count(&mut other).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("INSERT INTO schedules (name, next_run_at, runs) VALUES ('held', $1, 0)")
        .bind(chrono::Utc::now())
        .execute(&mut other)
        .await
        .unwrap();

    let mut writers = tokio::task::JoinSet::new();
    for v in visits {
        let store = store.clone();
        writers.spawn(async move {
            let answers = store.insert_visits(&[v]).await.expect("visit stored");
            assert!(matches!(answers[0], Ok(VisitInsert::Stored)), "{answers:?}");
        });
    }
    {
        let store = store.clone();
        let target = AssignTarget::Household(hs[2]);
        writers.spawn(async move {
            store
                .assign_households(&target, worker.id, township.id)
                .await
                .expect("assigned");
        });
    }
    {
        let store = store.clone();
        writers.spawn(async move {
            store.rebuild_rollups(&village).await.expect("rebuilt");
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        writers.try_join_next().is_none(),
        "a writer finished while another connection held the lock"
    );
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    assert_eq!(visit_count(&mut other).await, before + 2);
}

async fn visit_count(conn: &mut sqlx::SqliteConnection) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM visits")
        .fetch_one(conn)
        .await
        .unwrap()
}
