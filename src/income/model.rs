use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::subsidies::{Fen, IncomeBucket, saturate};

/// Income a household declares that is not a subsidy payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IncomeKind {
    /// 本地务工收入
    WageLocal,
    /// 外出务工收入
    WageMigrant,
    /// 公益性岗位工资 not already on the household's payment list
    WagePublicJob,
    /// 家庭经营收入
    BusinessIncome,
    /// 生产经营性支出
    BusinessCost,
    /// 财产性收入 (rent, land transfer, dividends not on the payment list)
    Property,
}

impl IncomeKind {
    pub const ALL: [IncomeKind; 6] = [
        IncomeKind::WageLocal,
        IncomeKind::WageMigrant,
        IncomeKind::WagePublicJob,
        IncomeKind::BusinessIncome,
        IncomeKind::BusinessCost,
        IncomeKind::Property,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncomeKind::WageLocal => "wage_local",
            IncomeKind::WageMigrant => "wage_migrant",
            IncomeKind::WagePublicJob => "wage_public_job",
            IncomeKind::BusinessIncome => "business_income",
            IncomeKind::BusinessCost => "business_cost",
            IncomeKind::Property => "property",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        IncomeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            IncomeKind::WageLocal => "本地务工收入",
            IncomeKind::WageMigrant => "外出务工收入",
            IncomeKind::WagePublicJob => "公益性岗位工资（未列入应发补贴的）",
            IncomeKind::BusinessIncome => "家庭经营收入",
            IncomeKind::BusinessCost => "生产经营性支出",
            IncomeKind::Property => "财产性收入（租金、流转费、分红等）",
        }
    }

    pub fn bucket(self) -> IncomeBucket {
        match self {
            IncomeKind::WageLocal | IncomeKind::WageMigrant | IncomeKind::WagePublicJob => {
                IncomeBucket::Wage
            }
            IncomeKind::BusinessIncome => IncomeBucket::Business,
            IncomeKind::BusinessCost => IncomeBucket::BusinessCost,
            IncomeKind::Property => IncomeBucket::Property,
        }
    }
}

/// One income figure declared during a visit: the year's total so far for
/// its kind. The latest visit's figure for a kind replaces earlier ones; the
/// household signs it with the rest of the visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeLine {
    pub kind: IncomeKind,
    pub amount_fen: i64,
    /// Backed by a record the worker saw: pay slip, bank statement, contract.
    pub evidence: bool,
    pub note: String,
}

/// The rules income lines meet, on the phone and on the server.
pub fn check_income_lines(lines: &[IncomeLine]) -> Result<(), (String, &'static str)> {
    let mut seen = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let at = |name: &str| format!("income[{i}].{name}");
        if seen.contains(&l.kind) {
            return Err((at("kind"), "同一收入项重复填写"));
        }
        seen.push(l.kind);
        Fen::check(l.amount_fen).map_err(|m| (at("amount_fen"), m))?;
        if l.note.chars().count() > 200 {
            return Err((at("note"), "说明过长（最多200字）"));
        }
    }
    Ok(())
}

/// A declared figure as the account uses it: the latest for its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredIncome {
    pub kind: IncomeKind,
    pub amount: Fen,
    pub evidence: bool,
    pub visit_id: Uuid,
    pub visit_day: NaiveDate,
}

/// A subsidy payment a signed visit verified as received: the latest
/// visit's line for the entitlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedPayment {
    pub item_name: String,
    pub bucket: IncomeBucket,
    pub received: Fen,
    pub visit_id: Uuid,
    pub visit_day: NaiveDate,
}

/// Where the account's household size came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdSize {
    pub people: i32,
    /// The visit that confirmed it; `None`: the members on record.
    pub from_visit: Option<Uuid>,
}

/// What one year's account is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeInputs {
    pub stat_year: i32,
    pub declared: Vec<DeclaredIncome>,
    pub payments: Vec<VerifiedPayment>,
    pub size: HouseholdSize,
}

impl IncomeInputs {
    /// Whether anything at all was recorded for the year.
    pub fn has_records(&self) -> bool {
        !self.declared.is_empty() || !self.payments.is_empty()
    }
}

