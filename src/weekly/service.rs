//! The weekly report (server only): building what an area submits,
//! freezing it, the level above returning or accepting it, and what the
//! records changed since.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::{self, Caller, Reach};
use crate::areas::{Area, AreaCode, AreaLevel};
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::reports::service::{dispatch_table, end_of_china_day};
use crate::reports::{DispatchRow, DispatchTable, ItemColumn, Progress};
use crate::server::db::{NewSubmission, Store, SubmissionRow, SubmitRefusal};
use crate::server::deps::Deps;
use crate::subsidies::{StatYear, china_date};
use crate::text::zh;
use crate::visits::ShortfallReason;
use crate::weekly::{
    AreaWeek, FrozenReport, LateVisit, MAX_CONTACT_NAME_CHARS, MAX_CONTACT_PHONE_CHARS,
    MAX_LATE_VISITS, MAX_REMARK_CHARS, RemarkHint, ReportWeek, Schedule, Submission,
    SubmissionState, WeeklyView, changes_between,
};

pub fn schedule(deps: &Deps) -> Schedule {
    Schedule {
        weekday: deps.config.report_weekday,
        hour: deps.config.report_hour,
    }
}

/// The week asked for (`YYYY-MM-DD`, the day its figures end), or the one
/// being reported now.
pub fn week_of(
    schedule: Schedule,
    as_of: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<ReportWeek> {
    let current = schedule.current(now);
    let Some(text) = as_of.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(current);
    };
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        AppError::validation("截至日期", format!("“{text}”不是日期，应写作 2027-03-07"))
    })?;
    let week = schedule
        .week_ending(day)
        .ok_or_else(|| AppError::validation("截至日期", zh::WEEKLY_NOT_A_WEEK_END))?;
    if week.as_of > current.as_of {
        return Err(AppError::validation("截至日期", zh::WEEKLY_FUTURE_WEEK));
    }
    Ok(week)
}

/// The area of a weekly page: one the caller oversees, a county, a city
/// or the province.
async fn week_area(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    action: &str,
) -> AppResult<Area> {
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    access::area(store, caller, &code, Reach::Supervise, action).await?;
    if !matches!(
        code.level(),
        AreaLevel::County | AreaLevel::City | AreaLevel::Province
    ) {
        return Err(AppError::validation("区划代码", zh::WEEKLY_WRONG_LEVEL));
    }
    store.area(&code).await?.ok_or(AppError::NotFound)
}

/// Whether the caller is the officer who submits `area`'s report.
fn submits(caller: &Caller, area: &AreaCode) -> bool {
    caller.actor.area == *area
        && matches!(
            (area.level(), caller.actor.role),
            (AreaLevel::County, Role::CountyAdmin) | (AreaLevel::City, Role::CityAdmin)
        )
}

/// Whether the caller reviews `area`'s submissions: the officer of the
/// level right above it.
fn reviews(caller: &Caller, area: &AreaCode) -> bool {
    area.parent().is_some_and(|p| p == caller.actor.area)
        && matches!(
            (area.level(), caller.actor.role),
            (AreaLevel::County, Role::CityAdmin) | (AreaLevel::City, Role::ProvinceAdmin)
        )
}

fn submission_of(row: SubmissionRow, area: Area, week: &ReportWeek) -> AppResult<Submission> {
    let report: FrozenReport = serde_json::from_str(&row.figures).map_err(|e| {
        tracing::error!(id = %row.id, "stored submission unreadable: {e}");
        AppError::Internal
    })?;
    let remarks: BTreeMap<String, String> =
        serde_json::from_str(&row.remarks).map_err(|_| AppError::Internal)?;
    let remarks = report
        .table
        .items
        .iter()
        .filter_map(|i| remarks.get(&i.code).map(|r| (i.name.clone(), r.clone())))
        .collect();
    Ok(Submission {
        id: row.id,
        area,
        version: row.version,
        state: SubmissionState::parse(&row.state).ok_or(AppError::Internal)?,
        report,
        figures_hash: row.figures_hash,
        remarks,
        contact_name: row.contact_name,
        contact_phone: row.contact_phone,
        submitted_by: row.submitted_by,
        late: row.submitted_at > week.due_at,
        submitted_at: row.submitted_at,
        reviewed_by: row.reviewed_by,
        reviewed_at: row.reviewed_at,
        review_comment: row.review_comment,
    })
}

