//! The hash chain's rules as pure functions: a record's canonical content,
//! an entry's hash, and the walk that finds what changed.
//!
//! Each county has one chain. Entry `n` holds a record's kind and id, the
//! SHA-256 of its canonical content, and the hash of entry `n − 1` (the
//! first holds [`GENESIS`]); its own hash covers all of these. A record
//! edited after it was chained no longer hashes to its entry; an entry
//! edited, removed or slipped in breaks the links after it; a record that
//! never went through the app has no entry at all.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::visits::hex;

/// The kinds of signed record the chain holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RecordKind {
    /// A delivered visit with its verification lines and declared income.
    Visit,
    /// A supervisor's review step of a visit.
    Review,
    /// A discrepancy item as it was opened (its later steps are events).
    Discrepancy,
    /// A step on a discrepancy item (assign, note, close, reopen).
    DiscrepancyEvent,
    /// A move of a plan measure.
    MeasureEvent,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Visit,
        RecordKind::Review,
        RecordKind::Discrepancy,
        RecordKind::DiscrepancyEvent,
        RecordKind::MeasureEvent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Visit => "visit",
            RecordKind::Review => "review",
            RecordKind::Discrepancy => "discrepancy",
            RecordKind::DiscrepancyEvent => "discrepancy_event",
            RecordKind::MeasureEvent => "measure_event",
        }
    }

    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            RecordKind::Visit => "走访记录",
            RecordKind::Review => "审核记录",
            RecordKind::Discrepancy => "核实问题",
            RecordKind::DiscrepancyEvent => "问题处理记录",
            RecordKind::MeasureEvent => "帮扶措施进展",
        }
    }
}

/// The hash a chain's first entry links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The content hash chained for a record that was already gone when the
/// chainer came to hash it (stored before the chain existed, then deleted):
/// it can never match a record, so the walk reports it deleted.
pub const ABSENT: &str = "absent";

/// An entry's own hash: over its place in its chain, its record and the
/// entry before it.
pub fn entry_hash(
    county: &str,
    seq: i64,
    kind: RecordKind,
    record_id: Uuid,
    content_hash: &str,
    prev_hash: &str,
) -> String {
    let text = format!(
        "daohu-ledger-v1\n{county}\n{seq}\n{}\n{record_id}\n{content_hash}\n{prev_hash}\n",
        kind.as_str()
    );
    hex(&Sha256::digest(text.as_bytes()))
}

/// A record's canonical content: one `name=value` line per column in a
/// fixed order, each value in one fixed spelling whatever the backend
/// returned (strings JSON-quoted, times UTC to the microsecond, bytes as
/// their SHA-256), so that both backends hash a record alike and no value
/// can pass for another.
pub struct Canon(String);

impl Canon {
    pub fn new(kind: RecordKind) -> Canon {
        Canon(format!("{}\n", kind.as_str()))
    }

    pub fn field(&mut self, name: &str, value: impl CanonValue) -> &mut Canon {
        self.0.push_str(name);
        self.0.push('=');
        value.write(&mut self.0);
        self.0.push('\n');
        self
    }

    pub fn text(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

/// A value's one spelling in a [`Canon`].
pub trait CanonValue {
    fn write(&self, out: &mut String);
}

impl CanonValue for &str {
    fn write(&self, out: &mut String) {
        out.push_str(&serde_json::to_string(self).expect("a string always serializes"));
    }
}
impl CanonValue for &String {
    fn write(&self, out: &mut String) {
        self.as_str().write(out)
    }
}
impl CanonValue for i64 {
    fn write(&self, out: &mut String) {
        out.push_str(&self.to_string())
    }
}
impl CanonValue for i32 {
    fn write(&self, out: &mut String) {
        i64::from(*self).write(out)
    }
}
impl CanonValue for bool {
    fn write(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" })
    }
}
impl CanonValue for Uuid {
    fn write(&self, out: &mut String) {
        out.push_str(&self.to_string())
    }
}
impl CanonValue for chrono::DateTime<chrono::Utc> {
    fn write(&self, out: &mut String) {
        out.push_str(&self.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
    }
}
impl CanonValue for chrono::NaiveDate {
    fn write(&self, out: &mut String) {
        out.push_str(&self.format("%Y-%m-%d").to_string())
    }
}
/// Bytes (a signature image, a photo), by their SHA-256.
pub struct Bytes<'a>(pub &'a [u8]);
impl CanonValue for Bytes<'_> {
    fn write(&self, out: &mut String) {
        out.push_str(&hex(&Sha256::digest(self.0)))
    }
}
impl<T: CanonValue> CanonValue for Option<T> {
    fn write(&self, out: &mut String) {
        match self {
            Some(v) => v.write(out),
            None => out.push_str("null"),
        }
    }
}

/// One entry of a chain as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub content_hash: String,
    pub prev_hash: String,
    pub entry_hash: String,
}

