//! Computing accounts and signals from the store's facts, and keeping the
//! stored accounts (`household_income`) and their roll-ups current.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::access::{self, Caller, Reach, deny_role};
use crate::areas::service::breadcrumbs;
use crate::areas::{AreaCode, AreaLevel};
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::income::{
    DeclaredIncome, HouseholdIncomeView, HouseholdSize, IncomeAccount, IncomeInputs, IncomeRow,
    IncomeStatus, IncomeTable, MeasureFacts, SignalInputs, Threshold, VerifiedPayment, account,
    measures_due_and_on_time, signals, threshold_for,
};
use crate::server::db::{
    AuditEvent, ClaimedWork, DbResult, DeclaredFact, HouseholdFacts, HouseholdIncomeRow,
    IncomeFacts, IncomeScope, IncomeWork, PaymentFact, SizeFact, Store,
};
use crate::subsidies::{Fen, StatYear, china_date};

/// The accounts and signals of every household in `facts`, for
/// `stat_year` as of `today`, in the order of `facts.households`.
pub fn statuses<'f>(
    facts: &'f IncomeFacts,
    stat_year: i32,
    thresholds: &[(i32, Fen)],
    today: NaiveDate,
) -> Vec<(&'f HouseholdFacts, IncomeStatus)> {
    // The latest figure per kind, the latest line per payment and the
    // latest confirmed size, each grouped by household and year.
    let mut declared: HashMap<(Uuid, i32), Vec<&DeclaredFact>> = HashMap::new();
    for d in latest(
        &facts.declared,
        |d| (d.household_id, d.stat_year, d.kind),
        |d| (d.visit_at, d.visit_id),
    ) {
        declared
            .entry((d.household_id, d.stat_year))
            .or_default()
            .push(d);
    }
    let mut payments: HashMap<(Uuid, i32), Vec<&PaymentFact>> = HashMap::new();
    for p in latest(
        &facts.payments,
        |p| p.entitlement_id,
        |p| (p.visit_at, p.visit_id),
    ) {
        payments
            .entry((p.household_id, p.stat_year))
            .or_default()
            .push(p);
    }
    let sizes: HashMap<(Uuid, i32), &SizeFact> = latest(
        &facts.sizes,
        |s| (s.household_id, s.stat_year),
        |s| (s.visit_at, s.visit_id),
    )
    .map(|s| ((s.household_id, s.stat_year), s))
    .collect();
    let mut measures: HashMap<Uuid, Vec<MeasureFacts>> = HashMap::new();
    for (household, m) in &facts.measures {
        measures.entry(*household).or_default().push(*m);
    }

    let inputs = |h: &HouseholdFacts, year: i32| {
        let key = (h.id, year);
        let mut declared: Vec<DeclaredIncome> = declared
            .get(&key)
            .into_iter()
            .flatten()
            .map(|d| DeclaredIncome {
                kind: d.kind,
                amount: Fen(d.amount_fen),
                evidence: d.evidence,
                visit_id: d.visit_id,
                visit_day: china_date(d.visit_at),
            })
            .collect();
        declared.sort_by_key(|d| d.kind);
        let mut payments: Vec<VerifiedPayment> = payments
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|p| p.received_fen > 0)
            .map(|p| VerifiedPayment {
                item_name: p.item_name.clone(),
                bucket: p.bucket,
                received: Fen(p.received_fen),
                visit_id: p.visit_id,
                visit_day: china_date(p.visit_at),
            })
            .collect();
        payments.sort_by(|a, b| a.item_name.cmp(&b.item_name));
        let size = match sizes.get(&key) {
            Some(s) => HouseholdSize {
                people: s.size,
                from_visit: Some(s.visit_id),
            },
            None => HouseholdSize {
                people: h.members,
                from_visit: None,
            },
        };
        IncomeInputs {
            stat_year: year,
            declared,
            payments,
            size,
        }
    };

    let threshold = threshold_for(thresholds, stat_year);
    facts
        .households
        .iter()
        .map(|h| {
            let this = account(&inputs(h, stat_year));
            let last = account(&inputs(h, stat_year - 1));
            let last = last.has_records.then_some(last);
            let none = Vec::new();
            let plan = measures.get(&h.id).unwrap_or(&none);
            let flags = signals(SignalInputs {
                this_year: &this,
                last_year: last.as_ref(),
                threshold,
                measures: plan,
                identified_on: h.identified_on,
                today,
            });
            let (measures_due, measures_on_time) = measures_due_and_on_time(plan, today);
            (
                h,
                IncomeStatus {
                    account: this,
                    last_year: last,
                    threshold,
                    flags,
                    measures_due,
                    measures_on_time,
                    as_of: today,
                },
            )
        })
        .collect()
}

