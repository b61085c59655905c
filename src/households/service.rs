//! Household rules: scope checks and masking happen here, on every read.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::access::{self, Caller, Reach, deny_role};
use crate::areas::{Area, AreaCode};
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::field::{RecordedIncome, Roster, RosterHousehold, YearVisit};
use crate::households::id_number::{IdNumber, mask_id_number, mask_phone};
use crate::households::{
    Assigned, EntitlementView, HouseholdDetail, HouseholdPage, HouseholdSummary, MemberView,
    VisitIncomeView, VisitLineView, VisitView,
};
use crate::income::IncomeFlag;
use crate::plans::Measure;
use crate::reports::PaymentState;
use crate::server::db::{
    AssignTarget, FlagQuery, HouseholdQuery, HouseholdRecord, PaymentQuery, Store,
};
use crate::subsidies::{Fen, StatYear, china_date};
use crate::text::zh;
use crate::visits::{EvidenceFor, ReviewEntry, ReviewState};

pub const PAGE_SIZE: u32 = 30;

/// What a household list request asks for.
#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    pub search: Option<String>,
    pub village: Option<String>,
    /// A dispatch table cell: `paid` (`due`, `yes`, `no`) of `item` (or
    /// every item) as of `as_of` (default today).
    pub item: Option<String>,
    pub paid: Option<String>,
    pub as_of: Option<String>,
    /// A risk count: households with this signal (`any` for any signal).
    pub flag: Option<String>,
    pub page: u32,
}

pub async fn list(
    store: &dyn Store,
    caller: &Caller,
    filter: HouseholdFilter,
) -> AppResult<HouseholdPage> {
    let actor = &caller.actor;
    let village = match filter
        .village
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(v) => {
            let code = AreaCode::parse(v).map_err(|m| AppError::validation("村", m))?;
            access::area(store, caller, &code, Reach::See, "list_households").await?;
            Some(code)
        }
    };
    let (payment, payment_note) = match payment_filter(store, &filter).await? {
        Some((query, note)) => (Some(query), Some(note)),
        None => (None, None),
    };
    let (flags, flag_note) = match flag_filter(&filter)? {
        Some((query, note)) => (Some(query), Some(note)),
        None => (None, None),
    };
    let query = HouseholdQuery {
        scope: actor.area.clone(),
        worker_id: (actor.role == Role::FieldWorker).then_some(actor.user_id),
        village,
        search: filter.search.map(|s| s.chars().take(50).collect()),
        payment,
        flags,
        limit: PAGE_SIZE,
        offset: filter.page.saturating_mul(PAGE_SIZE),
    };
    let (rows, total) = store.list_households(&query).await?;
    Ok(HouseholdPage {
        households: rows.into_iter().map(HouseholdSummary::from).collect(),
        total,
        page: filter.page,
        page_size: PAGE_SIZE,
        payment_note: match (payment_note, flag_note) {
            (Some(p), Some(f)) => Some(format!("{p} · {f}")),
            (p, f) => p.or(f),
        },
    })
}

/// The risk filter of a drill-down from the plan and risk table, with the
/// line that tells the reader what the list holds.
fn flag_filter(filter: &HouseholdFilter) -> AppResult<Option<(FlagQuery, String)>> {
    let Some(flag) = filter.flag.as_deref().filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let (bits, label) = if flag == crate::income::ANY_FLAG {
        let all = IncomeFlag::ALL.iter().map(|f| f.bit()).sum();
        (all, zh::ANY_FLAG)
    } else {
        let f = IncomeFlag::parse(flag)
            .ok_or_else(|| AppError::validation("flag", format!("未知的风险提示“{flag}”")))?;
        (f.bit(), f.label())
    };
    let year = StatYear::containing(china_date(chrono::Utc::now())).0;
    Ok(Some((
        FlagQuery {
            stat_year: year,
            bits,
        },
        format!(
            "{}{label}（{year}{}）",
            zh::FLAG_FILTER_NOTE,
            zh::YEAR_SUFFIX
        ),
    )))
}

