use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::areas::api::get_area_overview;
use crate::areas::{
    Area, AreaCode, AreaLevel, AreaOverview, AreaSummary, RecentVisit, UnvisitedHousehold,
    VisitVerdict, WorkerProgress,
};
use crate::components::{AppFrame, Bar, ErrorNotice, Loading, anchor_for, form_action};
use crate::discrepancies::ui::DiscrepancyLink;
use crate::households::api::AssignVillage;
use crate::subsidies::china_time;
use crate::text::zh;
use crate::users::api::list_assignable_workers;
use crate::users::ui::WorkerSelect;

/// An area and its children with household and visit counts (villages lead
/// to their household list); for a township, the supervisor's dashboard:
/// progress per worker, households still waiting, the newest visits.
#[component]
pub fn AreaPage() -> impl IntoView {
    let params = use_params_map();
    // An assignment re-reads the page, so the 待分配 counts follow it.
    let assign = form_action::<AssignVillage>();
    provide_context(assign);
    let overview = Resource::new(
        move || {
            (
                params.read().get("code").unwrap_or_default(),
                assign.version().get(),
            )
        },
        |(code, _)| get_area_overview(code),
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(o) => Either::Left(view! { <AreaView o/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn AreaView(o: AreaOverview) -> impl IntoView {
    let child_label = o.area.level().child().map(AreaLevel::label).unwrap_or("");
    let t = o.total.clone();
    // Households are assigned village by village, from the village's page
    // or its township's.
    let assign_villages = match o.area.level() {
        AreaLevel::Village => Some(vec![o.area.clone()]),
        AreaLevel::Township => Some(o.children.iter().map(|c| c.area.clone()).collect()),
        _ => None,
    };
    // Each village's public notice, from its township's page.
    let notices = (o.area.level() == AreaLevel::Township).then(|| {
        o.children
            .iter()
            .map(|c| c.area.clone())
            .collect::<Vec<_>>()
    });
    view! {
        <nav class="crumbs">
            {o.breadcrumbs.into_iter().map(|a| view! {
                <A href=format!("/areas/{}", a.code)>{a.name}</A>
                <span class="sep">" › "</span>
            }).collect_view()}
        </nav>
        <h1 class="page-title">{o.area.name.clone()}</h1>
        <p class="deadline" data-testid="days-left">
            {o.stat_year} {zh::YEAR_SUFFIX} " · " {zh::DAYS_LEFT_BEFORE} " " <strong>{o.days_left}</strong> " " {zh::DAYS_LEFT_AFTER}
        </p>
        <div class="stats">
            <div class="stat"><span class="stat-n" data-testid="total-households">{t.households}</span><span>{zh::HOUSEHOLD_COUNT}</span></div>
            <div class="stat"><span class="stat-n" data-testid="total-visited">{t.visited}</span><span>{zh::VISITED_COUNT}</span></div>
            <div class="stat"><span class="stat-n" data-testid="total-not-visited">{t.not_visited()}</span><span>{zh::NOT_VISITED_COUNT}</span></div>
        </div>
        <Bar percent=t.percent_visited() label=zh::VISIT_PROGRESS testid="total-progress"/>
        <A href=format!("/reports/dispatch/{}", o.area.code) attr:class="btn btn-block dispatch-link" attr:data-testid="dispatch-link">
            {zh::DISPATCH_LINK} " ›"
        </A>
        <A href=crate::income::income_table_href(&o.area.code) attr:class="btn btn-block" attr:data-testid="income-link">
            {zh::INCOME_TABLE_LINK} " ›"
        </A>
        {(o.area.code.level() == crate::areas::AreaLevel::Province).then(|| view! {
            <A href="/income/thresholds" attr:class="btn btn-block" attr:data-testid="thresholds-link">
                {zh::THRESHOLDS_TITLE} " ›"
            </A>
        })}
        <DiscrepancyLink code=o.area.code.to_string()/>
        <A href=crate::reconciliation::reconciliation_href(o.area.code.as_str()) attr:class="btn btn-block" attr:data-testid="reconciliation-link">
            {zh::RECON_LINK} " ›"
        </A>
        <A href=crate::signals::ui::signals_href(o.area.code.as_str()) attr:class="btn btn-block" attr:data-testid="signals-link">
            {zh::SIGNALS_LINK} " ›"
        </A>
        {o.may_import.then(|| view! {
            <A href=crate::roster::IMPORT_PATH attr:class="btn btn-block" attr:data-testid="import-link">
                {zh::IMPORT_LINK} " ›"
            </A>
        })}
        <A href=format!("/areas/{}/users", o.area.code) attr:class="btn btn-block" attr:data-testid="users-link">
            {zh::USERS_TITLE} " ›"
        </A>
        {(o.area.code.level() == AreaLevel::Village).then(|| view! {
            <A href=crate::notices::notice_href(o.area.code.as_str()) attr:class="btn btn-block" attr:data-testid="notice-link">
                {zh::NOTICE_LINK} " ›"
            </A>
        })}
        {(o.area.code.level() == AreaLevel::County).then(|| view! {
            <crate::ledger::ui::LedgerCard code=o.area.code.to_string()/>
        })}
        <p class="muted stats-note">
            {zh::MONITORED_COUNT} " " {t.monitored} " · " {zh::UNASSIGNED_COUNT} " " <span data-testid="total-unassigned">{t.unassigned}</span>
        </p>
        <h2>{zh::AREA_CHILDREN} " · " {child_label}</h2>
        <ul class="list" data-testid="child-areas">
            {o.children.into_iter().map(|c| view! { <ChildRow c/> }).collect_view()}
        </ul>
        {notices.map(|villages| view! {
            <h2>{zh::NOTICE_LINK}</h2>
            <ul class="tags" data-testid="notice-links">
                {villages.into_iter().map(|v| view! {
                    <li><a class="btn btn-small" href=crate::notices::notice_href(v.code.as_str())>{v.name}</a></li>
                }).collect_view()}
            </ul>
        })}
        {assign_villages.map(|villages| view! { <BulkAssign area=o.area.code.clone() villages/> })}
        {o.township.map(|d| view! {
            <h2>{zh::WORKER_PROGRESS}</h2>
            {if d.workers.is_empty() {
                Either::Left(view! { <p class="empty">{zh::NO_WORKERS}</p> })
            } else {
                Either::Right(view! {
                    <ul class="list" data-testid="worker-progress">
                        {d.workers.into_iter().map(|w| view! { <WorkerRow w/> }).collect_view()}
                    </ul>
                })
            }}
            <h2>{zh::UNVISITED_TITLE} " · " {t.not_visited()} " 户"</h2>
            <UnvisitedList households=d.unvisited total=t.not_visited()/>
            <h2>{zh::RECENT_VISITS}</h2>
            <RecentList visits=d.recent/>
        })}
    }
}

#[component]
fn ChildRow(c: AreaSummary) -> impl IntoView {
    let href = if c.area.level() == AreaLevel::Village {
        format!("/households?village={}", c.area.code)
    } else {
        format!("/areas/{}", c.area.code)
    };
    let percent = c.percent_visited();
    let label = format!("{} {}", c.area.name, zh::VISIT_PROGRESS);
    view! {
        <li>
            <A href=href attr:class="row row-progress">
                <span class="row-main">
                    <span class="row-title">{c.area.name}</span>
                    <span class="row-sub">
                        {zh::VISITED_COUNT} " " {c.visited} " · " {zh::NOT_VISITED_COUNT} " " {c.households - c.visited}
                        " · " {zh::MONITORED_COUNT} " " {c.monitored} " · " {zh::UNASSIGNED_COUNT} " " {c.unassigned}
                    </span>
                    <Bar percent label/>
                </span>
                <span class="row-count"><strong>{c.households}</strong> " 户"</span>
            </A>
        </li>
    }
}

#[component]
fn WorkerRow(w: WorkerProgress) -> impl IntoView {
    let percent = w.percent_visited();
    let label = format!("{} {}", w.name, zh::VISIT_PROGRESS);
    view! {
        <li class="row row-progress">
            <span class="row-main">
                <span class="row-title">{w.name}</span>
                <span class="row-sub">{zh::VISITED_COUNT} " " {w.visited} " / " {w.households}</span>
                <Bar percent label/>
            </span>
            <span class="row-count"><strong>{w.households - w.visited}</strong> " " {zh::NOT_VISITED_COUNT}</span>
        </li>
    }
}

#[component]
fn UnvisitedList(households: Vec<UnvisitedHousehold>, total: i64) -> impl IntoView {
    if households.is_empty() {
        return Either::Left(view! { <p class="empty">{zh::ALL_VISITED}</p> });
    }
    let shown = households.len() as i64;
    Either::Right(view! {
        <ul class="list" data-testid="unvisited">
            {households.into_iter().map(|h| view! {
                <li>
                    <A href=format!("/households/{}", h.id) attr:class="row">
                        <span class="row-main">
                            <span class="row-title">{h.head_name}</span>
                            <span class="row-sub">
                                {h.village} " · " <span class="hh-number">{h.number}</span> " · " {h.worker.unwrap_or_else(|| zh::NOBODY_ASSIGNED.to_owned())}
                            </span>
                        </span>
                    </A>
                </li>
            }).collect_view()}
        </ul>
        {(total > shown).then(|| view! { <p class="muted">{zh::UNVISITED_MORE} {shown} " 户"</p> })}
    })
}

#[component]
fn RecentList(visits: Vec<RecentVisit>) -> impl IntoView {
    if visits.is_empty() {
        return Either::Left(view! { <p class="empty">{zh::NO_RECENT_VISITS}</p> });
    }
    Either::Right(view! {
        <ul class="list" data-testid="recent-visits">
            {visits.into_iter().map(|v| {
                let when = china_time(v.started_at).format("%m-%d %H:%M").to_string();
                let verdict = v.verdict();
                view! {
                    <li>
                        <A href=format!("/households/{}", v.household_id) attr:class="row">
                            <span class="row-main">
                                <span class="row-title">{v.head_name}</span>
                                <span class="row-sub">{v.village} " · " {v.worker} " · " {when}</span>
                            </span>
                            {match verdict {
                                VisitVerdict::Shortfalls(n) => view! { <span class="tag tag-amber" data-testid="verdict">{n} {zh::SHORTFALL_LINES}</span> }.into_any(),
                                VisitVerdict::NothingDueYet => view! { <span class="tag" data-testid="verdict">{zh::NOTHING_DUE_YET}</span> }.into_any(),
                                VisitVerdict::Paid { later: 0 } => view! { <span class="tag tag-green" data-testid="verdict">{zh::ALL_PAID}</span> }.into_any(),
                                VisitVerdict::Paid { later } => view! { <span class="tag tag-green" data-testid="verdict">{zh::paid_rest_later(later)}</span> }.into_any(),
                            }}
                        </A>
                    </li>
                }
            }).collect_view()}
        </ul>
    })
}

/// Assigns a village's households, all of them or only those waiting for a
/// worker, to one field worker; answers with how many changed hands.
#[component]
fn BulkAssign(area: AreaCode, villages: Vec<Area>) -> impl IntoView {
    let action = expect_context::<ServerAction<AssignVillage>>();
    let workers = Resource::new(move || area.to_string(), list_assignable_workers);
    let outcome = move || match action.value().get() {
        Some(Ok(a)) => Some(Either::Left(view! {
            <p class="notice notice-ok" role="status" data-testid="bulk-result">{zh::assigned(a.changed)}</p>
        })),
        Some(Err(e)) => Some(Either::Right(view! {
            <p class="notice notice-error" role="alert" data-testid="bulk-error">{e.to_string()}</p>
        })),
        None => None,
    };
    view! {
        <section class="card assign" data-testid="bulk-assign" id=anchor_for(&action)>
            <h2>{zh::BULK_ASSIGN_TITLE}</h2>
            {outcome}
            <Suspense fallback=Loading>
                {move || Suspend::new({
                    let villages = villages.clone();
                    async move {
                        match workers.await {
                            Ok(ws) if ws.is_empty() => EitherOf3::A(view! { <p class="empty">{zh::NO_ASSIGNABLE_WORKERS}</p> }),
                            Ok(ws) => EitherOf3::B(view! {
                                <ActionForm action attr:class="form-grid">
                                    <label class="field">
                                        <span>{zh::VILLAGE}</span>
                                        <select name="village" data-testid="bulk-village">
                                            {villages.into_iter().map(|v| view! { <option value=v.code.to_string()>{v.name}</option> }).collect_view()}
                                        </select>
                                    </label>
                                    <label class="field">
                                        <span>{zh::WORKER}</span>
                                        <WorkerSelect workers=ws testid="bulk-worker"/>
                                    </label>
                                    <div class="field choice-row">
                                        <label class="check"><input type="radio" name="only_unassigned" value="true" checked=true data-testid="bulk-only-unassigned"/>{zh::ONLY_UNASSIGNED}</label>
                                        <label class="check"><input type="radio" name="only_unassigned" value="false" data-testid="bulk-whole-village"/>{zh::WHOLE_VILLAGE}</label>
                                    </div>
                                    <button type="submit" class="btn btn-primary btn-block" data-testid="bulk-submit"
                                        disabled=move || action.pending().get()>{zh::ASSIGN}</button>
                                </ActionForm>
                            }),
                            Err(e) => EitherOf3::C(view! { <p class="notice notice-error">{e.to_string()}</p> }),
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
