//! Checking an import file row by row against the rules and what is stored,
//! then writing the difference in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::areas::{AreaCode, AreaLevel};
use crate::auth::Actor;
use crate::error::AppError;
use crate::households::id_number::IdNumber;
use crate::households::{Category, HealthStatus, LabourStatus, MonitoringKind};
use crate::roster::jobs::JobProgress;
use crate::roster::model::{
    Column, ImportPhase, ImportReport, MAX_PROBLEMS_SHOWN, Problem, RosterKind, may_import,
};
use crate::roster::table::{self, Cell, Table, TableRow};
use crate::server::db::{
    AuditEvent, DbError, EntitlementRecord, HouseholdRecord, ImportDone, IncomeWork, MemberRecord,
    RosterWrite, Store,
};
use crate::subsidies::{Channel, Fen, StatYear, SubsidyItem};

/// A household number already registered outside the importer's area. The
/// refusal itself cannot be avoided (a number is one household's, and
/// importing it again would take that household over or double it), so an
/// importer can learn that a number they typed is used somewhere; the
/// sentence says nothing more: not where, not whose. Every refused import
/// is in the audit trail with how many such rows it had.
pub const OUTSIDE_HOUSEHOLD: &str =
    "该户编号已在本辖区以外登记，不能在此导入：请核对户编号，如确需迁入请联系上级部门";
/// An ID number registered in a household outside the importer's area: as
/// [`OUTSIDE_HOUSEHOLD`], nothing is said of that household.
pub const OUTSIDE_ID_NUMBER: &str =
    "该身份证号已在本辖区以外登记，不能在此导入：请核对身份证号，如确需迁入请联系上级部门";

/// After writing this many rows the planner's statistics are refreshed:
/// a county's first import can grow the tables many times over.
const LARGE_IMPORT_ROWS: usize = 10_000;

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportFailure {
    /// The file has problems; each says where.
    Refused(Problems),
    Error(AppError),
    /// The job was failed as dead (its heartbeat stopped) before it could
    /// write: the failure it shows already says nothing was written.
    Interrupted,
}

/// The problems found in a file: the first [`MAX_PROBLEMS_SHOWN`] (all a
/// page shows) are kept, the rest only counted, so a file of junk in every
/// cell (seven problems a row, 300,000 rows) costs no memory by the problem.
#[derive(Debug, Default)]
pub struct Problems {
    kept: Vec<Problem>,
    total: usize,
}

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.total += 1;
        if self.kept.len() < MAX_PROBLEMS_SHOWN {
            self.kept.push(p);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The kept problems, in row order.
    pub fn kept(&self) -> &[Problem] {
        &self.kept
    }

    /// All problems found, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    pub(super) fn sorted(mut self) -> Self {
        self.kept.sort_by_key(|p| p.row);
        self
    }
}

impl From<Vec<Problem>> for Problems {
    fn from(found: Vec<Problem>) -> Self {
        let mut problems = Problems::default();
        found.into_iter().for_each(|p| problems.push(p));
        problems
    }
}

impl From<AppError> for ImportFailure {
    fn from(e: AppError) -> Self {
        ImportFailure::Error(e)
    }
}

impl From<DbError> for ImportFailure {
    fn from(e: DbError) -> Self {
        ImportFailure::Error(e.into())
    }
}

