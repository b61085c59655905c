//! Checking a paying department's payout file (部门发放名单) row by row:
//! the same rules of place and format as the roster's files, then one
//! payout per household, item and statistics year (the sum of its rows).
//!
//! A department pays many people besides the roster's households, so a
//! row that names a person by ID number only, and names no household of
//! the importer's area, is counted as skipped, not refused. A row that
//! gives a household number was prepared for this county: an unknown
//! number there is a mistake, and refuses the file.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::areas::AreaCode;
use crate::auth::Actor;
use crate::households::id_number::IdNumber;
use crate::roster::jobs::JobProgress;
use crate::roster::model::ImportReport;
use crate::roster::service::{ImportFailure, Problems, RowReader, Sheet, exact_whole};
use crate::roster::table::Cell;
use crate::server::db::{PayoutRecord, PayoutWrite, Store};
use crate::subsidies::{StatYear, SubsidyItem, china_date};

const NUMBER: usize = 0;
const ID_NUMBER: usize = 1;
const ITEM: usize = 2;
const AMOUNT: usize = 3;
const DATE: usize = 4;
const YEAR: usize = 5;
const DEPARTMENT: usize = 6;
const ACCOUNT: usize = 7;

/// The first day a payment can count: the first statistics year the
/// roster's entitlements may have.
fn earliest() -> NaiveDate {
    StatYear(2016).first_day()
}

/// One checked row.
struct Payment {
    row: u32,
    household_id: Uuid,
    item_code: String,
    stat_year: i32,
    fen: i64,
    on: NaiveDate,
    department: String,
    account_tail: Option<String>,
}

/// The last four digits of an account as the file gives it (whole or
/// masked with `*`); `Err` with the sentence when it is not an account.
fn account_tail(text: &str) -> Result<Option<String>, &'static str> {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if kept.is_empty() || kept.len() > 32 || !kept.chars().all(|c| c.is_ascii_digit() || c == '*') {
        return Err("收款账号只能含数字、“*”、空格和“-”，最长32位");
    }
    let tail: String = kept
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Ok((tail.len() >= 4).then(|| tail[tail.len() - 4..].to_owned()))
}

