//! Demo plans (一户一策): most monitored households and a share of the
//! others have a plan of one to three measures written by their worker, in
//! every state (done on time or late, in progress, planned, a few overdue
//! or dropped) with the history that led there. Some monitored households
//! have none yet, a few of them identified more than 30 days ago, so the
//! "no measure" signal has something to show.
//!
//! Dates are offsets from `today` and no draw depends on the day, so one
//! seed gives the same plans, shifted in time, on every day.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use super::rng::Rng;
use super::{DemoData, names, uuid_from};
use crate::households::{HealthStatus, LabourStatus};
use crate::plans::{Measure, MeasureCategory, MeasureStatus};
use crate::server::db::{HouseholdRecord, MeasureEvent, NewPlan, PlanWrite};
use crate::subsidies::Fen;

/// (category, action, funding source, funding and expected income ranges in 元)
type Template = (
    MeasureCategory,
    &'static str,
    &'static str,
    (u64, u64),
    (u64, u64),
);

const TEMPLATES: &[Template] = &[
    (
        MeasureCategory::Industry,
        "养殖肉牛2头，申请见犊补母奖补",
        "财政衔接资金",
        (4000, 8000),
        (3000, 8000),
    ),
    (
        MeasureCategory::Industry,
        "种植马铃薯8亩，统一供种并提供技术指导",
        "区农业农村局产业资金",
        (800, 2000),
        (1500, 4000),
    ),
    (
        MeasureCategory::Industry,
        "养殖湖羊10只，加入村养殖合作社",
        "衔接资金以奖代补",
        (2000, 5000),
        (2000, 6000),
    ),
    (
        MeasureCategory::Industry,
        "种植黄芪5亩，与药企签订单收购",
        "自筹",
        (500, 1500),
        (2000, 5000),
    ),
    (
        MeasureCategory::Employment,
        "推荐到县城帮扶车间就业",
        "",
        (0, 0),
        (12000, 30000),
    ),
    (
        MeasureCategory::Employment,
        "安排乡村公益性岗位（保洁员）",
        "",
        (0, 0),
        (6000, 9600),
    ),
    (
        MeasureCategory::Employment,
        "组织外出务工，落实交通补贴",
        "就业补助资金",
        (200, 600),
        (20000, 40000),
    ),
    (
        MeasureCategory::Employment,
        "参加电焊技能培训并推荐就业",
        "职业技能培训补贴",
        (1000, 2500),
        (10000, 24000),
    ),
    (
        MeasureCategory::Protection,
        "申请纳入农村低保",
        "",
        (0, 0),
        (2400, 6000),
    ),
    (
        MeasureCategory::Protection,
        "落实残疾人两项补贴",
        "",
        (0, 0),
        (1000, 2200),
    ),
    (
        MeasureCategory::Protection,
        "办理大病医疗救助",
        "医疗救助资金",
        (2000, 8000),
        (0, 0),
    ),
    (
        MeasureCategory::AssetIncome,
        "村光伏电站资产收益分红",
        "",
        (0, 0),
        (300, 1200),
    ),
    (
        MeasureCategory::AssetIncome,
        "土地流转入股合作社，按年分红",
        "",
        (0, 0),
        (500, 1500),
    ),
    (
        MeasureCategory::Other,
        "落实雨露计划职业教育补助",
        "雨露计划资金",
        (1500, 3000),
        (0, 0),
    ),
];

const DROP_REASONS: &[&str] = &[
    "户主外出务工，家中无人饲养",
    "土地已流转给合作社，不再自行种植",
    "经评估不符合条件，改为其他措施",
];

/// The plans to write and the identification dates of monitored households.
pub struct DemoPlans {
    pub plans: Vec<NewPlan>,
    pub identified: Vec<(Uuid, NaiveDate)>,
}

/// Plans for `data`'s households, whose `worker_id`s are already user ids.
pub fn generate(data: &DemoData, today: NaiveDate, seed: u64) -> DemoPlans {
    let mut rng = Rng::new(seed ^ 0x504c_414e_5f44_454d);
    let mut out = DemoPlans {
        plans: Vec::new(),
        identified: Vec::new(),
    };
    for (h, worker) in data.households.iter().zip(&data.assignments) {
        let roll = rng.range(0, 100);
        let start = today - Duration::days(rng.range(30, 400) as i64);
        let wants_plan = if h.category.is_monitored() {
            let identified_on = match roll {
                // Identified a while ago and still without a measure.
                0..=11 => today - Duration::days(rng.range(35, 150) as i64),
                // Just identified: the worker has 30 days to write one.
                12..=19 => today - Duration::days(rng.range(1, 25) as i64),
                _ => start - Duration::days(rng.range(3, 20) as i64),
            };
            out.identified.push((h.id, identified_on));
            roll >= 20
        } else {
            roll < 45
        };
        // Households without a worker have no one to write a plan yet.
        if let (true, Some(w), Some(worker_id)) = (wants_plan, worker, h.worker_id) {
            let responsible = Responsible {
                user_id: worker_id,
                name: data.logins[*w].display_name.clone(),
                phone: names::phone(&mut rng),
            };
            out.plans.push(plan(&mut rng, h, responsible, today, start));
        }
    }
    out
}

