//! Slowing down password guessing without letting anyone lock anyone out.
//!
//! Failures are counted under three keys, in the database (so every server
//! instance behind a balancer counts the same failures):
//! - the (account, address) pair: [`PAIR`], 5 free failures. A person who
//!   mistypes five times is slowed; a guesser at one address is slowed at
//!   once and soon to one guess per [`MAX_WAIT`].
//! - the address: [`ADDRESS`], 100 free failures. A township office signs in
//!   thirty or fifty people through one NAT address; a hundred failures in a
//!   day from one address is a spray over many names, not typing.
//! - the account: [`ACCOUNT`], 20 free failures from anywhere. This bounds a
//!   guesser who rotates addresses to about a hundred guesses a day.
//!
//! After its free failures a key makes each attempt wait 1 s, then 2 s, 4 s …
//! after the last failure, up to [`MAX_WAIT`]: a backoff, never a lock. An
//! attempt refused for waiting is not counted, so waiting never grows while
//! one keeps knocking; counts start again after [`FORGET_AFTER`] without a
//! failure.
//!
//! The throttle never stands between a right password and its owner at a
//! known source: an address this account signed in from before (within
//! [`KNOWN_FOR`]) or a device holding a cookie from such a sign-in. Such an
//! attempt is always checked; a right password gets in however many
//! failures others caused, a wrong one is answered exactly as any other
//! attempt would be (so the answer does not tell that the account has
//! signed in here before). Everyone else waits while a key says so, and
//! their password is not even checked (which also keeps a flood from
//! costing an argon2 hash per request).
//!
//! Made-up names are counted like real ones (the account key is the name as
//! typed), and an unknown name costs the same argon2 check as a known one.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::server::db::FailureCount;

/// How many failures a key allows before it starts making attempts wait.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub free: i64,
}

pub const PAIR: Limit = Limit { free: 5 };
pub const ADDRESS: Limit = Limit { free: 100 };
pub const ACCOUNT: Limit = Limit { free: 20 };
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A count without a new failure for this long starts again from zero.
pub const FORGET_AFTER: chrono::Duration = chrono::Duration::hours(24);
/// A source stays known this long after its last successful sign-in.
pub const KNOWN_FOR: chrono::Duration = chrono::Duration::days(180);

/// Names longer than any real user name are cut, so a key stays small.
const MAX_NAME_CHARS: usize = 64;

/// The throttle keys of one attempt.
#[derive(Debug, Clone)]
pub struct Keys {
    pub pair: String,
    pub address: String,
    pub account: String,
}

impl Keys {
    /// `address` is `None` only when the server knows no peer (in-process
    /// tests); all such attempts share one address key.
    pub fn new(username: &str, address: Option<&str>) -> Keys {
        let name: String = username
            .trim()
            .to_lowercase()
            .chars()
            .take(MAX_NAME_CHARS)
            .collect();
        let address = address.map_or_else(|| "-".to_owned(), network);
        Keys {
            // An address holds no space; a name may, so it goes last.
            pair: format!("pair:{address} {name}"),
            address: format!("addr:{address}"),
            account: format!("user:{name}"),
        }
    }

    pub fn all(&self) -> [String; 3] {
        [
            self.pair.clone(),
            self.address.clone(),
            self.account.clone(),
        ]
    }

    fn limit(&self, key: &str) -> Option<Limit> {
        if key == self.pair {
            Some(PAIR)
        } else if key == self.address {
            Some(ADDRESS)
        } else if key == self.account {
            Some(ACCOUNT)
        } else {
            None
        }
    }

    /// How long an attempt at `now` must still wait given these counts;
    /// `None` if it may go ahead. Counts older than [`FORGET_AFTER`] are
    /// treated as gone.
    pub fn wait(&self, counts: &[FailureCount], now: DateTime<Utc>) -> Option<Duration> {
        counts
            .iter()
            .filter(|c| now - c.last_failure_at < FORGET_AFTER)
            .filter_map(|c| {
                let limit = self.limit(&c.key)?;
                let due = c.last_failure_at + penalty(c.failures, limit);
                (due - now).to_std().ok().filter(|d| !d.is_zero())
            })
            .max()
    }
}

