//! The embedded default: one SQLite file (WAL mode) under `data/`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL is durable across application crashes; only an OS
            // crash can lose the last transactions, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = std::path::Path::new(options.get_filename()).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    async fn run_migrations(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }
}

/// The migrations this build carries (`migrate` applies them, `ready`
/// checks they are applied).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

type Db = sqlx::Sqlite;
type ThisStore = SqliteStore;
const BACKEND: &str = "sqlite";
/// SQLite lets one transaction write at a time: a roll-up refresh never
/// races another, so no row locks (nor `FOR UPDATE`, which it lacks).
const LOCK_ROWS: &str = "";
/// The China date a visit (`v`) started on, as `YYYY-MM-DD` text.
const CHINA_DAY_OF_VISIT: &str = "date(v.started_at, '+8 hours')";
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
