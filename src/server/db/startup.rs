//! The start-up lock: one process at a time migrates the database and
//! loads data into it.
//!
//! Several instances of a province start at once on one database. Each
//! migrates (sqlx serializes that by itself on PostgreSQL) and, with
//! `--demo-if-empty`, asks "is the database empty?" and loads the demo —
//! without a lock around the whole, two of them see it empty and the second
//! load fails on the first one's user names. Held around migrate + load, the
//! lock makes the later instances wait, then find the demo loaded.
//!
//! - PostgreSQL: a session-level advisory lock on a connection of its own,
//!   taken out of the pool (so the pool's connections, which the migrator
//!   and the load use, stay free) and in the two-key space (which sqlx's
//!   migrator, keyed by one `bigint`, never uses: no deadlock with it).
//!   Advisory locks belong to one database, so two Daohu databases on one
//!   server never wait for each other.
//! - SQLite file: an exclusive OS lock on a file beside the database file
//!   (`<file>.startup-lock`), which the OS releases when the process dies.
//!   The lock file is left in place: removing it while another process
//!   waits on it would let a third lock a new file at the same time.
//! - In-memory SQLite: nothing to share, no lock.

use std::path::{Path, PathBuf};

use super::{DbError, DbResult};

/// The advisory lock's two keys: "Daoh" and 1 (start-up).
pub(super) const PG_LOCK_KEYS: (i32, i32) = (0x4461_6f68, 1);

/// What tells an operator why an instance sits there.
const WAITING: &str = "另一个进程正在迁移或载入数据，等待其完成 / \
                       waiting for another process to finish migrating or loading data";

/// Held while this process migrates and loads; [`StartupLock::release`]
/// (or dropping it, or the process ending) lets the next one in.
#[must_use = "the lock is released when dropped"]
pub struct StartupLock {
    held: Held,
}

enum Held {
    None,
    /// Open (and locked) for as long as the lock is held.
    File(std::fs::File),
    /// The session holding the advisory lock.
    Postgres(sqlx::PgConnection),
}

impl StartupLock {
    /// No lock: for a database no other process can open.
    pub(super) fn none() -> StartupLock {
        StartupLock { held: Held::None }
    }

    /// Locks `<database file>.startup-lock`, waiting for another process
    /// that holds it.
    pub(super) async fn file(database: &Path) -> DbResult<StartupLock> {
        let path = lock_path(database);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        let file = match file.try_lock() {
            Ok(()) => file,
            Err(std::fs::TryLockError::WouldBlock) => {
                tracing::info!(lock = %path.display(), "{WAITING}");
                let path = path.clone();
                tokio::task::spawn_blocking(move || file.lock().map(|()| file))
                    .await
                    .map_err(|e| io_error(&path, std::io::Error::other(e)))?
                    .map_err(|e| io_error(&path, e))?
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(&path, e)),
        };
        Ok(StartupLock {
            held: Held::File(file),
        })
    }

    /// Takes the advisory lock on `conn` (a connection no pool will hand
    /// out again), waiting for the session that holds it.
    pub(super) async fn postgres(mut conn: sqlx::PgConnection) -> DbResult<StartupLock> {
        let (a, b) = PG_LOCK_KEYS;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(a)
            .bind(b)
            .fetch_one(&mut conn)
            .await
            .map_err(DbError::from_sqlx)?;
        if !got {
            tracing::info!("{WAITING}");
            sqlx::query("SELECT pg_advisory_lock($1, $2)")
                .bind(a)
                .bind(b)
                .execute(&mut conn)
                .await
                .map_err(DbError::from_sqlx)?;
        }
        Ok(StartupLock {
            held: Held::Postgres(conn),
        })
    }

    /// Lets the next process in now. (Dropping the lock does too: the file
    /// is closed, the PostgreSQL session ends with its socket; this only
    /// says goodbye to PostgreSQL properly.)
    pub async fn release(self) {
        match self.held {
            Held::None => {}
            Held::File(file) => {
                // Closing the file would release it too; this says so.
                if let Err(e) = file.unlock() {
                    tracing::warn!(error = %e, "unlocking the start-up lock file");
                }
            }
            Held::Postgres(conn) => {
                use sqlx::Connection;
                // Ending the session releases its advisory locks.
                if let Err(e) = conn.close().await {
                    tracing::warn!(error = %e, "closing the start-up lock's connection");
                }
            }
        }
    }
}

fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".startup-lock");
    PathBuf::from(name)
}

fn io_error(path: &Path, e: std::io::Error) -> DbError {
    DbError::Other(sqlx::Error::Configuration(
        format!("启动锁 / start-up lock {}: {e}", path.display()).into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_beside_the_database_file() {
        assert_eq!(
            lock_path(Path::new("data/daohu.db")),
            PathBuf::from("data/daohu.db.startup-lock")
        );
    }

    #[tokio::test]
    async fn a_second_holder_waits_for_the_first() {
        let dir = std::env::temp_dir().join(format!("daohu-lock-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("d.db");
        let first = StartupLock::file(&db).await.unwrap();
        let db2 = db.clone();
        let second = tokio::spawn(async move { StartupLock::file(&db2).await.unwrap() });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!second.is_finished(), "the second got the lock while held");
        first.release().await;
        let second = tokio::time::timeout(std::time::Duration::from_secs(5), second)
            .await
            .expect("the second gets the lock once released")
            .unwrap();
        second.release().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
