//! The fleet's rate limit. Three rules, every attempt asks them all:
//!
//! - Wix's **200 requests a minute per instance** (§12), always: each instance's own window of
//!   the times of its requests in the last minute (it lives as long as the instance's job, so
//!   memory does not grow with the fleet);
//! - the optional **global cap** (`--rate R` requests a second): one slot every `1/R` s, taken
//!   in turn, never saved up (a fleet that waited does not burst);
//! - a **429 pauses the whole fleet**: no worker sends anything until `Retry-After` has passed
//!   (1 s when Wix says nothing, doubling while 429s keep coming, at most a minute). The 429
//!   is tried again; only a request throttled for longer than [`PATIENCE`] gives up (exit 4).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::wix::pace::Pacer;

/// Wix's limit per app instance (wix-oauth-reference §12).
pub(crate) const PER_INSTANCE: usize = 200;
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
/// The longest pause one 429 asks of the fleet.
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// How long one request may keep being answered 429 before it fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(600);

/// What every worker of a fleet shares.
pub(crate) struct Limiter {
    /// Seconds between two requests (`1/R`), when capped.
    interval: Option<Duration>,
    state: Mutex<Shared>,
}

struct Shared {
    /// The earliest moment the next capped request may go.
    next_slot: Option<Instant>,
    /// Nothing goes before this (a 429's `Retry-After`).
    paused_until: Option<Instant>,
    /// 429s in a row without a `Retry-After` (each doubles the pause).
    unexplained: u32,
    /// 429s seen, for the summary.
    throttled: u64,
}

