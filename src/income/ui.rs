use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::areas::AreaLevel;
use crate::components::{AppFrame, ErrorNotice, Loading, anchor_for, form_action};
use crate::income::api::{SetThreshold, get_household_income, get_income_table, list_thresholds};
use crate::income::{
    Flags, HouseholdIncomeView, IncomeAccount, IncomeFlag, IncomeRow, IncomeTable,
    flagged_households_href, income_table_href,
};
use crate::subsidies::IncomeBucket;
use crate::text::zh;

/// The risk signals as small badges, for lists and the household's head.
#[component]
pub fn FlagBadges(flags: Flags) -> impl IntoView {
    (!flags.is_empty()).then(|| {
        view! {
            <span class="flag-badges" data-testid="flags">
                {flags.iter().map(|f| view! {
                    <span class="tag tag-red" data-flag=f.as_str()>{f.label()}</span>
                }).collect_view()}
            </span>
        }
    })
}

/// The household page's income card: the year's account, last year's,
/// the signals and where each number came from.
#[component]
pub fn HouseholdIncome(household_id: Uuid) -> impl IntoView {
    let income = Resource::new(move || household_id, |id| get_household_income(id, None));
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match income.await {
                    Ok(v) => Either::Left(view! { <IncomeCard v/> }),
                    Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn IncomeCard(v: HouseholdIncomeView) -> impl IntoView {
    let change = v.change_percent();
    let s = v.status;
    let a = s.account.clone();
    let per_capita = a
        .per_capita
        .map(|p| p.to_string())
        .unwrap_or_else(|| "—".into());
    let size_source = match a.size.from_visit {
        Some(_) => zh::SIZE_FROM_VISIT,
        None => zh::SIZE_FROM_MEMBERS,
    };
    let last = s.last_year.clone();
    let flags = s.flags;
    view! {
        <section class="card income" data-testid="income">
            <h2>{zh::INCOME_TITLE} " · " {a.stat_year} {zh::YEAR_SUFFIX}</h2>
            {flags.iter().map(|f| view! {
                <p class="notice notice-warn" data-flag=f.as_str()>{f.explain()}</p>
            }).collect_view()}
            <div class="income-head">
                <span class="muted">{zh::PER_CAPITA}</span>
                <span class="income-pc" data-testid="per-capita">{per_capita}</span>
                <span class="muted">" 元"</span>
            </div>
            {(!a.has_records).then(|| view! { <p class="muted">{zh::INCOME_NO_RECORDS}</p> })}
            <dl class="facts income-buckets">
                <dt>{IncomeBucket::Wage.label()}</dt><dd class="money" data-testid="bucket-wage">{a.wage.to_string()}</dd>
                <dt>{IncomeBucket::Business.label()}</dt><dd class="money" data-testid="bucket-business">{a.business.to_string()}</dd>
                <dt>{IncomeBucket::Property.label()}</dt><dd class="money" data-testid="bucket-property">{a.property.to_string()}</dd>
                <dt>{IncomeBucket::Transfer.label()}</dt><dd class="money" data-testid="bucket-transfer">{a.transfer.to_string()}</dd>
                <dt>"− " {IncomeBucket::BusinessCost.label()}</dt><dd class="money" data-testid="bucket-cost">{a.cost.to_string()}</dd>
                <dt><strong>{zh::NET_INCOME}</strong></dt><dd class="money" data-testid="net-income"><strong>{a.net.to_string()}</strong></dd>
                <dt>{zh::INCOME_HOUSEHOLD_SIZE}</dt><dd data-testid="household-size">{a.size.people} " 人（" {size_source} "）"</dd>
                <dt>{zh::THRESHOLD}</dt><dd>{s.threshold.map(|t| format!("{t} 元")).unwrap_or_else(|| "—".into())}</dd>
                <dt>{zh::LAST_YEAR_PER_CAPITA}</dt>
                <dd data-testid="last-year">
                    {last.as_ref().and_then(|l| l.per_capita).map(|p| format!("{p} 元")).unwrap_or_else(|| "—".into())}
                    {change.map(|c| format!("（{}{c}%）", if c.is_sign_positive() { "+" } else { "" }))}
                </dd>
            </dl>
            <p class="muted small">{zh::INCOME_RULE}</p>
            <Sources a/>
        </section>
    }
}

/// Every line of the account: what, which bucket, how much, from which visit.
#[component]
fn Sources(a: IncomeAccount) -> impl IntoView {
    (!a.sources.is_empty()).then(|| {
        view! {
            <details class="sources">
                <summary>{zh::INCOME_SOURCES} "（" {a.sources.len()} "）"</summary>
                <ul class="source-lines" data-testid="income-sources">
                    {a.sources.into_iter().map(|s| {
                        let counted = !matches!(s.bucket, IncomeBucket::None);
                        view! {
                            <li>
                                <div class="ent-main">
                                    <span>{s.line}</span>
                                    <span class="money">{s.amount.to_string()}</span>
                                </div>
                                <div class="ent-sub muted">
                                    {s.bucket.label()} " · " {zh::VISIT_OF} " " {s.visit_day.to_string()}
                                    {counted.then(|| format!(" · {}", if s.backed { zh::BACKED } else { zh::DECLARED_ONLY }))}
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </details>
        }
    })
}

/// `/areas/<code>/income`: households with risk signals and the plans'
/// implementation rate, per area one level down; each figure leads on.
#[component]
pub fn IncomeTablePage() -> impl IntoView {
    let params = use_params_map();
    let table = Resource::new(
        move || params.read().get("code").unwrap_or_default(),
        get_income_table,
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match table.await {
                        Ok(t) => Either::Left(view! { <IncomeTableView t/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn IncomeTableView(t: IncomeTable) -> impl IntoView {
    let crumbs = t
        .breadcrumbs
        .iter()
        .map(|a| (income_table_href(&a.code), a.name.clone()))
        .collect::<Vec<_>>();
    let rows = t.rows.clone();
    view! {
        <nav class="crumbs">
            {crumbs.into_iter().map(|(href, name)| view! {
                <A href=href>{name}</A>
                <span class="sep">" › "</span>
            }).collect_view()}
        </nav>
        <h1 class="page-title">{t.area.name.clone()}</h1>
        <p class="muted">{zh::INCOME_TABLE_TITLE}</p>
        <p class="deadline" data-testid="income-caption">
            {t.stat_year} {zh::YEAR_SUFFIX} " · " {zh::THRESHOLD} " "
            {t.threshold.map(|f| format!("{f} 元")).unwrap_or_else(|| "—".into())}
            " · " {zh::COMPUTED_ON} " " {t.as_of.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}
        </p>
        <div class="stats">
            <div class="stat"><span class="stat-n" data-testid="income-households">{t.total.households}</span><span>{zh::HOUSEHOLD_COUNT}</span></div>
            <div class="stat"><span class="stat-n" data-testid="income-flagged">{t.total.flagged}</span><span>{zh::FLAGGED_HOUSEHOLDS}</span></div>
            <div class="stat"><span class="stat-n" data-testid="income-rate">{rate_text(&t.total)}</span><span>{zh::IMPLEMENTATION_RATE}</span></div>
        </div>
        <div class="table-wrap">
            <table class="dispatch income-table" data-testid="income-table">
                <thead>
                    <tr>
                        <th scope="col">{zh::AREA}</th>
                        <th scope="col">{zh::FLAGGED_HOUSEHOLDS}</th>
                        <th scope="col">{zh::MEASURES_ON_TIME_DUE}</th>
                        <th scope="col">{zh::RATE_SHORT}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| view! { <Row r total=false/> }).collect_view()}
                </tbody>
                <tfoot>
                    <Row r=t.total.clone() total=true/>
                </tfoot>
            </table>
        </div>
    }
}

fn rate_text(r: &IncomeRow) -> String {
    r.rate()
        .map(|p| format!("{p}%"))
        .unwrap_or_else(|| "—".into())
}

#[component]
fn Row(r: IncomeRow, total: bool) -> impl IntoView {
    let code = r.area.code.clone();
    let area_name = r.area.name.clone();
    // A figure links to its households; an area's name to its own table.
    let name = if total {
        Either::Left(view! { <strong>{zh::TOTAL}</strong> })
    } else {
        let href = if r.area.level() == AreaLevel::Village {
            flagged_households_href(&code, None)
        } else {
            income_table_href(&code)
        };
        Either::Right(view! { <A href=href>{area_name}</A> })
    };
    // Each signal with households is a chip under the name, leading to
    // them: five more columns would not fit a phone.
    let chips = IncomeFlag::ALL
        .into_iter()
        .map(|f| (f, r.flag_count(f)))
        .filter(|(_, n)| *n > 0)
        .map(|(f, n)| {
            view! {
                <li><A href=flagged_households_href(&code, Some(f)) attr:class="tag tag-red" attr:data-flag=f.as_str()>
                    {f.label()} " " {n}
                </A></li>
            }
        })
        .collect_view();
    let suspicious = (r.suspicious_visits > 0).then(|| {
        view! {
            <li><A href=crate::signals::ui::signals_href(code.as_str()) attr:class="tag tag-amber" attr:data-testid="row-suspicious">
                {zh::SUSPICIOUS_VISITS} " " {r.suspicious_visits}
            </A></li>
        }
    });
    let flagged = if r.flagged == 0 {
        Either::Left(view! { "0" })
    } else {
        Either::Right(view! { <A href=flagged_households_href(&code, None)>{r.flagged}</A> })
    };
    view! {
        <tr data-testid="income-row" data-area=r.area.code.to_string()>
            <th scope="row">
                {name}
                <ul class="kind-counts flag-counts">{chips}{suspicious}</ul>
            </th>
            // data-label: the column's name over each figure when a narrow
            // screen stacks the row as a card.
            <td class="num" data-testid="row-flagged" data-label=zh::FLAGGED_HOUSEHOLDS>{flagged}</td>
            <td class="num" data-label=zh::MEASURES_ON_TIME_DUE>{r.measures_on_time} " / " {r.measures_due}</td>
            <td class="num" data-testid="row-rate" data-label=zh::RATE_SHORT>{rate_text(&r)}</td>
        </tr>
    }
}

/// `/income/thresholds`: the monitoring threshold of each year; the
/// province admin edits them.
#[component]
pub fn ThresholdsPage() -> impl IntoView {
    let set = form_action::<SetThreshold>();
    let list = Resource::new(move || set.version().get(), |_| list_thresholds());
    view! {
        <AppFrame>
            <h1 class="page-title">{zh::THRESHOLDS_TITLE}</h1>
            <p class="muted">{zh::THRESHOLDS_INTRO}</p>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => Either::Left(view! {
                            <ul class="entitlements" data-testid="thresholds">
                                {list.into_iter().map(|t| view! {
                                    <li class="ent-main">
                                        <span>{t.stat_year} {zh::YEAR_SUFFIX}</span>
                                        <span class="money">{t.threshold.to_string()} " 元/人·年"</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
            <section class="card">
                <h2>{zh::THRESHOLD_SET}</h2>
                <ActionForm action=set attr:class="stack" attr:id=anchor_for(&set)>
                    <label>{zh::STAT_YEAR}<input type="number" name="stat_year" inputmode="numeric" required data-testid="threshold-year"/></label>
                    <label>{zh::THRESHOLD_FIELD}<input type="text" name="threshold" inputmode="decimal" required data-testid="threshold-amount"/></label>
                    <button type="submit" class="btn btn-primary btn-block">{zh::SAVE}</button>
                </ActionForm>
                {move || set.value().get().and_then(|r| r.err()).map(|e| view! {
                    <p class="notice notice-error" role="alert">{e.to_string()}</p>
                })}
            </section>
        </AppFrame>
    }
}
