//! Area overviews for supervisors and administrators.

use crate::areas::{AreaCode, AreaOverview, AreaSummary};
use crate::auth::Role;
use crate::auth::service::deny;
use crate::error::{AppError, AppResult};
use crate::server::db::Store;
use crate::server::session::Caller;

pub async fn overview(store: &dyn Store, caller: &Caller, code: &str) -> AppResult<AreaOverview> {
    let actor = &caller.actor;
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    // Field workers work from their household list; area figures are for
    // those who supervise.
    if actor.role == Role::FieldWorker || !actor.area.contains(&code) {
        return deny(store, caller, "area_overview", code.as_str()).await;
    }
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;
    let mut breadcrumbs = Vec::new();
    let mut cursor = code.parent();
    while let Some(c) = cursor {
        if !actor.area.contains(&c) {
            break;
        }
        if let Some(a) = store.area(&c).await? {
            breadcrumbs.push(a);
        }
        cursor = c.parent();
    }
    breadcrumbs.reverse();
    let children = store.child_area_summaries(&code).await?;
    let total = match code.parent() {
        // A village has no children to add up: take its line from its township.
        Some(parent) if children.is_empty() => store
            .child_area_summaries(&parent)
            .await?
            .into_iter()
            .find(|s| s.area.code == code)
            .ok_or(AppError::NotFound)?,
        _ => AreaSummary {
            area: area.clone(),
            households: children.iter().map(|c| c.households).sum(),
            monitored: children.iter().map(|c| c.monitored).sum(),
            unassigned: children.iter().map(|c| c.unassigned).sum(),
        },
    };
    Ok(AreaOverview {
        area,
        breadcrumbs,
        children,
        total,
    })
}