/// One number of the account and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeSource {
    pub bucket: IncomeBucket,
    /// The declared kind's label or the subsidy item's name.
    pub line: String,
    pub amount: Fen,
    pub visit_id: Uuid,
    pub visit_day: NaiveDate,
    /// A verified payment, or a declared figure with evidence.
    pub backed: bool,
}

/// A household's income account for one statistics year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeAccount {
    pub stat_year: i32,
    pub wage: Fen,
    pub business: Fen,
    pub property: Fen,
    pub transfer: Fen,
    /// Production costs after machinery subsidies offset them, never below 0.
    pub cost: Fen,
    pub net: Fen,
    /// The part of the income backed by records (verified payments, declared
    /// figures with evidence), before costs.
    pub backed: Fen,
    pub size: HouseholdSize,
    /// Net ÷ size, rounded half away from zero to the fen; `None` for size 0.
    pub per_capita: Option<Fen>,
    /// Whether anything was recorded for the year at all.
    pub has_records: bool,
    pub sources: Vec<IncomeSource>,
}

/// The rounding rule, stated once: per-capita income is net income divided
/// by household size, exactly, then rounded to the fen, half away from zero
/// (四舍五入到分).
pub fn per_capita(net: Fen, size: i32) -> Option<Fen> {
    if size <= 0 {
        return None;
    }
    let exact = Decimal::from(net.0) / Decimal::from(size);
    let rounded = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    Some(Fen(rounded.try_into().expect("fen fit in i64")))
}

/// Computes the account: net = wages + business + property + transfers −
/// production costs. Declared figures land in their kind's bucket; verified
/// payments in their catalogue item's bucket; items that are not income
/// (earmarked, paid on the household's behalf) are listed but not counted;
/// machinery subsidies (bucket 生产经营性支出) reduce the declared costs.
pub fn account(inputs: &IncomeInputs) -> IncomeAccount {
    // Each stored figure counts within the bound (`Fen::counted`), and the
    // sums run in i128: no stored record can overflow the account.
    let mut sums = [0i128; 4];
    let (mut declared_cost, mut cost_offset, mut backed) = (0i128, 0i128, 0i128);
    let mut sources = Vec::new();
    let slot = |b: IncomeBucket| match b {
        IncomeBucket::Wage => Some(0),
        IncomeBucket::Business => Some(1),
        IncomeBucket::Property => Some(2),
        IncomeBucket::Transfer => Some(3),
        IncomeBucket::BusinessCost | IncomeBucket::None => None,
    };
    for d in &inputs.declared {
        let bucket = d.kind.bucket();
        let amount = Fen::counted(d.amount.0);
        match slot(bucket) {
            Some(i) => {
                sums[i] += i128::from(amount.0);
                if d.evidence {
                    backed += i128::from(amount.0);
                }
            }
            None => declared_cost += i128::from(amount.0),
        }
        sources.push(IncomeSource {
            bucket,
            line: d.kind.label().to_owned(),
            amount,
            visit_id: d.visit_id,
            visit_day: d.visit_day,
            backed: d.evidence,
        });
    }
    for p in &inputs.payments {
        let received = Fen::counted(p.received.0);
        match slot(p.bucket) {
            Some(i) => {
                sums[i] += i128::from(received.0);
                backed += i128::from(received.0);
            }
            None if p.bucket == IncomeBucket::BusinessCost => cost_offset += i128::from(received.0),
            None => {}
        }
        sources.push(IncomeSource {
            bucket: p.bucket,
            line: p.item_name.clone(),
            amount: received,
            visit_id: p.visit_id,
            visit_day: p.visit_day,
            backed: true,
        });
    }
    let cost = (declared_cost - cost_offset).max(0);
    let net = Fen(saturate(sums.iter().sum::<i128>() - cost));
    IncomeAccount {
        stat_year: inputs.stat_year,
        wage: Fen(saturate(sums[0])),
        business: Fen(saturate(sums[1])),
        property: Fen(saturate(sums[2])),
        transfer: Fen(saturate(sums[3])),
        cost: Fen(saturate(cost)),
        net,
        backed: Fen(saturate(backed)),
        size: inputs.size.clone(),
        per_capita: per_capita(net, inputs.size.people),
        has_records: inputs.has_records(),
        sources,
    }
}

