//! Area overviews for supervisors and administrators.

use chrono::Utc;

use crate::access::{self, Caller, Reach};
use crate::areas::{Area, AreaCode, AreaLevel, AreaOverview, AreaSummary, TownshipDetail};
use crate::error::{AppError, AppResult};
use crate::server::db::Store;
use crate::subsidies::{StatYear, china_date};

pub async fn overview(store: &dyn Store, caller: &Caller, code: &str) -> AppResult<AreaOverview> {
    let actor = &caller.actor;
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    // Field workers work from their household list; area figures are for
    // those who supervise.
    access::area(store, caller, &code, Reach::Supervise, "area_overview").await?;
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;
    let breadcrumbs = breadcrumbs(store, &actor.area, &code).await?;
    let today = china_date(Utc::now());
    let year = StatYear::containing(today);
    let children = store.child_area_summaries(&code, year.0).await?;
    let total = match code.parent() {
        // A village has no children to add up: take its line from its township.
        Some(parent) if children.is_empty() => store
            .child_area_summaries(&parent, year.0)
            .await?
            .into_iter()
            .find(|s| s.area.code == code)
            .ok_or(AppError::NotFound)?,
        _ => AreaSummary {
            area: area.clone(),
            households: children.iter().map(|c| c.households).sum(),
            monitored: children.iter().map(|c| c.monitored).sum(),
            unassigned: children.iter().map(|c| c.unassigned).sum(),
            visited: children.iter().map(|c| c.visited).sum(),
        },
    };
    // Above a township the lists would be too long to act on; there the
    // figures per child area are the point.
    let township = if code.level() >= AreaLevel::Township {
        Some(TownshipDetail {
            workers: store.worker_progress(&code, year.0).await?,
            unvisited: store
                .unvisited_households(&code, year.0, UNVISITED_SHOWN)
                .await?,
            recent: store.recent_visits(&code, RECENT_SHOWN).await?,
        })
    } else {
        None
    };
    Ok(AreaOverview {
        area,
        breadcrumbs,
        children,
        total,
        stat_year: year.0,
        days_left: (year.last_day() - today).num_days(),
        township,
        may_import: crate::roster::may_import(actor) && code == actor.area,
    })
}

/// The areas from `from` (the caller's own node) down to, not including,
/// `code`: the way back up that the caller may take.
pub async fn breadcrumbs(
    store: &dyn Store,
    from: &AreaCode,
    code: &AreaCode,
) -> AppResult<Vec<Area>> {
    let mut crumbs = Vec::new();
    let mut cursor = code.parent();
    while let Some(c) = cursor {
        if !from.contains(&c) {
            break;
        }
        if let Some(a) = store.area(&c).await? {
            crumbs.push(a);
        }
        cursor = c.parent();
    }
    crumbs.reverse();
    Ok(crumbs)
}

/// How many not-yet-visited households the dashboard lists (the count shows
/// how many there are; the household list pages through the rest).
pub const UNVISITED_SHOWN: i64 = 50;
/// How many of the newest visits the dashboard lists.
pub const RECENT_SHOWN: i64 = 10;