struct Responsible {
    user_id: Uuid,
    name: String,
    phone: String,
}

/// One step of a measure's history.
struct Move {
    day: NaiveDate,
    status: MeasureStatus,
    done_on: Option<NaiveDate>,
    drop_reason: Option<String>,
    note: &'static str,
}

impl Move {
    fn to(day: NaiveDate, status: MeasureStatus, note: &'static str) -> Move {
        Move {
            day,
            status,
            done_on: (status == MeasureStatus::Done).then_some(day),
            drop_reason: None,
            note,
        }
    }
}

fn plan(
    rng: &mut Rng,
    h: &HouseholdRecord,
    by: Responsible,
    today: NaiveDate,
    start: NaiveDate,
) -> NewPlan {
    let count = rng.range(1, 4) as usize;
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < count {
        let t = rng.range(0, TEMPLATES.len() as u64) as usize;
        if !picked.contains(&t) {
            picked.push(t);
        }
    }
    let mut measures = Vec::new();
    let mut events = Vec::new();
    for t in picked {
        let (m, moves) = measure(rng, &TEMPLATES[t], today, start);
        for step in moves {
            events.push(MeasureEvent {
                id: uuid_from(rng),
                measure_id: m.id,
                visit_id: None,
                user_id: by.user_id,
                status: step.status,
                done_on: step.done_on,
                drop_reason: step.drop_reason,
                note: step.note.to_owned(),
                at: at_ten(step.day),
            });
        }
        measures.push(m);
    }
    NewPlan {
        plan: PlanWrite {
            id: uuid_from(rng),
            household_id: h.id,
            responsible_name: by.name,
            responsible_phone: by.phone,
            labour_situation: labour_situation(h),
            health_situation: health_situation(h),
            by: by.user_id,
            at: at_ten(start),
        },
        measures,
        events,
    }
}

/// One measure as it stands today and the moves that brought it there:
/// of those due by now, about 4 % still open (overdue), 3 % dropped, the
/// rest done, mostly on time; of the others, about half under way.
fn measure(
    rng: &mut Rng,
    t: &Template,
    today: NaiveDate,
    start: NaiveDate,
) -> (Measure, Vec<Move>) {
    let &(category, action, source, funding, income) = t;
    // Whole hundreds of yuan, as plans are written.
    let hundreds = |rng: &mut Rng, (lo, hi): (u64, u64)| {
        Fen(if hi == 0 {
            0
        } else {
            rng.range(lo / 100, hi / 100 + 1) as i64 * 10_000
        })
    };
    let funding = hundreds(rng, funding);
    let expected_income = hundreds(rng, income);
    let span = rng.range(30, 360) as i64;
    let due_on = start + Duration::days(span);
    let began = start + Duration::days(rng.range(3, 15) as i64);
    let fate = rng.range(0, 100);
    let mut moves = vec![Move::to(start, MeasureStatus::Planned, "")];
    if due_on < today {
        match fate {
            0..=3 => moves.push(Move::to(began, MeasureStatus::InProgress, "已开始实施")),
            4..=6 => moves.push(Move {
                drop_reason: Some(DROP_REASONS[fate as usize % DROP_REASONS.len()].to_owned()),
                ..Move::to(began, MeasureStatus::Dropped, "")
            }),
            _ => {
                moves.push(Move::to(began, MeasureStatus::InProgress, "已开始实施"));
                let done = if fate < 85 {
                    began
                        + Duration::days(rng.range(0, (due_on - began).num_days() as u64 + 1) as i64)
                } else {
                    (due_on + Duration::days(rng.range(1, 40) as i64)).min(today)
                };
                moves.push(Move::to(done, MeasureStatus::Done, "已完成，户主确认"));
            }
        }
    } else if fate < 55 {
        moves.push(Move::to(began, MeasureStatus::InProgress, "已开始实施"));
    }
    let last = moves.last().expect("a first move");
    let m = Measure {
        id: uuid_from(rng),
        category,
        action: action.to_owned(),
        funding_source: if funding.0 == 0 {
            String::new()
        } else {
            source.to_owned()
        },
        funding,
        due_on,
        expected_income,
        status: last.status,
        done_on: last.done_on,
        drop_reason: last.drop_reason.clone(),
        note: last.note.to_owned(),
    };
    (m, moves)
}

/// Demo moves are made at 10:00 in China (02:00 UTC).
fn at_ten(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(2, 0, 0).expect("valid time"))
        .and_utc()
}

