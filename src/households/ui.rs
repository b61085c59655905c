use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use crate::areas::AreaCode;
use crate::components::{
    AppFrame, ErrorNotice, Loading, NotFound, RowKey, anchor_for, form_action, form_action_at,
    row_anchor,
};
use crate::households::api::{AssignHousehold, get_household, list_households, list_my_villages};
use crate::households::{
    Category, HouseholdDetail, HouseholdPage, HouseholdSummary, VisitLineView, VisitView,
};
use crate::income::ui::{FlagBadges, HouseholdIncome};
use crate::plans::ui::PlanSection;
use crate::reports::PaymentState;
use crate::text::zh;
use crate::users::api::list_assignable_workers;
use crate::users::ui::WorkerSelect;
use crate::visits::api::ReviewVisit;
use crate::visits::{Location, PaymentStatus, ReviewEntry, ReviewState};

/// Query keys of a drill-down from the dispatch table (see `households_href`).
const DRILL_DOWN_KEYS: [&str; 4] = ["item", "paid", "as_of", "flag"];

/// Whether the list is the households behind a figure (a dispatch cell or
/// a risk count), whose area may be a township rather than a village.
fn is_drill_down(q: &leptos_router::params::ParamsMap) -> bool {
    ["paid", "flag"]
        .iter()
        .any(|key| q.get(key).is_some_and(|v| !v.is_empty()))
}

/// A field worker's list is their own; a supervisor's is their area's.
fn households_title(user: Option<&crate::auth::Actor>) -> &'static str {
    match user.map(|u| u.role) {
        Some(crate::auth::Role::FieldWorker) | None => zh::MY_HOUSEHOLDS,
        Some(_) => zh::AREA_HOUSEHOLDS,
    }
}

