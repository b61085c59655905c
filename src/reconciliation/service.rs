//! The reconciliation page's rules: who may see which area's match, and
//! the page's tables put together from the stored match.

use std::collections::BTreeMap;

use crate::access::{self, Caller, Reach};
use crate::areas::{Area, AreaCode, AreaLevel};
use crate::error::{AppError, AppResult};
use crate::reconciliation::model::{
    LIST_PAGE_SIZE, Outcome, OutcomeRow, PayoutScope, ReconciledList, ReconciledPayment,
    ReconciliationView,
};
use crate::server::db::{OutcomeFigure, ReconciledQuery, Store};
use crate::server::deps::Deps;
use crate::subsidies::{Fen, StatYear, china_date, china_time};

/// The drill-down's filter as the page's address gives it.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub outcome: Option<String>,
    pub area: Option<String>,
    pub item: Option<String>,
    pub page: Option<u32>,
}

/// An area's three-way match for the current statistics year (or
/// `stat_year`), for whoever oversees the area.
pub async fn reconciliation_view(
    deps: &Deps,
    caller: &Caller,
    code: &str,
    stat_year: Option<i32>,
    filter: &ListFilter,
) -> AppResult<ReconciliationView> {
    let store = deps.store.as_ref();
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    access::area(store, caller, &code, Reach::Supervise, "reconciliation").await?;
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;
    let today = china_date(deps.now());
    let this_year = StatYear::containing(today).0;
    let stat_year = match stat_year {
        Some(y) if (2016..=this_year + 1).contains(&y) => y,
        Some(_) => {
            return Err(AppError::validation(
                "统计年度",
                format!("统计年度应在 2016 至 {} 之间", this_year + 1),
            ));
        }
        None => this_year,
    };
    let items: BTreeMap<String, String> = store
        .subsidy_items()
        .await?
        .into_iter()
        .map(|i| (i.code, i.name))
        .collect();
    let children: BTreeMap<String, Area> = if code.level() == AreaLevel::Village {
        BTreeMap::from([(code.as_str().to_owned(), area.clone())])
    } else {
        let child_len = code.level().child().unwrap_or(code.level()).prefix_len();
        store
            .child_areas(&code)
            .await?
            .into_iter()
            .map(|a| (a.code.as_str()[..child_len].to_owned(), a))
            .collect()
    };
    let (by_area, by_item) = store
        .reconciliation_figures(&code, stat_year, today)
        .await?;
    let by_area = rows_of(&by_area, |g| {
        children
            .get(g)
            .map(|a| (a.code.to_string(), a.name.clone()))
    });
    let by_item = rows_of(&by_item, |g| {
        items.get(g).map(|name| (g.to_owned(), name.clone()))
    });
    let total = by_item.iter().fold(
        OutcomeRow {
            key: String::new(),
            label: "合计".into(),
            counts: [0; 7],
            due: Fen(0),
            paid: Fen(0),
            received: Fen(0),
        },
        |mut t, r| {
            for (sum, n) in t.counts.iter_mut().zip(r.counts) {
                *sum += n;
            }
            t.due = Fen(t.due.0.saturating_add(r.due.0));
            t.paid = Fen(t.paid.0.saturating_add(r.paid.0));
            t.received = Fen(t.received.0.saturating_add(r.received.0));
            t
        },
    );
    let scopes = store
        .payout_scopes(&code)
        .await?
        .into_iter()
        .filter(|s| s.stat_year == stat_year)
        .map(|s| PayoutScope {
            area: Area {
                code: AreaCode::parse(&s.area_code).unwrap_or_else(|_| code.clone()),
                name: s.area_name,
            },
            item_name: s.item_name,
            stat_year: s.stat_year,
            imported_at_local: china_time(s.imported_at)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        })
        .collect();
    let list = match &filter.outcome {
        None => None,
        Some(o) => Some(list(store, &code, (stat_year, today), o, filter, &items).await?),
    };
    Ok(ReconciliationView {
        breadcrumbs: crate::areas::service::breadcrumbs(store, &caller.actor.area, &code).await?,
        area,
        stat_year,
        scopes,
        by_area,
        by_item,
        total,
        may_import: crate::roster::may_import(&caller.actor) && caller.actor.area == code,
        list,
    })
}

