//! `/r`: the household's receipt check, on any phone, without sign-in or
//! script. The code comes from the QR code (`?c=`) or is typed; the
//! receipt shows what was confirmed, masked, and a form to dispute it.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{anchor_for, form_action};
use crate::ledger::Seal;
use crate::receipts::api::{DisputeReceipt, OpenReceipt, get_receipt};
use crate::receipts::{DisputeReason, ReceiptView, display_code, normalize_code};
use crate::subsidies::Fen;
use crate::text::zh;

#[component]
pub fn ReceiptPage() -> impl IntoView {
    let query = use_query_map();
    let open = form_action::<OpenReceipt>();
    let dispute = form_action::<DisputeReceipt>();
    let code = query
        .read_untracked()
        .get("c")
        .and_then(|c| normalize_code(&c))
        .map(|c| display_code(&c))
        .unwrap_or_default();
    let disputed = move || match dispute.value().get() {
        Some(Ok(reference)) => Some(Either::Left(view! {
            <p class="notice notice-ok" role="status" data-testid="dispute-sent">
                {zh::RECEIPT_DISPUTE_SENT} " " <strong class="mono">{reference}</strong>
            </p>
        })),
        Some(Err(e)) => Some(Either::Right(view! {
            <p class="notice notice-error" role="alert" data-testid="dispute-error">{e.to_string()}</p>
        })),
        None => None,
    };
    view! {
        <main class="page receipt-page">
            <h1 class="page-title">{zh::RECEIPT_TITLE}</h1>
            {disputed}
            {move || match open.value().get() {
                Some(Ok(token)) => EitherOf3::A(view! { <Receipt token dispute/> }),
                Some(Err(e)) => EitherOf3::B(view! {
                    <p class="notice notice-error" role="alert" data-testid="receipt-error">{e.to_string()}</p>
                    <LookupForm open code=code.clone()/>
                }),
                None => EitherOf3::C(view! { <LookupForm open code=code.clone()/> }),
            }}
        </main>
    }
}

#[component]
fn LookupForm(open: ServerAction<OpenReceipt>, code: String) -> impl IntoView {
    view! {
        <p class="account-hint">{zh::RECEIPT_INTRO}</p>
        <ActionForm action=open attr:class="card" attr:id=anchor_for(&open)>
            <label class="field">
                <span>{zh::RECEIPT_CODE}</span>
                <input type="text" name="code" value=code required maxlength="12" autocomplete="off"
                    autocapitalize="characters" placeholder="A1B2-C3D4" data-testid="receipt-code"/>
            </label>
            <label class="field">
                <span>{zh::RECEIPT_DIGITS}</span>
                <input type="text" name="digits" required maxlength="4" minlength="4" inputmode="numeric"
                    autocomplete="off" placeholder="1234" data-testid="receipt-digits"/>
            </label>
            <button type="submit" class="btn btn-primary btn-block" data-testid="receipt-open"
                disabled=move || open.pending().get()>{zh::RECEIPT_OPEN}</button>
        </ActionForm>
    }
}

