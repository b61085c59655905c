//! Recording a visit: the verification form, then the household's
//! confirmation and signature. The draft is saved to the phone on every
//! change; an edit after signing voids the signature (see
//! [`VisitDraft::edit`]).

use std::sync::Arc;

use leptos::either::Either;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::nav::use_nav;
use super::signature_pad::{Pad, SignaturePad};
use super::state::Field;
use crate::field::phone::device;
use crate::field::{MeasureDraft, RosterHousehold, VisitDraft};
use crate::income::IncomeKind;
use crate::plans::{Measure, MeasureStatus};
use crate::subsidies::{Channel, Fen, china_date};
use crate::text::zh;
use crate::visits::{
    EvidenceFor, Location, PaymentStatus, Problem, SIGNER_RELATIONS, ShortfallReason, receipt_code,
    signer_needs_reason,
};

#[component]
pub fn VisitScreen(visit: Uuid, signing: bool) -> impl IntoView {
    let field = expect_context::<Field>();
    Effect::new(|_| device::load_qr_drawer());
    let found = field
        .drafts
        .with_untracked(|d| d.iter().find(|d| d.id == visit).cloned());
    let household = found.as_ref().and_then(|d| {
        field.roster.with_untracked(|r| {
            r.as_ref()
                .and_then(|r| r.household(d.household_id).cloned())
        })
    });
    let (Some(found), Some(household)) = (found, household) else {
        return Either::Left(view! {
            <section class="status-page" data-testid="visit-gone">
                <h1>{zh::VISIT_NOT_OPEN}</h1>
                <a class="btn" href="/field">{zh::BACK_TO_LIST}</a>
            </section>
        });
    };
    let household = Arc::new(household);
    let draft = RwSignal::new(found);
    let saved_at = RwSignal::new(None::<String>);
    // Every change goes to the phone's store at once.
    Effect::new(move |first: Option<()>| {
        let d = draft.get();
        if first.is_some() {
            field.save_draft(d);
            saved_at.set(Some({
                use chrono::Timelike;
                let t = chrono::Local::now();
                format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
            }));
        }
    });
    if draft.with_untracked(|d| d.location.is_none()) {
        spawn_local(async move {
            let location = device::locate().await;
            // A position arriving after the household signed would change
            // what they signed (signing records "unavailable" instead).
            draft.update(|d| {
                if d.location.is_none() && d.signature.is_none() {
                    d.location = Some(location);
                }
            });
        });
    }
    let h = household.clone();
    Either::Right(view! {
        {(!signing).then(|| view! { <a class="back" href=format!("/field?h={}", h.summary.id)>{zh::BACK_TO_HOUSEHOLD}</a> })}
        <h1 class="visit-title">{h.summary.head_name.clone()} <small>{zh::VISIT_TITLE}</small></h1>
        <p class="saved" data-testid="saved-at">
            {move || saved_at.get().map(|t| format!("{}{t}", zh::SAVED_AT)).unwrap_or_else(|| zh::DRAFT_KEPT.to_owned())}
        </p>
        {if signing {
            Either::Left(view! { <SignStep draft household=household.clone()/> })
        } else {
            Either::Right(view! { <FormStep draft household=household.clone()/> })
        }}
    })
}

/// Applies an edit to the draft the way [`VisitDraft::edit`] rules.
fn edit(draft: RwSignal<VisitDraft>, h: &RosterHousehold, change: impl FnOnce(&mut VisitDraft)) {
    draft.update(|d| d.edit(h, chrono::Utc::now(), change));
}

