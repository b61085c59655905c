use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where a payment lands in the household income account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IncomeBucket {
    /// 工资性收入
    Wage,
    /// 生产经营性收入
    Business,
    /// 财产性收入
    Property,
    /// 转移性收入
    Transfer,
    /// 生产经营性支出: offsets business income, is not income itself.
    BusinessCost,
    /// Earmarked or paid on the household's behalf: verified, not income.
    None,
}

impl IncomeBucket {
    pub const ALL: [IncomeBucket; 6] = [
        IncomeBucket::Wage,
        IncomeBucket::Business,
        IncomeBucket::Property,
        IncomeBucket::Transfer,
        IncomeBucket::BusinessCost,
        IncomeBucket::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncomeBucket::Wage => "wage",
            IncomeBucket::Business => "business",
            IncomeBucket::Property => "property",
            IncomeBucket::Transfer => "transfer",
            IncomeBucket::BusinessCost => "business_cost",
            IncomeBucket::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        IncomeBucket::ALL.into_iter().find(|b| b.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            IncomeBucket::Wage => "工资性",
            IncomeBucket::Business => "生产经营性",
            IncomeBucket::Property => "财产性",
            IncomeBucket::Transfer => "转移性",
            IncomeBucket::BusinessCost => "生产经营性支出",
            IncomeBucket::None => "不计收入",
        }
    }
}

/// How a payment reaches the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    /// 惠民惠农"一卡通"
    OneCard,
    BankTransfer,
    Cash,
    InKind,
    /// Paid on the household's behalf (e.g. insurance premiums).
    OnBehalf,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::OneCard,
        Channel::BankTransfer,
        Channel::Cash,
        Channel::InKind,
        Channel::OnBehalf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::OneCard => "one_card",
            Channel::BankTransfer => "bank_transfer",
            Channel::Cash => "cash",
            Channel::InKind => "in_kind",
            Channel::OnBehalf => "on_behalf",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::OneCard => "一卡通",
            Channel::BankTransfer => "银行转账",
            Channel::Cash => "现金",
            Channel::InKind => "实物",
            Channel::OnBehalf => "代缴",
        }
    }
}

/// One item of the subsidy catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidyItem {
    pub code: String,
    pub name: String,
    pub bucket: IncomeBucket,
    pub counts_as_income: bool,
    pub default_channel: Channel,
}

/// Parses the catalogue TSV; the error names the line and field.
pub fn parse_catalogue(tsv: &str) -> Result<Vec<SubsidyItem>, String> {
    let mut items = Vec::new();
    for (i, line) in tsv.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 5 {
            return Err(format!("第{line_no}行：应有5列，实有{}列", f.len()));
        }
        let bucket = IncomeBucket::parse(f[2])
            .ok_or_else(|| format!("第{line_no}行“收入类别”列：未知值“{}”", f[2]))?;
        let counts_as_income = match f[3] {
            "true" => true,
            "false" => false,
            other => {
                return Err(format!(
                    "第{line_no}行“计入收入”列：应为true或false，收到“{other}”"
                ));
            }
        };
        let default_channel = Channel::parse(f[4])
            .ok_or_else(|| format!("第{line_no}行“发放渠道”列：未知值“{}”", f[4]))?;
        items.push(SubsidyItem {
            code: f[0].to_owned(),
            name: f[1].to_owned(),
            bucket,
            counts_as_income,
            default_channel,
        });
    }
    Ok(items)
}

/// An amount of money in fen (分), the only unit money is stored in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Fen(pub i64);

impl Fen {
    /// The most any one amount may be, wherever money is entered: a payment
    /// due or received, a declared income figure, a measure's funding or
    /// expected income, a threshold. 1 亿元 is far beyond any household's
    /// line, and small enough that a sum over every line a province holds
    /// (10⁸ of them) still fits in i64 exactly.
    pub const MAX: Fen = Fen(10_000_000_000);

    /// What an amount above [`Fen::MAX`] is told, with the bound spelled out.
    pub const TOO_LARGE: &'static str = "金额不能超过1亿元";

