//! What operators measure: `/metrics` in Prometheus' text format.
//!
//! Counters and gauges are set through the `metrics` facade from wherever
//! the event happens (the functions below name every series, so the names
//! live in one place) and rendered by the exporter's recorder on our own
//! route. Every label takes a bounded set of values: a route *template*
//! (`/households/{id}`, never the id; every path no route matched shares
//! [`UNMATCHED`]), a status code, an outcome. Nothing names a household, a
//! user or an area, so a scrape tells how the server is doing, not about
//! anyone in it.
//!
//! Who may read it: only a scraper that sends `Authorization: Bearer
//! <DAOHU_METRICS_TOKEN>`; without that variable there is no `/metrics`
//! route at all (a 404 like any unknown page). A token rather than an
//! address rule: behind a balancer on the same host every request arrives
//! from 127.0.0.1, so "loopback only" would serve everyone on the internet.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};

use crate::server::state::AppState;
use crate::sync::BatchReply;
use crate::visits::VisitOutcome;

pub const PATH: &str = "/metrics";
/// The route label of every request no route matched (static files served
/// by the fallback, unknown paths): one label, however many paths.
pub const UNMATCHED: &str = "unmatched";

const HTTP_REQUESTS: &str = "daohu_http_requests_total";
const HTTP_SECONDS: &str = "daohu_http_request_duration_seconds";
const SYNC_VISITS: &str = "daohu_sync_visits_total";
const SIGN_INS: &str = "daohu_sign_ins_total";
const DB_POOL_CONNECTIONS: &str = "daohu_db_pool_connections";
const DB_POOL_IDLE: &str = "daohu_db_pool_idle_connections";
const DB_POOL_MAX: &str = "daohu_db_pool_max_connections";
const HASHES_WAITING: &str = "daohu_password_hashes_waiting";
const HASHES_RUNNING: &str = "daohu_password_hashes_running";
const JOBS_PENDING: &str = "daohu_jobs_pending";
const JOBS_OLDEST: &str = "daohu_jobs_oldest_seconds";
const JOBS_DONE: &str = "daohu_jobs_done_total";
const JOBS_LAG: &str = "daohu_jobs_lag_seconds";

/// Latency buckets, seconds: a township page takes milliseconds, a sync
/// batch under load seconds.
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's recorder, installed on first use. Also when nobody
/// scrapes: counting costs next to nothing, and the histograms are drained
/// every few seconds by a thread of its own (the exporter keeps raw samples
/// until then), so an unscraped server does not grow.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_SECONDS.into()), SECONDS_BUCKETS)
            .expect("the buckets are not empty")
            .set_buckets_for_metric(Matcher::Full(JOBS_LAG.into()), SECONDS_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::error!("another metrics recorder was installed first: /metrics stays empty");
        }
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "metrics upkeep thread not started");
        }
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template and status"
    );
    describe_histogram!(
        HTTP_SECONDS,
        Unit::Seconds,
        "Time to the response head, by route template"
    );
    describe_counter!(
        SYNC_VISITS,
        "Visits delivered through the sync endpoint, by outcome"
    );
    describe_counter!(SIGN_INS, "Sign-in attempts, by outcome");
    describe_gauge!(DB_POOL_CONNECTIONS, "Database connections open");
    describe_gauge!(DB_POOL_IDLE, "Database connections open and idle");
    describe_gauge!(DB_POOL_MAX, "Database connections the pool may open");
    describe_gauge!(HASHES_WAITING, "Password hashes waiting for their turn");
    describe_gauge!(HASHES_RUNNING, "Password hashes being computed");
    describe_gauge!(JOBS_PENDING, "Background jobs not done yet");
    describe_gauge!(
        JOBS_OLDEST,
        Unit::Seconds,
        "Age of the oldest background job not done yet"
    );
    describe_counter!(
        JOBS_DONE,
        "Background jobs done (income accounts recomputed)"
    );
    describe_histogram!(
        JOBS_LAG,
        Unit::Seconds,
        "From the oldest write a job settles to its result stored"
    );
}

/// Installs the recorder (once); the router calls it so that every request
/// it answers is counted.
pub fn install() {
    handle();
}

/// The layer that counts every request by its route template and status
/// and times it. Added with `Router::layer`, so it runs after routing and
/// sees the [`MatchedPath`].
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, |m| m.as_str())
        .to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    counter!(HTTP_REQUESTS, "route" => route.clone(), "status" => status).increment(1);
    histogram!(HTTP_SECONDS, "route" => route).record(start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics` (routed only when a token is configured).
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !bearer_matches(&headers, token) {
        return (
            StatusCode::UNAUTHORIZED,
            [
                (header::WWW_AUTHENTICATE, "Bearer"),
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            ],
            "需要监控令牌 / metrics token required",
        )
            .into_response();
    }
    let pool = state.store.pool_stats();
    gauge!(DB_POOL_CONNECTIONS).set(f64::from(pool.size));
    gauge!(DB_POOL_IDLE).set(f64::from(pool.idle));
    gauge!(DB_POOL_MAX).set(f64::from(pool.max));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}

/// Compares digests, so the time taken tells nothing about how much of the
/// token a guess got right.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(sent) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    Sha256::digest(sent.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

/// Counts a sync batch's visits by the outcome it was answered with.
pub fn sync_reply(reply: &BatchReply) {
    for result in &reply.results {
        let outcome = match result {
            VisitOutcome::Stored { .. } => "stored",
            VisitOutcome::AlreadyStored { .. } => "already_stored",
            VisitOutcome::Conflict { .. } => "conflict",
            VisitOutcome::Rejected { .. } => "rejected",
        };
        counter!(SYNC_VISITS, "outcome" => outcome).increment(1);
    }
}

/// Counts a sign-in: `ok`, `refused` (wrong name or password), `throttled`,
/// `busy` (hashing queue full), `invalid` (empty fields), `error`.
pub fn sign_in(outcome: &'static str) {
    counter!(SIGN_INS, "outcome" => outcome).increment(1);
}

/// Password hashes waiting and running now ([`crate::auth::hashing`]).
pub fn password_hashes(waiting: usize, running: usize) {
    gauge!(HASHES_WAITING).set(waiting as f64);
    gauge!(HASHES_RUNNING).set(running as f64);
}

/// The background job queue: how many jobs are not done yet and how long
/// the oldest of them has waited, in seconds (0 when none). For the job
/// workers to call whenever they look at the queue (each claim or poll);
/// the last call's figures are what a scrape shows.
/// Derived work done: each piece's lag, from the oldest write it settles
/// to its result stored.
pub fn jobs_done(done: &[crate::server::db::ClaimedWork], now: chrono::DateTime<chrono::Utc>) {
    counter!(JOBS_DONE).increment(done.len() as u64);
    for c in done {
        histogram!(JOBS_LAG).record((now - c.queued_at).as_seconds_f64().max(0.0));
    }
}

pub fn set_job_queue(pending: i64, oldest_age_seconds: f64) {
    gauge!(JOBS_PENDING).set(pending as f64);
    gauge!(JOBS_OLDEST).set(oldest_age_seconds.max(0.0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        let token = "0123456789abcdef-token";
        assert!(bearer_matches(
            &with("Bearer 0123456789abcdef-token"),
            token
        ));
        assert!(!bearer_matches(
            &with("Bearer 0123456789abcdef-toke"),
            token
        ));
        assert!(!bearer_matches(
            &with("Basic 0123456789abcdef-token"),
            token
        ));
        assert!(!bearer_matches(&with("0123456789abcdef-token"), token));
        assert!(!bearer_matches(&HeaderMap::new(), token));
    }
}