/// Reads, checks and writes one file for `actor`'s area as import job
/// `job` (marked done in the transaction that writes): everything or
/// nothing. Progress goes to `progress` as it goes.
pub async fn import(
    store: &dyn Store,
    actor: &Actor,
    job: Uuid,
    kind: RosterKind,
    file: &str,
    bytes: axum::body::Bytes,
    progress: &JobProgress,
) -> Result<ImportReport, ImportFailure> {
    if !may_import(actor) {
        return Err(AppError::Forbidden.into());
    }
    progress.enter(ImportPhase::Reading, 0);
    // Unzipping and parsing a large workbook is seconds of CPU: off the
    // threads that answer requests.
    let name = file.to_owned();
    let table = tokio::task::spawn_blocking(move || table::read(&name, &bytes))
        .await
        .map_err(|e| {
            tracing::error!(file, error = %e, "reading an import file panicked");
            ImportFailure::Error(AppError::Internal)
        })?
        .map_err(|p| ImportFailure::Refused(p.into()))?;
    progress.enter(ImportPhase::Checking, table.rows.len() as u32);
    let sheet = Sheet::new(file, &table, kind).map_err(|p| ImportFailure::Refused(p.into()))?;
    let done = |report| ImportDone {
        job_id: job,
        report,
        at: chrono::Utc::now(),
    };
    let (rows, report) = match kind {
        RosterKind::Households | RosterKind::Entitlements => {
            let (write, report) = if kind == RosterKind::Households {
                check_households(store, actor, &sheet, progress).await?
            } else {
                check_entitlements(store, actor, &sheet, progress).await?
            };
            let rows = write_roster(store, file, write, done(&report), progress).await?;
            (rows, report)
        }
        RosterKind::Payouts => {
            let (write, report) =
                crate::roster::payouts::check_payouts(store, actor, &sheet, progress).await?;
            progress.enter(ImportPhase::Writing, write.payouts.len() as u32);
            let written = store
                .apply_payouts(
                    &write,
                    &|n| progress.set_done(n as u32),
                    Some(done(&report)),
                )
                .await
                .map_err(|e| conflict_refusal(file, e))?;
            if !written {
                return Err(ImportFailure::Interrupted);
            }
            (write.payouts.len(), report)
        }
    };
    // Written: whatever fails from here on, the import is done.
    if rows >= LARGE_IMPORT_ROWS
        && let Err(e) = store.analyze().await
    {
        tracing::error!(error = %e, "refreshing statistics after an import");
    }
    Ok(report)
}

/// Writes a checked roster file as job `done.job_id`; the rows written.
async fn write_roster(
    store: &dyn Store,
    file: &str,
    mut write: RosterWrite,
    done: ImportDone<'_>,
    progress: &JobProgress,
) -> Result<usize, ImportFailure> {
    // New and changed households get their accounts and signals now, not
    // at the next background refresh: queued with the write.
    let year =
        crate::subsidies::StatYear::containing(crate::subsidies::china_date(chrono::Utc::now()));
    write.income_work = write
        .households
        .iter()
        .map(|h| h.id)
        .chain(write.entitlements.iter().map(|e| e.household_id))
        .map(|household_id| IncomeWork {
            household_id,
            stat_year: year.0,
        })
        .collect();
    let rows = write.households.len() + write.entitlements.len();
    progress.enter(ImportPhase::Writing, rows as u32);
    let written = store
        .apply_roster(&write, &|done| progress.set_done(done as u32), Some(done))
        .await
        .map_err(|e| conflict_refusal(file, e))?;
    if !written {
        return Err(ImportFailure::Interrupted);
    }
    Ok(rows)
}

/// A write refused by a constraint: only a write racing this one can get
/// there, since the checks looked at the same rows.
fn conflict_refusal(file: &str, e: DbError) -> ImportFailure {
    match e {
        DbError::Conflict { constraint } => ImportFailure::Refused(
            vec![Problem {
                file: file.to_owned(),
                row: 0,
                column: String::new(),
                reason: format!(
                    "写入时与刚刚保存的其他数据冲突（{constraint}），未导入：请重新上传"
                ),
            }]
            .into(),
        ),
        other => other.into(),
    }
}

/// The outcome for the audit trail.
pub async fn audit(
    store: &dyn Store,
    actor: &Actor,
    address: Option<String>,
    kind: RosterKind,
    file: &str,
    outcome: &Result<ImportReport, ImportFailure>,
) {
    let outcome = match outcome {
        Ok(r) => format!(
            "imported rows={} added={} changed={} unchanged={}",
            r.rows, r.added, r.changed, r.unchanged
        ),
        Err(ImportFailure::Refused(p)) => {
            // Among the kept problems: enough to see someone probing.
            let outside = p
                .kept()
                .iter()
                .filter(|p| p.reason == OUTSIDE_HOUSEHOLD || p.reason == OUTSIDE_ID_NUMBER)
                .count();
            format!("refused problems={} outside={outside}", p.total())
        }
        Err(ImportFailure::Error(e)) => format!("failed {e:?}"),
        Err(ImportFailure::Interrupted) => "interrupted".into(),
    };
    let event = AuditEvent {
        user_id: Some(actor.user_id),
        action: "roster.import".into(),
        target: format!("{}:{file}", kind.as_str()),
        outcome,
        address,
    };
    if let Err(e) = store.record_audit(&event).await {
        tracing::error!(error = %e, "audit of a roster import");
    }
}

/// A table whose columns are matched to a kind's: `at[i]` is the table
/// column of `kind.columns()[i]`.
pub(super) struct Sheet<'a> {
    pub(super) file: &'a str,
    pub(super) table: &'a Table,
    columns: &'static [Column],
    at: Vec<usize>,
}

