//! The open connections, in accept order, and the cap on them: past it a new connection
//! evicts the oldest one that has not delivered a request head yet, so a crowd of idle sockets
//! can never keep a real request out.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::core::log::debug;

pub(super) struct Conns {
    max: usize,
    inner: Mutex<Open>,
}

/// Ids only grow, so the map's order is the accept order.
#[derive(Default)]
struct Open {
    next_id: u64,
    open: BTreeMap<u64, Conn>,
}

struct Conn {
    /// Its request head arrived: it is not evicted, and gets its answer written at close.
    delivered: bool,
    evict: Option<oneshot::Sender<()>>,
}

/// A connection's place in the registry; leaving it (the task ends) frees the place.
pub(super) struct Admitted<'a> {
    conns: &'a Conns,
    pub(super) id: u64,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.conns.lock().open.remove(&self.id);
    }
}

impl Conns {
    pub(super) fn new(max: usize) -> Self {
        Conns {
            max,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Open> {
        // The map stays consistent whatever panicked while holding it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection, evicting the oldest idle one when at the cap; the receiver
    /// fires when this one is evicted in turn. `None`: every open connection is busy with a
    /// request, and the new one is to be closed.
    pub(super) fn admit(&self) -> Option<(u64, oneshot::Receiver<()>)> {
        let mut conns = self.lock();
        if conns.open.len() >= self.max {
            let oldest_idle = conns
                .open
                .iter()
                .find(|(_, c)| !c.delivered)
                .map(|(id, _)| *id);
            let Some(old) = oldest_idle else {
                debug!(
                    "server: {} requests in progress; closing a new connection",
                    self.max
                );
                return None;
            };
            debug!(
                "server: {} connections open; closing the oldest idle one",
                self.max
            );
            if let Some(evict) = conns.open.remove(&old).and_then(|c| c.evict) {
                let _ = evict.send(());
            }
        }
        let id = conns.next_id;
        conns.next_id += 1;
        let (evict, evicted) = oneshot::channel();
        conns.open.insert(
            id,
            Conn {
                delivered: false,
                evict: Some(evict),
            },
        );
        Some((id, evicted))
    }

    /// Ties the registry entry `id` to the connection task's lifetime.
    pub(super) fn hold(&self, id: u64) -> Admitted<'_> {
        Admitted { conns: self, id }
    }

    pub(super) fn set_delivered(&self, id: u64) {
        if let Some(conn) = self.lock().open.get_mut(&id) {
            conn.delivered = true;
        }
    }

    pub(super) fn delivered(&self, id: u64) -> bool {
        self.lock().open.get(&id).is_some_and(|c| c.delivered)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_idle_one_goes_and_busy_ones_stay() {
        let conns = Conns::new(3);
        let mut evicted = Vec::new();
        for _ in 0..3 {
            evicted.push(conns.admit().unwrap());
        }
        conns.set_delivered(0);
        // At the cap: 1 is the oldest idle one (0 is busy with a request).
        let (id, _rx) = conns.admit().unwrap();
        assert_eq!(id, 3);
        assert!(evicted[1].1.try_recv().is_ok(), "1 was evicted");
        assert!(evicted[2].1.try_recv().is_err(), "2 was not");
        assert!(conns.delivered(0) && !conns.delivered(2));
        assert_eq!(conns.len(), 3);
        // All busy: a new one is refused.
        conns.set_delivered(2);
        conns.set_delivered(3);
        assert!(conns.admit().is_none());
        drop(conns.hold(0));
        assert_eq!(conns.len(), 2, "a finished connection frees its place");
    }
}
