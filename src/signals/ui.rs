//! `/areas/<code>/signals?state=open|cleared|needs_review`: the 可疑走访
//! queue of an area, each signal with its reason in words and a decision
//! form; the thresholds, editable by the province admin.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{AppFrame, ErrorNotice, Loading, RowKey, form_action_at, row_anchor};
use crate::signals::api::{ReviewSignal, SetSignalThreshold, get_signal_queue};
use crate::signals::{SignalItem, SignalQueue, SignalState, Thresholds};
use crate::subsidies::china_time;
use crate::text::zh;

/// Where an area's queue is.
pub fn signals_href(code: &str) -> String {
    format!("/areas/{code}/signals")
}

#[component]
pub fn SignalQueuePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let queue = Resource::new(
        move || {
            (
                params.read().get("code").unwrap_or_default(),
                query.read().get("state").unwrap_or_default(),
            )
        },
        |(code, state)| get_signal_queue(code, state),
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

#[component]
fn QueueView(q: SignalQueue) -> impl IntoView {
    let code = q.area.code.to_string();
    let total: i64 = q.counts.iter().map(|(_, n)| n).sum();
    view! {
        <nav class="crumbs">
            <a href=format!("/areas/{code}")>{q.area.name.clone()}</a>
            <span class="sep">" › "</span>
        </nav>
        <h1 class="page-title">{zh::SIGNALS_TITLE}</h1>
        <p class="account-hint">{zh::SIGNALS_INTRO}</p>
        <p class="deadline" data-testid="signals-open">{zh::SIGNALS_OPEN} " " <strong>{total}</strong></p>
        <ul class="tags signal-counts">
            {q.counts.iter().map(|(k, n)| view! { <li class="tag tag-amber">{k.label()} " " {*n}</li> }).collect_view()}
        </ul>
        <nav class="filters">
            {[SignalState::Open, SignalState::NeedsReview, SignalState::Cleared].into_iter().map(|s| view! {
                <a class="btn btn-small" href=format!("{}?state={}", signals_href(&code), s.as_str())>{s.label()}</a>
            }).collect_view()}
        </nav>
        {if q.items.is_empty() {
            Either::Left(view! { <p class="empty" data-testid="signals-empty">{zh::SIGNALS_NONE}</p> })
        } else {
            Either::Right(view! {
                <ul class="list" data-testid="signals">
                    {q.items.into_iter().map(|s| view! { <SignalRow s/> }).collect_view()}
                </ul>
            })
        }}
        <ThresholdsCard t=q.thresholds editable=q.may_edit_thresholds/>
    }
}

#[component]
fn SignalRow(s: SignalItem) -> impl IntoView {
    let key = format!("{}-{}", s.visit_id, s.kind.as_str());
    let review = form_action_at::<ReviewSignal>(&key);
    let anchor = row_anchor::<ReviewSignal>(&key);
    let when = china_time(s.visit_at).format("%Y-%m-%d %H:%M").to_string();
    view! {
        <li class="row signal" data-testid="signal">
            <span class="row-main">
                <span class="row-title">
                    <span class="tag tag-amber">{s.kind.label()}</span> " "
                    <a href=format!("/households/{}", s.household_id)>{s.head_name} " · " <span class="hh-number">{s.household_number}</span></a>
                </span>
                <span class="row-sub" data-testid="signal-detail">{s.detail}</span>
                <span class="row-sub">{s.village} " · " {s.worker} " · " {when} " · " {s.state.label()}</span>
                <ActionForm action=review attr:class="inline-form signal-form" attr:id=anchor>
                    <RowKey key/>
                    <input type="hidden" name="visit_id" value=s.visit_id.to_string()/>
                    <input type="hidden" name="kind" value=s.kind.as_str()/>
                    <select name="state" aria-label=zh::SIGNAL_DECISION data-testid="signal-state">
                        <option value="cleared">{SignalState::Cleared.label()}</option>
                        <option value="needs_review">{SignalState::NeedsReview.label()}</option>
                    </select>
                    <input type="text" name="comment" required maxlength="500" aria-label=zh::SIGNAL_COMMENT
                        placeholder=zh::SIGNAL_COMMENT data-testid="signal-comment"/>
                    <button type="submit" class="btn btn-small" data-testid="signal-submit">{zh::SIGNAL_SAVE}</button>
                </ActionForm>
                <Refused action=review/>
            </span>
        </li>
    }
}

#[component]
fn ThresholdsCard(t: Thresholds, editable: bool) -> impl IntoView {
    view! {
        <section class="card" data-testid="signal-thresholds">
            <h2>{zh::SIGNAL_THRESHOLDS}</h2>
            <ul class="list">
                {Thresholds::FIELDS.into_iter().map(|(name, label, unit)| {
                    let value = t.get(name).unwrap_or_default();
                    if editable {
                        let threshold = form_action_at::<SetSignalThreshold>(name);
                        Either::Left(view! {
                            <li class="row">
                                <ActionForm action=threshold attr:class="inline-form" attr:id={row_anchor::<SetSignalThreshold>(name)}>
                                    <RowKey key=name/>
                                    <input type="hidden" name="name" value=name/>
                                    <label class="field">
                                        <span>{label} "（" {unit} "）"</span>
                                        <input type="number" name="value" value=value.to_string() required data-testid=format!("threshold-{name}")/>
                                    </label>
                                    <button type="submit" class="btn btn-small">{zh::SIGNAL_SAVE}</button>
                                </ActionForm>
                                <Refused action=threshold/>
                            </li>
                        })
                    } else {
                        Either::Right(view! {
                            <li class="row"><span class="row-main">{label}</span><span class="row-count">{value} " " {unit}</span></li>
                        })
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// A row's refusal, under its form.
#[component]
fn Refused<S>(action: ServerAction<S>) -> impl IntoView
where
    S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
    S::Error: Clone + std::fmt::Display + Send + Sync + 'static,
{
    move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="notice notice-error row-notice" role="alert">{e.to_string()}</p> })
    }
}
