//! The store's part for the village public notice (migration 0015).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::DbResult;
use crate::areas::AreaCode;

/// A household of the village with its year's latest verification: the
/// status and amount received of each line (none: not yet visited).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeFacts {
    pub household_id: Uuid,
    pub number: String,
    pub head_name: String,
    pub lines: Vec<(String, Option<i64>)>,
    pub visited: bool,
}

/// A posting as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePosting {
    pub id: Uuid,
    pub village: AreaCode,
    pub stat_year: i32,
    pub posted_from: NaiveDate,
    pub posted_until: NaiveDate,
    pub contact_phone: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A household's dispute made while the notice was up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeObjection {
    pub head_name: String,
    pub reason: String,
    /// The day (China time) it was made, or received by the township.
    pub on: NaiveDate,
    /// `None`: entered by the township (nothing to close); else whether
    /// the dispute's item is closed.
    pub closed: Option<bool>,
}

/// An objection the township enters for a household of the village.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObjection {
    pub id: Uuid,
    pub village: AreaCode,
    pub stat_year: i32,
    pub household_id: Uuid,
    pub reason: String,
    pub details: String,
    pub phone: Option<String>,
    pub received_on: NaiveDate,
    pub entered_by: Uuid,
    pub entered_at: DateTime<Utc>,
}

#[async_trait]
pub trait NoticeStore {
    /// Every household of the village, by number, with its latest visit of
    /// `stat_year`'s lines.
    async fn notice_facts(&self, village: &AreaCode, stat_year: i32) -> DbResult<Vec<NoticeFacts>>;
    async fn save_notice_posting(&self, p: &NoticePosting) -> DbResult<()>;
    async fn notice_posting(
        &self,
        village: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Option<NoticePosting>>;
    /// Stores an objection the township entered.
    async fn add_objection(&self, o: &NewObjection) -> DbResult<()>;
    /// Disputes of the village's households made in `[from, until)`, and
    /// the objections the township entered as received in those days
    /// (China time), oldest first.
    async fn objections_between(
        &self,
        village: &AreaCode,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<NoticeObjection>>;
}
