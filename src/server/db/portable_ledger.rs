// The store's SQL for the hash chain (migration 0012); included by
// `sqlite.rs` and `postgres.rs` inside a module of their own (see
// `portable.rs` for the rules of portable SQL).
//
// A record's canonical content is read by one description per kind
// (`spec`): the same SQL hashes it when it is written (in the write's
// transaction, `record_in`) and when a verification reads a whole county
// (`contents` over the chain), so the two can only differ if the row did.

use futures::TryStreamExt;

use crate::ledger::{
    ABSENT, Bytes, Canon, ChainFacts, Entry, GENESIS, Pending, RecordKind, RecordSeal, entry_hash,
};
use crate::server::db::{ChainHead, LedgerStore, VerificationRow};

/// A column's type, so that each is read as what it is on both backends.
#[derive(Clone, Copy)]
enum Col {
    Text,
    OptText,
    I32,
    OptI32,
    I64,
    OptI64,
    Bool,
    Id,
    OptId,
    Time,
    OptDate,
    Blob,
    OptBlob,
    /// A child's copy of a time of its record (a line's copy of its
    /// visit's start, migration 0021): hashed only where it differs from
    /// the original, so that records hash as before the copy existed and
    /// an edit of the copy alone still changes the record's hash.
    CopyOfTime(&'static str),
}

/// Rows of another table that belong to the record (a visit's lines).
struct Child {
    name: &'static str,
    from: &'static str,
    /// The column naming the record.
    key: &'static str,
    order: &'static str,
    cols: &'static [(&'static str, Col)],
}

/// How to read one kind of record.
struct Spec {
    kind: RecordKind,
    from: &'static str,
    id: &'static str,
    /// Joins that lead to the household's village.
    joins: &'static str,
    village: &'static str,
    /// Columns of `from`'s alias, in canonical order.
    alias: &'static str,
    cols: &'static [(&'static str, Col)],
    children: &'static [Child],
}

const VISIT: Spec = Spec {
    kind: RecordKind::Visit,
    from: "visits v",
    id: "v.id",
    joins: "LEFT JOIN households h ON h.id = v.household_id",
    village: "h.village_code",
    alias: "v",
    cols: &[
        ("household_id", Col::Id),
        ("worker_id", Col::Id),
        ("stat_year", Col::I32),
        ("started_at", Col::Time),
        ("ended_at", Col::Time),
        ("met_with", Col::Text),
        ("notes", Col::Text),
        ("location_kind", Col::Text),
        ("lat_e6", Col::OptI64),
        ("lon_e6", Col::OptI64),
        ("accuracy_m", Col::OptI32),
        ("signer_name", Col::Text),
        ("signer_relation", Col::Text),
        ("thumbprint", Col::Bool),
        ("proxy_reason", Col::OptText),
        ("signature_strokes", Col::Text),
        ("signature_png", Col::Blob),
        ("content_hash", Col::Text),
        ("photo_jpeg", Col::OptBlob),
        ("payload_hash", Col::Text),
        ("received_at", Col::Time),
        ("household_size", Col::OptI32),
    ],
    children: &[
        Child {
            name: "line",
            from: "verification_lines l",
            key: "l.visit_id",
            order: "l.entitlement_id",
            cols: &[
                ("entitlement_id", Col::Id),
                ("status", Col::Text),
                ("received_fen", Col::OptI64),
                ("received_on", Col::OptDate),
                ("channel", Col::OptText),
                ("reason", Col::OptText),
                ("reason_text", Col::Text),
                ("started_at", Col::CopyOfTime("started_at")),
            ],
        },
        Child {
            name: "income",
            from: "income_entries i",
            key: "i.visit_id",
            order: "i.id",
            cols: &[
                ("id", Col::Id),
                ("household_id", Col::Id),
                ("stat_year", Col::I32),
                ("kind", Col::Text),
                ("amount_fen", Col::I64),
                ("evidence", Col::Bool),
                ("note", Col::Text),
            ],
        },
        // A visit without evidence photos has no rows here and hashes as
        // it did before they existed.
        Child {
            name: "evidence",
            from: "line_evidence e",
            key: "e.visit_id",
            order: "e.line_kind, e.line_key",
            cols: &[
                ("line_kind", Col::Text),
                ("line_key", Col::Text),
                ("photo_jpeg", Col::Blob),
            ],
        },
    ],
};