/// Every version of each area's submission for the week, by area.
async fn versions_of(
    store: &dyn Store,
    areas: &[Area],
    week: &ReportWeek,
) -> AppResult<BTreeMap<AreaCode, Vec<Submission>>> {
    let codes: Vec<AreaCode> = areas.iter().map(|a| a.code.clone()).collect();
    let mut out: BTreeMap<AreaCode, Vec<Submission>> = BTreeMap::new();
    for row in store.submissions(&codes, week.as_of).await? {
        let area = areas
            .iter()
            .find(|a| a.code == row.area)
            .cloned()
            .ok_or(AppError::Internal)?;
        out.entry(area.code.clone())
            .or_default()
            .push(submission_of(row, area, week)?);
    }
    Ok(out)
}

/// The areas that report to `area`: a city's counties, the province's
/// cities; none below a county.
async fn reporting_children(store: &dyn Store, area: &Area) -> AppResult<Vec<Area>> {
    Ok(match area.level() {
        AreaLevel::City | AreaLevel::Province => store.child_areas(&area.code).await?,
        _ => Vec::new(),
    })
}

/// A city's table: one row per county, each the total of its accepted
/// submission; or why it cannot be made yet.
fn sum_of_accepted(
    area: &Area,
    week: &ReportWeek,
    children: &[Area],
    latest: &BTreeMap<AreaCode, &Submission>,
    chain: crate::ledger::ChainStamp,
) -> Result<DispatchTable, String> {
    let waiting: Vec<&str> = children
        .iter()
        .filter(|c| {
            latest
                .get(&c.code)
                .is_none_or(|s| s.state != SubmissionState::Accepted)
        })
        .map(|c| c.name.as_str())
        .collect();
    if !waiting.is_empty() {
        return Err(format!("{}{}", zh::WEEKLY_WAITING_FOR, waiting.join("、")));
    }
    let tables: Vec<&DispatchTable> = children
        .iter()
        .map(|c| &latest[&c.code].report.table)
        .collect();
    let mut items: Vec<ItemColumn> = Vec::new();
    for t in &tables {
        for i in &t.items {
            if !items.iter().any(|x| x.code == i.code) {
                items.push(i.clone());
            }
        }
    }
    let mut total = DispatchRow::new(area.clone(), items.len());
    let mut rows = Vec::new();
    for (child, t) in children.iter().zip(&tables) {
        let mut row = DispatchRow::new(child.clone(), items.len());
        row.all = t.total.all;
        row.all_week_before = t.total.all_week_before;
        for (k, item) in t.items.iter().enumerate() {
            let i = items
                .iter()
                .position(|x| x.code == item.code)
                .expect("collected above");
            row.items[i] = t.total.items[k];
            row.items_week_before[i] = t.total.items_week_before[k];
        }
        for i in 0..items.len() {
            total.items[i].add(&row.items[i]);
            total.items_week_before[i].add(&row.items_week_before[i]);
        }
        total.all.add(&row.all);
        total.all_week_before.add(&row.all_week_before);
        rows.push(row);
    }
    Ok(DispatchTable {
        area: area.clone(),
        breadcrumbs: Vec::new(),
        as_of: week.as_of,
        week_before: week.as_of - Duration::days(7),
        stat_year: StatYear::containing(week.as_of).0,
        items,
        rows,
        total,
        chain,
    })
}

