//! The rules for signals of fabricated visits, as pure functions over a
//! visit and what it is compared with; the thresholds are data.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::visits::hex;

/// What makes a visit look made up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SignalKind {
    /// From the form's start to the signature in less than the minimum.
    ShortVisit,
    /// No position: refused, or none to be had.
    NoLocation,
    /// A position too coarse to place the visit.
    PoorAccuracy,
    /// Far from where the village's other visits were made.
    FarFromVillage,
    /// More visits by one worker within an hour than can be made.
    ManyPerHour,
    /// Two villages in a row faster than one can travel between them.
    TooFastTravel,
    /// The same signature (by its shape) on another household's visit.
    SameSignature,
    /// A signature of implausibly few points.
    FewPoints,
    /// The same photo on another household's visit.
    SamePhoto,
    /// The household made smaller in a way that lifts it over the line.
    SizeLowered,
    /// Entered at night.
    Night,
}

impl SignalKind {
    pub const ALL: [SignalKind; 11] = [
        SignalKind::ShortVisit,
        SignalKind::NoLocation,
        SignalKind::PoorAccuracy,
        SignalKind::FarFromVillage,
        SignalKind::ManyPerHour,
        SignalKind::TooFastTravel,
        SignalKind::SameSignature,
        SignalKind::FewPoints,
        SignalKind::SamePhoto,
        SignalKind::SizeLowered,
        SignalKind::Night,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::ShortVisit => "short_visit",
            SignalKind::NoLocation => "no_location",
            SignalKind::PoorAccuracy => "poor_accuracy",
            SignalKind::FarFromVillage => "far_from_village",
            SignalKind::ManyPerHour => "many_per_hour",
            SignalKind::TooFastTravel => "too_fast_travel",
            SignalKind::SameSignature => "same_signature",
            SignalKind::FewPoints => "few_points",
            SignalKind::SamePhoto => "same_photo",
            SignalKind::SizeLowered => "size_lowered",
            SignalKind::Night => "night",
        }
    }

    pub fn parse(s: &str) -> Option<SignalKind> {
        SignalKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SignalKind::ShortVisit => "走访时间过短",
            SignalKind::NoLocation => "没有位置",
            SignalKind::PoorAccuracy => "位置精度差",
            SignalKind::FarFromVillage => "远离本村",
            SignalKind::ManyPerHour => "一小时内走访过多",
            SignalKind::TooFastTravel => "村间移动过快",
            SignalKind::SameSignature => "签名与他户相同",
            SignalKind::FewPoints => "签名笔画过少",
            SignalKind::SamePhoto => "照片与他户相同",
            SignalKind::SizeLowered => "减少人口后越过监测标准",
            SignalKind::Night => "夜间录入",
        }
    }
}

/// The thresholds, by name as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// A visit shorter than this, form start to signature, in minutes.
    pub min_minutes: i64,
    /// A position coarser than this, in metres.
    pub max_accuracy_m: i64,
    /// Farther than this from the village's median position, in metres.
    pub max_distance_m: i64,
    /// More visits than this by one worker within any hour.
    pub max_per_hour: i64,
    /// Faster than this between two villages, in km/h.
    pub max_speed_kmh: i64,
    /// Night starts at this hour (China time) …
    pub night_from: i64,
    /// … and ends at this one.
    pub night_until: i64,
    /// A signature with fewer points than this.
    pub min_points: i64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            min_minutes: 3,
            max_accuracy_m: 200,
            max_distance_m: 3000,
            max_per_hour: 6,
            max_speed_kmh: 60,
            night_from: 22,
            night_until: 6,
            min_points: 10,
        }
    }
}