/// The payment filter of a drill-down from the dispatch table, with the
/// line that tells the reader what the list holds.
async fn payment_filter(
    store: &dyn Store,
    filter: &HouseholdFilter,
) -> AppResult<Option<(PaymentQuery, String)>> {
    let Some(paid) = filter.paid.as_deref().filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let state = PaymentState::parse(paid).ok_or_else(|| {
        AppError::validation("paid", format!("“{paid}”应为 due、yes、full、part 或 no"))
    })?;
    let today = china_date(chrono::Utc::now());
    let as_of = crate::reports::service::parse_as_of(filter.as_of.as_deref(), today)?;
    let item = match filter.item.as_deref().filter(|i| !i.is_empty()) {
        None => None,
        Some(code) => Some(
            store
                .subsidy_items()
                .await?
                .into_iter()
                .find(|i| i.code == code)
                .ok_or_else(|| {
                    AppError::validation("补贴项目", format!("补贴目录中没有“{code}”"))
                })?,
        ),
    };
    let note = format!(
        "{} · {} · {} {as_of}",
        item.as_ref()
            .map_or(crate::text::zh::ALL_ITEMS, |i| i.name.as_str()),
        state.label(),
        crate::text::zh::AS_OF,
    );
    let query = PaymentQuery {
        stat_year: StatYear::containing(as_of).0,
        item_code: item.map(|i| i.code),
        cutoff: crate::reports::service::end_of_china_day(as_of),
        state,
    };
    Ok(Some((query, note)))
}

/// The villages a caller can filter their list by.
pub async fn villages(store: &dyn Store, caller: &Caller) -> AppResult<Vec<Area>> {
    let actor = &caller.actor;
    if actor.role == Role::FieldWorker {
        return Ok(store.villages_of_worker(actor.user_id).await?);
    }
    // Supervisors filter by the villages of their township; higher levels
    // navigate by area pages instead.
    if actor.area.level() == crate::areas::AreaLevel::Township {
        return Ok(store.child_areas(&actor.area).await?);
    }
    Ok(Vec::new())
}

pub async fn detail(
    store: &dyn Store,
    caller: &Caller,
    id: Uuid,
    today: NaiveDate,
) -> AppResult<HouseholdDetail> {
    let household = access::household(store, caller, id, Reach::See, "get_household").await?;
    let village = store
        .area(&household.village)
        .await?
        .ok_or(AppError::NotFound)?;
    let worker_name = match household.worker_id {
        Some(w) => store.user_by_id(w).await?.map(|u| {
            if u.active {
                u.display_name
            } else {
                format!("{}（{}）", u.display_name, zh::WORKER_DISABLED)
            }
        }),
        None => None,
    };
    let year = StatYear::containing(today);
    let entitlements = entitlement_views(store, id, year).await?;
    let members = member_views(&household, today);
    let with_signals = caller.actor.role != Role::FieldWorker;
    let (visits, visits_disagree) = visit_views(store, id, year, with_signals).await?;
    Ok(HouseholdDetail {
        visits,
        visits_disagree,
        may_review: caller.actor.role != Role::FieldWorker,
        summary: HouseholdSummary {
            id: household.id,
            number: household.number.clone(),
            head_name: household.head_name.clone(),
            category: household.category,
            relocated: household.relocated,
            village,
            size: household.members.len() as i64,
            // The page computes the account live (income card) and shows
            // its signals there; the stored ones may be hours old.
            flags: crate::income::Flags::default(),
        },
        phone_masked: household.phone.as_deref().map(mask_phone),
        worker_name,
        members,
        year,
        entitlements,
    })
}