/// A risk signal on a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IncomeFlag {
    /// 人均纯收入低于监测标准
    BelowThreshold,
    /// 人均纯收入比上年下降超过10%
    Fell,
    /// 人均纯收入比上年增长超过50%，增收部分不足一半有核实记录 (数字增收)
    UnbackedJump,
    /// 帮扶措施逾期未完成
    OverdueMeasure,
    /// 监测户识别超过30天仍无帮扶措施
    NoMeasure,
}

impl IncomeFlag {
    pub const ALL: [IncomeFlag; 5] = [
        IncomeFlag::BelowThreshold,
        IncomeFlag::Fell,
        IncomeFlag::UnbackedJump,
        IncomeFlag::OverdueMeasure,
        IncomeFlag::NoMeasure,
    ];

    pub fn bit(self) -> i32 {
        match self {
            IncomeFlag::BelowThreshold => 1,
            IncomeFlag::Fell => 2,
            IncomeFlag::UnbackedJump => 4,
            IncomeFlag::OverdueMeasure => 8,
            IncomeFlag::NoMeasure => 16,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IncomeFlag::BelowThreshold => "below_threshold",
            IncomeFlag::Fell => "fell",
            IncomeFlag::UnbackedJump => "unbacked_jump",
            IncomeFlag::OverdueMeasure => "overdue_measure",
            IncomeFlag::NoMeasure => "no_measure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        IncomeFlag::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Short, for badges and column heads.
    pub fn label(self) -> &'static str {
        match self {
            IncomeFlag::BelowThreshold => "低于监测标准",
            IncomeFlag::Fell => "收入下降超10%",
            IncomeFlag::UnbackedJump => "增收缺少核实",
            IncomeFlag::OverdueMeasure => "措施逾期",
            IncomeFlag::NoMeasure => "识别30天无措施",
        }
    }

    /// One sentence, for the household's page.
    pub fn explain(self) -> &'static str {
        match self {
            IncomeFlag::BelowThreshold => "人均纯收入低于本年度监测标准",
            IncomeFlag::Fell => "人均纯收入比上年下降超过10%",
            IncomeFlag::UnbackedJump => {
                "人均纯收入比上年增长超过50%，但增收部分不足一半有核实记录（谨防“数字增收”）"
            }
            IncomeFlag::OverdueMeasure => "有帮扶措施已过完成期限仍未完成",
            IncomeFlag::NoMeasure => "监测户识别已超过30天，仍没有帮扶措施",
        }
    }
}

/// A set of [`IncomeFlag`]s, stored as the sum of their bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Flags(pub i32);

impl Flags {
    pub fn has(self, f: IncomeFlag) -> bool {
        self.0 & f.bit() != 0
    }

    pub fn with(self, f: IncomeFlag) -> Flags {
        Flags(self.0 | f.bit())
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = IncomeFlag> {
        IncomeFlag::ALL.into_iter().filter(move |f| self.has(*f))
    }
}

/// What the plan contributes to the signals: one line per measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureFacts {
    pub status: crate::plans::MeasureStatus,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// Days a monitored household may go without a measure after identification.
pub const DAYS_TO_FIRST_MEASURE: i64 = 30;

/// Everything the signals of one household and year are judged on.
#[derive(Debug, Clone, Copy)]
pub struct SignalInputs<'a> {
    pub this_year: &'a IncomeAccount,
    pub last_year: Option<&'a IncomeAccount>,
    pub threshold: Option<Fen>,
    pub measures: &'a [MeasureFacts],
    /// A monitored household's identification date; `None` for others.
    pub identified_on: Option<NaiveDate>,
    pub today: NaiveDate,
}

