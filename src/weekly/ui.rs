//! `/reports/weekly/<area>?as_of=YYYY-MM-DD`: the week's report of a
//! county, city or the province: the form that submits it, every version
//! submitted, what the records changed since, and the areas below with
//! their state and the level above's 通过 / 退回.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{
    AppFrame, ErrorNotice, Loading, RowKey, anchor_for, form_action, form_action_at, row_anchor,
};
use crate::reports::{DispatchTable, Progress};
use crate::subsidies::china_time;
use crate::text::zh;
use crate::weekly::api::{ReviewWeek, SubmitWeek, get_weekly};
use crate::weekly::{
    AreaWeek, Change, LateVisit, MAX_CONTACT_NAME_CHARS, MAX_CONTACT_PHONE_CHARS, MAX_REMARK_CHARS,
    Submission, SubmissionState, WeeklyView,
};

#[component]
pub fn WeeklyPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let submit = form_action::<SubmitWeek>();
    let view_of = Resource::new(
        move || {
            (
                params.read().get("code").unwrap_or_default(),
                query.read().get("as_of").filter(|s| !s.is_empty()),
                submit.version().get(),
            )
        },
        |(code, as_of, _)| get_weekly(code, as_of),
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match view_of.await {
                        Ok(w) => Either::Left(view! { <WeeklyBody w submit/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

fn at(t: chrono::DateTime<chrono::Utc>) -> String {
    china_time(t).format("%Y-%m-%d %H:%M").to_string()
}

fn week_href(code: &str, as_of: chrono::NaiveDate) -> String {
    format!("/reports/weekly/{code}?as_of={as_of}")
}

#[component]
fn WeeklyBody(w: WeeklyView, submit: ServerAction<SubmitWeek>) -> impl IntoView {
    let query = use_query_map();
    let only_missing = query
        .read_untracked()
        .get("missing")
        .is_some_and(|m| m == "1");
    let code = w.area.code.to_string();
    let as_of = w.week.as_of;
    let earlier = week_href(&code, as_of - chrono::Duration::days(7));
    let submitted = move || {
        submit.value().get().map(|r| match r {
            Ok(v) => Either::Left(view! {
                <p class="notice notice-ok" role="status" data-testid="weekly-submitted">
                    {zh::WEEKLY_SUBMITTED} " · " {zh::WEEKLY_VERSION.replace("{}", &v.to_string())}
                </p>
            }),
            Err(e) => Either::Right(view! {
                <p class="notice notice-error" role="alert" data-testid="weekly-error">{e.to_string()}</p>
            }),
        })
    };
    let children = w
        .children
        .iter()
        .filter(|c| {
            !only_missing
                || c.latest
                    .as_ref()
                    .is_none_or(|s| s.state == SubmissionState::Returned)
        })
        .cloned()
        .collect::<Vec<_>>();
    let missing = w
        .children
        .iter()
        .filter(|c| {
            c.latest
                .as_ref()
                .is_none_or(|s| s.state == SubmissionState::Returned)
        })
        .count();
    let has_children = !w.children.is_empty();
    view! {
        <nav class="crumbs">
            <A href=format!("/reports/dispatch/{code}")>{zh::DISPATCH_LINK}</A>
        </nav>
        <h1 class="page-title">{w.area.name.clone()} " · " {zh::WEEKLY_TITLE}</h1>
        <p class="deadline" data-testid="weekly-week">
            {zh::AS_OF} " " {as_of.to_string()} " · " {zh::WEEKLY_DUE} " " {at(w.week.due_at)}
        </p>
        <p><A href=earlier attr:data-testid="weekly-earlier">{zh::WEEKLY_EARLIER}</A></p>
        {matches!(w.area.code.level(), crate::areas::AreaLevel::Province | crate::areas::AreaLevel::City).then(|| view! {
            <A href=format!("{}?as_of={as_of}", crate::ratings::ratings_href(&code))
                attr:class="btn btn-block" attr:data-testid="ratings-link">{zh::RATINGS_LINK} " ›"</A>
        })}
        {submitted}
        {has_children.then(|| view! {
            <section class="card" data-testid="weekly-totals">
                <p>{zh::WEEKLY_SUBMITTED_TOTAL} ": "
                    <strong data-testid="submitted-total">{w.submitted_total.map(|p| summary(&p)).unwrap_or_default()}</strong></p>
                <p>{zh::WEEKLY_LIVE_TOTAL} ": " <span data-testid="live-total">{summary(&w.live_total)}</span></p>
            </section>
        })}
        {w.submits.then(|| view! {
            <SubmitSection w=w.clone() submit/>
        })}
        {(!w.versions.is_empty()).then(|| view! {
            <section class="card" data-testid="weekly-versions">
                <h2>{zh::WEEKLY_VERSIONS}</h2>
                {w.versions.iter().rev().map(|s| view! { <VersionCard s=s.clone()/> }).collect_view()}
            </section>
            <ChangesSection changes=w.changes.clone() visits=w.late_visits.clone()/>
        })}
        {has_children.then(|| view! {
            <section class="card" data-testid="weekly-children">
                <h2>{zh::WEEKLY_CHILDREN}</h2>
                <p>
                    <A href=format!("{}&missing=1", week_href(&code, as_of)) attr:data-testid="only-missing">
                        {zh::WEEKLY_ONLY_MISSING} " (" {missing} ")"
                    </A>
                </p>
                <ul class="weekly-children">
                    {children.into_iter().map(|c| view! { <ChildRow c as_of/> }).collect_view()}
                </ul>
            </section>
        })}
    }
}

/// "足额 N · 部分 N · 未到 N / 应发 N（户次）· 足额进度 P%".
fn summary(p: &Progress) -> String {
    format!(
        "足额 {} · 部分 {} · 未到 {} / 应发 {} 户次 · 足额进度 {}%",
        p.full,
        p.part(),
        p.none(),
        p.due,
        p.percent_full()
    )
}

#[component]
fn SubmitSection(w: WeeklyView, submit: ServerAction<SubmitWeek>) -> impl IntoView {
    let code = w.area.code.to_string();
    match (w.blocked.clone(), w.draft.clone()) {
        (None, Some(report)) => Either::Right(view! {
            <section class="card" data-testid="weekly-submit">
                <h2>{zh::WEEKLY_SUBMIT_TITLE}</h2>
                <ItemsTable t=report.table.clone()/>
                <Corrections changes=report.corrections.clone()/>
                <ActionForm action=submit attr:id=anchor_for(&submit)>
                    <input type="hidden" name="code" value=code/>
                    <input type="hidden" name="as_of" value=w.week.as_of.to_string()/>
                    {report.table.items.iter().map(|i| {
                        let hint = w.hints.iter().find(|h| h.item_code == i.code).map(|h| h.hint.clone());
                        view! {
                            <label class="field"><span>{i.name.clone()} " · " {zh::WEEKLY_REMARK}</span>
                                {hint.map(|h| view! { <small class="muted" data-testid="remark-hint">{h}</small> })}
                                <textarea name=format!("remarks[{}]", i.code) rows="2"
                                    maxlength=MAX_REMARK_CHARS.to_string() data-testid=format!("remark-{}", i.code)></textarea>
                            </label>
                        }
                    }).collect_view()}
                    <label class="field"><span>{zh::WEEKLY_CONTACT_NAME}</span>
                        <input name="contact_name" required maxlength=MAX_CONTACT_NAME_CHARS.to_string() data-testid="contact-name"/></label>
                    <label class="field"><span>{zh::WEEKLY_CONTACT_PHONE}</span>
                        <input type="tel" name="contact_phone" required maxlength=MAX_CONTACT_PHONE_CHARS.to_string() data-testid="contact-phone"/></label>
                    <button type="submit" class="btn btn-primary btn-block" data-testid="weekly-submit-button">{zh::WEEKLY_SUBMIT}</button>
                </ActionForm>
            </section>
        }),
        (why, _) => Either::Left(view! {
            <p class="notice notice-warn" data-testid="weekly-blocked">{why.unwrap_or_default()}</p>
        }),
    }
}

/// One line per item and a total: in full, in part, none, due, progress.
#[component]
fn ItemsTable(t: DispatchTable) -> impl IntoView {
    let rows = t
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.name.clone(), t.total.items[i]))
        .chain([(zh::TOTAL.to_owned(), t.total.all)])
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap">
            <table class="dispatch weekly-items" data-testid="weekly-items">
                <thead><tr>
                    <th scope="col">{zh::SUBSIDY_ITEM}</th>
                    {zh::HOUSEHOLD_COUNTS.into_iter().map(|l| view! { <th scope="col" class="num">{l}</th> }).collect_view()}
                    <th scope="col">{zh::PROGRESS}</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|(name, p)| {
                        let (part, none) = (p.part(), p.none());
                        view! {
                        <tr>
                            <th scope="row">{name}</th>
                            <td class="num" data-label=zh::HOUSEHOLD_COUNTS[0]>{p.full}</td>
                            <td class="num" class:shortfall={part > 0} data-label=zh::HOUSEHOLD_COUNTS[1]>{part}</td>
                            <td class="num" class:shortfall={none > 0} data-label=zh::HOUSEHOLD_COUNTS[2]>{none}</td>
                            <td class="num" data-label=zh::HOUSEHOLD_COUNTS[3]>{p.due}</td>
                            <td class="num" data-label=zh::PROGRESS>{p.percent_full()} "%"</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Corrections(changes: Vec<Change>) -> impl IntoView {
    (!changes.is_empty()).then(|| {
        view! {
            <h3>{zh::WEEKLY_CORRECTIONS}</h3>
            <ul data-testid="weekly-corrections">
                {changes.into_iter().map(|c| view! { <li><ChangeLine c/></li> }).collect_view()}
            </ul>
        }
    })
}

#[component]
fn ChangeLine(c: Change) -> impl IntoView {
    view! {
        <span>
            {zh::AS_OF} " " {c.as_of.to_string()} " · " <strong>{c.area.name.clone()}</strong> " · " {c.item_name.clone()} ": "
            "足额 " {c.submitted.full} " → " {c.live.full}
            "，部分 " {c.submitted.part()} " → " {c.live.part()}
            "，未到 " {c.submitted.none()} " → " {c.live.none()}
        </span>
    }
}

#[component]
fn VersionCard(s: Submission) -> impl IntoView {
    let tag = match s.state {
        SubmissionState::Accepted => "tag tag-green",
        SubmissionState::Returned => "tag tag-red",
        SubmissionState::Submitted => "tag tag-blue",
    };
    view! {
        <article class="weekly-version" data-testid="weekly-version" data-state=s.state.as_str()>
            <p>
                <strong>{zh::WEEKLY_VERSION.replace("{}", &s.version.to_string())}</strong> " "
                <span class=tag data-testid="weekly-state">{s.state.label()}</span>
                {s.late.then(|| view! { " " <span class="tag tag-amber">{zh::WEEKLY_LATE}</span> })}
            </p>
            <p class="muted">{s.submitted_by.clone()} " · " {at(s.submitted_at)} " · "
                {zh::WEEKLY_CONTACT_NAME} " " {s.contact_name.clone()} " " {s.contact_phone.clone()}</p>
            <p>{summary(&s.report.table.total.all)}</p>
            {s.remarks.iter().map(|(item, text)| view! { <p class="remark">{item.clone()} ": " {text.clone()}</p> }).collect_view()}
            <Corrections changes=s.report.corrections.clone()/>
            {s.review_comment.clone().filter(|c| !c.is_empty()).map(|c| view! {
                <p class="notice notice-warn" data-testid="review-comment">{s.reviewed_by.clone().unwrap_or_default()} ": " {c}</p>
            })}
            <p class="muted mono">{s.report.table.chain.line()} " · SHA-256 " {s.figures_hash.clone()}</p>
            <a class="btn btn-block" rel="external" download href=s.xlsx_href() data-testid="weekly-xlsx">{zh::WEEKLY_DOWNLOAD}</a>
        </article>
    }
}

#[component]
fn ChangesSection(changes: Vec<Change>, visits: Vec<LateVisit>) -> impl IntoView {
    view! {
        <section class="card" data-testid="weekly-changes">
            <h2>{zh::WEEKLY_CHANGES}</h2>
            {if changes.is_empty() {
                Either::Left(view! { <p class="muted" data-testid="no-changes">{zh::WEEKLY_NO_CHANGES}</p> })
            } else {
                Either::Right(view! {
                    <ul>{changes.into_iter().map(|c| view! { <li data-testid="weekly-change"><ChangeLine c/></li> }).collect_view()}</ul>
                })
            }}
            {(!visits.is_empty()).then(|| view! {
                <h3>{zh::WEEKLY_LATE_VISITS}</h3>
                <ul>
                    {visits.into_iter().map(|v| view! {
                        <li data-testid="weekly-late-visit">
                            <A href=format!("/households/{}", v.household_id)>{v.household}</A>
                            " · " {v.village} " · " {v.started_on.to_string()} " → " {at(v.delivered_at)}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
fn ChildRow(c: AreaWeek, as_of: chrono::NaiveDate) -> impl IntoView {
    let href = week_href(c.area.code.as_str(), as_of);
    let (label, tag) = match c.latest.as_ref().map(|s| s.state) {
        None => (zh::WEEKLY_MISSING, "tag tag-amber"),
        Some(SubmissionState::Submitted) => (SubmissionState::Submitted.label(), "tag tag-blue"),
        Some(SubmissionState::Returned) => (SubmissionState::Returned.label(), "tag tag-red"),
        Some(SubmissionState::Accepted) => (SubmissionState::Accepted.label(), "tag tag-green"),
    };
    let latest = c.latest.clone();
    view! {
        <li class="weekly-child" class:late=c.late data-testid="weekly-child" data-area=c.area.code.to_string()>
            <p>
                <A href=href>{c.area.name.clone()}</A> " "
                <span class=tag data-testid="child-state">{label}</span>
                {c.late.then(|| view! { " " <span class="tag tag-amber" data-testid="child-late">{zh::WEEKLY_LATE}</span> })}
            </p>
            {latest.clone().map(|s| view! {
                <p class="muted">{zh::WEEKLY_CONTACT_NAME} " " {s.contact_name.clone()} " " {s.contact_phone.clone()} " · " {at(s.submitted_at)}</p>
                <p>{summary(&s.report.table.total.all)}</p>
            })}
            {latest.filter(|_| c.reviewable).map(|s| {
                let key = s.id.to_string();
                let review = form_action_at::<ReviewWeek>(&key);
                let anchor = row_anchor::<ReviewWeek>(&key);
                let refused = move || review.value().get().and_then(Result::err).map(|e| view! {
                    <p class="notice notice-error" role="alert" data-testid="review-error">{e.to_string()}</p>
                });
                view! {
                <ActionForm action=review attr:class="review-form" attr:data-testid="weekly-review" attr:id=anchor>
                    <RowKey key/>
                    <input type="hidden" name="id" value=s.id.to_string()/>
                    <label class="field"><span>{zh::WEEKLY_COMMENT}</span>
                        <textarea name="comment" rows="2" maxlength=MAX_REMARK_CHARS.to_string() data-testid="review-comment-input"></textarea></label>
                    <div class="button-row">
                        <button type="submit" name="accept" value="true" class="btn btn-primary" data-testid="weekly-accept">{zh::WEEKLY_ACCEPT}</button>
                        <button type="submit" name="accept" value="false" class="btn" data-testid="weekly-return">{zh::WEEKLY_RETURN}</button>
                    </div>
                    {refused}
                </ActionForm>
                }
            })}
        </li>
    }
}
