use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::areas::api::get_area_overview;
use crate::areas::{
    AreaLevel, AreaOverview, AreaSummary, RecentVisit, UnvisitedHousehold, WorkerProgress,
};
use crate::components::{AppFrame, ErrorNotice, Loading};
use crate::discrepancies::ui::DiscrepancyLink;
use crate::subsidies::china_time;
use crate::text::zh;

/// An area and its children with household and visit counts (villages lead
/// to their household list); for a township, the supervisor's dashboard:
/// progress per worker, households still waiting, the newest visits.
#[component]
pub fn AreaPage() -> impl IntoView {
    let params = use_params_map();
    let overview = Resource::new(
        move || params.read().get("code").unwrap_or_default(),
        get_area_overview,
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
        <Bar percent=t.percent_visited() testid="total-progress"/>
        <A href=format!("/reports/dispatch/{}", o.area.code) attr:class="btn btn-block dispatch-link" attr:data-testid="dispatch-link">
            {zh::DISPATCH_LINK} " ›"
        </A>
        <DiscrepancyLink code=o.area.code.to_string()/>
        <p class="muted stats-note">
            {zh::MONITORED_COUNT} " " {t.monitored} " · " {zh::UNASSIGNED_COUNT} " " {t.unassigned}
        </p>
        <h2>{zh::AREA_CHILDREN} " · " {child_label}</h2>
        <ul class="list" data-testid="child-areas">
            {o.children.into_iter().map(|c| view! { <ChildRow c/> }).collect_view()}
        </ul>
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

/// A progress bar with its figure; the figure is what counts, the bar is
/// for the eye.
#[component]
fn Bar(percent: i64, #[prop(optional)] testid: &'static str) -> impl IntoView {
    let done = percent >= 100;
    view! {
        <div class="bar" class:bar-done=done role="progressbar" aria-valuemin="0" aria-valuemax="100"
            aria-valuenow=percent data-testid=testid>
            <span class="bar-fill" style=format!("width:{percent}%")></span>
            <span class="bar-label">{percent} "%"</span>
        </div>
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
    view! {
        <li>
            <A href=href attr:class="row row-progress">
                <span class="row-main">
                    <span class="row-title">{c.area.name}</span>
                    <span class="row-sub">
                        {zh::VISITED_COUNT} " " {c.visited} " · " {zh::NOT_VISITED_COUNT} " " {c.households - c.visited}
                        " · " {zh::MONITORED_COUNT} " " {c.monitored} " · " {zh::UNASSIGNED_COUNT} " " {c.unassigned}
                    </span>
                    <Bar percent/>
                </span>
                <span class="row-count"><strong>{c.households}</strong> " 户"</span>
            </A>
        </li>
    }
}

#[component]
fn WorkerRow(w: WorkerProgress) -> impl IntoView {
    let percent = w.percent_visited();
    view! {
        <li class="row row-progress">
            <span class="row-main">
                <span class="row-title">{w.name}</span>
                <span class="row-sub">{zh::VISITED_COUNT} " " {w.visited} " / " {w.households}</span>
                <Bar percent/>
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
                                {h.village} " · " {h.number} " · " {h.worker.unwrap_or_else(|| zh::NOBODY_ASSIGNED.to_owned())}
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
                view! {
                    <li>
                        <A href=format!("/households/{}", v.household_id) attr:class="row">
                            <span class="row-main">
                                <span class="row-title">{v.head_name}</span>
                                <span class="row-sub">{v.village} " · " {v.worker} " · " {when}</span>
                            </span>
                            {if v.shortfalls > 0 {
                                Either::Left(view! { <span class="tag tag-amber">{v.shortfalls} {zh::SHORTFALL_LINES}</span> })
                            } else {
                                Either::Right(view! { <span class="tag tag-green">{zh::ALL_PAID}</span> })
                            }}
                        </A>
                    </li>
                }
            }).collect_view()}
        </ul>
    })
}