/// The risk signals, each a strict comparison as the rules read:
/// - below the threshold: per-capita < threshold, once anything was
///   recorded for the year (a household with no record yet is not judged);
/// - fell: per-capita < 90 % of last year's (last year > 0);
/// - unbacked jump: per-capita > 150 % of last year's (last year > 0) and
///   the rise of backed income is less than half the rise of net income;
/// - overdue: a planned or in-progress measure whose due date has passed;
/// - no measure: a monitored household more than 30 days after
///   identification with no measure that was not dropped.
pub fn signals(s: SignalInputs<'_>) -> Flags {
    let mut flags = Flags::default();
    let this = s.this_year;
    if let (Some(pc), Some(line), true) = (this.per_capita, s.threshold, this.has_records)
        && pc < line
    {
        flags = flags.with(IncomeFlag::BelowThreshold);
    }
    let last = s
        .last_year
        .filter(|l| l.has_records)
        .and_then(|l| Some((l, l.per_capita.filter(|p| p.0 > 0)?)));
    if let (Some((last, last_pc)), Some(pc), true) = (last, this.per_capita, this.has_records) {
        if 10 * i128::from(pc.0) < 9 * i128::from(last_pc.0) {
            flags = flags.with(IncomeFlag::Fell);
        }
        let rise = i128::from(this.net.0) - i128::from(last.net.0);
        let backed_rise = i128::from(this.backed.0) - i128::from(last.backed.0);
        if 2 * i128::from(pc.0) > 3 * i128::from(last_pc.0) && rise > 0 && 2 * backed_rise < rise {
            flags = flags.with(IncomeFlag::UnbackedJump);
        }
    }
    if s.measures
        .iter()
        .any(|m| m.status.is_open() && m.due_on < s.today)
    {
        flags = flags.with(IncomeFlag::OverdueMeasure);
    }
    if let Some(identified) = s.identified_on
        && (s.today - identified).num_days() > DAYS_TO_FIRST_MEASURE
        && !s
            .measures
            .iter()
            .any(|m| m.status != crate::plans::MeasureStatus::Dropped)
    {
        flags = flags.with(IncomeFlag::NoMeasure);
    }
    flags
}

/// Implementation rate inputs for one household on `today`: measures due
/// (not dropped, due date passed) and of those, done by their due date.
pub fn measures_due_and_on_time(measures: &[MeasureFacts], today: NaiveDate) -> (i64, i64) {
    let due: Vec<&MeasureFacts> = measures
        .iter()
        .filter(|m| m.status != crate::plans::MeasureStatus::Dropped && m.due_on < today)
        .collect();
    let on_time = due
        .iter()
        .filter(|m| {
            m.status == crate::plans::MeasureStatus::Done
                && m.done_on.is_some_and(|d| d <= m.due_on)
        })
        .count();
    (due.len() as i64, on_time as i64)
}

/// Implementation rate as a percentage with one decimal, `None` when
/// nothing is due.
pub fn implementation_rate(due: i64, on_time: i64) -> Option<Decimal> {
    (due > 0).then(|| {
        (Decimal::from(on_time) * Decimal::from(100) / Decimal::from(due))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
    })
}

/// The monitoring threshold of a statistics year: its own, or failing that
/// the latest earlier year's.
pub fn threshold_for(thresholds: &[(i32, Fen)], stat_year: i32) -> Option<Fen> {
    thresholds
        .iter()
        .filter(|(y, _)| *y <= stat_year)
        .max_by_key(|(y, _)| *y)
        .map(|(_, f)| *f)
}

