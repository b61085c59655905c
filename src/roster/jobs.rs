//! Imports run in the background so the uploader's page can show how far
//! they are. The jobs live in the database ([`ImportStore`](crate::server::db::ImportStore)), so that behind
//! a balancer any instance answers for any import, and imports whose areas
//! overlap run one at a time across instances.
//!
//! - **One at a time.** A job checks and writes only while it holds its
//!   area (its claim in the database, see
//!   [`claim_import_job`](crate::server::db::ImportStore::claim_import_job)),
//!   so no import's checks can be overtaken by another's writes. Imports of
//!   different counties run at once: each writes only households inside its
//!   own area, and what it reads of other areas (whether a household number
//!   or an ID number is taken) is also held by the database's unique
//!   constraints at write time, so a race there is refused, never written
//!   ("写入时与刚刚保存的其他数据冲突"). A city or province import overlaps
//!   every county below it and waits for them, and they for it.
//! - **Liveness.** The instance holding a job renews its heartbeat every
//!   [`HEARTBEAT`] (and writes the progress at most every
//!   [`PROGRESS_EVERY`]); a job not heard from for [`STALE_AFTER`] is failed
//!   by whoever reads or queues behind it, with
//!   [`zh::IMPORT_INTERRUPTED`]. That is true: the import is one
//!   transaction, which also records the job's report, and which writes
//!   nothing once the job has been failed (a job whose report was recorded
//!   ends done instead). The upload is held only in the memory
//!   of the instance that received it (up to 64 MiB: the database is not
//!   the place for it), so a dead instance's job is not picked up again:
//!   it fails, and the uploader, who has the file, uploads it again.
//! - **Bounds.** Per instance, [`MAX_UNFINISHED_HERE`] imports wait or run
//!   at once (each holds its upload in memory until its turn); per area,
//!   [`MAX_UNFINISHED_PER_AREA`] across all instances (however many
//!   instances there are, a county's queue, and so its wait, stays short).
//!   Finished jobs are deleted after [`KEEP_FINISHED`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::AppError;
use crate::roster::model::{ImportJob, ImportPhase, RosterKind};
use crate::roster::service::{self, ImportFailure};
use crate::server::db::{Claim, ImportJobRow, JobClock, NewImportJob, Queued, Store};
use crate::text::zh;

/// Finished imports stay readable this long, then are deleted.
pub const KEEP_FINISHED: Duration = Duration::from_secs(6 * 3600);
/// Imports waiting or running at once in one instance. Each holds its whole
/// upload (up to `MAX_UPLOAD_BYTES`) until its turn, so this bounds memory.
pub const MAX_UNFINISHED_HERE: usize = 4;
/// Imports waiting or running at once for one area (overlapping scopes),
/// across all instances.
pub const MAX_UNFINISHED_PER_AREA: u32 = 4;
/// How often a job's instance says it is alive, running or waiting.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A job not heard from this long is dead. Far above [`HEARTBEAT`]: on
/// SQLite a heartbeat waits while an import's write transaction holds the
/// database's one write lock (seconds for the largest file).
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// Progress reaches the database at most this often: the import itself
/// only updates memory.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// How often a waiting job looks whether its turn has come.
const POLL: Duration = Duration::from_millis(250);

/// The times job operations judge by, now.
pub fn clock() -> JobClock {
    let now = Utc::now();
    JobClock {
        now,
        stale_before: now - STALE_AFTER,
    }
}

/// Where a running import is, in the memory of the instance running it:
/// the import updates it at no cost, and [`beat`] copies it to the
/// database.
pub struct JobProgress {
    state: Mutex<(ImportPhase, u32, u32)>,
}

impl Default for JobProgress {
    fn default() -> Self {
        JobProgress {
            state: Mutex::new((ImportPhase::Queued, 0, 0)),
        }
    }
}

impl JobProgress {
    /// Starts a phase of `total` rows.
    pub fn enter(&self, phase: ImportPhase, total: u32) {
        *self.state.lock().expect("progress lock") = (phase, 0, total);
    }