/// Checks a payout file for `actor`'s area: what to write, and the
/// report. Keys the file holds exactly as stored are not written again.
pub(super) async fn check_payouts(
    store: &dyn Store,
    actor: &Actor,
    sheet: &Sheet<'_>,
    progress: &JobProgress,
) -> Result<(PayoutWrite, ImportReport), ImportFailure> {
    let items = store.subsidy_items().await?;
    let item_of = |text: &str| -> Option<&SubsidyItem> {
        items.iter().find(|i| i.name == text || i.code == text)
    };
    let today = china_date(chrono::Utc::now());

    // Households by number and by the ID numbers of their members: read
    // once for the whole file.
    let cell_text = |row, column| match sheet.cell(row, column) {
        Cell::Text(t) => Some(t.clone()),
        Cell::Number(n) => exact_whole(*n),
        _ => None,
    };
    let mut numbers: BTreeSet<String> = BTreeSet::new();
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for row in &sheet.table.rows {
        numbers.extend(cell_text(row, NUMBER));
        if let Some(id) = cell_text(row, ID_NUMBER).and_then(|t| IdNumber::parse(&t).ok()) {
            ids.insert(id.as_str().to_owned());
        }
    }
    let owners: HashMap<String, String> = store
        .member_households(&ids.into_iter().collect::<Vec<_>>())
        .await?
        .into_iter()
        .collect();
    numbers.extend(owners.values().cloned());
    let ours: HashMap<String, Uuid> = store
        .household_keys_by_numbers(&numbers.into_iter().collect::<Vec<_>>())
        .await?
        .into_iter()
        .filter(|(_, _, village): &(String, Uuid, AreaCode)| actor.area.contains(village))
        .map(|(number, id, _)| (number, id))
        .collect();

    let mut problems = Problems::default();
    let mut payments: Vec<Payment> = Vec::new();
    let mut skipped = 0u32;
    let mut scopes: BTreeSet<(String, i32)> = BTreeSet::new();
    // Two rows alike in everything, payee included, are one payment typed
    // twice; two members paid the same on the same day are two.
    type Twin = (Uuid, String, NaiveDate, i64, Option<String>, Option<String>);
    let mut first_row: HashMap<Twin, u32> = HashMap::new();
    for (i, row) in sheet.table.rows.iter().enumerate() {
        if i % 1024 == 0 {
            progress.set_done(i as u32);
        }
        let mut r = RowReader {
            sheet,
            row,
            problems: &mut problems,
        };
        let number = r.text(NUMBER);
        let id_number = r.id_number(ID_NUMBER);
        let named = number.is_some() || !matches!(r.sheet.cell(row, ID_NUMBER), Cell::Empty);
        if !named {
            r.note(NUMBER, "户编号和身份证号至少填一项");
        }
        let owner = id_number
            .as_ref()
            .and_then(|id| owners.get(id))
            .and_then(|n| ours.get(n).map(|h| (n, *h)));
        // Some(None): the row names nobody of the area, and is skipped.
        let household: Option<Option<Uuid>> = match (&number, &id_number) {
            (Some(n), _) => match ours.get(n) {
                Some(h) => match owner {
                    Some((other, _)) if other != n => {
                        r.note(
                            ID_NUMBER,
                            format!("该身份证号登记在本辖区的户 {other}，不属于户 {n}"),
                        );
                        None
                    }
                    _ => Some(Some(*h)),
                },
                None => {
                    r.note(
                        NUMBER,
                        format!(
                            "本辖区（{}）没有这个户编号：请核对，或只填身份证号",
                            actor.area_name
                        ),
                    );
                    None
                }
            },
            (None, Some(_)) => Some(owner.map(|(_, h)| h)),
            (None, None) => None,
        };
        let item = r.text(ITEM).and_then(|t| match item_of(&t) {
            Some(item) => Some(item),
            None => {
                r.note(ITEM, format!("补贴目录中没有“{t}”"));
                None
            }
        });
        let amount = r.positive_amount(AMOUNT, "发放金额应大于0");
        let date = r.date(DATE).and_then(|d| {
            if d > today {
                r.note(DATE, format!("{d} 晚于今天：发放名单只记已经发放的"));
                None
            } else if d < earliest() {
                r.note(DATE, format!("{d} 早于 {}", earliest()));
                None
            } else {
                Some(d)
            }
        });
        let this_year = StatYear::containing(today).0;
        let year = match r.sheet.cell(row, YEAR) {
            Cell::Empty => Some(None),
            Cell::Number(n) if n.fract() == 0.0 => Some(Some(*n as i64)),
            _ => r
                .text(YEAR)
                .and_then(|t| match t.trim_end_matches('年').parse::<i64>() {
                    Ok(y) => Some(Some(y)),
                    Err(_) => {
                        r.note(YEAR, format!("“{t}”不是年份，应填如 {this_year}"));
                        None
                    }
                }),
        }
        .and_then(|y| match y {
            Some(y) if !(2016..=i64::from(this_year) + 1).contains(&y) => {
                r.note(YEAR, format!("统计年度应在 2016 至 {} 之间", this_year + 1));
                None
            }
            y => Some(y.map(|y| y as i32)),
        });
        let department = r.text(DEPARTMENT);
        let account = match r.text(ACCOUNT) {
            Some(t) => account_tail(&t).map_err(|e| r.note(ACCOUNT, e)).ok(),
            None => Some(None),
        };
        let (
            Some(household),
            Some(item),
            Some(amount),
            Some(date),
            Some(year),
            Some(department),
            Some(account),
        ) = (household, item, amount, date, year, department, account)
        else {
            continue;
        };
        // A payment made after its year ended (paid late) belongs to the
        // year the file says.
        let stat_year = year.unwrap_or(StatYear::containing(date).0);
        let Some(household_id) = household else {
            skipped += 1;
            continue;
        };
        // Only what the file says of the area's households makes it speak
        // for an item and year there.
        scopes.insert((item.code.clone(), stat_year));
        let key = (
            household_id,
            item.code.clone(),
            date,
            amount.0,
            id_number.clone(),
            account.clone(),
        );
        if let Some(first) = first_row.get(&key) {
            r.note(
                AMOUNT,
                format!(
                    "与第{first}行重复：同一收款人、同一项目、同一天、同一金额的发放只能有一行"
                ),
            );
            continue;
        }
        first_row.insert(key, row.number);
        payments.push(Payment {
            row: row.number,
            household_id,
            item_code: item.code.clone(),
            stat_year,
            fen: amount.0,
            on: date,
            department,
            account_tail: account,
        });
    }
    progress.set_done(sheet.table.rows.len() as u32);
    if problems.is_empty() && payments.is_empty() {
        problems.push(crate::roster::service::problem(
            sheet.file,
            0,
            "",
            format!(
                "文件中没有一行是本辖区（{}）名单内农户的发放：请核对是否选错了文件或辖区",
                actor.area_name
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(ImportFailure::Refused(problems.sorted()));
    }

    // One payout per key: the sum of its rows, in the file's order.
    let mut keyed: Vec<PayoutRecord> = Vec::new();
    let mut at: HashMap<(Uuid, String, i32), usize> = HashMap::new();
    let mut overflow = Problems::default();
    for p in payments {
        let key = (p.household_id, p.item_code.clone(), p.stat_year);
        match at.get(&key) {
            Some(&i) => {
                let k = &mut keyed[i];
                match k.paid_fen.checked_add(p.fen) {
                    Some(sum) if crate::subsidies::Fen::check(sum).is_ok() => k.paid_fen = sum,
                    _ => overflow.push(crate::roster::service::problem(
                        sheet.file,
                        p.row,
                        sheet.header(AMOUNT),
                        "同一户同一项目同一年度的发放合计过大".into(),
                    )),
                }
                k.payments += 1;
                k.first_paid_on = k.first_paid_on.min(p.on);
                k.last_paid_on = k.last_paid_on.max(p.on);
                match k.by_day.iter_mut().find(|(d, _)| *d == p.on) {
                    // Bounded by the key's sum, checked above.
                    Some((_, fen)) => *fen = fen.saturating_add(p.fen),
                    None => k.by_day.push((p.on, p.fen)),
                }
                join_distinct(&mut k.department, &p.department);
                if let Some(tail) = p.account_tail {
                    match &mut k.account_tail {
                        Some(tails) => join_distinct(tails, &tail),
                        none => *none = Some(tail),
                    }
                }
            }
            None => {
                at.insert(key, keyed.len());
                keyed.push(PayoutRecord {
                    id: Uuid::now_v7(),
                    household_id: p.household_id,
                    item_code: p.item_code,
                    stat_year: p.stat_year,
                    paid_fen: p.fen,
                    payments: 1,
                    first_paid_on: p.on,
                    last_paid_on: p.on,
                    account_tail: p.account_tail,
                    department: p.department,
                    by_day: vec![(p.on, p.fen)],
                });
            }
        }
    }
    if !overflow.is_empty() {
        return Err(ImportFailure::Refused(overflow.sorted()));
    }
    for k in &mut keyed {
        k.by_day.sort_unstable();
    }

    let households: Vec<Uuid> = {
        let mut seen = HashSet::new();
        keyed
            .iter()
            .map(|k| k.household_id)
            .filter(|h| seen.insert(*h))
            .collect()
    };
    let stored: HashMap<(Uuid, String, i32), PayoutRecord> = store
        .current_payouts(&households)
        .await?
        .into_iter()
        .map(|p| ((p.household_id, p.item_code.clone(), p.stat_year), p))
        .collect();
    let mut report = ImportReport {
        rows: sheet.table.rows.len() as u32,
        skipped,
        ..ImportReport::default()
    };
    let mut write = PayoutWrite {
        area: actor.area.clone(),
        file_name: sheet.file.to_owned(),
        imported_by: actor.user_id,
        at: chrono::Utc::now(),
        payouts: Vec::new(),
        scopes: scopes.into_iter().collect(),
    };
    for p in keyed {
        match stored.get(&(p.household_id, p.item_code.clone(), p.stat_year)) {
            Some(old) if old.same_as(&p) => report.unchanged += 1,
            Some(_) => {
                report.changed += 1;
                write.payouts.push(p);
            }
            None => {
                report.added += 1;
                write.payouts.push(p);
            }
        }
    }
    Ok((write, report))
}

/// Appends `value` to a `、`-separated list unless it is in it.
fn join_distinct(list: &mut String, value: &str) {
    if !list.split('、').any(|v| v == value) {
        list.push('、');
        list.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_four_digits_of_an_account_are_kept() {
        assert_eq!(account_tail("6228 4800 1234 5678"), Ok(Some("5678".into())));
        assert_eq!(account_tail("6228********1234"), Ok(Some("1234".into())));
        assert_eq!(account_tail("6228-****-**34"), Ok(None));
        assert_eq!(account_tail("********"), Ok(None));
        assert!(account_tail("张三").is_err());
        assert!(account_tail(&"1".repeat(33)).is_err());
    }

    #[test]
    fn a_list_keeps_each_value_once() {
        let mut list = "县民政局".to_owned();
        join_distinct(&mut list, "县民政局");
        join_distinct(&mut list, "县财政局");
        assert_eq!(list, "县民政局、县财政局");
    }
}
