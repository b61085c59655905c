//! The store's part for the weekly report's submissions (migration 0019).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::DbResult;
use crate::areas::AreaCode;

/// A submission as stored, without its .xlsx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRow {
    pub id: Uuid,
    pub area: AreaCode,
    pub as_of: NaiveDate,
    pub version: i32,
    pub state: String,
    /// The table as submitted (JSON), byte for byte.
    pub figures: String,
    pub figures_hash: String,
    /// Item code → remark (JSON object).
    pub remarks: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_comment: Option<String>,
}

/// A submission to store: version 1, or the one after a returned version.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub id: Uuid,
    pub area: AreaCode,
    pub as_of: NaiveDate,
    pub figures: String,
    pub figures_hash: String,
    pub xlsx: Vec<u8>,
    pub remarks: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub submitted_by: Uuid,
    pub submitted_at: DateTime<Utc>,
}

/// Why a new version was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitRefusal {
    /// The latest version waits for review or was accepted.
    AlreadySubmitted,
}

/// A visit delivered after a moment, that counts for an earlier week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateVisitRow {
    pub visit_id: Uuid,
    pub household_id: Uuid,
    pub number: String,
    pub head_name: String,
    pub village: String,
    pub started_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[async_trait]
pub trait WeeklyStore {
    /// Stores `s` as the area's next version for its week, if there is
    /// none yet or the latest was returned (checked in the same
    /// transaction; two at once: one is stored, the other is refused).
    async fn insert_submission(&self, s: &NewSubmission) -> DbResult<Result<i32, SubmitRefusal>>;
    /// Every version of these areas' submissions for the week, by area
    /// then version.
    async fn submissions(
        &self,
        areas: &[AreaCode],
        as_of: NaiveDate,
    ) -> DbResult<Vec<SubmissionRow>>;
    async fn submission(&self, id: Uuid) -> DbResult<Option<SubmissionRow>>;
    /// The .xlsx exactly as submitted.
    async fn submission_xlsx(&self, id: Uuid) -> DbResult<Option<Vec<u8>>>;
    /// Returns or accepts submission `id` if it is still waiting and the
    /// latest version; whether it was.
    async fn review_submission(
        &self,
        id: Uuid,
        accept: bool,
        by: Uuid,
        at: DateTime<Utc>,
        comment: &str,
    ) -> DbResult<bool>;
    /// Visits of households in `area` delivered after `delivered_after`
    /// that started before `started_before` (they count for a table as of
    /// an earlier day), in statistics year `stat_year`; oldest first, at
    /// most `limit`.
    async fn visits_delivered_after(
        &self,
        area: &AreaCode,
        stat_year: i32,
        delivered_after: DateTime<Utc>,
        started_before: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<LateVisitRow>>;
    /// Payments of `area` whose latest verification before `cutoff` found
    /// them short or missing, counted per item and reason given:
    /// `(item_code, reason, payments)`.
    async fn shortfall_reasons(
        &self,
        area: &AreaCode,
        stat_year: i32,
        cutoff: DateTime<Utc>,
    ) -> DbResult<Vec<(String, Option<String>, i64)>>;
}
