//! Slowing down password guessing.
//!
//! Failures are counted per account and per client address. After a few
//! free attempts each further failure doubles the wait before the next
//! attempt is even checked, up to a cap. A success clears the account's
//! count (not the address's: one right password must not unlock guessing at
//! other accounts from the same address). Kept in memory: a restart forgets,
//! which only ever makes it kinder to a real user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_ATTEMPTS_PER_ACCOUNT: u32 = 3;
const FREE_ATTEMPTS_PER_ADDRESS: u32 = 10;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// How long the caller must still wait before trying `username` from
    /// `address`; `None` if they may try now.
    pub fn wait_before_attempt(
        &self,
        username: &str,
        address: Option<&str>,
        now: Instant,
    ) -> Option<Duration> {
        let map = self.failures.lock().expect("throttle lock");
        let mut wait = Duration::ZERO;
        for (key, free) in keys(username, address) {
            if let Some(&(count, last)) = map.get(&key) {
                let due = last + penalty(count, free);
                wait = wait.max(due.saturating_duration_since(now));
            }
        }
        (!wait.is_zero()).then_some(wait)
    }

    pub fn record_failure(&self, username: &str, address: Option<&str>, now: Instant) {
        let mut map = self.failures.lock().expect("throttle lock");
        for (key, _) in keys(username, address) {
            let entry = map.entry(key).or_insert((0, now));
            entry.0 += 1;
            entry.1 = now;
        }
        // Bound memory under a spray of made-up names.
        if map.len() > 100_000 {
            map.retain(|_, (_, last)| now.duration_since(*last) < MAX_WAIT);
        }
    }

    pub fn record_success(&self, username: &str) {
        self.failures
            .lock()
            .expect("throttle lock")
            .remove(&account_key(username));
    }
}

fn account_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

fn keys(username: &str, address: Option<&str>) -> Vec<(String, u32)> {
    let mut keys = vec![(account_key(username), FREE_ATTEMPTS_PER_ACCOUNT)];
    if let Some(a) = address {
        keys.push((format!("addr:{a}"), FREE_ATTEMPTS_PER_ADDRESS));
    }
    keys
}

/// No wait for the free attempts, then 1 s, 2 s, 4 s … up to [`MAX_WAIT`].
fn penalty(failures: u32, free: u32) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = (failures - free).min(20);
    Duration::from_secs(1u64 << doublings).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_is_slowed_after_three_failures_and_cleared_by_success() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..2 {
            t.record_failure("wang", Some("10.0.0.1"), now);
            assert_eq!(t.wait_before_attempt("wang", Some("10.0.0.1"), now), None);
        }
        t.record_failure("wang", Some("10.0.0.1"), now);
        assert_eq!(
            t.wait_before_attempt("wang", Some("10.0.0.2"), now),
            Some(Duration::from_secs(1))
        );
        t.record_failure("wang", None, now);
        assert_eq!(
            t.wait_before_attempt("WANG", None, now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            t.wait_before_attempt("wang", None, now + Duration::from_secs(3)),
            None
        );
        t.record_success("wang");
        assert_eq!(t.wait_before_attempt("wang", None, now), None);
    }

    #[test]
    fn address_is_slowed_across_accounts() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..10 {
            t.record_failure(&format!("user{i}"), Some("10.0.0.9"), now);
        }
        assert!(
            t.wait_before_attempt("someone_else", Some("10.0.0.9"), now)
                .is_some()
        );
        assert!(
            t.wait_before_attempt("someone_else", Some("10.0.0.8"), now)
                .is_none()
        );
    }

    #[test]
    fn the_wait_is_capped() {
        assert_eq!(penalty(1000, 3), MAX_WAIT);
    }
}