/// A record written but not yet chained, with the content hash its write
/// took (`None`: stored before the chain existed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub content_hash: Option<String>,
}

/// Everything a county's verification reads, as the store holds it now.
#[derive(Debug, Clone, Default)]
pub struct ChainFacts {
    /// The chain, by `seq`.
    pub entries: Vec<Entry>,
    pub pending: Vec<Pending>,
    /// The current content hash of every record the chain or the pending
    /// list names that still exists.
    pub contents: std::collections::HashMap<(RecordKind, Uuid), String>,
    /// Records of the county's households that neither the chain nor the
    /// pending list knows: written past the app.
    pub unchained: Vec<(RecordKind, Uuid)>,
    /// The stored head (`seq`, hash), if the chain has begun.
    pub head: Option<(i64, String)>,
    /// Heads earlier clean verifications saw (`seq`, hash): each must
    /// still be in the chain.
    pub verified_heads: Vec<(i64, String)>,
}

/// What a verification can find wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProblemKind {
    /// The record's content no longer hashes to what was chained.
    Changed,
    /// The chain names a record that is gone.
    Deleted,
    /// A record the chain has never seen: written to the database directly.
    Unchained,
    /// An entry's own hash does not match its fields: the entry was edited.
    EntryAltered,
    /// An entry does not link to the one before it, or a number is missing:
    /// entries were deleted or slipped in.
    BrokenLink,
    /// The stored head is not the chain's last entry: entries were cut off
    /// the end, or the head was edited.
    HeadMismatch,
    /// A head an earlier verification saw is no longer in the chain: the
    /// chain was rebuilt since.
    Rewritten,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Changed => "changed",
            ProblemKind::Deleted => "deleted",
            ProblemKind::Unchained => "inserted",
            ProblemKind::EntryAltered => "entry_altered",
            ProblemKind::BrokenLink => "broken_link",
            ProblemKind::HeadMismatch => "head_mismatch",
            ProblemKind::Rewritten => "rewritten",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProblemKind::Changed => "记录在签署后被改动",
            ProblemKind::Deleted => "记录已被删除",
            ProblemKind::Unchained => "记录未经系统写入（直接插入数据库）",
            ProblemKind::EntryAltered => "链条记录本身被改动",
            ProblemKind::BrokenLink => "链条断开（链条记录被删除或插入）",
            ProblemKind::HeadMismatch => "链头与链尾不符（链尾被截去或链头被改）",
            ProblemKind::Rewritten => "以前核验过的链头已不在链上（链条被重建）",
        }
    }
}

/// One thing found wrong, naming the record or the entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The chain entry it concerns, if any.
    pub seq: Option<i64>,
    /// The record it concerns, if any.
    pub record: Option<(RecordKind, Uuid)>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(seq) = self.seq {
            write!(f, "第{seq}条 ")?;
        }
        if let Some((kind, id)) = self.record {
            write!(f, "{} {} {id} ", kind.label(), kind.as_str())?;
        }
        write!(f, "— {} ({})", self.kind.label(), self.kind.as_str())
    }
}

/// The outcome of walking one county's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// The last entry (`seq`, hash) of the chain as walked (`0`, [`GENESIS`]
    /// for an empty one).
    pub head: (i64, String),
    /// Records checked: chained and pending.
    pub records: i64,
    pub problems: Vec<Problem>,
}