/// What `area` would submit for `week` now, or why it cannot.
async fn draft(
    store: &dyn Store,
    caller: &Caller,
    area: &Area,
    week: &ReportWeek,
    children: &[Area],
    children_latest: &BTreeMap<AreaCode, &Submission>,
) -> AppResult<Result<FrozenReport, String>> {
    let as_of = week.as_of.to_string();
    let table = match area.level() {
        AreaLevel::County => {
            dispatch_table(store, caller, area.code.as_str(), Some(&as_of)).await?
        }
        _ => {
            let chain = crate::ledger::service::stamp(store, &area.code).await?;
            match sum_of_accepted(area, week, children, children_latest, chain) {
                Ok(t) => t,
                Err(why) => return Ok(Err(why)),
            }
        }
    };
    // Corrections to every earlier week of the statistics year that was
    // submitted: its latest version's figures, as the records now have
    // them, newest week first.
    let first_day = StatYear::containing(week.as_of).first_day();
    let mut corrections = Vec::new();
    let mut before = week.as_of - Duration::days(7);
    while before >= first_day {
        let earlier = store
            .submissions(std::slice::from_ref(&area.code), before)
            .await?;
        if let Some(row) = earlier.into_iter().last() {
            let prior: FrozenReport =
                serde_json::from_str(&row.figures).map_err(|_| AppError::Internal)?;
            let live = live_table(store, caller, area, &prior.table).await?;
            corrections.extend(changes_between(&prior.table, &live));
        }
        before -= Duration::days(7);
    }
    Ok(Ok(FrozenReport { table, corrections }))
}

/// The live table of `area` as of the day `submitted` is of, in the
/// submitted table's shape (a city: one row per county).
async fn live_table(
    store: &dyn Store,
    caller: &Caller,
    area: &Area,
    submitted: &DispatchTable,
) -> AppResult<DispatchTable> {
    let as_of = submitted.as_of.to_string();
    dispatch_table(store, caller, area.code.as_str(), Some(&as_of)).await
}

