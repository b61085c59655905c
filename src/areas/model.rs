use serde::{Deserialize, Serialize};

/// A level of the administrative tree, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AreaLevel {
    Province,
    City,
    County,
    Township,
    Village,
}

impl AreaLevel {
    /// How many leading digits of the 12-digit code identify a node of this level.
    pub fn prefix_len(self) -> usize {
        match self {
            AreaLevel::Province => 2,
            AreaLevel::City => 4,
            AreaLevel::County => 6,
            AreaLevel::Township => 9,
            AreaLevel::Village => 12,
        }
    }

    pub fn child(self) -> Option<AreaLevel> {
        match self {
            AreaLevel::Province => Some(AreaLevel::City),
            AreaLevel::City => Some(AreaLevel::County),
            AreaLevel::County => Some(AreaLevel::Township),
            AreaLevel::Township => Some(AreaLevel::Village),
            AreaLevel::Village => None,
        }
    }

    pub fn as_i32(self) -> i32 {
        self as i32 + 1
    }

    pub fn label(self) -> &'static str {
        match self {
            AreaLevel::Province => "省",
            AreaLevel::City => "市州",
            AreaLevel::County => "县区",
            AreaLevel::Township => "乡镇",
            AreaLevel::Village => "村",
        }
    }
}

/// A validated 12-digit statistical area code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("区划代码应为12位数字，收到“{s}”"));
        }
        if &s[..2] == "00" {
            return Err(format!("区划代码“{s}”的省级部分不能为00"));
        }
        let code = AreaCode(s.to_owned());
        // A lower part may only be set when every higher part is set, or the
        // code names no node (e.g. 620000000001).
        let level = code.level();
        if s[level.prefix_len()..].bytes().any(|b| b != b'0') {
            return Err(format!("区划代码“{s}”层级不完整"));
        }
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level, read from the first zero part from the top.
    pub fn level(&self) -> AreaLevel {
        let s = self.0.as_bytes();
        let zero = |r: std::ops::Range<usize>| s[r].iter().all(|&b| b == b'0');
        if zero(2..4) {
            AreaLevel::Province
        } else if zero(4..6) {
            AreaLevel::City
        } else if zero(6..9) {
            AreaLevel::County
        } else if zero(9..12) {
            AreaLevel::Township
        } else {
            AreaLevel::Village
        }
    }

    /// The significant digits: every code below this node starts with them.
    pub fn scope_prefix(&self) -> &str {
        &self.0[..self.level().prefix_len()]
    }

    /// Whether `other` is this node or lies below it.
    pub fn contains(&self, other: &AreaCode) -> bool {
        other.0.starts_with(self.scope_prefix())
    }

    /// The inclusive code range covering this node's subtree, for indexed
    /// range scans (`code BETWEEN lo AND hi`).
    pub fn subtree_range(&self) -> (String, String) {
        let p = self.scope_prefix();
        (format!("{p:0<12}"), format!("{p:9<12}"))
    }

    pub fn parent(&self) -> Option<AreaCode> {
        let len = match self.level() {
            AreaLevel::Province => return None,
            AreaLevel::City => 2,
            AreaLevel::County => 4,
            AreaLevel::Township => 6,
            AreaLevel::Village => 9,
        };
        Some(AreaCode(format!("{:0<12}", &self.0[..len])))
    }
}

impl TryFrom<String> for AreaCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        AreaCode::parse(&s)
    }
}

impl From<AreaCode> for String {
    fn from(c: AreaCode) -> String {
        c.0
    }
}

impl std::fmt::Display for AreaCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One node of the area tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub code: AreaCode,
    pub name: String,
}

impl Area {
    pub fn level(&self) -> AreaLevel {
        self.code.level()
    }
}

/// A child area with the household figures a supervisor scans first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaSummary {
    pub area: Area,
    pub households: i64,
    pub monitored: i64,
    pub unassigned: i64,
    /// Households with at least one visit in the statistics year shown.
    pub visited: i64,
}

impl AreaSummary {
    pub fn not_visited(&self) -> i64 {
        self.households - self.visited
    }

    /// Whole per cent visited, rounded down: 100 only when every household is.
    pub fn percent_visited(&self) -> i64 {
        percent(self.visited, self.households)
    }
}

/// `part` of `whole` in whole per cent, rounded down (0 for an empty whole),
/// so a bar never shows done before it is.
pub fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    // In i128: a province's fen times 100 leaves i64 behind.
    crate::subsidies::saturate(i128::from(part) * 100 / i128::from(whole))
}

/// An area page: where we are, how we got here, what lies below, and how
/// far the year's visits have come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaOverview {
    pub area: Area,
    /// From the caller's own node down to (not including) `area`.
    pub breadcrumbs: Vec<Area>,
    pub children: Vec<AreaSummary>,
    pub total: AreaSummary,
    /// The statistics year whose visits are counted (the one containing today).
    pub stat_year: i32,
    /// Days from today (China time) to 30 September, the visiting deadline.
    pub days_left: i64,
    /// For a township (or a village): the dashboard a supervisor works from.
    pub township: Option<TownshipDetail>,
    /// Whether the caller may import rosters here (their own area, county
    /// office or above).
    pub may_import: bool,
}