#[component]
fn FormStep(draft: RwSignal<VisitDraft>, household: Arc<RosterHousehold>) -> impl IntoView {
    let problem = RwSignal::new(None::<Problem>);
    let nav = use_nav();
    let h = household.clone();
    let next = move |_| match draft.with_untracked(|d| d.submission(&h, chrono::Utc::now())) {
        Ok(_) => {
            problem.set(None);
            let id = draft.with_untracked(|d| d.id);
            nav.go(&format!("/field?visit={id}&step=sign"));
        }
        Err(p) => {
            problem.set(Some(p));
            scroll_to_problem();
        }
    };
    let h = household.clone();
    let lines = household
        .entitlements
        .iter()
        .enumerate()
        .map(|(i, e)| view! { <LineCard draft household=h.clone() index=i entitlement=e.clone() problem/> })
        .collect_view();
    let h1 = household.clone();
    let h2 = household.clone();
    let measures = household.open_measures().next().is_some().then(|| {
        view! { <MeasuresCard draft household=household.clone() problem/> }
    });
    view! {
        <section class="card">
            <label class="field-label" for="met-with">{zh::MET_WITH_LABEL}</label>
            <input id="met-with" class="input" data-testid="met-with" placeholder=zh::MET_WITH_HINT
                prop:value=move || draft.with(|d| d.met_with.clone())
                on:input=move |ev| { let v = event_target_value(&ev); edit(draft, &h1, |d| d.met_with = v) }/>
            <FieldProblem problem name="met_with"/>
            <LocationLine draft household=household.clone()/>
        </section>
        {lines}
        {measures}
        <IncomeCard draft household=household.clone() problem/>
        <section class="card">
            <PhotoInput draft household=h2.clone()/>
            <label class="field-label" for="notes">{zh::NOTES}</label>
            <textarea id="notes" class="input" rows="3" data-testid="notes"
                prop:value=move || draft.with(|d| d.notes.clone())
                on:input=move |ev| { let v = event_target_value(&ev); edit(draft, &h2, |d| d.notes = v) }></textarea>
            <FieldProblem problem name="notes"/>
            <FieldProblem problem name="photo_base64"/>
        </section>
        {move || problem.get().map(|p| view! { <p class="notice notice-error" role="alert" data-testid="form-problem">{p.message}</p> })}
        <button type="button" class="btn btn-primary btn-block" data-testid="to-confirm" on:click=next>
            {zh::TO_CONFIRM}
        </button>
    }
}

fn scroll_to_problem() {
    // After the problem renders: bring the first one into view.
    request_animation_frame(|| {
        if let Some(el) = document().query_selector(".field-problem").ok().flatten() {
            el.scroll_into_view();
        }
    });
}

#[component]
fn FieldProblem(problem: RwSignal<Option<Problem>>, #[prop(into)] name: String) -> impl IntoView {
    move || {
        problem
            .get()
            .filter(|p| p.field == name)
            .map(|p| view! { <p class="field-problem" role="alert">{p.message}</p> })
    }
}