/// The week page of area `code`.
pub async fn weekly_view(
    deps: &Deps,
    caller: &Caller,
    code: &str,
    as_of: Option<&str>,
) -> AppResult<WeeklyView> {
    let store = deps.store.as_ref();
    let now = (deps.clock)();
    let area = week_area(store, caller, code, "weekly_report").await?;
    let week = week_of(schedule(deps), as_of, now)?;
    let children = reporting_children(store, &area).await?;
    let mut all = children.clone();
    all.push(area.clone());
    let mut versions = versions_of(store, &all, &week).await?;
    let own = versions.remove(&area.code).unwrap_or_default();
    let children_latest: BTreeMap<AreaCode, &Submission> = versions
        .iter()
        .filter_map(|(code, v)| v.last().map(|s| (code.clone(), s)))
        .collect();

    let submits = submits(caller, &area.code);
    let (mut blocked, mut report) = (None, None);
    if submits {
        match own.last().map(|s| s.state) {
            Some(SubmissionState::Submitted) => {
                blocked = Some(zh::WEEKLY_WAITING_REVIEW.to_owned())
            }
            Some(SubmissionState::Accepted) => blocked = Some(zh::WEEKLY_ACCEPTED.to_owned()),
            _ => match draft(store, caller, &area, &week, &children, &children_latest).await? {
                Ok(r) => report = Some(r),
                Err(why) => blocked = Some(why),
            },
        }
    }
    let hints = match &report {
        Some(r) if area.level() == AreaLevel::County => {
            remark_hints(store, &area, &r.table).await?
        }
        _ => Vec::new(),
    };

    // A county's draft is its live table; anything above sums its
    // children's accepted reports, which the live table is compared with.
    let live = match &report {
        Some(r) if area.level() == AreaLevel::County => r.table.clone(),
        _ => {
            dispatch_table(
                store,
                caller,
                area.code.as_str(),
                Some(&week.as_of.to_string()),
            )
            .await?
        }
    };
    let (changes, late_visits) = match own.last() {
        Some(latest) => (
            changes_between(&latest.report.table, &live),
            late_visits(store, &area.code, &week, latest.submitted_at).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let children_weeks: Vec<AreaWeek> = children
        .iter()
        .map(|c| {
            let latest = versions.get(&c.code).and_then(|v| v.last()).cloned();
            let first_late = versions
                .get(&c.code)
                .and_then(|v| v.first())
                .map(|s| s.late);
            AreaWeek {
                area: c.clone(),
                reviewable: reviews(caller, &c.code)
                    && latest
                        .as_ref()
                        .is_some_and(|s| s.state == SubmissionState::Submitted),
                late: first_late.unwrap_or(now > week.due_at),
                latest,
            }
        })
        .collect();
    let submitted_total = (!children.is_empty()).then(|| {
        let mut sum = Progress::default();
        for s in children_latest.values() {
            if s.state == SubmissionState::Accepted {
                sum.add(&s.report.table.total.all);
            }
        }
        sum
    });
    Ok(WeeklyView {
        area,
        week,
        submits,
        blocked,
        draft: report,
        hints,
        versions: own,
        changes,
        late_visits,
        children: children_weeks,
        submitted_total,
        live_total: live.total.all,
    })
}

async fn late_visits(
    store: &dyn Store,
    area: &AreaCode,
    week: &ReportWeek,
    since: DateTime<Utc>,
) -> AppResult<Vec<LateVisit>> {
    let rows = store
        .visits_delivered_after(
            area,
            StatYear::containing(week.as_of).0,
            since,
            end_of_china_day(week.as_of),
            MAX_LATE_VISITS,
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| LateVisit {
            household_id: r.household_id,
            household: format!("{} {}", r.number, r.head_name),
            village: r.village,
            started_on: china_date(r.started_at),
            delivered_at: r.received_at,
        })
        .collect())
}

/// Per item with households short, how many and the reasons the
/// verifications gave, for the remark.
async fn remark_hints(
    store: &dyn Store,
    area: &Area,
    table: &DispatchTable,
) -> AppResult<Vec<RemarkHint>> {
    let reasons = store
        .shortfall_reasons(&area.code, table.stat_year, end_of_china_day(table.as_of))
        .await?;
    Ok(table
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let p = table.total.items[i];
            if p.none() == 0 && p.part() == 0 {
                return None;
            }
            let why: Vec<String> = reasons
                .iter()
                .filter(|(code, _, _)| *code == item.code)
                .map(|(_, reason, n)| {
                    let label = reason
                        .as_deref()
                        .and_then(ShortfallReason::parse)
                        .map_or(zh::WEEKLY_NO_REASON, ShortfallReason::label);
                    format!("{label} {n}")
                })
                .collect();
            let mut hint = format!("未到户 {} 户、部分到户 {} 户", p.none(), p.part());
            if !why.is_empty() {
                hint.push_str("；核实原因：");
                hint.push_str(&why.join("、"));
            }
            Some(RemarkHint {
                item_code: item.code.clone(),
                item_name: item.name.clone(),
                hint,
            })
        })
        .collect())
}

fn check_text(field: &str, text: &str, max: usize, required: bool) -> AppResult<String> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(AppError::validation(field, zh::WEEKLY_REQUIRED));
    }
    if text.chars().count() > max {
        return Err(AppError::validation(field, format!("不能超过 {max} 个字")));
    }
    Ok(text.to_owned())
}