impl Limiter {
    /// `rate`: requests a second across the fleet, or none.
    pub(crate) fn new(rate: Option<f64>) -> Arc<Limiter> {
        Arc::new(Limiter {
            interval: rate
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            state: Mutex::new(Shared {
                next_slot: None,
                paused_until: None,
                unexplained: 0,
                throttled: 0,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many 429s the fleet was answered.
    pub(crate) fn throttled(&self) -> u64 {
        self.lock().throttled
    }

    /// Takes the fleet's slot at `now`, or says how long until one may be taken.
    fn slot(&self, now: Instant) -> Option<Duration> {
        let mut s = self.lock();
        if let Some(until) = s.paused_until.filter(|u| *u > now) {
            return Some(until - now);
        }
        // No cap: the request goes now.
        let interval = self.interval?;
        match s.next_slot {
            Some(next) if next > now => Some(next - now),
            // A slot at most one interval late keeps the schedule (waking up late must not
            // lower the rate); one later than that starts it anew (no saved-up burst).
            Some(next) if now - next < interval => {
                s.next_slot = Some(next + interval);
                None
            }
            _ => {
                s.next_slot = Some(now + interval);
                None
            }
        }
    }

    /// Wix answered 429 at `now`: nobody sends before `retry_after` (or a doubling guess).
    fn pause(&self, now: Instant, retry_after: Option<Duration>) {
        let mut s = self.lock();
        s.throttled += 1;
        let wait = match retry_after {
            Some(wait) => {
                s.unexplained = 0;
                wait.max(Duration::from_millis(100))
            }
            None => {
                s.unexplained = (s.unexplained + 1).min(7);
                Duration::from_secs(1 << (s.unexplained - 1))
            }
        }
        .min(MAX_PAUSE);
        let until = now + wait;
        s.paused_until = Some(s.paused_until.map_or(until, |u| u.max(until)));
    }
}

/// One worker's pacer: the fleet's limiter, and the window of the instance it works on.
pub(crate) struct InstancePacer {
    fleet: Arc<Limiter>,
    window: RefCell<VecDeque<Instant>>,
    /// The last answer of the current job: (status, request id).
    last: RefCell<Option<(u16, Option<String>)>>,
    /// When the current request was first answered 429 (for [`PATIENCE`]).
    throttled_since: Cell<Option<Instant>>,
}

impl InstancePacer {
    pub(crate) fn new(fleet: Arc<Limiter>) -> InstancePacer {
        InstancePacer {
            fleet,
            window: RefCell::new(VecDeque::new()),
            last: RefCell::new(None),
            throttled_since: Cell::new(None),
        }
    }

    /// A new instance: its own window, no answer yet.
    pub(crate) fn start(&self) {
        self.window.borrow_mut().clear();
        self.last.replace(None);
        self.throttled_since.set(None);
    }

    /// Wix's last answer in this job (`None`: no request was made, a cache hit).
    pub(crate) fn last_answer(&self) -> Option<(u16, Option<String>)> {
        self.last.borrow().clone()
    }

    fn turn_at(&self, now: Instant) -> Option<Duration> {
        let mut window = self.window.borrow_mut();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            window.pop_front();
        }
        if window.len() >= PER_INSTANCE {
            let oldest = *window.front()?;
            return Some((oldest + WINDOW).saturating_duration_since(now));
        }
        let wait = self.fleet.slot(now);
        if wait.is_none() {
            window.push_back(now);
        }
        wait
    }

    fn answered_at(
        &self,
        now: Instant,
        status: u16,
        request_id: Option<&str>,
        retry_after: Option<Duration>,
    ) -> bool {
        self.last
            .replace(Some((status, request_id.map(str::to_string))));
        if status != 429 {
            self.throttled_since.set(None);
            return false;
        }
        self.fleet.pause(now, retry_after);
        let since = *self.throttled_since.get().get_or_insert(now);
        self.throttled_since.set(Some(since));
        now.duration_since(since) < PATIENCE
    }
}

impl Pacer for InstancePacer {
    fn turn(&self) -> Option<Duration> {
        self.turn_at(Instant::now())
    }

    fn answered(
        &self,
        status: u16,
        request_id: Option<&str>,
        retry_after: Option<Duration>,
    ) -> bool {
        self.answered_at(Instant::now(), status, request_id, retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn an_instance_never_gets_more_than_200_a_minute() {
        let pacer = InstancePacer::new(Limiter::new(None));
        let t0 = Instant::now();
        for i in 0..PER_INSTANCE {
            assert_eq!(pacer.turn_at(t0 + ms(i as u64)), None, "request {i}");
        }
        // The 201st waits until the first falls out of the minute.
        let at = t0 + ms(500);
        assert_eq!(pacer.turn_at(at), Some(WINDOW - ms(500)));
        assert_eq!(pacer.turn_at(t0 + WINDOW), None);
        // Another instance starts with a window of its own.
        pacer.start();
        assert_eq!(pacer.turn_at(t0 + WINDOW), None);
    }

    #[test]
    fn the_global_cap_spaces_requests_and_saves_nothing_up() {
        let fleet = Limiter::new(Some(10.0));
        let (a, b) = (
            InstancePacer::new(fleet.clone()),
            InstancePacer::new(fleet.clone()),
        );
        let t0 = Instant::now();
        assert_eq!(a.turn_at(t0), None);
        assert_eq!(b.turn_at(t0), Some(ms(100)));
        // Woken a little late, the schedule holds (no drift below the rate).
        assert_eq!(b.turn_at(t0 + ms(103)), None);
        assert_eq!(a.turn_at(t0 + ms(150)), Some(ms(50)));
        assert_eq!(a.turn_at(t0 + ms(200)), None);
        // After a long idle spell, one request, not a burst of the slots missed.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(a.turn_at(later), None);
        assert_eq!(b.turn_at(later), Some(ms(100)));
    }

    #[test]
    fn a_429_pauses_every_worker_for_retry_after() {
        let fleet = Limiter::new(None);
        let (a, b) = (
            InstancePacer::new(fleet.clone()),
            InstancePacer::new(fleet.clone()),
        );
        let t0 = Instant::now();
        assert!(a.answered_at(t0, 429, Some("rid"), Some(Duration::from_secs(2))));
        assert_eq!(a.last_answer(), Some((429, Some("rid".into()))));
        assert_eq!(b.turn_at(t0 + ms(500)), Some(ms(1500)));
        assert_eq!(b.turn_at(t0 + Duration::from_secs(2)), None);
        // Without Retry-After: 1 s, then 2 s while they keep coming; a huge one is capped.
        assert!(a.answered_at(t0 + Duration::from_secs(3), 429, None, None));
        assert_eq!(
            b.turn_at(t0 + Duration::from_secs(3)),
            Some(Duration::from_secs(1))
        );
        assert!(a.answered_at(t0 + Duration::from_secs(4), 429, None, None));
        assert_eq!(
            b.turn_at(t0 + Duration::from_secs(4)),
            Some(Duration::from_secs(2))
        );
        let t1 = t0 + Duration::from_secs(10);
        a.answered_at(t1, 429, None, Some(Duration::from_secs(3600)));
        assert_eq!(b.turn_at(t1), Some(MAX_PAUSE));
        assert_eq!(fleet.throttled(), 4);
    }

    #[test]
    fn a_request_throttled_past_the_patience_gives_up() {
        let pacer = InstancePacer::new(Limiter::new(None));
        let t0 = Instant::now();
        assert!(pacer.answered_at(t0, 429, None, Some(Duration::from_secs(1))));
        assert!(pacer.answered_at(t0 + PATIENCE - ms(1), 429, None, None));
        assert!(!pacer.answered_at(t0 + PATIENCE, 429, None, None));
        // Any other answer ends the spell, and is not tried again by the pacer.
        assert!(!pacer.answered_at(t0 + PATIENCE, 200, None, None));
        assert!(pacer.answered_at(t0 + PATIENCE + ms(1), 429, None, None));
    }
}
