use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};

/// Who may import: the county offices and above, for their own area.
pub fn may_import(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Role::CountyAdmin | Role::CityAdmin | Role::ProvinceAdmin
    )
}

/// Which roster a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RosterKind {
    /// 农户及家庭成员: one row per member.
    Households,
    /// 应发补贴: one row per household, item and statistics year.
    Entitlements,
    /// 部门发放名单: a paying department's disbursement list, one row per
    /// payment, matched against what was due and received (三方比对).
    Payouts,
}

impl RosterKind {
    pub const ALL: [RosterKind; 3] = [
        RosterKind::Households,
        RosterKind::Entitlements,
        RosterKind::Payouts,
    ];

    /// Stable name used in URLs and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            RosterKind::Households => "households",
            RosterKind::Entitlements => "entitlements",
            RosterKind::Payouts => "payouts",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        RosterKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            RosterKind::Households => "农户及家庭成员",
            RosterKind::Entitlements => "应发补贴",
            RosterKind::Payouts => "部门发放名单",
        }
    }

    /// The file's columns, in template order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            RosterKind::Households => &HOUSEHOLD_COLUMNS,
            RosterKind::Entitlements => &ENTITLEMENT_COLUMNS,
            RosterKind::Payouts => &PAYOUT_COLUMNS,
        }
    }

    /// What the template's file is called.
    pub fn template_name(self) -> String {
        format!("到户导入模板-{}", self.label())
    }
}

/// One column of an import file: its header, whether a value is required
/// and what it must hold (shown in the template and on the import page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub header: &'static str,
    pub required: bool,
    pub rule: &'static str,
    pub example: &'static str,
}

pub const HOUSEHOLD_COLUMNS: [Column; 12] = [
    Column {
        header: "户编号",
        required: true,
        rule: "每户唯一；同一户的每名成员各占一行，户编号相同",
        example: "62110210020100001",
    },
    Column {
        header: "所在村代码",
        required: true,
        rule: "12位行政区划代码，须是本辖区内的村",
        example: "621102100201",
    },
    Column {
        header: "户主姓名",
        required: true,
        rule: "与「与户主关系」为“户主”的成员姓名一致",
        example: "张建国",
    },
    Column {
        header: "户类型",
        required: true,
        rule: "脱贫户 或 监测户",
        example: "监测户",
    },
    Column {
        header: "监测类型",
        required: false,
        rule: "监测户必填：脱贫不稳定户、边缘易致贫户、突发严重困难户；脱贫户留空",
        example: "边缘易致贫户",
    },
    Column {
        header: "易地搬迁",
        required: false,
        rule: "是 或 否（留空即否）",
        example: "否",
    },
    Column {
        header: "联系电话",
        required: false,
        rule: "手机或固定电话，只含数字和“-”",
        example: "13800000000",
    },
    Column {
        header: "成员姓名",
        required: true,
        rule: "",
        example: "张建国",
    },
    Column {
        header: "与户主关系",
        required: true,
        rule: "每户有且只有一名“户主”；其他如配偶、子、女、父亲、母亲、孙子",
        example: "户主",
    },
    Column {
        header: "身份证号",
        required: true,
        rule: "18位，校验位正确；Excel 中请设为文本格式",
        example: "11010519491231002X",
    },
    Column {
        header: "劳动能力",
        required: true,
        rule: "普通劳动力、弱劳动力、丧失劳动力、无劳动力",
        example: "普通劳动力",
    },
    Column {
        header: "健康状况",
        required: true,
        rule: "健康、长期慢性病、患有大病、残疾",
        example: "健康",
    },
];

pub const ENTITLEMENT_COLUMNS: [Column; 7] = [
    Column {
        header: "户编号",
        required: true,
        rule: "已导入的本辖区农户",
        example: "62110210020100001",
    },
    Column {
        header: "补贴项目",
        required: true,
        rule: "补贴目录中的项目名称或代码",
        example: "农村低保",
    },
    Column {
        header: "统计年度",
        required: true,
        rule: "如 2026 表示 2025-10-01 至 2026-09-30",
        example: "2026",
    },
    Column {
        header: "应发金额（元）",
        required: true,
        rule: "大于0，最多两位小数",
        example: "3600.00",
    },
    Column {
        header: "应发日期",
        required: true,
        rule: "YYYY-MM-DD，须在统计年度内",
        example: "2026-03-31",
    },
    Column {
        header: "发放部门",
        required: true,
        rule: "",
        example: "县民政局",
    },
    Column {
        header: "发放渠道",
        required: false,
        rule: "一卡通、银行转账、现金、实物、代缴（留空取该项目的默认渠道）",
        example: "一卡通",
    },
];