/// The list a field worker starts from: their households, searchable and
/// filterable by village. Supervisors get the same list for their area.
#[component]
pub fn HouseholdListPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        let text = |key: &str| q.get(key).filter(|s| !s.is_empty());
        (
            (text("q"), text("village")),
            (text("item"), text("paid"), text("as_of"), text("flag")),
            q.get("page").and_then(|p| p.parse::<u32>().ok()),
        )
    };
    let page = Resource::new(
        params,
        |((search, village), (item, paid, as_of, flag), page)| {
            list_households(search, village, item, paid, as_of, flag, page)
        },
    );
    let villages = Resource::new(|| (), |_| list_my_villages());
    let user = Resource::new(|| (), |_| crate::auth::api::current_user());
    view! {
        <AppFrame>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let title = households_title(user.await.ok().flatten().as_ref());
                    view! { <h1 class="page-title" data-testid="households-title">{title}</h1> }
                })}
            </Suspense>
            <Form method="GET" action="" attr:class="search">
                <input
                    type="search"
                    name="q"
                    placeholder=zh::SEARCH_PLACEHOLDER
                    value=move || query.read().get("q").unwrap_or_default()
                    data-testid="search"
                />
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let villages = villages.await.unwrap_or_default();
                        let selected = query.read_untracked().get("village").unwrap_or_default();
                        // A drill-down's area may be a township: it stays a
                        // hidden field (below) instead of a village choice.
                        let drilling = is_drill_down(&query.read_untracked());
                        (!villages.is_empty() && !drilling).then(|| view! {
                            <select name="village" aria-label=zh::VILLAGE data-testid="village-filter">
                                <option value="">{zh::ALL_VILLAGES}</option>
                                {villages.into_iter().map(|v| {
                                    let code = v.code.to_string();
                                    let is_selected = code == selected;
                                    view! { <option value=code selected=is_selected>{v.name}</option> }
                                }).collect_view()}
                            </select>
                        })
                    })}
                </Suspense>
                // A drill-down from the dispatch table stays one while searching.
                {move || {
                    let q = query.read();
                    let drilling = is_drill_down(&q);
                    DRILL_DOWN_KEYS
                        .iter()
                        .chain(drilling.then_some(&"village"))
                        .filter_map(|key| q.get(key).filter(|v| !v.is_empty()).map(|v| (*key, v)))
                        .map(|(key, value)| view! { <input type="hidden" name=key value=value/> })
                        .collect_view()
                }}
                <button type="submit" class="btn btn-primary">{zh::SEARCH}</button>
            </Form>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => Either::Left(view! { <HouseholdList page=p/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn HouseholdList(page: HouseholdPage) -> impl IntoView {
    let query = use_query_map();
    let link_to_page = move |n: u32| {
        let q = query.read_untracked();
        let mut parts = Vec::new();
        for key in ["q", "village"].iter().chain(&DRILL_DOWN_KEYS) {
            if let Some(v) = q.get(key).filter(|v| !v.is_empty()) {
                parts.push(format!("{key}={}", urlencode(&v)));
            }
        }
        parts.push(format!("page={n}"));
        format!("/households?{}", parts.join("&"))
    };
    let shown_to = (page.page * page.page_size) as i64 + page.households.len() as i64;
    let has_next = shown_to < page.total;
    let has_prev = page.page > 0;
    let note = page.payment_note.clone().map(|note| {
        // The same cell's other households: the other states of payment.
        let q = query.read_untracked();
        let others: &[PaymentState] = match q.get("paid").and_then(|p| PaymentState::parse(&p)) {
            Some(PaymentState::Paid) => &[PaymentState::Unpaid],
            Some(PaymentState::Full) => &[PaymentState::Part, PaymentState::Unpaid],
            Some(PaymentState::Part) => &[PaymentState::Full, PaymentState::Unpaid],
            Some(PaymentState::Unpaid) => &[PaymentState::Full, PaymentState::Part],
            Some(PaymentState::Due) => &[PaymentState::Full, PaymentState::Part, PaymentState::Unpaid],
            None => &[],
        };
        let flips = others
            .iter()
            .map(|state| {
                let mut parts = Vec::new();
                for key in ["village", "item", "as_of"] {
                    if let Some(v) = q.get(key).filter(|v| !v.is_empty()) {
                        parts.push(format!("{key}={}", urlencode(&v)));
                    }
                }
                parts.push(format!("paid={}", state.as_str()));
                (
                    format!("/households?{}", parts.join("&")),
                    format!("{}{}", zh::SHOW_STATE, state.label()),
                    format!("payment-flip-{}", state.as_str()),
                )
            })
            .collect::<Vec<_>>();
        view! {
            <p class="notice notice-warn drill-note" data-testid="payment-note">
                {note}
                {flips.into_iter().map(|(href, label, id)| view! { " · " <A href=href attr:data-testid=id>{label}</A> }).collect_view()}
            </p>
        }
    });
    view! {
        {note}
        <p class="count" data-testid="household-count">
            "共 " <strong>{page.total}</strong> " 户"
        </p>
        {if page.households.is_empty() {
            Either::Left(view! { <p class="empty">{zh::NO_HOUSEHOLDS}</p> })
        } else {
            Either::Right(view! {
                <ul class="list" data-testid="household-list">
                    {page.households.into_iter().map(|h| view! { <HouseholdRow h/> }).collect_view()}
                </ul>
            })
        }}
        <nav class="pager">
            {has_prev.then(|| view! { <A href=link_to_page(page.page - 1) attr:class="btn">{zh::PREVIOUS}</A> })}
            {has_next.then(|| view! { <A href=link_to_page(page.page + 1) attr:class="btn">{zh::MORE}</A> })}
        </nav>
    }
}

#[component]
fn HouseholdRow(h: HouseholdSummary) -> impl IntoView {
    view! {
        <li>
            <A href=format!("/households/{}", h.id) attr:class="row">
                <span class="row-main">
                    <span class="row-title"><span class="row-name" data-testid="head-name">{h.head_name}</span> <small class="row-size">{h.size} "人"</small></span>
                    <span class="row-sub">{h.village.name} " · " <span class="mono hh-number">{h.number}</span></span>
                    <FlagBadges flags=h.flags/>
                </span>
                <span class="row-tags">
                    <CategoryTag category=h.category/>
                    {h.relocated.then(|| view! { <span class="tag tag-blue">{zh::RELOCATED}</span> })}
                </span>
            </A>
        </li>
    }
}

#[component]
fn CategoryTag(category: Category) -> impl IntoView {
    let class = if category.is_monitored() {
        "tag tag-amber"
    } else {
        "tag tag-green"
    };
    view! { <span class=class>{category.label()}</span> }
}

/// One household: members, category, and what it should receive this year.
#[component]
pub fn HouseholdPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| Uuid::parse_str(&s).ok())
    };
    // A review re-reads the page, so the new state and its history show;
    // so does an assignment, for the worker's name.
    let assign = form_action::<AssignHousehold>();
    provide_context(assign);
    let detail = Resource::new(
        move || (id(), assign.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_household(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(Some(d)) => EitherOf3::A(view! { <HouseholdView d/> }),
                        Ok(None) => EitherOf3::B(view! { <NotFound/> }),
                        Err(e) => EitherOf3::C(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn HouseholdView(d: HouseholdDetail) -> impl IntoView {
    let total = d.expected_total();
    let s = d.summary;
    let household_id = s.id;
    let assign = d.may_review.then(|| (s.id, s.village.code.clone()));
    let kind = match s.category {
        Category::Monitored(k) => Some(k.label()),
        Category::Alleviated => None,
    };
    view! {
        <A href="/households" attr:class="back">"‹ " {zh::HOUSEHOLD_LIST}</A>
        <section class="card household-head" data-testid="household">
            <h1>{s.head_name}</h1>
            <div class="row-tags">
                <CategoryTag category=s.category/>
                {kind.map(|k| view! { <span class="tag tag-amber-soft">{k}</span> })}
                {s.relocated.then(|| view! { <span class="tag tag-blue">{zh::RELOCATED}</span> })}
            </div>
            <dl class="facts">
                <dt>"户编号"</dt><dd>{s.number}</dd>
                <dt>{zh::VILLAGE}</dt><dd>{s.village.name}</dd>
                <dt>{zh::PHONE}</dt><dd>{d.phone_masked.unwrap_or_else(|| "—".into())}</dd>
                <dt>{zh::WORKER}</dt><dd data-testid="worker-name">{d.worker_name.unwrap_or_else(|| zh::UNASSIGNED_COUNT.into())}</dd>
            </dl>
        </section>
        {assign.map(|(id, village)| view! { <AssignPart id village/> })}

        <section class="card">
            <h2>{zh::MEMBERS} "（" {d.members.len()} "人）"</h2>
            <ul class="members" data-testid="members">
                {d.members.into_iter().map(|m| view! {
                    <li>
                        <div class="member-line">
                            <strong>{m.name}</strong>
                            <span class="muted">{m.relation} " · " {m.sex.map(|s| s.label()).unwrap_or("—")} " · " {m.age.map(|a| format!("{a}{}", zh::AGE_SUFFIX)).unwrap_or_default()}</span>
                        </div>
                        <div class="member-line">
                            <span class="mono" data-testid="member-id">{m.id_number_masked}</span>
                        </div>
                        <div class="member-line muted">{m.labour.label()} " · " {m.health.label()}</div>
                    </li>
                }).collect_view()}
            </ul>
        </section>

        <section class="card">
            <h2>{zh::ENTITLEMENTS}</h2>
            <p class="muted">{zh::STAT_YEAR} "：" {d.year.label()}</p>
            {if d.entitlements.is_empty() {
                Either::Left(view! { <p class="empty">{zh::NO_ENTITLEMENTS}</p> })
            } else {
                Either::Right(view! {
                    <ul class="entitlements" data-testid="entitlements">
                        {d.entitlements.into_iter().map(|e| view! {
                            <li>
                                <div class="ent-main">
                                    <span class="ent-name">{e.item_name}</span>
                                    <span class="money">{e.expected.to_string()} <small>" 元"</small></span>
                                </div>
                                <div class="ent-sub muted">
                                    {e.expected_date.to_string()} " · " {e.department} " · " {e.channel.label()}
                                </div>
                            </li>
                        }).collect_view()}
                    </ul>
                    <p class="ent-total">{zh::TOTAL} "：" <span class="money" data-testid="expected-total">{total.to_string()}</span> " 元"</p>
                })
            }}
        </section>

        <PlanSection household_id/>
        <HouseholdIncome household_id/>

        <section class="card" data-testid="visits">
            <h2>{zh::VISITS}</h2>
            {d.visits_disagree.then(|| view! {
                <p class="notice notice-warn" data-testid="visits-disagree">{zh::VISITS_DISAGREE}</p>
            })}
            {if d.visits.is_empty() {
                Either::Left(view! { <p class="empty">{zh::NO_VISITS}</p> })
            } else {
                let may_review = d.may_review;
                Either::Right(d.visits.into_iter().map(|v| view! { <VisitCard v may_review/> }).collect_view())
            }}
        </section>
    }
}

#[component]
fn VisitCard(v: VisitView, may_review: bool) -> impl IntoView {
    let location = match v.location {
        Location::Fix {
            lat_e6,
            lon_e6,
            accuracy_m,
        } => format!(
            "{:.6}, {:.6}（±{accuracy_m}米）",
            lat_e6 as f64 / 1e6,
            lon_e6 as f64 / 1e6
        ),
        Location::Refused => "未获取（拒绝授权）".to_owned(),
        Location::Unavailable => "未获取（无定位信号）".to_owned(),
    };
    let signer = if v.thumbprint {
        format!("{}（{}，按手印）", v.signer_name, v.signer_relation)
    } else {
        format!("{}（{}）", v.signer_name, v.signer_relation)
    };
    view! {
        <article class="visit" data-testid="visit">
            <header class="visit-head">
                <strong>{v.started_local}</strong>
                <span class="muted">{format!("{} · {}分钟", v.worker_name, v.minutes)}</span>
            </header>
            {(!v.signals.is_empty()).then(|| view! {
                <ul class="visit-signals" data-testid="visit-signals">
                    {v.signals.into_iter().map(|s| view! {
                        <li><span class="tag tag-amber">{s.kind.label()}</span> " " {s.detail} " · " {s.state.label()}</li>
                    }).collect_view()}
                </ul>
            })}
            <dl class="facts">
                <dt>{zh::MET_WITH}</dt><dd>{v.met_with}</dd>
                <dt>{zh::LOCATION}</dt><dd>{location}</dd>
            </dl>
            <ul class="entitlements">
                {v.lines.into_iter().map(|l| view! { <VisitLine l/> }).collect_view()}
            </ul>
            {(!v.income.is_empty()).then(|| view! {
                <p class="muted">{zh::VISIT_INCOME}</p>
                <ul class="entitlements" data-testid="visit-income">
                    {v.income.into_iter().map(|i| view! {
                        <li>
                            <div class="ent-main">
                                <span class="ent-name">{i.kind.label()}</span>
                                <span>{format!("{} 元", i.amount)}</span>
                            </div>
                            {(!i.note.is_empty()).then(|| view! { <div class="ent-sub muted">{i.note}</div> })}
                            <Evidence href=i.evidence_href/>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            {(!v.notes.is_empty()).then(|| view! { <p class="muted">{v.notes}</p> })}
            <div class="signature">
                <div>
                    <div class="muted">{zh::SIGNED_BY}</div>
                    <div>{signer}</div>
                    {v.proxy_reason.map(|r| view! { <div class="muted">"代签原因：" {r}</div> })}
                </div>
                <img src=v.signature_data_url alt="签名" class="signature-img"/>
            </div>
            <p class="receipt">{zh::RECEIPT_CODE} " " <strong class="mono" data-testid="receipt-code">{v.receipt_code}</strong></p>
            <ReviewPart id=v.id state=v.review history=v.reviews may_review/>
        </article>
    }
}

#[component]
fn VisitLine(l: VisitLineView) -> impl IntoView {
    let tag = match l.status {
        PaymentStatus::ReceivedInFull => "tag tag-green",
        PaymentStatus::ReceivedInPart => "tag tag-amber",
        PaymentStatus::NotReceived => "tag tag-red",
        PaymentStatus::NotDueYet => "tag tag-blue",
    };
    let detail = [
        l.received_on.map(|d| d.to_string()),
        l.channel.map(|c| c.label().to_owned()),
        l.reason.map(|r| r.label().to_owned()),
        (!l.reason_text.is_empty()).then_some(l.reason_text),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <li>
            <div class="ent-main">
                <span class="ent-name">{l.item_name}</span>
                <span class=tag>{l.status.label()}</span>
            </div>
            <div class="ent-sub muted">
                "应发 " {l.expected.to_string()} " 元"
                {l.received.map(|r| format!(" · 实收 {r} 元"))}
            </div>
            {(!detail.is_empty()).then(|| view! { <div class="ent-sub muted">{detail}</div> })}
            {(l.evidence_href.is_some() || l.status != PaymentStatus::NotDueYet)
                .then(|| view! { <Evidence href=l.evidence_href/> })}
        </li>
    }
}

/// A line's evidence photo, small, opening full size; or that there is none.
#[component]
fn Evidence(href: Option<String>) -> impl IntoView {
    match href {
        Some(href) => Either::Left(view! {
            <a class="evidence" href=href.clone() target="_blank" rel="noopener" data-testid="evidence">
                <img src=href.clone() alt=zh::EVIDENCE_PHOTO loading="lazy" class="evidence-thumb"/>
            </a>
        }),
        None => Either::Right(view! { <div class="ent-sub muted">{zh::NO_EVIDENCE}</div> }),
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The review state, its history, and for a supervisor the form to change it.
#[component]
fn ReviewPart(
    id: Uuid,
    state: ReviewState,
    history: Vec<ReviewEntry>,
    may_review: bool,
) -> impl IntoView {
    let tag = match state {
        ReviewState::Received => "tag tag-blue",
        ReviewState::HasIssues => "tag tag-red",
        ReviewState::Approved => "tag tag-green",
    };
    view! {
        <div class="review" data-testid="review">
            <p>{zh::REVIEW} " " <span class=tag data-testid="review-state">{state.label()}</span></p>
            {(!history.is_empty()).then(|| view! {
                <ol class="review-history" data-testid="review-history">
                    {history.into_iter().map(|r| view! {
                        <li>
                            <span class="muted">{r.at_local} " · " {r.reviewer_name} " · "</span>
                            <strong>{r.state.label()}</strong>
                            {(!r.comment.is_empty()).then(|| view! { <span>"：" {r.comment}</span> })}
                        </li>
                    }).collect_view()}
                </ol>
            })}
            {may_review.then(|| view! { <ReviewForm id/> })}
        </div>
    }
}

#[component]
fn ReviewForm(id: Uuid) -> impl IntoView {
    let key = id.to_string();
    let action = form_action_at::<ReviewVisit>(&key);
    let anchor = row_anchor::<ReviewVisit>(&key);
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <ActionForm action attr:class="review-form" attr:id=anchor>
            <RowKey key/>
            <input type="hidden" name="visit_id" value=id.to_string()/>
            <select name="state" data-testid="review-select" aria-label=zh::REVIEW>
                <option value="approved">{ReviewState::Approved.label()}</option>
                <option value="has_issues">{ReviewState::HasIssues.label()}</option>
                <option value="received">{ReviewState::Received.label()}</option>
            </select>
            <textarea name="comment" rows="2" placeholder=zh::REVIEW_COMMENT data-testid="review-comment"></textarea>
            <button type="submit" class="btn btn-primary" data-testid="review-submit">{zh::REVIEW_SUBMIT}</button>
            {move || error().map(|m| view! { <p class="notice notice-error" role="alert" data-testid="review-error">{m}</p> })}
        </ActionForm>
    }
}

/// For a supervisor: hand the household to a field worker of its village or
/// township.
#[component]
fn AssignPart(id: Uuid, village: AreaCode) -> impl IntoView {
    let action = expect_context::<ServerAction<AssignHousehold>>();
    let workers = Resource::new(move || village.to_string(), list_assignable_workers);
    let outcome = move || match action.value().get() {
        Some(Ok(a)) => Some(Either::Left(view! {
            <p class="notice notice-ok" role="status" data-testid="assign-result">{zh::assigned(a.changed)}</p>
        })),
        Some(Err(e)) => Some(Either::Right(view! {
            <p class="notice notice-error" role="alert" data-testid="assign-error">{e.to_string()}</p>
        })),
        None => None,
    };
    view! {
        <section class="card assign" data-testid="assign" id=anchor_for(&action)>
            <h2>{zh::ASSIGN_TITLE}</h2>
            {outcome}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match workers.await {
                        Ok(ws) if ws.is_empty() => EitherOf3::A(view! { <p class="empty">{zh::NO_ASSIGNABLE_WORKERS}</p> }),
                        Ok(ws) => EitherOf3::B(view! {
                            <ActionForm action attr:class="assign-form">
                                <input type="hidden" name="household_id" value=id.to_string()/>
                                <WorkerSelect workers=ws testid="assign-worker"/>
                                <button type="submit" class="btn btn-primary" data-testid="assign-submit"
                                    disabled=move || action.pending().get()>{zh::ASSIGN}</button>
                            </ActionForm>
                        }),
                        Err(e) => EitherOf3::C(view! { <p class="notice notice-error">{e.to_string()}</p> }),
                    }
                })}
            </Suspense>
        </section>
    }
}
