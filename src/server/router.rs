//! The HTTP surface: pages, server functions, static files. Tests drive
//! [`router`] directly, without a socket.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;

use crate::app::{App, shell};
use crate::server::state::AppState;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            crate::sync::VISITS_PATH,
            post(crate::sync::http::post_visits)
                .layer(DefaultBodyLimit::max(crate::sync::http::MAX_BATCH_BYTES)),
        )
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(CompressionLayer::new())
        .with_state(state)
}