/// Of the facts sharing a key, the one of the latest visit: later start
/// first, the visit id breaking ties (as the dispatch roll-ups order them).
fn latest<'f, F, K: Hash + Eq>(
    facts: &'f [F],
    key: impl Fn(&F) -> K,
    when: impl Fn(&F) -> (DateTime<Utc>, Uuid),
) -> impl Iterator<Item = &'f F> {
    let mut chosen: HashMap<K, &'f F> = HashMap::new();
    for f in facts {
        let slot = chosen.entry(key(f)).or_insert(f);
        if when(f) > when(slot) {
            *slot = f;
        }
    }
    chosen.into_values()
}

fn row(h: &HouseholdFacts, s: &IncomeStatus) -> HouseholdIncomeRow {
    let a: &IncomeAccount = &s.account;
    HouseholdIncomeRow {
        household_id: h.id,
        village_code: h.village_code.clone(),
        wage: a.wage,
        business: a.business,
        property: a.property,
        transfer: a.transfer,
        cost: a.cost,
        net: a.net,
        backed: a.backed,
        size: a.size.people,
        per_capita: a.per_capita,
        flags: s.flags.0,
        measures_due: s.measures_due,
        measures_on_time: s.measures_on_time,
    }
}

/// Recomputes and stores the accounts of the scope for `stat_year` as of
/// `today`; answers how many households it computed. `done` is the queued
/// work the result settles, deleted in the same transaction.
pub async fn recompute(
    store: &dyn Store,
    scope: &IncomeScope,
    stat_year: i32,
    today: NaiveDate,
    done: &[ClaimedWork],
) -> DbResult<usize> {
    let read_at = Utc::now();
    let facts = store.income_facts(scope, stat_year).await?;
    let thresholds = store.income_thresholds().await?;
    let rows: Vec<HouseholdIncomeRow> = statuses(&facts, stat_year, &thresholds, today)
        .iter()
        .map(|(h, s)| row(h, s))
        .collect();
    store
        .save_income(stat_year, today, read_at, &rows, done)
        .await?;
    Ok(rows.len())
}

/// The accounts a change to a household's records of `stat_year` moves:
/// that year's, the next year's (which compares itself with it), and the
/// current year's (whose signals follow the plan); none after the current
/// year, which has no account yet.
pub fn income_work(household_id: Uuid, stat_year: i32, today: NaiveDate) -> Vec<IncomeWork> {
    let current = StatYear::containing(today).0;
    let mut years = vec![stat_year, stat_year.saturating_add(1), current];
    years.sort_unstable();
    years.dedup();
    years
        .into_iter()
        .filter(|y| *y <= current)
        .map(|stat_year| IncomeWork {
            household_id,
            stat_year,
        })
        .collect()
}