const REVIEW: Spec = Spec {
    kind: RecordKind::Review,
    from: "visit_reviews r",
    id: "r.id",
    joins: "LEFT JOIN visits v ON v.id = r.visit_id LEFT JOIN households h ON h.id = v.household_id",
    village: "h.village_code",
    alias: "r",
    cols: &[
        ("visit_id", Col::Id),
        ("state", Col::Text),
        ("comment", Col::Text),
        ("reviewer_id", Col::Id),
        ("at", Col::Time),
    ],
    children: &[],
};

const DISCREPANCY: Spec = Spec {
    kind: RecordKind::Discrepancy,
    from: "discrepancies d",
    id: "d.id",
    joins: "",
    village: "d.village_code",
    alias: "d",
    // What the item was opened with; its state, assignee and resolution
    // move, and each move is an event of its own.
    cols: &[
        ("kind", Col::Text),
        ("household_id", Col::Id),
        ("village_code", Col::Text),
        // Written as an id is when present: records from before
        // reconciliation items (which have no visit) hash as they did.
        ("visit_id", Col::OptId),
        ("entitlement_id", Col::OptId),
        ("conflict_id", Col::OptId),
        ("expected_fen", Col::OptI64),
        ("received_fen", Col::OptI64),
        ("reported_at", Col::Time),
    ],
    children: &[],
};

const DISCREPANCY_EVENT: Spec = Spec {
    kind: RecordKind::DiscrepancyEvent,
    from: "discrepancy_events x",
    id: "x.id",
    joins: "LEFT JOIN discrepancies d ON d.id = x.discrepancy_id",
    village: "d.village_code",
    alias: "x",
    cols: &[
        ("discrepancy_id", Col::Id),
        ("action", Col::Text),
        ("actor_id", Col::Id),
        ("assignee_id", Col::OptId),
        ("resolution", Col::OptText),
        ("note", Col::Text),
        ("at", Col::Time),
    ],
    children: &[],
};

const MEASURE_EVENT: Spec = Spec {
    kind: RecordKind::MeasureEvent,
    from: "measure_events m",
    id: "m.id",
    joins: "LEFT JOIN measures s ON s.id = m.measure_id \
            LEFT JOIN households h ON h.id = s.household_id",
    village: "h.village_code",
    alias: "m",
    cols: &[
        ("measure_id", Col::Id),
        ("visit_id", Col::OptId),
        ("user_id", Col::Id),
        ("status", Col::Text),
        ("done_on", Col::OptDate),
        ("drop_reason", Col::OptText),
        ("note", Col::Text),
        ("at", Col::Time),
    ],
    children: &[],
};

fn spec(kind: RecordKind) -> &'static Spec {
    match kind {
        RecordKind::Visit => &VISIT,
        RecordKind::Review => &REVIEW,
        RecordKind::Discrepancy => &DISCREPANCY,
        RecordKind::DiscrepancyEvent => &DISCREPANCY_EVENT,
        RecordKind::MeasureEvent => &MEASURE_EVENT,
    }
}

