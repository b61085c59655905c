// The store's SQL for plans and measures; included by `sqlite.rs` and
// `postgres.rs` inside a module of their own (see `portable.rs` for the
// rules of portable SQL).

use crate::field::RecordedIncome;
use crate::plans::{Measure, MeasureCategory, MeasureStatus, Plan};
use crate::server::db::PlanStore;
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
            funding: Fen(r.try_get("funding_fen")?),
            due_on: r.try_get("due_on")?,
            expected_income: Fen(r.try_get("expected_income_fen")?),
            status: MeasureStatus::parse(&status).ok_or_else(|| corrupt("measure status", &status))?,
            done_on: r.try_get("done_on")?,
            drop_reason: r.try_get("drop_reason")?,
            note: r.try_get("note")?,
        },
    ))
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
                 SELECT ie.household_id, ie.kind, ie.amount_fen, ie.evidence, ie.note, \
                 {CHINA_DAY_OF_VISIT} AS day, ROW_NUMBER() OVER (PARTITION BY ie.household_id, \
                 ie.kind ORDER BY v.ended_at DESC, v.id DESC) AS nth \
                 FROM income_entries ie JOIN visits v ON v.id = ie.visit_id WHERE ie.stat_year = "
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
                        amount: Fen(r.try_get("amount_fen")?),
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
                 v.household_id ORDER BY v.ended_at DESC, v.id DESC) AS nth FROM visits v \
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
}
