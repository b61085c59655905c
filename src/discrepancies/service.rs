//! The queue over the store: scope checks, the rules of each step, and the
//! wire views.

use std::collections::HashMap;

use chrono::Utc;
use uuid::Uuid;

use crate::access::{self, Caller, Reach};
use crate::areas::{AreaCode, AreaLevel};
use crate::discrepancies::{
    Assignee, ConflictCopies, DiscrepancyAction, DiscrepancyDetail, DiscrepancyEntry,
    DiscrepancyItem, DiscrepancyQueue, MAX_NOTE_CHARS, QUEUE_PAGE_SIZE, QueueCounts, QueueFilter,
    Resolution,
};
use crate::error::{AppError, AppResult};
use crate::server::db::{
    DiscrepancyEvent, DiscrepancyQuery, DiscrepancyRecord, DiscrepancyStatus, Store,
};
use crate::subsidies::{Fen, china_date, china_time};

/// The part of an area's queue under `filter`, one page, newest first.
pub async fn queue(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    filter: QueueFilter,
    page: u32,
) -> AppResult<DiscrepancyQueue> {
    let code = supervised_area(store, caller, code).await?;
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;
    let breadcrumbs = crate::areas::service::breadcrumbs(store, &caller.actor.area, &code).await?;
    let counts = counts(store, caller, &code).await?;
    let query = DiscrepancyQuery {
        scope: code,
        closed: filter == QueueFilter::Closed,
        assignee_id: (filter == QueueFilter::Mine).then_some(caller.actor.user_id),
        limit: QUEUE_PAGE_SIZE,
        offset: page.saturating_mul(QUEUE_PAGE_SIZE),
    };
    let (records, total) = store.discrepancies(&query).await?;
    Ok(DiscrepancyQueue {
        area,
        breadcrumbs,
        filter,
        counts,
        items: records.iter().map(item_view).collect(),
        total,
        page,
        page_size: QUEUE_PAGE_SIZE,
    })
}

/// How many items of the area are open: the figure on the area page.
pub async fn open_count(store: &dyn Store, caller: &Caller, code: &str) -> AppResult<i64> {
    let code = supervised_area(store, caller, code).await?;
    Ok(counts(store, caller, &code).await?.open.total())
}

/// One item with its history, the users it may be given to and the queue
/// to return to.
pub async fn detail(store: &dyn Store, caller: &Caller, id: Uuid) -> AppResult<DiscrepancyDetail> {
    let record = access::discrepancy(store, caller, id, "discrepancy").await?;
    let village = &record.village.code;
    let mut names = Names::default();
    let mut history = Vec::new();
    for e in store.discrepancy_events(id).await? {
        let assignee_name = match e.assignee_id {
            Some(a) => Some(names.of(store, a).await?),
            None => None,
        };
        history.push(DiscrepancyEntry {
            action: e.action,
            actor_name: names.of(store, e.actor_id).await?,
            assignee_name,
            resolution: e.resolution,
            note: e.note,
            at_local: local(e.at),
        });
    }
    let assignees = store
        .active_users_in(&assignable_areas(caller, village))
        .await?
        .into_iter()
        .map(|u| Assignee {
            id: u.id,
            name: u.display_name,
            role: u.role,
        })
        .collect();
    let township = std::iter::successors(Some(village.clone()), AreaCode::parent)
        .find(|a| a.level() == AreaLevel::Township)
        .filter(|t| caller.actor.area.contains(t))
        .unwrap_or_else(|| caller.actor.area.clone());
    Ok(DiscrepancyDetail {
        item: item_view(&record),
        conflict: record.conflict.as_ref().map(|c| ConflictCopies {
            stored_hash: c.stored_hash.clone(),
            stored_at_local: local(c.stored_at),
            other_hash: c.other_hash.clone(),
            other_at_local: local(c.other_at),
            other_worker: c.other_worker_name.clone(),
        }),
        history,
        assignee_id: record.status.assignee_id,
        assignees,
        me: caller.actor.user_id,
        queue: township,
    })
}