#[component]
fn LineCard(
    draft: RwSignal<VisitDraft>,
    household: Arc<RosterHousehold>,
    index: usize,
    entitlement: crate::households::EntitlementView,
    problem: RwSignal<Option<Problem>>,
) -> impl IntoView {
    let line = move || draft.with(|d| d.lines.get(index).cloned());
    let status = move || line().and_then(|l| l.status);
    let field = move |name: &str| format!("lines[{index}].{name}");
    let e = entitlement.clone();
    let h = household.clone();
    let choices = PaymentStatus::ALL
        .into_iter()
        .map(|s| {
            let (e, h) = (e.clone(), h.clone());
            view! {
                <button type="button" class="choice" data-status=s.as_str()
                    aria-pressed=move || (status() == Some(s)).to_string()
                    on:click=move |_| edit(draft, &h, |d| d.set_status(index, s, &e))>
                    {s.label()}
                </button>
            }
        })
        .collect_view();
    let (h1, h2, h3, h4, h5, h6) = (
        household.clone(),
        household.clone(),
        household.clone(),
        household.clone(),
        household.clone(),
        household.clone(),
    );
    let entitlement_id = entitlement.id;
    view! {
        <fieldset class="card line-card" data-testid=format!("line-{index}")>
            <legend class="line-name">{entitlement.item_name.clone()}</legend>
            <p class="line-meta">
                {zh::EXPECTED} " " <strong>{entitlement.expected.to_string()} " 元"</strong>
                " · " {entitlement.expected_date.to_string()} " · " {entitlement.channel.label()}
            </p>
            <div class="choices" role="group">{choices}</div>
            <FieldProblem problem name=field("status")/>
            <Show when=move || status().is_some_and(PaymentStatus::has_receipt)>
                <div class="receipt-fields">
                    <label class="field-label">{zh::AMOUNT_RECEIVED}
                        <input class="input" inputmode="decimal" data-testid="amount"
                            prop:value=move || line().map(|l| l.amount).unwrap_or_default()
                            on:input={let h = h1.clone(); move |ev| { let v = event_target_value(&ev); edit(draft, &h, |d| d.lines[index].amount = v) }}/>
                    </label>
                    <FieldProblem problem name=field("received_fen")/>
                    <label class="field-label">{zh::RECEIVED_ON}
                        <input class="input" type="date" data-testid="received-on"
                            prop:value=move || line().map(|l| l.received_on).unwrap_or_default()
                            on:input={let h = h2.clone(); move |ev| { let v = event_target_value(&ev); edit(draft, &h, |d| d.lines[index].received_on = v) }}/>
                    </label>
                    <FieldProblem problem name=field("received_on")/>
                    <label class="field-label">{zh::CHANNEL}
                        <select class="input" data-testid="channel"
                            on:change={let h = h3.clone(); move |ev| { let v = Channel::parse(&event_target_value(&ev)); edit(draft, &h, |d| d.lines[index].channel = v) }}>
                            <option value="">{zh::CHOOSE}</option>
                            {Channel::ALL.into_iter().map(|c| view! {
                                <option value=c.as_str() selected=move || line().and_then(|l| l.channel) == Some(c)>{c.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <FieldProblem problem name=field("channel")/>
                </div>
            </Show>
            <Show when=move || status().is_some_and(PaymentStatus::is_short)>
                <div class="reason-fields">
                    <label class="field-label">{zh::REASON}
                        <select class="input" data-testid="reason"
                            on:change={let h = h4.clone(); move |ev| { let v = ShortfallReason::parse(&event_target_value(&ev)); edit(draft, &h, |d| d.lines[index].reason = v) }}>
                            <option value="">{zh::CHOOSE}</option>
                            {ShortfallReason::ALL.into_iter().map(|r| view! {
                                <option value=r.as_str() selected=move || line().and_then(|l| l.reason) == Some(r)>{r.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <FieldProblem problem name=field("reason")/>
                    <input class="input" data-testid="reason-text" placeholder=zh::REASON_TEXT_HINT
                        prop:value=move || line().map(|l| l.reason_text).unwrap_or_default()
                        on:input={let h = h5.clone(); move |ev| { let v = event_target_value(&ev); edit(draft, &h, |d| d.lines[index].reason_text = v) }}/>
                    <FieldProblem problem name=field("reason_text")/>
                </div>
            </Show>
            <Show when=move || status().is_some_and(|s| s != PaymentStatus::NotDueYet)>
                <EvidenceInput draft household=h6.clone() line=EvidenceFor::Payment(entitlement_id) hint=zh::LINE_EVIDENCE_HINT/>
            </Show>
        </fieldset>
    }
}

/// 帮扶措施进展: each open measure of the plan with its status choices.
#[component]
fn MeasuresCard(
    draft: RwSignal<VisitDraft>,
    household: Arc<RosterHousehold>,
    problem: RwSignal<Option<Problem>>,
) -> impl IntoView {
    let cards = household
        .open_measures()
        .map(|m| view! { <MeasureCard draft household=household.clone() measure=m.clone() problem/> })
        .collect_view();
    view! {
        <section class="card section-card" data-testid="measures">
            <h2 class="section-title">{zh::MEASURES_HEADING}</h2>
            <p class="line-meta">{zh::MEASURES_HINT}</p>
            {cards}
        </section>
    }
}

#[component]
fn MeasureCard(
    draft: RwSignal<VisitDraft>,
    household: Arc<RosterHousehold>,
    measure: Measure,
    problem: RwSignal<Option<Problem>>,
) -> impl IntoView {
    let id = measure.id;
    let overdue = measure.is_overdue(china_date(chrono::Utc::now()));
    let (action, category, due_on) = (measure.action.clone(), measure.category, measure.due_on);
    let m = StoredValue::new(measure);
    let mine = move || draft.with(|d| m.with_value(|m| d.measure(m)));
    let status = move || mine().status;
    let field = move |name: &str| format!("measures.{id}.{name}");
    // Every edit goes through the draft's own copy of the measure.
    let change = {
        let h = household.clone();
        move |f: &dyn Fn(&mut MeasureDraft)| {
            m.with_value(|m| edit(draft, &h, |d| f(d.measure_mut(m))))
        }
    };
    let choices = MeasureStatus::ALL
        .into_iter()
        .map(|s| {
            let h = household.clone();
            view! {
                <button type="button" class="choice" data-status=s.as_str()
                    aria-pressed=move || (status() == s).to_string()
                    on:click=move |_| {
                        let today = china_date(chrono::Utc::now());
                        m.with_value(|m| edit(draft, &h, |d| d.set_measure_status(m, s, today)))
                    }>
                    {s.label()}
                </button>
            }
        })
        .collect_view();
    let (c1, c2, c3) = (change.clone(), change.clone(), change);
    view! {
        <fieldset class="measure-card" data-testid=format!("measure-{id}")>
            <legend class="line-name">{action}</legend>
            <p class="line-meta">
                {category.label()} " · " {zh::MEASURE_DUE} " " {due_on.to_string()}
                {overdue.then(|| view! { " · " <strong class="overdue">{zh::OVERDUE}</strong> })}
            </p>
            <div class="choices" role="group">{choices}</div>
            <Show when=move || status() == MeasureStatus::Done>
                <label class="field-label">{zh::DONE_ON}
                    <input class="input" type="date" data-testid="measure-done-on"
                        prop:value=move || mine().done_on
                        on:input={let c = c1.clone(); move |ev| { let v = event_target_value(&ev); c(&|d: &mut MeasureDraft| d.done_on = v.clone()) }}/>
                </label>
            </Show>
            <FieldProblem problem name=field("done_on")/>
            <Show when=move || status() == MeasureStatus::Dropped>
                <label class="field-label">{zh::DROP_REASON}
                    <input class="input" data-testid="measure-drop-reason"
                        prop:value=move || mine().drop_reason
                        on:input={let c = c2.clone(); move |ev| { let v = event_target_value(&ev); c(&|d: &mut MeasureDraft| d.drop_reason = v.clone()) }}/>
                </label>
            </Show>
            <FieldProblem problem name=field("drop_reason")/>
            <label class="field-label">{zh::MEASURE_NOTE}
                <input class="input" data-testid="measure-note"
                    prop:value=move || mine().note
                    on:input=move |ev| { let v = event_target_value(&ev); c3(&|d: &mut MeasureDraft| d.note = v.clone()) }/>
            </label>
            <FieldProblem problem name=field("note")/>
        </fieldset>
    }
}

/// 家庭收入登记: one row per kind of non-subsidy income, then the
/// household size of the year.
#[component]
fn IncomeCard(
    draft: RwSignal<VisitDraft>,
    household: Arc<RosterHousehold>,
    problem: RwSignal<Option<Problem>>,
) -> impl IntoView {
    let rows = IncomeKind::ALL
        .into_iter()
        .map(|kind| view! { <IncomeRow draft household=household.clone() kind problem/> })
        .collect_view();
    let on_record = zh::size_on_record(household.summary.size, household.confirmed_size);
    let h = household.clone();
    view! {
        <section class="card section-card" data-testid="income">
            <h2 class="section-title">{zh::INCOME_HEADING}</h2>
            <p class="line-meta">{zh::INCOME_HINT}</p>
            {rows}
            <label class="field-label size-label" for="household-size">{zh::HOUSEHOLD_SIZE}</label>
            <input id="household-size" class="input input-number" inputmode="numeric" data-testid="household-size"
                prop:value=move || draft.with(|d| d.household_size.clone())
                on:input=move |ev| { let v = event_target_value(&ev); edit(draft, &h, |d| d.household_size = v) }/>
            <p class="line-meta">{on_record}</p>
            <FieldProblem problem name="household_size"/>
        </section>
    }
}

#[component]
fn IncomeRow(
    draft: RwSignal<VisitDraft>,
    household: Arc<RosterHousehold>,
    kind: IncomeKind,
    problem: RwSignal<Option<Problem>>,
) -> impl IntoView {
    let mine = move || draft.with(|d| d.income_of(kind));
    let field = move |name: &str| format!("income.{}.{name}", kind.as_str());
    let last = household.recorded_income(kind).map(|r| {
        zh::last_income(
            &r.amount.to_string(),
            &r.declared_on.to_string(),
            r.evidence,
        )
    });
    let row_id = format!("income-{}", kind.as_str());
    let input_id = format!("income-{}-amount", kind.as_str());
    let (h1, h2, h3) = (household.clone(), household.clone(), household.clone());
    view! {
        <div class="income-row" data-testid=row_id>
            <label class="field-label" for=input_id.clone()>{kind.label()}</label>
            <input id=input_id class="input" inputmode="decimal" data-testid="income-amount" placeholder="元"
                prop:value=move || mine().amount
                on:input=move |ev| { let v = event_target_value(&ev); edit(draft, &h1, |d| d.income_mut(kind).amount = v) }/>
            {last.map(|t| view! { <p class="line-meta" data-testid="income-last">{t}</p> })}
            <FieldProblem problem name=field("amount_fen")/>
            <Show when=move || !mine().amount.trim().is_empty()>
                <EvidenceInput draft household=h2.clone() line=EvidenceFor::Income(kind) hint=zh::INCOME_EVIDENCE_HINT/>
                <input class="input" data-testid="income-note" placeholder=zh::INCOME_NOTE_HINT
                    prop:value=move || mine().note
                    on:input={let h = h3.clone(); move |ev| { let v = event_target_value(&ev); edit(draft, &h, |d| d.income_mut(kind).note = v) }}/>
                <FieldProblem problem name=field("note")/>
            </Show>
        </div>
    }
}

#[component]
fn LocationLine(draft: RwSignal<VisitDraft>, household: Arc<RosterHousehold>) -> impl IntoView {
    // Asking again is an edit: the position is signed content.
    let retry = move |_| {
        edit(draft, &household, |d| d.location = None);
        let h = household.clone();
        spawn_local(async move {
            let location = device::locate().await;
            edit(draft, &h, |d| d.location = Some(location));
        });
    };
    view! {
        <p class="location" data-testid="location">
            {move || match draft.with(|d| d.location.clone()) {
                None => zh::LOCATING.to_owned(),
                Some(Location::Fix { lat_e6, lon_e6, accuracy_m }) => format!(
                    "{}{}, {}（±{accuracy_m} 米）", zh::LOCATION_PREFIX,
                    zh::degrees(lat_e6), zh::degrees(lon_e6)
                ),
                Some(Location::Refused) => zh::LOCATION_REFUSED.to_owned(),
                Some(Location::Unavailable) => zh::LOCATION_UNAVAILABLE.to_owned(),
            }}
            <Show when=move || draft.with(|d| !matches!(d.location, Some(Location::Fix { .. }) | None))>
                <button type="button" class="btn btn-small" on:click=retry.clone()>{zh::RETRY}</button>
            </Show>
        </p>
    }
}

#[component]
fn PhotoInput(draft: RwSignal<VisitDraft>, household: Arc<RosterHousehold>) -> impl IntoView {
    view! {
        <p class="field-label">{zh::PHOTO}</p>
        <PhotoPicker
            button=zh::TAKE_PHOTO
            testid="photo"
            current=Signal::derive(move || draft.with(|d| d.photo_base64.clone()))
            set=Callback::new(move |photo| edit(draft, &household, |d| d.photo_base64 = photo))/>
    }
}

/// The evidence photo of one line (an expected payment or an income kind).
#[component]
fn EvidenceInput(
    draft: RwSignal<VisitDraft>,
    household: Arc<RosterHousehold>,
    line: EvidenceFor,
    hint: &'static str,
) -> impl IntoView {
    view! {
        <p class="line-meta evidence-hint">{hint}</p>
        <PhotoPicker
            button=zh::TAKE_EVIDENCE
            testid="evidence"
            current=Signal::derive(move || draft.with(|d| d.evidence_of(line).map(str::to_owned)))
            set=Callback::new(move |photo| edit(draft, &household, |d| d.set_evidence(line, photo)))/>
    }
}

/// Takes a photo (or picks one), compresses it on the phone and hands it
/// to `set`; shows it with its size and a button to remove it.
#[component]
fn PhotoPicker(
    button: &'static str,
    testid: &'static str,
    current: Signal<Option<String>>,
    set: Callback<Option<String>>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let chosen = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match device::compress_photo(&file).await {
                Ok(jpeg) => {
                    error.set(None);
                    set.run(Some(jpeg));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        // The native file button speaks the browser's language; this one
        // speaks Chinese and is a full-size touch target.
        <label class="btn btn-block photo-button">
            {button}
            <input type="file" accept="image/*" capture="environment" class="visually-hidden" data-testid=testid on:change=chosen/>
        </label>
        {move || busy.get().then(|| view! { <p class="loading">{zh::COMPRESSING}</p> })}
        {move || error.get().map(|e| view! { <p class="field-problem" role="alert">{e}</p> })}
        {move || current.get().map(|b64| {
            let kb = b64.len() * 3 / 4 / 1024;
            view! {
                <div class="photo">
                    <img src=format!("data:image/jpeg;base64,{b64}") alt=zh::PHOTO data-testid=format!("{testid}-preview")/>
                    <span class="line-meta">{format!("{kb} KB")}</span>
                    <button type="button" class="btn btn-small" on:click=move |_| set.run(None)>{zh::REMOVE}</button>
                </div>
            }
        })}
    }
}

/// What the household confirms, in large plain words, and its signature.
#[component]
fn SignStep(draft: RwSignal<VisitDraft>, household: Arc<RosterHousehold>) -> impl IntoView {
    let field = expect_context::<Field>();
    let pad = Pad::new();
    let problem = RwSignal::new(None::<Problem>);
    let nav = use_nav();
    let h = household.clone();
    let sign = move |_| {
        let Some((strokes, png)) = pad.export() else {
            problem.set(Some(Problem {
                field: "signature".into(),
                message: zh::PLEASE_SIGN.into(),
            }));
            return;
        };
        let mut d = draft.get_untracked();
        match d.sign(&h, chrono::Utc::now(), strokes, png) {
            Ok(_) => {
                problem.set(None);
                draft.set(d);
            }
            Err(p) => problem.set(Some(p)),
        }
    };
    let h = household.clone();
    let finish = move |_| {
        let visit = match draft.with_untracked(|d| d.finish(&h, chrono::Utc::now())) {
            Ok(v) => v,
            Err(p) => return problem.set(Some(p)),
        };
        let household_id = visit.household_id;
        spawn_local(async move {
            match field.queue(visit).await {
                Ok(()) => nav.go(&format!("/field?h={household_id}")),
                Err(e) => problem.set(Some(Problem {
                    field: "outbox".into(),
                    message: e,
                })),
            }
        });
    };
    let h = household.clone();
    let items = move || {
        draft.with(|d| {
            d.lines
                .iter()
                .zip(&h.entitlements)
                .map(|(l, e)| {
                    (
                        e.item_name.clone(),
                        confirmation_words(l, e.expected),
                        LineLook::of(l.status),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let h = household.clone();
    let totals = move || draft.with(|d| d.totals(&h));
    let statement = {
        let head = household.summary.head_name.clone();
        move || {
            let worker = field.user.with(|u| {
                u.as_ref()
                    .map(|u| u.display_name.clone())
                    .unwrap_or_default()
            });
            let day = draft.with(|d| crate::subsidies::china_date(d.started_at));
            zh::confirm_statement(&zh::chinese_date(day), &worker, &head)
        }
    };
    let h = household.clone();
    let plan_and_income = move || {
        draft.with(|d| {
            d.submission(&h, d.started_at)
                .map(|v| plan_and_income_words(&v, &h))
        })
    };
    let (h1, h2, h3, h4) = (
        household.clone(),
        household.clone(),
        household.clone(),
        household.clone(),
    );
    let needs_reason =
        move || draft.with(|d| signer_needs_reason(&d.signer_relation, d.thumbprint));
    let back = format!("/field?visit={}", draft.with_untracked(|d| d.id));
    view! {
        <a class="back" href=back data-testid="back-to-form">{zh::BACK_TO_FORM}</a>
        <Show when=move || draft.with(|d| d.signature_voided)>
            <p class="notice notice-error" role="alert" data-testid="signature-voided">{zh::SIGNATURE_VOIDED}</p>
        </Show>
        <section class="card confirm" data-testid="confirmation">
            // Written for the household, who reads and signs it: in the
            // first person, with the day, the worker and the sums.
            <h2>{zh::CONFIRM_HEADING}</h2>
            <p class="confirm-statement" data-testid="confirm-statement">{statement}</p>
            {move || {
                let t = totals();
                view! {
                    <div class="confirm-totals" data-testid="confirm-totals">
                        <p><span>{zh::TOTAL_DUE}</span><strong>{t.due.to_string()} " 元"</strong></p>
                        <p class:confirm-short=t.received < t.due>
                            <span>{zh::TOTAL_RECEIVED}</span><strong>{t.received.to_string()} " 元"</strong>
                        </p>
                        {(t.short > 0).then(|| view! {
                            <p class="confirm-short" data-testid="confirm-short-count">
                                <span aria-hidden="true">"⚠ "</span>{zh::short_payments(t.short)}
                            </p>
                        })}
                        {(t.later > 0).then(|| view! { <p class="muted">{zh::later_payments(t.later)}</p> })}
                    </div>
                }
            }}
            <ul class="confirm-items">
                {move || items().into_iter().map(|(name, words, look)| view! {
                    <li class=look.class() data-testid="confirm-line">
                        <span class="confirm-name"><span class="confirm-icon" aria-hidden="true">{look.icon()}</span>{name}</span>
                        <span class="confirm-words">{words}</span>
                    </li>
                }).collect_view()}
            </ul>
            {move || plan_and_income().ok().map(|words| view! {
                {(!words.measures.is_empty()).then(|| view! {
                    <h3 class="confirm-part">{zh::CONFIRM_MEASURES}</h3>
                    <ul class="confirm-items" data-testid="confirm-measures">
                        {words.measures.into_iter().map(|(name, words)| view! {
                            <li><span class="confirm-name">{name}</span><span class="confirm-words">{words}</span></li>
                        }).collect_view()}
                    </ul>
                })}
                {(!words.income.is_empty() || words.size.is_some()).then(|| view! {
                    <h3 class="confirm-part">{if words.income.is_empty() { zh::CONFIRM_HOUSEHOLD } else { zh::CONFIRM_INCOME }}</h3>
                    <ul class="confirm-items" data-testid="confirm-income">
                        {words.income.into_iter().map(|(name, amount, detail)| view! {
                            <li>
                                <span class="confirm-name">{name}</span>
                                <span class="confirm-amount">{amount}</span>
                                <span class="confirm-words">{detail}</span>
                            </li>
                        }).collect_view()}
                        {words.size.map(|n| view! {
                            <li><span class="confirm-name">{zh::CONFIRM_SIZE}</span><span class="confirm-amount">{n}</span></li>
                        })}
                    </ul>
                })}
            })}
            // Signed content too (the v3 confirmation covers it).
            <h3 class="confirm-part">{zh::CONFIRM_VISIT}</h3>
            <ul class="confirm-items" data-testid="confirm-visit">
                <li>
                    <span class="confirm-name">{zh::CONFIRM_MET_WITH}</span>
                    <span class="confirm-words">{move || draft.with(|d| d.met_with.trim().to_owned())}</span>
                </li>
                {move || draft.with(|d| {
                    let n = d.evidence_sent().count();
                    (n > 0).then(|| view! {
                        <li><span class="confirm-name">{zh::EVIDENCE_PHOTO}</span><span class="confirm-words" data-testid="confirm-evidence">{format!("{n} 张")}</span></li>
                    })
                })}
                {move || draft.with(|d| {
                    let notes = d.notes.trim().to_owned();
                    (!notes.is_empty()).then(|| view! {
                        <li><span class="confirm-name">{zh::CONFIRM_NOTES}</span><span class="confirm-words">{notes}</span></li>
                    })
                })}
            </ul>
        </section>
        <section class="card">
            <label class="field-label">{zh::SIGNER_NAME}
                <input class="input" data-testid="signer-name"
                    prop:value=move || draft.with(|d| d.signer_name.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); edit(draft, &h1, |d| d.signer_name = v) }/>
            </label>
            <FieldProblem problem name="signature.signer_name"/>
            <label class="field-label">{zh::SIGNER_RELATION}
                <select class="input" data-testid="signer-relation"
                    on:change=move |ev| { let v = event_target_value(&ev); edit(draft, &h2, |d| d.signer_relation = v) }>
                    {SIGNER_RELATIONS.into_iter().map(|r| view! {
                        <option value=r selected=move || draft.with(|d| d.signer_relation == r)>{r}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="check">
                <input type="checkbox" data-testid="thumbprint"
                    prop:checked=move || draft.with(|d| d.thumbprint)
                    on:change=move |ev| { let v = event_target_checked(&ev); edit(draft, &h3, |d| d.thumbprint = v) }/>
                {zh::THUMBPRINT}
            </label>
            <Show when=needs_reason>
                <label class="field-label">{zh::PROXY_REASON}
                    <input class="input" data-testid="proxy-reason"
                        prop:value=move || draft.with(|d| d.proxy_reason.clone())
                        on:input={let h = h4.clone(); move |ev| { let v = event_target_value(&ev); edit(draft, &h, |d| d.proxy_reason = v) }}/>
                </label>
            </Show>
            <FieldProblem problem name="signature.proxy_reason"/>
        </section>
        {move || problem.get().filter(|p| !p.field.starts_with("signature.")).map(|p| view! {
            <p class="notice notice-error" role="alert" data-testid="sign-problem">{p.message}</p>
        })}
        {move || match draft.with(|d| d.signature.clone()) {
            None => Either::Left(view! {
                <section class="card">
                    <SignaturePad pad thumbprint=Signal::derive(move || draft.with(|d| d.thumbprint))/>
                    <FieldProblem problem name="signature.strokes_json"/>
                    <FieldProblem problem name="signature.png_base64"/>
                    <button type="button" class="btn btn-primary btn-block" data-testid="sign"
                        disabled=move || pad.count.get() == 0 on:click=sign.clone()>{zh::SIGN}</button>
                </section>
            }),
            Some(mark) => Either::Right(view! {
                <section class="card signed" data-testid="signed">
                    <img class="signature-img signature-big" src=format!("data:image/png;base64,{}", mark.png_base64) alt=zh::SIGNED_BY/>
                    <p class="receipt-label">{zh::RECEIPT_CODE}</p>
                    <p class="receipt-big" data-testid="receipt">{receipt_code(&mark.content_hash)}</p>
                    // Drawn on the phone only (the server never renders a signed draft).
                    {cfg!(target_arch = "wasm32")
                        .then(|| device::receipt_qr(&receipt_code(&mark.content_hash)))
                        .flatten()
                        .map(|(url, link)| view! {
                            <img class="receipt-qr" src=url alt=zh::RECEIPT_QR width="180" height="180"
                                data-testid="receipt-qr" data-link=link/>
                        })}
                    <p class="line-meta">{zh::RECEIPT_HINT}</p>
                    <button type="button" class="btn btn-primary btn-block" data-testid="finish" on:click=finish.clone()>
                        {zh::FINISH_VISIT}
                    </button>
                    <button type="button" class="btn btn-block" data-testid="resign"
                        on:click=move |_| draft.update(|d| d.signature = None)>{zh::SIGN_AGAIN}</button>
                </section>
            }),
        }}
    }
}

/// The plan and income part of the confirmation, as the household reads it.
struct PlanAndIncomeWords {
    /// (measure, what it becomes)
    measures: Vec<(String, String)>,
    /// (kind, amount, evidence and note)
    income: Vec<(&'static str, String, String)>,
    size: Option<String>,
}

fn plan_and_income_words(
    visit: &crate::visits::VisitSubmission,
    household: &RosterHousehold,
) -> PlanAndIncomeWords {
    let measures = visit
        .measure_updates
        .iter()
        .map(|u| {
            let action = household
                .measures
                .iter()
                .find(|m| m.id == u.measure_id)
                .map(|m| m.action.clone())
                .unwrap_or_default();
            let mut detail = match u.status {
                MeasureStatus::Done => u
                    .done_on
                    .map(|d| format!("{}：{}", zh::DONE_ON, zh::chinese_date(d)))
                    .unwrap_or_default(),
                MeasureStatus::Dropped => u.drop_reason.clone().unwrap_or_default(),
                _ => String::new(),
            };
            if !u.note.is_empty() {
                if !detail.is_empty() {
                    detail.push('；');
                }
                detail.push_str(&u.note);
            }
            (action, zh::measure_now(u.status.label(), &detail))
        })
        .collect();
    let income = visit
        .income
        .iter()
        .map(|l| {
            let mut detail = if l.evidence {
                zh::WITH_EVIDENCE
            } else {
                zh::WITHOUT_EVIDENCE
            }
            .to_owned();
            if !l.note.is_empty() {
                detail.push('，');
                detail.push_str(&l.note);
            }
            (l.kind.label(), format!("{} 元", Fen(l.amount_fen)), detail)
        })
        .collect();
    PlanAndIncomeWords {
        measures,
        income,
        size: visit.household_size.map(zh::people),
    }
}

/// How a confirmed line stands out: a shortfall is red and marked, a
/// payment not due yet is grey, one received is plain with a tick.
#[derive(Clone, Copy)]
enum LineLook {
    Received,
    Short,
    Later,
    Unchecked,
}

impl LineLook {
    fn of(status: Option<PaymentStatus>) -> LineLook {
        match status {
            Some(PaymentStatus::ReceivedInFull) => LineLook::Received,
            Some(PaymentStatus::ReceivedInPart | PaymentStatus::NotReceived) => LineLook::Short,
            Some(PaymentStatus::NotDueYet) => LineLook::Later,
            None => LineLook::Unchecked,
        }
    }

    fn class(self) -> &'static str {
        match self {
            LineLook::Received => "confirm-line confirm-ok",
            LineLook::Short => "confirm-line confirm-short",
            LineLook::Later | LineLook::Unchecked => "confirm-line confirm-later",
        }
    }

    fn icon(self) -> &'static str {
        match self {
            // Signs every Chinese font has (an emoji may show as a box).
            LineLook::Received => "√ ",
            LineLook::Short => "⚠ ",
            LineLook::Later => "○ ",
            LineLook::Unchecked => "？ ",
        }
    }
}

/// One line of the confirmation, as the household reads it.
fn confirmation_words(line: &crate::field::LineDraft, expected: Fen) -> String {
    let amount = || {
        Fen::parse_yuan(&line.amount)
            .map(|f| format!("{f} 元"))
            .unwrap_or_else(|_| line.amount.clone())
    };
    let reason = || {
        let mut r = line
            .reason
            .map(ShortfallReason::label)
            .unwrap_or_default()
            .to_owned();
        if !line.reason_text.trim().is_empty() {
            r.push('：');
            r.push_str(line.reason_text.trim());
        }
        r
    };
    match line.status {
        None => zh::NOT_CHECKED.to_owned(),
        Some(PaymentStatus::ReceivedInFull) => format!("已足额到账 {}", amount()),
        Some(PaymentStatus::ReceivedInPart) => {
            format!(
                "部分到账 {}（应发 {expected} 元），原因：{}",
                amount(),
                reason()
            )
        }
        Some(PaymentStatus::NotReceived) => {
            format!("未到账（应发 {expected} 元），原因：{}", reason())
        }
        Some(PaymentStatus::NotDueYet) => "未到发放时间".to_owned(),
    }
}