/// A computed account and its signals, as the store keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeStatus {
    pub account: IncomeAccount,
    pub last_year: Option<IncomeAccount>,
    pub threshold: Option<Fen>,
    pub flags: Flags,
    pub measures_due: i64,
    pub measures_on_time: i64,
    pub as_of: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::MeasureStatus;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// An account with the given net income, backed part and size.
    fn acct(net: i64, backed: i64, size: i32) -> IncomeAccount {
        account(&IncomeInputs {
            stat_year: 2027,
            declared: vec![
                DeclaredIncome {
                    kind: IncomeKind::WageLocal,
                    amount: Fen(net - backed),
                    evidence: false,
                    visit_id: Uuid::nil(),
                    visit_day: day(2027, 3, 1),
                },
                DeclaredIncome {
                    kind: IncomeKind::WageMigrant,
                    amount: Fen(backed),
                    evidence: true,
                    visit_id: Uuid::nil(),
                    visit_day: day(2027, 3, 1),
                },
            ],
            payments: vec![],
            size: HouseholdSize {
                people: size,
                from_visit: None,
            },
        })
    }

    #[test]
    fn stored_figures_beyond_the_bound_count_as_the_bound_and_never_overflow() {
        let declared = |kind, fen| DeclaredIncome {
            kind,
            amount: Fen(fen),
            evidence: true,
            visit_id: Uuid::nil(),
            visit_day: day(2027, 3, 1),
        };
        let paid = |bucket, fen| VerifiedPayment {
            item_name: "测试".into(),
            bucket,
            received: Fen(fen),
            visit_id: Uuid::nil(),
            visit_day: day(2027, 3, 1),
        };
        let a = account(&IncomeInputs {
            stat_year: 2027,
            declared: vec![
                declared(IncomeKind::WageLocal, i64::MAX),
                declared(IncomeKind::WageMigrant, i64::MAX),
                declared(IncomeKind::BusinessCost, -5),
            ],
            payments: (0..40)
                .map(|_| paid(IncomeBucket::Wage, i64::MAX))
                .chain([paid(IncomeBucket::BusinessCost, i64::MAX)])
                .collect(),
            size: HouseholdSize {
                people: 1,
                from_visit: None,
            },
        });
        assert_eq!(a.wage, Fen(42 * Fen::MAX.0));
        assert_eq!(a.cost, Fen(0));
        assert_eq!(a.net, a.wage);
        assert_eq!(a.backed, a.wage);
        assert_eq!(a.per_capita, Some(a.wage));
        assert!(a.sources.iter().all(|s| s.amount <= Fen::MAX));
    }

    #[test]
    fn income_lines_are_bounded_like_every_amount() {
        let line = |fen| IncomeLine {
            kind: IncomeKind::Property,
            amount_fen: fen,
            evidence: false,
            note: String::new(),
        };
        assert_eq!(check_income_lines(&[line(Fen::MAX.0)]), Ok(()));
        for fen in [Fen::MAX.0 + 1, i64::MAX, -1, i64::MIN] {
            let (field, _) = check_income_lines(&[line(fen)]).unwrap_err();
            assert_eq!(field, "income[0].amount_fen", "{fen}");
        }
    }

    fn judge(this: &IncomeAccount, last: Option<&IncomeAccount>, threshold: i64) -> Flags {
        signals(SignalInputs {
            this_year: this,
            last_year: last,
            threshold: Some(Fen(threshold)),
            measures: &[],
            identified_on: None,
            today: day(2027, 3, 1),
        })
    }

    #[test]
    fn per_capita_rounds_half_away_from_zero_to_the_fen() {
        assert_eq!(per_capita(Fen(2_150_000), 3), Some(Fen(716_667)));
        assert_eq!(per_capita(Fen(5), 2), Some(Fen(3)));
        assert_eq!(per_capita(Fen(-5), 2), Some(Fen(-3)));
        assert_eq!(per_capita(Fen(7), 2), Some(Fen(4)));
        assert_eq!(per_capita(Fen(100), 0), None);
    }

    #[test]
    fn buckets_not_income_are_listed_and_machinery_offsets_costs_not_below_zero() {
        let pay = |name: &str, bucket, fen| VerifiedPayment {
            item_name: name.into(),
            bucket,
            received: Fen(fen),
            visit_id: Uuid::nil(),
            visit_day: day(2027, 3, 1),
        };
        let inputs = IncomeInputs {
            stat_year: 2027,
            declared: vec![DeclaredIncome {
                kind: IncomeKind::BusinessCost,
                amount: Fen(50_000),
                evidence: false,
                visit_id: Uuid::nil(),
                visit_day: day(2027, 3, 1),
            }],
            payments: vec![
                pay("户厕改造补助", IncomeBucket::None, 150_000),
                pay("农机购置补贴", IncomeBucket::BusinessCost, 80_000),
                pay("农村低保", IncomeBucket::Transfer, 240_000),
            ],
            size: HouseholdSize {
                people: 2,
                from_visit: None,
            },
        };
        let a = account(&inputs);
        assert_eq!(a.transfer, Fen(240_000));
        assert_eq!(
            a.cost,
            Fen(0),
            "machinery above the declared costs stops at zero"
        );
        assert_eq!(a.net, Fen(240_000));
        assert_eq!(a.backed, Fen(240_000));
        assert_eq!(a.per_capita, Some(Fen(120_000)));
        assert_eq!(a.sources.len(), 4, "every line is shown, counted or not");
    }

    #[test]
    fn below_threshold_is_strictly_below_and_needs_a_record() {
        let at = acct(2 * 780_000, 0, 2);
        assert!(!judge(&at, None, 780_000).has(IncomeFlag::BelowThreshold));
        let under = acct(2 * 780_000 - 2, 0, 2);
        assert!(judge(&under, None, 780_000).has(IncomeFlag::BelowThreshold));
        let mut nothing = acct(0, 0, 2);
        nothing.has_records = false;
        assert!(!judge(&nothing, None, 780_000).has(IncomeFlag::BelowThreshold));
    }

    #[test]
    fn fell_is_more_than_ten_percent_down() {
        let last = acct(1_000_000, 0, 1);
        assert!(!judge(&acct(900_000, 0, 1), Some(&last), 1).has(IncomeFlag::Fell));
        assert!(judge(&acct(899_999, 0, 1), Some(&last), 1).has(IncomeFlag::Fell));
        // Per capita: the same net income shared by one more person fell.
        let bigger = acct(1_000_000, 0, 2);
        assert!(judge(&bigger, Some(&last), 1).has(IncomeFlag::Fell));
    }

    #[test]
    fn a_jump_over_half_needs_half_its_rise_backed() {
        let last = acct(1_000_000, 200_000, 1);
        // +50% exactly is not a jump.
        assert!(!judge(&acct(1_500_000, 200_000, 1), Some(&last), 1).has(IncomeFlag::UnbackedJump));
        // +50% and a fen, rise 500,001, backed rise 250,000: under half.
        let jump = acct(1_500_001, 450_000, 1);
        assert!(judge(&jump, Some(&last), 1).has(IncomeFlag::UnbackedJump));
        // The same jump with exactly half the rise backed is not flagged.
        let half = acct(1_500_002, 450_001, 1);
        assert!(!judge(&half, Some(&last), 1).has(IncomeFlag::UnbackedJump));
        // No figure last year: nothing to compare.
        assert!(!judge(&jump, None, 1).has(IncomeFlag::UnbackedJump));
    }

    #[test]
    fn overdue_is_an_open_measure_past_its_due_day() {
        let today = day(2027, 3, 1);
        let m = |status, due| MeasureFacts {
            status,
            due_on: due,
            done_on: (status == MeasureStatus::Done).then_some(due),
        };
        let flags = |ms: &[MeasureFacts]| {
            signals(SignalInputs {
                this_year: &acct(0, 0, 1),
                last_year: None,
                threshold: None,
                measures: ms,
                identified_on: None,
                today,
            })
        };
        assert!(!flags(&[m(MeasureStatus::InProgress, today)]).has(IncomeFlag::OverdueMeasure));
        assert!(
            flags(&[m(MeasureStatus::InProgress, day(2027, 2, 28))])
                .has(IncomeFlag::OverdueMeasure)
        );
        assert!(
            flags(&[m(MeasureStatus::Planned, day(2027, 2, 28))]).has(IncomeFlag::OverdueMeasure)
        );
        assert!(
            !flags(&[m(MeasureStatus::Done, day(2027, 2, 28))]).has(IncomeFlag::OverdueMeasure)
        );
        assert!(
            !flags(&[m(MeasureStatus::Dropped, day(2027, 2, 28))]).has(IncomeFlag::OverdueMeasure)
        );
    }

    #[test]
    fn no_measure_counts_from_the_thirty_first_day_after_identification() {
        let identified = day(2027, 1, 1);
        let flags = |today, ms: &[MeasureFacts]| {
            signals(SignalInputs {
                this_year: &acct(0, 0, 1),
                last_year: None,
                threshold: None,
                measures: ms,
                identified_on: Some(identified),
                today,
            })
        };
        assert!(!flags(day(2027, 1, 31), &[]).has(IncomeFlag::NoMeasure));
        assert!(flags(day(2027, 2, 1), &[]).has(IncomeFlag::NoMeasure));
        let dropped = MeasureFacts {
            status: MeasureStatus::Dropped,
            due_on: day(2027, 6, 1),
            done_on: None,
        };
        assert!(flags(day(2027, 2, 1), &[dropped]).has(IncomeFlag::NoMeasure));
        let planned = MeasureFacts {
            status: MeasureStatus::Planned,
            ..dropped
        };
        assert!(!flags(day(2027, 2, 1), &[planned]).has(IncomeFlag::NoMeasure));
    }

    #[test]
    fn implementation_rate_counts_measures_due_and_done_by_their_day() {
        let today = day(2027, 3, 1);
        let m = |status, due, done| MeasureFacts {
            status,
            due_on: due,
            done_on: done,
        };
        let ms = [
            m(MeasureStatus::Done, day(2027, 2, 1), Some(day(2027, 2, 1))),
            m(MeasureStatus::Done, day(2027, 2, 1), Some(day(2027, 2, 2))),
            m(MeasureStatus::InProgress, day(2027, 2, 1), None),
            m(MeasureStatus::Dropped, day(2027, 2, 1), None),
            m(MeasureStatus::Done, day(2027, 4, 1), Some(day(2027, 2, 1))),
            m(MeasureStatus::Planned, today, None),
        ];
        assert_eq!(measures_due_and_on_time(&ms, today), (3, 1));
        assert_eq!(implementation_rate(3, 1), Some(Decimal::new(333, 1)));
        assert_eq!(implementation_rate(0, 0), None);
    }

    #[test]
    fn thresholds_fall_back_to_the_latest_earlier_year() {
        let t = [(2023, Fen(720_000)), (2024, Fen(780_000))];
        assert_eq!(threshold_for(&t, 2023), Some(Fen(720_000)));
        assert_eq!(threshold_for(&t, 2027), Some(Fen(780_000)));
        assert_eq!(threshold_for(&t, 2022), None);
    }
}

