//! Putting the week's rating together from what the other pages already
//! compute: each area's dispatch table (progress in full, now and a week
//! before), its visit summary, its old discrepancy items and its
//! reconciliation mismatches.

use std::collections::BTreeMap;

use chrono::Duration;

use crate::access::{self, Caller, Reach};
use crate::areas::{Area, AreaCode, AreaLevel};
use crate::error::{AppError, AppResult};
use crate::ratings::model::{OLD_DAYS, RatingRow, RatingsView, rank};
use crate::reconciliation::Outcome;
use crate::server::deps::Deps;
use crate::subsidies::{StatYear, china_date};
use crate::text::zh;

/// The rating of `code` (a province or a city) for the report week ending
/// `as_of` (the current one when empty).
pub async fn ratings_view(
    deps: &Deps,
    caller: &Caller,
    code: &str,
    as_of: Option<&str>,
) -> AppResult<RatingsView> {
    let store = deps.store.as_ref();
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    access::area(store, caller, &code, Reach::Supervise, "ratings").await?;
    if !matches!(code.level(), AreaLevel::Province | AreaLevel::City) {
        return Err(AppError::validation("区划代码", zh::RATINGS_WRONG_LEVEL));
    }
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;
    let week =
        crate::weekly::service::week_of(crate::weekly::service::schedule(deps), as_of, deps.now())?;
    let as_of_text = week.as_of.to_string();
    let parents: Vec<Area> = if code.level() == AreaLevel::Province {
        store.child_areas(&code).await?
    } else {
        vec![area.clone()]
    };
    let cities = if code.level() == AreaLevel::Province {
        let mut rows = rows_of(deps, caller, &area, &as_of_text, None).await?;
        rank(&mut rows);
        rows
    } else {
        Vec::new()
    };
    let mut counties = Vec::new();
    for city in &parents {
        let parent = (code.level() == AreaLevel::Province).then(|| city.name.clone());
        counties.extend(rows_of(deps, caller, city, &as_of_text, parent).await?);
    }
    rank(&mut counties);
    Ok(RatingsView {
        area,
        as_of: week.as_of,
        week_before: week.as_of - Duration::days(7),
        cities,
        counties,
    })
}

/// One row per child area of `parent`.
async fn rows_of(
    deps: &Deps,
    caller: &Caller,
    parent: &Area,
    as_of: &str,
    parent_name: Option<String>,
) -> AppResult<Vec<RatingRow>> {
    let store = deps.store.as_ref();
    let table =
        crate::reports::service::dispatch_table(store, caller, parent.code.as_str(), Some(as_of))
            .await?;
    let year = StatYear(table.stat_year);
    let child_len = parent
        .code
        .level()
        .child()
        .unwrap_or(parent.code.level())
        .prefix_len();
    let prefix = |a: &AreaCode| a.as_str()[..child_len].to_owned();
    let visited: BTreeMap<String, i64> = store
        .child_area_summaries(&parent.code, year.0)
        .await?
        .into_iter()
        .map(|s| (prefix(&s.area.code), s.percent_visited()))
        .collect();
    let old: BTreeMap<String, i64> = store
        .open_discrepancies_before(&parent.code, deps.now() - Duration::days(OLD_DAYS))
        .await?
        .into_iter()
        .collect();
    let mut mismatches: BTreeMap<String, i64> = BTreeMap::new();
    for f in store
        .reconciliation_figures(&parent.code, year.0, china_date(deps.now()))
        .await?
        .0
    {
        if f.outcome.is_mismatch() && f.outcome != Outcome::NotDueYet {
            *mismatches.entry(f.group).or_default() += f.keys;
        }
    }
    Ok(table
        .rows
        .into_iter()
        .map(|r| {
            let p = prefix(&r.area.code);
            RatingRow {
                full_percent: r.all.percent_full(),
                full_percent_before: r.all_week_before.percent_full(),
                visited_percent: visited.get(&p).copied().unwrap_or(0),
                open_old: old.get(&p).copied().unwrap_or(0),
                mismatches: mismatches.get(&p).copied().unwrap_or(0),
                parent: parent_name.clone(),
                area: r.area,
                rank: 0,
                rank_before: 0,
            }
        })
        .collect())
}
