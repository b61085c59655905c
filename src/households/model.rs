use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::areas::Area;
use crate::households::id_number::Sex;
use crate::subsidies::{Channel, Fen, IncomeBucket, StatYear};
use crate::visits::{Location, PaymentStatus, ReviewEntry, ReviewState, ShortfallReason};

/// 脱贫户 or 监测户 (with its kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    /// 脱贫户: lifted out of poverty 2013–2020.
    Alleviated,
    /// 监测户: under monitoring for the risk of (re)turning to poverty.
    Monitored(MonitoringKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MonitoringKind {
    /// 脱贫不稳定户
    UnstableAlleviated,
    /// 边缘易致贫户
    Marginal,
    /// 突发严重困难户
    SuddenHardship,
}

impl MonitoringKind {
    pub const ALL: [MonitoringKind; 3] = [
        MonitoringKind::UnstableAlleviated,
        MonitoringKind::Marginal,
        MonitoringKind::SuddenHardship,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MonitoringKind::UnstableAlleviated => "unstable_alleviated",
            MonitoringKind::Marginal => "marginal",
            MonitoringKind::SuddenHardship => "sudden_hardship",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        MonitoringKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            MonitoringKind::UnstableAlleviated => "脱贫不稳定户",
            MonitoringKind::Marginal => "边缘易致贫户",
            MonitoringKind::SuddenHardship => "突发严重困难户",
        }
    }
}

impl Category {
    /// Database form: (`alleviated` | `monitored`, kind).
    pub fn to_columns(self) -> (&'static str, Option<&'static str>) {
        match self {
            Category::Alleviated => ("alleviated", None),
            Category::Monitored(k) => ("monitored", Some(k.as_str())),
        }
    }

    pub fn from_columns(category: &str, kind: Option<&str>) -> Option<Self> {
        match (category, kind) {
            ("alleviated", None) => Some(Category::Alleviated),
            ("monitored", Some(k)) => MonitoringKind::parse(k).map(Category::Monitored),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Alleviated => "脱贫户",
            Category::Monitored(_) => "监测户",
        }
    }

    pub fn is_monitored(self) -> bool {
        matches!(self, Category::Monitored(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LabourStatus {
    /// 普通劳动力
    Full,
    /// 弱劳动力或半劳动力
    Weak,
    /// 丧失劳动力
    Lost,
    /// 无劳动力 (children, students, the very old)
    None,
}

impl LabourStatus {
    pub const ALL: [LabourStatus; 4] = [
        LabourStatus::Full,
        LabourStatus::Weak,
        LabourStatus::Lost,
        LabourStatus::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LabourStatus::Full => "full",
            LabourStatus::Weak => "weak",
            LabourStatus::Lost => "lost",
            LabourStatus::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        LabourStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            LabourStatus::Full => "普通劳动力",
            LabourStatus::Weak => "弱劳动力",
            LabourStatus::Lost => "丧失劳动力",
            LabourStatus::None => "无劳动力",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HealthStatus {
    Healthy,
    /// 长期慢性病
    Chronic,
    /// 患有大病
    Serious,
    /// 残疾
    Disabled,
}

impl HealthStatus {
    pub const ALL: [HealthStatus; 4] = [
        HealthStatus::Healthy,
        HealthStatus::Chronic,
        HealthStatus::Serious,
        HealthStatus::Disabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Chronic => "chronic",
            HealthStatus::Serious => "serious",
            HealthStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        HealthStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "健康",
            HealthStatus::Chronic => "长期慢性病",
            HealthStatus::Serious => "患有大病",
            HealthStatus::Disabled => "残疾",
        }
    }
}

/// A line of the household list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdSummary {
    pub id: Uuid,
    /// 户编号
    pub number: String,
    pub head_name: String,
    pub category: Category,
    pub relocated: bool,
    pub village: Area,
    pub size: i64,
    /// Risk signals of the household's income account (一户一策 and income).
    #[serde(default)]
    pub flags: crate::income::Flags,
}

/// One page of a household search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdPage {
    pub households: Vec<HouseholdSummary>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
    /// What a drill-down from the dispatch table limits the list to.
    pub payment_note: Option<String>,
}

/// A member as shown to users: the ID number arrives masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub name: String,
    /// 与户主关系
    pub relation: String,
    pub id_number_masked: String,
    /// Read from the ID number; `None` if a stored number no longer parses.
    pub sex: Option<Sex>,
    /// Whole years on the day the page or roster was made. Never the birth
    /// date: its eight digits are exactly the ones the mask hides, so with
    /// the masked number they would rebuild the whole ID (the check digit
    /// confirms the guess). An age leaves ~33 candidates.
    #[serde(default)]
    pub age: Option<u32>,
    pub labour: LabourStatus,
    pub health: HealthStatus,
}

/// One expected payment of the statistics year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementView {
    pub id: Uuid,
    pub item_code: String,
    pub item_name: String,
    pub bucket: IncomeBucket,
    pub expected: Fen,
    pub expected_date: NaiveDate,
    /// 发放部门
    pub department: String,
    pub channel: Channel,
}

/// Everything the household page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdDetail {
    pub summary: HouseholdSummary,
    pub phone_masked: Option<String>,
    pub worker_name: Option<String>,
    pub members: Vec<MemberView>,
    pub year: StatYear,
    pub entitlements: Vec<EntitlementView>,
    /// Newest first.
    pub visits: Vec<VisitView>,
    /// Visited by more than one worker this year: a supervisor reconciles.
    pub visits_disagree: bool,
    /// The caller supervises this household and may review its visits.
    pub may_review: bool,
}

/// A stored visit as the household page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitView {
    pub id: Uuid,
    pub worker_name: String,
    /// Local (China Standard Time) start, `2027-03-01 10:00`.
    pub started_local: String,
    pub minutes: i64,
    pub met_with: String,
    pub notes: String,
    pub location: Location,
    pub signer_name: String,
    pub signer_relation: String,
    pub thumbprint: bool,
    pub proxy_reason: Option<String>,
    pub receipt_code: String,
    /// `data:image/png;base64,…`
    pub signature_data_url: String,
    pub lines: Vec<VisitLineView>,
    /// Income the household declared during the visit.
    pub income: Vec<VisitIncomeView>,
    /// Where the supervisor's review stands, and how it got there (oldest first).
    pub review: ReviewState,
    pub reviews: Vec<ReviewEntry>,
    /// Signals of a made-up visit (shown to those who oversee).
    pub signals: Vec<crate::signals::SignalTag>,
}

/// One verification line with the item it checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitLineView {
    pub item_name: String,
    pub expected: Fen,
    pub status: PaymentStatus,
    pub received: Option<Fen>,
    pub received_on: Option<NaiveDate>,
    pub channel: Option<Channel>,
    pub reason: Option<ShortfallReason>,
    pub reason_text: String,
    /// The line's evidence photo, if the worker took one.
    pub evidence_href: Option<String>,
}

/// One declared income figure of a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitIncomeView {
    pub kind: crate::income::IncomeKind,
    pub amount: Fen,
    pub note: String,
    pub evidence_href: Option<String>,
}

impl HouseholdDetail {
    pub fn expected_total(&self) -> Fen {
        self.entitlements.iter().map(|e| e.expected).sum()
    }
}

/// What an assignment did: how many households changed hands (0 when they
/// were all the worker's already).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assigned {
    pub changed: u64,
}
