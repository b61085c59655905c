//! Looking up a receipt and disputing it (server only). No sign-in: the
//! receipt code and the signer's last four ID characters are the key, so
//! every answer is built to tell a stranger nothing.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::auth::throttle::{self, Limit};
use crate::error::{AppError, AppResult};
use crate::ledger::RecordKind;
use crate::receipts::{
    DisputeReason, DisputeSummary, MAX_DISPUTE_CHARS, MAX_DISPUTES, ReceiptLine, ReceiptView,
    mask_name, normalize_code, normalize_digits,
};
use crate::server::db::{NewDispute, ReceiptLookup, Store};
use crate::subsidies::china_date;

/// Wrong tries of one code before each further try waits (1 s, 2 s, 4 s …
/// up to 15 min): a household that mistypes is not stopped, a guesser of
/// the four characters is.
const PER_CODE: Limit = Limit { free: 5 };
/// Wrong tries from one address (or IPv6 /64): codes cannot be walked.
const PER_ADDRESS: Limit = Limit { free: 20 };
/// How long a found lookup's token lets its browser read and dispute.
pub const TOKEN_LIFETIME: Duration = Duration::minutes(30);
/// The one answer to a wrong code and to wrong digits alike.
const NOT_MATCHED: &str = "回执码或身份证后4位不对，请核对后再试";

fn keys(code: &str, address: &str) -> [String; 2] {
    [
        format!("receipt-code:{code}"),
        format!("receipt-addr:{}", throttle::network(address)),
    ]
}

/// How long a lookup must still wait, if at all.
fn wait(counts: &[crate::server::db::FailureCount], now: DateTime<Utc>) -> Option<u64> {
    counts
        .iter()
        .filter(|c| now - c.last_failure_at < throttle::FORGET_AFTER)
        .filter_map(|c| {
            let limit = if c.key.starts_with("receipt-code:") {
                PER_CODE
            } else {
                PER_ADDRESS
            };
            let due = c.last_failure_at + throttle::penalty(c.failures, limit);
            (due - now).to_std().ok().filter(|d| !d.is_zero())
        })
        .max()
        .map(|d| d.as_secs().max(1))
}

/// Checks a code and the signer's last four ID characters; answers a
/// token for reading (and disputing) the receipt for [`TOKEN_LIFETIME`].
/// Every try is logged, found or not.
pub async fn open(
    store: &dyn Store,
    code: &str,
    digits: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let code = normalize_code(code)
        .ok_or_else(|| AppError::validation("回执码", "应为8位字母和数字，如 A1B2-C3D4"))?;
    let digits = normalize_digits(digits)
        .ok_or_else(|| AppError::validation("身份证后4位", "请输入签字人身份证号的最后4位"))?;
    let address = address.unwrap_or("-");
    let keys = keys(&code, address);
    let mut lookup = ReceiptLookup {
        id: Uuid::now_v7(),
        token_hash: None,
        code: code.clone(),
        visit_id: None,
        address: address.to_owned(),
        outcome: "throttled",
        at: now,
    };
    if let Some(secs) = wait(&store.sign_in_failures(&keys).await?, now) {
        store.log_receipt_lookup(&lookup).await?;
        return Err(AppError::Busy {
            message: format!("查询次数过多，请 {secs} 秒后再试"),
            retry_after_secs: secs,
        });
    }
    let candidates = store.visits_with_receipt(&code).await?;
    let mut found = None;
    for visit_id in &candidates {
        if signer_digits(store, *visit_id).await?.contains(&digits) {
            found = Some(*visit_id);
            break;
        }
    }
    let Some(visit_id) = found else {
        lookup.outcome = if candidates.is_empty() {
            "unknown_code"
        } else {
            "wrong_digits"
        };
        store
            .record_sign_in_failure(&keys, now, now - throttle::FORGET_AFTER)
            .await?;
        store.log_receipt_lookup(&lookup).await?;
        return Err(AppError::validation("回执码", NOT_MATCHED));
    };
    let token = crate::auth::service::new_token();
    lookup.outcome = "found";
    lookup.visit_id = Some(visit_id);
    lookup.token_hash = Some(crate::auth::service::token_hash(&token));
    store.log_receipt_lookup(&lookup).await?;
    Ok(token)
}

