//! The demo at province scale: Gansu's shape (14 市州, 86 counties, ~1,300
//! townships, ~16,000 villages) with 1.5 million households, to measure the
//! oversight pages where they must be fast. Generated and written one
//! county at a time (bounded memory, one transaction each), through the
//! same bulk write as a roster import, so the dispatch roll-ups are built as
//! it goes. Every user signs in with the demo password; one password hash
//! serves them all (hashing 17,000 passwords would take longer than the
//! households).

use std::collections::HashSet;
use std::time::Instant;

use uuid::Uuid;

use super::rng::{self, Rng};
use super::{DEMO_PASSWORD, generate_entitlements, generate_members, names, uuid_from};
use crate::areas::{Area, AreaCode};
use crate::auth::Role;
use crate::households::{Category, MonitoringKind};
use crate::server::db::{HouseholdRecord, RosterWrite, Store, UserRecord};
use crate::subsidies::StatYear;

/// How many of each level; households are spread evenly over the villages.
#[derive(Debug, Clone, Copy)]
pub struct ProvinceShape {
    pub cities: usize,
    pub counties: usize,
    pub townships: usize,
    pub villages: usize,
    pub households: usize,
}

impl ProvinceShape {
    /// Gansu, as the issue sizes it.
    pub const GANSU: ProvinceShape = ProvinceShape {
        cities: 14,
        counties: 86,
        townships: 1_300,
        villages: 16_000,
        households: 1_500_000,
    };

    /// The same shape with `households` households (areas shrink with it
    /// below ≈94 households a village).
    pub fn with_households(households: usize) -> ProvinceShape {
        let g = ProvinceShape::GANSU;
        let scale = |n: usize, floor: usize| {
            ((n as u128 * households as u128 / g.households as u128) as usize).clamp(floor, n)
        };
        let villages = scale(g.villages, 1);
        let townships = scale(g.townships, 1).min(villages);
        let counties = scale(g.counties, 1).min(townships);
        let cities = scale(g.cities, 1).min(counties);
        ProvinceShape {
            cities,
            counties,
            townships,
            villages,
            households,
        }
    }
}

/// What was loaded, for printing.
#[derive(Debug, Clone, Default)]
pub struct ProvinceSummary {
    pub areas: usize,
    pub users: usize,
    pub households: usize,
    pub members: usize,
    pub entitlements: usize,
    /// The field workers' user names (one per village).
    pub workers: Vec<String>,
}

/// `n` things split over `parts` as evenly as possible: the size of part `i`.
fn share(n: usize, parts: usize, i: usize) -> usize {
    n / parts + usize::from(i < n % parts)
}

