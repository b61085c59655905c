//! The phone's own database (IndexedDB): the roster, drafts, the outbox
//! and what was delivered. Every record carries the user it belongs to,
//! and every read asks for one user's records only, so a second worker on
//! the same phone never sees the first one's households or drafts.
//!
//! Records are `{ id, user, json }`: the Rust value as JSON, which keeps
//! the wire types as the one definition and costs little to parse.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use js_sys::{Object, Reflect};
use rexie::{Index, KeyRange, ObjectStore, Rexie, TransactionMode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wasm_bindgen::JsValue;

use crate::field::{Roster, RosterList, VisitDraft};
use crate::visits::VisitSubmission;

const DB_NAME: &str = "daohu";
const DB_VERSION: u32 = 1;
const ROSTERS: &str = "rosters";
/// The list part of each roster ([`RosterList`]), written with it.
const ROSTER_LISTS: &str = "roster_lists";
const DRAFTS: &str = "drafts";
const OUTBOX: &str = "outbox";
/// One small record per outbox entry, written in the same transactions:
/// what the screens need, without signatures and photos to read and parse.
const WAITING: &str = "outbox_summaries";
const DELIVERED: &str = "delivered";
const BY_USER: &str = "by_user";

/// A finished visit waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub visit: VisitSubmission,
    pub queued_at: DateTime<Utc>,
    /// The last refusal or conflict, in words; `None` while it simply waits.
    pub problem: Option<String>,
    /// The server keeps another visit under this id: retrying cannot help,
    /// a supervisor decides. The entry stays on the phone.
    pub conflict: bool,
}

/// What the screens show of an outbox entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub id: Uuid,
    pub household_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub receipt_code: String,
    pub queued_at: DateTime<Utc>,
    pub problem: Option<String>,
    pub conflict: bool,
}

impl OutboxEntry {
    fn summary(&self) -> Waiting {
        Waiting {
            id: self.visit.id,
            household_id: self.visit.household_id,
            started_at: self.visit.started_at,
            receipt_code: crate::visits::receipt_code(&self.visit.signature.content_hash),
            queued_at: self.queued_at,
            problem: self.problem.clone(),
            conflict: self.conflict,
        }
    }
}

/// A visit the server acknowledged: enough to show it was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    pub id: Uuid,
    pub household_id: Uuid,
    pub receipt_code: String,
    pub started_at: DateTime<Utc>,
    pub delivered_at: DateTime<Utc>,
}

/// An IndexedDB failure, in words for the status line.
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "本机存储出错：{}", self.0)
    }
}

impl From<rexie::Error> for StoreError {
    fn from(e: rexie::Error) -> Self {
        StoreError(e.to_string())
    }
}

type Result<T> = std::result::Result<T, StoreError>;

thread_local! {
    static DB: RefCell<Option<Rc<Rexie>>> = const { RefCell::new(None) };
}

async fn db() -> Result<Rc<Rexie>> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let by_user = || Index::new(BY_USER, "user");
    let db = Rc::new(
        Rexie::builder(DB_NAME)
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new(ROSTERS).key_path("id"))
            .add_object_store(ObjectStore::new(ROSTER_LISTS).key_path("id"))
            .add_object_store(ObjectStore::new(DRAFTS).key_path("id").add_index(by_user()))
            .add_object_store(ObjectStore::new(OUTBOX).key_path("id").add_index(by_user()))
            .add_object_store(
                ObjectStore::new(WAITING)
                    .key_path("id")
                    .add_index(by_user()),
            )
            .add_object_store(
                ObjectStore::new(DELIVERED)
                    .key_path("id")
                    .add_index(by_user()),
            )
            .build()
            .await?,
    );
    DB.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

fn record(id: &str, user: Uuid, value: &impl Serialize) -> Result<JsValue> {
    let json = serde_json::to_string(value).map_err(|e| StoreError(e.to_string()))?;
    let obj = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&obj, &k.into(), &v);
    set("id", id.into())
        .and(set("user", user.to_string().into()))
        .and(set("json", json.into()))
        .map_err(|_| StoreError("无法写入记录".into()))?;
    Ok(obj.into())
}

