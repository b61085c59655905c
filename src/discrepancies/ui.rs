use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{AppFrame, ErrorNotice, Loading, anchor_for, form_action};
use crate::discrepancies::api::{
    AssignDiscrepancy, CloseDiscrepancy, NoteDiscrepancy, ReopenDiscrepancy,
    count_open_discrepancies, get_discrepancy, list_discrepancies,
};
use crate::discrepancies::{
    DiscrepancyDetail, DiscrepancyEntry, DiscrepancyItem, DiscrepancyKind, DiscrepancyQueue,
    QueueFilter, Resolution,
};
use crate::error::AppError;
use crate::text::zh;

/// `/areas/<code>/discrepancies?filter=open|mine|closed&page=N`: an area's
/// queue, newest first, with counts per state and kind.
#[component]
pub fn DiscrepancyQueuePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let queue = Resource::new(
        move || {
            let q = query.read();
            (
                params.read().get("code").unwrap_or_default(),
                q.get("filter").filter(|s| !s.is_empty()),
                q.get("page").and_then(|p| p.parse::<u32>().ok()),
            )
        },
        |(code, filter, page)| list_discrepancies(code, filter, page),
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match queue.await {
                        Ok(q) => Either::Left(view! { <QueueView q/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

fn queue_href(code: &str, filter: QueueFilter, page: u32) -> String {
    let mut href = format!("/areas/{code}/discrepancies?filter={}", filter.as_str());
    if page > 0 {
        href.push_str(&format!("&page={page}"));
    }
    href
}

#[component]
fn QueueView(q: DiscrepancyQueue) -> impl IntoView {
    let code = q.area.code.to_string();
    let kinds = *q.counts.of(q.filter);
    let first = q.page * q.page_size;
    let shown_to = i64::from(first) + q.items.len() as i64;
    let prev = (q.page > 0).then(|| queue_href(&code, q.filter, q.page - 1));
    let next = (shown_to < q.total).then(|| queue_href(&code, q.filter, q.page + 1));
    view! {
        <nav class="crumbs">
            {q.breadcrumbs.into_iter().map(|a| view! {
                <A href=format!("/areas/{}", a.code)>{a.name}</A>
                <span class="sep">" › "</span>
            }).collect_view()}
            <A href=format!("/areas/{code}")>{q.area.name.clone()}</A>
        </nav>
        <h1 class="page-title">{zh::DISC_TITLE}</h1>
        <p class="muted">{zh::DISC_INTRO}</p>
        <nav class="tabs" data-testid="queue-filters">
            {QueueFilter::ALL.into_iter().map(|f| {
                // A class, not aria-current: the router's <A> marks every
                // tab current, since they differ only in the query.
                let class = if f == q.filter { "tab tab-on" } else { "tab" };
                view! {
                    <A href=queue_href(&code, f, 0) attr:class=class
                        attr:data-testid=format!("filter-{}", f.as_str())>
                        {f.label()} " " <strong>{q.counts.of(f).total()}</strong>
                    </A>
                }
            }).collect_view()}
        </nav>
        <ul class="kind-counts" data-testid="kind-counts">
            // A reconciliation kind only where a payout file found one.
            {DiscrepancyKind::ALL.into_iter().filter(|k| !k.is_reconciliation() || kinds.get(*k) > 0).map(|k| view! {
                <li class=kind_class(k) data-kind=k.as_str()>{k.label()} " " <strong>{kinds.get(k)}</strong></li>
            }).collect_view()}
        </ul>
        <p class="count" data-testid="queue-count">
            "共 " <strong>{q.total}</strong> " 项"
            {(q.total > 0).then(|| format!("，第 {}–{} 项", first + 1, shown_to))}
        </p>
        {if q.items.is_empty() {
            Either::Left(view! { <p class="empty">{zh::DISC_NONE}</p> })
        } else {
            Either::Right(view! {
                <ul class="list disc-list" data-testid="discrepancies">
                    {q.items.into_iter().map(|d| view! { <QueueRow d/> }).collect_view()}
                </ul>
            })
        }}
        <nav class="pager">
            {prev.map(|href| view! { <A href=href attr:class="btn">{zh::PREVIOUS}</A> })}
            {next.map(|href| view! { <A href=href attr:class="btn">{zh::MORE}</A> })}
        </nav>
    }
}

fn kind_class(kind: DiscrepancyKind) -> &'static str {
    match kind {
        DiscrepancyKind::NotReceived => "tag tag-red",
        DiscrepancyKind::ReceivedInPart => "tag tag-amber",
        DiscrepancyKind::ReceivedLate => "tag tag-blue",
        DiscrepancyKind::VisitConflict => "tag tag-purple",
        DiscrepancyKind::Dispute => "tag tag-red",
        DiscrepancyKind::SuspiciousVisit => "tag tag-purple",
        DiscrepancyKind::PaidNotReceived => "tag tag-red",
        DiscrepancyKind::ReceivedNoPayout | DiscrepancyKind::AmountDiffers => "tag tag-amber",
        DiscrepancyKind::DueUnpaid => "tag tag-blue",
    }
}

/// What the item is about in one line: the payment's shortfall, the late
/// date, or the conflict.
fn what(d: &DiscrepancyItem) -> String {
    match d.kind {
        DiscrepancyKind::VisitConflict => zh::DISC_CONFLICT_NOTE.to_owned(),
        DiscrepancyKind::Dispute | DiscrepancyKind::SuspiciousVisit => {
            d.reason.clone().unwrap_or_default()
        }
        DiscrepancyKind::ReceivedLate => format!(
            "{} {} · {} {}",
            zh::DISC_EXPECTED_DATE,
            d.expected_date.map(|x| x.to_string()).unwrap_or_default(),
            zh::DISC_RECEIVED_ON,
            d.received_on.map(|x| x.to_string()).unwrap_or_default(),
        ),
        DiscrepancyKind::PaidNotReceived => zh::DISC_PAID_NOT_RECEIVED.to_owned(),
        DiscrepancyKind::ReceivedNoPayout => zh::DISC_RECEIVED_NO_PAYOUT.to_owned(),
        DiscrepancyKind::AmountDiffers => zh::DISC_AMOUNT_DIFFERS.to_owned(),
        DiscrepancyKind::DueUnpaid => zh::DISC_DUE_UNPAID.to_owned(),
        DiscrepancyKind::NotReceived | DiscrepancyKind::ReceivedInPart => d
            .reason
            .clone()
            .map(|r| format!("{}：{r}", zh::DISC_REASON))
            .unwrap_or_default(),
    }
}

/// An amount, or a dash where the side has none.
fn shown(fen: Option<crate::subsidies::Fen>) -> String {
    fen.map_or_else(|| "—".to_owned(), |f| f.to_string())
}

#[component]
fn QueueRow(d: DiscrepancyItem) -> impl IntoView {
    let what = what(&d);
    let state = match (d.closed, d.resolution, &d.assignee_name) {
        (true, Some(r), _) => format!("{} · {}", zh::DISC_CLOSED, r.label()),
        (_, _, Some(name)) => format!("{}：{name}", zh::DISC_ASSIGNEE),
        _ => zh::DISC_UNASSIGNED.to_owned(),
    };
    view! {
        <li class="disc" data-testid="discrepancy" data-id=d.id.to_string()>
            <div class="disc-top">
                <A href=format!("/households/{}", d.household_id) attr:class="disc-name" attr:data-testid="household-link">
                    {d.head_name}
                </A>
                <span class=kind_class(d.kind) data-testid="kind">{d.kind.label()}</span>
            </div>
            <div class="row-sub">{d.village.name} " · " <span class="mono">{d.household_number}</span></div>
            {d.item_name.map(|name| view! {
                <div class="disc-money">
                    <span class="ent-name">{name}</span>
                    <span data-testid="amounts">
                        {zh::DISC_EXPECTED} " " <span class="amount">{shown(d.expected)}</span>
                        {d.kind.is_reconciliation().then(|| view! {
                            " · " {zh::DISC_PAID} " " <span class="amount">{shown(d.paid)}</span>
                        })}
                        " · " {zh::DISC_RECEIVED} " " <span class="amount">{shown(d.received)}</span> " 元"
                    </span>
                </div>
            })}
            {(!what.is_empty()).then(|| view! { <div class="row-sub">{what}</div> })}
            <div class="disc-bottom">
                <span class="row-sub">
                    {d.worker_name.zip(d.visit_date).map(|(w, day)| format!("{w} · {day} · "))}
                    {zh::DISC_AGE} " "
                    <strong class="age" data-testid="age">{d.age_days}</strong> " " {zh::DISC_DAYS}
                    " · " <span data-testid="state">{state}</span>
                </span>
                <A href=format!("/discrepancies/{}", d.id) attr:class="btn btn-small" attr:data-testid="open-item">
                    {zh::DISC_HANDLE} " ›"
                </A>
            </div>
        </li>
    }
}

/// `/discrepancies/<id>`: one item, its history and, for whoever oversees
/// it, the forms to assign, note, close and reopen it.
#[component]
pub fn DiscrepancyPage() -> impl IntoView {
    let params = use_params_map();
    let assign = form_action::<AssignDiscrepancy>();
    let note = form_action::<NoteDiscrepancy>();
    let close = form_action::<CloseDiscrepancy>();
    let reopen = form_action::<ReopenDiscrepancy>();
    provide_context(Actions {
        assign,
        note,
        close,
        reopen,
    });
    // Every step re-reads the item, so its new state and history show.
    let detail = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                assign.version().get() + note.version().get(),
                close.version().get() + reopen.version().get(),
            )
        },
        |(id, _, _)| get_discrepancy(id),
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => Either::Left(view! { <DetailView d/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    assign: ServerAction<AssignDiscrepancy>,
    note: ServerAction<NoteDiscrepancy>,
    close: ServerAction<CloseDiscrepancy>,
    reopen: ServerAction<ReopenDiscrepancy>,
}

#[component]
fn DetailView(d: DiscrepancyDetail) -> impl IntoView {
    let item = d.item;
    let what = what(&item);
    let id = item.id.to_string();
    let state = if item.closed {
        "tag tag-green"
    } else {
        "tag tag-amber"
    };
    let state_label = match item.resolution {
        Some(r) if item.closed => format!("{} · {}", zh::DISC_CLOSED, r.label()),
        _ => zh::DISC_OPEN.to_owned(),
    };
    view! {
        <A href=format!("/areas/{}/discrepancies", d.queue) attr:class="back">{zh::DISC_BACK}</A>
        <section class="card" data-testid="discrepancy-detail">
            <h1 class="disc-title">
                {item.head_name}
                <span class=kind_class(item.kind) data-testid="kind">{item.kind.label()}</span>
                <span class=state data-testid="item-state">{state_label}</span>
            </h1>
            <dl class="facts">
                <dt>"户编号"</dt><dd class="mono">{item.household_number}</dd>
                <dt>{zh::VILLAGE}</dt><dd>{item.village.name}</dd>
                {item.item_name.map(|name| view! {
                    <dt>{zh::DISC_ITEM}</dt><dd>{name}</dd>
                    <dt>{zh::DISC_EXPECTED}</dt><dd class="amount" data-testid="expected">{item.expected.map_or_else(|| zh::NONE_RECORDED.to_owned(), |f| format!("{f} 元"))}</dd>
                    {item.kind.is_reconciliation().then(|| view! {
                        <dt>{zh::DISC_PAID}</dt>
                        <dd class="amount" data-testid="paid">{item.paid.map_or_else(|| zh::NONE_RECORDED.to_owned(), |f| format!("{f} 元"))}</dd>
                    })}
                    <dt>{zh::DISC_RECEIVED}</dt><dd class="amount" data-testid="received">{item.received.map_or_else(|| zh::NOT_VERIFIED_YET.to_owned(), |f| format!("{f} 元"))}</dd>
                    <dt>{zh::DISC_EXPECTED_DATE}</dt><dd>{item.expected_date.map(|x| x.to_string())}</dd>
                    <dt>{zh::DISC_RECEIVED_ON}</dt><dd>{item.received_on.map(|x| x.to_string()).unwrap_or_else(|| "—".into())}</dd>
                })}
                {item.worker_name.zip(item.visit_date).map(|(worker, day)| view! {
                    <dt>{zh::DISC_WORKER}</dt><dd>{worker}</dd>
                    <dt>{zh::DISC_VISIT_DATE}</dt><dd>{day.to_string()}</dd>
                })}
                <dt>{zh::DISC_AGE}</dt><dd><span data-testid="age">{item.age_days}</span> " " {zh::DISC_DAYS}</dd>
                <dt>{zh::DISC_ASSIGNEE}</dt>
                <dd data-testid="assignee">{item.assignee_name.unwrap_or_else(|| zh::DISC_UNASSIGNED.to_owned())}</dd>
            </dl>
            {(!what.is_empty()).then(|| view! { <p class="disc-what" data-testid="what">{what}</p> })}
            {d.conflict.map(|c| view! {
                <dl class="facts conflict" data-testid="conflict">
                    <dt>{zh::DISC_STORED_COPY}</dt>
                    <dd><span class="mono hash">{c.stored_hash}</span><br/>{zh::DISC_RECEIVED_AT} " " {c.stored_at_local}</dd>
                    <dt>{zh::DISC_OTHER_COPY}</dt>
                    <dd><span class="mono hash">{c.other_hash}</span><br/>{zh::DISC_RECEIVED_AT} " " {c.other_at_local} " · " {c.other_worker}</dd>
                </dl>
            })}
            <A href=format!("/households/{}", item.household_id) attr:class="btn btn-block" attr:data-testid="household-link">
                {zh::DISC_HOUSEHOLD_LINK}
            </A>
        </section>
        <section class="card">
            <h2>{zh::DISC_HISTORY}</h2>
            <History entries=d.history/>
        </section>
        <section class="card disc-actions" data-testid="actions">
            <h2>{zh::DISC_ACTIONS}</h2>
            {if item.closed {
                Either::Left(view! {
                    <NoteForm id=id.clone()/>
                    <ReopenForm id/>
                })
            } else {
                Either::Right(view! {
                    <AssignForm id=id.clone() current=d.assignee_id assignees=d.assignees me=d.me/>
                    <NoteForm id=id.clone()/>
                    <CloseForm id/>
                })
            }}
        </section>
    }
}

#[component]
fn History(entries: Vec<DiscrepancyEntry>) -> impl IntoView {
    if entries.is_empty() {
        return Either::Left(
            view! { <p class="empty" data-testid="history">{zh::DISC_NO_HISTORY}</p> },
        );
    }
    Either::Right(view! {
        <ol class="review-history disc-history" data-testid="history">
            {entries.into_iter().map(|e| {
                let what = match (e.assignee_name, e.resolution) {
                    (Some(name), _) => format!("{} {name}", e.action.label()),
                    (None, Some(r)) => format!("{}（{}）", e.action.label(), r.label()),
                    (None, None) => e.action.label().to_owned(),
                };
                view! {
                    <li data-action=e.action.as_str()>
                        <span class="muted">{e.at_local} " · " {e.actor_name} " · "</span>
                        <strong>{what}</strong>
                        {(!e.note.is_empty()).then(|| view! { <span>"：" {e.note}</span> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    })
}

/// The error of an action's last run, shown under its form.
fn error_of<S>(value: S) -> impl Fn() -> Option<String> + Send + Sync + 'static
where
    S: Get<Value = Option<Result<(), AppError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    }
}

#[component]
fn FormError(
    message: impl Fn() -> Option<String> + Send + Sync + 'static,
    testid: &'static str,
) -> impl IntoView {
    move || {
        message().map(
            |m| view! { <p class="notice notice-error" role="alert" data-testid=testid>{m}</p> },
        )
    }
}

#[component]
fn AssignForm(
    id: String,
    current: Option<uuid::Uuid>,
    assignees: Vec<crate::discrepancies::Assignee>,
    me: uuid::Uuid,
) -> impl IntoView {
    let action = expect_context::<Actions>().assign;
    view! {
        <ActionForm action attr:class="disc-form" attr:data-testid="assign-form" attr:id=anchor_for(&action)>
            <input type="hidden" name="id" value=id/>
            <label class="field-label">{zh::DISC_ASSIGN_TO}
                <select name="assignee_id" data-testid="assignee-select">
                    {assignees.into_iter().map(|a| {
                        let selected = Some(a.id) == current || (current.is_none() && a.id == me);
                        let mine = if a.id == me { zh::DISC_ME } else { "" };
                        view! {
                            <option value=a.id.to_string() selected=selected>
                                {a.name} {mine} " · " {a.role.label()}
                            </option>
                        }
                    }).collect_view()}
                </select>
            </label>
            <input type="text" name="note" placeholder=zh::DISC_NOTE_OPTIONAL aria-label=zh::DISC_NOTE_OPTIONAL data-testid="assign-note"/>
            <button type="submit" class="btn btn-primary" data-testid="assign-submit">{zh::DISC_ASSIGN}</button>
            <FormError message=error_of(action.value()) testid="assign-error"/>
        </ActionForm>
    }
}

#[component]
fn NoteForm(id: String) -> impl IntoView {
    let action = expect_context::<Actions>().note;
    view! {
        <ActionForm action attr:class="disc-form" attr:data-testid="note-form" attr:id=anchor_for(&action)>
            <input type="hidden" name="id" value=id/>
            <label class="field-label">{zh::DISC_NOTE}
                <textarea name="note" rows="2" class="input" data-testid="note-text"></textarea>
            </label>
            <button type="submit" class="btn" data-testid="note-submit">{zh::DISC_ADD_NOTE}</button>
            <FormError message=error_of(action.value()) testid="note-error"/>
        </ActionForm>
    }
}

#[component]
fn CloseForm(id: String) -> impl IntoView {
    let action = expect_context::<Actions>().close;
    view! {
        <ActionForm action attr:class="disc-form" attr:data-testid="close-form" attr:id=anchor_for(&action)>
            <input type="hidden" name="id" value=id/>
            <label class="field-label">{zh::DISC_RESOLUTION}
                <select name="resolution" data-testid="resolution-select">
                    <option value="">{zh::CHOOSE}</option>
                    {Resolution::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str()>{r.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field-label">{zh::DISC_CLOSE_NOTE}
                <textarea name="note" rows="2" class="input" data-testid="close-note"></textarea>
            </label>
            <button type="submit" class="btn btn-primary" data-testid="close-submit">{zh::DISC_CLOSE}</button>
            <FormError message=error_of(action.value()) testid="close-error"/>
        </ActionForm>
    }
}

#[component]
fn ReopenForm(id: String) -> impl IntoView {
    let action = expect_context::<Actions>().reopen;
    view! {
        <ActionForm action attr:class="disc-form" attr:data-testid="reopen-form" attr:id=anchor_for(&action)>
            <input type="hidden" name="id" value=id/>
            <label class="field-label">{zh::DISC_REOPEN_NOTE}
                <textarea name="note" rows="2" class="input" data-testid="reopen-note"></textarea>
            </label>
            <button type="submit" class="btn" data-testid="reopen-submit">{zh::DISC_REOPEN}</button>
            <FormError message=error_of(action.value()) testid="reopen-error"/>
        </ActionForm>
    }
}

/// The way from an area page to its queue, with the number of open items.
#[component]
pub fn DiscrepancyLink(code: String) -> impl IntoView {
    let href = format!("/areas/{code}/discrepancies");
    let count = Resource::new(move || code.clone(), count_open_discrepancies);
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let href = href.clone();
                Suspend::new(async move {
                    match count.await {
                        Ok(n) => EitherOf3::A(view! {
                            <A href=href attr:class="btn btn-block disc-link" attr:data-testid="discrepancy-link">
                                // One span: the button is a flex box, which would
                                // drop the spaces around the figure.
                                <span>{zh::DISC_LINK} " · " <strong data-testid="open-discrepancies">{n}</strong> " " {zh::DISC_OPEN_SUFFIX} " ›"</span>
                            </A>
                        }),
                        Err(AppError::Forbidden) => EitherOf3::B(()),
                        Err(e) => EitherOf3::C(view! { <p class="notice notice-error">{e.to_string()}</p> }),
                    }
                })
            }}
        </Suspense>
    }
}