impl Thresholds {
    /// Every threshold: stored name, label, unit, and where it lives.
    pub const FIELDS: [(&'static str, &'static str, &'static str); 8] = [
        ("min_minutes", "走访最短时间", "分钟"),
        ("max_accuracy_m", "位置精度下限", "米"),
        ("max_distance_m", "离本村中心最远", "米"),
        ("max_per_hour", "每小时最多走访", "户"),
        ("max_speed_kmh", "村间移动最快", "公里/小时"),
        ("night_from", "夜间开始", "时"),
        ("night_until", "夜间结束", "时"),
        ("min_points", "签名最少点数", "点"),
    ];

    pub fn get(&self, name: &str) -> Option<i64> {
        Some(match name {
            "min_minutes" => self.min_minutes,
            "max_accuracy_m" => self.max_accuracy_m,
            "max_distance_m" => self.max_distance_m,
            "max_per_hour" => self.max_per_hour,
            "max_speed_kmh" => self.max_speed_kmh,
            "night_from" => self.night_from,
            "night_until" => self.night_until,
            "min_points" => self.min_points,
            _ => return None,
        })
    }

    /// Sets one threshold, if `value` is sensible for it.
    pub fn set(&mut self, name: &str, value: i64) -> Result<(), String> {
        let (range, slot) = match name {
            "min_minutes" => (0..=240, &mut self.min_minutes),
            "max_accuracy_m" => (1..=100_000, &mut self.max_accuracy_m),
            "max_distance_m" => (1..=1_000_000, &mut self.max_distance_m),
            "max_per_hour" => (1..=1000, &mut self.max_per_hour),
            "max_speed_kmh" => (1..=1000, &mut self.max_speed_kmh),
            "night_from" => (0..=23, &mut self.night_from),
            "night_until" => (0..=23, &mut self.night_until),
            "min_points" => (0..=10_000, &mut self.min_points),
            _ => return Err("未知的阈值".into()),
        };
        if !range.contains(&value) {
            return Err(format!("应在 {} 到 {} 之间", range.start(), range.end()));
        }
        *slot = value;
        Ok(())
    }

    /// Whether `hour` (0–23, China time) is at night; a night may wrap
    /// midnight (22 → 6) or not (0 → 5).
    pub fn is_night(&self, hour: i64) -> bool {
        if self.night_from == self.night_until {
            false
        } else if self.night_from < self.night_until {
            (self.night_from..self.night_until).contains(&hour)
        } else {
            hour >= self.night_from || hour < self.night_until
        }
    }
}

/// A position in micro-degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fix {
    pub lat_e6: i64,
    pub lon_e6: i64,
}

/// Great-circle distance in metres.
pub fn distance_m(a: Fix, b: Fix) -> f64 {
    let rad = |e6: i64| (e6 as f64 / 1e6).to_radians();
    let (la1, la2) = (rad(a.lat_e6), rad(b.lat_e6));
    let dlat = la2 - la1;
    let dlon = rad(b.lon_e6) - rad(a.lon_e6);
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().min(1.0).asin()
}

/// The median position of `fixes` (latitude and longitude each), or
/// `None` for none: one wrong visit cannot drag it, as a mean would.
pub fn median(fixes: &[Fix]) -> Option<Fix> {
    if fixes.is_empty() {
        return None;
    }
    let mid = |mut v: Vec<i64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    Some(Fix {
        lat_e6: mid(fixes.iter().map(|f| f.lat_e6).collect()),
        lon_e6: mid(fixes.iter().map(|f| f.lon_e6).collect()),
    })
}

/// The points of a signature's strokes (`[[[x, y, t], …], …]`).
pub fn strokes(strokes_json: &str) -> Vec<Vec<(i64, i64)>> {
    serde_json::from_str::<Vec<Vec<[i64; 3]>>>(strokes_json)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.into_iter().map(|[x, y, _]| (x, y)).collect())
        .collect()
}

/// Cells per side of the grid a signature's shape is drawn on.
const GRID: i64 = 24;

