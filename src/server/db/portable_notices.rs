// The store's SQL for the village public notice (migration 0015); included
// by `sqlite.rs` and `postgres.rs` inside a module of their own (see
// `portable.rs` for the rules of portable SQL).

use crate::server::db::{NewObjection, NoticeFacts, NoticeObjection, NoticePosting, NoticeStore};

#[async_trait]
impl NoticeStore for ThisStore {
    async fn notice_facts(&self, village: &AreaCode, stat_year: i32) -> DbResult<Vec<NoticeFacts>> {
        // The latest visit of the year per household: the one no later
        // visit of the household (by start, then id) follows.
        let rows = db(sqlx::query(
            "SELECT h.id, h.number, h.head_name, v.id AS visit_id, l.status, l.received_fen \
             FROM households h \
             LEFT JOIN visits v ON v.household_id = h.id AND v.stat_year = $2 \
                 AND NOT EXISTS (SELECT 1 FROM visits w WHERE w.household_id = h.id \
                     AND w.stat_year = $2 AND (w.started_at > v.started_at \
                     OR (w.started_at = v.started_at AND w.id > v.id))) \
             LEFT JOIN verification_lines l ON l.visit_id = v.id \
             WHERE h.village_code = $1 ORDER BY h.number, h.id",
        )
        .bind(village.as_str())
        .bind(stat_year)
        .fetch_all(&self.pool)
        .await)?;
        let mut out: Vec<NoticeFacts> = Vec::new();
        for r in rows {
            let id: Uuid = r.try_get("id")?;
            if out.last().is_none_or(|f| f.household_id != id) {
                out.push(NoticeFacts {
                    household_id: id,
                    number: r.try_get("number")?,
                    head_name: r.try_get("head_name")?,
                    lines: Vec::new(),
                    visited: r.try_get::<Option<Uuid>, _>("visit_id")?.is_some(),
                });
            }
            if let Some(status) = r.try_get::<Option<String>, _>("status")? {
                let last = out.last_mut().expect("pushed above");
                last.lines.push((status, r.try_get("received_fen")?));
            }
        }
        Ok(out)
    }

    async fn save_notice_posting(&self, p: &NoticePosting) -> DbResult<()> {
        db(sqlx::query(
            "INSERT INTO public_notices (id, village_code, stat_year, posted_from, posted_until, \
             contact_phone, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(p.id)
        .bind(p.village.as_str())
        .bind(p.stat_year)
        .bind(p.posted_from)
        .bind(p.posted_until)
        .bind(&p.contact_phone)
        .bind(p.created_by)
        .bind(p.created_at)
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn notice_posting(
        &self,
        village: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Option<NoticePosting>> {
        db(sqlx::query(
            "SELECT id, village_code, stat_year, posted_from, posted_until, contact_phone, \
             created_by, created_at FROM public_notices WHERE village_code = $1 AND stat_year = $2 \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(village.as_str())
        .bind(stat_year)
        .fetch_optional(&self.pool)
        .await)?
        .map(|r| {
            Ok(NoticePosting {
                id: r.try_get("id")?,
                village: area_code(r.try_get("village_code")?)?,
                stat_year: r.try_get("stat_year")?,
                posted_from: r.try_get("posted_from")?,
                posted_until: r.try_get("posted_until")?,
                contact_phone: r.try_get("contact_phone")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    async fn add_objection(&self, o: &NewObjection) -> DbResult<()> {
        db(sqlx::query(
            "INSERT INTO notice_objections (id, village_code, stat_year, household_id, reason, \
             details, phone, received_on, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(o.id)
        .bind(o.village.as_str())
        .bind(o.stat_year)
        .bind(o.household_id)
        .bind(&o.reason)
        .bind(&o.details)
        .bind(&o.phone)
        .bind(o.received_on)
        .bind(o.entered_by)
        .bind(o.entered_at)
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn objections_between(
        &self,
        village: &AreaCode,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<NoticeObjection>> {
        let rows = db(sqlx::query(
            "SELECT h.head_name, rd.reason, rd.at, d.state FROM receipt_disputes rd \
             JOIN discrepancies d ON d.id = rd.discrepancy_id \
             JOIN households h ON h.id = d.household_id \
             WHERE d.village_code = $1 AND rd.at >= $2 AND rd.at < $3 ORDER BY rd.at",
        )
        .bind(village.as_str())
        .bind(from)
        .bind(until)
        .fetch_all(&self.pool)
        .await)?;
        let mut out = rows
            .iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(NoticeObjection {
                    head_name: r.try_get("head_name")?,
                    reason: r.try_get("reason")?,
                    on: crate::subsidies::china_date(r.try_get("at")?),
                    closed: Some(state == "closed"),
                })
            })
            .collect::<DbResult<Vec<_>>>()?;
        // The days the instants fall on in China, both included.
        let china = crate::subsidies::china_date;
        let (first, last) = (
            china(from),
            china(until - chrono::Duration::microseconds(1)),
        );
        let entered = db(sqlx::query(
            "SELECT h.head_name, o.reason, o.received_on FROM notice_objections o \
             JOIN households h ON h.id = o.household_id \
             WHERE o.village_code = $1 AND o.received_on >= $2 AND o.received_on <= $3 \
             ORDER BY o.received_on, o.id",
        )
        .bind(village.as_str())
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await)?;
        for r in &entered {
            out.push(NoticeObjection {
                head_name: r.try_get("head_name")?,
                reason: r.try_get("reason")?,
                on: r.try_get("received_on")?,
                closed: None,
            });
        }
        out.sort_by_key(|o| o.on);
        Ok(out)
    }
}
