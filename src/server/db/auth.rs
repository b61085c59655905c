//! The store's part for signing in: sessions, the sign-in throttle's
//! counters and the sources an account has signed in from before. All of it
//! lives in the database so that several server instances behind a
//! balancer share one view.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbResult, UserRecord};

/// A session as written at sign-in.
#[derive(Debug, Clone)]
pub struct NewSessionRow<'a> {
    pub token_hash: &'a str,
    pub user_id: Uuid,
    pub at: DateTime<Utc>,
    /// The absolute end: no activity keeps a session past it.
    pub expires_at: DateTime<Utc>,
    pub address: Option<&'a str>,
}

/// One of a user's live sessions, for the list on their account page.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub address: Option<String>,
}

/// The failures counted under one throttle key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount {
    pub key: String,
    pub failures: i64,
    pub last_failure_at: DateTime<Utc>,
}

#[async_trait]
pub trait AuthStore {
    async fn insert_session(&self, session: &NewSessionRow<'_>) -> DbResult<()>;
    /// The active user owning a session that is live at `now` (before its
    /// absolute end and seen after `seen_after`), with when it was last seen.
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
    ) -> DbResult<Option<(UserRecord, DateTime<Utc>)>>;
    /// Marks a session as seen now, from `address`.
    async fn touch_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        address: Option<&str>,
    ) -> DbResult<()>;
    async fn delete_session(&self, token_hash: &str) -> DbResult<()>;
    /// The user's live sessions, most recently seen first.
    async fn sessions_of(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
    ) -> DbResult<Vec<SessionRow>>;
    /// Ends every session of the user but `keep`; how many ended.
    async fn delete_other_sessions(&self, user_id: Uuid, keep: &str) -> DbResult<u64>;
    /// Removes every session past its absolute end or idle since before
    /// `seen_before`; how many.
    async fn delete_dead_sessions(
        &self,
        now: DateTime<Utc>,
        seen_before: DateTime<Utc>,
    ) -> DbResult<u64>;
    /// Replaces the user's password hash and ends every other session of
    /// theirs, in one transaction: a thief's session dies with the old
    /// password.
    async fn set_password(&self, user_id: Uuid, password_hash: &str, keep: &str) -> DbResult<()>;

    /// The counts stored under any of `keys` (absent keys have none).
    async fn sign_in_failures(&self, keys: &[String]) -> DbResult<Vec<FailureCount>>;
    /// Counts one failure under each key at `now`, atomically (concurrent
    /// instances add up); a count whose last failure is older than
    /// `fresh_after` starts again from one.
    async fn record_sign_in_failure(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        fresh_after: DateTime<Utc>,
    ) -> DbResult<()>;
    /// Whether the user signed in successfully from any of `sources` after
    /// `since`.
    async fn known_sign_in(
        &self,
        user_id: Uuid,
        sources: &[String],
        since: DateTime<Utc>,
    ) -> DbResult<bool>;
    /// After a successful sign-in: remembers its sources and clears the
    /// counts under `clear` (the account's pair with this address).
    async fn record_sign_in(
        &self,
        user_id: Uuid,
        sources: &[String],
        now: DateTime<Utc>,
        clear: &[String],
    ) -> DbResult<()>;
    /// Forgets failures and known sources older than these times, so that a
    /// spray of made-up names cannot grow the tables without end.
    async fn prune_sign_in_records(
        &self,
        failures_before: DateTime<Utc>,
        known_before: DateTime<Utc>,
    ) -> DbResult<()>;
}
