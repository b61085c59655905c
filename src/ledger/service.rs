//! Chaining, verifying and reading the county chains (server only).

use chrono::Utc;
use uuid::Uuid;

use crate::access::{self, Caller};
use crate::areas::{AreaCode, AreaLevel};
use crate::error::AppResult;
use crate::ledger::{ChainStamp, CountyLedger, LastVerification, Walk, walk};
use crate::server::db::{DbResult, Store, VerificationRow};

/// Records one chainer round appends per county: one short transaction
/// holding the county's head row.
const CHAIN_AT_ONCE: i64 = 2000;
/// How often an idle chainer looks for records written on any instance.
const IDLE_POLL: std::time::Duration = std::time::Duration::from_millis(200);
/// Problems a verification keeps in words (all are counted).
const REPORT_LINES: usize = 50;

/// Chains waiting records until none is left (tests, the command line);
/// answers how many it chained.
pub async fn chain_until_idle(store: &dyn Store) -> DbResult<usize> {
    let mut total = 0;
    loop {
        match store.chain_pending(CHAIN_AT_ONCE, Utc::now()).await? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// The chainer every instance runs: appends records as they are written,
/// for ever. Instances share the work county by county; a failure leaves
/// the records waiting for the next round.
pub async fn chain_forever(store: std::sync::Arc<dyn Store>) {
    loop {
        match store.chain_pending(CHAIN_AT_ONCE, Utc::now()).await {
            Ok(0) => tokio::time::sleep(IDLE_POLL).await,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "chaining records failed; retried later");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

/// Walks `county`'s chain against the records as they are now, keeps the
/// outcome, and answers it.
pub async fn verify_county(store: &dyn Store, county: &str, runner: &str) -> DbResult<Walk> {
    let facts = store.chain_facts(county).await?;
    let walked = walk(county, &facts);
    let report: Vec<String> = walked
        .problems
        .iter()
        .take(REPORT_LINES)
        .map(ToString::to_string)
        .collect();
    store
        .save_verification(&VerificationRow {
            id: Uuid::now_v7(),
            county: county.to_owned(),
            verified_at: Utc::now(),
            head_seq: walked.head.0,
            head_hash: walked.head.1.clone(),
            records: walked.records,
            problems: walked.problems.len() as i64,
            report: report.join("\n"),
            runner: runner.to_owned(),
        })
        .await?;
    Ok(walked)
}

/// The counties whose chains `area` covers (every county when `None`): the
/// county itself or the one it lies in below county level.
pub async fn counties_of(store: &dyn Store, area: Option<&AreaCode>) -> DbResult<Vec<String>> {
    if let Some(area) = area
        && area.level() > AreaLevel::County
    {
        return Ok(vec![format!("{}000000", &area.as_str()[..6])]);
    }
    let mut counties: Vec<String> = store
        .areas_at_level(AreaLevel::County)
        .await?
        .into_iter()
        .map(|a| a.as_str().to_owned())
        .chain(store.ledger_counties().await?)
        .filter(|c| match area {
            Some(area) => c.starts_with(area.scope_prefix()),
            None => true,
        })
        .collect();
    counties.sort();
    counties.dedup();
    Ok(counties)
}

/// Verifies every chain `area` covers, county by county.
pub async fn verify_area(
    store: &dyn Store,
    area: Option<&AreaCode>,
    runner: &str,
) -> DbResult<Vec<(String, Walk)>> {
    let mut out = Vec::new();
    for county in counties_of(store, area).await? {
        let walked = verify_county(store, &county, runner).await?;
        out.push((county, walked));
    }
    Ok(out)
}

/// How often the chains are verified, across all instances.
const VERIFY_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// The daily verification's name in the schedule.
pub const VERIFY_SCHEDULE: &str = "ledger_verify";
/// How often each instance checks whether the verification is due.
const SCHEDULE_POLL: std::time::Duration = std::time::Duration::from_secs(60);

/// Verifies every chain once a day, for ever: the instance that claims the
/// day's run does it.
pub async fn verify_daily(store: std::sync::Arc<dyn Store>, runner: String) {
    let mut tick = tokio::time::interval(SCHEDULE_POLL);
    loop {
        tick.tick().await;
        let now = Utc::now();
        match store
            .claim_schedule(VERIFY_SCHEDULE, now, now + VERIFY_EVERY, &runner, Some(now))
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::error!(error = %e, "checking the verification schedule failed");
                continue;
            }
        }
        let start = std::time::Instant::now();
        match verify_area(store.as_ref(), None, &runner).await {
            Ok(walks) => {
                let problems: usize = walks.iter().map(|(_, w)| w.problems.len()).sum();
                if problems > 0 {
                    tracing::error!(problems, "the record chains do not verify");
                }
                tracing::info!(
                    counties = walks.len(),
                    problems,
                    seconds = start.elapsed().as_secs_f64(),
                    "record chains verified"
                );
            }
            Err(e) => tracing::error!(error = %e, "verifying the record chains failed"),
        }
    }
}

/// The county page's view of its chain: county admins and above.
pub async fn county_ledger(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
) -> AppResult<CountyLedger> {
    let county = county_in_reach(store, caller, code, "ledger").await?;
    ledger_of(store, &county).await
}

/// Verifies the county's chain now, on its admin's (or a higher one's)
/// request, and answers the county page's view with the outcome.
pub async fn verify_now(store: &dyn Store, caller: &Caller, code: &str) -> AppResult<CountyLedger> {
    let county = county_in_reach(store, caller, code, "ledger_verify").await?;
    let runner = format!("{}（{}）", caller.actor.display_name, caller.actor.username);
    verify_county(store, county.as_str(), &runner).await?;
    ledger_of(store, &county).await
}

async fn county_in_reach(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    action: &str,
) -> AppResult<AreaCode> {
    access::supervised_at(
        store,
        caller,
        code,
        AreaLevel::County,
        action,
        "数据链按县区核验，请选择县区",
    )
    .await
}

async fn ledger_of(store: &dyn Store, county: &AreaCode) -> AppResult<CountyLedger> {
    let head = store.chain_heads(county).await?.into_iter().next();
    let last = store.last_verification(county.as_str()).await?;
    Ok(CountyLedger {
        county: county.as_str().to_owned(),
        head_seq: head.as_ref().map_or(0, |h| h.seq),
        head_hash: head.map_or_else(|| crate::ledger::GENESIS.to_owned(), |h| h.hash),
        last: last.map(|v| LastVerification {
            at: v.verified_at,
            records: v.records,
            problems: v.problems,
            report: v.report.lines().map(str::to_owned).collect(),
            runner: v.runner,
        }),
    })
}

/// What a report of `area` is computed from, as of now.
pub async fn stamp(store: &dyn Store, area: &AreaCode) -> DbResult<ChainStamp> {
    let county_level = if area.level() > AreaLevel::County {
        AreaCode::parse(&format!("{}000000", &area.as_str()[..6])).ok()
    } else {
        None
    };
    let heads = store
        .chain_heads(county_level.as_ref().unwrap_or(area))
        .await?;
    Ok(ChainStamp::of_heads(
        heads
            .iter()
            .map(|h| (h.county.as_str(), h.seq, h.hash.as_str())),
    ))
}
