//! Failed logins per client address: past a number in a minute, an address is refused
//! (429) before any password is checked, whatever the account, until the minute is over.
//! Kept in the process (each replica counts its own), bounded in size.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Addresses tracked at most; past this the oldest minute's entries are dropped.
const MAX_ADDRESSES: usize = 100_000;

/// The address a request came from, when the server was given it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::SocketAddr>);

#[derive(Debug)]
pub struct LoginThrottle {
    per_minute: u32,
    failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl LoginThrottle {
    pub fn new(per_minute: u32) -> LoginThrottle {
        LoginThrottle { per_minute, failures: Mutex::new(HashMap::new()) }
    }

    /// Whether this address may try to log in now.
    pub fn allows(&self, ip: IpAddr, now: i64) -> bool {
        let failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match failures.get(&ip) {
            Some(&(minute, n)) => minute != now.div_euclid(60_000) || n < self.per_minute,
            None => true,
        }
    }

    /// Counts a failed login from this address.
    pub fn failed(&self, ip: IpAddr, now: i64) {
        let minute = now.div_euclid(60_000);
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() >= MAX_ADDRESSES {
            failures.retain(|_, (m, _)| *m == minute);
        }
        let entry = failures.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_past_its_failures_until_the_next_minute() {
        let t = LoginThrottle::new(3);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let now = 60_000 * 500;
        for _ in 0..3 {
            assert!(t.allows(a, now));
            t.failed(a, now);
        }
        assert!(!t.allows(a, now + 59_000));
        assert!(t.allows(b, now), "another address is not affected");
        assert!(t.allows(a, now + 60_000), "a new minute");
    }
}