pub const PAYOUT_COLUMNS: [Column; 8] = [
    Column {
        header: "户编号",
        required: false,
        rule: "与「身份证号」至少填一项；填了户编号即按户编号对应农户",
        example: "62110210020100001",
    },
    Column {
        header: "身份证号",
        required: false,
        rule: "收款人身份证号（18位，可为户内任一成员）；与户编号同填时须属于该户",
        example: "11010519491231002X",
    },
    Column {
        header: "补贴项目",
        required: true,
        rule: "补贴目录中的项目名称或代码",
        example: "农村低保",
    },
    Column {
        header: "发放金额（元）",
        required: true,
        rule: "大于0，最多两位小数；按月发放的每月一行，同户同项目同年度的各行相加。同户同项目同年度以最后导入的名单为准：每次请导入该年度截至目前的全部发放",
        example: "300.00",
    },
    Column {
        header: "发放日期",
        required: true,
        rule: "YYYY-MM-DD，不晚于今天；按日期归入统计年度（10月1日至次年9月30日）",
        example: "2026-03-15",
    },
    Column {
        header: "统计年度",
        required: false,
        rule: "这笔发放属于哪个统计年度，如 2026 表示 2025-10-01 至 2026-09-30；留空（或无此列）按发放日期所在年度",
        example: "2026",
    },
    Column {
        header: "发放部门",
        required: true,
        rule: "",
        example: "县民政局",
    },
    Column {
        header: "收款账号",
        required: false,
        rule: "可留空或脱敏（如 6228********1234）；只保存末4位",
        example: "6228********1234",
    },
];

/// One thing wrong with an import file, located as a person finds it in
/// Excel: the file, the row number Excel shows (the header is row 1; 0 means
/// the file as a whole) and the column's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub file: String,
    pub row: u32,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if self.row > 0 {
            write!(f, " 第{}行", self.row)?;
        }
        if !self.column.is_empty() {
            write!(f, "「{}」", self.column)?;
        }
        write!(f, "：{}", self.reason)
    }
}

/// What an import wrote (or, re-imported unchanged, did not need to).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Data rows read from the file.
    pub rows: u32,
    /// Households (or payments due) that were not there before.
    pub added: u32,
    /// Already there with other values, now updated.
    pub changed: u32,
    /// Already there exactly as in the file: nothing written.
    pub unchanged: u32,
    /// Payout files: rows naming no household of the importer's area (a
    /// department pays many people besides the roster's): not matched.
    #[serde(default)]
    pub skipped: u32,
}

/// Where an import is; `done` of `total` counts rows in the checking and
/// writing phases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportPhase {
    /// Waiting for another import to finish: imports write one at a time.
    Queued,
    Reading,
    Checking,
    Writing,
    Done(ImportReport),
    /// The file was refused: nothing was written. `problems` holds the first
    /// [`MAX_PROBLEMS_SHOWN`], `total` counts them all.
    Refused {
        problems: Vec<Problem>,
        total: u32,
    },
    /// The server failed (logged); nothing was written.
    Failed(String),
}

impl ImportPhase {
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            ImportPhase::Done(_) | ImportPhase::Refused { .. } | ImportPhase::Failed(_)
        )
    }

    pub fn label(&self) -> &'static str {
        match self {
            ImportPhase::Queued => "排队中：另一份文件正在导入",
            ImportPhase::Reading => "正在读取文件",
            ImportPhase::Checking => "正在逐行检查",
            ImportPhase::Writing => "正在写入",
            ImportPhase::Done(_) => "导入完成",
            ImportPhase::Refused { .. } => "未导入：文件有问题",
            ImportPhase::Failed(_) => "未导入：服务器出错",
        }
    }
}

/// How many problems are listed; the rest are counted.
pub const MAX_PROBLEMS_SHOWN: usize = 500;

/// An import as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub id: Uuid,
    pub kind: RosterKind,
    pub file: String,
    /// The area the import was checked against (the importer's).
    pub area_name: String,
    pub area_code: String,
    pub phase: ImportPhase,
    pub done: u32,
    pub total: u32,
    /// Time since the upload (or to the finish), in milliseconds.
    pub elapsed_ms: u64,
}

impl ImportJob {
    /// Whole percent of the current phase, for the progress bar.
    pub fn percent(&self) -> u32 {
        if self.phase.is_finished() {
            100
        } else if self.total == 0 {
            0
        } else {
            (u64::from(self.done) * 100 / u64::from(self.total)) as u32
        }
    }
}

/// The import page: one upload form per kind.
pub const IMPORT_PATH: &str = "/roster/import";
/// Where the forms post the file.
pub const UPLOAD_PATH: &str = "/roster/upload";

/// The page following one import.
pub fn job_href(id: Uuid) -> String {
    format!("{IMPORT_PATH}/{id}")
}

/// The downloadable template for a kind, as .xlsx or .csv.
pub fn template_href(kind: RosterKind, extension: &str) -> String {
    format!("/roster/template/{}.{extension}", kind.as_str())
}
