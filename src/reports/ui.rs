use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::areas::AreaLevel;
use crate::components::{AppFrame, ErrorNotice, Loading};
use crate::reports::api::get_dispatch_table;
use crate::reports::{
    DispatchRow, DispatchTable, PaymentState, Progress, households_href, xlsx_href,
};
use crate::text::zh;

/// `/reports/dispatch/<area>?as_of=YYYY-MM-DD&item=<code>`: the dispatch
/// table of an area, one item (or all items) at a time so that it fits a
/// phone; rows drill down to the child area, villages to their households.
#[component]
pub fn DispatchPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let table = Resource::new(
        move || {
            (
                params.read().get("code").unwrap_or_default(),
                query.read().get("as_of").filter(|s| !s.is_empty()),
            )
        },
        |(code, as_of)| get_dispatch_table(code, as_of),
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match table.await {
                        Ok(t) => Either::Left(view! { <DispatchView t/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn DispatchView(t: DispatchTable) -> impl IntoView {
    let query = use_query_map();
    let item_code = query.read_untracked().get("item").unwrap_or_default();
    let column = t.items.iter().position(|i| i.code == item_code);
    let item_name = column
        .map(|i| t.items[i].name.clone())
        .unwrap_or_else(|| zh::ALL_ITEMS.to_owned());
    let as_of = t.as_of.to_string();
    let caption_date = as_of.clone();
    let options = t
        .items
        .iter()
        .map(|i| (i.code.clone(), i.name.clone(), i.code == item_code))
        .collect::<Vec<_>>();
    let no_items = t.items.is_empty();
    let link = {
        let as_of = as_of.clone();
        let item_code = column.map(|i| t.items[i].code.clone()).unwrap_or_default();
        move |code: &str| format!("/reports/dispatch/{code}?as_of={as_of}&item={item_code}")
    };
    // Each figure leads to the households behind it.
    let drill = Drill {
        as_of: t.as_of,
        item: column.map(|i| t.items[i].code.clone()).unwrap_or_default(),
    };
    let crumbs = t
        .breadcrumbs
        .iter()
        .map(|a| (link(a.code.as_str()), a.name.clone()))
        .collect::<Vec<_>>();
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let href = if r.area.level() == AreaLevel::Village {
                format!("/households?village={}", r.area.code)
            } else {
                link(r.area.code.as_str())
            };
            (Some(href), r.clone())
        })
        .collect::<Vec<_>>();
    view! {
        <nav class="crumbs">
            {crumbs.into_iter().map(|(href, name)| view! {
                <A href=href>{name}</A>
                <span class="sep">" › "</span>
            }).collect_view()}
        </nav>
        <h1 class="page-title">{t.area.name.clone()}</h1>
        <p class="muted">{zh::DISPATCH_TITLE}</p>
        <Form method="GET" action="" attr:class="search dispatch-filter">
            <input type="date" name="as_of" value=as_of.clone() data-testid="as-of" aria-label=zh::AS_OF/>
            <select name="item" aria-label=zh::SUBSIDY_ITEM data-testid="item">
                <option value="">{zh::ALL_ITEMS}</option>
                {options.into_iter().map(|(code, name, selected)| view! {
                    <option value=code selected=selected>{name}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="btn btn-primary">{zh::SHOW}</button>
        </Form>
        <p class="deadline" data-testid="dispatch-caption">
            {t.stat_year} {zh::YEAR_SUFFIX} " · " <strong class="caption-item">{item_name}</strong> " · "
            {zh::AS_OF} " " {caption_date} " · " {zh::CHANGE_SINCE} " " {t.week_before.to_string()}
        </p>
        {matches!(t.area.level(), AreaLevel::County | AreaLevel::City | AreaLevel::Province).then(|| view! {
            <A href=format!("/reports/weekly/{}", t.area.code) attr:class="btn btn-block" attr:data-testid="weekly-link">{zh::WEEKLY_LINK}</A>
        })}
        <A href=crate::reconciliation::reconciliation_href(t.area.code.as_str()) attr:class="btn btn-block" attr:data-testid="reconciliation-link">{zh::RECON_LINK}</A>
        // rel=external: a download, not a page for the client-side router.
        <a class="btn btn-block" rel="external" download href=xlsx_href(t.area.code.as_str(), t.as_of)
            data-testid="export-xlsx">{zh::EXPORT_XLSX}</a>
        {if no_items {
            Either::Left(view! { <p class="empty">{zh::NO_PAYMENTS_DUE}</p> })
        } else {
            Either::Right(view! {
                <div class="table-wrap">
                    <table class="dispatch" data-testid="dispatch-table">
                        <thead>
                            <tr>
                                <th scope="col">{zh::AREA}</th>
                                {count_labels(column).into_iter().map(|l| view! { <th scope="col" class="num">{l}</th> }).collect_view()}
                                <th scope="col">{zh::AMOUNT_FULL_PART_DUE}</th>
                                <th scope="col">{zh::PROGRESS}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|(href, r)| view! { <Row href r column drill=drill.clone()/> }).collect_view()}
                        </tbody>
                        <tfoot>
                            <Row href=None r=t.total.clone() column drill/>
                        </tfoot>
                    </table>
                </div>
            })
        }}
        <p class="muted mono chain-stamp" data-testid="chain-stamp">{t.chain.line()}</p>
    }
}

/// What a figure's link to its households needs besides the area.
#[derive(Clone)]
struct Drill {
    as_of: chrono::NaiveDate,
    item: String,
}

impl Drill {
    fn href(&self, area: &str, state: PaymentState) -> String {
        households_href(area, self.as_of, &self.item, state)
    }
}

#[component]
fn Row(href: Option<String>, r: DispatchRow, column: Option<usize>, drill: Drill) -> impl IntoView {
    let (now, before): (Progress, Progress) = r.figures(column);
    let change = now.points_since(&before);
    let rising = change > 0;
    let name = r.area.name.clone();
    let code = r.area.code.to_string();
    view! {
        <tr data-area=code.clone()>
            <th scope="row">
                {match href {
                    Some(href) => Either::Left(view! { <A href=href>{name}</A> }),
                    None => Either::Right(view! { <span>{zh::TOTAL}</span> }),
                }}
            </th>
            // data-label: the column's name over each figure when a narrow
            // screen stacks the row as a card.
            {count_labels(column).into_iter().zip(COUNT_STATES).map(|(label, state)| {
                let n = match state {
                    PaymentState::Full => now.full,
                    PaymentState::Part => now.part(),
                    PaymentState::Unpaid => now.none(),
                    PaymentState::Due | PaymentState::Paid => now.due,
                };
                let shortfall = matches!(state, PaymentState::Part | PaymentState::Unpaid) && n > 0;
                view! {
                    <td class="num" class:shortfall=shortfall
                        data-testid=format!("count-{}", state.as_str()) data-label=label>
                        // With all items a figure counts payments, not
                        // households: only one item's figures lead to a
                        // list of households.
                        {if drill.item.is_empty() {
                            Either::Left(view! { <strong>{n}</strong> })
                        } else {
                            Either::Right(view! {
                                <strong><A href=drill.href(&code, state)>{n}</A></strong>
                            })
                        }}
                    </td>
                }
            }).collect_view()}
            <td class="num amounts" data-testid="amounts" data-label=zh::AMOUNT_FULL_PART_DUE>
                <strong>{now.full_yuan().to_string()}</strong>
                <span class="of">" · " {now.part_yuan().to_string()} " / " {now.due_yuan().to_string()}</span>
            </td>
            <td class="progress-cell" data-label=zh::PROGRESS>
                <Bars now=now.percent_full() before=before.percent_full()/>
                <span class="pct" data-testid="percent">{now.percent_full()} "%"</span>
                <span class="change" class:up=rising data-testid="change">
                    {if change > 0 { format!("+{change}") } else { change.to_string() }} " " {zh::PERCENT_POINTS}
                </span>
            </td>
        </tr>
    }
}

/// The states the count columns show, in order (see `zh::HOUSEHOLD_COUNTS`).
const COUNT_STATES: [PaymentState; 4] = [
    PaymentState::Full,
    PaymentState::Part,
    PaymentState::Unpaid,
    PaymentState::Due,
];

/// The count columns' names: households for one item, 户次 over all.
fn count_labels(column: Option<usize>) -> [&'static str; 4] {
    if column.is_some() {
        zh::HOUSEHOLD_COUNTS
    } else {
        zh::TIMES_COUNTS
    }
}

/// Two bars in one small SVG: this week (solid) over last week (pale).
#[component]
fn Bars(now: i64, before: i64) -> impl IntoView {
    let w = |p: i64| p.clamp(0, 100).to_string();
    view! {
        <svg class="bars" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
            <rect x="0" y="0" width="100" height="10" class="bars-track"/>
            <rect x="0" y="0" width=w(before) height="10" class="bars-before"/>
            <rect x="0" y="3" width=w(now) height="4" class="bars-now"/>
        </svg>
    }
}