/// Submits `code`'s report for the week ending `as_of`; its version.
pub async fn submit(
    deps: &Deps,
    caller: &Caller,
    code: &str,
    as_of: &str,
    remarks: &BTreeMap<String, String>,
    contact_name: &str,
    contact_phone: &str,
) -> AppResult<i32> {
    let store = deps.store.as_ref();
    let now = (deps.clock)();
    let area = week_area(store, caller, code, "weekly_submit").await?;
    if !submits(caller, &area.code) {
        return access::deny_role(store, caller, "weekly_submit", area.code.as_str()).await;
    }
    let week = week_of(schedule(deps), Some(as_of), now)?;
    let contact_name = check_text("联络人", contact_name, MAX_CONTACT_NAME_CHARS, true)?;
    let contact_phone = check_text("联系电话", contact_phone, MAX_CONTACT_PHONE_CHARS, true)?;
    if !contact_phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' '))
    {
        return Err(AppError::validation("联系电话", zh::WEEKLY_BAD_PHONE));
    }
    let children = reporting_children(store, &area).await?;
    let versions = versions_of(store, &children, &week).await?;
    let latest: BTreeMap<AreaCode, &Submission> = versions
        .iter()
        .filter_map(|(code, v)| v.last().map(|s| (code.clone(), s)))
        .collect();
    let report = draft(store, caller, &area, &week, &children, &latest)
        .await?
        .map_err(AppError::Conflict)?;
    let mut kept = BTreeMap::new();
    for (item, text) in remarks {
        let name = report
            .table
            .items
            .iter()
            .find(|i| i.code == *item)
            .map(|i| i.name.clone())
            .ok_or_else(|| AppError::validation("备注", format!("本表没有补贴项目“{item}”")))?;
        let text = check_text(&format!("备注（{name}）"), text, MAX_REMARK_CHARS, false)?;
        if !text.is_empty() {
            kept.insert(item.clone(), text);
        }
    }
    let figures = serde_json::to_string(&report).map_err(|_| AppError::Internal)?;
    let figures_hash = crate::visits::hex(&Sha256::digest(figures.as_bytes()));
    let income = crate::income::service::income_table(store, caller, area.code.as_str()).await?;
    let remark_rows: Vec<(String, String)> = report
        .table
        .items
        .iter()
        .filter_map(|i| kept.get(&i.code).map(|t| (i.name.clone(), t.clone())))
        .collect();
    let xlsx = crate::reports::xlsx::submission_workbook(
        &report,
        &income,
        &crate::reports::xlsx::SubmissionNote {
            remarks: &remark_rows,
            contact_name: &contact_name,
            contact_phone: &contact_phone,
            submitted_by: &caller.actor.display_name,
            submitted_at: now,
            figures_hash: &figures_hash,
        },
    )
    .map_err(|e| {
        tracing::error!("submission xlsx: {e}");
        AppError::Internal
    })?;
    let new = NewSubmission {
        id: Uuid::now_v7(),
        area: area.code.clone(),
        as_of: week.as_of,
        figures,
        figures_hash,
        xlsx,
        remarks: serde_json::to_string(&kept).map_err(|_| AppError::Internal)?,
        contact_name,
        contact_phone,
        submitted_by: caller.actor.user_id,
        submitted_at: now,
    };
    match store.insert_submission(&new).await? {
        Ok(version) => Ok(version),
        Err(SubmitRefusal::AlreadySubmitted) => {
            Err(AppError::Conflict(zh::WEEKLY_ALREADY_SUBMITTED.to_owned()))
        }
    }
}

/// The level above returns (with a comment) or accepts submission `id`.
pub async fn review(
    deps: &Deps,
    caller: &Caller,
    id: Uuid,
    accept: bool,
    comment: &str,
) -> AppResult<()> {
    let store = deps.store.as_ref();
    let row = store.submission(id).await?.ok_or(AppError::NotFound)?;
    access::area(store, caller, &row.area, Reach::Supervise, "weekly_review").await?;
    if !reviews(caller, &row.area) {
        return access::deny_role(store, caller, "weekly_review", &id.to_string()).await;
    }
    let comment = check_text("审核意见", comment, MAX_REMARK_CHARS, !accept)?;
    if !store
        .review_submission(id, accept, caller.actor.user_id, (deps.clock)(), &comment)
        .await?
    {
        return Err(AppError::Conflict(zh::WEEKLY_NOT_WAITING.to_owned()));
    }
    Ok(())
}

/// The .xlsx of submission `id` exactly as submitted, and its file name.
pub async fn submission_xlsx(
    store: &dyn Store,
    caller: &Caller,
    id: Uuid,
) -> AppResult<(String, Vec<u8>)> {
    let row = store.submission(id).await?.ok_or(AppError::NotFound)?;
    access::area(store, caller, &row.area, Reach::Supervise, "weekly_xlsx").await?;
    let area = store.area(&row.area).await?.ok_or(AppError::NotFound)?;
    let bytes = store.submission_xlsx(id).await?.ok_or(AppError::NotFound)?;
    Ok((
        format!(
            "{}每周报送-截至{}-第{}版.xlsx",
            area.name, row.as_of, row.version
        ),
        bytes,
    ))
}