/// Which records of a kind to read: some by id (`$1`… their ids), or
/// every one a county's chain or pending list names (`$1` the county).
enum Which<'a> {
    Ids(&'a [Uuid]),
    Chain(&'a str),
}

impl Which<'_> {
    fn one(id: &Uuid) -> Which<'_> {
        Which::Ids(std::slice::from_ref(id))
    }

    /// The `JOIN … WHERE …` that picks the records whose key is `key`.
    fn pick(&self, kind: RecordKind, key: &str) -> (String, String) {
        match self {
            Which::Ids(ids) => {
                let params: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
                (
                    String::new(),
                    format!("WHERE {key} IN ({})", params.join(", ")),
                )
            }
            Which::Chain(_) => {
                let k = kind.as_str();
                (
                    format!(
                        "JOIN (SELECT record_id FROM ledger_entries \
                         WHERE county_code = $1 AND kind = '{k}' \
                         UNION SELECT record_id FROM ledger_pending \
                         WHERE county_code = $1 AND kind = '{k}') k ON k.record_id = {key}"
                    ),
                    String::new(),
                )
            }
        }
    }

    fn bind<'q>(
        &self,
        q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>,
    ) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>> {
        match self {
            Which::Ids(ids) => ids.iter().fold(q, |q, id| q.bind(*id)),
            Which::Chain(county) => q.bind(county.to_string()),
        }
    }
}

fn put(c: &mut Canon, name: &str, r: &DbRow, col: &str, t: Col) -> DbResult<()> {
    match t {
        Col::Text => c.field(name, &r.try_get::<String, _>(col)?),
        Col::OptText => c.field(name, r.try_get::<Option<String>, _>(col)?.as_ref()),
        Col::I32 => c.field(name, r.try_get::<i32, _>(col)?),
        Col::OptI32 => c.field(name, r.try_get::<Option<i32>, _>(col)?),
        Col::I64 => c.field(name, r.try_get::<i64, _>(col)?),
        Col::OptI64 => c.field(name, r.try_get::<Option<i64>, _>(col)?),
        Col::Bool => c.field(name, r.try_get::<bool, _>(col)?),
        Col::Id => c.field(name, r.try_get::<Uuid, _>(col)?),
        Col::OptId => c.field(name, r.try_get::<Option<Uuid>, _>(col)?),
        Col::Time => c.field(name, r.try_get::<DateTime<Utc>, _>(col)?),
        Col::OptDate => c.field(name, r.try_get::<Option<NaiveDate>, _>(col)?),
        Col::Blob => c.field(name, Bytes(&r.try_get::<Vec<u8>, _>(col)?)),
        Col::OptBlob => c.field(
            name,
            r.try_get::<Option<Vec<u8>>, _>(col)?.as_deref().map(Bytes),
        ),
        // Compared with its original by `contents`, which knows the record.
        Col::CopyOfTime(_) => c.field(name, r.try_get::<Option<DateTime<Utc>>, _>(col)?),
    };
    Ok(())
}

