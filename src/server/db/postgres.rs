//! PostgreSQL, for province scale.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

pub struct PostgresStore {
    pool: sqlx::PgPool,
    /// Where write transactions begin: the same pool (PostgreSQL lets
    /// many write at once; see `SqliteStore::writer`).
    writer: sqlx::PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(PostgresStore {
            writer: pool.clone(),
            pool,
        })
    }

    /// Runs one statement on a short-lived connection, for creating and
    /// dropping databases (tests, setup), which cannot run in a pool's
    /// transaction.
    pub async fn admin_execute(url: &str, sql: &str) -> Result<(), sqlx::Error> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query(sql).execute(&mut conn).await?;
        conn.close().await
    }

    async fn run_migrations(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    /// On a connection taken out of the pool for good: the pool never hands
    /// a session holding the lock to anyone else, and its own connections
    /// stay free for the migration and the load the lock surrounds.
    async fn take_startup_lock(&self) -> DbResult<super::StartupLock> {
        let conn = self
            .pool
            .acquire()
            .await
            .map_err(super::DbError::from_sqlx)?
            .detach();
        super::StartupLock::postgres(conn).await
    }
}

/// The migrations this build carries (`migrate` applies them, `ready`
/// checks they are applied).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

type Db = sqlx::Postgres;
type ThisStore = PostgresStore;
const BACKEND: &str = "postgres";
/// How a writing transaction starts (see `begin_write`): row locks and
/// advisory locks order writers, not the start.
const BEGIN_WRITE: &str = "BEGIN";
/// Row locks for a roll-up refresh (see `refresh_rollups`). `NO KEY`:
/// refreshes wait for each other, but not for the key-share locks that
/// inserting a household or discrepancy of the village takes (a plain
/// `FOR UPDATE` would deadlock two syncs that each opened a discrepancy).
const LOCK_ROWS: &str = " FOR NO KEY UPDATE";
/// Claiming queued work: concurrent workers pass over each other's rows
/// instead of waiting for them.
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
/// A visit takes its villages' area rows in share mode: visits of one
/// village run side by side (their roll-up deltas add up row by row),
/// while a full refresh of the village's roll-ups (`LOCK_ROWS`) waits for
/// them and they for it.
const SHARE_ROWS: &str = " FOR SHARE";
/// Saving a village's accounts and income roll-up: a transaction-scoped
/// advisory lock per village (8101: this lock's namespace), held until the
/// save commits; a hash collision only makes two villages take turns.
const INCOME_ROLLUP_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(8101, hashtext($1))");
/// The China date a visit (`v`) started on.
const CHINA_DAY_OF_VISIT: &str = "CAST(v.started_at AT TIME ZONE 'Asia/Shanghai' AS DATE)";
/// A read that must see one moment of the database (a chain's
/// verification): one snapshot for the whole transaction.
const SNAPSHOT: Option<&str> = Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
include!("portable.rs");

// Each domain's part of the store, in a module of its own so that its
// imports stay its own.
mod plans_sql {
    use super::*;
    include!("portable_plans.rs");
}
mod income_sql {
    use super::*;
    include!("portable_income.rs");
}
mod auth_sql {
    use super::*;
    include!("portable_auth.rs");
}
mod derived_sql {
    use super::*;
    include!("portable_derived.rs");
}
mod ledger_sql {
    use super::*;
    include!("portable_ledger.rs");
}
mod receipts_sql {
    use super::*;
    include!("portable_receipts.rs");
}
mod signals_sql {
    use super::*;
    include!("portable_signals.rs");
}
mod notices_sql {
    use super::*;
    include!("portable_notices.rs");
}
mod weekly_sql {
    use super::*;
    include!("portable_weekly.rs");
}
mod imports_sql {
    use super::*;
    include!("portable_imports.rs");
}
mod reconciliation_sql {
    use super::*;
    include!("portable_reconciliation.rs");
}
