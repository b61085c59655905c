// The store's SQL for plans and measures; included by `sqlite.rs` and
// `postgres.rs` inside a module of their own (see `portable.rs` for the
// rules of portable SQL).

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
}