fn value<T: DeserializeOwned>(record: &JsValue) -> Result<T> {
    let json = Reflect::get(record, &"json".into())
        .ok()
        .and_then(|j| j.as_string())
        .ok_or_else(|| StoreError("记录损坏".into()))?;
    serde_json::from_str(&json).map_err(|e| StoreError(e.to_string()))
}

/// The key range of one user's records in a `by_user` index.
fn only(user: Uuid) -> Result<KeyRange> {
    KeyRange::only(&user.to_string().into()).map_err(|e| StoreError(e.to_string()))
}

/// Everything the app shows when it opens, for one user: the household
/// list, drafts, the outbox summaries and the delivered list, read in one
/// transaction with the four requests in flight together.
pub async fn opening(
    user: Uuid,
) -> Result<(
    Option<RosterList>,
    Vec<VisitDraft>,
    Vec<Waiting>,
    Vec<Delivered>,
)> {
    let db = db().await?;
    let tx = db.transaction(
        &[ROSTER_LISTS, DRAFTS, WAITING, DELIVERED],
        TransactionMode::ReadOnly,
    )?;
    let (lists, drafts, waiting, delivered) = (
        tx.store(ROSTER_LISTS)?,
        tx.store(DRAFTS)?.index(BY_USER)?,
        tx.store(WAITING)?.index(BY_USER)?,
        tx.store(DELIVERED)?.index(BY_USER)?,
    );
    let (list, drafts, waiting, delivered) = futures::join!(
        lists.get(user.to_string().into()),
        drafts.get_all(Some(only(user)?), None),
        waiting.get_all(Some(only(user)?), None),
        delivered.get_all(Some(only(user)?), None),
    );
    let list = match list? {
        Some(r) if !r.is_undefined() => Some(value(&r)?),
        _ => None,
    };
    let mut waiting: Vec<Waiting> = values(&waiting?)?;
    waiting.sort_by_key(|e| e.queued_at);
    Ok((list, values(&drafts?)?, waiting, values(&delivered?)?))
}

fn values<T: DeserializeOwned>(records: &[JsValue]) -> Result<Vec<T>> {
    records.iter().map(value).collect()
}

async fn all_of<T: DeserializeOwned>(store_name: &str, user: Uuid) -> Result<Vec<T>> {
    let db = db().await?;
    let tx = db.transaction(&[store_name], TransactionMode::ReadOnly)?;
    let index = tx.store(store_name)?.index(BY_USER)?;
    values(&index.get_all(Some(only(user)?), None).await?)
}

pub async fn save_roster(roster: &Roster) -> Result<()> {
    let db = db().await?;
    let tx = db.transaction(&[ROSTERS, ROSTER_LISTS], TransactionMode::ReadWrite)?;
    let id = roster.user_id.to_string();
    tx.store(ROSTERS)?
        .put(&record(&id, roster.user_id, roster)?, None)
        .await?;
    tx.store(ROSTER_LISTS)?
        .put(&record(&id, roster.user_id, &roster.list())?, None)
        .await?;
    tx.done().await?;
    Ok(())
}

async fn one<T: DeserializeOwned>(store_name: &str, user: Uuid) -> Result<Option<T>> {
    let db = db().await?;
    let tx = db.transaction(&[store_name], TransactionMode::ReadOnly)?;
    match tx.store(store_name)?.get(user.to_string().into()).await? {
        Some(r) if !r.is_undefined() => value(&r).map(Some),
        _ => Ok(None),
    }
}

pub async fn roster(user: Uuid) -> Result<Option<Roster>> {
    one(ROSTERS, user).await
}

pub async fn save_draft(draft: &VisitDraft) -> Result<()> {
    let db = db().await?;
    let tx = db.transaction(&[DRAFTS], TransactionMode::ReadWrite)?;
    tx.store(DRAFTS)?
        .put(&record(&draft.id.to_string(), draft.user_id, draft)?, None)
        .await?;
    tx.done().await?;
    Ok(())
}

pub async fn delete_draft(id: Uuid) -> Result<()> {
    let db = db().await?;
    let tx = db.transaction(&[DRAFTS], TransactionMode::ReadWrite)?;
    tx.store(DRAFTS)?.delete(id.to_string().into()).await?;
    tx.done().await?;
    Ok(())
}

