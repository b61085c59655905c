//! Household rules: scope checks and masking happen here, on every read.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::areas::{Area, AreaCode};
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::households::id_number::{IdNumber, mask_id_number, mask_phone};
use crate::households::{
    EntitlementView, HouseholdDetail, HouseholdPage, HouseholdSummary, MemberView,
};
use crate::server::db::{AuditEvent, HouseholdQuery, HouseholdRecord, Store};
use crate::server::session::Caller;
use crate::subsidies::{Fen, StatYear};

pub const PAGE_SIZE: u32 = 30;

/// What a household list request asks for.
#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    pub search: Option<String>,
    pub village: Option<String>,
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
            if !actor.area.contains(&code) {
                deny(store, caller, "list_households", code.as_str()).await?;
            }
            Some(code)
        }
    };
    let query = HouseholdQuery {
        scope: actor.area.clone(),
        worker_id: (actor.role == Role::FieldWorker).then_some(actor.user_id),
        village,
        search: filter.search.map(|s| s.chars().take(50).collect()),
        limit: PAGE_SIZE,
        offset: filter.page.saturating_mul(PAGE_SIZE),
    };
    let (rows, total) = store.list_households(&query).await?;
    Ok(HouseholdPage {
        households: rows
            .into_iter()
            .map(|r| HouseholdSummary {
                id: r.id,
                number: r.number,
                head_name: r.head_name,
                category: r.category,
                relocated: r.relocated,
                village: r.village,
                size: r.size,
            })
            .collect(),
        total,
        page: filter.page,
        page_size: PAGE_SIZE,
    })
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
        return Ok(store
            .child_area_summaries(&actor.area)
            .await?
            .into_iter()
            .map(|s| s.area)
            .collect());
    }
    Ok(Vec::new())
}

pub async fn detail(
    store: &dyn Store,
    caller: &Caller,
    id: Uuid,
    today: NaiveDate,
) -> AppResult<HouseholdDetail> {
    let household = store.household(id).await?.ok_or(AppError::NotFound)?;
    if !may_see(caller, &household) {
        deny(store, caller, "get_household", &id.to_string()).await?;
    }
    let village = store
        .area(&household.village)
        .await?
        .ok_or(AppError::NotFound)?;
    let worker_name = match household.worker_id {
        Some(w) => store.user_by_id(w).await?.map(|u| u.display_name),
        None => None,
    };
    let year = StatYear::containing(today);
    let entitlements = store
        .entitlements(id, year.0)
        .await?
        .into_iter()
        .map(|row| EntitlementView {
            id: row.entitlement.id,
            item_code: row.item.code,
            item_name: row.item.name,
            bucket: row.item.bucket,
            expected: Fen(row.entitlement.expected_fen),
            expected_date: row.entitlement.expected_date,
            department: row.entitlement.department,
            channel: row.entitlement.channel,
        })
        .collect();
    let members = household
        .members
        .iter()
        .map(|m| {
            // IDs were validated on the way in; one that no longer parses is
            // shown masked, without the derived fields.
            let parsed = IdNumber::parse(&m.id_number);
            MemberView {
                name: m.name.clone(),
                relation: m.relation.clone(),
                id_number_masked: mask_id_number(&m.id_number),
                sex: parsed
                    .as_ref()
                    .map(|p| p.sex())
                    .unwrap_or(crate::households::id_number::Sex::Male),
                birth_date: parsed.map(|p| p.birth_date()).unwrap_or_default(),
                labour: m.labour,
                health: m.health,
            }
        })
        .collect();
    Ok(HouseholdDetail {
        summary: HouseholdSummary {
            id: household.id,
            number: household.number.clone(),
            head_name: household.head_name.clone(),
            category: household.category,
            relocated: household.relocated,
            village,
            size: household.members.len() as i64,
        },
        phone_masked: household.phone.as_deref().map(mask_phone),
        worker_name,
        members,
        year,
        entitlements,
    })
}

/// The access rule for one household: inside the caller's area, and for a
/// field worker also assigned to them.
pub fn may_see(caller: &Caller, household: &HouseholdRecord) -> bool {
    let actor = &caller.actor;
    actor.area.contains(&household.village)
        && (actor.role != Role::FieldWorker || household.worker_id == Some(actor.user_id))
}

/// Records a refused access and returns `Forbidden`.
pub async fn deny<T>(
    store: &dyn Store,
    caller: &Caller,
    action: &str,
    target: &str,
) -> AppResult<T> {
    tracing::warn!(
        user = %caller.actor.username,
        action,
        target,
        address = ?caller.address,
        "access outside the caller's scope refused"
    );
    store
        .record_audit(&AuditEvent {
            user_id: Some(caller.actor.user_id),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: "forbidden".to_owned(),
            address: caller.address.clone(),
        })
        .await?;
    Err(AppError::Forbidden)
}
