//! Admission of incoming connections on a listening node: how many handshakes may run at
//! once, and a back-off for addresses that keep presenting a wrong cookie (online guessing of
//! the cookie would otherwise run at thousands of digests a second).
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use beamlink::guard::Guard;
//! let g = Guard::new(1);
//! let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
//! let first = g.admit(ip).unwrap();
//! assert!(g.admit(ip).is_err(), "one handshake at a time");
//! drop(first);
//! g.bad_cookie(ip);
//! assert!(g.admit(ip).is_err(), "after a wrong cookie the address waits");
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default for [`Guard::new`]: handshakes in progress at once on one listener.
pub const DEFAULT_MAX_HANDSHAKES: usize = 64;
/// The first back-off after a wrong cookie; it doubles with each further failure.
const FIRST_PENALTY: Duration = Duration::from_millis(250);
/// The longest back-off.
const MAX_PENALTY: Duration = Duration::from_secs(30);
/// Addresses remembered at most (the oldest entries go first).
const MAX_TRACKED: usize = 4096;

/// Why an incoming connection was closed before its handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{limit} handshakes already in progress")]
    Busy { limit: usize },
    #[error("{addr} presented a wrong cookie {failures} times; it may try again in {wait:?}")]
    BackingOff { addr: IpAddr, failures: u32, wait: Duration },
}

/// Shared by a listener's accept loop and its handshake tasks.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

struct Inner {
    max: usize,
    running: AtomicUsize,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

struct Failures {
    count: u32,
    until: Instant,
}

/// A running handshake's place; dropping it frees the place.
pub struct Permit {
    inner: Arc<Inner>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.inner.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Guard {
    pub fn new(max_handshakes: usize) -> Guard {
        Guard {
            inner: Arc::new(Inner {
                max: max_handshakes.max(1),
                running: AtomicUsize::new(0),
                failures: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A place for a handshake with a peer at `addr`, or why there is none.
    pub fn admit(&self, addr: IpAddr) -> Result<Permit, Refusal> {
        if let Some(f) = self.inner.failures.lock().unwrap().get(&addr) {
            let now = Instant::now();
            if now < f.until {
                return Err(Refusal::BackingOff { addr, failures: f.count, wait: f.until - now });
            }
        }
        let before = self.inner.running.fetch_add(1, Ordering::AcqRel);
        if before >= self.inner.max {
            self.inner.running.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Busy { limit: self.inner.max });
        }
        Ok(Permit { inner: self.inner.clone() })
    }

    /// `addr` failed the cookie check: it waits longer before its next handshake.
    pub fn bad_cookie(&self, addr: IpAddr) {
        let mut all = self.inner.failures.lock().unwrap();
        if all.len() >= MAX_TRACKED && !all.contains_key(&addr) {
            let oldest = all.iter().min_by_key(|(_, f)| f.until).map(|(a, _)| *a);
            if let Some(a) = oldest {
                all.remove(&a);
            }
        }
        let f = all.entry(addr).or_insert(Failures { count: 0, until: Instant::now() });
        f.count = f.count.saturating_add(1);
        let penalty = FIRST_PENALTY.saturating_mul(1 << (f.count - 1).min(16)).min(MAX_PENALTY);
        f.until = Instant::now() + penalty;
    }

    /// `addr` proved it knows the cookie: its failures are forgotten.
    pub fn good_cookie(&self, addr: IpAddr) {
        self.inner.failures.lock().unwrap().remove(&addr);
    }

    /// Handshakes running now.
    pub fn running(&self) -> usize {
        self.inner.running.load(Ordering::Acquire)
    }
}