/// Walks a county's chain and names every problem: each entry against its
/// own hash, the entry before it and its record's current content; each
/// pending record against the hash its write took; the stored head against
/// the last entry; earlier verified heads against the entries at their
/// places; and every record the chain does not know.
pub fn walk(county: &str, facts: &ChainFacts) -> Walk {
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut by_seq = std::collections::HashMap::new();
    for e in &facts.entries {
        let record = Some((e.kind, e.record_id));
        if e.seq != expected_seq || e.prev_hash != prev {
            problems.push(Problem {
                kind: ProblemKind::BrokenLink,
                seq: Some(e.seq),
                record,
            });
        }
        if entry_hash(
            county,
            e.seq,
            e.kind,
            e.record_id,
            &e.content_hash,
            &e.prev_hash,
        ) != e.entry_hash
        {
            problems.push(Problem {
                kind: ProblemKind::EntryAltered,
                seq: Some(e.seq),
                record,
            });
        }
        if let Some(p) = check_content(facts, e.kind, e.record_id, &e.content_hash, Some(e.seq)) {
            problems.push(p);
        }
        by_seq.insert(e.seq, e.entry_hash.as_str());
        prev = e.entry_hash.clone();
        expected_seq = e.seq + 1;
    }
    let head = facts
        .entries
        .last()
        .map_or((0, GENESIS.to_owned()), |e| (e.seq, e.entry_hash.clone()));
    let stored_head = facts.head.clone().unwrap_or((0, GENESIS.to_owned()));
    if stored_head != head {
        problems.push(Problem {
            kind: ProblemKind::HeadMismatch,
            seq: Some(stored_head.0),
            record: None,
        });
    }
    for (seq, hash) in &facts.verified_heads {
        if *seq > 0 && by_seq.get(seq) != Some(&hash.as_str()) {
            problems.push(Problem {
                kind: ProblemKind::Rewritten,
                seq: Some(*seq),
                record: None,
            });
        }
    }
    for p in &facts.pending {
        if let Some(hash) = &p.content_hash
            && let Some(p) = check_content(facts, p.kind, p.record_id, hash, None)
        {
            problems.push(p);
        }
    }
    for &(kind, id) in &facts.unchained {
        problems.push(Problem {
            kind: ProblemKind::Unchained,
            seq: None,
            record: Some((kind, id)),
        });
    }
    problems.sort();
    problems.dedup();
    Walk {
        head,
        records: (facts.entries.len() + facts.pending.len()) as i64,
        problems,
    }
}

fn check_content(
    facts: &ChainFacts,
    kind: RecordKind,
    id: Uuid,
    chained: &str,
    seq: Option<i64>,
) -> Option<Problem> {
    let problem = match facts.contents.get(&(kind, id)) {
        None => ProblemKind::Deleted,
        Some(now) if now != chained => ProblemKind::Changed,
        Some(_) => return None,
    };
    Some(Problem {
        kind: problem,
        seq,
        record: Some((kind, id)),
    })
}

/// One line that stands for many counties' heads (a city's or the
/// province's report): the SHA-256 of every `county:seq:hash`, in code
/// order. Anyone holding the heads can recompute it.
pub fn heads_digest<'a>(heads: impl IntoIterator<Item = (&'a str, i64, &'a str)>) -> String {
    let mut heads: Vec<_> = heads.into_iter().collect();
    heads.sort();
    let text: String = heads
        .iter()
        .map(|(county, seq, hash)| format!("{county}:{seq}:{hash}\n"))
        .collect();
    hex(&Sha256::digest(text.as_bytes()))
}

/// Whether the stored record is still what was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seal {
    /// Its chain entry verifies: content, the entry's own hash, and its
    /// link to the entry before it.
    Chained { seq: i64 },
    /// Not chained yet (minutes after it arrived), and still as written.
    Waiting,
    /// The record no longer matches what was chained.
    Altered,
}

/// What the store holds about one record's place in its chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordSeal {
    pub county: String,
    /// The record's content hash now (`None`: it is gone).
    pub current: Option<String>,
    /// Its chain entry, and the hash of the entry before it ([`GENESIS`]
    /// for the first).
    pub entry: Option<(Entry, String)>,
    /// Waiting to be chained, with the hash its write took.
    pub pending: Option<Option<String>>,
}

impl RecordSeal {
    /// Whether the record is what was chained: its content, its entry's own
    /// hash and the entry's link to the one before. (The whole chain is
    /// walked by [`walk`]; this is one record's check, cheap enough for a
    /// household's receipt.)
    pub fn seal(&self) -> Seal {
        let Some(current) = &self.current else {
            return Seal::Altered;
        };
        if let Some((e, before)) = &self.entry {
            let holds = &e.content_hash == current
                && &e.prev_hash == before
                && entry_hash(
                    &self.county,
                    e.seq,
                    e.kind,
                    e.record_id,
                    &e.content_hash,
                    &e.prev_hash,
                ) == e.entry_hash;
            return if holds {
                Seal::Chained { seq: e.seq }
            } else {
                Seal::Altered
            };
        }
        match &self.pending {
            Some(Some(hash)) if hash == current => Seal::Waiting,
            Some(None) => Seal::Waiting,
            _ => Seal::Altered,
        }
    }
}

