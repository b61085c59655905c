use leptos::either::Either;
use leptos::prelude::*;

use crate::auth::api::{ChangePassword, SignIn, SignOutOthers, get_account};
use crate::auth::{AccountView, SessionView};
use crate::components::{AppFrame, ErrorNotice, Loading, anchor_for, form_action};
use crate::text::zh;

/// The sign-in form. It works before the bundle loads (a plain form post
/// answered with a redirect) and after (a server-function call).
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = form_action::<SignIn>();
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    view! {
        <main class="login">
            <div class="login-brand">
                <div class="login-logo" aria-hidden="true">"户"</div>
                <h1>{zh::APP_NAME}</h1>
                <p class="tagline">{zh::APP_TAGLINE}</p>
            </div>
            <ActionForm action=action attr:class="card login-form">
                <label class="field">
                    <span>{zh::USERNAME}</span>
                    <input
                        type="text"
                        name="username"
                        autocomplete="username"
                        autocapitalize="none"
                        required
                        data-testid="username"
                    />
                </label>
                <label class="field">
                    <span>{zh::PASSWORD}</span>
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        data-testid="password"
                    />
                </label>
                {move || error().map(|m| view! {
                    <p class="notice notice-error" role="alert" data-testid="login-error">{m}</p>
                })}
                <button type="submit" class="btn btn-primary btn-block" data-testid="sign-in"
                    disabled=move || action.pending().get()>
                    {move || if action.pending().get() { zh::SIGNING_IN } else { zh::SIGN_IN }}
                </button>
            </ActionForm>
        </main>
    }
}

/// `/account`, for every role: change one's password, and see and end
/// one's other sessions (a lost phone, a shared office computer).
#[component]
pub fn AccountPage() -> impl IntoView {
    let change = form_action::<ChangePassword>();
    let others = form_action::<SignOutOthers>();
    // A changed password ends the other sessions too: re-read the list
    // after either.
    let account = Resource::new(
        move || (change.version().get(), others.version().get()),
        |_| get_account(),
    );
    view! {
        <AppFrame>
            <h1 class="page-title">{zh::ACCOUNT_TITLE}</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match account.await {
                        Ok(a) => Either::Left(view! { <AccountView a change others/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn AccountView(
    a: AccountView,
    change: ServerAction<ChangePassword>,
    others: ServerAction<SignOutOthers>,
) -> impl IntoView {
    let has_others = a.sessions.iter().any(|s| !s.current);
    let changed = move || match change.value().get() {
        Some(Ok(())) => Some(Either::Left(view! {
            <p class="notice notice-ok" role="status" data-testid="password-changed">{zh::PASSWORD_CHANGED}</p>
        })),
        Some(Err(e)) => Some(Either::Right(view! {
            <p class="notice notice-error" role="alert" data-testid="password-error">{e.to_string()}</p>
        })),
        None => None,
    };
    let ended = move || match others.value().get() {
        Some(Ok(n)) => Some(Either::Left(view! {
            <p class="notice notice-ok" role="status" data-testid="others-signed-out">{zh::signed_out_others(n)}</p>
        })),
        Some(Err(e)) => Some(Either::Right(view! {
            <p class="notice notice-error" role="alert">{e.to_string()}</p>
        })),
        None => None,
    };
    view! {
        <p class="muted account-who">{a.display_name} " · " <span class="mono">{a.username}</span></p>
        <section class="card account-card" data-testid="change-password">
            <h2>{zh::CHANGE_PASSWORD}</h2>
            <p class="account-hint">{zh::PASSWORD_HINT}</p>
            <ActionForm action=change attr:id=anchor_for(&change)>
                <label class="field">
                    <span>{zh::CURRENT_PASSWORD}</span>
                    <input type="password" name="current" autocomplete="current-password" required data-testid="current-password"/>
                </label>
                <label class="field">
                    <span>{zh::NEW_PASSWORD}</span>
                    <input type="password" name="new" autocomplete="new-password" minlength="10" maxlength="128" required data-testid="new-password"/>
                </label>
                <label class="field">
                    <span>{zh::NEW_PASSWORD_AGAIN}</span>
                    <input type="password" name="again" autocomplete="new-password" minlength="10" maxlength="128" required data-testid="new-password-again"/>
                </label>
                {changed}
                <button type="submit" class="btn btn-primary btn-block" data-testid="change-password-submit"
                    disabled=move || change.pending().get()>{zh::CHANGE_PASSWORD}</button>
            </ActionForm>
        </section>
        <section class="card account-card" data-testid="sessions">
            <h2>{zh::SESSIONS_TITLE}</h2>
            <p class="account-hint">{zh::SESSIONS_HINT}</p>
            <ul class="list session-list">
                {a.sessions.into_iter().map(|s| view! { <SessionRow s/> }).collect_view()}
            </ul>
            {ended}
            {if has_others {
                Either::Left(view! {
                    <ActionForm action=others attr:class="session-actions" attr:id=anchor_for(&others)>
                        <button type="submit" class="btn btn-block" data-testid="sign-out-others"
                            disabled=move || others.pending().get()>{zh::SIGN_OUT_OTHERS}</button>
                    </ActionForm>
                })
            } else {
                Either::Right(view! { <p class="account-hint" data-testid="no-other-sessions">{zh::NO_OTHER_SESSIONS}</p> })
            }}
        </section>
    }
}

#[component]
fn SessionRow(s: SessionView) -> impl IntoView {
    let address = s.address.unwrap_or_else(|| zh::UNKNOWN_ADDRESS.to_owned());
    view! {
        <li class="row session-row" data-testid="session-row" data-current=s.current.to_string()>
            <span class="row-main">
                <span class="session-address mono">
                    {address}
                    {s.current.then(|| view! { " " <span class="tag tag-green">{zh::THIS_DEVICE}</span> })}
                </span>
                <span class="session-times">{zh::SIGNED_IN_AT} " " {s.signed_in_at}</span>
                <span class="session-times">{zh::LAST_SEEN_AT} " " {s.last_seen_at}</span>
            </span>
        </li>
    }
}
