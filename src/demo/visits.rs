//! Demo visits: a share of the assigned households visited earlier in the
//! statistics year, so that progress, shortfalls and the newest visits have
//! something to show. They are made the way a phone makes them and go
//! through the same checks as a synced batch (`visits::service`).

use base64::Engine;
use chrono::{Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::rng::Rng;
use crate::access::{Caller, actor_from};
use crate::income::{IncomeKind, IncomeLine};
use crate::server::db::{HouseholdQuery, Store};
use crate::subsidies::{StatYear, china_date};
use crate::visits::{
    EvidenceFor, HEAD_RELATION, LineEvidence, Location, PaymentStatus, ShortfallReason, Signature,
    VerificationLine, VisitOutcome, VisitSubmission, confirmation_hash,
};

/// A tiny valid PNG (1×1, grey): the demo has no fingers to sign with.
const SIGNATURE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00,
    0x82, 0x00, 0x81, 0x77, 0xcd, 0x72, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A photo of a passbook page (drawn, 160×100): what a worker photographs
/// as a line's evidence.
const EVIDENCE_JPEG: &[u8] = include_bytes!("evidence.jpg");

/// The evidence photo as one visit's own: a JPEG comment naming the visit
/// and the line, so no two households share a photo (which is a signal of
/// a made-up visit).
fn evidence_photo(visit: Uuid, line: EvidenceFor) -> String {
    let tag = format!("{visit} {}", line.slug());
    let mut jpeg = Vec::with_capacity(EVIDENCE_JPEG.len() + tag.len() + 4);
    jpeg.extend_from_slice(&EVIDENCE_JPEG[..2]); // start of image
    jpeg.extend_from_slice(&[0xFF, 0xFE]);
    jpeg.extend_from_slice(&(tag.len() as u16 + 2).to_be_bytes());
    jpeg.extend_from_slice(tag.as_bytes());
    jpeg.extend_from_slice(&EVIDENCE_JPEG[2..]);
    base64::engine::general_purpose::STANDARD.encode(jpeg)
}

/// Visits `percent` of every worker's households in `year`, each on a day
/// between the start of the year and today (a day, its first hour, is
/// skipped). Deterministic for a seed and a day; returns how many visits
/// were stored.
pub async fn load_visits(
    store: &dyn Store,
    workers: &[String],
    year: StatYear,
    percent: u32,
    seed: u64,
) -> anyhow::Result<usize> {
    let mut rng = Rng::new(seed ^ 0x5157_5f56_4953_4954);
    let today = china_date(Utc::now()).min(year.last_day());
    let span = (today - year.first_day()).num_days().max(0) as u64;
    let mut stored = 0;
    for username in workers {
        let Some(user) = store.user_by_username(username).await? else {
            continue;
        };
        let caller = Caller {
            actor: actor_from(store, user.clone()).await?,
            address: None,
        };
        let query = HouseholdQuery {
            scope: user.area.clone(),
            worker_id: Some(user.id),
            village: None,
            search: None,
            payment: None,
            flags: None,
            limit: u32::MAX,
            offset: 0,
        };
        let (households, _) = store.list_households(&query).await?;
        let mut batch = Vec::new();
        let mut shown = Shown::default();
        for h in households {
            if rng.range(0, 100) >= u64::from(percent) {
                continue;
            }
            let day = year.first_day() + Duration::days(rng.range(0, span + 1) as i64);
            let visit = visit(store, &mut rng, &mut shown, h.id, &h.head_name, year, day).await?;
            if StatYear::containing(china_date(visit.started_at)) == year {
                batch.push(serde_json::value::to_raw_value(&visit)?);
            }
        }
        for chunk in batch.chunks(50) {
            for answer in crate::visits::service::ingest_batch(
                store,
                &caller,
                chunk.iter().map(|v| &**v).collect(),
            )
            .await
            {
                match answer {
                    VisitOutcome::Stored { .. } | VisitOutcome::AlreadyStored { .. } => stored += 1,
                    other => anyhow::bail!("演示走访记录未能保存 / demo visit refused: {other:?}"),
                }
            }
        }
    }
    Ok(stored)
}

/// Whether a worker's visits have shown a payment received in part and
/// one not received yet. Early in the year few payments are due, and the
/// odds alone may show neither: each worker's first payments due that
/// would be received in full show them instead.
#[derive(Default)]
struct Shown {
    part: bool,
    missing: bool,
}

/// One visit on `day`: payments due by then were mostly received in full
/// (a few late), some in part or not at all; later ones are not due yet.
async fn visit(
    store: &dyn Store,
    rng: &mut Rng,
    shown: &mut Shown,
    household_id: Uuid,
    head_name: &str,
    year: StatYear,
    day: NaiveDate,
) -> anyhow::Result<VisitSubmission> {
    let lines = store
        .entitlements(household_id, year.0)
        .await?
        .into_iter()
        .map(|row| {
            let e = row.entitlement;
            let mut line = VerificationLine {
                entitlement_id: e.id,
                status: PaymentStatus::NotDueYet,
                received_fen: None,
                received_on: None,
                channel: None,
                reason: None,
                reason_text: String::new(),
            };
            if e.expected_date > day {
                return line;
            }
            // 0–5 not received, 6–9 in part, 10–12 late, the rest in full.
            let mut draw = rng.range(0, 100);
            if draw >= 13 && !shown.part && e.expected_fen > 100 {
                draw = 6;
            } else if draw >= 13 && !shown.missing {
                draw = 0;
            }
            shown.missing |= draw <= 5;
            shown.part |= (6..=9).contains(&draw) && e.expected_fen > 100;
            match draw {
                0..=5 => {
                    line.status = PaymentStatus::NotReceived;
                    line.reason = Some(ShortfallReason::NotYetPaidOut);
                }
                6..=9 if e.expected_fen > 100 => {
                    line.status = PaymentStatus::ReceivedInPart;
                    line.received_fen = Some(e.expected_fen / 2);
                    line.received_on = Some(e.expected_date);
                    line.channel = Some(e.channel);
                    line.reason = Some(ShortfallReason::AmountReduced);
                }
                // A few arrive in full but late (up to 15 days, never after
                // the visit), so the discrepancy queue shows that kind too.
                late @ 10..=12 => {
                    line.status = PaymentStatus::ReceivedInFull;
                    line.received_fen = Some(e.expected_fen);
                    let days = (day - e.expected_date)
                        .num_days()
                        .min(5 * (late as i64 - 9));
                    line.received_on = Some(e.expected_date + Duration::days(days));
                    line.channel = Some(e.channel);
                }
                _ => {
                    line.status = PaymentStatus::ReceivedInFull;
                    line.received_fen = Some(e.expected_fen);
                    line.received_on = Some(e.expected_date);
                    line.channel = Some(e.channel);
                }
            }
            line
        })
        .collect();
    // 09:00–16:59 China time (01–08 UTC), 10–40 minutes, never in the future.
    let started = day
        .and_hms_opt(1 + rng.range(0, 8) as u32, rng.range(0, 60) as u32, 0)
        .expect("valid time")
        .and_utc()
        .min(Utc::now() - Duration::hours(1));
    // A UUIDv7 of the visit's time, as the phone would have made it.
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    random[8..].copy_from_slice(&rng.next_u64().to_le_bytes()[..2]);
    let id = uuid::Builder::from_unix_timestamp_millis(started.timestamp_millis() as u64, &random)
        .into_uuid();
    let mut v = VisitSubmission {
        id,
        household_id,
        stat_year: year.0,
        started_at: started,
        ended_at: started + Duration::minutes(10 + rng.range(0, 31) as i64),
        met_with: "户主本人".into(),
        notes: String::new(),
        location: Location::Fix {
            lat_e6: 35_580_000 + rng.range(0, 20_000) as i64,
            lon_e6: 104_610_000 + rng.range(0, 20_000) as i64,
            accuracy_m: 5 + rng.range(0, 30) as i32,
        },
        lines,
        signature: Signature {
            signer_name: head_name.to_owned(),
            signer_relation: HEAD_RELATION.into(),
            thumbprint: false,
            proxy_reason: None,
            strokes_json: "[[[10,20,0],[30,40,16],[50,45,33]]]".into(),
            png_base64: base64::engine::general_purpose::STANDARD.encode(SIGNATURE_PNG),
            content_hash: String::new(),
        },
        photo_base64: None,
        measure_updates: Vec::new(),
        // A generator of its own, seeded from the visit's id: the income
        // does not shift the payments of the visits drawn after it.
        income: declared_income(&mut Rng::new(id.as_u64_pair().1)),
        household_size: None,
        evidence: Vec::new(),
    };
    // Income marked as backed has its pay slip photographed, and one
    // received payment in five its passbook page.
    let mut photographed = Rng::new(id.as_u64_pair().1 ^ 0x4556_4944);
    let backed = v
        .income
        .iter()
        .filter(|l| l.evidence)
        .map(|l| EvidenceFor::Income(l.kind));
    let passbooks = v
        .lines
        .iter()
        .filter(|l| l.status.has_receipt())
        .map(|l| EvidenceFor::Payment(l.entitlement_id))
        .collect::<Vec<_>>()
        .into_iter()
        .filter(|_| photographed.range(0, 5) == 0);
    v.evidence = backed
        .chain(passbooks)
        .map(|line| LineEvidence {
            line,
            photo_base64: evidence_photo(id, line),
        })
        .collect();
    fabricate_some(&mut v, &mut Rng::new(id.as_u64_pair().0 ^ 0x5349_474e));
    v.signature.content_hash = confirmation_hash(&v);
    Ok(v)
}

/// A hand's signature, and for a few visits in a hundred something that
/// makes it look made up (rushed, at night, no position, one signature
/// copied onto several households), so that the 可疑走访 queue has real
/// cases. A generator of its own, like the income's: the payments drawn
/// do not move.
fn fabricate_some(v: &mut VisitSubmission, rng: &mut Rng) {
    v.signature.strokes_json = hand_signature(rng);
    match rng.range(0, 100) {
        0..=2 => v.ended_at = v.started_at + Duration::minutes(2),
        3..=4 => {
            // 22:xx China time is 14:xx UTC of the same day.
            let night = v
                .started_at
                .date_naive()
                .and_hms_opt(14, rng.range(0, 50) as u32, 0);
            if let Some(night) = night.map(|t| t.and_utc())
                && night < Utc::now() - Duration::hours(1)
            {
                v.started_at = night;
                v.ended_at = night + Duration::minutes(15);
            }
        }
        5..=6 => v.location = Location::Refused,
        7 => {
            // One template, placed and sized anew each time.
            let (dx, dy, k) = (
                rng.range(0, 80) as i64,
                rng.range(0, 40) as i64,
                1 + rng.range(0, 3) as i64,
            );
            let strokes: Vec<Vec<[i64; 3]>> = COPIED_SIGNATURE
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|&(x, y, t)| [x * k + dx, y * k + dy, t])
                        .collect()
                })
                .collect();
            v.signature.strokes_json = serde_json::to_string(&strokes).expect("numbers serialize");
        }
        _ => {}
    }
}

