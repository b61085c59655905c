//! `/reconciliation/<area>`: the three-way match of an area, by child area
//! and by item, each count leading to its households; with `?outcome=`,
//! that list below the tables. Server-rendered: links only, no script.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{AppFrame, ErrorNotice, Loading};
use crate::reconciliation::api::get_reconciliation;
use crate::reconciliation::{
    Outcome, OutcomeRow, ReconciledList, ReconciliationView, list_href, reconciliation_href,
};
use crate::roster::{IMPORT_PATH, RosterKind, template_href};
use crate::text::zh;

#[component]
pub fn ReconciliationPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let view_of = Resource::new(
        move || {
            let q = query.read();
            let get = |k: &str| q.get(k).filter(|s| !s.is_empty());
            (
                params.read().get("code").unwrap_or_default(),
                get("year").and_then(|y| y.parse().ok()),
                get("outcome"),
                get("area"),
                get("item"),
                get("page").and_then(|p| p.parse().ok()),
            )
        },
        |(code, year, outcome, area, item, page)| {
            get_reconciliation(code, year, outcome, area, item, page)
        },
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

fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Matched => "ok",
        Outcome::AwaitingVisit | Outcome::NotDueYet => "",
        Outcome::PaidNotReceived => "shortfall serious",
        Outcome::ReceivedNoPayout | Outcome::AmountDiffers | Outcome::DueUnpaid => "shortfall",
    }
}

#[component]
fn Body(v: ReconciliationView) -> impl IntoView {
    let code = v.area.code.to_string();
    let empty = v.total.total() == 0;
    view! {
        <nav class="crumbs">
            {v.breadcrumbs.into_iter().map(|a| view! {
                <A href=reconciliation_href(a.code.as_str())>{a.name}</A>
                <span class="sep">" › "</span>
            }).collect_view()}
            <A href=format!("/reports/dispatch/{code}")>{zh::DISPATCH_LINK}</A>
        </nav>
        <h1 class="page-title">{v.area.name.clone()} " · " {zh::RECON_TITLE}</h1>
        <p class="muted">{zh::RECON_INTRO}</p>
        <p class="deadline" data-testid="recon-year">{crate::subsidies::StatYear(v.stat_year).label()}</p>
        {v.may_import.then(|| view! {
            <A href=IMPORT_PATH attr:class="btn btn-block" attr:data-testid="recon-import">{zh::RECON_IMPORT}</A>
            <p class="template-links">
                {zh::IMPORT_TEMPLATES} " "
                <a href=template_href(RosterKind::Payouts, "xlsx") rel="external" download>{zh::TEMPLATE_XLSX}</a>
                " · "
                <a href=template_href(RosterKind::Payouts, "csv") rel="external" download>{zh::TEMPLATE_CSV}</a>
            </p>
        })}
        <section class="card" data-testid="recon-scopes">
            <h2>{zh::RECON_FILES}</h2>
            {if v.scopes.is_empty() {
                Either::Left(view! { <p class="empty">{zh::RECON_NO_FILES}</p> })
            } else {
                Either::Right(view! {
                    <ul class="plain">
                        {v.scopes.iter().map(|s| view! {
                            <li>{s.area.name.clone()} " · " {s.item_name.clone()} " · "
                                <span class="muted">{zh::RECON_IMPORTED_AT} " " {s.imported_at_local.clone()}</span></li>
                        }).collect_view()}
                    </ul>
                })
            }}
        </section>
        // The households asked for first: on a phone the tables are long.
        {v.list.map(|l| view! { <List l code=code.clone() stat_year=v.stat_year/> })}
        {(!empty).then(|| view! {
            <Table title=zh::RECON_BY_AREA rows=v.by_area.clone() total=v.total.clone() code=code.clone() by_item=false stat_year=v.stat_year/>
            <Table title=zh::RECON_BY_ITEM rows=v.by_item.clone() total=v.total.clone() code=code.clone() by_item=true stat_year=v.stat_year/>
        })}
    }
}

