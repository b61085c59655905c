//! PostgreSQL, for province scale.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

pub struct PostgresStore {
    pool: sqlx::PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(PostgresStore { pool })
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
}

/// The migrations this build carries (`migrate` applies them, `ready`
/// checks they are applied).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

type Db = sqlx::Postgres;
type ThisStore = PostgresStore;
const BACKEND: &str = "postgres";
/// Row locks for a roll-up refresh (see `refresh_rollups`). `NO KEY`:
/// refreshes wait for each other, but not for the key-share locks that
/// inserting a household or discrepancy of the village takes (a plain
/// `FOR UPDATE` would deadlock two syncs that each opened a discrepancy).
const LOCK_ROWS: &str = " FOR NO KEY UPDATE";
/// The China date a visit (`v`) started on.
const CHINA_DAY_OF_VISIT: &str = "CAST(v.started_at AT TIME ZONE 'Asia/Shanghai' AS DATE)";
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