/// Loads the province into an empty database. `report` is told after each
/// county (its index, the totals so far, and the seconds since the start).
pub async fn load(
    store: &dyn Store,
    shape: ProvinceShape,
    seed: u64,
    year: StatYear,
    report: &(dyn Fn(usize, &ProvinceSummary, f64) + Sync),
) -> anyhow::Result<ProvinceSummary> {
    let started = Instant::now();
    let code = |s: String| AreaCode::parse(&s).expect("generated codes are valid");
    let password_hash = crate::auth::password::hash(DEMO_PASSWORD);
    let mut summary = ProvinceSummary::default();
    let user = |username: String, display_name: String, role: Role, area: &AreaCode| UserRecord {
        id: Uuid::now_v7(),
        username,
        display_name,
        role,
        area: area.clone(),
        password_hash: password_hash.clone(),
        active: true,
    };

    let province = code("620000000000".into());
    store
        .upsert_areas(&[Area {
            code: province.clone(),
            name: "甘肃省".into(),
        }])
        .await?;
    store
        .insert_user(&user(
            "province".into(),
            "甘肃省乡村振兴局".into(),
            Role::ProvinceAdmin,
            &province,
        ))
        .await?;
    summary.areas += 1;
    summary.users += 1;

    let mut county_index = 0;
    let mut township_index = 0;
    let mut village_index = 0;
    for c in 0..shape.cities {
        let city = code(format!("62{:02}00000000", c + 1));
        let city_name = format!("{}市", names::place(c));
        store
            .upsert_areas(&[Area {
                code: city.clone(),
                name: city_name.clone(),
            }])
            .await?;
        store
            .insert_user(&user(
                format!("city{:02}", c + 1),
                format!("{city_name}乡村振兴局"),
                Role::CityAdmin,
                &city,
            ))
            .await?;
        summary.areas += 1;
        summary.users += 1;
        for k in 0..share(shape.counties, shape.cities, c) {
            let county = code(format!("{}{:02}000000", &city.as_str()[..4], k + 1));
            let mut rng =
                Rng::new(seed ^ (county_index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut areas = vec![Area {
                code: county.clone(),
                name: format!("{}县", names::place(30 + county_index)),
            }];
            let mut users = vec![user(
                format!("county{}", &county.as_str()[..6]),
                format!("{}乡村振兴局", areas[0].name),
                Role::CountyAdmin,
                &county,
            )];
            // (village, its field worker's id)
            let mut villages: Vec<(AreaCode, Uuid)> = Vec::new();
            for t in 0..share(shape.townships, shape.counties, county_index) {
                let township = code(format!("{}{:03}000", &county.as_str()[..6], 100 + t));
                areas.push(Area {
                    code: township.clone(),
                    name: format!("{}镇", names::place(200 + township_index)),
                });
                users.push(user(
                    format!("township{}", &township.as_str()[..9]),
                    names::person_name(&mut rng, rng::Sex::Male),
                    Role::TownshipSupervisor,
                    &township,
                ));
                for v in 0..share(shape.villages, shape.townships, township_index) {
                    let village = code(format!("{}{:03}", &township.as_str()[..9], 201 + v));
                    areas.push(Area {
                        code: village.clone(),
                        name: format!("{}村", names::place(500 + village_index)),
                    });
                    let worker = user(
                        format!("worker{village}"),
                        names::person_name(&mut rng, rng::Sex::Female),
                        Role::FieldWorker,
                        &village,
                    );
                    villages.push((village, worker.id));
                    summary.workers.push(worker.username.clone());
                    users.push(worker);
                    village_index += 1;
                }
                township_index += 1;
            }
            store.upsert_areas(&areas).await?;
            for u in &users {
                store.insert_user(u).await?;
            }
            summary.areas += areas.len();
            summary.users += users.len();

            // The county's households, spread over its villages.
            let mut taken = HashSet::new();
            let mut write = RosterWrite::default();
            let first_village = village_index - villages.len();
            for (i, (village, worker)) in villages.iter().enumerate() {
                let count = share(shape.households, shape.villages, first_village + i);
                for n in 0..count {
                    let id = uuid_from(&mut rng);
                    let members =
                        generate_members(&mut rng, year, &county.as_str()[..6], &mut taken);
                    let category = if rng.chance(0.16) {
                        Category::Monitored(*rng.pick(&MonitoringKind::ALL))
                    } else {
                        Category::Alleviated
                    };
                    write.entitlements.extend(generate_entitlements(
                        &mut rng, id, &members, category, year,
                    ));
                    summary.members += members.len();
                    write.households.push(HouseholdRecord {
                        id,
                        number: format!("{village}{:04}", n + 1),
                        head_name: members[0].name.clone(),
                        category,
                        relocated: rng.chance(0.08),
                        village: village.clone(),
                        worker_id: Some(*worker),
                        phone: rng.chance(0.9).then(|| names::phone(&mut rng)),
                        members,
                    });
                }
            }
            summary.households += write.households.len();
            summary.entitlements += write.entitlements.len();
            store.apply_roster(&write, &|_| {}, None).await?;
            county_index += 1;
            if county_index == 1 || county_index.is_power_of_two() {
                // The tables have doubled since the planner last looked.
                store.analyze().await?;
            }
            report(county_index, &summary, started.elapsed().as_secs_f64());
        }
    }
    store.analyze().await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        let parts: Vec<usize> = (0..14).map(|i| share(86, 14, i)).collect();
        assert_eq!(parts.iter().sum::<usize>(), 86);
        assert!(parts.iter().max().unwrap() - parts.iter().min().unwrap() <= 1);
    }

    #[test]
    fn a_smaller_province_keeps_the_shape() {
        let s = ProvinceShape::with_households(15_000);
        assert_eq!(
            (s.cities, s.counties, s.townships, s.villages),
            (1, 1, 13, 160)
        );
        let g = ProvinceShape::with_households(1_500_000);
        assert_eq!(g.villages, 16_000);
    }
}