impl<'a> Sheet<'a> {
    pub(super) fn new(
        file: &'a str,
        table: &'a Table,
        kind: RosterKind,
    ) -> Result<Sheet<'a>, Vec<Problem>> {
        let columns = kind.columns();
        let mut problems = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, header) in table.headers.iter().enumerate() {
            if header.is_empty() {
                continue;
            }
            if !columns.iter().any(|c| c.header == header) {
                problems.push(problem(
                    file,
                    table.header_row,
                    header,
                    format!(
                        "不认识这一列：{}文件的列为 {}（可下载模板）",
                        kind.label(),
                        columns
                            .iter()
                            .map(|c| c.header)
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
                ));
            } else if seen.insert(header, i).is_some() {
                problems.push(problem(
                    file,
                    table.header_row,
                    header,
                    "这一列出现了两次".into(),
                ));
            }
        }
        let mut at = Vec::with_capacity(columns.len());
        // A payout file comes from a department: its optional columns may
        // be left out (then every cell of them is empty).
        let lenient = kind == RosterKind::Payouts;
        for c in columns {
            match seen.get(c.header) {
                Some(&i) => at.push(i),
                None if lenient && !c.required => at.push(usize::MAX),
                None => problems.push(problem(
                    file,
                    table.header_row,
                    c.header,
                    "缺少这一列".into(),
                )),
            }
        }
        if problems.is_empty() {
            Ok(Sheet {
                file,
                table,
                columns,
                at,
            })
        } else {
            Err(problems)
        }
    }

    pub(super) fn header(&self, column: usize) -> &'static str {
        self.columns[column].header
    }

    pub(super) fn cell<'r>(&self, row: &'r TableRow, column: usize) -> &'r Cell {
        row.cell(self.at[column])
    }
}

pub(super) fn problem(file: &str, row: u32, column: &str, reason: String) -> Problem {
    Problem {
        file: file.to_owned(),
        row,
        column: column.to_owned(),
        reason,
    }
}

/// Reads one row's cells, noting each problem with its place.
pub(super) struct RowReader<'s, 'p> {
    pub(super) sheet: &'s Sheet<'s>,
    pub(super) row: &'s TableRow,
    pub(super) problems: &'p mut Problems,
}

impl RowReader<'_, '_> {
    pub(super) fn note(&mut self, column: usize, reason: impl Into<String>) {
        self.problems.push(problem(
            self.sheet.file,
            self.row.number,
            self.sheet.header(column),
            reason.into(),
        ));
    }

    /// The cell as text; `None` (with a problem if required) when empty.
    pub(super) fn text(&mut self, column: usize) -> Option<String> {
        let value = match self.sheet.cell(self.row, column) {
            Cell::Empty => None,
            Cell::Text(t) => Some(t.clone()),
            Cell::Date(d) => Some(d.to_string()),
            Cell::Number(n) => match exact_whole(*n) {
                Some(text) => Some(text),
                None => {
                    self.note(
                        column,
                        "Excel 把它存成了数字，末几位可能已丢失：请把这一列设为文本格式后重新填写",
                    );
                    return None;
                }
            },
        };
        if value.is_none() && self.sheet.columns[column].required {
            self.note(column, "不能为空");
        }
        value
    }

    /// A value that must be one of `options` (by label).
    pub(super) fn choice<T: Copy>(&mut self, column: usize, options: &[(T, &str)]) -> Option<T> {
        let text = self.text(column)?;
        match options.iter().find(|(_, label)| *label == text) {
            Some((value, _)) => Some(*value),
            None => {
                let allowed: Vec<&str> = options.iter().map(|(_, l)| *l).collect();
                self.note(
                    column,
                    format!("“{text}”不是可选的值：应为 {}", allowed.join("、")),
                );
                None
            }
        }
    }
}

impl RowReader<'_, '_> {
    /// An amount in yuan, as text or as Excel's number, that must be above
    /// zero (`zero` says so). Both readings hold it to `Fen::MAX`.
    pub(super) fn positive_amount(&mut self, column: usize, zero: &str) -> Option<Fen> {
        let fen = match self.sheet.cell(self.row, column) {
            Cell::Number(n) => fen_of_number(*n).map_err(|e| self.note(column, e)).ok(),
            _ => self.text(column).and_then(|t| {
                Fen::parse_yuan(&t)
                    .map_err(|e| self.note(column, format!("“{t}”：{e}")))
                    .ok()
            }),
        }?;
        if fen.0 <= 0 {
            self.note(column, zero);
            return None;
        }
        Some(fen)
    }