/// `普通劳动力2人，弱劳动力1人`, from the members' labour status.
fn labour_situation(h: &HouseholdRecord) -> String {
    let parts: Vec<String> = LabourStatus::ALL
        .into_iter()
        .filter_map(|l| {
            let n = h.members.iter().filter(|m| m.labour == l).count();
            (n > 0).then(|| format!("{}{n}人", l.label()))
        })
        .collect();
    parts.join("，")
}

/// `户主：长期慢性病；之子：残疾`, or that everyone is healthy.
fn health_situation(h: &HouseholdRecord) -> String {
    let parts: Vec<String> = h
        .members
        .iter()
        .filter(|m| m.health != HealthStatus::Healthy)
        .map(|m| format!("{}：{}", m.relation, m.health.label()))
        .collect();
    if parts.is_empty() {
        "家庭成员身体健康".to_owned()
    } else {
        parts.join("；")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{DemoSpec, generate as generate_demo};
    use crate::plans::check_measure_update;
    use crate::subsidies::StatYear;

    /// The demo as `load` makes it: workers' user ids in place.
    fn demo_plans(today: NaiveDate) -> (DemoData, DemoPlans) {
        let mut data = generate_demo(&DemoSpec {
            households: 300,
            seed: 7,
            year: StatYear::containing(today),
        });
        let ids: Vec<Uuid> = (0..data.logins.len()).map(|_| Uuid::now_v7()).collect();
        for (h, w) in data.households.iter_mut().zip(&data.assignments) {
            h.worker_id = w.map(|w| ids[w]);
        }
        let plans = generate(&data, today, 7);
        (data, plans)
    }

    #[test]
    fn demo_plans_show_every_state_and_households_still_without_a_measure() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let (data, demo) = demo_plans(today);
        let measures: Vec<&Measure> = demo.plans.iter().flat_map(|p| &p.measures).collect();
        let on_time = |m: &&&Measure| m.done_on.is_some_and(|d| d <= m.due_on);
        assert!(measures.iter().any(|m| on_time(&m)));
        assert!(
            measures
                .iter()
                .any(|m| m.status == MeasureStatus::InProgress && !m.is_overdue(today))
        );
        assert!(measures.iter().any(|m| m.status == MeasureStatus::Planned));
        assert!(measures.iter().any(|m| m.status == MeasureStatus::Dropped));
        let overdue = measures.iter().filter(|m| m.is_overdue(today)).count();
        assert!(
            (1..=measures.len() / 10).contains(&overdue),
            "{overdue} overdue"
        );
        assert!((1..=3).contains(&demo.plans.iter().map(|p| p.measures.len()).min().unwrap()));
        assert!(demo.plans.iter().all(|p| p.measures.len() <= 3));
        // Monitored households without a plan, identified over 30 days ago.
        let planned: std::collections::HashSet<Uuid> =
            demo.plans.iter().map(|p| p.plan.household_id).collect();
        let waiting = demo
            .identified
            .iter()
            .filter(|(h, day)| !planned.contains(h) && (today - *day).num_days() > 30)
            .count();
        assert!(waiting >= 2, "{waiting}");
        let monitored = data
            .households
            .iter()
            .filter(|h| h.category.is_monitored())
            .count();
        assert_eq!(demo.identified.len(), monitored);
    }

    #[test]
    fn every_demo_measure_and_move_keeps_the_rules() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let (_, demo) = demo_plans(today);
        for p in &demo.plans {
            for m in &p.measures {
                let moves: Vec<_> = p.events.iter().filter(|e| e.measure_id == m.id).collect();
                assert_eq!(moves[0].status, MeasureStatus::Planned);
                let last = moves.last().unwrap();
                assert_eq!((last.status, last.done_on), (m.status, m.done_on));
                assert!(moves.windows(2).all(|w| w[0].at <= w[1].at));
                for e in moves {
                    let u = crate::plans::MeasureUpdate {
                        measure_id: m.id,
                        status: e.status,
                        done_on: e.done_on,
                        drop_reason: e.drop_reason.clone(),
                        note: e.note.clone(),
                    };
                    check_measure_update(&u, "demo", today).unwrap();
                }
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_plans_shifted_with_the_day() {
        let a = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let b = a + Duration::days(40);
        let (_, x) = demo_plans(a);
        let (_, y) = demo_plans(b);
        assert_eq!(x.plans.len(), y.plans.len());
        for (p, q) in x.plans.iter().zip(&y.plans) {
            assert_eq!(p.plan.household_id, q.plan.household_id);
            for (m, n) in p.measures.iter().zip(&q.measures) {
                assert_eq!(
                    (m.id, m.status, m.due_on + Duration::days(40)),
                    (n.id, n.status, n.due_on)
                );
            }
        }
    }
}
