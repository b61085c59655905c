// The store's SQL for plans and measures; included by `sqlite.rs` and
// `postgres.rs` inside a module of their own (see `portable.rs` for the
// rules of portable SQL).

use crate::field::{RecordedIncome, YearVisit};
use crate::plans::{Measure, MeasureCategory, MeasureStatus, MeasureUpdate, Plan};
use crate::server::db::{
    MeasureEvent, MeasureHistoryRow, NewPlan, ONE_PLAN_PER_HOUSEHOLD, PlanStore, PlanWrite,
};
use crate::subsidies::Fen;

const MEASURE_COLUMNS: &str = "id, household_id, category, action, funding_source, funding_fen, \
     due_on, expected_income_fen, status, done_on, drop_reason, note";

fn measure_from_row(r: &DbRow) -> DbResult<(Uuid, Measure)> {
    let category: String = r.try_get("category")?;
    let status: String = r.try_get("status")?;
    Ok((
        r.try_get("household_id")?,
        Measure {
            id: r.try_get("id")?,
            category: MeasureCategory::parse(&category)
                .ok_or_else(|| corrupt("measure category", &category))?,
            action: r.try_get("action")?,
            funding_source: r.try_get("funding_source")?,
            // Shown and offered to the phone within the bound (`Fen::counted`).
            funding: Fen::counted(r.try_get("funding_fen")?),
            due_on: r.try_get("due_on")?,
            expected_income: Fen::counted(r.try_get("expected_income_fen")?),
            status: MeasureStatus::parse(&status)
                .ok_or_else(|| corrupt("measure status", &status))?,
            done_on: r.try_get("done_on")?,
            drop_reason: r.try_get("drop_reason")?,
            note: r.try_get("note")?,
        },
    ))
}

/// PostgreSQL names the constraint a second plan breaks; SQLite names only
/// the column (`UNIQUE constraint failed: plans.household_id`). Both become
/// the constraint's name, so services match one string.
fn plan_conflict(e: DbError) -> DbError {
    match e {
        DbError::Conflict { constraint }
            if constraint.contains(ONE_PLAN_PER_HOUSEHOLD)
                || constraint.contains("plans.household_id") =>
        {
            DbError::Conflict {
                constraint: ONE_PLAN_PER_HOUSEHOLD.to_owned(),
            }
        }
        other => other,
    }
}