    pub fn set_done(&self, done: u32) {
        self.state.lock().expect("progress lock").1 = done;
    }

    fn snapshot(&self) -> (ImportPhase, u32, u32) {
        self.state.lock().expect("progress lock").clone()
    }
}

/// When a refused upload may try again: an import takes seconds.
const BUSY_RETRY_AFTER_SECS: u64 = 30;

/// A server's [`MAX_UNFINISHED_HERE`] places for imports (one per server
/// process, in its `AppState`): each import waiting or running holds its
/// upload in the process's memory.
#[derive(Default)]
pub struct ImportSlots(AtomicUsize);

impl ImportSlots {
    pub fn take(self: &Arc<Self>) -> Option<Slot> {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_UNFINISHED_HERE).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(self.clone()))
    }
}

/// One of the places, given back when dropped (however the import ends).
pub struct Slot(Arc<ImportSlots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// This instance, as jobs name their runner: host and process.
fn runner() -> &'static str {
    static RUNNER: OnceLock<String> = OnceLock::new();
    RUNNER.get_or_init(|| {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "daohu".into());
        format!("{host}:{}", std::process::id())
    })
}

/// An upload, ready to import.
pub struct Upload {
    pub actor: Actor,
    pub address: Option<String>,
    pub kind: RosterKind,
    pub file: String,
    pub bytes: axum::body::Bytes,
}

/// Queues the import and starts it in the background; its id. Refused with
/// 429 when this instance or the importer's area has too many waiting.
pub async fn start(
    store: Arc<dyn Store>,
    slots: &Arc<ImportSlots>,
    upload: Upload,
) -> Result<Uuid, AppError> {
    let slot = slots.take().ok_or_else(|| AppError::Busy {
        message: format!(
            "本服务器已有 {MAX_UNFINISHED_HERE} 个导入在排队或进行中：请等它们完成后再上传"
        ),
        retry_after_secs: BUSY_RETRY_AFTER_SECS,
    })?;
    let id = Uuid::now_v7();
    let clock = clock();
    let job = NewImportJob {
        id,
        owner_id: upload.actor.user_id,
        kind: upload.kind,
        file_name: &upload.file,
        area_name: &upload.actor.area_name,
        scope: upload.actor.area.scope_prefix(),
        runner: runner(),
    };
    let finished_before = clock.now - KEEP_FINISHED;
    match store
        .queue_import_job(&job, MAX_UNFINISHED_PER_AREA, clock, finished_before)
        .await?
    {
        Queued::Yes => {}
        Queued::Full(n) => {
            return Err(AppError::Busy {
                message: format!(
                    "{}已有 {n} 个导入在排队或进行中：请等它们完成后再上传",
                    upload.actor.area_name
                ),
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            });
        }
    }
    tokio::spawn(run(store, id, upload, slot));
    Ok(id)
}

/// The job, if `owner` started it; a foreign id answers like an unknown one.
pub async fn get(store: &dyn Store, id: Uuid, owner: Uuid) -> Result<Option<ImportJob>, AppError> {
    let clock = clock();
    Ok(store
        .import_job(id, owner, clock)
        .await?
        .map(|row| view(row, clock.now)))
}

fn view(row: ImportJobRow, now: chrono::DateTime<Utc>) -> ImportJob {
    let end = row.finished_at.unwrap_or(now);
    ImportJob {
        id: row.id,
        kind: row.kind,
        file: row.file_name,
        area_name: row.area_name,
        // The scope is the area code's significant digits.
        area_code: format!("{:0<12}", row.scope),
        phase: row.phase,
        done: row.done,
        total: row.total,
        elapsed_ms: (end - row.created_at).num_milliseconds().max(0) as u64,
    }
}

