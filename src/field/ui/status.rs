//! The always-visible lines: who uses the phone, and where delivery stands.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::state::{Field, short_time};
use crate::text::zh;

/// The worker's name and the sign-out button, with its warning when
/// visits have not reached the server.
#[component]
pub fn WhoAndSignOut() -> impl IntoView {
    let field = expect_context::<Field>();
    let confirming = RwSignal::new(false);
    let sign_out = move |_| {
        if field.undelivered() > 0 && !confirming.get_untracked() {
            confirming.set(true);
            return;
        }
        confirming.set(false);
        spawn_local(async move {
            field.sign_out().await;
        });
    };
    view! {
        {move || field.user.get().map(|u| view! {
            <span class="who" data-testid="who">
                <span class="who-name">{u.display_name}</span>
                <span class="who-role">{u.role.label()} " · " {u.area_name}</span>
            </span>
            // Online only (the page is not cached); the worker changes
            // their password or ends a lost phone's session there.
            <a href="/account" rel="external" class="btn-quiet topbar-link" data-testid="account-link">{zh::ACCOUNT}</a>
            <button type="button" class="btn-quiet" data-testid="field-sign-out" on:click=sign_out>
                {zh::SIGN_OUT}
            </button>
        })}
        <Show when=move || confirming.get()>
            <div class="dialog" role="alertdialog" data-testid="sign-out-warning">
                <p>{move || zh::pending_sign_out_warning(field.undelivered())}</p>
                <div class="actions">
                    <button type="button" class="btn" on:click=move |_| confirming.set(false)>{zh::CANCEL}</button>
                    <button type="button" class="btn btn-danger" data-testid="sign-out-anyway" on:click=sign_out>
                        {zh::SIGN_OUT_ANYWAY}
                    </button>
                </div>
            </div>
        </Show>
    }
}

/// Pending count, last successful sync, any error in words, and a button.
#[component]
pub fn SyncBar() -> impl IntoView {
    let field = expect_context::<Field>();
    let pending = move || field.outbox.with(Vec::len);
    view! {
        <section class="syncbar" data-testid="sync-bar" aria-live="polite">
            <div class="sync-line">
                <span class="sync-text">
                    <span class="pending" data-testid="pending-count" data-count=move || pending().to_string()>
                        {move || if pending() == 0 { zh::NOTHING_PENDING.to_owned() } else { zh::pending(pending()) }}
                    </span>
                    <span class="last-sync" data-testid="last-sync">
                        {move || field.sync.with(|s| s.status.last_success.map(|t| format!("{}{}", zh::LAST_SYNC, short_time(t))).unwrap_or_else(|| zh::NEVER_SYNCED.to_owned()))}
                    </span>
                </span>
                <button type="button" class="btn btn-small" data-testid="sync-now"
                    disabled=move || field.sync.with(|s| s.busy)
                    on:click=move |_| field.sync_now()>
                    {move || if field.sync.with(|s| s.busy) { zh::SYNCING } else { zh::SYNC_NOW }}
                </button>
            </div>
            // Whatever the error says, nothing is lost: say so plainly.
            <Show when=move || { pending() > 0 }>
                <p class="sync-safe" data-testid="sync-safe">{zh::SAFE_ON_PHONE}</p>
            </Show>
            {move || field.sync.with(|s| s.status.last_error.clone()).map(|e| view! {
                <p class="sync-error" role="alert" data-testid="sync-error">{e}</p>
            })}
        </section>
    }
}
