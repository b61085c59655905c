use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::areas::api::get_area_overview;
use crate::areas::{AreaLevel, AreaOverview, AreaSummary};
use crate::components::{AppFrame, ErrorNotice, Loading};
use crate::text::zh;

/// An area and its children with household counts; villages lead to their
/// household list.
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
                        Ok(o) => view! { <AreaView o/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn AreaView(o: AreaOverview) -> impl IntoView {
    let child_label = o.area.level().child().map(AreaLevel::label).unwrap_or("");
    view! {
        <nav class="crumbs">
            {o.breadcrumbs.into_iter().map(|a| view! {
                <A href=format!("/areas/{}", a.code)>{a.name}</A>
                <span class="sep">" › "</span>
            }).collect_view()}
        </nav>
        <h1 class="page-title">{o.area.name.clone()}</h1>
        <div class="stats">
            <div class="stat"><span class="stat-n" data-testid="total-households">{o.total.households}</span><span>{zh::HOUSEHOLD_COUNT}</span></div>
            <div class="stat"><span class="stat-n">{o.total.monitored}</span><span>{zh::MONITORED_COUNT}</span></div>
            <div class="stat"><span class="stat-n">{o.total.unassigned}</span><span>{zh::UNASSIGNED_COUNT}</span></div>
        </div>
        <h2>{zh::AREA_CHILDREN} " · " {child_label}</h2>
        <ul class="list" data-testid="child-areas">
            {o.children.into_iter().map(|c| view! { <ChildRow c/> }).collect_view()}
        </ul>
    }
}

#[component]
fn ChildRow(c: AreaSummary) -> impl IntoView {
    let href = if c.area.level() == AreaLevel::Village {
        format!("/households?village={}", c.area.code)
    } else {
        format!("/areas/{}", c.area.code)
    };
    view! {
        <li>
            <A href=href attr:class="row">
                <span class="row-main">
                    <span class="row-title">{c.area.name}</span>
                    <span class="row-sub">
                        {zh::MONITORED_COUNT} " " {c.monitored} " · " {zh::UNASSIGNED_COUNT} " " {c.unassigned}
                    </span>
                </span>
                <span class="row-count"><strong>{c.households}</strong> " 户"</span>
            </A>
        </li>
    }
}
