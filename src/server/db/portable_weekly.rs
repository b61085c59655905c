// The store's SQL for the weekly report's submissions (migration 0019);
// included by `sqlite.rs` and `postgres.rs` inside a module of their own
// (see `portable.rs` for the rules of portable SQL).

use crate::server::db::{LateVisitRow, NewSubmission, SubmissionRow, SubmitRefusal, WeeklyStore};

const SUBMISSION_COLUMNS: &str = "s.id, s.area_code, s.as_of, s.version, s.state, s.figures, \
     s.figures_hash, s.remarks, s.contact_name, s.contact_phone, u.display_name AS submitted_by, \
     s.submitted_at, r.display_name AS reviewed_by, s.reviewed_at, s.review_comment";

const SUBMISSION_FROM: &str = "report_submissions s JOIN users u ON u.id = s.submitted_by \
     LEFT JOIN users r ON r.id = s.reviewed_by";

fn submission_from_row(r: &DbRow) -> DbResult<SubmissionRow> {
    let area: String = r.try_get("area_code")?;
    Ok(SubmissionRow {
        id: r.try_get("id")?,
        area: AreaCode::parse(&area).map_err(|e| corrupt("area_code", &e))?,
        as_of: r.try_get("as_of")?,
        version: r.try_get("version")?,
        state: r.try_get("state")?,
        figures: r.try_get("figures")?,
        figures_hash: r.try_get("figures_hash")?,
        remarks: r.try_get("remarks")?,
        contact_name: r.try_get("contact_name")?,
        contact_phone: r.try_get("contact_phone")?,
        submitted_by: r.try_get("submitted_by")?,
        submitted_at: r.try_get("submitted_at")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: r.try_get("reviewed_at")?,
        review_comment: r.try_get("review_comment")?,
    })
}