/// What a field worker's phone downloads to work offline: every household
/// assigned to them, with members and this year's expected payments,
/// personal numbers masked. Only field workers have a roster.
pub async fn roster(
    store: &dyn Store,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Roster> {
    let actor = &caller.actor;
    if actor.role != Role::FieldWorker {
        return deny_role(store, caller, "download_roster", actor.area.as_str()).await;
    }
    let year = StatYear::containing(crate::subsidies::china_date(now));
    let query = HouseholdQuery {
        scope: actor.area.clone(),
        worker_id: Some(actor.user_id),
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: MAX_ROSTER,
        offset: 0,
    };
    let (rows, _) = store.list_households(&query).await?;
    // The plan and income parts: one query each for all the households.
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut measures: HashMap<Uuid, Vec<Measure>> = HashMap::new();
    for (household_id, m) in store.measures_of_households(&ids).await? {
        measures.entry(household_id).or_default().push(m);
    }
    let mut income: HashMap<Uuid, Vec<RecordedIncome>> = HashMap::new();
    for (household_id, r) in store.latest_income_of_households(&ids, year.0).await? {
        income.entry(household_id).or_default().push(r);
    }
    let sizes: HashMap<Uuid, i32> = store
        .confirmed_sizes_of_households(&ids, year.0)
        .await?
        .into_iter()
        .collect();
    let mut visits: HashMap<Uuid, Vec<YearVisit>> = HashMap::new();
    for v in store.year_visits_of_households(&ids, year.0).await? {
        visits.entry(v.household_id).or_default().push(v);
    }
    let mut households = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(record) = store.household(row.id).await? else {
            continue; // deleted between the two reads
        };
        households.push(RosterHousehold {
            phone_masked: record.phone.as_deref().map(mask_phone),
            members: member_views(&record, crate::subsidies::china_date(now)),
            entitlements: entitlement_views(store, row.id, year).await?,
            measures: measures.remove(&row.id).unwrap_or_default(),
            income: income.remove(&row.id).unwrap_or_default(),
            confirmed_size: sizes.get(&row.id).copied(),
            visits: visits.remove(&row.id).unwrap_or_default(),
            summary: HouseholdSummary::from(row),
        });
    }
    Ok(Roster {
        user_id: actor.user_id,
        stat_year: year.0,
        downloaded_at: now,
        households,
    })
}

/// More households than any one worker is ever assigned.
const MAX_ROSTER: u32 = 5_000;

async fn entitlement_views(
    store: &dyn Store,
    household_id: Uuid,
    year: StatYear,
) -> AppResult<Vec<EntitlementView>> {
    Ok(store
        .entitlements(household_id, year.0)
        .await?
        .into_iter()
        .map(|row| EntitlementView {
            id: row.entitlement.id,
            item_code: row.item.code,
            item_name: row.item.name,
            bucket: row.item.bucket,
            // Figures count stored amounts within the bound (`Fen::counted`).
            expected: Fen::counted(row.entitlement.expected_fen),
            expected_date: row.entitlement.expected_date,
            department: row.entitlement.department,
            channel: row.entitlement.channel,
        })
        .collect())
}

fn member_views(household: &HouseholdRecord, today: NaiveDate) -> Vec<MemberView> {
    household
        .members
        .iter()
        .map(|m| {
            // IDs are validated on the way in; one that no longer parses is
            // shown masked, without the derived fields.
            let parsed = IdNumber::parse(&m.id_number).ok();
            MemberView {
                name: m.name.clone(),
                relation: m.relation.clone(),
                id_number_masked: mask_id_number(&m.id_number),
                sex: parsed.as_ref().map(IdNumber::sex),
                age: parsed.as_ref().map(|id| id.age_on(today)),
                labour: m.labour,
                health: m.health,
            }
        })
        .collect()
}