/// A signature's shape, whatever its position and size on the pad: every
/// point placed on a grid over the signature's own bounding box, repeats
/// dropped, in stroke order, hashed. A signature replayed elsewhere on the
/// pad or drawn larger gives the same print; another hand's does not.
pub fn fingerprint(strokes: &[Vec<(i64, i64)>]) -> Option<String> {
    let points = strokes.iter().flatten();
    let (min_x, max_x) = points.clone().fold((i64::MAX, i64::MIN), |(lo, hi), p| {
        (lo.min(p.0), hi.max(p.0))
    });
    let (min_y, max_y) = points.fold((i64::MAX, i64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let size = (max_x.checked_sub(min_x)?).max(max_y.checked_sub(min_y)?);
    if size <= 0 {
        return None;
    }
    let cell = |v: i64, lo: i64| {
        let scaled =
            (i128::from(v - lo) * i128::from(GRID) * 2 + i128::from(size)) / (2 * i128::from(size));
        scaled as i64
    };
    let mut text = String::new();
    for stroke in strokes {
        text.push('|');
        let mut last = None;
        for &(x, y) in stroke {
            let c = (cell(x, min_x), cell(y, min_y));
            if last != Some(c) {
                text.push_str(&format!("{},{};", c.0, c.1));
                last = Some(c);
            }
        }
    }
    Some(hex(&Sha256::digest(text.as_bytes())))
}

/// What one visit's signals are computed from.
#[derive(Debug, Clone, Default)]
pub struct VisitFacts {
    pub minutes: i64,
    /// `None`: no position; else the fix and its accuracy in metres.
    pub location: Option<(Fix, i64)>,
    pub refused_location: bool,
    /// The China hour the visit started in.
    pub hour: i64,
    pub signature_points: i64,
    /// Positions of the village's other visits this year.
    pub village_fixes: Vec<Fix>,
    /// The worker's other visits within an hour before or after this one:
    /// minutes from this one (negative: before), and village and position.
    pub worker_nearby: Vec<(i64, String, Option<Fix>)>,
    pub village: String,
    /// Other households' visits with the same signature shape, photo.
    pub same_signature: usize,
    pub same_photo: usize,
    /// Listed members, the size the visit confirmed, and the year's net
    /// income and threshold (fen), when known.
    pub members: i64,
    pub confirmed_size: Option<i64>,
    pub net_fen: Option<i64>,
    pub threshold_fen: Option<i64>,
}

/// Fewest other fixes a village needs before "far from it" means anything.
const MIN_VILLAGE_FIXES: usize = 3;

/// Every signal the facts trip, with the reason in words.
pub fn signals(f: &VisitFacts, t: &Thresholds) -> Vec<(SignalKind, String)> {
    let mut out = Vec::new();
    if f.minutes < t.min_minutes {
        out.push((
            SignalKind::ShortVisit,
            format!(
                "从开始到签字只用了 {} 分钟（不少于 {} 分钟）",
                f.minutes, t.min_minutes
            ),
        ));
    }
    match f.location {
        None => out.push((
            SignalKind::NoLocation,
            if f.refused_location {
                "没有记录位置：定位被拒绝".to_owned()
            } else {
                "没有记录位置：手机无法定位".to_owned()
            },
        )),
        Some((_, accuracy)) if accuracy > t.max_accuracy_m => out.push((
            SignalKind::PoorAccuracy,
            format!("定位精度 {accuracy} 米（应不超过 {} 米）", t.max_accuracy_m),
        )),
        Some((fix, _)) => {
            if f.village_fixes.len() >= MIN_VILLAGE_FIXES
                && let Some(centre) = median(&f.village_fixes)
            {
                let d = distance_m(fix, centre);
                if d > t.max_distance_m as f64 {
                    out.push((
                        SignalKind::FarFromVillage,
                        format!(
                            "离本村其他走访的中心 {:.1} 公里（不超过 {:.1} 公里）",
                            d / 1000.0,
                            t.max_distance_m as f64 / 1000.0
                        ),
                    ));
                }
            }
        }
    }
    // Any hour-long window around this visit holding too many of the
    // worker's visits (this one included).
    let mut times: Vec<i64> = f.worker_nearby.iter().map(|(m, _, _)| *m).collect();
    times.push(0);
    times.sort_unstable();
    let busiest = times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|m| **m >= *start && **m < *start + 60)
                .count()
        })
        .max()
        .unwrap_or(1) as i64;
    if busiest > t.max_per_hour {
        out.push((
            SignalKind::ManyPerHour,
            format!(
                "同一干部一小时内走访 {busiest} 户（不超过 {} 户）",
                t.max_per_hour
            ),
        ));
    }
    if let Some((fix, _)) = f.location {
        let fastest = f
            .worker_nearby
            .iter()
            .filter(|(_, village, _)| *village != f.village)
            .filter_map(|(minutes, _, other)| {
                let km = distance_m(fix, (*other)?) / 1000.0;
                let hours = (minutes.unsigned_abs().max(1)) as f64 / 60.0;
                Some(km / hours)
            })
            .fold(0.0f64, f64::max);
        if fastest > t.max_speed_kmh as f64 {
            out.push((
                SignalKind::TooFastTravel,
                format!(
                    "与另一村的走访之间需时速 {fastest:.0} 公里（不超过 {} 公里）",
                    t.max_speed_kmh
                ),
            ));
        }
    }
    if f.signature_points < t.min_points {
        out.push((
            SignalKind::FewPoints,
            format!(
                "签名只有 {} 个点（不少于 {} 个）",
                f.signature_points, t.min_points
            ),
        ));
    }
    if f.same_signature > 0 {
        out.push((
            SignalKind::SameSignature,
            format!("签名与另外 {} 户的走访签名相同", f.same_signature),
        ));
    }
    if f.same_photo > 0 {
        out.push((
            SignalKind::SamePhoto,
            format!("照片与另外 {} 户的走访照片相同", f.same_photo),
        ));
    }
    if let (Some(size), Some(net), Some(line)) = (f.confirmed_size, f.net_fen, f.threshold_fen)
        && size > 0
        && size < f.members
        && net / f.members < line
        && net / size >= line
    {
        out.push((
            SignalKind::SizeLowered,
            format!(
                "确认人口 {size} 人（在册 {} 人），人均收入因此高于监测标准",
                f.members
            ),
        ));
    }
    if t.is_night(f.hour) {
        out.push((
            SignalKind::Night,
            format!(
                "{} 点开始录入（夜间 {} 点至 {} 点）",
                f.hour, t.night_from, t.night_until
            ),
        ));
    }
    out
}