/// Figures of one grouping as rows, in the order of their keys; a group
/// the labels do not know (an area since removed) is kept under its code.
fn rows_of(
    figures: &[OutcomeFigure],
    label: impl Fn(&str) -> Option<(String, String)>,
) -> Vec<OutcomeRow> {
    let mut rows: BTreeMap<String, OutcomeRow> = BTreeMap::new();
    for f in figures {
        let row = rows.entry(f.group.clone()).or_insert_with(|| {
            let (key, label) =
                label(&f.group).unwrap_or_else(|| (f.group.clone(), f.group.clone()));
            OutcomeRow {
                key,
                label,
                counts: [0; 7],
                due: Fen(0),
                paid: Fen(0),
                received: Fen(0),
            }
        });
        if let Some(i) = Outcome::ALL.iter().position(|o| *o == f.outcome) {
            row.counts[i] += f.keys;
        }
        row.due = Fen(row.due.0.saturating_add(f.due_fen));
        row.paid = Fen(row.paid.0.saturating_add(f.paid_fen));
        row.received = Fen(row.received.0.saturating_add(f.received_fen));
    }
    rows.into_values().collect()
}

async fn list(
    store: &dyn Store,
    code: &AreaCode,
    (stat_year, today): (i32, chrono::NaiveDate),
    outcome: &str,
    filter: &ListFilter,
    items: &BTreeMap<String, String>,
) -> AppResult<ReconciledList> {
    let outcome = Outcome::parse(outcome)
        .ok_or_else(|| AppError::validation("比对结果", "没有这种比对结果"))?;
    // A child area must lie inside the page's area: anything else is
    // refused as a mistake, never looked up.
    let within = match &filter.area {
        Some(c) => {
            let c = AreaCode::parse(c).map_err(|m| AppError::validation("区划代码", m))?;
            if !code.contains(&c) {
                return Err(AppError::validation("区划代码", "不在本页的区划之内"));
            }
            Some(c)
        }
        None => None,
    };
    let item = match &filter.item {
        Some(i) if items.contains_key(i) => Some((i.clone(), items[i].clone())),
        Some(_) => return Err(AppError::validation("补贴项目", "补贴目录中没有这个项目")),
        None => None,
    };
    let page = filter.page.unwrap_or(1).clamp(1, 100_000);
    let scope = within.clone().unwrap_or_else(|| code.clone());
    let (rows, total) = store
        .reconciled(&ReconciledQuery {
            area: scope.clone(),
            stat_year,
            outcome,
            item_code: item.as_ref().map(|(c, _)| c.clone()),
            today,
            limit: LIST_PAGE_SIZE,
            offset: (page - 1) * LIST_PAGE_SIZE,
        })
        .await?;
    let area = match within {
        Some(c) => Some(store.area(&c).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    Ok(ReconciledList {
        outcome,
        item,
        area,
        rows: rows
            .into_iter()
            .map(|r| ReconciledPayment {
                household_id: r.household_id,
                household_number: r.number,
                head_name: r.head_name,
                village: Area {
                    code: AreaCode::parse(&r.village_code).unwrap_or_else(|_| scope.clone()),
                    name: r.village_name,
                },
                item_name: r.item_name,
                outcome: r.outcome,
                due: r.due_fen.map(Fen::counted),
                paid: r.paid_fen.map(Fen::counted),
                received: r.received_fen.map(Fen::counted),
                discrepancy_id: r.discrepancy_id,
            })
            .collect(),
        total,
        page,
        page_size: LIST_PAGE_SIZE,
    })
}
