//! The store's part for signals of fabricated visits (migration 0014).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DbResult;
use crate::areas::AreaCode;

/// Another visit of the same worker: its start, village and position.
pub type NearbyVisit = (DateTime<Utc>, String, Option<(i64, i64)>);

/// What a visit's signals are compared with, read from the store.
#[derive(Debug, Clone, Default)]
pub struct SignalContext {
    /// Positions of the village's other visits this statistics year.
    pub village_fixes: Vec<(i64, i64)>,
    /// The worker's other visits within an hour: start, village, position.
    pub worker_nearby: Vec<NearbyVisit>,
    /// Other households' visits with the same signature shape, photo.
    pub same_signature: Vec<Uuid>,
    pub same_photo: Vec<Uuid>,
    /// The household's net income of the year, if computed.
    pub net_fen: Option<i64>,
}

/// One signal found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSignal {
    pub visit_id: Uuid,
    pub kind: &'static str,
    pub detail: String,
}

/// A visit's signals, marks and its work done, in one transaction.
#[derive(Debug, Clone)]
pub struct SignalWrite {
    pub visit_id: Uuid,
    /// Signals of this visit, and of earlier visits it matched (the same
    /// signature or photo flags both).
    pub signals: Vec<FoundSignal>,
    /// `signature` / `photo` marks of this visit.
    pub marks: Vec<(&'static str, String)>,
    pub at: DateTime<Utc>,
}

/// A signal as the queue lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalRow {
    pub visit_id: Uuid,
    pub kind: String,
    pub detail: String,
    pub household_id: Uuid,
    pub household_number: String,
    pub head_name: String,
    pub village_name: String,
    pub worker_name: String,
    pub visit_at: DateTime<Utc>,
    pub state: String,
}

/// A supervisor's decision on a signal.
#[derive(Debug, Clone)]
pub struct SignalReview {
    pub id: Uuid,
    pub visit_id: Uuid,
    pub kind: String,
    /// `cleared` or `needs_review`.
    pub state: &'static str,
    pub comment: String,
    pub reviewer_id: Uuid,
    /// For `needs_review`: the discrepancy to open for the visit.
    pub discrepancy_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait SignalStore {
    /// Visits waiting for their signals, oldest first.
    async fn signal_work(&self, limit: i64) -> DbResult<Vec<Uuid>>;
    async fn signal_context(
        &self,
        visit_id: Uuid,
        signature_mark: Option<&str>,
        photo_marks: &[String],
    ) -> DbResult<SignalContext>;
    /// Stores the signals (each once) and marks, and ends the visit's work.
    async fn save_signals(&self, w: &SignalWrite) -> DbResult<()>;
    /// Stored thresholds by name (the defaults stand for the rest).
    async fn signal_thresholds(&self) -> DbResult<Vec<(String, i64)>>;
    async fn set_signal_threshold(
        &self,
        name: &str,
        value: i64,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> DbResult<()>;
    /// The area's signals in `state`, newest visits first.
    async fn signal_queue(
        &self,
        scope: &AreaCode,
        state: &str,
        limit: i64,
    ) -> DbResult<Vec<SignalRow>>;
    /// Open signals per kind in the area.
    async fn signal_counts(&self, scope: &AreaCode) -> DbResult<Vec<(String, i64)>>;
    /// Visits with an open signal of the statistics year, per village of
    /// the area.
    async fn suspicious_visits_by_village(
        &self,
        scope: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Vec<(String, i64)>>;
    /// The village of a visit's signal, if it exists.
    async fn signal_village(&self, visit_id: Uuid, kind: &str) -> DbResult<Option<String>>;
    /// Records the decision and moves the signal; opens the discrepancy
    /// when one is named; one transaction.
    async fn review_signal(&self, r: &SignalReview) -> DbResult<()>;
    /// The signals of a household's visits: (visit, kind, detail, state).
    async fn signals_of_household(
        &self,
        household_id: Uuid,
    ) -> DbResult<Vec<(Uuid, String, String, String)>>;
}
