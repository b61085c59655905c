//! Delivering the outbox: batches to `/api/sync/v1/visits`, one answer per
//! visit. A visit leaves the outbox only when the server says it holds it
//! (`stored` or `already_stored`), so a lost answer means a resend, which
//! the server recognises: never a loss, never a duplicate.

use chrono::Utc;
use uuid::Uuid;

use super::net::{self, NetError};
use super::store::{self, Delivered};
use crate::sync::{BatchReply, VISITS_PATH};
use crate::visits::VisitOutcome;

/// Small enough that a batch with photos (≤ 300 KB each) goes through a
/// weak connection before it times out.
const BATCH: usize = 10;

/// What one delivery round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    /// Visits the server refused or holds other content for; they stay.
    pub refused: usize,
    /// Why the round stopped early, if it did.
    pub stopped: Option<NetError>,
}

/// Sends everything waiting in the user's outbox, oldest first, except
/// conflicts (retrying cannot settle those).
pub async fn deliver(user: Uuid) -> Result<Round, store::StoreError> {
    let waiting: Vec<_> = store::outbox(user)
        .await?
        .into_iter()
        .filter(|e| !e.conflict)
        .collect();
    let mut round = Round::default();
    for batch in waiting.chunks(BATCH) {
        let body = serde_json::json!({
            "visits": batch.iter().map(|e| &e.visit).collect::<Vec<_>>()
        })
        .to_string();
        let reply = match net::send("POST", VISITS_PATH, Some(&body)).await {
            Ok(text) => text,
            Err(e) => {
                round.stopped = Some(e);
                break;
            }
        };
        let Ok(reply) = serde_json::from_str::<BatchReply>(&reply) else {
            round.stopped = Some(NetError::Refused {
                status: 200,
                message: "服务器回复无法识别".into(),
            });
            break;
        };
        let now = Utc::now();
        let mut delivered = Vec::new();
        let mut problems = Vec::new();
        for outcome in reply.results {
            match outcome {
                VisitOutcome::Stored { id, receipt_code }
                | VisitOutcome::AlreadyStored { id, receipt_code } => {
                    if let Some(e) = batch.iter().find(|e| e.visit.id == id) {
                        delivered.push(Delivered {
                            id,
                            household_id: e.visit.household_id,
                            receipt_code,
                            started_at: e.visit.started_at,
                            delivered_at: now,
                        });
                    }
                }
                VisitOutcome::Conflict { id, message } => problems.push((id, message, true)),
                VisitOutcome::Rejected {
                    id: Some(id),
                    message,
                    ..
                } => problems.push((id, message, false)),
                VisitOutcome::Rejected { id: None, .. } => {}
            }
        }
        round.delivered += delivered.len();
        round.refused += problems.len();
        store::settle(user, &delivered, &problems).await?;
    }
    Ok(round)
}

/// The wait before retry `attempt` (1, 2, …): doubling from 2 s up to
/// 5 min, then a random 50–100 % of it so phones that come back online
/// together do not all call at once.
pub fn backoff_ms(attempt: u32, random_unit: f64) -> u32 {
    let base = 2_000u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
    let capped = base.min(300_000) as f64;
    (capped * (0.5 + 0.5 * random_unit.clamp(0.0, 1.0))) as u32
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_to_five_minutes_with_jitter() {
        assert_eq!(backoff_ms(1, 1.0), 2_000);
        assert_eq!(backoff_ms(2, 1.0), 4_000);
        assert_eq!(backoff_ms(3, 0.0), 4_000);
        assert_eq!(backoff_ms(20, 1.0), 300_000);
        assert_eq!(backoff_ms(u32::MAX, 0.5), 225_000);
    }
}
