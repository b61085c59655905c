//! The store's part for the receipt check (migration 0013): the lookup
//! log, which also holds the tokens found lookups hand out, and disputes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DbResult;

/// One lookup as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLookup {
    pub id: Uuid,
    /// SHA-256 of the token handed out (found lookups only).
    pub token_hash: Option<String>,
    pub code: String,
    pub visit_id: Option<Uuid>,
    pub address: String,
    /// `found`, `wrong_digits`, `unknown_code` or `throttled`.
    pub outcome: &'static str,
    pub at: DateTime<Utc>,
}

/// A household's dispute of its receipt, opening a discrepancy item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDispute {
    pub discrepancy_id: Uuid,
    pub lookup_id: Uuid,
    pub visit_id: Uuid,
    pub reason: crate::receipts::DisputeReason,
    pub details: String,
    pub phone: Option<String>,
    pub at: DateTime<Utc>,
}

/// A dispute already made, as the receipt shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRow {
    pub reason: String,
    pub at: DateTime<Utc>,
    pub closed: bool,
}

#[async_trait]
pub trait ReceiptStore {
    /// The visits whose receipt code is `code` (8 hex digits): a few at
    /// most, since a code is 32 bits of a hash.
    async fn visits_with_receipt(&self, code: &str) -> DbResult<Vec<Uuid>>;

    async fn log_receipt_lookup(&self, lookup: &ReceiptLookup) -> DbResult<()>;

    /// The found lookup a token belongs to, if made after `issued_after`:
    /// its id and its visit.
    async fn receipt_lookup(
        &self,
        token_hash: &str,
        issued_after: DateTime<Utc>,
    ) -> DbResult<Option<(Uuid, Uuid)>>;

    /// Opens the dispute's discrepancy item (for the visit's household and
    /// village) with its words, and chains it, in one transaction.
    async fn open_dispute(&self, d: &NewDispute) -> DbResult<()>;

    async fn disputes_of_visit(&self, visit_id: Uuid) -> DbResult<Vec<DisputeRow>>;

    /// Lookups logged since `since` (operators, tests).
    async fn receipt_lookups_since(&self, since: DateTime<Utc>) -> DbResult<Vec<ReceiptLookup>>;
}
