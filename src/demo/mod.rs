//! The demo county: a deterministic, plausible data set for trying Daohu
//! and for benchmarks.
//!
//! Everything comes from one seeded generator, so the same seed and size
//! give the same households, members, ID numbers and amounts on every
//! machine. The default (300 households) is one county with 2 townships and
//! 6 villages; `--households N` scales villages (≈50 households each),
//! townships (3 villages each) and workers (2 per township) with it. Most
//! monitored households and some others get a plan (`plans.rs`).

mod names;
mod payouts;
mod plans;
pub mod province;
mod rng;
pub mod roster;
mod visits;

pub use payouts::load_payouts;
pub use visits::load_visits;

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate};
use uuid::Uuid;

use crate::areas::{Area, AreaCode};
use crate::auth::Role;
use crate::auth::service::{NewUser, create_user};
use crate::households::id_number::{IdNumber, check_char};
use crate::households::{Category, HealthStatus, LabourStatus, MonitoringKind};
use crate::server::db::{EntitlementRecord, HouseholdRecord, MemberRecord, Store};
use crate::subsidies::{Channel, StatYear, china_date};
use rng::Rng;

pub const DEMO_PASSWORD: &str = "daohu-demo-2026";
const PROVINCE: (&str, &str) = ("620000000000", "甘肃省");
const CITY: (&str, &str) = ("621100000000", "定西市");
const COUNTY: (&str, &str) = ("621102000000", "安定区");
const HOUSEHOLDS_PER_VILLAGE: usize = 50;
const VILLAGES_PER_TOWNSHIP: usize = 3;
const WORKERS_PER_TOWNSHIP: usize = 2;

#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub households: usize,
    pub seed: u64,
    pub year: StatYear,
}

/// A demo account, password in clear: printed for people to sign in with.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area: AreaCode,
}

#[derive(Debug, Clone)]
pub struct DemoData {
    pub areas: Vec<Area>,
    pub logins: Vec<DemoLogin>,
    /// Households with `worker_id` holding the index into `logins`'s user ids
    /// once created (see [`load`]); generated ids are final.
    pub households: Vec<HouseholdRecord>,
    pub entitlements: Vec<EntitlementRecord>,
    /// For each household, the index in `logins` of its worker, if any.
    pub assignments: Vec<Option<usize>>,
}