/// A signal as a visit on the household page carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalTag {
    pub kind: SignalKind,
    pub detail: String,
    pub state: SignalState,
}

/// A signal as the queue shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalItem {
    pub visit_id: uuid::Uuid,
    pub kind: SignalKind,
    pub detail: String,
    pub household_id: uuid::Uuid,
    pub household_number: String,
    pub head_name: String,
    pub village: String,
    pub worker: String,
    pub visit_at: chrono::DateTime<chrono::Utc>,
    pub state: SignalState,
}

/// Where a signal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignalState {
    Open,
    /// 已核实无误: the supervisor checked and the visit is real.
    Cleared,
    /// 需复核: sent for review, with a discrepancy opened.
    NeedsReview,
}

impl SignalState {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalState::Open => "open",
            SignalState::Cleared => "cleared",
            SignalState::NeedsReview => "needs_review",
        }
    }

    pub fn parse(s: &str) -> Option<SignalState> {
        [
            SignalState::Open,
            SignalState::Cleared,
            SignalState::NeedsReview,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SignalState::Open => "待核实",
            SignalState::Cleared => "已核实无误",
            SignalState::NeedsReview => "需复核",
        }
    }
}

/// An area's queue of signals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalQueue {
    pub area: crate::areas::Area,
    /// Open signals per kind.
    pub counts: Vec<(SignalKind, i64)>,
    pub items: Vec<SignalItem>,
    pub thresholds: Thresholds,
    /// The caller may edit the thresholds (province admin).
    pub may_edit_thresholds: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> VisitFacts {
        VisitFacts {
            minutes: 20,
            location: Some((
                Fix {
                    lat_e6: 35_579_812,
                    lon_e6: 104_626_301,
                },
                15,
            )),
            hour: 10,
            signature_points: 80,
            village: "v".into(),
            members: 4,
            ..VisitFacts::default()
        }
    }

    fn kinds(f: &VisitFacts) -> Vec<SignalKind> {
        signals(f, &Thresholds::default())
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    #[test]
    fn an_ordinary_visit_trips_nothing() {
        assert_eq!(kinds(&facts()), vec![]);
    }

    #[test]
    fn each_signal_trips_past_its_boundary_and_not_at_it() {
        let t = Thresholds::default();
        let mut f = facts();
        f.minutes = t.min_minutes;
        assert_eq!(kinds(&f), vec![]);
        f.minutes = t.min_minutes - 1;
        assert_eq!(kinds(&f), vec![SignalKind::ShortVisit]);

        let mut f = facts();
        f.location = f.location.map(|(fix, _)| (fix, t.max_accuracy_m));
        assert_eq!(kinds(&f), vec![]);
        f.location = f.location.map(|(fix, _)| (fix, t.max_accuracy_m + 1));
        assert_eq!(kinds(&f), vec![SignalKind::PoorAccuracy]);
        f.location = None;
        f.refused_location = true;
        assert_eq!(kinds(&f), vec![SignalKind::NoLocation]);

        // ~1.11 km per 0.01° of latitude: 2.9 km is within, 3.6 km is not.
        let mut f = facts();
        let here = f.location.unwrap().0;
        let at = |dlat: i64| Fix {
            lat_e6: here.lat_e6 + dlat,
            lon_e6: here.lon_e6,
        };
        f.village_fixes = vec![at(26_000), at(26_000), at(26_000)];
        assert_eq!(kinds(&f), vec![]);
        f.village_fixes = vec![at(32_500), at(32_500), at(32_500)];
        assert_eq!(kinds(&f), vec![SignalKind::FarFromVillage]);
        f.village_fixes.truncate(2);
        assert_eq!(kinds(&f), vec![], "too few fixes to say");

        let mut f = facts();
        f.worker_nearby = (1..t.max_per_hour)
            .map(|m| (m * 5, "v".to_owned(), None))
            .collect();
        assert_eq!(kinds(&f), vec![], "six in an hour");
        f.worker_nearby.push((40, "v".into(), None));
        assert_eq!(kinds(&f), vec![SignalKind::ManyPerHour]);
        // The same seven spread over more than an hour are fine.
        f.worker_nearby = (1..=t.max_per_hour)
            .map(|m| (m * 11, "v".to_owned(), None))
            .collect();
        assert_eq!(kinds(&f), vec![]);

        // 9.9 km in 10 minutes (59 km/h) is possible; in 9 it is not.
        let mut f = facts();
        let far = at(89_000);
        f.worker_nearby = vec![(-10, "w".into(), Some(far))];
        let d = distance_m(here, far) / 1000.0;
        assert!((9.8..10.0).contains(&d), "{d}");
        assert_eq!(kinds(&f), vec![]);
        f.worker_nearby = vec![(-9, "w".into(), Some(far))];
        assert_eq!(kinds(&f), vec![SignalKind::TooFastTravel]);
        f.worker_nearby = vec![(-9, "v".into(), Some(far))];
        assert_eq!(kinds(&f), vec![], "within one village it is not travel");

        let mut f = facts();
        f.signature_points = t.min_points;
        assert_eq!(kinds(&f), vec![]);
        f.signature_points = t.min_points - 1;
        assert_eq!(kinds(&f), vec![SignalKind::FewPoints]);

        let mut f = facts();
        f.same_signature = 1;
        f.same_photo = 2;
        assert_eq!(
            kinds(&f),
            vec![SignalKind::SameSignature, SignalKind::SamePhoto]
        );

        let mut f = facts();
        f.hour = t.night_until;
        assert_eq!(kinds(&f), vec![]);
        f.hour = t.night_until - 1;
        assert_eq!(kinds(&f), vec![SignalKind::Night]);
        f.hour = t.night_from;
        assert_eq!(kinds(&f), vec![SignalKind::Night]);
        f.hour = t.night_from - 1;
        assert_eq!(kinds(&f), vec![]);
    }

    #[test]
    fn a_smaller_household_trips_only_when_it_crosses_the_line() {
        let mut f = facts();
        f.threshold_fen = Some(720_000);
        f.net_fen = Some(2_400_000); // 4 members: 6,000 元 each, under 7,200
        f.confirmed_size = Some(3); // 8,000 元 each: over
        assert_eq!(kinds(&f), vec![SignalKind::SizeLowered]);
        f.confirmed_size = Some(4);
        assert_eq!(kinds(&f), vec![]);
        f.net_fen = Some(1_600_000); // 3: 5,333 元, still under
        f.confirmed_size = Some(3);
        assert_eq!(kinds(&f), vec![]);
    }

    #[test]
    fn a_fingerprint_survives_moving_and_scaling_only() {
        let sig = vec![
            vec![(10, 20), (30, 40), (50, 45), (70, 30)],
            vec![(20, 60), (40, 62), (60, 90)],
        ];
        let moved: Vec<Vec<(i64, i64)>> = sig
            .iter()
            .map(|s| s.iter().map(|(x, y)| (x * 3 + 200, y * 3 + 17)).collect())
            .collect();
        assert_eq!(fingerprint(&sig), fingerprint(&moved));
        assert!(fingerprint(&sig).is_some());
        let other = vec![
            vec![(10, 20), (50, 25), (20, 70), (70, 80)],
            vec![(15, 45), (65, 48)],
        ];
        assert_ne!(fingerprint(&sig), fingerprint(&other));
        assert_eq!(fingerprint(&[]), None);
        assert_eq!(fingerprint(&[vec![(5, 5), (5, 5)]]), None);
        assert_eq!(
            strokes("[[[10,20,0],[30,40,16]],[[1,2,3]]]"),
            vec![vec![(10, 20), (30, 40)], vec![(1, 2)]]
        );
        assert!(strokes("not json").is_empty());
    }

    #[test]
    fn thresholds_are_checked_when_set() {
        let mut t = Thresholds::default();
        assert!(t.set("min_minutes", 5).is_ok());
        assert_eq!(t.get("min_minutes"), Some(5));
        assert!(t.set("night_from", 24).is_err());
        assert!(t.set("nope", 1).is_err());
        let night = Thresholds {
            night_from: 0,
            night_until: 5,
            ..t
        };
        assert!(
            night.is_night(0) && night.is_night(4) && !night.is_night(5) && !night.is_night(23)
        );
    }
}