/// One household's account of a year as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdIncomeView {
    pub household_id: Uuid,
    pub status: IncomeStatus,
}

impl HouseholdIncomeView {
    /// Per-capita change on last year, in percent with one decimal.
    pub fn change_percent(&self) -> Option<Decimal> {
        let this = self.status.account.per_capita?;
        let last = self
            .status
            .last_year
            .as_ref()?
            .per_capita
            .filter(|p| p.0 > 0)?;
        Some(
            ((Decimal::from(this.0) - Decimal::from(last.0)) * Decimal::from(100)
                / Decimal::from(last.0))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero),
        )
    }
}

/// One row of the plan and risk table: an area's households, flagged
/// households per signal and its measures due / done on time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeRow {
    pub area: crate::areas::Area,
    pub households: i64,
    /// Households with any signal.
    pub flagged: i64,
    /// Per [`IncomeFlag::ALL`], in that order.
    pub by_flag: [i64; 5],
    pub measures_due: i64,
    pub measures_on_time: i64,
    /// Visits of the year with a signal of a made-up visit not yet
    /// decided (可疑走访).
    pub suspicious_visits: i64,
}

impl IncomeRow {
    pub fn new(area: crate::areas::Area) -> IncomeRow {
        IncomeRow {
            area,
            households: 0,
            flagged: 0,
            by_flag: [0; 5],
            measures_due: 0,
            measures_on_time: 0,
            suspicious_visits: 0,
        }
    }

