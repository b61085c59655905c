use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use crate::components::{AppFrame, ErrorNotice, Loading, NotFound};
use crate::households::api::{get_household, list_households, list_my_villages};
use crate::households::{Category, HouseholdDetail, HouseholdPage, HouseholdSummary};
use crate::text::zh;

/// The list a field worker starts from: their households, searchable and
/// filterable by village. Supervisors get the same list for their area.
#[component]
pub fn HouseholdListPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (
            q.get("q").filter(|s| !s.is_empty()),
            q.get("village").filter(|s| !s.is_empty()),
            q.get("page").and_then(|p| p.parse::<u32>().ok()),
        )
    };
    let page = Resource::new(params, |(search, village, page)| {
        list_households(search, village, page)
    });
    let villages = Resource::new(|| (), |_| list_my_villages());
    view! {
        <AppFrame>
            <h1 class="page-title">{zh::MY_HOUSEHOLDS}</h1>
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
                        (!villages.is_empty()).then(|| view! {
                            <select name="village" data-testid="village-filter">
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
                <button type="submit" class="btn btn-primary">{zh::SEARCH}</button>
            </Form>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <HouseholdList page=p/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
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
        for key in ["q", "village"] {
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
    view! {
        <p class="count" data-testid="household-count">
            "共 " <strong>{page.total}</strong> " 户"
        </p>
        {if page.households.is_empty() {
            view! { <p class="empty">{zh::NO_HOUSEHOLDS}</p> }.into_any()
        } else {
            view! {
                <ul class="list" data-testid="household-list">
                    {page.households.into_iter().map(|h| view! { <HouseholdRow h/> }).collect_view()}
                </ul>
            }.into_any()
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
                    <span class="row-sub">{h.village.name} " · " <span class="mono">{h.number}</span></span>
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
    let detail = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_household(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(Some(d)) => view! { <HouseholdView d/> }.into_any(),
                        Ok(None) => view! { <NotFound/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
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
    let kind = match s.category {
        Category::Monitored(k) => Some(k.label()),
        Category::Alleviated => None,
    };
    view! {
        <A href="/households" attr:class="back">"‹ " {zh::MY_HOUSEHOLDS}</A>
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
                <dt>{zh::WORKER}</dt><dd>{d.worker_name.unwrap_or_else(|| "未分配".into())}</dd>
            </dl>
        </section>

        <section class="card">
            <h2>{zh::MEMBERS} "（" {d.members.len()} "人）"</h2>
            <ul class="members" data-testid="members">
                {d.members.into_iter().map(|m| view! {
                    <li>
                        <div class="member-line">
                            <strong>{m.name}</strong>
                            <span class="muted">{m.relation} " · " {m.sex.map(|s| s.label()).unwrap_or("—")} " · " {m.birth_date.map(|d| d.to_string()).unwrap_or_default()}</span>
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
                view! { <p class="empty">{zh::NO_ENTITLEMENTS}</p> }.into_any()
            } else {
                view! {
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
                }.into_any()
            }}
        </section>
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