    /// An ID number, checked; one Excel stored as a number has lost its
    /// last digits already and is refused.
    pub(super) fn id_number(&mut self, column: usize) -> Option<String> {
        if let Cell::Number(_) = self.sheet.cell(self.row, column) {
            self.note(
                column,
                "Excel 把身份证号存成了数字，末几位已丢失：请把这一列设为文本格式后重新填写",
            );
            return None;
        }
        let raw = self.text(column)?;
        match IdNumber::parse(&raw) {
            Ok(id) => Some(id.as_str().to_owned()),
            Err(reason) => {
                self.note(column, reason);
                None
            }
        }
    }

    /// A date, as Excel's date or as text (2026-03-31, 2026/3/31, 2026年3月31日).
    pub(super) fn date(&mut self, column: usize) -> Option<NaiveDate> {
        match self.sheet.cell(self.row, column) {
            Cell::Date(d) => Some(*d),
            _ => self.text(column).and_then(|t| match parse_date(&t) {
                Some(d) => Some(d),
                None => {
                    self.note(column, format!("“{t}”不是日期，应填如 2026-03-31"));
                    None
                }
            }),
        }
    }
}

/// A code typed into a number-formatted cell, as text: fine while Excel
/// holds it exactly (a whole number below 2^53).
pub(super) fn exact_whole(n: f64) -> Option<String> {
    (n.fract() == 0.0 && n.abs() < 9.0e15).then(|| format!("{n:.0}"))
}

/// One household as the file describes it, with the row of each member.
struct FileHousehold {
    first_row: u32,
    record: HouseholdRecord,
    member_rows: Vec<u32>,
}

