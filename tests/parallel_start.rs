//! Instances of a province start at once on one empty database, each with
//! `serve --demo-if-empty`: real processes, on a SQLite file and on
//! PostgreSQL. All come up and the demo is there once.

mod common;

use common::TestDb;
use common::server::Server;

const INSTANCES: usize = 4;

/// The number of households `serve --demo-if-empty` loads.
const DEMO_HOUSEHOLDS: i64 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    instances_started_together_all_come_up_and_one_loads_the_demo(
        TestDb::unmigrated_sqlite().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    match TestDb::unmigrated_postgres().await {
        Some(db) => instances_started_together_all_come_up_and_one_loads_the_demo(db).await,
        None => eprintln!("TEST_DATABASE_URL unset: PostgreSQL run of parallel start skipped"),
    }
}

async fn instances_started_together_all_come_up_and_one_loads_the_demo(db: TestDb) {
    // No schema yet: the instances migrate in parallel too.
    assert!(db.store.count_households().await.is_err());
    let servers = Server::start_together(&db.url, INSTANCES, &["--demo-if-empty"]).await;
    for s in &servers {
        assert!(s.healthy().await, "instance on {} is down", s.addr);
    }
    // A second load would have doubled these (or failed on the first one's
    // user names and ended its process).
    assert_eq!(db.store.count_households().await.unwrap(), DEMO_HOUSEHOLDS);
    let spec = daohu::demo::DemoSpec {
        households: DEMO_HOUSEHOLDS as usize,
        seed: 2023,
        year: common::year(),
    };
    for login in daohu::demo::generate(&spec).logins {
        assert!(
            db.store
                .user_by_username(&login.username)
                .await
                .unwrap()
                .is_some(),
            "{} missing",
            login.username
        );
    }
    let visits = db.store.count_visits().await.unwrap();
    assert!(visits > 0, "the demo's visits were loaded");
    // Restarted on the loaded database, an instance finds the demo there
    // and loads nothing more.
    let again = Server::start_together(&db.url, 1, &["--demo-if-empty"]).await;
    assert!(again[0].healthy().await);
    assert_eq!(db.store.count_households().await.unwrap(), DEMO_HOUSEHOLDS);
    assert_eq!(db.store.count_visits().await.unwrap(), visits);
}
