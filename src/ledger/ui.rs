//! The county page's card for its chain: the head hash, the newest
//! verification and what it found, and a button to verify now.

use leptos::either::Either;
use leptos::prelude::*;

use crate::components::{anchor_for, form_action};
use crate::ledger::CountyLedger;
use crate::ledger::api::{VerifyLedger, get_county_ledger};
use crate::subsidies::china_time;
use crate::text::zh;

/// Shown on a county's page to those who supervise the county; nothing for
/// anyone else (the server refuses them).
#[component]
pub fn LedgerCard(code: String) -> impl IntoView {
    let verify = form_action::<VerifyLedger>();
    let county = code.clone();
    let ledger = Resource::new(
        move || verify.version().get(),
        move |_| get_county_ledger(county.clone()),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let code = code.clone();
                Suspend::new(async move {
                    let shown = match verify.value().get() {
                        Some(Ok(fresh)) => Some(fresh),
                        _ => ledger.await.ok(),
                    };
                    shown.map(|l| view! { <LedgerView l verify code/> })
                })
            }}
        </Suspense>
    }
}

#[component]
fn LedgerView(l: CountyLedger, verify: ServerAction<VerifyLedger>, code: String) -> impl IntoView {
    let refused = move || {
        verify.value().get().and_then(Result::err).map(|e| {
            view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }
        })
    };
    let last = match l.last {
        None => Either::Left(
            view! { <p class="muted" data-testid="ledger-never">{zh::LEDGER_NEVER_VERIFIED}</p> },
        ),
        Some(v) => {
            let when = china_time(v.at).format("%Y-%m-%d %H:%M").to_string();
            let clean = v.problems == 0;
            Either::Right(view! {
                <p class=if clean { "notice notice-ok" } else { "notice notice-error" }
                    role="status" data-testid="ledger-verdict">
                    {if clean { zh::LEDGER_CLEAN } else { zh::LEDGER_PROBLEMS }}
                    " · " {zh::LEDGER_VERIFIED_AT} " " {when} " · " {v.records} " " {zh::LEDGER_RECORDS}
                    {(!clean).then(|| format!(" · {} {}", v.problems, zh::LEDGER_PROBLEM_COUNT))}
                </p>
                <p class="muted">{zh::LEDGER_RUNNER} " " {v.runner}</p>
                {(!v.report.is_empty()).then(|| view! {
                    <ul class="ledger-problems" data-testid="ledger-problems">
                        {v.report.into_iter().map(|line| view! { <li class="mono">{line}</li> }).collect_view()}
                    </ul>
                })}
            })
        }
    };
    view! {
        <section class="card ledger-card" data-testid="ledger">
            <h2>{zh::LEDGER_TITLE}</h2>
            <p class="account-hint">{zh::LEDGER_HINT}</p>
            <p>
                {zh::LEDGER_HEAD} " " <strong data-testid="ledger-seq">{l.head_seq}</strong> " " {zh::LEDGER_ENTRIES}
            </p>
            <p class="mono hash" data-testid="ledger-head">{l.head_hash}</p>
            {last}
            {refused}
            <ActionForm action=verify attr:id=anchor_for(&verify)>
                <input type="hidden" name="code" value=code/>
                <button type="submit" class="btn btn-block" data-testid="ledger-verify"
                    disabled=move || verify.pending().get()>{zh::LEDGER_VERIFY_NOW}</button>
            </ActionForm>
        </section>
    }
}