async fn check_households(
    store: &dyn Store,
    actor: &Actor,
    sheet: &Sheet<'_>,
    progress: &JobProgress,
) -> Result<(RosterWrite, ImportReport), ImportFailure> {
    const NUMBER: usize = 0;
    const VILLAGE: usize = 1;
    const HEAD: usize = 2;
    const CATEGORY: usize = 3;
    const KIND: usize = 4;
    const RELOCATED: usize = 5;
    const PHONE: usize = 6;
    const NAME: usize = 7;
    const RELATION: usize = 8;
    const ID_NUMBER: usize = 9;
    const LABOUR: usize = 10;
    const HEALTH: usize = 11;

    let mut problems = Problems::default();
    let mut households: Vec<FileHousehold> = Vec::new();
    let mut by_number: HashMap<String, usize> = HashMap::new();
    let mut id_rows: HashMap<String, u32> = HashMap::new();
    let mut villages: HashMap<String, Result<AreaCode, String>> = HashMap::new();
    let labours: Vec<(LabourStatus, &str)> =
        LabourStatus::ALL.iter().map(|l| (*l, l.label())).collect();
    let healths: Vec<(HealthStatus, &str)> =
        HealthStatus::ALL.iter().map(|h| (*h, h.label())).collect();
    let kinds: Vec<(MonitoringKind, &str)> = MonitoringKind::ALL
        .iter()
        .map(|k| (*k, k.label()))
        .collect();

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
        if let Some(n) = &number
            && !valid_household_number(n)
        {
            r.note(NUMBER, "户编号只能由数字、字母和“-”组成，最长30位");
        }
        let village = match r.text(VILLAGE) {
            Some(code) => {
                let known = match villages.get(&code) {
                    Some(known) => known.clone(),
                    None => {
                        let known = village_in_scope(store, actor, &code).await?;
                        villages.insert(code.clone(), known.clone());
                        known
                    }
                };
                known.map_err(|reason| r.note(VILLAGE, reason)).ok()
            }
            None => None,
        };
        let head = r.text(HEAD);
        let category = r.choice(CATEGORY, &[(false, "脱贫户"), (true, "监测户")]);
        let kind = match r.sheet.cell(row, KIND) {
            Cell::Empty => None,
            _ => r.choice(KIND, &kinds),
        };
        let category = match (category, kind) {
            (Some(false), None) => Some(Category::Alleviated),
            (Some(false), Some(_)) => {
                r.note(KIND, "脱贫户不填监测类型（监测户才填）");
                None
            }
            (Some(true), Some(k)) => Some(Category::Monitored(k)),
            (Some(true), None) => {
                if matches!(r.sheet.cell(row, KIND), Cell::Empty) {
                    r.note(KIND, "监测户须填写监测类型");
                }
                None
            }
            (None, _) => None,
        };
        let relocated = match r.sheet.cell(row, RELOCATED) {
            Cell::Empty => Some(false),
            _ => r.choice(RELOCATED, &[(true, "是"), (false, "否")]),
        };
        let phone = r.text(PHONE);
        if let Some(p) = &phone
            && !valid_phone(p)
        {
            r.note(PHONE, "电话号码只能含数字和“-”，7至20位");
        }
        let name = r.text(NAME);
        let relation = r.text(RELATION);
        let id_number = r.id_number(ID_NUMBER);
        if let Some(id) = &id_number {
            if let Some(first) = id_rows.get(id) {
                r.note(ID_NUMBER, format!("与第{first}行的身份证号重复"));
            } else {
                id_rows.insert(id.clone(), row.number);
            }
        }
        let labour = r.choice(LABOUR, &labours);
        let health = r.choice(HEALTH, &healths);

        let (
            Some(number),
            Some(village),
            Some(head),
            Some(category),
            Some(relocated),
            Some(name),
            Some(relation),
            Some(id_number),
            Some(labour),
            Some(health),
        ) = (
            number, village, head, category, relocated, name, relation, id_number, labour, health,
        )
        else {
            continue;
        };
        let member = MemberRecord {
            id: Uuid::now_v7(),
            name,
            relation,
            id_number,
            labour,
            health,
        };
        match by_number.get(&number) {
            Some(&at) => {
                let h = &mut households[at];
                let first = h.first_row;
                let mut differs = |column: usize, same: bool, value: &str| {
                    if !same {
                        r.note(
                            column,
                            format!("同一户在第{first}行填的是“{value}”，两行不一致"),
                        );
                    }
                };
                differs(
                    VILLAGE,
                    h.record.village == village,
                    h.record.village.as_str(),
                );
                differs(HEAD, h.record.head_name == head, &h.record.head_name);
                differs(
                    CATEGORY,
                    h.record.category == category,
                    category_text(h.record.category),
                );
                differs(
                    RELOCATED,
                    h.record.relocated == relocated,
                    if h.record.relocated { "是" } else { "否" },
                );
                differs(
                    PHONE,
                    h.record.phone == phone,
                    h.record.phone.as_deref().unwrap_or(""),
                );
                h.record.members.push(member);
                h.member_rows.push(row.number);
            }
            None => {
                by_number.insert(number.clone(), households.len());
                households.push(FileHousehold {
                    first_row: row.number,
                    record: HouseholdRecord {
                        id: Uuid::now_v7(),
                        number,
                        head_name: head,
                        category,
                        relocated,
                        village,
                        worker_id: None,
                        phone,
                        members: vec![member],
                    },
                    member_rows: vec![row.number],
                });
            }
        }
    }

    // Each household: exactly one head, and the head's name as given.
    for h in &households {
        let heads: Vec<usize> = h
            .record
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.relation == "户主")
            .map(|(i, _)| i)
            .collect();
        let at = |column: usize, row: u32, reason: String| {
            problem(sheet.file, row, sheet.header(column), reason)
        };
        match heads.as_slice() {
            [] => problems.push(at(
                RELATION,
                h.first_row,
                format!("户 {} 没有「与户主关系」为“户主”的成员", h.record.number),
            )),
            [one] => {
                let m = &h.record.members[*one];
                if m.name != h.record.head_name {
                    problems.push(at(
                        HEAD,
                        h.member_rows[*one],
                        format!(
                            "户主姓名“{}”与户主成员的姓名“{}”不一致",
                            h.record.head_name, m.name
                        ),
                    ));
                }
            }
            [first, rest @ ..] => {
                for extra in rest {
                    problems.push(at(
                        RELATION,
                        h.member_rows[*extra],
                        format!(
                            "户 {} 已有户主（第{}行），每户只能有一名户主",
                            h.record.number, h.member_rows[*first]
                        ),
                    ));
                }
            }
        }
    }

    // Against what is stored: household numbers and ID numbers already
    // held outside the importer's area are refused, and the sentence names
    // nothing there (not the household, not its village): see
    // `OUTSIDE_HOUSEHOLD`. Only the importer's own households are named.
    let numbers: Vec<String> = households.iter().map(|h| h.record.number.clone()).collect();
    let stored: HashMap<String, HouseholdRecord> = store
        .households_by_numbers(&numbers)
        .await?
        .into_iter()
        .map(|h| (h.number.clone(), h))
        .collect();
    let ours = |h: &HouseholdRecord| actor.area.contains(&h.village);
    for h in &households {
        if stored.get(&h.record.number).is_some_and(|old| !ours(old)) {
            problems.push(problem(
                sheet.file,
                h.first_row,
                sheet.header(NUMBER),
                OUTSIDE_HOUSEHOLD.into(),
            ));
        }
    }
    let ids: Vec<String> = id_rows.keys().cloned().collect();
    // A person may move between households this file replaces, and only
    // those: a household of another area listed here is refused above, and
    // must not excuse its members (that would tell which household an ID
    // number is in, by which problems appear).
    let held: Vec<(String, String)> = store
        .member_households(&ids)
        .await?
        .into_iter()
        .filter(|(_, owner)| !stored.get(owner).is_some_and(ours))
        .collect();
    let elsewhere: Vec<String> = held
        .iter()
        .filter(|(_, owner)| !stored.contains_key(owner))
        .map(|(_, owner)| owner.clone())
        .collect();
    let owners_ours: HashSet<String> = store
        .household_keys_by_numbers(&elsewhere)
        .await?
        .into_iter()
        .filter(|(_, _, village)| actor.area.contains(village))
        .map(|(number, _, _)| number)
        .collect();
    for (id, owner) in held {
        let Some(row) = id_rows.get(&id) else {
            continue;
        };
        let reason = if owners_ours.contains(&owner) {
            format!("该身份证号已登记在户 {owner}，而该户不在本文件中")
        } else {
            OUTSIDE_ID_NUMBER.into()
        };
        problems.push(problem(sheet.file, *row, sheet.header(ID_NUMBER), reason));
    }
    progress.set_done(sheet.table.rows.len() as u32);
    if !problems.is_empty() {
        return Err(ImportFailure::Refused(problems.sorted()));
    }

    // The difference: new households, changed ones (members replaced, ids
    // kept by ID number), the rest untouched.
    let member_ids: HashMap<&str, Uuid> = stored
        .values()
        .flat_map(|h| h.members.iter().map(|m| (m.id_number.as_str(), m.id)))
        .collect();
    let mut report = ImportReport {
        rows: sheet.table.rows.len() as u32,
        ..ImportReport::default()
    };
    let mut write = RosterWrite::default();
    for FileHousehold { mut record, .. } in households {
        for m in &mut record.members {
            if let Some(id) = member_ids.get(m.id_number.as_str()) {
                m.id = *id;
            }
        }
        match stored.get(&record.number) {
            Some(old) if same_household(old, &record) => report.unchanged += 1,
            Some(old) => {
                record.id = old.id;
                // A household moved to another village waits for that
                // village's supervisor to assign it (待分配): its worker may
                // not work there.
                record.worker_id = if old.village == record.village {
                    old.worker_id
                } else {
                    None
                };
                report.changed += 1;
                write.replaced_members_of.push(old.id);
                write.households.push(record);
            }
            None => {
                report.added += 1;
                write.households.push(record);
            }
        }
    }
    Ok((write, report))
}