/// Waits for the job's turn, imports, records the outcome. The slot (and
/// with it the upload) is let go when this ends.
async fn run(store: Arc<dyn Store>, id: Uuid, upload: Upload, slot: Slot) {
    use futures::FutureExt;
    let progress = Arc::new(JobProgress::default());
    let stop = Arc::new(tokio::sync::Notify::new());
    let beating = tokio::spawn(beat(store.clone(), id, progress.clone(), stop.clone()));
    let Upload {
        actor,
        address,
        kind,
        file,
        bytes,
    } = upload;
    let outcome = match wait_for_turn(store.as_ref(), id).await {
        true => {
            progress.enter(ImportPhase::Reading, 0);
            // A panic must still end the job, or its page would wait until
            // the heartbeat stopped.
            std::panic::AssertUnwindSafe(service::import(
                store.as_ref(),
                &actor,
                id,
                kind,
                &file,
                bytes,
                &progress,
            ))
            .catch_unwind()
            .await
            .unwrap_or(Err(ImportFailure::Error(AppError::Internal)))
        }
        false => Err(ImportFailure::Interrupted),
    };
    service::audit(store.as_ref(), &actor, address, kind, &file, &outcome).await;
    let finished = match &outcome {
        // Its report was recorded with its rows; the follow-up work (income
        // accounts) and the audit are done, so the area is free.
        Ok(report) => Some(ImportPhase::Done(report.clone())),
        Err(ImportFailure::Interrupted) => None,
        Err(ImportFailure::Refused(problems)) => Some(ImportPhase::Refused {
            problems: problems.kept().to_vec(),
            total: problems.total() as u32,
        }),
        Err(ImportFailure::Error(e)) => {
            tracing::error!(file = %file, error = ?e, "roster import failed");
            Some(ImportPhase::Failed(match e {
                AppError::Internal => zh::IMPORT_FAILED.to_owned(),
                other => format!("{}：{other}", zh::IMPORT_FAILED),
            }))
        }
    };
    if let Some(phase) = finished {
        // Only an unfinished job takes it: one failed as dead stays so.
        if let Err(e) = store.finish_import_job(id, &phase, Utc::now()).await {
            tracing::error!(job = %id, error = %e, "recording an import's outcome");
        }
    }
    stop.notify_one();
    let _ = beating.await;
    drop(slot);
}

/// Whether the job got its turn (`false`: it was failed as dead meanwhile,
/// e.g. the database was out of reach for longer than [`STALE_AFTER`]).
async fn wait_for_turn(store: &dyn Store, id: Uuid) -> bool {
    loop {
        match store.claim_import_job(id, clock()).await {
            Ok(Claim::Claimed) => return true,
            Ok(Claim::Ended) => return false,
            Ok(Claim::Wait) => {}
            Err(e) => tracing::warn!(job = %id, error = %e, "claiming an import's turn"),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The job's heartbeat, and its progress once it runs, until `stop`.
async fn beat(
    store: Arc<dyn Store>,
    id: Uuid,
    progress: Arc<JobProgress>,
    stop: Arc<tokio::sync::Notify>,
) {
    let mut written: Option<(ImportPhase, u32, u32)> = None;
    let mut last_beat = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PROGRESS_EVERY) => {}
            _ = stop.notified() => return,
        }
        let now = progress.snapshot();
        let queued = now.0 == ImportPhase::Queued;
        let moved = !queued && written.as_ref() != Some(&now);
        if !moved && last_beat.elapsed() < HEARTBEAT {
            continue;
        }
        let update = (!queued).then_some((&now.0, now.1, now.2));
        let beaten = store.beat_import_job(id, update, Utc::now()).await;
        match beaten {
            Ok(true) => {
                last_beat = Instant::now();
                written = (!queued).then_some(now);
            }
            // Failed as dead (it could not beat in time): the import's
            // write will find that and write nothing.
            Ok(false) => return,
            Err(e) => tracing::info!(job = %id, error = %e, "an import's heartbeat"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_more_than_a_few_imports_wait_in_one_process() {
        let places = Arc::new(ImportSlots::default());
        let slots: Vec<Slot> = std::iter::from_fn(|| places.take()).take(10).collect();
        assert_eq!(slots.len(), MAX_UNFINISHED_HERE);
        assert!(places.take().is_none(), "the process is full");
        drop(slots);
        assert!(places.take().is_some(), "a finished import makes room");
    }
}