/// The household's visits, newest first, and whether this year's visits
/// come from more than one worker; each with its signals of a made-up
/// visit for those who oversee (`with_signals`).
async fn visit_views(
    store: &dyn Store,
    household_id: Uuid,
    year: StatYear,
    with_signals: bool,
) -> AppResult<(Vec<VisitView>, bool)> {
    use std::collections::HashMap;
    let stored = store.visits_of_household(household_id).await?;
    let signals = if with_signals {
        store.signals_of_household(household_id).await?
    } else {
        Vec::new()
    };
    let reviews = store.reviews_of_household(household_id).await?;
    let mut items: HashMap<(i32, Uuid), (String, Fen)> = HashMap::new();
    // Workers and reviewers by name, each user read once.
    let mut names: HashMap<Uuid, String> = HashMap::new();
    let people = stored.iter().map(|s| s.worker_id);
    for id in people.chain(reviews.iter().map(|r| r.reviewer_id)) {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
            let name = store.user_by_id(id).await?.map(|u| u.display_name);
            slot.insert(name.unwrap_or_default());
        }
    }
    let mut views = Vec::with_capacity(stored.len());
    for s in &stored {
        let v = &s.visit;
        if !items.keys().any(|(y, _)| *y == v.stat_year) {
            for row in store.entitlements(household_id, v.stat_year).await? {
                items.insert(
                    (v.stat_year, row.entitlement.id),
                    (row.item.name, Fen::counted(row.entitlement.expected_fen)),
                );
            }
        }
        let worker_name = names.get(&s.worker_id).cloned().unwrap_or_default();
        let history: Vec<ReviewEntry> = reviews
            .iter()
            .filter(|r| r.visit_id == v.id)
            .map(|r| ReviewEntry {
                state: r.state,
                comment: r.comment.clone(),
                reviewer_name: names.get(&r.reviewer_id).cloned().unwrap_or_default(),
                at_local: crate::subsidies::china_time(r.at)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            })
            .collect();
        let evidence_of = |line: EvidenceFor| {
            v.evidence
                .iter()
                .any(|e| e.line == line)
                .then(|| crate::visits::evidence_href(v.id, line))
        };
        views.push(VisitView {
            signals: signals
                .iter()
                .filter(|(visit, ..)| *visit == v.id)
                .filter_map(|(_, kind, detail, state)| {
                    Some(crate::signals::SignalTag {
                        kind: crate::signals::SignalKind::parse(kind)?,
                        detail: detail.clone(),
                        state: crate::signals::SignalState::parse(state)?,
                    })
                })
                .collect(),
            review: history.last().map_or(ReviewState::Received, |r| r.state),
            reviews: history,
            id: v.id,
            worker_name,
            started_local: crate::subsidies::china_time(v.started_at)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            minutes: (v.ended_at - v.started_at).num_minutes(),
            met_with: v.met_with.clone(),
            notes: v.notes.clone(),
            location: v.location.clone(),
            signer_name: v.signature.signer_name.clone(),
            signer_relation: v.signature.signer_relation.clone(),
            thumbprint: v.signature.thumbprint,
            proxy_reason: v.signature.proxy_reason.clone(),
            receipt_code: crate::visits::receipt_code(&v.signature.content_hash),
            signature_data_url: format!("data:image/png;base64,{}", v.signature.png_base64),
            lines: v
                .lines
                .iter()
                .map(|l| {
                    let (item_name, expected) = items
                        .get(&(v.stat_year, l.entitlement_id))
                        .cloned()
                        .unwrap_or_else(|| ("（已删除的补贴项目）".to_owned(), Fen(0)));
                    VisitLineView {
                        item_name,
                        expected,
                        status: l.status,
                        received: l.received_fen.map(Fen::counted),
                        received_on: l.received_on,
                        channel: l.channel,
                        reason: l.reason,
                        reason_text: l.reason_text.clone(),
                        evidence_href: evidence_of(EvidenceFor::Payment(l.entitlement_id)),
                    }
                })
                .collect(),
            income: v
                .income
                .iter()
                .map(|l| VisitIncomeView {
                    kind: l.kind,
                    amount: Fen::counted(l.amount_fen),
                    note: l.note.clone(),
                    evidence_href: evidence_of(EvidenceFor::Income(l.kind)),
                })
                .collect(),
        });
    }
    let mut this_year: Vec<Uuid> = stored
        .iter()
        .filter(|s| s.visit.stat_year == year.0)
        .map(|s| s.worker_id)
        .collect();
    this_year.sort();
    this_year.dedup();
    views.reverse();
    Ok((views, this_year.len() > 1))
}

/// Assigns one household to a field worker. Only a supervisor of the
/// household's village may (a field worker: 403; anyone else: as unknown,
/// 404; audited); the worker must be able to take it (422 naming 帮扶干部,
/// see [`check_assignee`]).
pub async fn assign_household(
    store: &dyn Store,
    caller: &Caller,
    household_id: Uuid,
    worker_id: Uuid,
) -> AppResult<Assigned> {
    // The role first, before the id is looked up: a field worker's answer
    // must not depend on whether the household exists.
    let household = access::household(
        store,
        caller,
        household_id,
        Reach::Supervise,
        "assign_household",
    )
    .await?;
    check_assignee(store, worker_id, &household.village).await?;
    let changed = store
        .assign_households(
            &AssignTarget::Household(household_id),
            worker_id,
            caller.actor.user_id,
        )
        .await?;
    Ok(Assigned { changed })
}