    pub fn yuan(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Checks an amount as sent (a line's fen): not negative, not above
    /// [`Fen::MAX`]. Every server check and every phone check goes through
    /// here or through [`Fen::parse_yuan`], which applies the same bound.
    pub fn check(fen: i64) -> Result<Fen, &'static str> {
        if fen < 0 {
            Err("金额不能为负数")
        } else if fen > Fen::MAX.0 {
            Err(Fen::TOO_LARGE)
        } else {
            Ok(Fen(fen))
        }
    }

    /// A stored amount as figures and sums count it: within 0 ..= MAX. A
    /// record stored before the bound existed, or written around the
    /// services, then can neither overflow a sum nor vanish from it: it
    /// counts as 1 亿元, which stands out in any table and leads to its
    /// household, where it can be corrected.
    pub fn counted(stored: i64) -> Fen {
        Fen(stored.clamp(0, Fen::MAX.0))
    }

    /// `self + other`, saturating instead of overflowing.
    pub fn saturating_add(self, other: Fen) -> Fen {
        Fen(self.0.saturating_add(other.0))
    }
}

/// Sums add up in i128 and saturate into i64: no count of stored amounts,
/// however large, makes a total panic or wrap.
impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(saturate(iter.map(|f| i128::from(f.0)).sum()))
    }
}

/// An exact wide sum brought back into i64, saturating at its ends.
pub fn saturate(wide: i128) -> i64 {
    i64::try_from(wide).unwrap_or(if wide < 0 { i64::MIN } else { i64::MAX })
}

impl Fen {
    /// Reads an amount typed in 元 exactly, without floating point:
    /// `1234`, `1,234.5`, `0.05`, `12.30元`. At most two decimals.
    pub fn parse_yuan(text: &str) -> Result<Fen, &'static str> {
        let cleaned: String = text
            .trim()
            .trim_end_matches('元')
            .chars()
            .filter(|c| !matches!(c, ',' | '，' | ' '))
            .collect();
        if cleaned.is_empty() {
            return Err("请填写金额");
        }
        let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
            return Err("金额只能包含数字和小数点");
        }
        if frac.len() > 2 {
            return Err("金额最多两位小数（精确到分）");
        }
        if whole.trim_start_matches('0').len() > 10 {
            return Err(Fen::TOO_LARGE);
        }
        let yuan: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| Fen::TOO_LARGE)?
        };
        let fen: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
        // Ten digits of 元 fit i64 in fen; the bound is checked on the fen.
        Fen::check(yuan * 100 + fen)
    }

    /// The amount as one would type it: `1234.50`, no separators.
    pub fn to_input(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// `12,345.60`: yuan with two decimals and thousands separators.
impl std::fmt::Display for Fen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}{grouped}.{:02}", abs % 100)
    }
}

/// The calendar date in China (UTC+8, no daylight saving) at an instant:
/// statistics years and pay dates are Chinese dates, whatever the
/// server's or phone's own time zone.
pub fn china_date(at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    china_time(at).date_naive()
}