fn select_list(alias: &str, cols: &[(&str, Col)]) -> String {
    cols.iter()
        .map(|(c, _)| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The current content hash of each record `which` picks, with the village
/// its household is in (`None` if that is gone): `(id, village, hash)`.
/// Rows are hashed as they stream, so a county's signatures and photos are
/// never all in memory.
async fn contents(
    conn: &mut <Db as sqlx::Database>::Connection,
    spec: &Spec,
    which: &Which<'_>,
) -> DbResult<Vec<(Uuid, Option<String>, String)>> {
    let mut children: Vec<std::collections::HashMap<Uuid, Vec<DbRow>>> = Vec::new();
    for child in spec.children {
        let alias = &child.from[child.from.rfind(' ').map_or(0, |i| i + 1)..];
        let (join, filter) = which.pick(spec.kind, child.key);
        let sql = format!(
            "SELECT {} AS record_key, {} FROM {} {join} {filter} ORDER BY {}, {}",
            child.key,
            select_list(alias, child.cols),
            child.from,
            child.key,
            child.order
        );
        let mut grouped: std::collections::HashMap<Uuid, Vec<DbRow>> = Default::default();
        for r in db(which.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await)? {
            grouped.entry(r.try_get("record_key")?).or_default().push(r);
        }
        children.push(grouped);
    }
    let (join, filter) = which.pick(spec.kind, spec.id);
    let sql = format!(
        "SELECT {} AS record_id, {} AS village, {} FROM {} {join} {} {filter}",
        spec.id,
        spec.village,
        select_list(spec.alias, spec.cols),
        spec.from,
        spec.joins,
    );
    let mut out = Vec::new();
    let q = which.bind(sqlx::query(&sql));
    let mut rows = q.fetch(&mut *conn);
    while let Some(r) = db(rows.try_next().await)? {
        let id: Uuid = r.try_get("record_id")?;
        let mut c = Canon::new(spec.kind);
        c.field("id", id);
        for (col, t) in spec.cols {
            put(&mut c, col, &r, col, *t)?;
        }
        for (child, grouped) in spec.children.iter().zip(&children) {
            for row in grouped.get(&id).map(Vec::as_slice).unwrap_or_default() {
                for (col, t) in child.cols {
                    let name = format!("{}.{col}", child.name);
                    match t {
                        Col::CopyOfTime(original) => {
                            let copy: Option<DateTime<Utc>> = row.try_get(*col)?;
                            if copy != Some(r.try_get::<DateTime<Utc>, _>(*original)?) {
                                c.field(&name, copy);
                            }
                        }
                        _ => put(&mut c, &name, row, col, *t)?,
                    }
                }
            }
        }
        out.push((id, r.try_get("village")?, c.hash()));
    }
    Ok(out)
}

/// The county chain a village's records go to.
fn county_of(village: &str) -> DbResult<String> {
    match village.get(..6) {
        Some(head) if village.len() == 12 => Ok(format!("{head}000000")),
        _ => Err(corrupt("village code", village)),
    }
}

/// Leaves a just-written record to be chained, with the hash of its
/// content as written, in the write's own transaction: a crash after the
/// commit leaves it waiting, never unchained.
pub(crate) async fn record_in(
    conn: &mut <Db as sqlx::Database>::Connection,
    kind: RecordKind,
    id: Uuid,
    now: DateTime<Utc>,
) -> DbResult<()> {
    record_all_in(conn, kind, &[id], now).await
}

/// [`record_in`] for many records of one kind, in the order given: a few
/// statements per chunk, however many (a batch of visits).
pub(crate) async fn record_all_in(
    conn: &mut <Db as sqlx::Database>::Connection,
    kind: RecordKind,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> DbResult<()> {
    for chunk in ids.chunks(CHUNK) {
        let mut hashed: std::collections::HashMap<Uuid, (String, String)> =
            std::collections::HashMap::with_capacity(chunk.len());
        for (id, village, hash) in contents(conn, spec(kind), &Which::Ids(chunk)).await? {
            hashed.insert(
                id,
                (county_of(village.as_deref().unwrap_or_default())?, hash),
            );
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO ledger_pending (county_code, kind, record_id, content_hash, queued_at) ",
        );
        let mut rows = Vec::with_capacity(chunk.len());
        for id in chunk {
            rows.push((*id, hashed.get(id).cloned().ok_or(DbError::NotFound)?));
        }
        q.push_values(rows, |mut b, (id, (county, hash))| {
            b.push_bind(county)
                .push_bind(kind.as_str())
                .push_bind(id)
                .push_bind(hash)
                .push_bind(now);
        });
        q.push(" ON CONFLICT (kind, record_id) DO NOTHING");
        db(q.build().execute(&mut *conn).await)?;
    }
    Ok(())
}

fn record_kind(r: &DbRow) -> DbResult<RecordKind> {
    let kind: String = r.try_get("kind")?;
    RecordKind::parse(&kind).ok_or_else(|| corrupt("ledger kind", &kind))
}

/// Counties whose pending records one chainer round takes on.
const COUNTIES_PER_ROUND: i64 = 8;

/// Appends up to `limit` of `county`'s waiting records to its chain, in
/// one transaction holding the chain's head row; none if another chainer
/// holds it.
async fn chain_county(
    pool: &sqlx::Pool<Db>,
    county: &str,
    limit: i64,
    now: DateTime<Utc>,
) -> DbResult<usize> {
    let mut tx = begin_write(pool).await?;
    db(sqlx::query(
        "INSERT INTO ledger_heads (county_code, seq, head_hash, updated_at) \
         VALUES ($1, 0, $2, $3) ON CONFLICT (county_code) DO NOTHING",
    )
    .bind(county)
    .bind(GENESIS)
    .bind(now)
    .execute(&mut *tx)
    .await)?;
    let Some(head) = db(sqlx::query(&format!(
        "SELECT seq, head_hash FROM ledger_heads WHERE county_code = $1{SKIP_LOCKED}"
    ))
    .bind(county)
    .fetch_optional(&mut *tx)
    .await)?
    else {
        return Ok(0);
    };
    let (mut seq, mut prev): (i64, String) = (head.try_get("seq")?, head.try_get("head_hash")?);
    let waiting = db(sqlx::query(
        "SELECT id, kind, record_id, content_hash FROM ledger_pending \
         WHERE county_code = $1 ORDER BY id LIMIT $2",
    )
    .bind(county)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await)?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let mut entries = Vec::with_capacity(waiting.len());
    let mut done = Vec::with_capacity(waiting.len());
    for r in &waiting {
        let kind = record_kind(r)?;
        let record_id: Uuid = r.try_get("record_id")?;
        let content_hash = match r.try_get::<Option<String>, _>("content_hash")? {
            Some(hash) => hash,
            // Stored before the chain existed: hashed now.
            None => contents(&mut tx, spec(kind), &Which::one(&record_id))
                .await?
                .into_iter()
                .next()
                .map_or_else(|| ABSENT.to_owned(), |(_, _, hash)| hash),
        };
        seq += 1;
        let hash = entry_hash(county, seq, kind, record_id, &content_hash, &prev);
        entries.push((seq, kind, record_id, content_hash, prev, hash.clone()));
        prev = hash;
        done.push(r.try_get::<i64, _>("id")?);
    }
    for chunk in entries.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO ledger_entries (county_code, seq, kind, record_id, content_hash, \
             prev_hash, entry_hash, chained_at) ",
        );
        q.push_values(chunk, |mut b, (seq, kind, id, content, prev, hash)| {
            b.push_bind(county)
                .push_bind(*seq)
                .push_bind(kind.as_str())
                .push_bind(*id)
                .push_bind(content.clone())
                .push_bind(prev.clone())
                .push_bind(hash.clone())
                .push_bind(now);
        });
        db(q.build().execute(&mut *tx).await)?;
    }
    for chunk in done.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM ledger_pending WHERE id IN (");
        push_in_list(&mut q, chunk.iter().copied());
        db(q.build().execute(&mut *tx).await)?;
    }
    db(sqlx::query(
        "UPDATE ledger_heads SET seq = $2, head_hash = $3, updated_at = $4 WHERE county_code = $1",
    )
    .bind(county)
    .bind(seq)
    .bind(&prev)
    .bind(now)
    .execute(&mut *tx)
    .await)?;
    db(tx.commit().await)?;
    Ok(entries.len())
}

fn head_from_row(r: &DbRow) -> DbResult<ChainHead> {
    Ok(ChainHead {
        county: r.try_get("county_code")?,
        seq: r.try_get("seq")?,
        hash: r.try_get("head_hash")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn verification_from_row(r: &DbRow) -> DbResult<VerificationRow> {
    Ok(VerificationRow {
        id: r.try_get("id")?,
        county: r.try_get("county_code")?,
        verified_at: r.try_get("verified_at")?,
        head_seq: r.try_get("head_seq")?,
        head_hash: r.try_get("head_hash")?,
        records: r.try_get("records")?,
        problems: r.try_get("problems")?,
        report: r.try_get("report")?,
        runner: r.try_get("runner")?,
    })
}

#[async_trait]
impl LedgerStore for ThisStore {
    async fn chain_pending(&self, limit: i64, now: DateTime<Utc>) -> DbResult<usize> {
        let counties = db(sqlx::query(
            "SELECT county_code FROM ledger_pending GROUP BY county_code \
             ORDER BY MIN(id) LIMIT $1",
        )
        .bind(COUNTIES_PER_ROUND)
        .fetch_all(&self.pool)
        .await)?;
        let mut chained = 0;
        for r in counties {
            let county: String = r.try_get("county_code")?;
            chained += chain_county(&self.writer, &county, limit, now).await?;
        }
        Ok(chained)
    }

    async fn ledger_pending(&self) -> DbResult<i64> {
        let r = db(sqlx::query("SELECT COUNT(*) AS n FROM ledger_pending")
            .fetch_one(&self.pool)
            .await)?;
        Ok(r.try_get("n")?)
    }

    async fn chain_facts(&self, county: &str) -> DbResult<ChainFacts> {
        // Reads only: a plain (deferred) transaction, one snapshot.
        let mut tx = db(self.pool.begin().await)?;
        if let Some(snapshot) = SNAPSHOT {
            db(sqlx::query(snapshot).execute(&mut *tx).await)?;
        }
        let mut facts = ChainFacts::default();
        let mut rows = sqlx::query(
            "SELECT seq, kind, record_id, content_hash, prev_hash, entry_hash \
             FROM ledger_entries WHERE county_code = $1 ORDER BY seq",
        )
        .bind(county)
        .fetch(&mut *tx);
        while let Some(r) = db(rows.try_next().await)? {
            facts.entries.push(Entry {
                seq: r.try_get("seq")?,
                kind: record_kind(&r)?,
                record_id: r.try_get("record_id")?,
                content_hash: r.try_get("content_hash")?,
                prev_hash: r.try_get("prev_hash")?,
                entry_hash: r.try_get("entry_hash")?,
            });
        }
        drop(rows);
        for r in db(sqlx::query(
            "SELECT kind, record_id, content_hash FROM ledger_pending \
             WHERE county_code = $1 ORDER BY id",
        )
        .bind(county)
        .fetch_all(&mut *tx)
        .await)?
        {
            facts.pending.push(Pending {
                kind: record_kind(&r)?,
                record_id: r.try_get("record_id")?,
                content_hash: r.try_get("content_hash")?,
            });
        }
        let code = AreaCode::parse(county).map_err(|_| corrupt("county code", county))?;
        let (lo, hi) = code.subtree_range();
        for kind in RecordKind::ALL {
            let spec = spec(kind);
            for (id, _, hash) in contents(&mut tx, spec, &Which::Chain(county)).await? {
                facts.contents.insert((kind, id), hash);
            }
            let k = kind.as_str();
            let unchained = db(sqlx::query(&format!(
                "SELECT {id} AS record_id FROM {from} {joins} \
                 WHERE {village} BETWEEN $1 AND $2 \
                 AND NOT EXISTS (SELECT 1 FROM ledger_entries e \
                     WHERE e.kind = '{k}' AND e.record_id = {id}) \
                 AND NOT EXISTS (SELECT 1 FROM ledger_pending p \
                     WHERE p.kind = '{k}' AND p.record_id = {id}) \
                 ORDER BY {id}",
                id = spec.id,
                from = spec.from,
                joins = spec.joins,
                village = spec.village,
            ))
            .bind(&lo)
            .bind(&hi)
            .fetch_all(&mut *tx)
            .await)?;
            for r in unchained {
                facts.unchained.push((kind, r.try_get("record_id")?));
            }
        }
        facts.head = db(sqlx::query(
            "SELECT seq, head_hash FROM ledger_heads WHERE county_code = $1",
        )
        .bind(county)
        .fetch_optional(&mut *tx)
        .await)?
        .map(|r| Ok::<_, DbError>((r.try_get("seq")?, r.try_get("head_hash")?)))
        .transpose()?;
        for r in db(sqlx::query(
            "SELECT DISTINCT head_seq, head_hash FROM ledger_verifications \
             WHERE county_code = $1 AND problems = 0",
        )
        .bind(county)
        .fetch_all(&mut *tx)
        .await)?
        {
            facts
                .verified_heads
                .push((r.try_get("head_seq")?, r.try_get("head_hash")?));
        }
        db(tx.commit().await)?;
        Ok(facts)
    }

    async fn ledger_counties(&self) -> DbResult<Vec<String>> {
        let rows = db(sqlx::query(
            "SELECT county_code FROM ledger_heads UNION SELECT county_code FROM ledger_pending \
             ORDER BY county_code",
        )
        .fetch_all(&self.pool)
        .await)?;
        rows.iter().map(|r| Ok(r.try_get("county_code")?)).collect()
    }

    async fn chain_heads(&self, area: &AreaCode) -> DbResult<Vec<ChainHead>> {
        let (lo, hi) = area.subtree_range();
        let rows = db(sqlx::query(
            "SELECT county_code, seq, head_hash, updated_at FROM ledger_heads \
             WHERE county_code BETWEEN $1 AND $2 ORDER BY county_code",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter().map(head_from_row).collect()
    }

    async fn save_verification(&self, v: &VerificationRow) -> DbResult<()> {
        db(sqlx::query(
            "INSERT INTO ledger_verifications (id, county_code, verified_at, head_seq, head_hash, \
             records, problems, report, runner) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(v.id)
        .bind(&v.county)
        .bind(v.verified_at)
        .bind(v.head_seq)
        .bind(&v.head_hash)
        .bind(v.records)
        .bind(v.problems)
        .bind(&v.report)
        .bind(&v.runner)
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn record_seal(&self, kind: RecordKind, id: Uuid) -> DbResult<RecordSeal> {
        let mut conn = db(self.pool.acquire().await)?;
        let mut seal = RecordSeal::default();
        if let Some((_, village, hash)) = contents(&mut conn, spec(kind), &Which::one(&id))
            .await?
            .into_iter()
            .next()
        {
            seal.current = Some(hash);
            seal.county = village
                .as_deref()
                .map(county_of)
                .transpose()?
                .unwrap_or_default();
        }
        if let Some(r) = db(sqlx::query(
            "SELECT county_code, seq, content_hash, prev_hash, entry_hash FROM ledger_entries \
             WHERE kind = $1 AND record_id = $2",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await)?
        {
            let county: String = r.try_get("county_code")?;
            let seq: i64 = r.try_get("seq")?;
            let before = db(sqlx::query(
                "SELECT entry_hash FROM ledger_entries WHERE county_code = $1 AND seq = $2",
            )
            .bind(&county)
            .bind(seq - 1)
            .fetch_optional(&mut *conn)
            .await)?
            .map(|b| b.try_get::<String, _>("entry_hash"))
            .transpose()?
            .unwrap_or_else(|| {
                if seq == 1 {
                    GENESIS.to_owned()
                } else {
                    String::new()
                }
            });
            seal.entry = Some((
                Entry {
                    seq,
                    kind,
                    record_id: id,
                    content_hash: r.try_get("content_hash")?,
                    prev_hash: r.try_get("prev_hash")?,
                    entry_hash: r.try_get("entry_hash")?,
                },
                before,
            ));
            seal.county = county;
        }
        seal.pending = db(sqlx::query(
            "SELECT content_hash FROM ledger_pending WHERE kind = $1 AND record_id = $2",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await)?
        .map(|r| r.try_get::<Option<String>, _>("content_hash"))
        .transpose()?;
        Ok(seal)
    }

    async fn last_verification(&self, county: &str) -> DbResult<Option<VerificationRow>> {
        db(sqlx::query(
            "SELECT id, county_code, verified_at, head_seq, head_hash, records, problems, report, \
             runner FROM ledger_verifications WHERE county_code = $1 \
             ORDER BY verified_at DESC, id DESC LIMIT 1",
        )
        .bind(county)
        .fetch_optional(&self.pool)
        .await)?
        .as_ref()
        .map(verification_from_row)
        .transpose()
    }
}