/// The signature the demo copies onto a few households.
const COPIED_SIGNATURE: [&[(i64, i64, i64)]; 2] = [
    &[
        (10, 40, 0),
        (18, 30, 16),
        (26, 24, 33),
        (34, 30, 50),
        (40, 42, 66),
        (48, 36, 83),
        (56, 28, 100),
        (64, 34, 116),
        (70, 44, 133),
        (78, 38, 150),
    ],
    &[
        (20, 60, 400),
        (30, 58, 416),
        (42, 62, 433),
        (54, 57, 450),
        (66, 63, 466),
        (76, 59, 483),
    ],
];

/// Two or three strokes of a hand moving across the pad.
fn hand_signature(rng: &mut Rng) -> String {
    let mut t = 0;
    let strokes: Vec<Vec<[i64; 3]>> = (0..2 + rng.range(0, 2))
        .map(|s| {
            let (mut x, mut y) = (
                20 + 90 * s as i64 + rng.range(0, 20) as i64,
                40 + rng.range(0, 40) as i64,
            );
            (0..12 + rng.range(0, 14))
                .map(|_| {
                    x += rng.range(0, 12) as i64;
                    y += rng.range(0, 17) as i64 - 8;
                    t += 16;
                    [x, y, t]
                })
                .collect()
        })
        .collect();
    serde_json::to_string(&strokes).expect("numbers serialize")
}

