//! The demo county's 农村低保 as the 区民政局's 一卡通 payout file would
//! list it, written through the store as an import of it is (the match and
//! its discrepancy items in the same transaction): most households paid as
//! due, one in twelve 100 元 short, one in twenty-five missing. With the
//! demo's visits this shows every outcome of the three-way match.

use chrono::Utc;

use crate::areas::AreaCode;
use crate::server::db::{HouseholdQuery, PayoutRecord, PayoutWrite, Store};
use crate::subsidies::{StatYear, china_date};

/// The item and the department of the demo's payout file.
const ITEM: &str = "rural_dibao";
const DEPARTMENT: &str = "区民政局";

/// Loads the payout file for `county` in `year` as imported by
/// `importer`; returns how many households it pays.
pub async fn load_payouts(
    store: &dyn Store,
    county: &AreaCode,
    importer: &str,
    year: StatYear,
) -> anyhow::Result<usize> {
    let Some(user) = store.user_by_username(importer).await? else {
        anyhow::bail!("演示用户 {importer} 不存在");
    };
    let query = HouseholdQuery {
        scope: county.clone(),
        worker_id: None,
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: u32::MAX,
        offset: 0,
    };
    let (households, _) = store.list_households(&query).await?;
    let ids: Vec<_> = households.iter().map(|h| h.id).collect();
    let today = china_date(Utc::now());
    let mut due: Vec<_> = store
        .entitlements_of_households(&ids)
        .await?
        .into_iter()
        .filter(|e| e.item_code == ITEM && e.stat_year == year.0 && e.expected_date <= today)
        .collect();
    due.sort_by_key(|e| (e.household_id, e.expected_date));
    let payouts: Vec<PayoutRecord> = due
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 25 != 7)
        .map(|(i, e)| {
            (
                i,
                e,
                if i % 12 == 5 {
                    (e.expected_fen - 10_000).max(100)
                } else {
                    e.expected_fen
                },
            )
        })
        .map(|(i, e, paid_fen)| PayoutRecord {
            id: uuid::Uuid::now_v7(),
            household_id: e.household_id,
            item_code: e.item_code.clone(),
            stat_year: e.stat_year,
            paid_fen,
            by_day: vec![(e.expected_date, paid_fen)],
            payments: 1,
            first_paid_on: e.expected_date,
            last_paid_on: e.expected_date,
            account_tail: Some(format!("{:04}", (i * 7919) % 10_000)),
            department: DEPARTMENT.into(),
        })
        .collect();
    let paid = payouts.len();
    let write = PayoutWrite {
        area: county.clone(),
        file_name: "演示-农村低保一卡通发放名单.csv".into(),
        imported_by: user.id,
        at: Utc::now(),
        payouts,
        scopes: vec![(ITEM.into(), year.0)],
    };
    store.apply_payouts(&write, &|_| {}, None).await?;
    Ok(paid)
}