/// An instant as the clock reads in China (UTC+8, no daylight saving).
pub fn china_time(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::FixedOffset> {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    at.with_timezone(&china)
}

/// The income statistics year: year N runs 1 Oct N-1 to 30 Sep N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StatYear(pub i32);

impl StatYear {
    pub fn containing(date: NaiveDate) -> StatYear {
        if date.month() >= 10 {
            StatYear(date.year() + 1)
        } else {
            StatYear(date.year())
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 - 1, 10, 1).expect("valid date")
    }

    pub fn last_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 9, 30).expect("valid date")
    }

    pub fn label(self) -> String {
        format!("{}年度（{}—{}）", self.0, self.first_day(), self.last_day())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_yuan_are_read_exactly() {
        assert_eq!(Fen::parse_yuan("1234"), Ok(Fen(123_400)));
        assert_eq!(Fen::parse_yuan(" 1,234.5 "), Ok(Fen(123_450)));
        assert_eq!(Fen::parse_yuan("0.05"), Ok(Fen(5)));
        assert_eq!(Fen::parse_yuan(".5"), Ok(Fen(50)));
        assert_eq!(Fen::parse_yuan("12.30元"), Ok(Fen(1_230)));
        assert_eq!(Fen::parse_yuan("0.1").unwrap().to_input(), "0.10");
        assert!(Fen::parse_yuan("").is_err());
        assert!(Fen::parse_yuan("1.234").is_err());
        assert!(Fen::parse_yuan("-5").is_err());
        assert!(Fen::parse_yuan("1e3").is_err());
        assert!(Fen::parse_yuan(".").is_err());
        assert!(Fen::parse_yuan("99999999999").is_err());
    }

    #[test]
    fn one_bound_holds_for_typed_sent_and_stored_amounts() {
        // The message spells out the constant: 1 亿元 is 10^10 fen.
        assert_eq!(Fen::MAX.0 / 100, 100_000_000);
        assert!(Fen::TOO_LARGE.contains("1亿元"));
        assert_eq!(Fen::parse_yuan("100000000"), Ok(Fen::MAX));
        assert_eq!(Fen::parse_yuan("1,0000,0000.00元"), Ok(Fen::MAX));
        assert_eq!(Fen::parse_yuan("100000000.01"), Err(Fen::TOO_LARGE));
        assert_eq!(Fen::parse_yuan("9999999999.99"), Err(Fen::TOO_LARGE));
        assert_eq!(Fen::parse_yuan("92233720368547758.07"), Err(Fen::TOO_LARGE));
        assert_eq!(Fen::parse_yuan("0000000000000000012.5"), Ok(Fen(1_250)));
        assert_eq!(Fen::check(Fen::MAX.0), Ok(Fen::MAX));
        assert_eq!(Fen::check(0), Ok(Fen(0)));
        assert_eq!(Fen::check(Fen::MAX.0 + 1), Err(Fen::TOO_LARGE));
        assert_eq!(Fen::check(i64::MAX), Err(Fen::TOO_LARGE));
        assert!(Fen::check(-1).is_err() && Fen::check(i64::MIN).is_err());
        assert_eq!(Fen::counted(i64::MAX), Fen::MAX);
        assert_eq!(Fen::counted(-5), Fen(0));
        assert_eq!(Fen::counted(123), Fen(123));
    }

    #[test]
    fn sums_of_fen_saturate_instead_of_overflowing() {
        assert_eq!(
            [Fen(i64::MAX), Fen(i64::MAX)].into_iter().sum::<Fen>(),
            Fen(i64::MAX)
        );
        assert_eq!(
            [Fen(i64::MIN), Fen(-1)].into_iter().sum::<Fen>(),
            Fen(i64::MIN)
        );
        // Exact while the total fits, whatever the order of the terms.
        assert_eq!(
            [Fen(i64::MAX), Fen(1), Fen(-2)].into_iter().sum::<Fen>(),
            Fen(i64::MAX - 1)
        );
        assert_eq!(Fen(i64::MAX).saturating_add(Fen(1)), Fen(i64::MAX));
        assert_eq!(Fen(i64::MAX).to_string(), "92,233,720,368,547,758.07");
        assert_eq!(Fen(i64::MIN).to_string(), "-92,233,720,368,547,758.08");
    }

    #[test]
    fn default_catalogue_parses_and_covers_the_notice() {
        let items = parse_catalogue(super::super::DEFAULT_CATALOGUE_TSV).unwrap();
        assert!(items.len() >= 25);
        let dibao = items.iter().find(|i| i.name == "农村低保").unwrap();
        assert_eq!(dibao.bucket, IncomeBucket::Transfer);
        let machinery = items.iter().find(|i| i.code == "farm_machinery").unwrap();
        assert_eq!(machinery.bucket, IncomeBucket::BusinessCost);
        assert!(!machinery.counts_as_income);
    }

    #[test]
    fn catalogue_errors_name_line_and_field() {
        let err = parse_catalogue("a\tb\twages\ttrue\tcash\n").unwrap_err();
        assert!(err.contains("第1行") && err.contains("收入类别"), "{err}");
        let err = parse_catalogue("# header\na\tb\twage\tyes\tcash\n").unwrap_err();
        assert!(err.contains("第2行") && err.contains("计入收入"), "{err}");
    }

    #[test]
    fn statistics_year_runs_october_to_september() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(StatYear::containing(d(2022, 10, 1)), StatYear(2023));
        assert_eq!(StatYear::containing(d(2023, 9, 30)), StatYear(2023));
        assert_eq!(StatYear::containing(d(2023, 10, 1)), StatYear(2024));
        assert_eq!(StatYear(2023).first_day(), d(2022, 10, 1));
        assert_eq!(StatYear(2023).last_day(), d(2023, 9, 30));
    }

    #[test]
    fn fen_displays_as_yuan() {
        assert_eq!(Fen(0).to_string(), "0.00");
        assert_eq!(Fen(5).to_string(), "0.05");
        assert_eq!(Fen(123_456_789).to_string(), "1,234,567.89");
        assert_eq!(Fen(-100_050).to_string(), "-1,000.50");
        assert_eq!(Fen(150_000).yuan().to_string(), "1500.00");
    }
}
