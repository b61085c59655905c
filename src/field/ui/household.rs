//! One household from the phone's store, and the way into a visit.

use leptos::either::Either;
use leptos::prelude::*;
use uuid::Uuid;

use super::nav::use_nav;
use super::state::{Field, short_time};
use crate::field::VisitDraft;
use crate::text::zh;

#[component]
pub fn HouseholdScreen(id: Uuid) -> impl IntoView {
    let field = expect_context::<Field>();
    let household = move || {
        field
            .roster
            .with(|r| r.as_ref().and_then(|r| r.household(id).cloned()))
    };
    let draft_id = move || {
        field
            .drafts
            .with(|d| d.iter().find(|d| d.household_id == id).map(|d| d.id))
    };
    let nav = use_nav();
    let start = move |_| {
        let (Some(user), Some(roster)) = (field.user_id(), field.roster.get_untracked()) else {
            return;
        };
        let Some(h) = roster.household(id) else {
            return;
        };
        let visit_id = draft_id().unwrap_or_else(|| {
            let now = chrono::Utc::now();
            let draft = VisitDraft::start(Uuid::now_v7(), user, h, roster.stat_year, now);
            let id = draft.id;
            field.save_draft(draft);
            id
        });
        nav.go(&format!("/field?visit={visit_id}"));
    };
    view! {
        <a class="back" href="/field">{zh::BACK_TO_LIST}</a>
        {move || match household() {
            None => Either::Left(view! { <p class="notice">{zh::NOT_ON_PHONE}</p> }),
            Some(h) => {
                let s = h.summary.clone();
                Either::Right(view! {
                    <section class="card" data-testid="field-household-detail">
                        <h1>{s.head_name.clone()} <small>{s.number.clone()}</small></h1>
                        <p class="meta">
                            {s.village.name.clone()} " · " {s.category.label()}
                            {match s.category { crate::households::Category::Monitored(k) => format!("（{}）", k.label()), _ => String::new() }}
                            {s.relocated.then_some(" · 易地搬迁")}
                            {h.phone_masked.clone().map(|p| format!(" · {p}"))}
                        </p>
                        <button type="button" class="btn btn-primary btn-block" data-testid="start-visit" on:click=start>
                            {move || if draft_id().is_some() { zh::CONTINUE_VISIT } else { zh::START_VISIT }}
                        </button>
                    </section>
                    <PhoneVisits id/>
                    <ServerVisits visits=h.visits.clone()/>
                    <section class="card">
                        <h2>{zh::ENTITLEMENTS}</h2>
                        <ul class="lines">
                            {h.entitlements.iter().map(|e| view! {
                                <li>
                                    <span class="line-name">{e.item_name.clone()}</span>
                                    <span class="amount">{e.expected.to_string()} " 元"</span>
                                    <span class="line-meta">{e.expected_date.to_string()} " · " {e.channel.label()} " · " {e.department.clone()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                    <section class="card">
                        <h2>{zh::MEMBERS}</h2>
                        <ul class="lines">
                            {h.members.iter().map(|m| view! {
                                <li>
                                    <span class="line-name">{m.name.clone()} " · " {m.relation.clone()}</span>
                                    <span class="line-meta">{m.id_number_masked.clone()} " · " {m.labour.label()} " · " {m.health.label()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                })
            }
        }}
    }
}

/// This phone's finished visits of the household: waiting or delivered,
/// each with its receipt code.
#[component]
fn PhoneVisits(id: Uuid) -> impl IntoView {
    let field = expect_context::<Field>();
    let rows = move || {
        let mut rows: Vec<(String, String, String, Option<String>)> = field.outbox.with(|o| {
            o.iter()
                .filter(|e| e.household_id == id)
                .map(|e| {
                    (
                        short_time(e.started_at),
                        e.receipt_code.clone(),
                        zh::WAITING.to_owned(),
                        e.problem.clone(),
                    )
                })
                .collect()
        });
        field.delivered.with(|d| {
            rows.extend(d.iter().filter(|d| d.household_id == id).map(|d| {
                (
                    short_time(d.started_at),
                    d.receipt_code.clone(),
                    zh::DELIVERED.to_owned(),
                    None,
                )
            }))
        });
        rows
    };
    view! {
        <Show when=move || !rows().is_empty()>
            <section class="card" data-testid="phone-visits">
                <h2>{zh::PHONE_VISITS}</h2>
                <ul class="lines">
                    {move || rows().into_iter().map(|(when, code, state, problem)| view! {
                        <li>
                            <span class="line-name">{when}</span>
                            <span class="receipt-code mono" data-testid="receipt-code">{code}</span>
                            <span class="line-meta">{state}</span>
                            {problem.map(|p| view! { <p class="sync-error">{p}</p> })}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        </Show>
    }
}

/// The year's visits the server holds (from the last download): who made
/// them, the receipt code, and what the supervisor said, so a worker sees
/// offline which visit was marked 有问题 and why.
#[component]
fn ServerVisits(visits: Vec<crate::field::YearVisit>) -> impl IntoView {
    (!visits.is_empty()).then(|| view! {
        <section class="card" data-testid="server-visits">
            <h2>{zh::YEAR_VISITS}</h2>
            <ul class="lines">
                {visits.into_iter().map(|v| {
                    let flagged = v.has_problem();
                    view! {
                        <li data-testid="server-visit" class:flagged=flagged>
                            <span class="line-name">{short_time(v.started_at)} " · " {v.worker}</span>
                            <span class="receipt-code mono">{v.receipt_code}</span>
                            <span class="line-meta" data-testid="server-visit-review">
                                <span class="tag" class:tag-red=flagged>{v.review.label()}</span>
                                {(v.open_discrepancies > 0).then(|| format!(" · {}", zh::open_discrepancies(v.open_discrepancies)))}
                            </span>
                            {v.review_comment.map(|c| view! {
                                <p class="review-comment" data-testid="server-visit-comment">{zh::REVIEW_SAID} {c}</p>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    })
}