/// The last four characters the visit's signer proves themself with: the
/// listed member who signed, or (a signer not on the list, such as a
/// relative signing for the household) the household head's.
async fn signer_digits(store: &dyn Store, visit_id: Uuid) -> AppResult<Vec<String>> {
    let Some(stored) = store.visit(visit_id).await? else {
        return Ok(Vec::new());
    };
    let Some(household) = store.household(stored.visit.household_id).await? else {
        return Ok(Vec::new());
    };
    let signer = stored.visit.signature.signer_name.trim();
    let by_name: Vec<_> = household
        .members
        .iter()
        .filter(|m| m.name.trim() == signer)
        .collect();
    let members = if by_name.is_empty() {
        household
            .members
            .iter()
            .filter(|m| m.relation.contains("户主") || m.name.trim() == household.head_name.trim())
            .collect()
    } else {
        by_name
    };
    Ok(members
        .iter()
        .filter_map(|m| {
            let id: Vec<char> = m.id_number.trim().chars().collect();
            (id.len() >= 4).then(|| {
                id[id.len() - 4..]
                    .iter()
                    .collect::<String>()
                    .to_ascii_uppercase()
            })
        })
        .collect())
}

/// The visit a live token opened.
async fn opened(store: &dyn Store, token: &str, now: DateTime<Utc>) -> AppResult<(Uuid, Uuid)> {
    let hash = crate::auth::service::token_hash(token.trim());
    store
        .receipt_lookup(&hash, now - TOKEN_LIFETIME)
        .await?
        .ok_or_else(|| AppError::validation("回执", "查询已过期，请重新输入回执码和身份证后4位"))
}

/// What the household confirmed, masked, with whether it is unaltered.
pub async fn view(store: &dyn Store, token: &str, now: DateTime<Utc>) -> AppResult<ReceiptView> {
    let (_, visit_id) = opened(store, token, now).await?;
    let stored = store.visit(visit_id).await?.ok_or(AppError::NotFound)?;
    let v = &stored.visit;
    let household = store
        .household(v.household_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let village = store.area(&household.village).await?;
    let worker = store.user_by_id(stored.worker_id).await?;
    let due = store.entitlements(v.household_id, v.stat_year).await?;
    let lines = v
        .lines
        .iter()
        .map(|l| {
            let row = due.iter().find(|e| e.entitlement.id == l.entitlement_id);
            ReceiptLine {
                item: row.map_or_else(String::new, |e| e.item.name.clone()),
                due_fen: row.map_or(0, |e| e.entitlement.expected_fen),
                status: l.status,
                received_fen: l.received_fen,
                received_on: l.received_on,
            }
        })
        .collect();
    let disputes = store
        .disputes_of_visit(visit_id)
        .await?
        .into_iter()
        .filter_map(|d| {
            Some(DisputeSummary {
                reason: DisputeReason::parse(&d.reason)?,
                at: d.at,
                closed: d.closed,
            })
        })
        .collect();
    Ok(ReceiptView {
        code: crate::visits::receipt_code(&v.signature.content_hash),
        visited_on: china_date(v.started_at),
        stat_year: v.stat_year,
        village: village.map(|a| a.name).unwrap_or_default(),
        worker: worker.map(|u| u.display_name).unwrap_or_default(),
        head: mask_name(&household.head_name),
        signer: mask_name(&v.signature.signer_name),
        signer_relation: v.signature.signer_relation.clone(),
        thumbprint: v.signature.thumbprint,
        lines,
        seal: store.record_seal(RecordKind::Visit, visit_id).await?.seal(),
        disputes,
    })
}

/// Opens a discrepancy for the household's township with what the
/// household says is wrong; answers its reference number.
pub async fn dispute(
    store: &dyn Store,
    token: &str,
    reason: &str,
    details: &str,
    phone: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let (lookup_id, visit_id) = opened(store, token, now).await?;
    let reason = DisputeReason::parse(reason)
        .ok_or_else(|| AppError::validation("异议", "请选择哪里不对"))?;
    let details = details.trim();
    if details.chars().count() > MAX_DISPUTE_CHARS {
        return Err(AppError::validation(
            "说明",
            format!("最多 {MAX_DISPUTE_CHARS} 个字"),
        ));
    }
    if reason == DisputeReason::Other && details.is_empty() {
        return Err(AppError::validation("说明", "选“其他”时请写明哪里不对"));
    }
    let phone = match phone.trim() {
        "" => None,
        typed => Some(
            crate::households::id_number::phone_as_typed(typed)
                .ok_or_else(|| AppError::validation("联系电话", "请填写数字，或不填"))?
                .to_owned(),
        ),
    };
    if store.disputes_of_visit(visit_id).await?.len() >= MAX_DISPUTES {
        return Err(AppError::Conflict(
            "这份回执的异议已经提交，乡镇会尽快核实处理".into(),
        ));
    }
    let id = Uuid::now_v7();
    store
        .open_dispute(&NewDispute {
            discrepancy_id: id,
            lookup_id,
            visit_id,
            reason,
            details: details.to_owned(),
            phone,
            at: now,
        })
        .await?;
    Ok(crate::visits::receipt_code(&id.simple().to_string()))
}
