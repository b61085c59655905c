//! Checking and storing visits delivered by sync.

use std::collections::HashSet;

use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::access::{Caller, deny};
use crate::auth::Role;
use crate::error::AppError;
use crate::income::check_income_lines;
use crate::plans::check_measure_update;
use crate::server::db::{AssignmentRecord, ReviewRecord, Store, VisitInsert, VisitRecord};
use crate::subsidies::{StatYear, china_date};
use crate::text::zh;
use crate::visits::{
    Confirmation, EvidenceFor, HOUSEHOLD_SIZES, MAX_PHOTO_BYTES, MAX_REVIEW_COMMENT_CHARS,
    MAX_SIGNATURE_PNG_BYTES, Problem, ReviewState, VisitOutcome, VisitSubmission, base64_len,
    check_lines, check_signature_mark, check_signer, check_visit_fields, check_visit_times,
    payload_hash, receipt_code,
};

/// Checks every visit of a batch, then stores the good ones in one
/// transaction (a savepoint each). One malformed or refused visit never
/// blocks or loses the others; the answers keep the batch's order.
pub async fn ingest_batch(
    store: &dyn Store,
    caller: &Caller,
    batch: Vec<&serde_json::value::RawValue>,
) -> Vec<VisitOutcome> {
    let mut answers: Vec<Option<VisitOutcome>> = Vec::with_capacity(batch.len());
    let mut records = Vec::new();
    let mut slots = Vec::new();
    for raw in batch {
        match prepare(store, caller, raw).await {
            Ok(record) => {
                slots.push(answers.len());
                records.push(record);
                answers.push(None);
            }
            Err(refusal) => answers.push(Some(refusal)),
        }
    }
    let stored = match store.insert_visits(&records).await {
        Ok(results) => results,
        Err(e) => {
            // The batch's transaction failed: nothing of it was stored.
            let e = AppError::from(e);
            for (slot, record) in slots.iter().zip(&records) {
                answers[*slot] = Some(VisitOutcome::rejected(Some(record.visit.id), &e));
            }
            return answers
                .into_iter()
                .map(|a| a.expect("every visit answered"))
                .collect();
        }
    };
    for ((slot, record), result) in slots.into_iter().zip(&records).zip(stored) {
        let id = record.visit.id;
        let code = receipt_code(&record.visit.signature.content_hash);
        answers[slot] = Some(match result {
            Ok(VisitInsert::Stored) => VisitOutcome::Stored {
                id,
                receipt_code: code,
            },
            Ok(VisitInsert::AlreadyStored) => VisitOutcome::AlreadyStored {
                id,
                receipt_code: code,
            },
            Ok(VisitInsert::Conflict) => VisitOutcome::Conflict {
                id,
                message: "该编号的走访记录已存在且内容不同，已留存待督导核实".into(),
            },
            // Another caller's visit, or another household's: refused as
            // the caller sent it, naming nothing of the stored one. The
            // attempt is kept in the audit log (server side only).
            Ok(VisitInsert::Taken) => {
                match deny::<()>(store, caller, "sync_visit_id_taken", &id.to_string()).await {
                    Ok(()) | Err(AppError::Forbidden | AppError::NotFound) => {}
                    Err(e) => tracing::error!(error = %e, "audit of a taken visit id failed"),
                }
                VisitOutcome::Rejected {
                    id: Some(id),
                    status: 409,
                    message: zh::SYNC_VISIT_ID_TAKEN.into(),
                    field: None,
                }
            }
            Err(e) => VisitOutcome::rejected(Some(id), &AppError::from(e)),
        });
    }
    answers
        .into_iter()
        .map(|a| a.expect("every visit answered"))
        .collect()
}

