//! The HTTP surface: pages, server functions, static files. Tests drive
//! [`router`] directly, without a socket.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use axum::{Router, middleware};
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::{App, shell};
use crate::server::edge::{self, Edge};
use crate::server::state::AppState;
use crate::server::{metrics, probes, rejections};

/// The app's routes, generated once per process. Generating runs the app
/// with resource loading suppressed by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`), and a resource first polled by another
/// request's render while the flag is up waits for ever (leptos#4773):
/// once, before any router exists, no render can overlap it.
fn routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = routes();
    let options = state.leptos_options.clone();
    let edge = Arc::new(Edge::new(state.config.clone(), &options));
    // The bundle: served from disk, preferring a `.br` made at build time
    // at the highest brotli level (run.sh), which on-the-fly compression
    // cannot afford. Hashed names never change content, so they are cached
    // for good.
    let cache = if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let bundle = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache),
        ))
        .service(
            ServeDir::new(state.config.site_root.join("pkg"))
                .precompressed_br()
                .call_fallback_on_method_not_allowed(true)
                .fallback(rejections::missing_file.into_service()),
        );
    crate::server::metrics::install();
    let mut app = Router::new();
    if state.config.metrics_token.is_some() {
        app = app.route(metrics::PATH, get(metrics::serve));
    }
    app.nest_service("/pkg", bundle)
        .route(probes::HEALTH_PATH, get(probes::healthz))
        .route(probes::READY_PATH, get(probes::readyz))
        .route("/sw.js", get(crate::sync::service_worker::script))
        .route(crate::sync::ROSTER_PATH, get(crate::sync::http::get_roster))
        .route(
            crate::reports::http::DISPATCH_XLSX_PATH,
            get(crate::reports::http::dispatch_xlsx),
        )
        .route(
            crate::weekly::http::SUBMISSION_XLSX_PATH,
            get(crate::weekly::http::submission_xlsx),
        )
        .route(
            crate::ratings::http::RATINGS_XLSX_PATH,
            get(crate::ratings::http::ratings_xlsx),
        )
        .route(
            crate::roster::UPLOAD_PATH,
            post(crate::roster::http::post_import)
                .layer(DefaultBodyLimit::max(crate::roster::http::MAX_UPLOAD_BYTES)),
        )
        .route(
            crate::visits::http::EVIDENCE_PATH,
            get(crate::visits::http::get_evidence),
        )
        .route(
            crate::roster::http::TEMPLATE_PATH,
            get(crate::roster::http::get_template),
        )
        // Reads its body itself, after the caller is known, within its
        // own bounds (`MAX_BATCH_BYTES`).
        .route(
            crate::sync::VISITS_PATH,
            post(crate::sync::http::post_visits),
        )
        .leptos_routes_with_context(&state, routes, edge::provide_request_nonce, move || {
            shell(options.clone())
        })
        .method_not_allowed_fallback(rejections::method_not_allowed)
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            edge::provide_request_nonce,
            shell,
        ))
        // Every route reads at most this much unless it says otherwise
        // (the route's own limit is applied inside this one and wins):
        // server functions read their body through it.
        .layer(DefaultBodyLimit::max(rejections::MAX_SERVER_FN_BODY_BYTES))
        .layer(axum::middleware::from_fn(rejections::server_fn_status))
        // Outside the status mapping: a plain form post always gets its
        // redirect, whatever status a refusal was given.
        .layer(middleware::from_fn_with_state(
            state.config.secure_cookies,
            crate::server::form_outcome::carry,
        ))
        .layer(CompressionLayer::new())
        // Outermost: a refused request reaches nothing, and every answer,
        // a 404 or a 413 included, gets the security headers.
        .layer(middleware::from_fn_with_state(edge, edge::guard))
        // Counts what the edge refused too. A `Router::layer` wraps each
        // route after routing, so it sees the route's template.
        .layer(middleware::from_fn(metrics::track))
        .with_state(state)
}