async fn insert_measure_in(
    tx: &mut sqlx::Transaction<'_, Db>,
    plan_id: Uuid,
    household_id: Uuid,
    m: &Measure,
    at: DateTime<Utc>,
) -> DbResult<()> {
    db(sqlx::query(
        "INSERT INTO measures (id, plan_id, household_id, category, action, funding_source, \
         funding_fen, due_on, expected_income_fen, status, done_on, drop_reason, note, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(m.id)
    .bind(plan_id)
    .bind(household_id)
    .bind(m.category.as_str())
    .bind(&m.action)
    .bind(&m.funding_source)
    .bind(m.funding.0)
    .bind(m.due_on)
    .bind(m.expected_income.0)
    .bind(m.status.as_str())
    .bind(m.done_on)
    .bind(m.drop_reason.as_deref())
    .bind(&m.note)
    .bind(at)
    .execute(&mut **tx)
    .await)?;
    Ok(())
}

/// Moves one of the household's measures and keeps the move in its
/// history, inside the caller's transaction: online (`visit_id` `None`, `at`
/// now) or as part of a stored visit (`at` the visit's end). A move takes
/// effect only if nothing moved the measure after `at`: a visit delivered
/// days later joins the history but does not undo a newer change. (The
/// measure's first event, its creation, does not count: a phone whose clock
/// runs behind must still be able to move a measure created that day.) A
/// measure of another household is NotFound.
pub(super) async fn move_measure_in(
    tx: &mut sqlx::Transaction<'_, Db>,
    household_id: Uuid,
    u: &MeasureUpdate,
    visit_id: Option<Uuid>,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> DbResult<()> {
    let moved = db(sqlx::query(
        "UPDATE measures SET status = $1, done_on = $2, drop_reason = $3, note = $4, \
         updated_at = $5 WHERE id = $6 AND household_id = $7 AND NOT EXISTS ( \
             SELECT 1 FROM measure_events e WHERE e.measure_id = $6 AND e.at > $5 \
               AND e.at > (SELECT MIN(f.at) FROM measure_events f WHERE f.measure_id = $6))",
    )
    .bind(u.status.as_str())
    .bind(u.done_on)
    .bind(u.drop_reason.as_deref())
    .bind(&u.note)
    .bind(at)
    .bind(u.measure_id)
    .bind(household_id)
    .execute(&mut **tx)
    .await)?
    .rows_affected();
    if moved == 0 {
        let ours = db(sqlx::query(
            "SELECT 1 AS one FROM measures WHERE id = $1 AND household_id = $2",
        )
        .bind(u.measure_id)
        .bind(household_id)
        .fetch_optional(&mut **tx)
        .await)?;
        if ours.is_none() {
            return Err(DbError::NotFound);
        }
    }
    let event = MeasureEvent {
        id: Uuid::now_v7(),
        measure_id: u.measure_id,
        visit_id,
        user_id,
        status: u.status,
        done_on: u.done_on,
        drop_reason: u.drop_reason.clone(),
        note: u.note.clone(),
        at,
    };
    insert_event_in(tx, &event).await
}

async fn insert_event_in(tx: &mut sqlx::Transaction<'_, Db>, e: &MeasureEvent) -> DbResult<()> {
    db(sqlx::query(
        "INSERT INTO measure_events (id, measure_id, visit_id, user_id, status, done_on, \
         drop_reason, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.id)
    .bind(e.measure_id)
    .bind(e.visit_id)
    .bind(e.user_id)
    .bind(e.status.as_str())
    .bind(e.done_on)
    .bind(e.drop_reason.as_deref())
    .bind(&e.note)
    .bind(e.at)
    .execute(&mut **tx)
    .await)?;
    ledger_sql::record_in(
        tx,
        crate::ledger::RecordKind::MeasureEvent,
        e.id,
        Utc::now(),
    )
    .await
}

#[async_trait]
impl PlanStore for ThisStore {
    async fn plan_of_household(&self, household_id: Uuid) -> DbResult<Option<Plan>> {
        let Some(p) = db(sqlx::query(
            "SELECT id, household_id, responsible_name, responsible_phone, labour_situation, \
             health_situation, created_at, updated_at FROM plans WHERE household_id = $1",
        )
        .bind(household_id)
        .fetch_optional(&self.pool)
        .await)?
        else {
            return Ok(None);
        };
        let measures = self
            .measures_of_households(&[household_id])
            .await?
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        Ok(Some(Plan {
            id: p.try_get("id")?,
            household_id: p.try_get("household_id")?,
            responsible_name: p.try_get("responsible_name")?,
            responsible_phone: p.try_get("responsible_phone")?,
            labour_situation: p.try_get("labour_situation")?,
            health_situation: p.try_get("health_situation")?,
            created_at: p.try_get("created_at")?,
            updated_at: p.try_get("updated_at")?,
            measures,
        }))
    }

    async fn measures_of_households(&self, ids: &[Uuid]) -> DbResult<Vec<(Uuid, Measure)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT {MEASURE_COLUMNS} FROM measures WHERE household_id IN ("
            ));
            push_in_list(&mut q, chunk.iter().copied());
            q.push(" ORDER BY household_id, due_on, id");
            for r in db(q.build().fetch_all(&self.pool).await)? {
                out.push(measure_from_row(&r)?);
            }
        }
        Ok(out)
    }

    async fn insert_plans(&self, plans: &[NewPlan]) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        for new in plans {
            let p = &new.plan;
            db(sqlx::query(
                "INSERT INTO plans (id, household_id, responsible_name, responsible_phone, \
                 labour_situation, health_situation, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(p.id)
            .bind(p.household_id)
            .bind(&p.responsible_name)
            .bind(&p.responsible_phone)
            .bind(&p.labour_situation)
            .bind(&p.health_situation)
            .bind(p.by)
            .bind(p.at)
            .execute(&mut *tx)
            .await)
            .map_err(plan_conflict)?;
            for m in &new.measures {
                insert_measure_in(&mut tx, p.id, p.household_id, m, p.at).await?;
            }
            for e in &new.events {
                insert_event_in(&mut tx, e).await?;
            }
        }
        db(tx.commit().await)?;
        Ok(())
    }

    async fn update_plan(&self, p: &PlanWrite) -> DbResult<()> {
        let changed = db(sqlx::query(
            "UPDATE plans SET responsible_name = $1, responsible_phone = $2, \
             labour_situation = $3, health_situation = $4, updated_at = $5 \
             WHERE id = $6 AND household_id = $7",
        )
        .bind(&p.responsible_name)
        .bind(&p.responsible_phone)
        .bind(&p.labour_situation)
        .bind(&p.health_situation)
        .bind(p.at)
        .bind(p.id)
        .bind(p.household_id)
        .execute(&self.writer)
        .await)?
        .rows_affected();
        if changed == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    async fn insert_measure(
        &self,
        plan_id: Uuid,
        household_id: Uuid,
        measure: &Measure,
        created: &MeasureEvent,
        then: &[crate::server::db::IncomeWork],
    ) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        insert_measure_in(&mut tx, plan_id, household_id, measure, created.at).await?;
        insert_event_in(&mut tx, created).await?;
        queue_income_work_in(&mut tx, then.iter().copied(), Utc::now()).await?;
        db(tx.commit().await)?;
        Ok(())
    }

    async fn update_measure(
        &self,
        household_id: Uuid,
        u: &MeasureUpdate,
        user_id: Uuid,
        at: DateTime<Utc>,
        then: &[crate::server::db::IncomeWork],
    ) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        move_measure_in(&mut tx, household_id, u, None, user_id, at).await?;
        queue_income_work_in(&mut tx, then.iter().copied(), Utc::now()).await?;
        db(tx.commit().await)?;
        Ok(())
    }

    async fn measure_history(&self, household_id: Uuid) -> DbResult<Vec<MeasureHistoryRow>> {
        db(sqlx::query(
            "SELECT e.id, e.measure_id, e.visit_id, e.user_id, e.status, e.done_on, \
             e.drop_reason, e.note, e.at, u.display_name, v.started_at \
             FROM measure_events e \
             JOIN measures m ON m.id = e.measure_id \
             JOIN users u ON u.id = e.user_id \
             LEFT JOIN visits v ON v.id = e.visit_id \
             WHERE m.household_id = $1 ORDER BY e.at, e.id",
        )
        .bind(household_id)
        .fetch_all(&self.pool)
        .await)?
        .iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            Ok(MeasureHistoryRow {
                event: MeasureEvent {
                    id: r.try_get("id")?,
                    measure_id: r.try_get("measure_id")?,
                    visit_id: r.try_get("visit_id")?,
                    user_id: r.try_get("user_id")?,
                    status: MeasureStatus::parse(&status)
                        .ok_or_else(|| corrupt("measure status", &status))?,
                    done_on: r.try_get("done_on")?,
                    drop_reason: r.try_get("drop_reason")?,
                    note: r.try_get("note")?,
                    at: r.try_get("at")?,
                },
                user_name: r.try_get("display_name")?,
                visit_started_at: r.try_get("started_at")?,
            })
        })
        .collect()
    }

    async fn set_identified_on(&self, dates: &[(Uuid, NaiveDate)]) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        for (id, day) in dates {
            db(
                sqlx::query("UPDATE households SET identified_on = $1 WHERE id = $2")
                    .bind(day)
                    .bind(id)
                    .execute(&mut *tx)
                    .await,
            )?;
        }
        db(tx.commit().await)?;
        Ok(())
    }

    async fn latest_income_of_households(
        &self,
        ids: &[Uuid],
        stat_year: i32,
    ) -> DbResult<Vec<(Uuid, RecordedIncome)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            // Latest = the visit that ended last; its id breaks a tie.
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT household_id, kind, amount_fen, evidence, note, day FROM (\
                 SELECT ie.household_id, ie.kind, ie.amount_fen, {} AS evidence, ie.note, \
                 {CHINA_DAY_OF_VISIT} AS day, ROW_NUMBER() OVER (PARTITION BY ie.household_id, \
                 ie.kind ORDER BY v.started_at DESC, v.id DESC) AS nth \
                 FROM income_entries ie JOIN visits v ON v.id = ie.visit_id WHERE ie.stat_year = ",
                income_backed("ie")
            ));
            q.push_bind(stat_year);
            q.push(" AND ie.household_id IN (");
            push_in_list(&mut q, chunk.iter().copied());
            q.push(") latest WHERE nth = 1 ORDER BY household_id, kind");
            for r in db(q.build().fetch_all(&self.pool).await)? {
                let kind: String = r.try_get("kind")?;
                out.push((
                    r.try_get("household_id")?,
                    RecordedIncome {
                        kind: IncomeKind::parse(&kind)
                            .ok_or_else(|| corrupt("income kind", &kind))?,
                        amount: Fen::counted(r.try_get("amount_fen")?),
                        evidence: r.try_get("evidence")?,
                        note: r.try_get("note")?,
                        declared_on: r.try_get("day")?,
                    },
                ));
            }
        }
        Ok(out)
    }

    async fn confirmed_sizes_of_households(
        &self,
        ids: &[Uuid],
        stat_year: i32,
    ) -> DbResult<Vec<(Uuid, i32)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT household_id, household_size FROM (\
                 SELECT v.household_id, v.household_size, ROW_NUMBER() OVER (PARTITION BY \
                 v.household_id ORDER BY v.started_at DESC, v.id DESC) AS nth FROM visits v \
                 WHERE v.household_size IS NOT NULL AND v.stat_year = ",
            );
            q.push_bind(stat_year);
            q.push(" AND v.household_id IN (");
            push_in_list(&mut q, chunk.iter().copied());
            q.push(") latest WHERE nth = 1");
            for r in db(q.build().fetch_all(&self.pool).await)? {
                out.push((r.try_get("household_id")?, r.try_get("household_size")?));
            }
        }
        Ok(out)
    }

    async fn year_visits_of_households(
        &self,
        ids: &[Uuid],
        stat_year: i32,
    ) -> DbResult<Vec<YearVisit>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT v.id, v.household_id, v.started_at, v.content_hash, \
                 u.display_name AS worker, \
                 (SELECT r.state FROM visit_reviews r WHERE r.visit_id = v.id \
                  ORDER BY r.at DESC, r.id DESC LIMIT 1) AS review_state, \
                 (SELECT r.comment FROM visit_reviews r WHERE r.visit_id = v.id \
                  ORDER BY r.at DESC, r.id DESC LIMIT 1) AS review_comment, \
                 (SELECT COUNT(*) FROM discrepancies d WHERE d.visit_id = v.id \
                  AND d.state = 'open') AS open_discrepancies \
                 FROM visits v JOIN users u ON u.id = v.worker_id WHERE v.stat_year = ",
            );
            q.push_bind(stat_year);
            q.push(" AND v.household_id IN (");
            push_in_list(&mut q, chunk.iter().copied());
            q.push(" ORDER BY v.started_at DESC, v.id DESC");
            for r in db(q.build().fetch_all(&self.pool).await)? {
                let state: Option<String> = r.try_get("review_state")?;
                let hash: String = r.try_get("content_hash")?;
                out.push(YearVisit {
                    visit_id: r.try_get("id")?,
                    household_id: r.try_get("household_id")?,
                    started_at: r.try_get("started_at")?,
                    worker: r.try_get("worker")?,
                    receipt_code: crate::visits::receipt_code(&hash),
                    review: state
                        .as_deref()
                        .and_then(crate::visits::ReviewState::parse)
                        .unwrap_or(crate::visits::ReviewState::Received),
                    review_comment: r
                        .try_get::<Option<String>, _>("review_comment")?
                        .filter(|c| !c.is_empty()),
                    open_discrepancies: r.try_get("open_discrepancies")?,
                });
            }
        }
        out.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then(b.visit_id.cmp(&a.visit_id))
        });
        Ok(out)
    }
}
