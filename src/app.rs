//! The HTML shell, the root component and the route table.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::areas::ui::AreaPage;
use crate::auth::api::current_user;
use crate::auth::ui::{AccountPage, LoginPage};
use crate::components::{ErrorNotice, Loading, NotFound};
use crate::discrepancies::ui::{DiscrepancyPage, DiscrepancyQueuePage};
use crate::field::ui::FieldPage;
use crate::households::ui::{HouseholdListPage, HouseholdPage};
use crate::income::ui::{IncomeTablePage, ThresholdsPage};
use crate::reports::ui::DispatchPage;
use crate::roster::ui::{ImportJobPage, ImportPage};
use crate::text::zh;
use crate::users::ui::UsersPage;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover"/>
                <meta name="theme-color" content="#b3261e"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="apple-touch-icon" href="/icon-192.png"/>
                <HashedStylesheet id="leptos" options=options.clone()/>
                <AutoReload options=options.clone()/>
                {if page_has_islands() {
                    // The receipt's QR code (`/qr.js`) is loaded by the app when
                    // a visit opens, not with the page.
                    Either::Left(view! { <HydrationScripts options islands=true/> })
                } else {
                    Either::Right(view! { <script src="/office.js" defer nonce=leptos::nonce::use_nonce()></script> })
                }}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Only the field app is an island; every other page is complete HTML
/// whose links and forms work without script, so the browser fetches the
/// wasm on `/field` alone.
fn page_has_islands() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .is_some_and(|parts| parts.uri.path() == crate::field::ui::FIELD_PATH)
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Pages that read the caller's data render fully on the server before
    // sending (Async), so a refused page answers 403 and a signed-out one a
    // redirect, not 200 with a spinner.
    view! {
        <Title text=zh::APP_NAME/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=LoginPage/>
                // Public: a household checks what it signed (no sign-in).
                <Route path=path!("/r") view=crate::receipts::ui::ReceiptPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                // Data-free shell: cached by the service worker for offline use.
                <Route path=path!("/field") view=FieldPage/>
                <Route path=path!("/households") view=HouseholdListPage ssr=SsrMode::Async/>
                <Route path=path!("/households/:id") view=HouseholdPage ssr=SsrMode::Async/>
                <Route path=path!("/areas/:code") view=AreaPage ssr=SsrMode::Async/>
                <Route path=path!("/areas/:code/users") view=UsersPage ssr=SsrMode::Async/>
                <Route path=path!("/reports/dispatch/:code") view=DispatchPage ssr=SsrMode::Async/>
                <Route path=path!("/reports/weekly/:code") view=crate::weekly::ui::WeeklyPage ssr=SsrMode::Async/>
                <Route path=path!("/reports/ratings/:code") view=crate::ratings::ui::RatingsPage ssr=SsrMode::Async/>
                <Route path=path!("/reconciliation/:code") view=crate::reconciliation::ui::ReconciliationPage ssr=SsrMode::Async/>
                <Route path=path!("/roster/import") view=ImportPage ssr=SsrMode::Async/>
                <Route path=path!("/roster/import/:id") view=ImportJobPage ssr=SsrMode::Async/>
                <Route path=path!("/areas/:code/discrepancies") view=DiscrepancyQueuePage ssr=SsrMode::Async/>
                <Route path=path!("/areas/:code/notice") view=crate::notices::ui::NoticePage ssr=SsrMode::Async/>
                <Route path=path!("/areas/:code/signals") view=crate::signals::ui::SignalQueuePage ssr=SsrMode::Async/>
                <Route path=path!("/discrepancies/:id") view=DiscrepancyPage ssr=SsrMode::Async/>
                <Route path=path!("/areas/:code/income") view=IncomeTablePage ssr=SsrMode::Async/>
                <Route path=path!("/income/thresholds") view=ThresholdsPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// `/` sends each user to their own start page.
#[component]
fn HomePage() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(actor)) => EitherOf3::A(view! { <Redirect path=actor.home_path()/> }),
                    Ok(None) => EitherOf3::B(view! { <Redirect path="/login"/> }),
                    Err(e) => EitherOf3::C(view! { <ErrorNotice error=e/> }),
                }
            })}
        </Suspense>
    }
}