/// What a supervisor asks to do with an item, as typed into the form.
#[derive(Debug, Clone)]
pub enum Step {
    Assign { assignee_id: Option<String> },
    Note,
    Close { resolution: Option<String> },
    Reopen,
}

/// Adds a step to an item's history and moves its state. Input is checked
/// first (nothing is written for bad input), then the caller's scope, then
/// that the step fits where the item stands.
pub async fn act(
    store: &dyn Store,
    caller: &Caller,
    id: &str,
    step: Step,
    note: Option<&str>,
) -> AppResult<()> {
    let id =
        Uuid::parse_str(id.trim()).map_err(|_| AppError::validation("id", "事项编号格式错误"))?;
    let note = note.map(str::trim).unwrap_or_default();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::validation(
            "note",
            format!("说明不能超过{MAX_NOTE_CHARS}字"),
        ));
    }
    let action = match &step {
        Step::Assign { .. } => DiscrepancyAction::Assign,
        Step::Note => DiscrepancyAction::Note,
        Step::Close { .. } => DiscrepancyAction::Close,
        Step::Reopen => DiscrepancyAction::Reopen,
    };
    let needs_note = match action {
        DiscrepancyAction::Assign => None,
        DiscrepancyAction::Note => Some("请填写备注内容"),
        DiscrepancyAction::Close => Some("请写明处理情况"),
        DiscrepancyAction::Reopen => Some("请写明重新打开的原因"),
    };
    if let Some(message) = needs_note
        && note.is_empty()
    {
        return Err(AppError::validation("note", message));
    }
    let resolution = match &step {
        Step::Close { resolution } => {
            let text = resolution.as_deref().map(str::trim).unwrap_or_default();
            if text.is_empty() {
                return Err(AppError::validation("resolution", "请选择处理结果"));
            }
            Some(Resolution::parse(text).ok_or_else(|| {
                AppError::validation("resolution", format!("未知的处理结果“{text}”"))
            })?)
        }
        _ => None,
    };
    let assignee_id = match &step {
        Step::Assign { assignee_id } => Some(
            assignee_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| AppError::validation("assignee_id", "请选择指派对象"))
                .and_then(|s| {
                    Uuid::parse_str(s)
                        .map_err(|_| AppError::validation("assignee_id", "指派对象格式错误"))
                })?,
        ),
        _ => None,
    };

    let record = access::discrepancy(store, caller, id, "discrepancy").await?;
    let was = &record.status;
    let now = Utc::now();
    let to = match action {
        DiscrepancyAction::Assign | DiscrepancyAction::Close if was.closed => {
            return Err(AppError::Conflict(
                "该事项已结案，如需继续处理请先重新打开".into(),
            ));
        }
        DiscrepancyAction::Reopen if !was.closed => {
            return Err(AppError::Conflict("该事项尚未结案，无需重新打开".into()));
        }
        DiscrepancyAction::Assign => DiscrepancyStatus {
            assignee_id,
            ..was.clone()
        },
        DiscrepancyAction::Note => was.clone(),
        DiscrepancyAction::Close => DiscrepancyStatus {
            closed: true,
            resolution,
            closed_at: Some(now),
            ..was.clone()
        },
        DiscrepancyAction::Reopen => DiscrepancyStatus {
            closed: false,
            resolution: None,
            closed_at: None,
            ..was.clone()
        },
    };
    if let Some(assignee) = assignee_id {
        let allowed = assignable_areas(caller, &record.village.code);
        let user = store.user_by_id(assignee).await?;
        if !user.is_some_and(|u| u.active && allowed.contains(&u.area)) {
            return Err(AppError::validation(
                "assignee_id",
                "只能指派给本户所在区域在岗的干部",
            ));
        }
    }
    let event = DiscrepancyEvent {
        id: Uuid::now_v7(),
        discrepancy_id: id,
        action,
        actor_id: caller.actor.user_id,
        assignee_id,
        resolution,
        note: note.to_owned(),
        at: now,
    };
    match store
        .record_discrepancy_event(&event, was.closed, &to)
        .await
    {
        Err(crate::server::db::DbError::Conflict { .. }) => Err(AppError::Conflict(
            "该事项刚被他人处理，请刷新后再试".into(),
        )),
        other => Ok(other?),
    }
}