/// Pieces of queued work one worker claims at a time: one recomputation
/// per statistics year among them, so a busy queue is worked off in few
/// transactions.
const CLAIM_AT_ONCE: i64 = 256;
/// How long a claim holds: a worker that died holding work leaves it to
/// others after this.
const CLAIM_LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// How often an idle worker looks for work queued by any instance.
pub const IDLE_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Claims a round of queued income work and does it; answers the pieces
/// it settled (none: none was waiting), each with when it was queued.
pub async fn work_once(store: &dyn Store) -> DbResult<Vec<ClaimedWork>> {
    let now = Utc::now();
    let claimed = store
        .claim_income_work(CLAIM_AT_ONCE, now, now + CLAIM_LEASE)
        .await?;
    if claimed.is_empty() {
        return Ok(claimed);
    }
    let today = china_date(now);
    let mut by_year: std::collections::BTreeMap<i32, Vec<ClaimedWork>> = Default::default();
    for c in &claimed {
        by_year.entry(c.work.stat_year).or_default().push(*c);
    }
    for (year, done) in by_year {
        let households: Vec<Uuid> = done.iter().map(|c| c.work.household_id).collect();
        let mut attempt = 1;
        loop {
            match recompute(
                store,
                &IncomeScope::Households(households.clone()),
                year,
                today,
                &done,
            )
            .await
            {
                Err(e) if e.is_retryable() && attempt < 4 => attempt += 1,
                other => {
                    other?;
                    break;
                }
            }
        }
    }
    Ok(claimed)
}

