//! Building the dispatch table from the store's per-area, per-item figures.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::access::{self, Caller, Reach};
use crate::areas::service::breadcrumbs;
use crate::areas::{AreaCode, AreaLevel};
use crate::error::{AppError, AppResult};
use crate::reports::{DispatchFigure, DispatchRow, DispatchTable, ItemColumn, Progress};
use crate::server::db::Store;
use crate::subsidies::{StatYear, china_date};

/// The dispatch table of area `code` as of `as_of` (`YYYY-MM-DD`, China
/// date; today when empty).
pub async fn dispatch_table(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    as_of: Option<&str>,
) -> AppResult<DispatchTable> {
    let actor = &caller.actor;
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    access::area(store, caller, &code, Reach::Supervise, "dispatch_table").await?;
    let today = china_date(Utc::now());
    let as_of = parse_as_of(as_of, today)?;
    let week_before = as_of - Duration::days(7);
    let year = StatYear::containing(as_of);
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;

    // What is due does not depend on the date: read it once.
    let due = store.dispatch_due(&code, year.0).await?;
    let mut now = due.clone();
    now.extend(store.dispatch_paid(&code, year.0, as_of).await?);
    let mut before = due;
    before.extend(store.dispatch_paid(&code, year.0, week_before).await?);
    let catalogue = store.subsidy_items().await?;
    let items: Vec<ItemColumn> = catalogue
        .into_iter()
        .filter(|i| {
            now.iter()
                .any(|f| f.item_code == i.code && f.progress.due > 0)
        })
        .map(|i| ItemColumn {
            code: i.code,
            name: i.name,
        })
        .collect();
    let children = if code.level() == AreaLevel::Village {
        vec![area.clone()]
    } else {
        store.child_areas(&code).await?
    };
    let mut rows: Vec<DispatchRow> = children
        .into_iter()
        .map(|a| DispatchRow::new(a, items.len()))
        .collect();
    let mut total = DispatchRow::new(area.clone(), items.len());
    for (figures, week_before) in [(&now, false), (&before, true)] {
        for f in figures {
            let Some(i) = items.iter().position(|c| c.code == f.item_code) else {
                continue; // nothing due now: a week earlier cannot differ
            };
            let Some(row) = rows.iter_mut().find(|r| r.area.code.as_str() == f.child) else {
                continue;
            };
            for r in [row, &mut total] {
                let (cells, all) = if week_before {
                    (&mut r.items_week_before, &mut r.all_week_before)
                } else {
                    (&mut r.items, &mut r.all)
                };
                cells[i].add(&f.progress);
                all.add(&f.progress);
            }
        }
    }
    Ok(DispatchTable {
        chain: crate::ledger::service::stamp(store, &code).await?,
        breadcrumbs: breadcrumbs(store, &actor.area, &code).await?,
        area,
        as_of,
        week_before,
        stat_year: year.0,
        items,
        rows,
        total,
    })
}

/// The store's due and paid figures of `area` merged per child area and
/// item, as the table adds them up; sorted.
pub async fn dispatch_figures(
    store: &dyn Store,
    area: &AreaCode,
    stat_year: i32,
    as_of: NaiveDate,
) -> AppResult<Vec<DispatchFigure>> {
    let mut merged: BTreeMap<(String, String), Progress> = BTreeMap::new();
    let due = store.dispatch_due(area, stat_year).await?;
    let paid = store.dispatch_paid(area, stat_year, as_of).await?;
    for f in due.into_iter().chain(paid) {
        merged
            .entry((f.child, f.item_code))
            .or_default()
            .add(&f.progress);
    }
    Ok(merged
        .into_iter()
        .map(|((child, item_code), progress)| DispatchFigure {
            child,
            item_code,
            progress,
        })
        .collect())
}

pub fn parse_as_of(as_of: Option<&str>, today: NaiveDate) -> AppResult<NaiveDate> {
    let Some(text) = as_of.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(today);
    };
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        AppError::validation("截至日期", format!("“{text}”不是日期，应写作 2027-03-01"))
    })?;
    if date > today {
        return Err(AppError::validation(
            "截至日期",
            format!("截至日期 {date} 晚于今天"),
        ));
    }
    Ok(date)
}

/// The first instant after `day` ends in China (UTC+8): visits started
/// before it count for that day.
pub fn end_of_china_day(day: NaiveDate) -> DateTime<Utc> {
    (day + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        - Duration::hours(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_ends_at_china_midnight() {
        let d = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(
            end_of_china_day(d).to_rfc3339(),
            "2027-03-01T16:00:00+00:00"
        );
    }

    #[test]
    fn as_of_defaults_to_today_and_refuses_bad_or_future_dates() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(parse_as_of(None, today).unwrap(), today);
        assert_eq!(parse_as_of(Some(" "), today).unwrap(), today);
        assert_eq!(
            parse_as_of(Some("2027-02-20"), today).unwrap(),
            NaiveDate::from_ymd_opt(2027, 2, 20).unwrap()
        );
        let bad = parse_as_of(Some("2027-2-30"), today)
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("2027-2-30") && bad.contains("截至日期"),
            "{bad}"
        );
        let future = parse_as_of(Some("2027-03-02"), today)
            .unwrap_err()
            .to_string();
        assert!(future.contains("晚于今天"), "{future}");
    }
}
