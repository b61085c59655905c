//! Imports run in the background so the uploader's page can show how far
//! they are. The registry lives in memory: an import is one transaction, so
//! a restart part-way leaves nothing written, and the page then says the
//! import is unknown and to upload again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::roster::model::{ImportJob, ImportPhase, ImportReport, RosterKind};
use crate::roster::service::ImportFailure;

/// Finished imports stay readable this long.
const KEEP_FINISHED: Duration = Duration::from_secs(6 * 3600);
/// Imports waiting or running at once. Each holds its whole upload (up to
/// `MAX_UPLOAD_BYTES`) until its turn, so the queue is what bounds them.
pub const MAX_UNFINISHED: usize = 4;

/// Where one import is. Shared between the task doing the work and the
/// requests reading it.
pub struct JobProgress {
    state: Mutex<(ImportPhase, u32, u32)>,
    started: Instant,
    finished: Mutex<Option<Instant>>,
}

impl Default for JobProgress {
    fn default() -> Self {
        JobProgress {
            state: Mutex::new((ImportPhase::Queued, 0, 0)),
            started: Instant::now(),
            finished: Mutex::new(None),
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

    /// Records the outcome (the problems beyond what a page can show were
    /// counted, not kept).
    pub fn finish(&self, outcome: &Result<ImportReport, ImportFailure>) {
        let phase = match outcome {
            Ok(report) => ImportPhase::Done(report.clone()),
            Err(ImportFailure::Refused(problems)) => ImportPhase::Refused {
                problems: problems.kept().to_vec(),
                total: problems.total() as u32,
            },
            Err(ImportFailure::Error(e)) => ImportPhase::Failed(e.to_string()),
        };
        let mut state = self.state.lock().expect("progress lock");
        let total = state.2;
        *state = (phase, total, total);
        *self.finished.lock().expect("progress lock") = Some(Instant::now());
    }

    fn finished_before(&self, deadline: Instant) -> bool {
        self.finished
            .lock()
            .expect("progress lock")
            .is_some_and(|at| at < deadline)
    }
}

/// One import: who started it, on what, and its progress.
pub struct Job {
    pub id: Uuid,
    pub owner: Uuid,
    pub kind: RosterKind,
    pub file: String,
    pub area_name: String,
    pub progress: JobProgress,
}

impl Job {
    pub fn view(&self) -> ImportJob {
        let (phase, done, total) = self.progress.state.lock().expect("progress lock").clone();
        let end = self
            .progress
            .finished
            .lock()
            .expect("progress lock")
            .unwrap_or_else(Instant::now);
        ImportJob {
            id: self.id,
            kind: self.kind,
            file: self.file.clone(),
            area_name: self.area_name.clone(),
            phase,
            done,
            total,
            elapsed_ms: (end - self.progress.started).as_millis() as u64,
        }
    }
}

#[derive(Default)]
pub struct ImportJobs {
    jobs: Mutex<HashMap<Uuid, Arc<Job>>>,
    /// Held by the import that is checking and writing: one at a time, so
    /// no import's checks can be overtaken by another's writes.
    pub writer: tokio::sync::Mutex<()>,
}

impl ImportJobs {
    /// A new job, unless [`MAX_UNFINISHED`] are waiting or running.
    pub fn start(
        &self,
        owner: Uuid,
        kind: RosterKind,
        file: String,
        area_name: String,
    ) -> Option<Arc<Job>> {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        let unfinished = jobs
            .values()
            .filter(|j| j.progress.finished.lock().expect("progress lock").is_none())
            .count();
        if unfinished >= MAX_UNFINISHED {
            return None;
        }
        let job = Arc::new(Job {
            id: Uuid::now_v7(),
            owner,
            kind,
            file,
            area_name,
            progress: JobProgress::default(),
        });
        if let Some(deadline) = Instant::now().checked_sub(KEEP_FINISHED) {
            jobs.retain(|_, j| !j.progress.finished_before(deadline));
        }
        jobs.insert(job.id, job.clone());
        Some(job)
    }

    /// The job, if `owner` started it: nobody reads another's import (its
    /// problems quote the file's contents).
    pub fn get(&self, id: Uuid, owner: Uuid) -> Option<ImportJob> {
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.get(&id).filter(|j| j.owner == owner).map(|j| j.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::model::ImportReport;

    #[test]
    fn no_more_than_a_few_imports_wait_at_once() {
        let jobs = ImportJobs::default();
        let start = || {
            jobs.start(
                Uuid::now_v7(),
                RosterKind::Households,
                "f.csv".into(),
                "县".into(),
            )
        };
        let first = start().unwrap();
        for _ in 1..MAX_UNFINISHED {
            start().unwrap();
        }
        assert!(start().is_none(), "the queue is full");
        first.progress.finish(&Ok(ImportReport::default()));
        assert!(start().is_some(), "a finished import makes room");
    }
}
