//! Computing accounts and signals from the store's facts, and keeping the
//! stored accounts (`household_income`) and their roll-ups current.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::areas::AreaLevel;
use crate::income::{
    DeclaredIncome, HouseholdSize, IncomeAccount, IncomeInputs, IncomeKind, IncomeStatus,
    MeasureFacts, SignalInputs, VerifiedPayment, account, measures_due_and_on_time, signals,
    threshold_for,
};
use crate::server::db::{
    DbResult, HouseholdFacts, HouseholdIncomeRow, IncomeFacts, IncomeScope, Store,
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
    type Key = (Uuid, i32);
    // The latest figure per kind, the latest line per payment and the
    // latest confirmed size: later visit first, visit id breaking ties.
    let mut declared: HashMap<Key, HashMap<IncomeKind, &crate::server::db::DeclaredFact>> =
        HashMap::new();
    for d in &facts.declared {
        let slot = declared
            .entry((d.household_id, d.stat_year))
            .or_default()
            .entry(d.kind)
            .or_insert(d);
        if (d.visit_at, d.visit_id) > (slot.visit_at, slot.visit_id) {
            *slot = d;
        }
    }
    let mut payments: HashMap<Key, HashMap<Uuid, &crate::server::db::PaymentFact>> = HashMap::new();
    for p in &facts.payments {
        let slot = payments
            .entry((p.household_id, p.stat_year))
            .or_default()
            .entry(p.entitlement_id)
            .or_insert(p);
        if (p.visit_at, p.visit_id) > (slot.visit_at, slot.visit_id) {
            *slot = p;
        }
    }
    let mut sizes: HashMap<Key, &crate::server::db::SizeFact> = HashMap::new();
    for s in &facts.sizes {
        let slot = sizes.entry((s.household_id, s.stat_year)).or_insert(s);
        if (s.visit_at, s.visit_id) > (slot.visit_at, slot.visit_id) {
            *slot = s;
        }
    }
    let mut measures: HashMap<Uuid, Vec<MeasureFacts>> = HashMap::new();
    for (household, m) in &facts.measures {
        measures.entry(*household).or_default().push(*m);
    }

    let inputs = |h: &HouseholdFacts, year: i32| {
        let key = (h.id, year);
        let mut declared: Vec<DeclaredIncome> = declared
            .get(&key)
            .map(|kinds| {
                kinds
                    .values()
                    .map(|d| DeclaredIncome {
                        kind: d.kind,
                        amount: Fen(d.amount_fen),
                        evidence: d.evidence,
                        visit_id: d.visit_id,
                        visit_day: china_date(d.visit_at),
                    })
                    .collect()
            })
            .unwrap_or_default();
        declared.sort_by_key(|d| d.kind);
        let mut payments: Vec<VerifiedPayment> = payments
            .get(&key)
            .map(|lines| {
                lines
                    .values()
                    .filter(|p| p.received_fen > 0)
                    .map(|p| VerifiedPayment {
                        item_name: p.item_name.clone(),
                        bucket: p.bucket,
                        received: Fen(p.received_fen),
                        visit_id: p.visit_id,
                        visit_day: china_date(p.visit_at),
                    })
                    .collect()
            })
            .unwrap_or_default();
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
/// `today`; answers how many households it computed.
pub async fn recompute(
    store: &dyn Store,
    scope: &IncomeScope,
    stat_year: i32,
    today: NaiveDate,
) -> DbResult<usize> {
    let facts = store.income_facts(scope, stat_year).await?;
    let thresholds = store.income_thresholds().await?;
    let rows: Vec<HouseholdIncomeRow> = statuses(&facts, stat_year, &thresholds, today)
        .iter()
        .map(|(h, s)| row(h, s))
        .collect();
    store.save_income(stat_year, today, &rows).await?;
    Ok(rows.len())
}

/// After visits or plan changes: the households' accounts of the current
/// statistics year, today. A failure is logged, not raised: what caused it
/// is stored already, and the next full refresh catches up.
pub async fn recompute_households(store: &dyn Store, households: Vec<Uuid>) {
    if households.is_empty() {
        return;
    }
    let today = china_date(Utc::now());
    let year = StatYear::containing(today).0;
    if let Err(e) = recompute(store, &IncomeScope::Households(households), year, today).await {
        tracing::error!(error = %e, "recomputing household income failed");
    }
}

/// Every county's accounts of the current statistics year, one county at
/// a time (each in its own transaction): signals that depend on the date
/// (an overdue measure, 30 days without one) move with the calendar.
pub async fn refresh_all(store: &dyn Store) -> DbResult<usize> {
    let today = china_date(Utc::now());
    let year = StatYear::containing(today).0;
    let mut done = 0;
    for county in store.areas_at_level(AreaLevel::County).await? {
        done += recompute(store, &IncomeScope::Area(county), year, today).await?;
    }
    Ok(done)
}

/// How often the background refresh runs.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Runs [`refresh_all`] now and then every [`REFRESH_EVERY`], for ever.
pub async fn refresh_periodically(store: std::sync::Arc<dyn Store>) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    loop {
        tick.tick().await;
        let start = std::time::Instant::now();
        match refresh_all(store.as_ref()).await {
            Ok(n) => tracing::info!(
                households = n,
                seconds = start.elapsed().as_secs_f64(),
                "household income recomputed"
            ),
            Err(e) => tracing::error!(error = %e, "household income refresh failed"),
        }
    }
}
