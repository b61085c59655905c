//! Plans over the store: who may read and change a household's plan, the
//! checks of every form (before anything is written), and the view with
//! phones masked and overdue measures marked.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::access::{self, Caller, Reach};
use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::households::id_number::mask_phone;
use crate::plans::{
    MeasureDraft, MeasureEntry, MeasureStatusDraft, MeasureView, PlanDraft, PlanPage, PlanView,
};
use crate::server::db::{
    DbError, IncomeWork, MeasureEvent, NewPlan, ONE_PLAN_PER_HOUSEHOLD, PlanWrite, Store,
};
use crate::subsidies::china_time;

const PLAN_EXISTS: &str = "该户已有帮扶计划（一户一策），请在原计划上修改";
const NO_PLAN_YET: &str = "该户尚无帮扶计划，请先建立计划";

/// The household's plan as `caller` may see it: the responsible cadre's
/// phone masked below township level (phones are personal data; those who
/// supervise the worker need to call them).
pub async fn page(
    store: &dyn Store,
    caller: &Caller,
    household_id: Uuid,
    today: NaiveDate,
) -> AppResult<PlanPage> {
    access::household(store, caller, household_id, Reach::See, "get_plan").await?;
    let Some(plan) = store.plan_of_household(household_id).await? else {
        return Ok(PlanPage {
            household_id,
            plan: None,
            today,
        });
    };
    let mut history: HashMap<Uuid, Vec<MeasureEntry>> = HashMap::new();
    for row in store.measure_history(household_id).await? {
        let e = row.event;
        history.entry(e.measure_id).or_default().push(MeasureEntry {
            at_local: local(e.at),
            user_name: row.user_name,
            status: e.status,
            done_on: e.done_on,
            drop_reason: e.drop_reason,
            note: e.note,
            visit_local: row.visit_started_at.map(local),
        });
    }
    let phone_masked = caller.actor.role < Role::TownshipSupervisor;
    Ok(PlanPage {
        household_id,
        plan: Some(PlanView {
            id: plan.id,
            responsible_name: plan.responsible_name,
            responsible_phone: if phone_masked {
                mask_phone(&plan.responsible_phone)
            } else {
                plan.responsible_phone
            },
            phone_masked,
            labour_situation: plan.labour_situation,
            health_situation: plan.health_situation,
            updated_local: local(plan.updated_at),
            measures: plan
                .measures
                .into_iter()
                .map(|m| MeasureView {
                    overdue: m.is_overdue(today),
                    history: history.remove(&m.id).unwrap_or_default(),
                    measure: m,
                })
                .collect(),
        }),
        today,
    })
}

/// Creates the household's plan. The database's one-plan rule decides a
/// race between two creators; the loser is told to edit the plan instead.
pub async fn create(
    store: &dyn Store,
    caller: &Caller,
    household_id: Uuid,
    draft: &PlanDraft,
) -> AppResult<()> {
    access::household(store, caller, household_id, Reach::See, "create_plan").await?;
    let d = draft.check(false)?;
    let plan = NewPlan {
        plan: PlanWrite {
            id: Uuid::now_v7(),
            household_id,
            responsible_name: d.responsible_name,
            responsible_phone: d.responsible_phone,
            labour_situation: d.labour_situation,
            health_situation: d.health_situation,
            by: caller.actor.user_id,
            at: Utc::now(),
        },
        measures: Vec::new(),
        events: Vec::new(),
    };
    match store.insert_plans(std::slice::from_ref(&plan)).await {
        Err(DbError::Conflict { constraint }) if constraint == ONE_PLAN_PER_HOUSEHOLD => {
            Err(AppError::Conflict(PLAN_EXISTS.into()))
        }
        other => Ok(other?),
    }
}

/// Edits the plan's own fields; an empty phone keeps the one on file.
pub async fn update(
    store: &dyn Store,
    caller: &Caller,
    household_id: Uuid,
    draft: &PlanDraft,
) -> AppResult<()> {
    access::household(store, caller, household_id, Reach::See, "update_plan").await?;
    let plan = store
        .plan_of_household(household_id)
        .await?
        .ok_or_else(|| AppError::Conflict(NO_PLAN_YET.into()))?;
    let d = draft.check(true)?;
    let phone = if d.responsible_phone.is_empty() {
        plan.responsible_phone
    } else {
        d.responsible_phone
    };
    store
        .update_plan(&PlanWrite {
            id: plan.id,
            household_id,
            responsible_name: d.responsible_name,
            responsible_phone: phone,
            labour_situation: d.labour_situation,
            health_situation: d.health_situation,
            by: caller.actor.user_id,
            at: Utc::now(),
        })
        .await?;
    Ok(())
}

/// Adds a planned measure to the household's plan; its history starts
/// with this online entry.
pub async fn add_measure(
    store: &dyn Store,
    caller: &Caller,
    household_id: Uuid,
    draft: &MeasureDraft,
    today: NaiveDate,
) -> AppResult<Uuid> {
    access::household(store, caller, household_id, Reach::See, "add_measure").await?;
    let plan = store
        .plan_of_household(household_id)
        .await?
        .ok_or_else(|| AppError::Conflict(NO_PLAN_YET.into()))?;
    let measure = draft.check(Uuid::now_v7(), today)?;
    let created = MeasureEvent {
        id: Uuid::now_v7(),
        measure_id: measure.id,
        visit_id: None,
        user_id: caller.actor.user_id,
        status: measure.status,
        done_on: None,
        drop_reason: None,
        note: measure.note.clone(),
        at: Utc::now(),
    };
    store
        .insert_measure(
            plan.id,
            household_id,
            &measure,
            &created,
            &signals_follow(household_id),
        )
        .await?;
    Ok(measure.id)
}

/// Moves a measure online (not during a visit): same rules as a visit's
/// update, and the move joins the measure's history.
pub async fn set_status(
    store: &dyn Store,
    caller: &Caller,
    household_id: Uuid,
    measure_id: Uuid,
    draft: &MeasureStatusDraft,
    today: NaiveDate,
) -> AppResult<()> {
    access::household(
        store,
        caller,
        household_id,
        Reach::See,
        "set_measure_status",
    )
    .await?;
    let update = draft.check(measure_id, today)?;
    store
        .update_measure(
            household_id,
            &update,
            caller.actor.user_id,
            Utc::now(),
            &signals_follow(household_id),
        )
        .await?;
    Ok(())
}

/// A measure added or moved changes the household's signals (overdue, no
/// measure) and its village's implementation rate: the current year's
/// account is recomputed, queued with the change.
fn signals_follow(household_id: Uuid) -> Vec<IncomeWork> {
    let year = crate::subsidies::StatYear::containing(crate::subsidies::china_date(Utc::now()));
    vec![IncomeWork {
        household_id,
        stat_year: year.0,
    }]
}

fn local(at: chrono::DateTime<Utc>) -> String {
    china_time(at).format("%Y-%m-%d %H:%M").to_string()
}
