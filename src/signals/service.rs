//! Computing each delivered visit's signals, the supervisors' queue and
//! their decisions (server only).

use chrono::{Timelike, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::{self, Caller, Reach};
use crate::areas::AreaCode;
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::server::db::{DbResult, FoundSignal, SignalReview, SignalWrite, Store};
use crate::signals::{
    Fix, SignalItem, SignalKind, SignalQueue, SignalState, Thresholds, VisitFacts, fingerprint,
    signals, strokes,
};
use crate::subsidies::china_time;
use crate::visits::hex;

/// Visits one round computes.
const AT_ONCE: i64 = 100;
/// How often an idle worker looks for visits delivered to any instance.
const IDLE_POLL: std::time::Duration = std::time::Duration::from_millis(500);
/// The share of the time the worker takes while visits are arriving.
const BUSY_SHARE_PERCENT: u32 = 10;
/// The longest it yields after a round, however long the round took.
const MAX_YIELD: std::time::Duration = std::time::Duration::from_secs(30);
/// Signals a queue page lists.
const QUEUE_LIMIT: i64 = 200;
/// A decision's comment, in characters.
const MAX_COMMENT_CHARS: usize = 500;

/// The thresholds in force: the stored ones over the defaults.
pub async fn thresholds(store: &dyn Store) -> DbResult<Thresholds> {
    let mut t = Thresholds::default();
    for (name, value) in store.signal_thresholds().await? {
        // A stored value out of range (written around the app) is ignored.
        let _ = t.set(&name, value);
    }
    Ok(t)
}

/// Computes the signals of the visits waiting for them; answers how many.
pub async fn compute_once(store: &dyn Store) -> DbResult<usize> {
    let waiting = store.signal_work(AT_ONCE).await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let t = thresholds(store).await?;
    let income_lines = store.income_thresholds().await?;
    for visit_id in &waiting {
        compute(store, *visit_id, &t, &income_lines).await?;
    }
    Ok(waiting.len())
}

/// Computes until nothing waits (tests, the command line).
pub async fn compute_until_idle(store: &dyn Store) -> DbResult<usize> {
    let mut total = 0;
    loop {
        match compute_once(store).await? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// The worker every instance runs. Two instances computing one visit
/// store its signals once (they are keyed by visit and kind).
pub async fn compute_forever(store: std::sync::Arc<dyn Store>) {
    loop {
        let round = std::time::Instant::now();
        match compute_once(store.as_ref()).await {
            Ok(0) => tokio::time::sleep(IDLE_POLL).await,
            Ok(_) => {
                // Visits still arriving (their accounts wait in the derived
                // work queue): yield the rest of the time to them. Signals
                // feed a supervisor's queue and can wait; sync cannot.
                let arriving = store.income_backlog().await.is_ok_and(|b| b.pending > 0);
                if arriving {
                    let rest = round.elapsed() * (100 - BUSY_SHARE_PERCENT) / BUSY_SHARE_PERCENT;
                    tokio::time::sleep(rest.min(MAX_YIELD)).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "computing visit signals failed; retried later");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

async fn compute(
    store: &dyn Store,
    visit_id: Uuid,
    t: &Thresholds,
    income_lines: &[(i32, crate::subsidies::Fen)],
) -> DbResult<()> {
    let at = Utc::now();
    let Some(stored) = store.visit(visit_id).await? else {
        return Ok(());
    };
    let v = &stored.visit;
    let household = store.household(v.household_id).await?;
    let lines = strokes(&v.signature.strokes_json);
    let points: usize = lines.iter().map(Vec::len).sum();
    // Too few points to tell one hand from another: no print.
    let signature_mark = (points as i64 >= t.min_points)
        .then(|| fingerprint(&lines))
        .flatten();
    // The visit's photo and each evidence photo: a passbook page
    // photographed once and shown for two households is the same photo.
    let photo_marks: Vec<String> = v
        .photo_base64
        .iter()
        .chain(v.evidence.iter().map(|e| &e.photo_base64))
        .map(|p| hex(&Sha256::digest(p.as_bytes())))
        .collect();
    let ctx = store
        .signal_context(visit_id, signature_mark.as_deref(), &photo_marks)
        .await?;
    let fix_of = |(lat_e6, lon_e6): (i64, i64)| Fix { lat_e6, lon_e6 };
    let (location, refused) = match v.location {
        crate::visits::Location::Fix {
            lat_e6,
            lon_e6,
            accuracy_m,
        } => (
            Some((fix_of((lat_e6, lon_e6)), i64::from(accuracy_m))),
            false,
        ),
        crate::visits::Location::Refused => (None, true),
        crate::visits::Location::Unavailable => (None, false),
    };
    let facts = VisitFacts {
        minutes: (v.ended_at - v.started_at).num_minutes(),
        location,
        refused_location: refused,
        hour: i64::from(china_time(v.started_at).hour()),
        signature_points: points as i64,
        village_fixes: ctx.village_fixes.iter().copied().map(fix_of).collect(),
        worker_nearby: ctx
            .worker_nearby
            .iter()
            .map(|(when, village, fix)| {
                (
                    (*when - v.started_at).num_minutes(),
                    village.clone(),
                    fix.map(fix_of),
                )
            })
            .collect(),
        village: household
            .as_ref()
            .map(|h| h.village.as_str().to_owned())
            .unwrap_or_default(),
        same_signature: ctx.same_signature.len(),
        same_photo: ctx.same_photo.len(),
        members: household.as_ref().map_or(0, |h| h.members.len() as i64),
        confirmed_size: v.household_size.map(i64::from),
        net_fen: ctx.net_fen,
        threshold_fen: crate::income::threshold_for(income_lines, v.stat_year).map(|f| f.0),
    };
    let mut found: Vec<FoundSignal> = signals(&facts, t)
        .into_iter()
        .map(|(kind, detail)| FoundSignal {
            visit_id,
            kind: kind.as_str(),
            detail,
        })
        .collect();
    // The earlier visits matched are flagged too: the pair is the signal.
    for (others, kind) in [
        (&ctx.same_signature, SignalKind::SameSignature),
        (&ctx.same_photo, SignalKind::SamePhoto),
    ] {
        found.extend(others.iter().map(|other| FoundSignal {
            visit_id: *other,
            kind: kind.as_str(),
            detail: format!(
                "{}（与后来的走访 {} 相同）",
                kind.label(),
                crate::visits::receipt_code(&visit_id.simple().to_string())
            ),
        }));
    }
    let mut marks = Vec::new();
    if let Some(m) = signature_mark {
        marks.push(("signature", m));
    }
    marks.extend(photo_marks.into_iter().map(|m| ("photo", m)));
    store
        .save_signals(&SignalWrite {
            visit_id,
            signals: found,
            marks,
            at,
        })
        .await
}

/// An area's open signals (or those cleared or sent for review), for the
/// supervisors above the field whose area holds it.
pub async fn queue(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    state: &str,
) -> AppResult<SignalQueue> {
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    access::area(store, caller, &code, Reach::Supervise, "signals").await?;
    let state = SignalState::parse(state).unwrap_or(SignalState::Open);
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;
    let counts = store
        .signal_counts(&code)
        .await?
        .into_iter()
        .filter_map(|(k, n)| Some((SignalKind::parse(&k)?, n)))
        .collect();
    let items = store
        .signal_queue(&code, state.as_str(), QUEUE_LIMIT)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(SignalItem {
                visit_id: r.visit_id,
                kind: SignalKind::parse(&r.kind)?,
                detail: r.detail,
                household_id: r.household_id,
                household_number: r.household_number,
                head_name: r.head_name,
                village: r.village_name,
                worker: r.worker_name,
                visit_at: r.visit_at,
                state: SignalState::parse(&r.state)?,
            })
        })
        .collect();
    Ok(SignalQueue {
        area,
        counts,
        items,
        thresholds: thresholds(store).await?,
        may_edit_thresholds: caller.actor.role == Role::ProvinceAdmin,
    })
}

/// A supervisor's decision on a signal: 已核实无误 (cleared) or 需复核
/// (sent for review, opening a discrepancy for the visit). Kept with its
/// comment; a later decision can change an earlier one.
pub async fn review(
    store: &dyn Store,
    caller: &Caller,
    visit_id: Uuid,
    kind: &str,
    state: &str,
    comment: &str,
) -> AppResult<()> {
    let kind = SignalKind::parse(kind).ok_or_else(|| AppError::validation("信号", "未知的信号"))?;
    let state = match SignalState::parse(state) {
        Some(s @ (SignalState::Cleared | SignalState::NeedsReview)) => s,
        _ => {
            return Err(AppError::validation(
                "核实结果",
                "请选择“已核实无误”或“需复核”",
            ));
        }
    };
    let comment = comment.trim();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::validation(
            "说明",
            format!("最多 {MAX_COMMENT_CHARS} 个字"),
        ));
    }
    if comment.is_empty() {
        return Err(AppError::validation("说明", "请写明核实的情况"));
    }
    // Above the field before anything is looked up: a field worker's
    // refusal says nothing about whether the signal exists.
    access::area(
        store,
        caller,
        &caller.actor.area,
        Reach::Supervise,
        "signal_review",
    )
    .await?;
    let target = visit_id.to_string();
    let Some(village) = store.signal_village(visit_id, kind.as_str()).await? else {
        return access::deny(store, caller, "signal_review", &target).await;
    };
    let village = AreaCode::parse(&village).map_err(|_| AppError::Internal)?;
    access::area(store, caller, &village, Reach::Supervise, "signal_review").await?;
    store
        .review_signal(&SignalReview {
            id: Uuid::now_v7(),
            visit_id,
            kind: kind.as_str().to_owned(),
            state: state.as_str(),
            comment: comment.to_owned(),
            reviewer_id: caller.actor.user_id,
            discrepancy_id: (state == SignalState::NeedsReview).then(Uuid::now_v7),
            at: Utc::now(),
        })
        .await?;
    Ok(())
}

/// Sets one threshold (province admin only).
pub async fn set_threshold(
    store: &dyn Store,
    caller: &Caller,
    name: &str,
    value: i64,
) -> AppResult<Thresholds> {
    if caller.actor.role != Role::ProvinceAdmin {
        return access::deny_role(store, caller, "signal_thresholds", name).await;
    }
    let mut t = thresholds(store).await?;
    t.set(name, value)
        .map_err(|m| AppError::validation("阈值", m))?;
    store
        .set_signal_threshold(name, value, caller.actor.user_id, Utc::now())
        .await?;
    Ok(t)
}
