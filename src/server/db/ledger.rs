//! The store's part for the hash chain (migration 0012): the records each
//! write leaves to be chained, the chains, their heads and every
//! verification. The rules (hashing, the walk) are in `crate::ledger`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DbResult;
use crate::areas::AreaCode;
use crate::ledger::{ChainFacts, RecordKind, RecordSeal};

/// A county chain's newest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub county: String,
    pub seq: i64,
    pub hash: String,
    pub updated_at: DateTime<Utc>,
}

/// A verification's outcome, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRow {
    pub id: Uuid,
    pub county: String,
    pub verified_at: DateTime<Utc>,
    pub head_seq: i64,
    pub head_hash: String,
    pub records: i64,
    pub problems: i64,
    /// The first problems, one per line.
    pub report: String,
    pub runner: String,
}

#[async_trait]
pub trait LedgerStore {
    /// Appends up to `limit` waiting records of one county to its chain,
    /// for each of up to a few counties that no other chainer holds at the
    /// moment (PostgreSQL: the head row `FOR UPDATE SKIP LOCKED`; SQLite:
    /// one writer). Answers how many were chained.
    async fn chain_pending(&self, limit: i64, now: DateTime<Utc>) -> DbResult<usize>;

    /// Records written but not yet chained, across all counties.
    async fn ledger_pending(&self) -> DbResult<i64>;

    /// Everything a verification of `county`'s chain reads, from one
    /// snapshot of the database.
    async fn chain_facts(&self, county: &str) -> DbResult<ChainFacts>;

    /// The counties that have a chain or records waiting for one.
    async fn ledger_counties(&self) -> DbResult<Vec<String>>;

    /// The heads of every chain within `area`'s subtree, by county code.
    async fn chain_heads(&self, area: &AreaCode) -> DbResult<Vec<ChainHead>>;

    async fn save_verification(&self, v: &VerificationRow) -> DbResult<()>;

    /// One record's place in its chain, with its content hash now.
    async fn record_seal(&self, kind: RecordKind, id: Uuid) -> DbResult<RecordSeal>;

    /// The newest verification of `county`.
    async fn last_verification(&self, county: &str) -> DbResult<Option<VerificationRow>>;
}
