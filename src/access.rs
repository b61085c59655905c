//! Who is calling and what they may reach: the caller every service is
//! handed, the refusals (audited), and one guard per kind of record that
//! fetches it, checks the caller's scope and returns it. Depends on the
//! store and the auth model only, not on the server that resolves the
//! caller from a cookie (`server::session`), so every domain service can
//! use it without depending on the server.

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::server::db::{AuditEvent, Store, UserRecord};

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
