// The store's SQL for the receipt check (migration 0013); included by
// `sqlite.rs` and `postgres.rs` inside a module of their own (see
// `portable.rs` for the rules of portable SQL).

use crate::discrepancies::DiscrepancyKind;
use crate::ledger::RecordKind;
use crate::server::db::{DisputeRow, NewDispute, ReceiptLookup, ReceiptStore};

fn outcome_of(s: &str) -> DbResult<&'static str> {
    ["found", "wrong_digits", "unknown_code", "throttled"]
        .into_iter()
        .find(|o| *o == s)
        .ok_or_else(|| corrupt("lookup outcome", s))
}

#[async_trait]
impl ReceiptStore for ThisStore {
    async fn visits_with_receipt(&self, code: &str) -> DbResult<Vec<Uuid>> {
        // The code is the hash's head in capitals; the hash is stored in
        // lower case. Every hash starting with it sorts in [code, code + 'g').
        let low = code.to_ascii_lowercase();
        let high = format!("{low}g");
        let rows = db(sqlx::query(
            "SELECT id FROM visits WHERE content_hash >= $1 AND content_hash < $2 \
             ORDER BY id LIMIT 16",
        )
        .bind(&low)
        .bind(&high)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    async fn log_receipt_lookup(&self, l: &ReceiptLookup) -> DbResult<()> {
        db(sqlx::query(
            "INSERT INTO receipt_lookups (id, token_hash, code, visit_id, address, outcome, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(l.id)
        .bind(&l.token_hash)
        .bind(&l.code)
        .bind(l.visit_id)
        .bind(&l.address)
        .bind(l.outcome)
        .bind(l.at)
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn receipt_lookup(
        &self,
        token_hash: &str,
        issued_after: DateTime<Utc>,
    ) -> DbResult<Option<(Uuid, Uuid)>> {
        db(sqlx::query(
            "SELECT id, visit_id FROM receipt_lookups \
             WHERE token_hash = $1 AND outcome = 'found' AND at > $2",
        )
        .bind(token_hash)
        .bind(issued_after)
        .fetch_optional(&self.pool)
        .await)?
        .map(|r| Ok::<_, DbError>((r.try_get("id")?, r.try_get("visit_id")?)))
        .transpose()
    }

    async fn open_dispute(&self, d: &NewDispute) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        let opened = db(sqlx::query(
            "INSERT INTO discrepancies (id, kind, household_id, village_code, visit_id, reported_at) \
             SELECT $1, $2, v.household_id, h.village_code, v.id, $3 \
             FROM visits v JOIN households h ON h.id = v.household_id WHERE v.id = $4",
        )
        .bind(d.discrepancy_id)
        .bind(DiscrepancyKind::Dispute.as_str())
        .bind(d.at)
        .bind(d.visit_id)
        .execute(&mut *tx)
        .await)?
        .rows_affected();
        if opened == 0 {
            return Err(DbError::NotFound);
        }
        db(sqlx::query(
            "INSERT INTO receipt_disputes (discrepancy_id, lookup_id, reason, details, phone, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(d.discrepancy_id)
        .bind(d.lookup_id)
        .bind(d.reason.as_str())
        .bind(&d.details)
        .bind(&d.phone)
        .bind(d.at)
        .execute(&mut *tx)
        .await)?;
        ledger_sql::record_in(&mut tx, RecordKind::Discrepancy, d.discrepancy_id, d.at).await?;
        db(tx.commit().await)
    }

    async fn disputes_of_visit(&self, visit_id: Uuid) -> DbResult<Vec<DisputeRow>> {
        let rows = db(sqlx::query(
            "SELECT rd.reason, rd.at, d.state FROM receipt_disputes rd \
             JOIN discrepancies d ON d.id = rd.discrepancy_id \
             WHERE d.visit_id = $1 ORDER BY rd.at",
        )
        .bind(visit_id)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(DisputeRow {
                    reason: r.try_get("reason")?,
                    at: r.try_get("at")?,
                    closed: state == "closed",
                })
            })
            .collect()
    }

    async fn receipt_lookups_since(&self, since: DateTime<Utc>) -> DbResult<Vec<ReceiptLookup>> {
        let rows = db(sqlx::query(
            "SELECT id, token_hash, code, visit_id, address, outcome, at FROM receipt_lookups \
             WHERE at >= $1 ORDER BY at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                let outcome: String = r.try_get("outcome")?;
                Ok(ReceiptLookup {
                    id: r.try_get("id")?,
                    token_hash: r.try_get("token_hash")?,
                    code: r.try_get("code")?,
                    visit_id: r.try_get("visit_id")?,
                    address: r.try_get("address")?,
                    outcome: outcome_of(&outcome)?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}
