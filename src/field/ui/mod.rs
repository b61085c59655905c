//! `/field`: the field worker's offline app. One route whose view is chosen
//! by the query (`?h=<household>`, `?visit=<draft>&step=sign`), so that the
//! one shell the service worker caches serves every screen.
//!
//! The server renders only the frame and "opening…": nothing here depends
//! on who asks, so the cached copy is right for every worker. After
//! hydration the app reads the phone's store and shows the screen.

mod household;
mod list;
mod nav;
mod signature_pad;
mod state;
mod status;
mod visit;

use leptos::either::{Either, EitherOf5};
use leptos::prelude::*;
use leptos_meta::Title;

pub use state::{Field, Phase};

use crate::text::zh;

/// The one page that ships wasm: the shell asks for the bundle here only.
pub const FIELD_PATH: &str = "/field";

#[component]
pub fn FieldPage() -> impl IntoView {
    view! {
        <Title text=zh::FIELD_TITLE/>
        <FieldApp/>
    }
}

/// The offline app, the only island: everything in it is in the wasm
/// bundle, nothing outside it is. Its screens change by the query
/// (`nav`); links that leave the app carry `rel="external"`.
#[island]
fn FieldApp() -> impl IntoView {
    let field = Field::new();
    provide_context(field);
    // Effects run only in the browser, after hydration: the shell the
    // server sent (and the service worker cached) stays data-free.
    Effect::new(move |_| field.open());
    let roster_loaded = Memo::new(move |_| field.roster.with(Option::is_some));
    let nav = nav::Nav::provide();
    let screen = move || {
        (
            nav.get("h").and_then(|h| uuid::Uuid::parse_str(&h).ok()),
            nav.get("visit")
                .and_then(|v| uuid::Uuid::parse_str(&v).ok()),
            nav.get("step"),
        )
    };
    view! {
        <div class="field-app" data-testid="field-app">
            <header class="topbar">
                <a href="/field" class="brand">{zh::APP_NAME}</a>
                <status::WhoAndSignOut/>
            </header>
            <main class="page">
                {move || match field.phase.get() {
                    Phase::Opening => EitherOf5::A(view! {
                        <p class="loading" aria-busy="true" data-testid="field-opening">{zh::FIELD_OPENING}</p>
                    }),
                    Phase::NeedsSignIn(why) => EitherOf5::B(view! {
                        <section class="status-page" data-testid="field-sign-in">
                            <h1>{why}</h1>
                            <a class="btn btn-primary" href="/login" rel="external">{zh::SIGN_IN}</a>
                        </section>
                    }),
                    Phase::NotAFieldWorker => EitherOf5::C(view! {
                        <section class="status-page">
                            <h1>{zh::FIELD_ONLY_WORKERS}</h1>
                            <a class="btn" href="/" rel="external">{zh::BACK_HOME}</a>
                        </section>
                    }),
                    Phase::Failed(message) => EitherOf5::D(view! {
                        <div class="notice notice-error" role="alert">{message}</div>
                    }),
                    Phase::Ready => EitherOf5::E(view! {
                        <status::SyncBar/>
                        {move || match screen() {
                            (None, None, _) => Either::Left(view! { <list::ListScreen/> }),
                            // A household or a visit needs the whole roster,
                            // read just after the list.
                            (h, visit, step) => {
                                let signing = step.as_deref() == Some("sign");
                                Either::Right(view! {
                                    <Show when=move || roster_loaded.get() fallback=|| view! { <p class="loading">{zh::LOADING}</p> }>
                                        {match (h, visit) {
                                            (_, Some(visit)) => Some(Either::Left(view! { <visit::VisitScreen visit signing/> })),
                                            (Some(h), None) => Some(Either::Right(view! { <household::HouseholdScreen id=h/> })),
                                            (None, None) => None,
                                        }}
                                    </Show>
                                })
                            }
                        }}
                    }),
                }}
            </main>
        </div>
    }
}
