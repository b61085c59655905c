//! Who is calling and what they may reach: the caller every service is
//! handed, the refusals (audited), and one guard per kind of record that
//! fetches it, checks the caller's scope and returns it. Depends on the
//! store and the auth model only, not on the server that resolves the
//! caller from a cookie (`server::session`), so every domain service can
//! use it without depending on the server.

use uuid::Uuid;

use crate::areas::AreaCode;
use crate::auth::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::server::db::{
    AuditEvent, DiscrepancyRecord, HouseholdRecord, Store, StoredVisit, UserRecord,
};

/// The signed-in user plus where the request came from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub address: Option<String>,
}

/// The actor a user record signs in as (with its area's name).
pub async fn actor_from(store: &dyn Store, user: UserRecord) -> AppResult<Actor> {
    let area_name = store
        .area(&user.area)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    Ok(Actor {
        user_id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        area: user.area,
        area_name,
    })
}

/// Refuses a record the caller may not see, or an area outside theirs, in
/// exactly the words used for one that does not exist (404,
/// [`AppError::NotFound`]): whether an id or code exists outside one's
/// scope is itself not to be learnt. The refusal is still logged and
/// audited. Callers check the role first ([`deny_role`]) so that what a
/// role may never do is refused the same way whatever the id.
pub async fn deny<T>(
    store: &dyn Store,
    caller: &Caller,
    action: &str,
    target: &str,
) -> AppResult<T> {
    refuse(store, caller, action, target).await?;
    Err(AppError::NotFound)
}

/// Refuses what the caller's role may never do, whatever record it names
/// (403, [`AppError::Forbidden`]): a field worker opening an area page or
/// the user list, anyone but a field worker downloading a roster, anyone
/// but the province setting a threshold. The answer depends on the role
/// alone, so it tells nothing about any record. Audited like [`deny`].
pub async fn deny_role<T>(
    store: &dyn Store,
    caller: &Caller,
    action: &str,
    target: &str,
) -> AppResult<T> {
    refuse(store, caller, action, target).await?;
    Err(AppError::Forbidden)
}

async fn refuse(store: &dyn Store, caller: &Caller, action: &str, target: &str) -> AppResult<()> {
    tracing::warn!(
        user = %caller.actor.username,
        action,
        target,
        address = ?caller.address,
        "access outside the caller's scope refused"
    );
    audit(store, caller, action, target, "forbidden").await
}

/// Writes one line of the audit trail for what the caller did.
pub async fn audit(
    store: &dyn Store,
    caller: &Caller,
    action: &str,
    target: &str,
    outcome: &str,
) -> AppResult<()> {
    store
        .record_audit(&AuditEvent {
            user_id: Some(caller.actor.user_id),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: outcome.to_owned(),
            address: caller.address.clone(),
        })
        .await?;
    Ok(())
}

/// How far a caller's scope must hold what they ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// To read and work on it: inside the caller's area, and a household
    /// also assigned to them if they are a field worker ([`may_see`]).
    See,
    /// To oversee it: anyone above the field whose area holds it
    /// ([`Actor::supervises`]). A field worker is refused for the role
    /// before anything is looked up, so that answer tells nothing about
    /// the record.
    Supervise,
}

/// The access rule for one household: inside the caller's area, and for a
/// field worker also assigned to them.
pub fn may_see(caller: &Caller, household: &HouseholdRecord) -> bool {
    let actor = &caller.actor;
    actor.area.contains(&household.village)
        && (actor.role != Role::FieldWorker || household.worker_id == Some(actor.user_id))
}

/// The household `id` if the caller's scope holds it as `reach` asks; an
/// unknown one is [`AppError::NotFound`], one out of reach is refused as
/// unknown and audited under `action`.
pub async fn household(
    store: &dyn Store,
    caller: &Caller,
    id: Uuid,
    reach: Reach,
    action: &str,
) -> AppResult<HouseholdRecord> {
    let target = id.to_string();
    if reach == Reach::Supervise {
        above_the_field(store, caller, action, &target).await?;
    }
    let household = store.household(id).await?.ok_or(AppError::NotFound)?;
    let in_reach = match reach {
        Reach::See => may_see(caller, &household),
        Reach::Supervise => caller.actor.supervises(&household.village),
    };
    if !in_reach {
        return deny(store, caller, action, &target).await;
    }
    Ok(household)
}

/// Whether the caller's scope holds area `code` as `reach` asks; refusals
/// audited under `action`. Whether the area exists is the caller's to
/// check (some answer a missing one as unknown, some as a form error).
pub async fn area(
    store: &dyn Store,
    caller: &Caller,
    code: &AreaCode,
    reach: Reach,
    action: &str,
) -> AppResult<()> {
    if reach == Reach::Supervise {
        above_the_field(store, caller, action, code.as_str()).await?;
    }
    let in_reach = match reach {
        Reach::See => caller.actor.area.contains(code),
        Reach::Supervise => caller.actor.supervises(code),
    };
    if !in_reach {
        return deny(store, caller, action, code.as_str()).await;
    }
    Ok(())
}

/// Area `code` as typed, overseen by the caller (as [`area`] with
/// [`Reach::Supervise`]) and of `level`; `wrong_level` says which level
/// the page needs. For the pages made per county or per village.
pub async fn supervised_at(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    level: crate::areas::AreaLevel,
    action: &str,
    wrong_level: &str,
) -> AppResult<AreaCode> {
    let code = AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))?;
    area(store, caller, &code, Reach::Supervise, action).await?;
    if code.level() != level {
        return Err(AppError::validation("区划代码", wrong_level));
    }
    Ok(code)
}

/// The stored visit `id` if the caller supervises its household's village
/// (visits are overseen, not seen, through this guard); refusals name the
/// visit.
pub async fn visit(
    store: &dyn Store,
    caller: &Caller,
    id: Uuid,
    action: &str,
) -> AppResult<StoredVisit> {
    let target = id.to_string();
    above_the_field(store, caller, action, &target).await?;
    let visit = store.visit(id).await?.ok_or(AppError::NotFound)?;
    let household = store
        .household(visit.visit.household_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !caller.actor.supervises(&household.village) {
        return deny(store, caller, action, &target).await;
    }
    Ok(visit)
}

/// The discrepancy `id` if the caller supervises its household's village.
pub async fn discrepancy(
    store: &dyn Store,
    caller: &Caller,
    id: Uuid,
    action: &str,
) -> AppResult<DiscrepancyRecord> {
    let target = id.to_string();
    above_the_field(store, caller, action, &target).await?;
    let record = store.discrepancy(id).await?.ok_or(AppError::NotFound)?;
    if !caller.actor.supervises(&record.village.code) {
        return deny(store, caller, action, &target).await;
    }
    Ok(record)
}

/// Refuses a field worker for the role (what only those above the field
/// may do).
async fn above_the_field(
    store: &dyn Store,
    caller: &Caller,
    action: &str,
    target: &str,
) -> AppResult<()> {
    if caller.actor.role == Role::FieldWorker {
        return deny_role(store, caller, action, target).await;
    }
    Ok(())
}
