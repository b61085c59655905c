//! Derived data (accounts, signals, roll-ups) against a recomputation from
//! the raw rows: what must hold after any run, however it was interrupted.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use uuid::Uuid;

use super::TestDb;
use daohu::areas::AreaLevel;
use daohu::server::db::IncomeScope;

/// Runs `$body` with a pool on the test's own database, whichever backend.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {{
        if $db.url.starts_with("sqlite:") {
            let $pool = sqlx::SqlitePool::connect(&$db.url).await.unwrap();
            let out = $body;
            $pool.close().await;
            out
        } else {
            let $pool = sqlx::PgPool::connect(&$db.url).await.unwrap();
            let out = $body;
            $pool.close().await;
            out
        }
    }};
}

type AccountRow = (
    Uuid,
    i32,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i32,
    Option<i64>,
    i32,
    i32,
    i32,
);
/// A stored account: household, year, village, then its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub household_id: Uuid,
    pub stat_year: i32,
    pub village_code: String,
    /// wage, business, property, transfer, cost, net, backed (fen).
    pub fen: [i64; 7],
    pub size: i32,
    pub per_capita_fen: Option<i64>,
    pub flags: i32,
    pub measures_due: i32,
    pub measures_on_time: i32,
}

impl From<AccountRow> for Account {
    fn from(a: AccountRow) -> Account {
        Account {
            household_id: a.0,
            stat_year: a.1,
            village_code: a.2,
            fen: [a.3, a.4, a.5, a.6, a.7, a.8, a.9],
            size: a.10,
            per_capita_fen: a.11,
            flags: a.12,
            measures_due: a.13,
            measures_on_time: a.14,
        }
    }
}

type IncomeRollup = (String, i32, i64, i64, i64, i64, i64, i64, i64, i64, i64);
type Paid = (String, i32, String, NaiveDate, i64, i64, i64, i64);
type Due = (String, i32, String, i64, i64);

/// Every stored derived row, as the reports read them.
#[derive(Debug, PartialEq)]
pub struct Derived {
    pub accounts: BTreeMap<(Uuid, i32), Account>,
    pub income_rollup: BTreeSet<IncomeRollup>,
    /// Rows adding nothing left out: a delta may leave a zero row where a
    /// rewrite leaves none, and both read the same.
    pub paid: BTreeSet<Paid>,
    pub due: BTreeSet<Due>,
}

pub async fn snapshot(db: &TestDb) -> Derived {
    let accounts_sql = "SELECT household_id, stat_year, village_code, wage_fen, business_fen, \
        property_fen, transfer_fen, cost_fen, net_fen, backed_fen, size, per_capita_fen, flags, \
        measures_due, measures_on_time FROM household_income";
    let income_sql = "SELECT village_code, stat_year, households, flagged, below_threshold, \
        fell, unbacked_jump, overdue_measure, no_measure, measures_due, measures_on_time \
        FROM rollup_income";
    let paid_sql = "SELECT village_code, stat_year, item_code, day, paid, paid_fen, full_paid, \
        full_fen FROM rollup_paid \
        WHERE paid <> 0 OR paid_fen <> 0 OR full_paid <> 0 OR full_fen <> 0";
    let due_sql = "SELECT village_code, stat_year, item_code, due, due_fen FROM rollup_due";
    with_pool!(db, |pool| {
        let accounts: Vec<AccountRow> =
            sqlx::query_as(accounts_sql).fetch_all(&pool).await.unwrap();
        Derived {
            accounts: accounts
                .into_iter()
                .map(Account::from)
                .map(|a| ((a.household_id, a.stat_year), a))
                .collect(),
            income_rollup: sqlx::query_as(income_sql)
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .collect(),
            paid: sqlx::query_as(paid_sql)
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .collect(),
            due: sqlx::query_as(due_sql)
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .collect(),
        }
    })
}

/// Waits until no derived work is queued, at most `within`: done by some
/// server's workers, and by this process too when it is to `help`.
pub async fn settled(db: &TestDb, within: Duration, help: bool) {
    let store = db.store.as_ref();
    let deadline = Instant::now() + within;
    loop {
        if help {
            daohu::income::service::work_until_idle(store)
                .await
                .unwrap();
        }
        let backlog = store.income_backlog().await.unwrap();
        if backlog.pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "derived work still queued: {backlog:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that the stored derived data equals a recomputation from the raw
/// rows: every stored account as computed afresh, each village's income
/// roll-up as the sum of its stored accounts, the dispatch roll-ups as a
/// rewrite from the rows; and that every household with a stored visit has
/// an account for the visit's year.
pub async fn assert_derived_match_recomputation(db: &TestDb) {
    settled(db, Duration::from_secs(60), true).await;
    let before = snapshot(db).await;
    let store = db.store.as_ref();

    // Every visited household's year has an account.
    let visited: Vec<(Uuid, i32)> = with_pool!(db, |pool| sqlx::query_as(
        "SELECT DISTINCT household_id, stat_year FROM visits"
    )
    .fetch_all(&pool)
    .await
    .unwrap());
    for key in &visited {
        assert!(
            before.accounts.contains_key(key),
            "visited household {key:?} has no account"
        );
    }

    // The income roll-up from the stored accounts.
    let mut sums: BTreeMap<(String, i32), [i64; 9]> = BTreeMap::new();
    for a in before.accounts.values() {
        let s = sums
            .entry((a.village_code.clone(), a.stat_year))
            .or_default();
        let flags = a.flags;
        s[0] += 1;
        s[1] += i64::from(flags != 0);
        for (i, f) in daohu::income::IncomeFlag::ALL.iter().enumerate() {
            s[2 + i] += i64::from(flags & f.bit() != 0);
        }
        s[7] += i64::from(a.measures_due);
        s[8] += i64::from(a.measures_on_time);
    }
    let want: BTreeSet<IncomeRollup> = sums
        .into_iter()
        .map(|((v, y), s)| (v, y, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]))
        .collect();
    assert_eq!(
        before.income_rollup, want,
        "income roll-up against the accounts"
    );

    // Accounts recomputed from the facts, every year that has any.
    let today = daohu::subsidies::china_date(chrono::Utc::now());
    let years: BTreeSet<i32> = before.accounts.keys().map(|k| k.1).collect();
    for county in store.areas_at_level(AreaLevel::County).await.unwrap() {
        for year in &years {
            daohu::income::service::recompute(
                store,
                &IncomeScope::Area(county.clone()),
                *year,
                today,
                &[],
            )
            .await
            .unwrap();
        }
    }
    daohu::income::service::rebuild_rollups(store)
        .await
        .unwrap();
    let after = snapshot(db).await;
    let stale: Vec<_> = before
        .accounts
        .iter()
        .filter(|(k, a)| after.accounts.get(*k) != Some(*a))
        .map(|(k, a)| (a.clone(), after.accounts.get(k).cloned()))
        .collect();
    assert!(
        stale.is_empty(),
        "{} stale accounts (stored, recomputed), first: {:?}",
        stale.len(),
        stale.first()
    );
    assert_eq!(before.paid, after.paid, "paid roll-up against a rewrite");
    assert_eq!(before.due, after.due, "due roll-up against a rewrite");
}
