use leptos::prelude::*;

use crate::auth::api::SignIn;
use crate::text::zh;

/// The sign-in form. It works before the bundle loads (a plain form post
/// answered with a redirect) and after (a server-function call).
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
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