#[component]
fn Table(
    title: &'static str,
    rows: Vec<OutcomeRow>,
    total: OutcomeRow,
    code: String,
    by_item: bool,
    stat_year: i32,
) -> impl IntoView {
    let testid = if by_item {
        "recon-by-item"
    } else {
        "recon-by-area"
    };
    let cells = move |r: &OutcomeRow, filter: Option<String>| {
        Outcome::ALL
            .iter()
            .zip(r.counts)
            .map(|(o, n)| {
                let (child, item) = match &filter {
                    Some(f) if by_item => (None, Some(f.as_str())),
                    Some(f) => (Some(f.as_str()), None),
                    None => (None, None),
                };
                let href = format!("{}&year={stat_year}", list_href(&code, *o, child, item));
                let class = if n > 0 { outcome_class(*o) } else { "" };
                view! {
                    <td class=format!("num {class}") data-testid=format!("recon-{}", o.as_str()) data-label=o.short_label()>
                        {if n > 0 {
                            Either::Left(view! { <strong><A href=href attr:class="fig">{n}</A></strong> })
                        } else {
                            Either::Right(view! { <span>{n}</span> })
                        }}
                    </td>
                }
            })
            .collect_view()
    };
    let amounts = |r: &OutcomeRow| format!("{} / {} / {}", r.due, r.paid, r.received);
    view! {
        <section class="card">
            <h2>{title}</h2>
            <div class="table-wrap">
                <table class="dispatch recon" data-testid=testid>
                    <thead>
                        <tr>
                            <th scope="col">{if by_item { zh::DISC_ITEM } else { zh::AREA }}</th>
                            {Outcome::ALL.iter().map(|o| view! { <th scope="col" class="num" title=o.label()>{o.short_label()}</th> }).collect_view()}
                            <th scope="col" class="num">{zh::RECON_AMOUNTS}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.iter().map(|r| view! {
                            <tr data-key=r.key.clone()>
                                <th scope="row">{r.label.clone()}</th>
                                {cells(r, Some(r.key.clone()))}
                                <td class="num amounts" data-label=zh::RECON_AMOUNTS>{amounts(r)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                    <tfoot>
                        <tr>
                            <th scope="row">{zh::TOTAL}</th>
                            {cells(&total, None)}
                            <td class="num amounts" data-label=zh::RECON_AMOUNTS>{amounts(&total)}</td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        </section>
    }
}

#[component]
fn List(l: ReconciledList, code: String, stat_year: i32) -> impl IntoView {
    let filter = [
        l.area.as_ref().map(|a| a.name.clone()),
        l.item.as_ref().map(|(_, name)| name.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let pages = (l.total as u32).div_ceil(l.page_size).max(1);
    let page_href = |page: u32| {
        format!(
            "{}&year={stat_year}&page={page}",
            list_href(
                &code,
                l.outcome,
                l.area.as_ref().map(|a| a.code.as_str()),
                l.item.as_ref().map(|(c, _)| c.as_str()),
            )
        )
    };
    let prev = (l.page > 1).then(|| page_href(l.page - 1));
    let next = (l.page < pages).then(|| page_href(l.page + 1));
    view! {
        <section class="card" id="list" data-testid="recon-list">
            <h2>
                <span class=format!("tag {}", if l.outcome.is_mismatch() { "tag-red" } else { "tag-green" })>{l.outcome.label()}</span>
                " " {filter}
            </h2>
            <p class="muted"><span data-testid="recon-list-total">{l.total}</span> " " {zh::RECON_KEYS}</p>
            {if l.rows.is_empty() {
                Either::Left(view! { <p class="empty">{zh::DISC_NONE}</p> })
            } else {
                Either::Right(view! {
                    <ul class="list disc-list">
                        {l.rows.into_iter().map(|r| view! {
                            <li class="disc" data-testid="recon-row" data-household=r.household_id.to_string()>
                                <div class="disc-top">
                                    <A href=format!("/households/{}", r.household_id) attr:class="disc-name" attr:data-testid="household-link">{r.head_name}</A>
                                    <span class="ent-name">{r.item_name}</span>
                                </div>
                                <div class="row-sub">{r.village.name} " · " <span class="mono">{r.household_number}</span></div>
                                // Each figure with its name, never split across lines.
                                <p class="recon-amounts" data-testid="recon-amounts">
                                    <span>{zh::DISC_EXPECTED} " " <strong class="amount">{shown(r.due)}</strong></span>
                                    <span>{zh::DISC_PAID} " " <strong class="amount">{shown(r.paid)}</strong></span>
                                    <span>{zh::DISC_RECEIVED} " " <strong class="amount">{r.received.map_or_else(|| zh::NOT_VERIFIED_YET.to_owned(), |f| f.to_string())}</strong></span>
                                </p>
                                {r.discrepancy_id.map(|id| view! {
                                    <A href=format!("/discrepancies/{id}") attr:class="btn btn-small" attr:data-testid="recon-discrepancy">{zh::RECON_OPEN_ITEM}</A>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                })
            }}
            <nav class="pager">
                {prev.map(|href| view! { <A href=href attr:class="btn">{zh::PREVIOUS}</A> })}
                {next.map(|href| view! { <A href=href attr:class="btn">{zh::MORE}</A> })}
            </nav>
        </section>
    }
}

fn shown(fen: Option<crate::subsidies::Fen>) -> String {
    fen.map_or_else(|| zh::NONE_RECORDED.to_owned(), |f| f.to_string())
}
