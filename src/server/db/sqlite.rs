//! The embedded default: one SQLite file (WAL mode) under `data/`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    /// The one connection this process writes through (`begin_write`, and
    /// every single-statement write):
    /// SQLite lets one transaction write at a time, and writers that wait
    /// in this pool's queue are woken in turn the moment it is free, where
    /// writers on many connections poll the file lock with growing sleeps
    /// (SQLite's busy handler) and leave the CPU idle. Other processes on
    /// the same file (the command line) still wait through `busy_timeout`.
    writer: sqlx::SqlitePool,
    /// The database file, which other processes may open too; `None` in
    /// memory.
    file: Option<std::path::PathBuf>,
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
        let file = (!in_memory(url)).then(|| options.get_filename().to_path_buf());
        if let Some(dir) = file.as_deref().and_then(std::path::Path::parent)
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        // An in-memory database exists once per pool: it writes through
        // the same one.
        let writer = match &file {
            Some(_) => {
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(options)
                    .await?
            }
            None => pool.clone(),
        };
        Ok(SqliteStore { pool, writer, file })
    }

    async fn run_migrations(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    async fn take_startup_lock(&self) -> DbResult<super::StartupLock> {
        match &self.file {
            Some(file) => super::StartupLock::file(file).await,
            None => Ok(super::StartupLock::none()),
        }
    }
}

/// `sqlite::memory:` or `?mode=memory` (sqlx's own rule; its flag is
/// private): a database only this process sees.
fn in_memory(url: &str) -> bool {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (database, query) = rest.split_once('?').unwrap_or((rest, ""));
    database.ends_with(":memory:") || query.split('&').any(|p| p == "mode=memory")
}

/// The migrations this build carries (`migrate` applies them, `ready`
/// checks they are applied).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

type Db = sqlx::Sqlite;
type ThisStore = SqliteStore;
const BACKEND: &str = "sqlite";
/// How a writing transaction starts (see `begin_write`).
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
/// SQLite lets one transaction write at a time: a roll-up refresh never
/// races another, so no row locks (nor `FOR UPDATE`, which it lacks).
const LOCK_ROWS: &str = "";
/// Claiming queued work: SQLite's one writer makes the claim's
/// `UPDATE … WHERE … IN (SELECT …)` atomic as it is.
const SKIP_LOCKED: &str = "";
/// A village's roll-up is only ever written by one transaction at a time.
const SHARE_ROWS: &str = "";
/// SQLite's one writer: two saves of accounts never overlap.
const INCOME_ROLLUP_LOCK: Option<&str> = None;
/// The China date a visit (`v`) started on, as `YYYY-MM-DD` text.
const CHINA_DAY_OF_VISIT: &str = "date(v.started_at, '+8 hours')";
/// A read that must see one moment of the database: SQLite's WAL gives
/// a transaction one snapshot from its first read.
const SNAPSHOT: Option<&str> = None;
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

#[cfg(test)]
mod tests {
    #[test]
    fn memory_databases_are_told_from_files() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://?mode=memory&cache=shared",
        ] {
            assert!(super::in_memory(url), "{url}");
        }
        for url in ["sqlite:data/daohu.db", "sqlite:///tmp/memory.db?mode=rwc"] {
            assert!(!super::in_memory(url), "{url}");
        }
    }
}
