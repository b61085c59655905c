//! Checking and storing visits delivered by sync.

use std::collections::HashSet;

use base64::Engine;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::service::deny;
use crate::error::AppError;
use crate::income::check_income_lines;
use crate::plans::check_measure_update;
use crate::server::db::{ReviewRecord, Store, VisitInsert, VisitRecord};
use crate::server::session::Caller;
use crate::subsidies::{StatYear, china_date};
use crate::visits::{
    HOUSEHOLD_SIZES, MAX_PHOTO_BYTES, MAX_REVIEW_COMMENT_CHARS, MAX_SIGNATURE_PNG_BYTES, Problem,
    ReviewState, VisitOutcome, VisitSubmission, check_lines, check_signer, confirmation_hash, hex,
    receipt_code,
};

/// Checks every visit of a batch, then stores the good ones in one
/// transaction (a savepoint each). One malformed or refused visit never
/// blocks or loses the others; the answers keep the batch's order.
pub async fn ingest_batch(
    store: &dyn Store,
    caller: &Caller,
    batch: Vec<serde_json::Value>,
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
                answers[*slot] = Some(VisitOutcome::Rejected {
                    id: Some(record.visit.id),
                    status: e.status_code(),
                    message: e.to_string(),
                });
            }
            return answers
                .into_iter()
                .map(|a| a.expect("every visit answered"))
                .collect();
        }
    };
    let mut visited = Vec::new();
    for ((slot, record), result) in slots.into_iter().zip(&records).zip(stored) {
        if matches!(result, Ok(VisitInsert::Stored)) {
            visited.push((record.visit.household_id, record.visit.stat_year));
        }
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
            Err(e) => {
                let e = AppError::from(e);
                VisitOutcome::Rejected {
                    id: Some(id),
                    status: e.status_code(),
                    message: e.to_string(),
                }
            }
        });
    }
    // The households' accounts move with what the visits verified and
    // declared.
    crate::income::service::recompute_households(store, visited).await;
    answers
        .into_iter()
        .map(|a| a.expect("every visit answered"))
        .collect()
}

/// Parses and checks one visit; a refusal is the answer to send back.
async fn prepare(
    store: &dyn Store,
    caller: &Caller,
    raw: serde_json::Value,
) -> Result<VisitRecord, VisitOutcome> {
    let id = raw
        .get("id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok());
    let rejected = |e: AppError| VisitOutcome::Rejected {
        id,
        status: e.status_code(),
        message: e.to_string(),
    };
    let visit: VisitSubmission =
        serde_json::from_value(raw).map_err(|e| VisitOutcome::Rejected {
            id,
            status: 422,
            message: format!("走访记录格式错误：{e}"),
        })?;
    to_record(store, caller, visit).await.map_err(rejected)
}

async fn to_record(
    store: &dyn Store,
    caller: &Caller,
    mut visit: VisitSubmission,
) -> Result<VisitRecord, AppError> {
    // One canonical form: what is stored reads back byte for byte.
    visit.lines.sort_by_key(|l| l.entitlement_id);
    let household = store.household(visit.household_id).await?.ok_or_else(|| {
        AppError::validation(
            "household_id",
            format!("农户 {} 不存在", visit.household_id),
        )
    })?;
    if !caller.actor.area.contains(&household.village) {
        return deny(store, caller, "sync_visit", &visit.household_id.to_string()).await;
    }
    // Moving a plan's measures takes what moving them online takes: the
    // household's own worker (or someone above the field).
    if !visit.measure_updates.is_empty() && !crate::households::service::may_see(caller, &household)
    {
        return deny(
            store,
            caller,
            "sync_measure_updates",
            &visit.household_id.to_string(),
        )
        .await;
    }
    let (signature_png, photo_jpeg) = check(store, &visit).await?;
    let payload_hash = hex(&Sha256::digest(
        serde_json::to_vec(&visit).map_err(|_| AppError::Internal)?,
    ));
    Ok(VisitRecord {
        worker_id: caller.actor.user_id,
        signature_png,
        photo_jpeg,
        payload_hash,
        visit,
    })
}

/// Every rule a visit must meet; returns the decoded signature and photo.
async fn check(
    store: &dyn Store,
    v: &VisitSubmission,
) -> Result<(Vec<u8>, Option<Vec<u8>>), AppError> {
    let invalid = |field: &str, message: String| Err(AppError::validation(field, message));
    // First: content that no longer matches its signature is refused as
    // such, whatever else is wrong with it.
    if v.signature.content_hash != confirmation_hash(v) {
        return invalid(
            "signature.content_hash",
            "签字后内容已被修改，请农户重新签字确认".into(),
        );
    }
    if v.ended_at < v.started_at {
        return invalid("ended_at", "结束时间早于开始时间".into());
    }
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
    let png = decode(
        "signature.png_base64",
        &s.png_base64,
        MAX_SIGNATURE_PNG_BYTES,
    )?;
    if !png.starts_with(b"\x89PNG") {
        return invalid("signature.png_base64", "签名图片应为PNG格式".into());
    }
    let photo = match &v.photo_base64 {
        Some(p) => {
            let jpeg = decode("photo_base64", p, MAX_PHOTO_BYTES)?;
            if !jpeg.starts_with(&[0xFF, 0xD8]) {
                return invalid("photo_base64", "照片应为JPEG格式".into());
            }
            Some(jpeg)
        }
        None => None,
    };
    Ok((png, photo))
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
    if data.len() > max.div_ceil(3) * 4 + 4 {
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
    if caller.actor.role == crate::auth::Role::FieldWorker {
        return crate::auth::service::deny_role(
            store,
            caller,
            "review_visit",
            &visit_id.to_string(),
        )
        .await;
    }
    let visit = store.visit(visit_id).await?.ok_or(AppError::NotFound)?;
    let household = store
        .household(visit.visit.household_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !caller.actor.supervises(&household.village) {
        return deny(store, caller, "review_visit", &visit_id.to_string()).await;
    }
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