#[async_trait]
impl WeeklyStore for ThisStore {
    async fn insert_submission(&self, s: &NewSubmission) -> DbResult<Result<i32, SubmitRefusal>> {
        let mut tx = begin_write(&self.writer).await?;
        let latest = db(sqlx::query(
            "SELECT version, state FROM report_submissions \
             WHERE area_code = $1 AND as_of = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(s.area.as_str())
        .bind(s.as_of)
        .fetch_optional(&mut *tx)
        .await)?;
        let version = match latest {
            None => 1,
            Some(r) if r.try_get::<String, _>("state")? == "returned" => {
                r.try_get::<i32, _>("version")? + 1
            }
            Some(_) => return Ok(Err(SubmitRefusal::AlreadySubmitted)),
        };
        // Two at once on PostgreSQL both read the same latest version: the
        // unique (area, week, version) stores one and refuses the other.
        let inserted = sqlx::query(
            "INSERT INTO report_submissions (id, area_code, as_of, version, state, figures, \
             figures_hash, xlsx, remarks, contact_name, contact_phone, submitted_by, submitted_at) \
             VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(s.id)
        .bind(s.area.as_str())
        .bind(s.as_of)
        .bind(version)
        .bind(&s.figures)
        .bind(&s.figures_hash)
        .bind(&s.xlsx)
        .bind(&s.remarks)
        .bind(&s.contact_name)
        .bind(&s.contact_phone)
        .bind(s.submitted_by)
        .bind(s.submitted_at)
        .execute(&mut *tx)
        .await;
        match db(inserted) {
            Ok(_) => {}
            Err(DbError::Conflict { .. }) => return Ok(Err(SubmitRefusal::AlreadySubmitted)),
            Err(e) => return Err(e),
        }
        db(tx.commit().await)?;
        Ok(Ok(version))
    }

    async fn submissions(
        &self,
        areas: &[AreaCode],
        as_of: NaiveDate,
    ) -> DbResult<Vec<SubmissionRow>> {
        let mut out = Vec::new();
        for chunk in areas.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT {SUBMISSION_COLUMNS} FROM {SUBMISSION_FROM} WHERE s.as_of = "
            ));
            q.push_bind(as_of);
            q.push(" AND s.area_code IN (");
            push_in_list(&mut q, chunk.iter().map(|a| a.as_str()));
            q.push(" ORDER BY s.area_code, s.version");
            for r in db(q.build().fetch_all(&self.pool).await)? {
                out.push(submission_from_row(&r)?);
            }
        }
        Ok(out)
    }

    async fn submission(&self, id: Uuid) -> DbResult<Option<SubmissionRow>> {
        let row = db(sqlx::query(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM {SUBMISSION_FROM} WHERE s.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await)?;
        row.as_ref().map(submission_from_row).transpose()
    }

    async fn submission_xlsx(&self, id: Uuid) -> DbResult<Option<Vec<u8>>> {
        db(
            sqlx::query_scalar("SELECT xlsx FROM report_submissions WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await,
        )
    }

    async fn review_submission(
        &self,
        id: Uuid,
        accept: bool,
        by: Uuid,
        at: DateTime<Utc>,
        comment: &str,
    ) -> DbResult<bool> {
        let mut tx = begin_write(&self.writer).await?;
        let changed = db(sqlx::query(
            "UPDATE report_submissions SET state = $2, reviewed_by = $3, reviewed_at = $4, \
             review_comment = $5 \
             WHERE id = $1 AND state = 'submitted' AND NOT EXISTS ( \
                 SELECT 1 FROM report_submissions n WHERE n.area_code = report_submissions.area_code \
                 AND n.as_of = report_submissions.as_of AND n.version > report_submissions.version)",
        )
        .bind(id)
        .bind(if accept { "accepted" } else { "returned" })
        .bind(by)
        .bind(at)
        .bind(comment)
        .execute(&mut *tx)
        .await)?
        .rows_affected();
        db(tx.commit().await)?;
        Ok(changed == 1)
    }

    async fn visits_delivered_after(
        &self,
        area: &AreaCode,
        stat_year: i32,
        delivered_after: DateTime<Utc>,
        started_before: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<LateVisitRow>> {
        let (lo, hi) = area.subtree_range();
        let rows = db(sqlx::query(
            "SELECT v.id, v.household_id, h.number, h.head_name, a.name AS village, \
                    v.started_at, v.received_at \
             FROM visits v JOIN households h ON h.id = v.household_id \
             JOIN areas a ON a.code = h.village_code \
             WHERE h.village_code BETWEEN $1 AND $2 AND v.stat_year = $3 \
               AND v.received_at > $4 AND v.started_at < $5 \
             ORDER BY v.received_at, v.id LIMIT $6",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(stat_year)
        .bind(delivered_after)
        .bind(started_before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(LateVisitRow {
                    visit_id: r.try_get("id")?,
                    household_id: r.try_get("household_id")?,
                    number: r.try_get("number")?,
                    head_name: r.try_get("head_name")?,
                    village: r.try_get("village")?,
                    started_at: r.try_get("started_at")?,
                    received_at: r.try_get("received_at")?,
                })
            })
            .collect()
    }

    async fn shortfall_reasons(
        &self,
        area: &AreaCode,
        stat_year: i32,
        cutoff: DateTime<Utc>,
    ) -> DbResult<Vec<(String, Option<String>, i64)>> {
        let (lo, hi) = area.subtree_range();
        let rows = db(sqlx::query(
            "SELECT e.item_code, l.reason, COUNT(*) AS n \
             FROM entitlements e JOIN households h ON h.id = e.household_id \
             JOIN verification_lines l ON l.entitlement_id = e.id \
             JOIN visits v ON v.id = l.visit_id \
             WHERE h.village_code BETWEEN $1 AND $2 AND e.stat_year = $3 AND v.started_at < $4 \
               AND l.status IN ('received_in_part', 'not_received') \
               AND NOT EXISTS ( \
                   SELECT 1 FROM verification_lines m JOIN visits w ON w.id = m.visit_id \
                   WHERE m.entitlement_id = e.id AND w.started_at < $4 \
                     AND (w.started_at > v.started_at OR (w.started_at = v.started_at AND w.id > v.id))) \
             GROUP BY e.item_code, l.reason ORDER BY e.item_code, l.reason",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(stat_year)
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("item_code")?,
                    r.try_get("reason")?,
                    r.try_get("n")?,
                ))
            })
            .collect()
    }
}