/// Does queued work until none is left (tests, the command line); answers
/// how many pieces it settled.
pub async fn work_until_idle(store: &dyn Store) -> DbResult<usize> {
    let mut total = 0;
    loop {
        match work_once(store).await?.len() {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// The worker every instance runs: does queued work as it comes, for ever.
/// A failure is logged and the work stays queued (its claim runs out, and
/// this or another instance tries again).
pub async fn work_forever(store: std::sync::Arc<dyn Store>) {
    let mut reported = std::time::Instant::now() - QUEUE_REPORT_EVERY;
    loop {
        if reported.elapsed() >= QUEUE_REPORT_EVERY {
            reported = std::time::Instant::now();
            report_queue(store.as_ref()).await;
        }
        match work_once(store.as_ref()).await {
            Ok(done) if done.is_empty() => tokio::time::sleep(IDLE_POLL).await,
            Ok(done) => crate::server::metrics::jobs_done(&done, Utc::now()),
            Err(e) => {
                tracing::error!(error = %e, "income work failed; retried later");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

/// How often an instance reports the queue's depth and age to `/metrics`.
const QUEUE_REPORT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The queue's depth and its oldest piece's age, for `/metrics`.
async fn report_queue(store: &dyn Store) {
    match store.income_backlog().await {
        Ok(b) => crate::server::metrics::set_job_queue(
            b.pending,
            b.oldest
                .map_or(0.0, |at| (Utc::now() - at).as_seconds_f64()),
        ),
        Err(e) => tracing::warn!(error = %e, "reading the work queue failed"),
    }
}

/// Every county's accounts of the current statistics year, one county at
/// a time (each in its own transaction): signals that depend on the date
/// (an overdue measure, 30 days without one) move with the calendar.
/// Unless `force`d, a county whose accounts were all computed today is
/// left as it is (a restart does not redo the day's work).
pub async fn refresh_all(store: &dyn Store, force: bool) -> DbResult<usize> {
    let today = china_date(Utc::now());
    let year = StatYear::containing(today).0;
    let mut done = 0;
    for county in store.areas_at_level(AreaLevel::County).await? {
        if !force
            && store
                .households_not_computed_on(&county, year, today)
                .await?
                == 0
        {
            continue;
        }
        done += recompute(store, &IncomeScope::Area(county), year, today, &[]).await?;
    }
    Ok(done)
}

/// How often the background refresh runs, across all instances.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
/// The refresh's name in the schedule.
pub const REFRESH_SCHEDULE: &str = "income_refresh";
/// How often each instance checks whether the refresh is due.
const SCHEDULE_POLL: std::time::Duration = std::time::Duration::from_secs(60);

/// The recomputation of every account that a threshold change makes due
/// (in the change's own transaction, so a restart cannot lose it).
pub const RECOMPUTE_SCHEDULE: &str = "income_recompute_all";
/// A claimed recomputation not finished by then (its instance died) is
/// due again.
const RECOMPUTE_LEASE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Runs [`refresh_all`] every [`REFRESH_EVERY`], for ever: every instance
/// checks the shared schedule, and the one that claims a due run does it.
/// Also the full recomputation a threshold change made due.
pub async fn refresh_periodically(store: std::sync::Arc<dyn Store>, runner: String) {
    let every = chrono::TimeDelta::from_std(REFRESH_EVERY).expect("a few hours");
    let mut tick = tokio::time::interval(SCHEDULE_POLL);
    loop {
        tick.tick().await;
        recompute_if_due(store.as_ref(), &runner).await;
        let now = Utc::now();
        match store
            .claim_schedule(REFRESH_SCHEDULE, now, now + every, &runner, Some(now))
            .await
        {
            Ok(false) => continue,
            Ok(true) => {}
            Err(e) => {
                tracing::error!(error = %e, "checking the refresh schedule failed");
                continue;
            }
        }
        let start = std::time::Instant::now();
        match refresh_all(store.as_ref(), false).await {
            Ok(n) => tracing::info!(
                households = n,
                seconds = start.elapsed().as_secs_f64(),
                "household income recomputed"
            ),
            Err(e) => tracing::error!(error = %e, "household income refresh failed"),
        }
        let start = std::time::Instant::now();
        match rebuild_rollups(store.as_ref()).await {
            Ok(n) => tracing::info!(
                villages = n,
                seconds = start.elapsed().as_secs_f64(),
                "dispatch roll-ups rebuilt"
            ),
            Err(e) => tracing::error!(error = %e, "rebuilding the dispatch roll-ups failed"),
        }
        match store.open_fallen_due(Utc::now()).await {
            Ok(n) => tracing::info!(
                items = n,
                "reconciliation items of payments fallen due opened"
            ),
            Err(e) => {
                tracing::error!(error = %e, "opening the items of payments fallen due failed")
            }
        }
    }
}

/// Recomputes every account if a threshold change made it due: claimed
/// for a lease, then put off until the next change.
pub async fn recompute_if_due(store: &dyn Store, runner: &str) {
    let now = Utc::now();
    let lease_end = now + RECOMPUTE_LEASE;
    match store
        .claim_schedule(RECOMPUTE_SCHEDULE, now, lease_end, runner, None)
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => return tracing::error!(error = %e, "checking the recompute schedule failed"),
    }
    match refresh_all(store, true).await {
        Ok(n) => {
            tracing::info!(
                households = n,
                "accounts recomputed after a threshold change"
            );
            // Not due again until the next change (which makes it due now;
            // a change made during this run keeps it due).
            let never = now + chrono::TimeDelta::days(365 * 100);
            if let Err(e) = store
                .put_off_schedule(RECOMPUTE_SCHEDULE, lease_end, never)
                .await
            {
                tracing::error!(error = %e, "putting off the recompute schedule failed");
            }
        }
        Err(e) => tracing::error!(error = %e, "recomputing after a threshold change failed"),
    }
}

/// Every county's dispatch roll-ups rewritten from their rows, one county
/// per transaction: the periodic repair beside the deltas that writes
/// apply (see [`Store::rebuild_rollups`]).
pub async fn rebuild_rollups(store: &dyn Store) -> DbResult<usize> {
    let mut villages = 0;
    for county in store.areas_at_level(AreaLevel::County).await? {
        villages += store.rebuild_rollups(&county).await?;
    }
    Ok(villages)
}

/// A household's account of `stat_year` (the current one when `None`),
/// computed now from its records, with where every number came from.
pub async fn household_income(
    store: &dyn Store,
    caller: &Caller,
    household_id: Uuid,
    stat_year: Option<i32>,
) -> AppResult<HouseholdIncomeView> {
    access::household(
        store,
        caller,
        household_id,
        Reach::See,
        "get_household_income",
    )
    .await?;
    let today = china_date(Utc::now());
    let year = match stat_year {
        None => StatYear::containing(today).0,
        Some(y) if (2016..=2100).contains(&y) => y,
        Some(_) => return Err(AppError::validation("统计年度", "应为2016至2100之间的年份")),
    };
    let facts = store
        .income_facts(&IncomeScope::Households(vec![household_id]), year)
        .await?;
    let thresholds = store.income_thresholds().await?;
    let (_, status) = statuses(&facts, year, &thresholds, today)
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok(HouseholdIncomeView {
        household_id,
        status,
    })
}

/// The plan and risk table of area `code` for the current statistics year.
pub async fn income_table(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
) -> AppResult<IncomeTable> {
    let actor = &caller.actor;
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    access::area(store, caller, &code, Reach::Supervise, "income_table").await?;
    let year = StatYear::containing(china_date(Utc::now())).0;
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;
    let children = if code.level() == AreaLevel::Village {
        vec![area.clone()]
    } else {
        store.child_areas(&code).await?
    };
    let mut rows: Vec<IncomeRow> = children.into_iter().map(IncomeRow::new).collect();
    let mut total = IncomeRow::new(area.clone());
    for f in store.income_rollup(&code, year).await? {
        let Some(row) = rows.iter_mut().find(|r| r.area.code.as_str() == f.child) else {
            continue;
        };
        // Saturating: a roll-up row edited by hand must not bring the
        // table down (the store's sums cannot overflow either).
        for r in [row, &mut total] {
            r.households = r.households.saturating_add(f.households);
            r.flagged = r.flagged.saturating_add(f.flagged);
            for (sum, n) in r.by_flag.iter_mut().zip(f.by_flag) {
                *sum = sum.saturating_add(n);
            }
            r.measures_due = r.measures_due.saturating_add(f.measures_due);
            r.measures_on_time = r.measures_on_time.saturating_add(f.measures_on_time);
        }
    }
    // The signals of made-up visits, counted where they happened.
    for (village, n) in store.suspicious_visits_by_village(&code, year).await? {
        let Ok(village) = AreaCode::parse(&village) else {
            continue;
        };
        if let Some(row) = rows.iter_mut().find(|r| r.area.code.contains(&village)) {
            row.suspicious_visits = row.suspicious_visits.saturating_add(n);
        }
        total.suspicious_visits = total.suspicious_visits.saturating_add(n);
    }
    let thresholds = store.income_thresholds().await?;
    Ok(IncomeTable {
        breadcrumbs: breadcrumbs(store, &actor.area, &code).await?,
        area,
        stat_year: year,
        threshold: threshold_for(&thresholds, year),
        as_of: store.income_as_of(&code, year).await?,
        rows,
        total,
    })
}

/// The configured thresholds; everyone signed in may read them.
pub async fn thresholds(store: &dyn Store) -> AppResult<Vec<Threshold>> {
    Ok(store
        .income_thresholds()
        .await?
        .into_iter()
        .map(|(stat_year, threshold)| Threshold {
            stat_year,
            threshold,
        })
        .collect())
}

/// Sets a year's threshold: the province admin only. Every account is then
/// recomputed in the background.
pub async fn set_threshold(
    store: std::sync::Arc<dyn Store>,
    caller: &Caller,
    stat_year: &str,
    threshold: &str,
) -> AppResult<Vec<Threshold>> {
    if caller.actor.role != Role::ProvinceAdmin {
        return deny_role(store.as_ref(), caller, "set_income_threshold", stat_year).await;
    }
    let year: i32 = stat_year
        .trim()
        .parse()
        .ok()
        .filter(|y| (2016..=2100).contains(y))
        .ok_or_else(|| AppError::validation("统计年度", "应为2016至2100之间的年份"))?;
    let fen =
        Fen::parse_yuan(threshold).map_err(|m| AppError::validation("监测标准（元/人·年）", m))?;
    if fen.0 <= 0 {
        return Err(AppError::validation(
            "监测标准（元/人·年）",
            "监测标准应大于0",
        ));
    }
    store
        .set_income_threshold(year, fen, caller.actor.user_id, RECOMPUTE_SCHEDULE)
        .await?;
    store
        .record_audit(&AuditEvent {
            user_id: Some(caller.actor.user_id),
            action: "set_income_threshold".into(),
            target: format!("{year}={fen}"),
            outcome: "ok".into(),
            address: caller.address.clone(),
        })
        .await?;
    thresholds(store.as_ref()).await
}
