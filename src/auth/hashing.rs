//! Password hashing, a few at a time.
//!
//! Each argon2 hash takes 19 MiB and tens of milliseconds of a core. Run
//! unbounded, 16 sign-ins at once took 16 × 19 MiB and every core, and a
//! burst of wrong passwords for made-up names (which need no account) was
//! enough. Here at most `at_once` hashes run, each in a [`Memory`] kept for
//! the next (so the process holds at most `at_once` × 19 MiB for hashing,
//! whatever the load), up to `queue` more wait their turn, and any beyond
//! that are answered at once with [`AppError::Busy`] (429, `Retry-After`),
//! never queued without bound and never a 5xx.
//!
//! One gate for the whole process ([`Hashing::shared`], sized at start-up
//! by [`Hashing::configure`] from `DAOHU_HASHING_AT_ONCE` and
//! `DAOHU_HASHING_QUEUE`): memory and cores are the process's, whoever
//! asks (sign-in, password change, creating a user).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use crate::auth::password::{self, Memory};
use crate::error::{AppError, AppResult};

/// What a refused hash tells the client to wait: the queue drains in about
/// `queue / at_once` hash times, well under a second with the defaults.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;
/// Hashes at once by default: two cores' worth, 38 MiB.
pub const DEFAULT_AT_ONCE: u32 = 2;
/// Hashes waiting by default: at ≈ 30 ms a hash, under half a second.
pub const DEFAULT_QUEUE: u32 = 32;

static SHARED: std::sync::OnceLock<Arc<Hashing>> = std::sync::OnceLock::new();

pub struct Hashing {
    /// Held while a hash runs (inside the blocking task, so a request given
    /// up by its client still holds it until its hash is done).
    running: Arc<Semaphore>,
    /// Held from arrival to the end: running or waiting.
    admitted: Arc<Semaphore>,
    memories: Mutex<Vec<Memory>>,
    waiting_now: AtomicUsize,
    running_now: AtomicUsize,
    running_peak: AtomicUsize,
}

impl Hashing {
    /// Sizes the process's gate; only the first call counts, and it must
    /// come before the first hash (start-up). Whether it counted.
    pub fn configure(at_once: u32, queue: u32) -> bool {
        SHARED.set(Hashing::new(at_once, queue)).is_ok()
    }

    /// The process's gate ([`DEFAULT_AT_ONCE`], [`DEFAULT_QUEUE`] unless
    /// configured).
    pub fn shared() -> &'static Arc<Hashing> {
        SHARED.get_or_init(|| Hashing::new(DEFAULT_AT_ONCE, DEFAULT_QUEUE))
    }

    pub fn new(at_once: u32, queue: u32) -> Arc<Hashing> {
        let at_once = at_once.max(1) as usize;
        Arc::new(Hashing {
            running: Arc::new(Semaphore::new(at_once)),
            admitted: Arc::new(Semaphore::new(at_once + queue as usize)),
            memories: Mutex::new(Vec::new()),
            waiting_now: AtomicUsize::new(0),
            running_now: AtomicUsize::new(0),
            running_peak: AtomicUsize::new(0),
        })
    }

    /// Whether `candidate` matches `stored`; against a dummy hash when there
    /// is no stored one (an unknown name), so both take the same time.
    pub async fn verify(
        self: &Arc<Self>,
        candidate: &str,
        stored: Option<String>,
    ) -> AppResult<bool> {
        let candidate = candidate.to_owned();
        self.run(move |memory| match stored {
            Some(stored) => password::verify_with(&candidate, &stored, memory),
            None => {
                let dummy = password::dummy_hash(memory);
                password::verify_with(&candidate, dummy, memory)
            }
        })
        .await
    }

    pub async fn hash(self: &Arc<Self>, new_password: &str) -> AppResult<String> {
        let new_password = new_password.to_owned();
        self.run(move |memory| password::hash_with(&new_password, memory))
            .await
    }

    /// The most hashes that ever ran at once in this process.
    pub fn running_peak(&self) -> usize {
        self.running_peak.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> AppResult<T> {
        let Ok(admitted) = self.admitted.clone().try_acquire_owned() else {
            tracing::warn!("password hashing queue full: request refused");
            return Err(AppError::Busy {
                message: "登录请求过多，请稍后再试".into(),
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            });
        };
        let waiting = Counted::new(self, &self.waiting_now);
        let Ok(permit) = self.running.clone().acquire_owned().await else {
            tracing::error!("password hashing semaphore closed");
            return Err(AppError::Internal);
        };
        drop(waiting);
        let gate = self.clone();
        tokio::task::spawn_blocking(move || {
            let running = Counted::new(&gate, &gate.running_now);
            gate.running_peak
                .fetch_max(gate.running_now.load(Ordering::Relaxed), Ordering::Relaxed);
            let mut memory = gate.take_memory();
            let out = work(&mut memory);
            gate.memories
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(memory);
            drop(running);
            drop((permit, admitted));
            out
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing panicked");
            AppError::Internal
        })
    }

    fn take_memory(&self) -> Memory {
        self.memories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default()
    }

    fn publish(&self) {
        crate::server::metrics::password_hashes(
            self.waiting_now.load(Ordering::Relaxed),
            self.running_now.load(Ordering::Relaxed),
        );
    }
}

/// One unit of a gauge for as long as it lives (also when a waiting request
/// is dropped because its client went away).
struct Counted<'a> {
    gate: &'a Hashing,
    count: &'a AtomicUsize,
}

impl<'a> Counted<'a> {
    fn new(gate: &'a Hashing, count: &'a AtomicUsize) -> Counted<'a> {
        count.fetch_add(1, Ordering::Relaxed);
        gate.publish();
        Counted { gate, count }
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
        self.gate.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_n_run_the_queue_waits_and_the_rest_are_refused() {
        let gate = Hashing::new(2, 3);
        // Six arrive at once (polled in order by one join): two run, three
        // wait, one is refused.
        let stored = password::hash("the-right-one");
        let all = (0..6).map(|_| gate.verify("a-wrong-one", Some(stored.clone())));
        let mut refused = 0;
        for answer in futures::future::join_all(all).await {
            match answer {
                Ok(ok) => assert!(!ok),
                Err(AppError::Busy {
                    retry_after_secs, ..
                }) => {
                    assert_eq!(retry_after_secs, BUSY_RETRY_AFTER_SECS);
                    refused += 1;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(refused, 1);
        assert_eq!(gate.running_peak(), 2);
        assert!(gate.memories.lock().unwrap().len() <= 2);
        // Everything drained: the next one runs.
        assert!(gate.verify("the-right-one", Some(stored)).await.unwrap());
        assert!(
            !gate.verify("x", None).await.unwrap(),
            "dummy never matches"
        );
        assert_eq!(gate.waiting_now.load(Ordering::Relaxed), 0);
        assert_eq!(gate.running_now.load(Ordering::Relaxed), 0);
    }
}