/// Assigns every household of a village, or only those waiting for a
/// worker (none, or a disabled one), to one field worker.
pub async fn assign_village(
    store: &dyn Store,
    caller: &Caller,
    village: &str,
    worker_id: Uuid,
    only_unassigned: bool,
) -> AppResult<Assigned> {
    let code = AreaCode::parse(village).map_err(|m| AppError::validation("村", m))?;
    if code.level() != crate::areas::AreaLevel::Village {
        return Err(AppError::validation(
            "村",
            format!("{code} 不是村级区划代码"),
        ));
    }
    access::area(store, caller, &code, Reach::Supervise, "assign_village").await?;
    if store.area(&code).await?.is_none() {
        return Err(AppError::validation("村", format!("村 {code} 不存在")));
    }
    check_assignee(store, worker_id, &code).await?;
    let target = AssignTarget::Village {
        code,
        only_unassigned,
    };
    let changed = store
        .assign_households(&target, worker_id, caller.actor.user_id)
        .await?;
    Ok(Assigned { changed })
}

/// Who may take a household of `village`: an active field worker bound to
/// its township or to the village itself. A worker of a neighbouring
/// village is bound there and could neither download nor open it.
async fn check_assignee(store: &dyn Store, worker_id: Uuid, village: &AreaCode) -> AppResult<()> {
    let refuse = |message: String| Err(AppError::validation(zh::WORKER, message));
    let Some(worker) = store.user_by_id(worker_id).await? else {
        return refuse("该帮扶干部不存在".into());
    };
    let name = &worker.display_name;
    if worker.role != Role::FieldWorker {
        return refuse(format!("“{name}”是{}，不是帮扶干部", worker.role.label()));
    }
    if !worker.active {
        return refuse(format!("“{name}”的账号已停用，不能分配农户"));
    }
    if !worker.area.contains(village) {
        let township = village.parent().unwrap_or_else(|| village.clone());
        return refuse(if township.contains(&worker.area) {
            format!("“{name}”负责本乡镇的另一个村，只能分配给本村或本乡镇的帮扶干部")
        } else {
            format!("“{name}”不在本乡镇，只能分配给本乡镇的帮扶干部")
        });
    }
    Ok(())
}

/// Checks households before they are stored, all of them before any is
/// written. The error names the household (by position and number), the
/// member and the field.
pub fn validate_new_households(
    households: &[HouseholdRecord],
    entitlements: &[crate::server::db::EntitlementRecord],
) -> AppResult<()> {
    use std::collections::{HashMap, HashSet};
    let mut id_numbers = HashSet::new();
    let mut numbers = HashSet::new();
    let mut batch = HashMap::new();
    for (i, h) in households.iter().enumerate() {
        let at = format!("第{}户（{}）", i + 1, h.number);
        if h.number.trim().is_empty() {
            return Err(AppError::validation(
                format!("第{}户「户编号」", i + 1),
                "不能为空",
            ));
        }
        if !numbers.insert(h.number.as_str()) {
            return Err(AppError::validation(
                format!("{at}「户编号」"),
                "与本批其他户重复",
            ));
        }
        if h.head_name.trim().is_empty() {
            return Err(AppError::validation(
                format!("{at}「户主姓名」"),
                "不能为空",
            ));
        }
        if h.village.level() != crate::areas::AreaLevel::Village {
            return Err(AppError::validation(
                format!("{at}「所在村」"),
                format!("{} 不是村级区划代码", h.village),
            ));
        }
        if h.members.is_empty() {
            return Err(AppError::validation(
                format!("{at}「家庭成员」"),
                "至少应有一名成员",
            ));
        }
        for (j, m) in h.members.iter().enumerate() {
            let who = format!("{at}成员{}（{}）", j + 1, m.name);
            if m.name.trim().is_empty() {
                return Err(AppError::validation(
                    format!("{at}成员{}「姓名」", j + 1),
                    "不能为空",
                ));
            }
            IdNumber::parse(&m.id_number)
                .map_err(|msg| AppError::validation(format!("{who}「身份证号」"), msg))?;
            if !id_numbers.insert(m.id_number.to_ascii_uppercase()) {
                return Err(AppError::validation(
                    format!("{who}「身份证号」"),
                    "与本批其他成员重复",
                ));
            }
        }
        batch.insert(h.id, i);
    }
    for (k, e) in entitlements.iter().enumerate() {
        let at = format!("第{}条应发补贴（{}）", k + 1, e.item_code);
        if !batch.contains_key(&e.household_id) {
            return Err(AppError::validation(
                format!("{at}「农户」"),
                "不在本批农户中",
            ));
        }
        if let Err(m) = Fen::check(e.expected_fen) {
            return Err(AppError::validation(format!("{at}「应发金额」"), m));
        }
        let year = StatYear(e.stat_year);
        if e.expected_date < year.first_day() || e.expected_date > year.last_day() {
            return Err(AppError::validation(
                format!("{at}「应发日期」"),
                format!("{} 不在{}内", e.expected_date, year.label()),
            ));
        }
    }
    Ok(())
}