/// Parses and checks one visit; a refusal is the answer to send back.
async fn prepare(
    store: &dyn Store,
    caller: &Caller,
    raw: &serde_json::value::RawValue,
) -> Result<VisitRecord, VisitOutcome> {
    // The id alone first, so that even a visit that does not parse is
    // answered under its id (other fields are skipped, not kept).
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: Uuid,
    }
    let id = serde_json::from_str::<IdOnly>(raw.get()).ok().map(|v| v.id);
    let rejected = |e: AppError| VisitOutcome::rejected(id, &e);
    let visit: VisitSubmission =
        serde_json::from_str(raw.get()).map_err(|e| VisitOutcome::Rejected {
            id,
            status: 422,
            message: format!(
                "走访记录格式错误：{}",
                crate::error::decode_problem(&e.to_string())
            ),
            field: None,
        })?;
    if !may_record(store, caller, &visit).await.map_err(rejected)? {
        return Err(VisitOutcome::Rejected {
            id,
            status: 404,
            message: zh::SYNC_NO_SUCH_HOUSEHOLD.into(),
            field: None,
        });
    }
    to_record(store, caller, visit).await.map_err(rejected)
}

/// Whether the caller may record a visit of its household: the worker the
/// household had when the visit started (so a visit made just before a
/// reassignment still arrives after it, and one made after it by the old
/// worker does not), or anyone above the field whose area holds it. Its
/// plan's measures move with the visit on the same terms. An unknown
/// household and a refused one get the same answer and the same audit row
/// (no phone sends a household it was not given), so neither the answer
/// nor its timing tells which households exist.
async fn may_record(
    store: &dyn Store,
    caller: &Caller,
    visit: &VisitSubmission,
) -> Result<bool, AppError> {
    let actor = &caller.actor;
    let allowed = match store.household(visit.household_id).await? {
        None => false,
        Some(household) => {
            actor.area.contains(&household.village)
                && (actor.role != Role::FieldWorker || {
                    let trail = store.assignments_of_household(household.id).await?;
                    worker_at(&trail, household.worker_id, visit.started_at) == Some(actor.user_id)
                })
        }
    };
    if allowed {
        return Ok(true);
    }
    // `deny` writes the audit row; its refusal is replaced by the one answer.
    let target = visit.household_id.to_string();
    match deny::<()>(store, caller, "sync_visit", &target).await {
        Ok(()) | Err(AppError::Forbidden | AppError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The worker a household had at `at`, from its assignment trail (oldest
/// first) and its worker now. Before the first row of the trail it had
/// that row's old worker; with no trail at all (households imported or
/// loaded before the trail existed, or never reassigned) the present
/// worker is the only record and counts throughout. A worker counts for
/// the span of a row only if the next record (the next row's old worker,
/// or the present worker after the last row) agrees: an import that
/// moves a household to another village clears its worker without a row,
/// at a moment nobody recorded, so that span has no known worker.
fn worker_at(trail: &[AssignmentRecord], current: Option<Uuid>, at: DateTime<Utc>) -> Option<Uuid> {
    let after = trail.partition_point(|a| a.at <= at);
    let Some(row) = after.checked_sub(1).map(|i| &trail[i]) else {
        return trail.first().map_or(current, |a| a.old_worker_id);
    };
    let next = trail.get(after).map_or(current, |a| a.old_worker_id);
    (next == Some(row.new_worker_id)).then_some(row.new_worker_id)
}

async fn to_record(
    store: &dyn Store,
    caller: &Caller,
    visit: VisitSubmission,
) -> Result<VisitRecord, AppError> {
    // What releases before v3 hashed: the visit as sent, lines sorted.
    let earlier_payload_hash = {
        let mut as_before = visit.clone();
        as_before.lines.sort_by_key(|l| l.entitlement_id);
        payload_hash(&as_before)
    };
    // One canonical form: what is stored reads back byte for byte.
    let mut visit = visit;
    visit.canonicalize();
    let Images {
        signature_png,
        photo_jpeg,
        evidence_jpeg,
    } = check(store, &visit, Utc::now()).await?;
    let payload_hash = payload_hash(&visit);
    // What the visit verified and declared moves the household's accounts.
    let income_work = crate::income::service::income_work(
        visit.household_id,
        visit.stat_year,
        crate::subsidies::china_date(Utc::now()),
    );
    Ok(VisitRecord {
        income_work,
        worker_id: caller.actor.user_id,
        signature_png,
        photo_jpeg,
        evidence_jpeg,
        earlier_payload_hash: (earlier_payload_hash != payload_hash)
            .then_some(earlier_payload_hash),
        payload_hash,
        visit,
    })
}

/// A visit's images, decoded.
struct Images {
    signature_png: Vec<u8>,
    photo_jpeg: Option<Vec<u8>>,
    evidence_jpeg: Vec<(EvidenceFor, Vec<u8>)>,
}

/// Every rule a visit must meet; returns its images decoded.
async fn check(
    store: &dyn Store,
    v: &VisitSubmission,
    now: DateTime<Utc>,
) -> Result<Images, AppError> {
    let invalid = |field: &str, message: String| Err(AppError::validation(field, message));
    // First: content that no longer matches its signature is refused as
    // such, whatever else is wrong with it.
    if Confirmation::of_signed(v).is_none() {
        return invalid(
            "signature.content_hash",
            "签字后内容已被修改，请农户重新签字确认".into(),
        );
    }
    check_visit_times(v, now).map_err(Problem::into_error)?;
    check_visit_fields(v).map_err(Problem::into_error)?;
    if StatYear::containing(crate::subsidies::china_date(v.started_at)) != StatYear(v.stat_year) {
        return invalid(
            "stat_year",
            format!("走访日期不在{}统计年度内", v.stat_year),
        );
    }
    let due = store.entitlement_ids(v.household_id, v.stat_year).await?;
    check_lines(&v.lines, &due).map_err(Problem::into_error)?;
    check_plan_and_income(store, v).await?;
    check_signer(&v.signature).map_err(Problem::into_error)?;
    let s = &v.signature;
    check_signature_mark(&s.strokes_json, &s.png_base64).map_err(Problem::into_error)?;
    let png = decode(
        "signature.png_base64",
        &s.png_base64,
        MAX_SIGNATURE_PNG_BYTES,
    )?;
    if !png.starts_with(b"\x89PNG") {
        return invalid("signature.png_base64", "签名图片应为PNG格式".into());
    }
    let jpeg = |field: &str, b64: &str| -> Result<Vec<u8>, AppError> {
        let bytes = decode(field, b64, MAX_PHOTO_BYTES)?;
        if !bytes.starts_with(&[0xFF, 0xD8]) {
            return Err(AppError::validation(field, "照片应为JPEG格式"));
        }
        Ok(bytes)
    };
    let photo_jpeg = v
        .photo_base64
        .as_deref()
        .map(|p| jpeg("photo_base64", p))
        .transpose()?;
    let evidence_jpeg = v
        .evidence
        .iter()
        .enumerate()
        .map(|(i, e)| Ok((e.line, jpeg(&format!("evidence[{i}]"), &e.photo_base64)?)))
        .collect::<Result<_, AppError>>()?;
    Ok(Images {
        signature_png: png,
        photo_jpeg,
        evidence_jpeg,
    })
}

/// The parts of a visit beyond its payment lines: measure updates move
/// only this household's measures, each at most once, by the plan rules
/// as of the day the visit ended; income lines and the household size
/// are plausible.
async fn check_plan_and_income(store: &dyn Store, v: &VisitSubmission) -> Result<(), AppError> {
    let invalid = |field: String, message: &str| Err(AppError::validation(field, message));
    if !v.measure_updates.is_empty() {
        let own: HashSet<Uuid> = store
            .measures_of_households(&[v.household_id])
            .await?
            .into_iter()
            .map(|(_, m)| m.id)
            .collect();
        let today = china_date(v.ended_at);
        let mut seen = HashSet::new();
        for (i, u) in v.measure_updates.iter().enumerate() {
            let at = format!("measure_updates[{i}]");
            if !own.contains(&u.measure_id) {
                return invalid(format!("{at}.measure_id"), "不是该户帮扶计划中的措施");
            }
            if !seen.insert(u.measure_id) {
                return invalid(format!("{at}.measure_id"), "同一项措施重复更新");
            }
            check_measure_update(u, &at, today)
                .or_else(|(field, message)| invalid(field, message))?;
        }
    }
    check_income_lines(&v.income).or_else(|(field, message)| invalid(field, message))?;
    if v.household_size
        .is_some_and(|n| !HOUSEHOLD_SIZES.contains(&n))
    {
        return invalid("household_size".into(), "家庭人口应在1至99人之间");
    }
    Ok(())
}

/// Decodes canonical standard base64 (so the stored bytes re-encode to
/// exactly what was sent) within a size limit.
fn decode(field: &str, data: &str, max: usize) -> Result<Vec<u8>, AppError> {
    let engine = base64::engine::general_purpose::STANDARD;
    if data.len() > base64_len(max) {
        return Err(AppError::validation(
            field,
            format!("超过 {} KB", max / 1024),
        ));
    }
    let bytes = engine
        .decode(data)
        .map_err(|_| AppError::validation(field, "不是有效的base64数据"))?;
    if bytes.len() > max || engine.encode(&bytes) != data {
        return Err(AppError::validation(
            field,
            format!("数据无效或超过 {} KB", max / 1024),
        ));
    }
    Ok(bytes)
}

/// A supervisor sets a visit's review state. Anyone above the field whose
/// area holds the household may; "has issues" must say what, for the worker
/// to act on. Each call adds a step to the history.
pub async fn review(
    store: &dyn Store,
    caller: &Caller,
    visit_id: Uuid,
    state: &str,
    comment: &str,
) -> Result<(), AppError> {
    let state = ReviewState::parse(state)
        .ok_or_else(|| AppError::validation("state", format!("未知的审核结果“{state}”")))?;
    let comment = comment.trim();
    if state == ReviewState::HasIssues && comment.is_empty() {
        return Err(AppError::validation(
            "comment",
            "请写明问题，以便帮扶干部处理",
        ));
    }
    if comment.chars().count() > MAX_REVIEW_COMMENT_CHARS {
        return Err(AppError::validation(
            "comment",
            format!("审核意见不能超过{MAX_REVIEW_COMMENT_CHARS}字"),
        ));
    }
    // Reviewing is for those above the field: refused for the role before
    // the id is looked up, so the answer tells nothing about the visit.
    crate::access::visit(store, caller, visit_id, "review_visit").await?;
    store
        .insert_review(&ReviewRecord {
            id: Uuid::now_v7(),
            visit_id,
            state,
            comment: comment.to_owned(),
            reviewer_id: caller.actor.user_id,
            at: chrono::Utc::now(),
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(old: Option<Uuid>, new: Uuid, at: DateTime<Utc>) -> AssignmentRecord {
        AssignmentRecord {
            household_id: Uuid::nil(),
            old_worker_id: old,
            new_worker_id: new,
            assigned_by: Uuid::nil(),
            at,
        }
    }

    #[test]
    fn the_worker_at_a_time_follows_the_assignment_trail() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let t = |h: i64| DateTime::UNIX_EPOCH + chrono::Duration::hours(1_000 + h);
        // No trail: the present worker is the only record.
        assert_eq!(worker_at(&[], Some(a), t(0)), Some(a));
        assert_eq!(worker_at(&[], None, t(0)), None);
        // a (from before the trail) → b at t(10) → c at t(20).
        let trail = [row(Some(a), b, t(10)), row(Some(b), c, t(20))];
        assert_eq!(worker_at(&trail, Some(c), t(9)), Some(a));
        assert_eq!(
            worker_at(&trail, Some(c), t(10)),
            Some(b),
            "from the moment on"
        );
        assert_eq!(worker_at(&trail, Some(c), t(19)), Some(b));
        assert_eq!(worker_at(&trail, Some(c), t(25)), Some(c));
        // First assigned at t(10), nobody before.
        let first = [row(None, b, t(10))];
        assert_eq!(worker_at(&first, Some(b), t(9)), None);
        assert_eq!(worker_at(&first, Some(b), t(11)), Some(b));
    }

    #[test]
    fn a_span_ended_by_an_unrecorded_change_has_no_known_worker() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t = |h: i64| DateTime::UNIX_EPOCH + chrono::Duration::hours(1_000 + h);
        // An import moved the household to another village after t(10),
        // clearing b without a row: b's span is unknown from t(10) on.
        let trail = [row(Some(a), b, t(10))];
        assert_eq!(worker_at(&trail, None, t(11)), None);
        assert_eq!(worker_at(&trail, None, t(9)), Some(a));
        // Later assigned to a again (old worker: none): b never counts.
        let trail = [row(Some(a), b, t(10)), row(None, a, t(20))];
        assert_eq!(worker_at(&trail, Some(a), t(15)), None);
        assert_eq!(worker_at(&trail, Some(a), t(21)), Some(a));
    }
}