fn category_text(c: Category) -> &'static str {
    match c {
        Category::Alleviated => "脱贫户",
        Category::Monitored(k) => k.label(),
    }
}

/// Whether the file says exactly what is stored (assignment is not part of
/// a roster and is kept).
fn same_household(old: &HouseholdRecord, new: &HouseholdRecord) -> bool {
    old.head_name == new.head_name
        && old.category == new.category
        && old.relocated == new.relocated
        && old.village == new.village
        && old.phone == new.phone
        && old.members.len() == new.members.len()
        && old.members.iter().zip(&new.members).all(|(a, b)| {
            a.name == b.name
                && a.relation == b.relation
                && a.id_number == b.id_number
                && a.labour == b.labour
                && a.health == b.health
        })
}

fn valid_household_number(n: &str) -> bool {
    n.len() <= 30 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn valid_phone(p: &str) -> bool {
    (7..=20).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit() || c == '-')
}

/// Whether `code` names a village inside the importer's area; the error is
/// the sentence for the user.
async fn village_in_scope(
    store: &dyn Store,
    actor: &Actor,
    code: &str,
) -> Result<Result<AreaCode, String>, AppError> {
    let Ok(code) = AreaCode::parse(code) else {
        return Ok(Err(format!("“{code}”不是12位行政区划代码")));
    };
    if code.level() != AreaLevel::Village {
        return Ok(Err(format!("{code} 不是村级代码")));
    }
    if !actor.area.contains(&code) {
        // The code is the importer's own typing, but the sentence repeats
        // nothing outside their area all the same, like every other here.
        return Ok(Err(format!("所在村不在本辖区（{}）内", actor.area_name)));
    }
    Ok(match store.area(&code).await? {
        Some(_) => Ok(code),
        None => Err(format!("系统中没有村代码 {code}")),
    })
}

