//! `/reports/ratings/<area>?as_of=YYYY-MM-DD`: the week's rating of a
//! province's cities and counties, or a city's counties. Server-rendered.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{AppFrame, ErrorNotice, Loading};
use crate::ratings::api::get_ratings;
use crate::ratings::{OLD_DAYS, RatingRow, RatingsView, ratings_href, ratings_xlsx_href};
use crate::text::zh;

#[component]
pub fn RatingsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let view_of = Resource::new(
        move || {
            (
                params.read().get("code").unwrap_or_default(),
                query.read().get("as_of").filter(|s| !s.is_empty()),
            )
        },
        |(code, as_of)| get_ratings(code, as_of),
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match view_of.await {
                        Ok(v) => Either::Left(view! { <Body v/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn Body(v: RatingsView) -> impl IntoView {
    let code = v.area.code.to_string();
    let earlier = format!("{}?as_of={}", ratings_href(&code), v.week_before);
    view! {
        <nav class="crumbs">
            <A href=format!("/reports/weekly/{code}")>{zh::WEEKLY_TITLE}</A>
        </nav>
        <h1 class="page-title">{v.area.name.clone()} " · " {zh::RATINGS_TITLE}</h1>
        <p class="deadline" data-testid="ratings-week">{zh::AS_OF} " " {v.as_of.to_string()} " · " {zh::RATINGS_AGAINST} " " {v.week_before.to_string()}</p>
        <p class="muted">{zh::RATINGS_RULE.replace("{}", &OLD_DAYS.to_string())}</p>
        <p><A href=earlier attr:data-testid="ratings-earlier">{zh::WEEKLY_EARLIER}</A></p>
        <a class="btn btn-block" rel="external" download href=ratings_xlsx_href(&code, v.as_of) data-testid="ratings-xlsx">{zh::EXPORT_XLSX}</a>
        {(!v.cities.is_empty()).then(|| view! { <Table title=zh::RATINGS_CITIES rows=v.cities.clone() testid="ratings-cities"/> })}
        <Table title=zh::RATINGS_COUNTIES rows=v.counties testid="ratings-counties"/>
    }
}

#[component]
fn Table(title: &'static str, rows: Vec<RatingRow>, testid: &'static str) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{title}</h2>
            <div class="table-wrap">
                <table class="dispatch ratings" data-testid=testid>
                    <thead>
                        <tr>
                            <th scope="col" class="num">{zh::RATINGS_RANK}</th>
                            <th scope="col">{zh::AREA}</th>
                            <th scope="col" class="num">{zh::RATINGS_FULL}</th>
                            <th scope="col" class="num">{zh::RATINGS_VISITED}</th>
                            <th scope="col" class="num">{zh::RATINGS_OLD}</th>
                            <th scope="col" class="num">{zh::RATINGS_MISMATCHES}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| {
                            let moved = r.places_gained();
                            let points = r.points_since();
                            view! {
                                <tr data-area=r.area.code.to_string() data-testid="rating">
                                    <td class="num" data-label=zh::RATINGS_RANK>
                                        <strong data-testid="rank">{r.rank}</strong>
                                        <span class="change" class:up={moved > 0} data-testid="rank-change">
                                            {match moved { 0 => "—".to_owned(), m if m > 0 => format!("↑{m}"), m => format!("↓{}", -m) }}
                                        </span>
                                    </td>
                                    <th scope="row">
                                        <A href=format!("/reports/dispatch/{}", r.area.code)>{r.area.name.clone()}</A>
                                        {r.parent.map(|p| view! { <span class="muted">" · " {p}</span> })}
                                    </th>
                                    <td class="num" data-label=zh::RATINGS_FULL>
                                        <strong data-testid="full">{r.full_percent} "%"</strong>
                                        <span class="change" class:up={points > 0}>{if points > 0 { format!("+{points}") } else { points.to_string() }}</span>
                                    </td>
                                    <td class="num" data-label=zh::RATINGS_VISITED data-testid="visited">{r.visited_percent} "%"</td>
                                    <td class="num" class:shortfall={r.open_old > 0} data-label=zh::RATINGS_OLD>
                                        <A href=format!("/areas/{}/discrepancies", r.area.code) attr:data-testid="old">{r.open_old}</A>
                                    </td>
                                    <td class="num" class:shortfall={r.mismatches > 0} data-label=zh::RATINGS_MISMATCHES>
                                        <A href=crate::reconciliation::reconciliation_href(r.area.code.as_str()) attr:data-testid="mismatches">{r.mismatches}</A>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