    pub fn rate(&self) -> Option<Decimal> {
        implementation_rate(self.measures_due, self.measures_on_time)
    }

    pub fn flag_count(&self, f: IncomeFlag) -> i64 {
        let i = IncomeFlag::ALL
            .iter()
            .position(|x| *x == f)
            .expect("every flag listed");
        self.by_flag[i]
    }
}

/// The plan and risk roll-up of an area: a row per area one level down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeTable {
    pub area: crate::areas::Area,
    /// From the caller's own node down to (not including) `area`.
    pub breadcrumbs: Vec<crate::areas::Area>,
    pub stat_year: i32,
    pub threshold: Option<Fen>,
    /// The oldest day the area's accounts were computed on.
    pub as_of: Option<NaiveDate>,
    pub rows: Vec<IncomeRow>,
    pub total: IncomeRow,
}

/// A year's monitoring threshold as the province sees and edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    pub stat_year: i32,
    pub threshold: Fen,
}

/// The list of households behind a figure: `/households?village=…&flag=…`.
pub fn flagged_households_href(area: &crate::areas::AreaCode, flag: Option<IncomeFlag>) -> String {
    let mut href = format!("/households?village={}&flag=", area.as_str());
    href.push_str(flag.map(IncomeFlag::as_str).unwrap_or(ANY_FLAG));
    href
}

/// The `flag` value that means "any signal".
pub const ANY_FLAG: &str = "any";

/// Where an area's plan and risk table is.
pub fn income_table_href(area: &crate::areas::AreaCode) -> String {
    format!("/areas/{}/income", area.as_str())
}