/// Moves a finished visit from the drafts to the outbox in one
/// transaction: it is in exactly one of the two, whatever happens.
pub async fn queue(user: Uuid, visit: &VisitSubmission, now: DateTime<Utc>) -> Result<()> {
    let entry = OutboxEntry {
        visit: visit.clone(),
        queued_at: now,
        problem: None,
        conflict: false,
    };
    let db = db().await?;
    let tx = db.transaction(&[DRAFTS, OUTBOX, WAITING], TransactionMode::ReadWrite)?;
    let id = visit.id.to_string();
    tx.store(OUTBOX)?
        .put(&record(&id, user, &entry)?, None)
        .await?;
    tx.store(WAITING)?
        .put(&record(&id, user, &entry.summary())?, None)
        .await?;
    tx.store(DRAFTS)?.delete(id.into()).await?;
    tx.done().await?;
    Ok(())
}

/// The outbox as the screens show it, oldest first: light to read.
pub async fn waiting(user: Uuid) -> Result<Vec<Waiting>> {
    let mut entries: Vec<Waiting> = all_of(WAITING, user).await?;
    entries.sort_by_key(|e| e.queued_at);
    Ok(entries)
}

/// The outbox with everything to send, oldest first.
pub async fn outbox(user: Uuid) -> Result<Vec<OutboxEntry>> {
    let mut entries: Vec<OutboxEntry> = all_of(OUTBOX, user).await?;
    entries.sort_by_key(|e| e.queued_at);
    Ok(entries)
}

/// Records the server's answers: delivered visits leave the outbox for
/// the delivered list (one transaction), refused ones keep their reason.
pub async fn settle(
    user: Uuid,
    delivered: &[Delivered],
    problems: &[(Uuid, String, bool)],
) -> Result<()> {
    let db = db().await?;
    let tx = db.transaction(&[OUTBOX, WAITING, DELIVERED], TransactionMode::ReadWrite)?;
    let outbox = tx.store(OUTBOX)?;
    let waiting = tx.store(WAITING)?;
    let done = tx.store(DELIVERED)?;
    for d in delivered {
        let id = d.id.to_string();
        done.put(&record(&id, user, d)?, None).await?;
        outbox.delete(id.clone().into()).await?;
        waiting.delete(id.into()).await?;
    }
    for (id, problem, conflict) in problems {
        let key = id.to_string();
        if let Some(r) = outbox.get(key.clone().into()).await?
            && !r.is_undefined()
        {
            let mut entry: OutboxEntry = value(&r)?;
            entry.problem = Some(problem.clone());
            entry.conflict = *conflict;
            outbox.put(&record(&key, user, &entry)?, None).await?;
            waiting
                .put(&record(&key, user, &entry.summary())?, None)
                .await?;
        }
    }
    tx.done().await?;
    Ok(())
}

pub async fn delivered(user: Uuid) -> Result<Vec<Delivered>> {
    all_of(DELIVERED, user).await
}

/// Removes a user's households and delivered list from the phone.
/// Refused while anything of theirs is undelivered (outbox or drafts).
pub async fn forget(user: Uuid) -> Result<()> {
    let db = db().await?;
    let tx = db.transaction(
        &[ROSTERS, ROSTER_LISTS, DRAFTS, OUTBOX, DELIVERED],
        TransactionMode::ReadWrite,
    )?;
    let mut pending = 0;
    for name in [OUTBOX, DRAFTS] {
        pending += tx
            .store(name)?
            .index(BY_USER)?
            .count(Some(only(user)?))
            .await?;
    }
    if pending > 0 {
        tx.abort().await?;
        return Err(StoreError(format!("还有 {pending} 条走访未上传")));
    }
    tx.store(ROSTERS)?.delete(user.to_string().into()).await?;
    tx.store(ROSTER_LISTS)?
        .delete(user.to_string().into())
        .await?;
    let delivered = tx.store(DELIVERED)?;
    let keys = delivered
        .index(BY_USER)?
        .get_all_keys(Some(only(user)?), None)
        .await?;
    for key in keys {
        delivered.delete(key).await?;
    }
    tx.done().await?;
    Ok(())
}