/// The source key of a client address, for [`crate::server::db::AuthStore::known_sign_in`].
pub fn address_source(address: &str) -> String {
    format!("addr:{}", network(address))
}

/// What an address is counted as: an IPv4 address itself, an IPv6 address
/// as its /64. One subscriber (a phone, a home, a small office) holds a
/// whole /64 and its devices hop within it; counted address by address, a
/// guesser would have 2^64 fresh addresses to try from.
pub fn network(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(ip) => ip.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// The source key of a device cookie: only its hash is stored.
pub fn device_source(device_token: &str) -> String {
    format!("device:{}", crate::auth::service::token_hash(device_token))
}

/// No wait for the free failures, then 1 s, 2 s, 4 s … up to [`MAX_WAIT`].
pub fn penalty(failures: i64, limit: Limit) -> chrono::Duration {
    if failures < limit.free {
        return chrono::Duration::zero();
    }
    let doublings = (failures - limit.free).min(20) as u32;
    let wait = Duration::from_secs(1u64 << doublings).min(MAX_WAIT);
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(key: &str, failures: i64, at: DateTime<Utc>) -> FailureCount {
        FailureCount {
            key: key.into(),
            failures,
            last_failure_at: at,
        }
    }

    #[test]
    fn keys_separate_pair_address_and_account_and_ignore_case() {
        let k = Keys::new(" Wang ", Some("10.0.0.1"));
        assert_eq!(k.pair, "pair:10.0.0.1 wang");
        assert_eq!(k.address, "addr:10.0.0.1");
        assert_eq!(k.account, "user:wang");
        assert_eq!(Keys::new("x", None).address, "addr:-");
        // An IPv6 subscriber's addresses count as one.
        let a = Keys::new("wang", Some("2001:db8:1:2:aaaa::1"));
        let b = Keys::new("wang", Some("2001:db8:1:2:bbbb::2"));
        assert_eq!(a.pair, b.pair);
        assert_eq!(a.address, "addr:2001:db8:1:2::/64");
        assert_ne!(a.address, Keys::new("w", Some("2001:db8:1:3::1")).address);
        assert_eq!(network("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(address_source("2001:db8:1:2::9"), "addr:2001:db8:1:2::/64");
        let long = "a".repeat(1000);
        assert_eq!(Keys::new(&long, None).account.len(), 5 + MAX_NAME_CHARS);
    }

    #[test]
    fn each_key_has_its_free_failures_then_doubles_up_to_the_cap() {
        let now = Utc::now();
        let k = Keys::new("wang", Some("10.0.0.1"));
        assert_eq!(k.wait(&[count(&k.pair, 4, now)], now), None);
        assert_eq!(
            k.wait(&[count(&k.pair, 5, now)], now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            k.wait(&[count(&k.pair, 7, now)], now),
            Some(Duration::from_secs(4))
        );
        assert_eq!(k.wait(&[count(&k.address, 99, now)], now), None);
        assert_eq!(
            k.wait(&[count(&k.address, 100, now)], now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(k.wait(&[count(&k.account, 19, now)], now), None);
        assert_eq!(k.wait(&[count(&k.account, 1000, now)], now), Some(MAX_WAIT));
        // The longest wait of all keys applies.
        assert_eq!(
            k.wait(&[count(&k.pair, 6, now), count(&k.account, 22, now)], now),
            Some(Duration::from_secs(4))
        );
    }

    #[test]
    fn a_wait_runs_from_the_last_failure_and_old_counts_are_forgotten() {
        let now = Utc::now();
        let k = Keys::new("wang", Some("10.0.0.1"));
        let earlier = now - chrono::Duration::seconds(3);
        assert_eq!(
            k.wait(&[count(&k.pair, 7, earlier)], now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(k.wait(&[count(&k.pair, 6, earlier)], now), None);
        let long_ago = now - FORGET_AFTER - chrono::Duration::seconds(1);
        assert_eq!(k.wait(&[count(&k.pair, 1000, long_ago)], now), None);
        // Someone else's keys do not count.
        let other = Keys::new("li", Some("10.0.0.2"));
        assert_eq!(k.wait(&[count(&other.pair, 1000, now)], now), None);
    }
}