/// Builds the data set in memory; pure and deterministic.
pub fn generate(spec: &DemoSpec) -> DemoData {
    let mut rng = Rng::new(spec.seed);
    let mut ids_taken = HashSet::new();
    let village_count = spec.households.div_ceil(HOUSEHOLDS_PER_VILLAGE).max(1);
    let township_count = village_count.div_ceil(VILLAGES_PER_TOWNSHIP);

    let code = |s: &str| AreaCode::parse(s).expect("demo codes are valid");
    let mut areas = vec![
        Area {
            code: code(PROVINCE.0),
            name: PROVINCE.1.into(),
        },
        Area {
            code: code(CITY.0),
            name: CITY.1.into(),
        },
        Area {
            code: code(COUNTY.0),
            name: COUNTY.1.into(),
        },
    ];
    let mut logins = vec![
        DemoLogin {
            username: "county".into(),
            display_name: "安定区乡村振兴局".into(),
            role: Role::CountyAdmin,
            area: code(COUNTY.0),
        },
        // Receives the county's weekly report (每周报送).
        DemoLogin {
            username: "city".into(),
            display_name: "定西市乡村振兴局".into(),
            role: Role::CityAdmin,
            area: code(CITY.0),
        },
    ];
    let mut villages = Vec::new(); // (village code, township index)
    let mut township_workers: Vec<Vec<usize>> = Vec::new();
    for t in 0..township_count {
        // 镇 codes run 100–199, 乡 200–399.
        let (suffix, kind) = if t % 2 == 0 {
            (100 + t, "镇")
        } else {
            (200 + t, "乡")
        };
        let township = code(&format!("{}{suffix:03}000", &COUNTY.0[..6]));
        areas.push(Area {
            code: township.clone(),
            name: format!("{}{kind}", names::place(t)),
        });
        logins.push(DemoLogin {
            username: format!("township{}", t + 1),
            display_name: names::person_name(&mut rng, rng::Sex::Male),
            role: Role::TownshipSupervisor,
            area: township.clone(),
        });
        let mut workers = Vec::new();
        for _ in 0..WORKERS_PER_TOWNSHIP {
            let n = logins
                .iter()
                .filter(|l| l.role == Role::FieldWorker)
                .count()
                + 1;
            workers.push(logins.len());
            let sex = if rng.chance(0.5) {
                rng::Sex::Male
            } else {
                rng::Sex::Female
            };
            logins.push(DemoLogin {
                username: format!("worker{n}"),
                display_name: names::person_name(&mut rng, sex),
                role: Role::FieldWorker,
                area: township.clone(),
            });
        }
        township_workers.push(workers);
        for v in 0..VILLAGES_PER_TOWNSHIP {
            let index = t * VILLAGES_PER_TOWNSHIP + v;
            if index >= village_count {
                break;
            }
            let village = code(&format!("{}{:03}", &township.as_str()[..9], 201 + v));
            areas.push(Area {
                code: village.clone(),
                name: format!("{}村", names::place(100 + index)),
            });
            villages.push((village, t));
        }
    }

    let mut households = Vec::with_capacity(spec.households);
    let mut entitlements = Vec::new();
    let mut assignments = Vec::with_capacity(spec.households);
    let mut per_village = vec![0usize; villages.len()];
    for i in 0..spec.households {
        let v = i % villages.len();
        let (village, township) = &villages[v];
        per_village[v] += 1;
        let number = format!("{}{:04}", village.as_str(), per_village[v]);
        let id = uuid_from(&mut rng);
        let members = generate_members(&mut rng, spec.year, &COUNTY.0[..6], &mut ids_taken);
        let category = if rng.chance(0.16) {
            Category::Monitored(*rng.pick(&MonitoringKind::ALL))
        } else {
            Category::Alleviated
        };
        // A few households are newly identified and not yet assigned.
        let workers = &township_workers[*township];
        let worker = (!rng.chance(0.03)).then(|| workers[per_village[v] % workers.len()]);
        entitlements.extend(generate_entitlements(
            &mut rng, id, &members, category, spec.year,
        ));
        households.push(HouseholdRecord {
            id,
            number,
            head_name: members[0].name.clone(),
            category,
            relocated: rng.chance(0.08),
            village: village.clone(),
            worker_id: None,
            phone: rng.chance(0.9).then(|| names::phone(&mut rng)),
            members,
        });
        assignments.push(worker);
    }
    DemoData {
        areas,
        logins,
        households,
        entitlements,
        assignments,
    }
}

/// What `load` did, for printing.
pub struct DemoSummary {
    pub loaded: bool,
    pub households: usize,
    pub entitlements: usize,
    pub logins: Vec<DemoLogin>,
}

