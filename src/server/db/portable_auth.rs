// The store's SQL for sessions and the sign-in throttle; included by
// `sqlite.rs` and `postgres.rs` inside a module of their own (see
// `portable.rs` for the rules of portable SQL).

use crate::server::db::{AuthStore, FailureCount, NewSessionRow, SessionRow};

#[async_trait]
impl AuthStore for ThisStore {
    async fn insert_session(&self, s: &NewSessionRow<'_>) -> DbResult<()> {
        db(sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, address) \
             VALUES ($1, $2, $3, $4, $3, $5)",
        )
        .bind(s.token_hash)
        .bind(s.user_id)
        .bind(s.at)
        .bind(s.expires_at)
        .bind(s.address)
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
    ) -> DbResult<Option<(UserRecord, DateTime<Utc>)>> {
        let row = db(sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.active"
        ))
        .bind(token_hash)
        .bind(now)
        .bind(seen_after)
        .fetch_optional(&self.pool)
        .await)?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("last_seen_at")?)))
            .transpose()
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        address: Option<&str>,
    ) -> DbResult<()> {
        db(sqlx::query(
            "UPDATE sessions SET last_seen_at = $2, address = COALESCE($3, address) \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .bind(now)
        .bind(address)
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> DbResult<()> {
        db(sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.writer)
            .await)?;
        Ok(())
    }

    async fn sessions_of(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
    ) -> DbResult<Vec<SessionRow>> {
        let rows = db(sqlx::query(
            "SELECT token_hash, created_at, last_seen_at, address FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 \
             ORDER BY last_seen_at DESC, created_at DESC, token_hash",
        )
        .bind(user_id)
        .bind(now)
        .bind(seen_after)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(SessionRow {
                    token_hash: r.try_get("token_hash")?,
                    created_at: r.try_get("created_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                    address: r.try_get("address")?,
                })
            })
            .collect()
    }

    async fn delete_other_sessions(&self, user_id: Uuid, keep: &str) -> DbResult<u64> {
        Ok(db(
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep)
                .execute(&self.writer)
                .await,
        )?
        .rows_affected())
    }

    async fn delete_dead_sessions(
        &self,
        now: DateTime<Utc>,
        seen_before: DateTime<Utc>,
    ) -> DbResult<u64> {
        Ok(db(
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now)
                .bind(seen_before)
                .execute(&self.writer)
                .await,
        )?
        .rows_affected())
    }

    async fn set_password(&self, user_id: Uuid, password_hash: &str, keep: &str) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        let changed = db(
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await,
        )?
        .rows_affected();
        if changed == 0 {
            return Err(DbError::NotFound);
        }
        db(
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep)
                .execute(&mut *tx)
                .await,
        )?;
        db(tx.commit().await)
    }

    async fn sign_in_failures(&self, keys: &[String]) -> DbResult<Vec<FailureCount>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT key, failures, last_failure_at FROM sign_in_failures WHERE key IN (",
        );
        push_in_list(&mut q, keys.iter());
        let rows = db(q.build().fetch_all(&self.pool).await)?;
        rows.iter()
            .map(|r| {
                Ok(FailureCount {
                    key: r.try_get("key")?,
                    failures: r.try_get::<i64, _>("failures")?,
                    last_failure_at: r.try_get("last_failure_at")?,
                })
            })
            .collect()
    }

    async fn record_sign_in_failure(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        fresh_after: DateTime<Utc>,
    ) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        for key in keys {
            // One statement per key: the database adds concurrent failures
            // up, whichever instance records them.
            db(sqlx::query(
                "INSERT INTO sign_in_failures (key, failures, last_failure_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                   failures = CASE WHEN sign_in_failures.last_failure_at < $3 THEN 1 \
                                   ELSE sign_in_failures.failures + 1 END, \
                   last_failure_at = excluded.last_failure_at",
            )
            .bind(key)
            .bind(now)
            .bind(fresh_after)
            .execute(&mut *tx)
            .await)?;
        }
        db(tx.commit().await)
    }

    async fn known_sign_in(
        &self,
        user_id: Uuid,
        sources: &[String],
        since: DateTime<Utc>,
    ) -> DbResult<bool> {
        if sources.is_empty() {
            return Ok(false);
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT COUNT(*) AS n FROM known_sign_ins WHERE user_id = ",
        );
        q.push_bind(user_id);
        q.push(" AND last_at > ");
        q.push_bind(since);
        q.push(" AND source IN (");
        push_in_list(&mut q, sources.iter());
        let row = db(q.build().fetch_one(&self.pool).await)?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    async fn record_sign_in(
        &self,
        user_id: Uuid,
        sources: &[String],
        now: DateTime<Utc>,
        clear: &[String],
    ) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        for source in sources {
            db(sqlx::query(
                "INSERT INTO known_sign_ins (user_id, source, last_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, source) DO UPDATE SET last_at = excluded.last_at",
            )
            .bind(user_id)
            .bind(source)
            .bind(now)
            .execute(&mut *tx)
            .await)?;
        }
        for key in clear {
            db(sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await)?;
        }
        db(tx.commit().await)
    }

    async fn prune_sign_in_records(
        &self,
        failures_before: DateTime<Utc>,
        known_before: DateTime<Utc>,
    ) -> DbResult<()> {
        db(
            sqlx::query("DELETE FROM sign_in_failures WHERE last_failure_at < $1")
                .bind(failures_before)
                .execute(&self.writer)
                .await,
        )?;
        db(sqlx::query("DELETE FROM known_sign_ins WHERE last_at < $1")
            .bind(known_before)
            .execute(&self.writer)
            .await)?;
        Ok(())
    }
}