#[component]
fn Receipt(token: String, dispute: ServerAction<DisputeReceipt>) -> impl IntoView {
    let for_view = token.clone();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let (token, for_view) = (token.clone(), for_view.clone());
                Suspend::new(async move {
                    match get_receipt(for_view).await {
                        Ok(r) => Either::Left(view! { <ReceiptCard r/> <DisputeForm token dispute/> }),
                        Err(e) => Either::Right(view! {
                            <p class="notice notice-error" role="alert">{e.to_string()}</p>
                        }),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn ReceiptCard(r: ReceiptView) -> impl IntoView {
    let (seal_class, seal_text) = match r.seal {
        Seal::Chained { .. } => ("notice notice-ok", zh::RECEIPT_SEALED.to_owned()),
        Seal::Waiting => ("notice notice-ok", zh::RECEIPT_WAITING.to_owned()),
        Seal::Altered => ("notice notice-error", zh::RECEIPT_ALTERED.to_owned()),
    };
    let signer = if r.thumbprint {
        format!("{}（{}，按手印）", r.signer, r.signer_relation)
    } else {
        format!("{}（{}）", r.signer, r.signer_relation)
    };
    view! {
        <section class="card receipt" data-testid="receipt">
            <p class="mono receipt-code" data-testid="receipt-shown-code">{r.code}</p>
            <p class=seal_class role="status" data-testid="receipt-seal">{seal_text}</p>
            <dl class="receipt-facts">
                <dt>{zh::RECEIPT_HOUSEHOLD}</dt><dd data-testid="receipt-head">{r.head}</dd>
                <dt>{zh::RECEIPT_VILLAGE}</dt><dd>{r.village}</dd>
                <dt>{zh::RECEIPT_DATE}</dt><dd>{zh::chinese_date(r.visited_on)}</dd>
                <dt>{zh::RECEIPT_WORKER}</dt><dd>{r.worker}</dd>
                <dt>{zh::RECEIPT_SIGNER}</dt><dd>{signer}</dd>
            </dl>
            <h2>{r.stat_year} {zh::YEAR_SUFFIX} " · " {zh::RECEIPT_ITEMS}</h2>
            <ul class="list receipt-lines" data-testid="receipt-lines">
                {r.lines.into_iter().map(|l| {
                    let received = l.received_fen.map(|f| format!("{} {} 元", zh::RECEIPT_RECEIVED, Fen(f)));
                    view! {
                        <li class="row">
                            <span class="row-main">
                                <span class="row-title">{l.item}</span>
                                <span class="row-sub">{zh::RECEIPT_DUE} " " {Fen(l.due_fen).to_string()} " 元"
                                    {received.map(|r| format!(" · {r}"))}
                                    {l.received_on.map(|d| format!(" · {d}"))}</span>
                            </span>
                            <span class="row-count"><strong>{l.status.label()}</strong></span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!r.disputes.is_empty()).then(|| view! {
                <p class="muted" data-testid="receipt-disputes">
                    {zh::RECEIPT_DISPUTED} " "
                    {r.disputes.iter().map(|d| format!("{}{}", d.reason.label(), if d.closed { "（已处理）" } else { "（处理中）" })).collect::<Vec<_>>().join("、")}
                </p>
            })}
        </section>
    }
}

#[component]
fn DisputeForm(token: String, dispute: ServerAction<DisputeReceipt>) -> impl IntoView {
    view! {
        <section class="card" data-testid="dispute">
            <h2>{zh::RECEIPT_DISPUTE_TITLE}</h2>
            <p class="account-hint">{zh::RECEIPT_DISPUTE_HINT}</p>
            <ActionForm action=dispute attr:id=anchor_for(&dispute)>
                <input type="hidden" name="token" value=token/>
                <fieldset class="field choices">
                    <legend>{zh::RECEIPT_DISPUTE_WHAT}</legend>
                    {DisputeReason::ALL.into_iter().map(|r| view! {
                        <label class="choice">
                            <input type="radio" name="reason" value=r.as_str() required data-testid=format!("dispute-{}", r.as_str())/>
                            <span>{r.label()}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <label class="field">
                    <span>{zh::RECEIPT_DISPUTE_DETAILS}</span>
                    <textarea name="details" maxlength="500" rows="3" data-testid="dispute-details"></textarea>
                </label>
                <label class="field">
                    <span>{zh::RECEIPT_DISPUTE_PHONE}</span>
                    <input type="tel" name="phone" maxlength="20" autocomplete="tel" data-testid="dispute-phone"/>
                </label>
                <button type="submit" class="btn btn-block" data-testid="dispute-submit"
                    disabled=move || dispute.pending().get()>{zh::RECEIPT_DISPUTE_SEND}</button>
            </ActionForm>
        </section>
    }
}