/// Validates, then stores households with their members and entitlements in
/// one transaction.
pub async fn insert_households(
    store: &dyn Store,
    households: &[HouseholdRecord],
    entitlements: &[crate::server::db::EntitlementRecord],
) -> AppResult<()> {
    validate_new_households(households, entitlements)?;
    store
        .insert_households(households, entitlements)
        .await
        .map_err(|e| match e {
            crate::server::db::DbError::Conflict { constraint }
                if constraint.contains("id_number") =>
            {
                AppError::validation("身份证号", "已登记在其他农户中")
            }
            crate::server::db::DbError::Conflict { constraint }
                if constraint.contains("number") =>
            {
                AppError::validation("户编号", "已存在")
            }
            other => other.into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::households::{Category, HealthStatus, LabourStatus};
    use crate::server::db::{EntitlementRecord, MemberRecord};
    use crate::subsidies::Channel;

    fn household(number: &str, ids: &[&str]) -> HouseholdRecord {
        HouseholdRecord {
            id: Uuid::now_v7(),
            number: number.into(),
            head_name: "张三".into(),
            category: Category::Alleviated,
            relocated: false,
            village: AreaCode::parse("621102100201").unwrap(),
            worker_id: None,
            phone: None,
            members: ids
                .iter()
                .map(|id| MemberRecord {
                    id: Uuid::now_v7(),
                    name: "张三".into(),
                    relation: "户主".into(),
                    id_number: (*id).into(),
                    labour: LabourStatus::Full,
                    health: HealthStatus::Healthy,
                })
                .collect(),
        }
    }

    fn field_of(e: AppError) -> (String, String) {
        match e {
            AppError::Validation { field, message } => (field, message),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_bad_id_number_is_refused_naming_household_member_and_field() {
        let good = household("62110210020100001", &["11010519491231002X"]);
        let bad = household(
            "62110210020100002",
            &["440524188001010014", "110105194912310021"],
        );
        let (field, message) = field_of(validate_new_households(&[good, bad], &[]).unwrap_err());
        assert_eq!(field, "第2户（62110210020100002）成员2（张三）「身份证号」");
        assert!(message.contains("校验位"), "{message}");
    }

    #[test]
    fn duplicates_inside_a_batch_are_refused() {
        let a = household("1", &["11010519491231002X"]);
        let b = household("2", &["11010519491231002x"]);
        let (field, message) = field_of(validate_new_households(&[a.clone(), b], &[]).unwrap_err());
        assert!(
            field.contains("第2户") && field.contains("身份证号"),
            "{field}"
        );
        assert!(message.contains("重复"));
        let c = household("1", &["440524188001010014"]);
        let (field, _) = field_of(validate_new_households(&[a, c], &[]).unwrap_err());
        assert_eq!(field, "第2户（1）「户编号」");
    }

    #[test]
    fn entitlements_must_fall_inside_their_statistics_year() {
        let h = household("1", &["11010519491231002X"]);
        let line = |date: (i32, u32, u32)| EntitlementRecord {
            id: Uuid::now_v7(),
            household_id: h.id,
            item_code: "rural_dibao".into(),
            stat_year: 2023,
            expected_fen: 100,
            expected_date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap(),
            department: "民政局".into(),
            channel: Channel::OneCard,
        };
        assert!(
            validate_new_households(
                std::slice::from_ref(&h),
                &[line((2022, 10, 1)), line((2023, 9, 30))]
            )
            .is_ok()
        );
        let (field, message) = field_of(
            validate_new_households(std::slice::from_ref(&h), &[line((2023, 10, 1))]).unwrap_err(),
        );
        assert_eq!(field, "第1条应发补贴（rural_dibao）「应发日期」");
        assert!(message.contains("2023年度"), "{message}");
    }
}