/// What a township supervisor needs beyond the village counts: who is
/// behind, which households are still waiting, and what just came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TownshipDetail {
    pub workers: Vec<WorkerProgress>,
    /// The first households not yet visited this year, by village and number.
    pub unvisited: Vec<UnvisitedHousehold>,
    pub recent: Vec<RecentVisit>,
}

/// A field worker's caseload in the area and how much of it is visited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerProgress {
    pub worker_id: uuid::Uuid,
    pub name: String,
    pub households: i64,
    pub visited: i64,
}

impl WorkerProgress {
    pub fn percent_visited(&self) -> i64 {
        percent(self.visited, self.households)
    }
}

/// A household with no visit yet this statistics year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnvisitedHousehold {
    pub id: uuid::Uuid,
    pub number: String,
    pub head_name: String,
    pub village: String,
    /// `None` while nobody (active) is assigned: the household waits.
    pub worker: Option<String>,
}

/// A visit as the supervisor's "newest" list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentVisit {
    pub visit_id: uuid::Uuid,
    pub household_id: uuid::Uuid,
    pub head_name: String,
    pub village: String,
    pub worker: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Lines where the household got less than expected or nothing.
    pub shortfalls: i64,
    /// Lines whose payment was not due yet at the visit.
    pub not_due_yet: i64,
    pub lines: i64,
}

/// What a visit's lines came to, in the words of its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitVerdict {
    Shortfalls(i64),
    /// Nothing was due yet: nothing was confirmed paid.
    NothingDueYet,
    /// Every line due was paid in full; `later` more are not due yet.
    Paid {
        later: i64,
    },
}

impl RecentVisit {
    pub fn verdict(&self) -> VisitVerdict {
        if self.shortfalls > 0 {
            VisitVerdict::Shortfalls(self.shortfalls)
        } else if self.not_due_yet >= self.lines {
            VisitVerdict::NothingDueYet
        } else {
            VisitVerdict::Paid {
                later: self.not_due_yet,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_with_nothing_due_is_not_called_all_paid() {
        let v = |shortfalls, not_due_yet, lines| RecentVisit {
            visit_id: uuid::Uuid::nil(),
            household_id: uuid::Uuid::nil(),
            head_name: String::new(),
            village: String::new(),
            worker: String::new(),
            started_at: chrono::Utc::now(),
            shortfalls,
            not_due_yet,
            lines,
        };
        assert_eq!(v(0, 3, 3).verdict(), VisitVerdict::NothingDueYet);
        assert_eq!(v(0, 0, 0).verdict(), VisitVerdict::NothingDueYet);
        assert_eq!(v(1, 2, 3).verdict(), VisitVerdict::Shortfalls(1));
        assert_eq!(v(0, 1, 3).verdict(), VisitVerdict::Paid { later: 1 });
        assert_eq!(v(0, 0, 3).verdict(), VisitVerdict::Paid { later: 0 });
    }

    #[test]
    fn percent_rounds_down_and_survives_an_empty_area() {
        assert_eq!(percent(0, 0), 0);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(299, 300), 99);
        assert_eq!(percent(300, 300), 100);
        // Amounts of a whole province, and beyond what i64 can multiply.
        assert_eq!(percent(i64::MAX / 2, i64::MAX), 49);
        assert_eq!(percent(i64::MAX, 1), i64::MAX);
    }

    #[test]
    fn level_is_read_from_the_first_zero_part() {
        let l = |s| AreaCode::parse(s).unwrap().level();
        assert_eq!(l("620000000000"), AreaLevel::Province);
        assert_eq!(l("621100000000"), AreaLevel::City);
        assert_eq!(l("621102000000"), AreaLevel::County);
        assert_eq!(l("621102100000"), AreaLevel::Township);
        assert_eq!(l("621102100201"), AreaLevel::Village);
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in [
            "62110210020",
            "6211021002011",
            "62110210020a",
            "000000000000",
            "620000000001",
        ] {
            assert!(AreaCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn a_node_contains_its_subtree_and_nothing_beside_it() {
        let township = AreaCode::parse("621102100000").unwrap();
        let own_village = AreaCode::parse("621102100201").unwrap();
        let other_village = AreaCode::parse("621102200201").unwrap();
        assert!(township.contains(&own_village));
        assert!(township.contains(&township));
        assert!(!township.contains(&other_village));
        assert!(!own_village.contains(&township));
        assert_eq!(
            township.subtree_range(),
            ("621102100000".into(), "621102100999".into())
        );
    }

    #[test]
    fn parent_climbs_one_level() {
        let v = AreaCode::parse("621102100201").unwrap();
        assert_eq!(v.parent().unwrap().as_str(), "621102100000");
        assert_eq!(
            v.parent().unwrap().parent().unwrap().as_str(),
            "621102000000"
        );
        assert!(AreaCode::parse("620000000000").unwrap().parent().is_none());
    }
}