async fn check_entitlements(
    store: &dyn Store,
    actor: &Actor,
    sheet: &Sheet<'_>,
    progress: &JobProgress,
) -> Result<(RosterWrite, ImportReport), ImportFailure> {
    const NUMBER: usize = 0;
    const ITEM: usize = 1;
    const YEAR: usize = 2;
    const AMOUNT: usize = 3;
    const DATE: usize = 4;
    const DEPARTMENT: usize = 5;
    const CHANNEL: usize = 6;

    let items = store.subsidy_items().await?;
    let item_of = |text: &str| -> Option<&SubsidyItem> {
        items.iter().find(|i| i.name == text || i.code == text)
    };
    let channels: Vec<(Channel, &str)> = Channel::ALL.iter().map(|c| (*c, c.label())).collect();
    let this_year = StatYear::containing(crate::subsidies::china_date(chrono::Utc::now())).0;

    let numbers: Vec<String> = {
        let mut seen = HashSet::new();
        sheet
            .table
            .rows
            .iter()
            .filter_map(|row| match sheet.cell(row, NUMBER) {
                Cell::Text(t) => Some(t.clone()),
                Cell::Number(n) => exact_whole(*n),
                _ => None,
            })
            .filter(|n| seen.insert(n.clone()))
            .collect()
    };
    let households: HashMap<String, (Uuid, AreaCode)> = store
        .household_keys_by_numbers(&numbers)
        .await?
        .into_iter()
        .map(|(number, id, village)| (number, (id, village)))
        .collect();

    let mut problems = Problems::default();
    let mut lines: Vec<EntitlementRecord> = Vec::new();
    let mut first_row: HashMap<(Uuid, String, i32), u32> = HashMap::new();
    for (i, row) in sheet.table.rows.iter().enumerate() {
        if i % 1024 == 0 {
            progress.set_done(i as u32);
        }
        let mut r = RowReader {
            sheet,
            row,
            problems: &mut problems,
        };
        // A household of another area reads as one that does not exist:
        // payments are only ever due to the importer's own, so there is
        // nothing to tell apart, and telling them apart would say which
        // numbers exist elsewhere.
        let household = r.text(NUMBER).and_then(|n| match households.get(&n) {
            Some((id, village)) if actor.area.contains(village) => Some(*id),
            _ => {
                r.note(
                    NUMBER,
                    format!(
                        "本辖区（{}）没有这个户编号：请先导入农户名单",
                        actor.area_name
                    ),
                );
                None
            }
        });
        let item = r.text(ITEM).and_then(|t| match item_of(&t) {
            Some(item) => Some(item),
            None => {
                r.note(ITEM, format!("补贴目录中没有“{t}”"));
                None
            }
        });
        let year = match r.sheet.cell(row, YEAR) {
            Cell::Number(n) if n.fract() == 0.0 => Some(*n as i64),
            _ => r
                .text(YEAR)
                .and_then(|t| match t.trim_end_matches('年').parse::<i64>() {
                    Ok(y) => Some(y),
                    Err(_) => {
                        r.note(YEAR, format!("“{t}”不是年份，应填如 {this_year}"));
                        None
                    }
                }),
        }
        .and_then(|y| {
            if (2016..=i64::from(this_year) + 1).contains(&y) {
                Some(y as i32)
            } else {
                r.note(YEAR, format!("统计年度应在 2016 至 {} 之间", this_year + 1));
                None
            }
        });
        let amount = r.positive_amount(AMOUNT, "应发金额应大于0");
        let date = r.date(DATE);
        if let (Some(year), Some(date)) = (year, date) {
            let y = StatYear(year);
            if date < y.first_day() || date > y.last_day() {
                r.note(DATE, format!("{date} 不在{}内", y.label()));
            }
        }
        let department = r.text(DEPARTMENT);
        let channel = match r.sheet.cell(row, CHANNEL) {
            Cell::Empty => item.map(|i| i.default_channel),
            _ => r.choice(CHANNEL, &channels),
        };
        if let (Some(h), Some(item), Some(year)) = (household, item, year) {
            let key = (h, item.code.clone(), year);
            if let Some(first) = first_row.get(&key) {
                r.note(
                    ITEM,
                    format!("与第{first}行重复：同一户、同一项目、同一年度只能有一行"),
                );
                continue;
            }
            first_row.insert(key, row.number);
        }
        if let (
            Some(h),
            Some(item),
            Some(year),
            Some(amount),
            Some(date),
            Some(department),
            Some(channel),
        ) = (household, item, year, amount, date, department, channel)
        {
            lines.push(EntitlementRecord {
                id: Uuid::now_v7(),
                household_id: h,
                item_code: item.code.clone(),
                stat_year: year,
                expected_fen: amount.0,
                expected_date: date,
                department,
                channel,
            });
        }
    }
    progress.set_done(sheet.table.rows.len() as u32);
    if !problems.is_empty() {
        return Err(ImportFailure::Refused(problems.sorted()));
    }

    let ids: Vec<Uuid> = {
        let mut seen = HashSet::new();
        lines
            .iter()
            .map(|l| l.household_id)
            .filter(|id| seen.insert(*id))
            .collect()
    };
    let stored: HashMap<(Uuid, String, i32), EntitlementRecord> = store
        .entitlements_of_households(&ids)
        .await?
        .into_iter()
        .map(|e| ((e.household_id, e.item_code.clone(), e.stat_year), e))
        .collect();
    let mut report = ImportReport {
        rows: sheet.table.rows.len() as u32,
        ..ImportReport::default()
    };
    let mut write = RosterWrite::default();
    for mut line in lines {
        match stored.get(&(line.household_id, line.item_code.clone(), line.stat_year)) {
            Some(old)
                if old.expected_fen == line.expected_fen
                    && old.expected_date == line.expected_date
                    && old.department == line.department
                    && old.channel == line.channel =>
            {
                report.unchanged += 1
            }
            Some(old) => {
                line.id = old.id;
                report.changed += 1;
                write.entitlements.push(line);
            }
            None => {
                report.added += 1;
                write.entitlements.push(line);
            }
        }
    }
    Ok((write, report))
}