/// Loads the demo's areas and sign-ins (not its households): what a roster
/// import needs to be in place. Returns the user id of each login.
pub async fn load_places_and_people(
    store: &dyn Store,
    data: &DemoData,
) -> anyhow::Result<Vec<Uuid>> {
    store.upsert_areas(&data.areas).await?;
    let mut user_ids = Vec::with_capacity(data.logins.len());
    for login in &data.logins {
        let id = match store.user_by_username(&login.username).await? {
            Some(existing) => existing.id,
            None => {
                create_user(
                    store,
                    NewUser {
                        username: login.username.clone(),
                        display_name: login.display_name.clone(),
                        role: login.role,
                        area: login.area.to_string(),
                        password: DEMO_PASSWORD.into(),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("创建演示用户 {} 失败：{e}", login.username))?
                .id
            }
        };
        user_ids.push(id);
    }
    Ok(user_ids)
}

/// Loads the demo into `store`. With `if_empty`, does nothing when the store
/// already holds households (so `run` can call it every time).
pub async fn load(
    store: &dyn Store,
    spec: &DemoSpec,
    if_empty: bool,
) -> anyhow::Result<DemoSummary> {
    let mut data = generate(spec);
    if if_empty && store.count_households().await? > 0 {
        return Ok(DemoSummary {
            loaded: false,
            households: 0,
            entitlements: 0,
            logins: data.logins,
        });
    }
    let user_ids = load_places_and_people(store, &data).await?;
    for (h, worker) in data.households.iter_mut().zip(&data.assignments) {
        h.worker_id = worker.map(|w| user_ids[w]);
    }
    // Batches keep each transaction (and PostgreSQL's bind limit) small.
    let mut ent_start = 0;
    for chunk in data.households.chunks(500) {
        let ids: HashSet<Uuid> = chunk.iter().map(|h| h.id).collect();
        let mut ent_end = ent_start;
        while ent_end < data.entitlements.len()
            && ids.contains(&data.entitlements[ent_end].household_id)
        {
            ent_end += 1;
        }
        store
            .insert_households(chunk, &data.entitlements[ent_start..ent_end])
            .await?;
        ent_start = ent_end;
    }
    let plans = plans::generate(&data, china_date(chrono::Utc::now()), spec.seed);
    store.set_identified_on(&plans.identified).await?;
    for chunk in plans.plans.chunks(200) {
        store.insert_plans(chunk).await?;
    }
    Ok(DemoSummary {
        loaded: true,
        households: data.households.len(),
        entitlements: data.entitlements.len(),
        logins: data.logins,
    })
}

fn uuid_from(rng: &mut Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A household's members, ID numbers issued in the county whose 6-digit
/// code prefix is `county`.
fn generate_members(
    rng: &mut Rng,
    year: StatYear,
    county: &str,
    taken: &mut HashSet<String>,
) -> Vec<MemberRecord> {
    let today = year.first_day();
    let head_sex = if rng.chance(0.8) {
        rng::Sex::Male
    } else {
        rng::Sex::Female
    };
    let head_age = rng.range(28, 80) as i32;
    let surname = names::surname(rng);
    let mut members = Vec::new();
    let mut push = |rng: &mut Rng, name: String, relation: &str, sex: rng::Sex, age: i32| {
        let id_number = id_number(rng, today, county, age, sex, taken);
        let (labour, health) = condition(rng, age);
        members.push(MemberRecord {
            id: uuid_from(rng),
            name,
            relation: relation.into(),
            id_number,
            labour,
            health,
        });
    };
    let head_name = format!("{surname}{}", names::given_name(rng, head_sex));
    push(rng, head_name, "户主", head_sex, head_age);
    if rng.chance(0.82) {
        let sex = head_sex.other();
        let name = names::person_name(rng, sex);
        let age = (head_age + rng.range(0, 7) as i32 - 3).max(20);
        push(rng, name, "配偶", sex, age);
    }
    if head_age < 70 {
        for _ in 0..rng.range(0, 4) {
            let sex = if rng.chance(0.5) {
                rng::Sex::Male
            } else {
                rng::Sex::Female
            };
            let age = (head_age - rng.range(20, 32) as i32).max(1);
            let relation = if sex == rng::Sex::Male {
                "之子"
            } else {
                "之女"
            };
            let name = format!("{surname}{}", names::given_name(rng, sex));
            push(rng, name, relation, sex, age);
        }
    } else if rng.chance(0.5) {
        let sex = if rng.chance(0.5) {
            rng::Sex::Male
        } else {
            rng::Sex::Female
        };
        let relation = if sex == rng::Sex::Male {
            "之孙子"
        } else {
            "之孙女"
        };
        let name = format!("{surname}{}", names::given_name(rng, sex));
        let age = rng.range(6, 20) as i32;
        push(rng, name, relation, sex, age);
    }
    if head_age < 50 && rng.chance(0.3) {
        let sex = if rng.chance(0.5) {
            rng::Sex::Male
        } else {
            rng::Sex::Female
        };
        let relation = if sex == rng::Sex::Male {
            "之父"
        } else {
            "之母"
        };
        let name = if sex == rng::Sex::Male {
            format!("{surname}{}", names::given_name(rng, sex))
        } else {
            names::person_name(rng, sex)
        };
        let age = head_age + rng.range(22, 30) as i32;
        push(rng, name, relation, sex, age);
    }
    members
}

fn condition(rng: &mut Rng, age: i32) -> (LabourStatus, HealthStatus) {
    let health = match rng.range(0, 100) {
        0..=71 => HealthStatus::Healthy,
        72..=87 => HealthStatus::Chronic,
        88..=93 => HealthStatus::Serious,
        _ => HealthStatus::Disabled,
    };
    let labour = if !(16..=75).contains(&age) {
        LabourStatus::None
    } else if matches!(health, HealthStatus::Serious | HealthStatus::Disabled) {
        if rng.chance(0.6) {
            LabourStatus::Lost
        } else {
            LabourStatus::Weak
        }
    } else if age > 60 || health == HealthStatus::Chronic {
        LabourStatus::Weak
    } else {
        LabourStatus::Full
    };
    (labour, health)
}

/// A valid ID number of someone `age` years old on `today`, issued in
/// `county` (6-digit prefix), unique in `taken`.
fn id_number(
    rng: &mut Rng,
    today: NaiveDate,
    county: &str,
    age: i32,
    sex: rng::Sex,
    taken: &mut HashSet<String>,
) -> String {
    loop {
        let birth = NaiveDate::from_ymd_opt(today.year() - age, 1, 1).expect("valid year")
            + Duration::days(rng.range(0, 365) as i64);
        let mut seq = rng.range(0, 1000) as u32;
        // The 17th digit is odd for men, even for women.
        if (seq % 2 == 1) != (sex == rng::Sex::Male) {
            seq = (seq + 1) % 1000;
        }
        let first17 = format!("{county}{}{seq:03}", birth.format("%Y%m%d"));
        let id = format!("{first17}{}", check_char(first17.as_bytes()) as char);
        debug_assert!(IdNumber::parse(&id).is_ok(), "{id}");
        if taken.insert(id.clone()) {
            return id;
        }
    }
}

/// (code, min yuan, max yuan, department, probability, per person)
const ITEMS: &[(&str, i64, i64, &str, f64, bool)] = &[
    ("cropland_protection", 120, 900, "区农业农村局", 0.95, false),
    ("grain_grower_once", 40, 260, "区农业农村局", 0.6, false),
    ("medical_premium", 320, 380, "区医疗保障局", 0.9, true),
    ("pension_premium", 100, 200, "区人社局", 0.7, false),
    ("collective_dividend", 100, 600, "村委会", 0.6, false),
    ("project_dividend", 200, 1200, "区乡村振兴局", 0.55, false),
    ("grain_to_green", 300, 2400, "区林业和草原局", 0.45, false),
    (
        "forest_eco_compensation",
        40,
        300,
        "区林业和草原局",
        0.4,
        false,
    ),
    ("rural_dibao", 2400, 14000, "区民政局", 0.3, false),
    ("public_welfare_job", 6000, 9600, "区人社局", 0.25, false),
    (
        "eco_forest_ranger",
        6000,
        8000,
        "区林业和草原局",
        0.12,
        false,
    ),
    ("elderly_hardship", 600, 1200, "区民政局", 0.2, false),
    ("disability_two", 1080, 2160, "区残联", 0.15, false),
    ("migrant_travel", 200, 600, "区人社局", 0.3, false),
    ("calf_reward", 1000, 3000, "区农业农村局", 0.25, false),
    ("award_subsidy", 500, 3000, "区农业农村局", 0.2, false),
    ("coop_dividend", 100, 800, "合作社", 0.25, false),
    ("work_for_relief", 1500, 6000, "区发展和改革局", 0.1, false),
    ("toilet_renovation", 1000, 1500, "区农业农村局", 0.06, false),
    (
        "dilapidated_house",
        8000,
        30000,
        "区住房和城乡建设局",
        0.03,
        false,
    ),
    ("extreme_poverty", 6000, 9000, "区民政局", 0.03, false),
    ("farm_machinery", 800, 6000, "区农业农村局", 0.05, false),
];

fn generate_entitlements(
    rng: &mut Rng,
    household_id: Uuid,
    members: &[MemberRecord],
    category: Category,
    year: StatYear,
) -> Vec<EntitlementRecord> {
    let wanted = rng.range(6, 13) as usize;
    let mut out = Vec::new();
    for &(code, min, max, department, p, per_person) in ITEMS {
        if out.len() >= wanted {
            break;
        }
        // Monitored households draw on social protection more often.
        let boost = if category.is_monitored()
            && matches!(code, "rural_dibao" | "disability_two" | "elderly_hardship")
        {
            2.0
        } else {
            1.0
        };
        if !rng.chance((p * boost).min(1.0)) {
            continue;
        }
        let persons = if per_person { members.len() as i64 } else { 1 };
        // Most amounts are whole yuan; per-mu and per-person items carry fen.
        let yuan = rng.range(min as u64, max as u64 + 1) as i64;
        let fen = if rng.chance(0.3) {
            rng.range(0, 100) as i64
        } else {
            0
        };
        let day = rng.range(14, 350) as i64;
        out.push(EntitlementRecord {
            id: uuid_from(rng),
            household_id,
            item_code: code.into(),
            stat_year: year.0,
            expected_fen: (yuan * 100 + fen) * persons,
            expected_date: year.first_day() + Duration::days(day),
            department: department.into(),
            channel: match code {
                "medical_premium" | "pension_premium" => Channel::OnBehalf,
                "public_welfare_job"
                | "eco_forest_ranger"
                | "work_for_relief"
                | "collective_dividend"
                | "project_dividend"
                | "coop_dividend" => Channel::BankTransfer,
                _ => Channel::OneCard,
            },
        });
    }
    // Top up from the most common items if chance left too few.
    for &(code, min, _, department, _, _) in ITEMS {
        if out.len() >= 6 {
            break;
        }
        if out.iter().any(|e| e.item_code == code) {
            continue;
        }
        out.push(EntitlementRecord {
            id: uuid_from(rng),
            household_id,
            item_code: code.into(),
            stat_year: year.0,
            expected_fen: min * 100,
            expected_date: year.first_day() + Duration::days(rng.range(14, 350) as i64),
            department: department.into(),
            channel: Channel::OneCard,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(households: usize) -> DemoSpec {
        DemoSpec {
            households,
            seed: 7,
            year: StatYear(2027),
        }
    }

    #[test]
    fn same_seed_gives_the_same_county() {
        let a = generate(&spec(300));
        let b = generate(&spec(300));
        assert_eq!(a.households.len(), 300);
        for (x, y) in a.households.iter().zip(&b.households) {
            assert_eq!(
                (x.id, &x.number, &x.head_name),
                (y.id, &y.number, &y.head_name)
            );
            assert_eq!(x.members[0].id_number, y.members[0].id_number);
        }
        assert_eq!(a.entitlements.len(), b.entitlements.len());
    }

    #[test]
    fn default_size_is_one_county_of_two_townships_and_six_villages() {
        let d = generate(&spec(300));
        let count = |level| d.areas.iter().filter(|a| a.level() == level).count();
        assert_eq!(count(crate::areas::AreaLevel::Township), 2);
        assert_eq!(count(crate::areas::AreaLevel::Village), 6);
        let roles = |r| d.logins.iter().filter(|l| l.role == r).count();
        assert_eq!(roles(Role::FieldWorker), 4);
        assert_eq!(roles(Role::TownshipSupervisor), 2);
        assert_eq!(roles(Role::CountyAdmin), 1);
        assert_eq!(roles(Role::CityAdmin), 1);
    }

    #[test]
    fn every_id_number_is_valid_and_unique() {
        let d = generate(&spec(300));
        let mut seen = HashSet::new();
        for m in d.households.iter().flat_map(|h| &h.members) {
            IdNumber::parse(&m.id_number).unwrap();
            assert!(
                seen.insert(m.id_number.clone()),
                "duplicate {}",
                m.id_number
            );
        }
    }

    #[test]
    fn every_household_has_six_to_twelve_entitlements_inside_the_year() {
        let s = spec(300);
        let d = generate(&s);
        for h in &d.households {
            let lines: Vec<_> = d
                .entitlements
                .iter()
                .filter(|e| e.household_id == h.id)
                .collect();
            assert!(
                (6..=12).contains(&lines.len()),
                "{} has {}",
                h.number,
                lines.len()
            );
            for e in lines {
                assert!(
                    e.expected_date >= s.year.first_day() && e.expected_date <= s.year.last_day()
                );
                assert!(e.expected_fen > 0);
            }
        }
    }
}