/// A county's chain as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountyLedger {
    pub county: String,
    pub head_seq: i64,
    pub head_hash: String,
    pub last: Option<LastVerification>,
}

/// The newest verification of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastVerification {
    pub at: chrono::DateTime<chrono::Utc>,
    pub records: i64,
    pub problems: i64,
    /// The first problems in words.
    pub report: Vec<String>,
    /// Who or what ran it (an instance, or a person on the county page).
    pub runner: String,
}

/// What a report was computed from: the chain heads of its area's
/// counties when it was made. Printed on the dispatch table and in its
/// Excel file, so a figure sent upward can later be tied to these records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStamp {
    /// Counties with a chain in the area.
    pub counties: usize,
    /// Entries in all of them.
    pub entries: i64,
    /// One county: its head hash; several: [`heads_digest`] of their heads.
    pub hash: String,
    /// The one county's code, when the area lies in one county.
    pub county: Option<String>,
}

impl ChainStamp {
    pub fn of_heads<'a>(heads: impl IntoIterator<Item = (&'a str, i64, &'a str)>) -> ChainStamp {
        let heads: Vec<_> = heads.into_iter().collect();
        match heads.as_slice() {
            [] => ChainStamp {
                hash: GENESIS.to_owned(),
                ..ChainStamp::default()
            },
            [(county, seq, hash)] => ChainStamp {
                counties: 1,
                entries: *seq,
                hash: (*hash).to_owned(),
                county: Some((*county).to_owned()),
            },
            many => ChainStamp {
                counties: many.len(),
                entries: many.iter().map(|(_, seq, _)| *seq).sum(),
                hash: heads_digest(many.iter().copied()),
                county: None,
            },
        }
    }

    /// The line printed under a report.
    pub fn line(&self) -> String {
        match &self.county {
            Some(county) => format!("数据链 {county} 第 {} 条，链头 {}", self.entries, self.hash),
            None => format!(
                "数据链摘要（{} 个县，共 {} 条）{}",
                self.counties, self.entries, self.hash
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COUNTY: &str = "621102000000";

    /// A clean chain of `n` visits, with their contents.
    fn chain(n: usize) -> ChainFacts {
        let mut facts = ChainFacts::default();
        let mut prev = GENESIS.to_owned();
        for i in 0..n {
            let id = Uuid::from_u128(i as u128 + 1);
            let mut c = Canon::new(RecordKind::Visit);
            c.field("i", i as i64);
            let content = c.hash();
            let seq = i as i64 + 1;
            let hash = entry_hash(COUNTY, seq, RecordKind::Visit, id, &content, &prev);
            facts.entries.push(Entry {
                seq,
                kind: RecordKind::Visit,
                record_id: id,
                content_hash: content.clone(),
                prev_hash: prev.clone(),
                entry_hash: hash.clone(),
            });
            facts.contents.insert((RecordKind::Visit, id), content);
            prev = hash;
        }
        facts.head = facts.entries.last().map(|e| (e.seq, e.entry_hash.clone()));
        facts
    }

    fn kinds(w: &Walk) -> Vec<(ProblemKind, Option<i64>)> {
        w.problems.iter().map(|p| (p.kind, p.seq)).collect()
    }

    #[test]
    fn a_clean_chain_walks_clean() {
        for n in [0, 1, 5] {
            let w = walk(COUNTY, &chain(n));
            assert!(w.problems.is_empty(), "{n}: {:?}", w.problems);
            assert_eq!(w.records, n as i64);
        }
        assert_eq!(walk(COUNTY, &chain(0)).head, (0, GENESIS.to_owned()));
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut f = chain(5);
        let id = f.entries[2].record_id;
        f.contents.insert((RecordKind::Visit, id), "other".into());
        let w = walk(COUNTY, &f);
        assert_eq!(kinds(&w), vec![(ProblemKind::Changed, Some(3))]);
        assert_eq!(w.problems[0].record, Some((RecordKind::Visit, id)));
    }

    #[test]
    fn a_deleted_record_is_named() {
        let mut f = chain(5);
        let id = f.entries[0].record_id;
        f.contents.remove(&(RecordKind::Visit, id));
        assert_eq!(
            kinds(&walk(COUNTY, &f)),
            vec![(ProblemKind::Deleted, Some(1))]
        );
    }

    #[test]
    fn a_deleted_entry_breaks_the_link_after_it() {
        let mut f = chain(5);
        f.entries.remove(2);
        assert_eq!(
            kinds(&walk(COUNTY, &f)),
            vec![(ProblemKind::BrokenLink, Some(4))]
        );
    }

    #[test]
    fn an_entry_slipped_in_or_edited_is_found() {
        let mut f = chain(4);
        // Slipped in between 2 and 3, renumbered to look contiguous: its own
        // hash may be right, but the entry after it no longer links.
        let id = Uuid::from_u128(99);
        let prev = f.entries[1].entry_hash.clone();
        let forged = Entry {
            seq: 3,
            kind: RecordKind::Visit,
            record_id: id,
            content_hash: "c".into(),
            prev_hash: prev.clone(),
            entry_hash: entry_hash(COUNTY, 3, RecordKind::Visit, id, "c", &prev),
        };
        f.contents.insert((RecordKind::Visit, id), "c".into());
        f.entries.insert(2, forged);
        for e in &mut f.entries[3..] {
            e.seq += 1;
        }
        let w = walk(COUNTY, &f);
        assert!(
            w.problems
                .iter()
                .any(|p| p.kind == ProblemKind::BrokenLink && p.seq == Some(4)),
            "{:?}",
            w.problems
        );

        let mut f = chain(3);
        f.entries[1].content_hash = "forged".into();
        f.contents
            .insert((RecordKind::Visit, f.entries[1].record_id), "forged".into());
        assert_eq!(
            kinds(&walk(COUNTY, &f)),
            vec![(ProblemKind::EntryAltered, Some(2))]
        );
    }

    #[test]
    fn a_cut_tail_or_a_rewritten_chain_is_found() {
        let mut f = chain(5);
        f.entries.truncate(3);
        assert_eq!(
            kinds(&walk(COUNTY, &f)),
            vec![(ProblemKind::HeadMismatch, Some(5))]
        );

        let mut f = chain(3);
        f.verified_heads = vec![(2, "seen-before".into())];
        assert_eq!(
            kinds(&walk(COUNTY, &f)),
            vec![(ProblemKind::Rewritten, Some(2))]
        );
        let mut f = chain(3);
        f.verified_heads = vec![(2, f.entries[1].entry_hash.clone()), (0, GENESIS.into())];
        assert!(walk(COUNTY, &f).problems.is_empty());
    }

    #[test]
    fn pending_and_unchained_records_are_checked() {
        let mut f = chain(1);
        let waiting = Uuid::from_u128(50);
        f.pending.push(Pending {
            kind: RecordKind::Review,
            record_id: waiting,
            content_hash: Some("as-written".into()),
        });
        f.contents
            .insert((RecordKind::Review, waiting), "as-written".into());
        assert!(walk(COUNTY, &f).problems.is_empty());
        f.contents
            .insert((RecordKind::Review, waiting), "edited".into());
        let stray = Uuid::from_u128(51);
        f.unchained.push((RecordKind::MeasureEvent, stray));
        let w = walk(COUNTY, &f);
        assert_eq!(
            kinds(&w),
            vec![(ProblemKind::Changed, None), (ProblemKind::Unchained, None)]
        );
        assert_eq!(
            w.problems[1].record,
            Some((RecordKind::MeasureEvent, stray))
        );
    }

    #[test]
    fn canonical_values_cannot_pass_for_each_other() {
        let hash = |f: &dyn Fn(&mut Canon)| {
            let mut c = Canon::new(RecordKind::Visit);
            f(&mut c);
            c.hash()
        };
        let a = hash(&|c| {
            c.field("a", "x\nb=y");
        });
        let b = hash(&|c| {
            c.field("a", "x").field("b", "y");
        });
        assert_ne!(a, b, "a newline in a value cannot forge a field");
        assert_ne!(
            hash(&|c| {
                c.field("n", None::<i64>);
            }),
            hash(&|c| {
                c.field("n", "null");
            })
        );
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-01T02:00:00.123456789+08:00")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let mut c = Canon::new(RecordKind::Review);
        c.field("at", t);
        assert_eq!(c.text(), "review\nat=2026-02-28T18:00:00.123456Z\n");
    }

    #[test]
    fn the_digest_of_heads_ignores_their_order_only() {
        let a = heads_digest([("621102000000", 3, "aa"), ("621103000000", 1, "bb")]);
        let b = heads_digest([("621103000000", 1, "bb"), ("621102000000", 3, "aa")]);
        assert_eq!(a, b);
        assert_ne!(
            a,
            heads_digest([("621102000000", 4, "aa"), ("621103000000", 1, "bb")])
        );
    }
}
