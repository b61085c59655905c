use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos_router::components::{A, Redirect};

use super::form_action;

use crate::auth::api::{SignOut, current_user};
use crate::error::AppError;
use crate::text::zh;

/// The frame of every signed-in page: who is signed in, and a way out.
#[component]
// Typed children, not `Children`: a boxed `AnyView` would compile a second,
// async copy of every page's hydration code into the wasm bundle.
pub fn AppFrame<C: IntoView + 'static>(children: TypedChildren<C>) -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let sign_out = form_action::<SignOut>();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">{zh::APP_NAME}</A>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|actor| view! {
                        <span class="who" data-testid="who">
                            <span class="who-name">{actor.display_name}</span>
                            <span class="who-role">{actor.role.label()} " · " {actor.area_name}</span>
                        </span>
                    })
                })}
            </Suspense>
            <a href="/account" class="btn-quiet topbar-link" data-testid="account-link">{zh::ACCOUNT}</a>
            <ActionForm action=sign_out attr:class="signout">
                <button type="submit" class="btn-quiet" data-testid="sign-out">{zh::SIGN_OUT}</button>
            </ActionForm>
        </header>
        <main class="page">{children.into_inner()()}</main>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" aria-busy="true">{zh::LOADING}</p> }
}

/// Shows an error the way its kind asks: sign-in for 401, the 403 page for
/// what the caller's role may not do, the 404 page for what is unknown or
/// outside their area (one page for both), a message otherwise.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    // The page answers with the error's status (a 401 becomes the sign-in
    // redirect's 302 for a browser; a client that does not ask for HTML
    // gets the 401 with the redirect's Location).
    #[cfg(feature = "ssr")]
    crate::server::session::set_status_for(&error);
    match error {
        AppError::Unauthorized => EitherOf4::A(view! { <Redirect path="/login"/> }),
        AppError::Forbidden => EitherOf4::B(view! { <Forbidden/> }),
        AppError::NotFound => EitherOf4::C(view! { <NotFound/> }),
        other => EitherOf4::D(view! {
            <div class="notice notice-error" role="alert">{other.to_string()}</div>
        }),
    }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::session::set_status_for(&AppError::Forbidden);
    view! {
        <section class="status-page" data-testid="forbidden">
            <div class="status-code">"403"</div>
            <h1>{zh::FORBIDDEN_TITLE}</h1>
            <p>{zh::FORBIDDEN_BODY}</p>
            <a class="btn" href="/">{zh::BACK_HOME}</a>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::session::set_status_for(&AppError::NotFound);
    view! {
        <section class="status-page" data-testid="not-found">
            <div class="status-code">"404"</div>
            <h1>{zh::NOT_FOUND_TITLE}</h1>
            <p>{zh::ERR_NOT_FOUND}</p>
            <a class="btn" href="/">{zh::BACK_HOME}</a>
        </section>
    }
}