/// The area named by `code` if the caller supervises it.
async fn supervised_area(store: &dyn Store, caller: &Caller, code: &str) -> AppResult<AreaCode> {
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("code", m))?;
    access::area(store, caller, &code, Reach::Supervise, "discrepancy_queue").await?;
    Ok(code)
}

async fn counts(store: &dyn Store, caller: &Caller, code: &AreaCode) -> AppResult<QueueCounts> {
    let mut counts = QueueCounts::default();
    for c in store.discrepancy_counts(code, caller.actor.user_id).await? {
        if c.closed {
            counts.closed.add(c.kind, c.n);
        } else {
            counts.open.add(c.kind, c.n);
            if c.mine {
                counts.mine.add(c.kind, c.n);
            }
        }
    }
    Ok(counts)
}

/// The areas whose users may take an item of `village`: the village and
/// the areas above it, as far up as the caller's own (a township supervisor
/// does not hand work to the county).
fn assignable_areas(caller: &Caller, village: &AreaCode) -> Vec<AreaCode> {
    std::iter::successors(Some(village.clone()), AreaCode::parent)
        .filter(|a| caller.actor.area.contains(a))
        .collect()
}

fn item_view(r: &DiscrepancyRecord) -> DiscrepancyItem {
    use crate::discrepancies::DiscrepancyKind;
    let reason = if matches!(
        r.kind,
        DiscrepancyKind::Dispute | DiscrepancyKind::SuspiciousVisit
    ) {
        r.reason_text.clone()
    } else {
        shortfall_reason(r)
    };
    DiscrepancyItem {
        id: r.id,
        kind: r.kind,
        household_id: r.household_id,
        household_number: r.household_number.clone(),
        head_name: r.head_name.clone(),
        village: r.village.clone(),
        item_name: r.item_name.clone(),
        // Shown as every figure counts a stored amount (`Fen::counted`).
        expected: r.expected_fen.map(Fen::counted),
        paid: r.paid_fen.map(Fen::counted),
        received: r.received_fen.map(Fen::counted),
        expected_date: r.expected_date,
        received_on: r.received_on,
        reason,
        worker_name: r.worker_name.clone(),
        visit_date: r.visit_started_at.map(china_date),
        age_days: (china_date(Utc::now()) - china_date(r.reported_at))
            .num_days()
            .max(0),
        assignee_name: r.assignee_name.clone(),
        closed: r.status.closed,
        resolution: r.status.resolution,
    }
}

/// A shortfall's reason as chosen and in the household's own words.
fn shortfall_reason(r: &DiscrepancyRecord) -> Option<String> {
    r.reason.map(|reason| {
        match r
            .reason_text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(text) => format!("{}：{text}", reason.label()),
            None => reason.label().to_owned(),
        }
    })
}

fn local(at: chrono::DateTime<Utc>) -> String {
    china_time(at).format("%Y-%m-%d %H:%M").to_string()
}

/// Users by name, each read once.
#[derive(Default)]
struct Names(HashMap<Uuid, String>);

impl Names {
    async fn of(&mut self, store: &dyn Store, id: Uuid) -> AppResult<String> {
        if let Some(name) = self.0.get(&id) {
            return Ok(name.clone());
        }
        let name = store
            .user_by_id(id)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        self.0.insert(id, name.clone());
        Ok(name)
    }
}
