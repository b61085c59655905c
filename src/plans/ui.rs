//! The plan section of the household page: the plan, its measures with
//! their history, and the forms to create, edit, add and move them. The
//! forms tuck into `<details>` so the page stays short on a phone.

use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use uuid::Uuid;

use crate::components::{
    ErrorNotice, Loading, RowKey, anchor_for, form_action, form_action_at, row_anchor,
};
use crate::error::AppError;
use crate::plans::api::{AddMeasure, CreatePlan, SetMeasureStatus, UpdatePlan, get_plan};
use crate::plans::{
    MeasureCategory, MeasureEntry, MeasureStatus, MeasureView, PlanDraft, PlanPage, PlanView,
};
use crate::text::zh;

/// Bumped by every form that saved, so the section reads the plan again.
/// A failed save does not re-read: the form keeps what was typed.
#[derive(Clone, Copy)]
struct Saved(RwSignal<u32>);

/// The household's plan, for its worker and those who supervise them.
#[component]
pub fn PlanSection(household_id: Uuid) -> impl IntoView {
    let saved = RwSignal::new(0u32);
    provide_context(Saved(saved));
    let page = Resource::new(move || saved.get(), move |_| get_plan(household_id));
    view! {
        <section class="card plan" data-testid="plan">
            <h2>{zh::PLAN_TITLE}</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => Either::Left(view! { <PlanBody p/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PlanBody(p: PlanPage) -> impl IntoView {
    let household_id = p.household_id;
    let today = p.today;
    match p.plan {
        None => Either::Left(view! {
            <p class="empty" data-testid="no-plan">{zh::NO_PLAN}</p>
            <CreatePlanForm household_id/>
        }),
        Some(plan) => Either::Right(view! { <PlanDetails plan household_id today/> }),
    }
}

#[component]
fn PlanDetails(plan: PlanView, household_id: Uuid, today: chrono::NaiveDate) -> impl IntoView {
    let (done, overdue) = plan.counts();
    let total = plan.measures.len();
    let no_measures = plan.measures.is_empty();
    // A masked phone cannot be prefilled: left empty, it keeps the number.
    let phone_kept = plan.phone_masked.then(|| plan.responsible_phone.clone());
    let prefill = PlanDraft {
        responsible_name: plan.responsible_name.clone(),
        responsible_phone: if plan.phone_masked {
            String::new()
        } else {
            plan.responsible_phone.clone()
        },
        labour_situation: plan.labour_situation.clone(),
        health_situation: plan.health_situation.clone(),
    };
    view! {
        <dl class="facts plan-facts">
            <dt>{zh::RESPONSIBLE}</dt><dd data-testid="responsible">{plan.responsible_name}</dd>
            <dt>{zh::PHONE}</dt><dd class="mono" data-testid="responsible-phone">{plan.responsible_phone}</dd>
            <dt>{zh::LABOUR_SITUATION}</dt><dd>{plan.labour_situation}</dd>
            <dt>{zh::HEALTH_SITUATION}</dt><dd>{plan.health_situation}</dd>
        </dl>
        <p class="muted plan-updated">{zh::PLAN_UPDATED} {plan.updated_local}</p>
        <details class="plan-more">
            <summary>{zh::EDIT_PLAN}</summary>
            <EditPlanForm prefill household_id phone_kept/>
        </details>

        <h3>{zh::MEASURES}</h3>
        {if no_measures {
            Either::Left(view! { <p class="empty">{zh::NO_MEASURES}</p> })
        } else {
            Either::Right(view! {
                <p class="measure-counts" data-testid="measure-counts">
                    {zh::measure_counts(total, done)}
                    {(overdue > 0).then(|| view! { " " <span class="tag tag-red">{zh::overdue_count(overdue)}</span> })}
                </p>
                <ul class="measures" data-testid="measures">
                    {plan.measures.into_iter().map(|m| view! { <MeasureCard m household_id today/> }).collect_view()}
                </ul>
            })
        }}
        <details class="plan-more" open=no_measures>
            <summary>{zh::ADD_MEASURE}</summary>
            <MeasureForm household_id today/>
        </details>
    }
}

fn status_class(status: MeasureStatus) -> &'static str {
    match status {
        MeasureStatus::Planned => "tag tag-blue",
        MeasureStatus::InProgress => "tag tag-amber",
        MeasureStatus::Done => "tag tag-green",
        MeasureStatus::Dropped => "tag tag-grey",
    }
}

#[component]
fn MeasureCard(m: MeasureView, household_id: Uuid, today: chrono::NaiveDate) -> impl IntoView {
    let overdue = m.overdue;
    let history = m.history;
    let x = m.measure;
    let class = if overdue {
        "measure measure-overdue"
    } else {
        "measure"
    };
    let funding = if x.funding.0 == 0 {
        zh::NO_FUNDING.to_owned()
    } else if x.funding_source.is_empty() {
        format!("{}{}", x.funding, zh::YUAN)
    } else {
        format!("{}{} · {}", x.funding, zh::YUAN, x.funding_source)
    };
    let note = x.note.clone();
    view! {
        <li class=class data-testid="measure" data-status=x.status.as_str()>
            <div class="measure-head">
                <span class="tag tag-purple">{x.category.label()}</span>
                <span class=status_class(x.status) data-testid="measure-status">{x.status.label()}</span>
                {overdue.then(|| view! { <span class="tag tag-red" data-testid="overdue">{zh::OVERDUE_TAG}</span> })}
            </div>
            <p class="measure-action">{x.action}</p>
            <dl class="facts">
                <dt>{zh::FUNDING}</dt><dd>{funding}</dd>
                <dt>{zh::DUE_ON}</dt><dd class:overdue-date=overdue>{x.due_on.to_string()}</dd>
                <dt>{zh::EXPECTED_INCOME}</dt><dd>{x.expected_income.to_string()} {zh::YUAN}</dd>
                {x.done_on.map(|d| view! { <dt>{zh::DONE_ON}</dt><dd>{d.to_string()}</dd> })}
                {x.drop_reason.map(|r| view! { <dt>{zh::DROP_REASON}</dt><dd>{r}</dd> })}
                {(!x.note.is_empty()).then(|| view! { <dt>{zh::MEASURE_REMARK}</dt><dd>{x.note}</dd> })}
            </dl>
            {(!history.is_empty()).then(|| view! { <History history/> })}
            <details class="plan-more">
                <summary>{zh::UPDATE_MEASURE}</summary>
                <StatusForm household_id measure_id=x.id status=x.status note today/>
            </details>
        </li>
    }
}

#[component]
fn History(history: Vec<MeasureEntry>) -> impl IntoView {
    let count = history.len();
    view! {
        <details class="measure-history">
            <summary>{zh::MEASURE_HISTORY} "（" {count} "）"</summary>
            <ol data-testid="measure-history">
                {history.into_iter().map(|e| {
                    let source = match e.visit_local {
                        Some(v) => format!("{}{v}", zh::MOVED_IN_VISIT),
                        None => zh::MOVED_ONLINE.to_owned(),
                    };
                    let detail = [
                        e.done_on.map(|d| d.to_string()),
                        e.drop_reason,
                        (!e.note.is_empty()).then_some(e.note),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                    view! {
                        <li>
                            <span class="muted">{e.at_local} " · " {e.user_name} " · " {source}</span>
                            " " <strong>{e.status.label()}</strong>
                            {(!detail.is_empty()).then(|| view! { <span>"：" {detail}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </details>
    }
}

/// The problem of the last save, if it failed.
type Problem = Signal<Option<AppError>>;

/// The message under the field a validation error names.
#[component]
fn FieldNote(problem: Problem, field: &'static str) -> impl IntoView {
    move || match problem.get() {
        Some(AppError::Validation { field: f, message }) if f == field => Some(view! {
            <p class="field-problem" role="alert" data-testid="field-problem" data-field=field>{message}</p>
        }),
        _ => None,
    }
}

/// Any other failure (a second plan, no access, the network), above the
/// button.
#[component]
fn FormProblem(problem: Problem) -> impl IntoView {
    move || match problem.get() {
        None | Some(AppError::Validation { .. }) => None,
        Some(e) => Some(
            view! { <p class="notice notice-error" role="alert" data-testid="form-error">{e.to_string()}</p> },
        ),
    }
}

/// Watches a form's action: a save re-reads the plan, a failure stays
/// on screen.
fn watch<S>(action: ServerAction<S>) -> Problem
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let saved = expect_context::<Saved>().0;
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            saved.update(|n| *n += 1);
        }
    });
    Problem::derive(move || action.value().get().and_then(Result::err))
}

#[component]
fn CreatePlanForm(household_id: Uuid) -> impl IntoView {
    let action = form_action::<CreatePlan>();
    let problem = watch(action);
    view! {
        <ActionForm action attr:class="plan-form" attr:data-testid="create-plan" attr:id=anchor_for(&action)>
            <input type="hidden" name="household_id" value=household_id.to_string()/>
            <PlanFields problem prefill=PlanDraft::default() phone_kept=None creating=true/>
            <FormProblem problem/>
            <button type="submit" class="btn btn-primary btn-block" data-testid="save-plan"
                disabled=move || action.pending().get()>{zh::CREATE_PLAN}</button>
        </ActionForm>
    }
}

#[component]
fn EditPlanForm(
    prefill: PlanDraft,
    household_id: Uuid,
    phone_kept: Option<String>,
) -> impl IntoView {
    let action = form_action::<UpdatePlan>();
    let problem = watch(action);
    view! {
        <ActionForm action attr:class="plan-form" attr:data-testid="edit-plan" attr:id=anchor_for(&action)>
            <input type="hidden" name="household_id" value=household_id.to_string()/>
            <PlanFields problem prefill phone_kept creating=false/>
            <FormProblem problem/>
            <button type="submit" class="btn btn-primary btn-block" data-testid="save-plan"
                disabled=move || action.pending().get()>{zh::SAVE_PLAN}</button>
        </ActionForm>
    }
}

/// The plan's own fields, prefilled; with `phone_kept` (the masked number
/// on file) the phone may stay empty.
#[component]
fn PlanFields(
    problem: Problem,
    prefill: PlanDraft,
    phone_kept: Option<String>,
    creating: bool,
) -> impl IntoView {
    let phone_hint = match &phone_kept {
        Some(masked) => format!("{}{masked}", zh::PHONE_KEEP_HINT),
        None => zh::PHONE_HINT.to_owned(),
    };
    view! {
        <label class="field">
            <span>{zh::RESPONSIBLE}</span>
            <input type="text" name="responsible_name" value=prefill.responsible_name maxlength="30" autocomplete="off" required/>
            <FieldNote problem field="responsible_name"/>
        </label>
        <label class="field">
            <span>{zh::PHONE}</span>
            <input type="tel" name="responsible_phone" value=prefill.responsible_phone inputmode="tel" autocomplete="off"
                placeholder=phone_hint required=creating/>
            <FieldNote problem field="responsible_phone"/>
        </label>
        <label class="field">
            <span>{zh::LABOUR_SITUATION}</span>
            <textarea name="labour_situation" class="input" rows="2" maxlength="500" placeholder=zh::LABOUR_HINT required>{prefill.labour_situation}</textarea>
            <FieldNote problem field="labour_situation"/>
        </label>
        <label class="field">
            <span>{zh::HEALTH_SITUATION}</span>
            <textarea name="health_situation" class="input" rows="2" maxlength="500" placeholder=zh::HEALTH_HINT required>{prefill.health_situation}</textarea>
            <FieldNote problem field="health_situation"/>
        </label>
    }
}

#[component]
fn MeasureForm(household_id: Uuid, today: chrono::NaiveDate) -> impl IntoView {
    let action = form_action::<AddMeasure>();
    let problem = watch(action);
    view! {
        <ActionForm action attr:class="plan-form" attr:data-testid="add-measure" attr:id=anchor_for(&action)>
            <input type="hidden" name="household_id" value=household_id.to_string()/>
            <label class="field">
                <span>{zh::MEASURE_CATEGORY}</span>
                <select name="category">
                    {MeasureCategory::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                </select>
                <FieldNote problem field="category"/>
            </label>
            <label class="field">
                <span>{zh::MEASURE_ACTION}</span>
                <textarea name="action" class="input" rows="2" maxlength="500" placeholder=zh::MEASURE_ACTION_HINT required></textarea>
                <FieldNote problem field="action"/>
            </label>
            <label class="field">
                <span>{zh::FUNDING_YUAN}</span>
                <input type="text" name="funding" value="0" inputmode="decimal" autocomplete="off" required/>
                <FieldNote problem field="funding"/>
            </label>
            <label class="field">
                <span>{zh::FUNDING_SOURCE}</span>
                <input type="text" name="funding_source" maxlength="500" placeholder=zh::FUNDING_SOURCE_HINT autocomplete="off"/>
                <FieldNote problem field="funding_source"/>
            </label>
            <label class="field">
                <span>{zh::DUE_ON}</span>
                <input type="date" name="due_on" min=(today - chrono::Duration::days(crate::plans::MAX_DAYS_DUE_BEFORE_TODAY)).to_string() required/>
                <FieldNote problem field="due_on"/>
            </label>
            <label class="field">
                <span>{zh::EXPECTED_INCOME_YUAN}</span>
                <input type="text" name="expected_income" value="0" inputmode="decimal" autocomplete="off" required/>
                <FieldNote problem field="expected_income"/>
            </label>
            <label class="field">
                <span>{zh::MEASURE_REMARK}</span>
                <textarea name="note" class="input" rows="2" maxlength="500"></textarea>
                <FieldNote problem field="note"/>
            </label>
            <FormProblem problem/>
            <button type="submit" class="btn btn-primary btn-block" data-testid="save-measure"
                disabled=move || action.pending().get()>{zh::ADD_MEASURE}</button>
        </ActionForm>
    }
}

/// Moves one measure. The done date shows only for done and the reason
/// only for dropped, as the rules ask for nothing else.
#[component]
fn StatusForm(
    household_id: Uuid,
    measure_id: Uuid,
    status: MeasureStatus,
    note: String,
    today: chrono::NaiveDate,
) -> impl IntoView {
    let key = measure_id.to_string();
    let action = form_action_at::<SetMeasureStatus>(&key);
    let anchor = row_anchor::<SetMeasureStatus>(&key);
    let problem = watch(action);
    view! {
        <ActionForm action attr:class="plan-form" attr:data-testid="measure-status-form"
            attr:id=anchor>
            <RowKey key/>
            <input type="hidden" name="household_id" value=household_id.to_string()/>
            <input type="hidden" name="measure_id" value=measure_id.to_string()/>
            <label class="field">
                <span>{zh::MEASURE_STATUS}</span>
                <select name="status">
                    {MeasureStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=s == status>{s.label()}</option>
                    }).collect_view()}
                </select>
                <FieldNote problem field="status"/>
            </label>
            // Shown by the stylesheet only for the status chosen (`:has`),
            // with no script; left empty, the one not shown sends nothing.
            <label class="field when-done">
                <span>{zh::DONE_ON}</span>
                <input type="date" name="done_on" max=today.to_string()/>
                <FieldNote problem field="done_on"/>
            </label>
            <label class="field when-dropped">
                <span>{zh::DROP_REASON}</span>
                <textarea name="drop_reason" class="input" rows="2" maxlength="500"></textarea>
                <FieldNote problem field="drop_reason"/>
            </label>
            <label class="field">
                <span>{zh::MEASURE_REMARK}</span>
                <textarea name="note" class="input" rows="2" maxlength="500">{note}</textarea>
                <FieldNote problem field="note"/>
            </label>
            <FormProblem problem/>
            <button type="submit" class="btn btn-primary btn-block" data-testid="save-status"
                disabled=move || action.pending().get()>{zh::SAVE_MEASURE}</button>
        </ActionForm>
    }
}