/// An amount Excel holds as a number, in fen, refusing fractions of a fen
/// (float noise below that is Excel's, not the user's).
fn fen_of_number(n: f64) -> Result<Fen, String> {
    if !n.is_finite() {
        return Err("金额不是有效数字".into());
    }
    let fen = (n * 100.0).round();
    if (n * 100.0 - fen).abs() > 1e-6 {
        return Err(format!("{n} 元：金额最多两位小数（精确到分）"));
    }
    if fen < 0.0 {
        return Err(format!("{n} 元：金额不能为负数"));
    }
    // Compared as a float first: the cast saturates, it must not decide.
    if fen > Fen::MAX.0 as f64 {
        return Err(format!("{n} 元：{}", Fen::TOO_LARGE));
    }
    Fen::check(fen as i64).map_err(|m| format!("{n} 元：{m}"))
}

/// `2026-03-31`, `2026/3/31`, `2026.3.31` or `2026年3月31日`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let normalised: String = text
        .trim()
        .trim_end_matches('日')
        .chars()
        .map(|c| match c {
            '/' | '.' | '年' | '月' => '-',
            c => c,
        })
        .collect();
    let mut parts = normalised.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_in_the_forms_people_type() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 31);
        assert_eq!(parse_date("2026-03-31"), d);
        assert_eq!(parse_date("2026/3/31"), d);
        assert_eq!(parse_date("2026.3.31"), d);
        assert_eq!(parse_date("2026年3月31日"), d);
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("31/03/2026"), None);
    }

    #[test]
    fn amounts_stored_as_numbers_are_exact_to_the_fen() {
        assert_eq!(fen_of_number(3600.0), Ok(Fen(360_000)));
        assert_eq!(fen_of_number(0.1 + 0.2), Ok(Fen(30)));
        assert_eq!(fen_of_number(100_000_000.0), Ok(Fen::MAX));
        for n in [
            100_000_000.01,
            9.223_372_036_854_776e16,
            f64::INFINITY,
            f64::NAN,
            -0.01,
        ] {
            assert!(fen_of_number(n).is_err(), "{n}");
        }
        assert!(fen_of_number(1.005).unwrap_err().contains("两位小数"));
        assert!(fen_of_number(-5.0).is_err());
    }
}
