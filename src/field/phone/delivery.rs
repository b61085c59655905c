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

/// Small enough that a batch goes through a weak connection before it
/// times out: at most this many visits, and at most [`BATCH_BYTES`] of
/// them (a visit with its photo and a dozen evidence photos weighs up to
/// ≈ 5 MB; one visit alone always makes a batch).
const BATCH: usize = 10;
const BATCH_BYTES: usize = 2 * 1024 * 1024;

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
    let sizes: Vec<usize> = waiting
        .iter()
        .map(|e| serde_json::to_string(&e.visit).map_or(0, |s| s.len()))
        .collect();
    for range in batches(&sizes) {
        let batch = &waiting[range];
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

/// Splits visits of these JSON sizes, in order, into batches of at most
/// [`BATCH`] visits and [`BATCH_BYTES`], each with at least one visit.
fn batches(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, &size) in sizes.iter().enumerate() {
        let full = i - start == BATCH || (i > start && bytes + size > BATCH_BYTES);
        if full {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
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
    use super::{BATCH, BATCH_BYTES, backoff_ms, batches};

    #[test]
    fn batches_hold_ten_visits_or_two_megabytes_and_never_none() {
        assert!(batches(&[]).is_empty());
        assert_eq!(batches(&[1; 25]), [0..10, 10..20, 20..25]);
        // Heavy visits go fewer at a time; one heavier than a batch alone.
        let mb = 1024 * 1024;
        assert_eq!(
            batches(&[mb, mb, mb, 5 * mb, 10, 10]),
            [0..2, 2..3, 3..4, 4..6]
        );
        let sizes: Vec<usize> = (0..200).map(|i| (i * 7919) % (3 * mb)).collect();
        let got = batches(&sizes);
        assert_eq!(got.iter().map(|r| r.len()).sum::<usize>(), sizes.len());
        for r in &got {
            assert!(!r.is_empty() && r.len() <= BATCH);
            let bytes: usize = sizes[r.clone()].iter().sum();
            assert!(r.len() == 1 || bytes <= BATCH_BYTES, "{r:?} weighs {bytes}");
        }
        assert!(got.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn backoff_doubles_to_five_minutes_with_jitter() {
        assert_eq!(backoff_ms(1, 1.0), 2_000);
        assert_eq!(backoff_ms(2, 1.0), 4_000);
        assert_eq!(backoff_ms(3, 0.0), 4_000);
        assert_eq!(backoff_ms(20, 1.0), 300_000);
        assert_eq!(backoff_ms(u32::MAX, 0.5), 225_000);
    }
}
