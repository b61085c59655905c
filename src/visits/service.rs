//! Checking and storing visits delivered by sync.

use base64::Engine;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::service::deny;
use crate::error::AppError;
use crate::server::db::{Store, VisitInsert, VisitRecord};
use crate::server::session::Caller;
use crate::subsidies::StatYear;
use crate::visits::{
    MAX_PHOTO_BYTES, MAX_SIGNATURE_PNG_BYTES, PaymentStatus, VisitSubmission, confirmation_hash,
    hex, receipt_code,
};

/// The answer for one visit of a batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum VisitOutcome {
    /// Stored now; the phone may drop it from its outbox.
    Stored { id: Uuid, receipt_code: String },
    /// Stored before with the same content; the phone may drop it too.
    AlreadyStored { id: Uuid, receipt_code: String },
    /// The id is taken by other content; this copy is kept for review and
    /// the phone must keep it until a supervisor decides.
    Conflict { id: Uuid, message: String },
    /// Refused; `status` is the HTTP status it would have had alone.
    Rejected {
        id: Option<Uuid>,
        status: u16,
        message: String,
    },
}

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
    if StatYear::containing(v.started_at.date_naive()) != StatYear(v.stat_year) {
        return invalid(
            "stat_year",
            format!("走访日期不在{}统计年度内", v.stat_year),
        );
    }
    if v.lines.is_empty() {
        return invalid("lines", "至少应核实一项补贴".into());
    }
    let due = store.entitlement_ids(v.household_id, v.stat_year).await?;
    for (i, w) in v.lines.windows(2).enumerate() {
        if w[0].entitlement_id == w[1].entitlement_id {
            return invalid(&format!("lines[{}]", i + 1), "同一项补贴重复核实".into());
        }
    }
    for (i, l) in v.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let Some(&(_, expected)) = due.iter().find(|(id, _)| *id == l.entitlement_id) else {
            return invalid(&field("entitlement_id"), "不是该户本年度的应发补贴".into());
        };
        if l.status.has_receipt() {
            let Some(received) = l.received_fen.filter(|f| *f > 0) else {
                return invalid(&field("received_fen"), "请填写实际到账金额".into());
            };
            if l.received_on.is_none() {
                return invalid(&field("received_on"), "请填写到账日期".into());
            }
            if l.channel.is_none() {
                return invalid(&field("channel"), "请选择发放渠道".into());
            }
            if l.status == PaymentStatus::ReceivedInFull && received < expected {
                return invalid(
                    &field("status"),
                    "实际金额少于应发金额，应为“部分到账”".into(),
                );
            }
            if l.status == PaymentStatus::ReceivedInPart && received >= expected {
                return invalid(
                    &field("status"),
                    "实际金额不少于应发金额，应为“足额到账”".into(),
                );
            }
        } else if l.received_fen.is_some_and(|f| f != 0) {
            return invalid(&field("received_fen"), "未到账时不应填写金额".into());
        }
        if l.status.is_short() && l.reason.is_none() {
            return invalid(&field("reason"), "请选择未足额到账的原因".into());
        }
    }
    let s = &v.signature;
    if s.signer_name.trim().is_empty() {
        return invalid("signature.signer_name", "请填写签字人姓名".into());
    }
    if s.signer_relation.trim().is_empty() {
        return invalid("signature.signer_relation", "请填写签字人与户主关系".into());
    }
    let needs_reason = s.thumbprint || s.signer_relation.trim() != "户主";
    if needs_reason
        && s.proxy_reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        return invalid("signature.proxy_reason", "代签或按手印时须说明原因".into());
    }
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