/// What a household of the demo declares at a visit: most have wages
/// (migrant work more often than local), many a small farm business with
/// its costs, a few property income; about half backed by a record.
fn declared_income(rng: &mut Rng) -> Vec<IncomeLine> {
    let mut lines = Vec::new();
    let mut declare = |rng: &mut Rng, kind, yuan: u64| {
        lines.push(IncomeLine {
            kind,
            amount_fen: yuan as i64 * 100,
            evidence: rng.range(0, 2) == 0,
            note: String::new(),
        });
    };
    if rng.range(0, 100) < 60 {
        let yuan = 8_000 + rng.range(0, 32_000);
        declare(rng, IncomeKind::WageMigrant, yuan);
    }
    if rng.range(0, 100) < 30 {
        let yuan = 3_000 + rng.range(0, 12_000);
        declare(rng, IncomeKind::WageLocal, yuan);
    }
    if rng.range(0, 100) < 40 {
        let income = 2_000 + rng.range(0, 18_000);
        declare(rng, IncomeKind::BusinessIncome, income);
        let cost = income * (30 + rng.range(0, 31)) / 100;
        declare(rng, IncomeKind::BusinessCost, cost);
    }
    if rng.range(0, 100) < 10 {
        let yuan = 500 + rng.range(0, 2_500);
        declare(rng, IncomeKind::Property, yuan);
    }
    lines
}
