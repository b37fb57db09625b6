//! The emulator's side of fleet runs: many installs at once, Wix's limit of 200 requests a
//! minute per instance (a 429 with `Retry-After` beyond it), a burst answered 429, and an
//! answer delay (a Wix that takes 50 ms, for the benchmarks). All off until a test turns them
//! on; what the limit saw is readable by tests and, through `GET /__fleet`, by benchmarks.

use super::*;
use std::time::Instant;

#[derive(Default)]
pub(super) struct FleetState {
    /// Every answer waits this long first.
    delay: Duration,
    /// At most this many requests per instance in any window of this length.
    limit: Option<(usize, Duration)>,
    /// Per instance, when its requests inside the window arrived.
    windows: HashMap<String, VecDeque<Instant>>,
    /// Requests the limit answered 429.
    limited: usize,
    /// The most requests one instance had inside a window.
    peak: usize,
    /// The next this many requests carrying a token get 429 with `Retry-After: burst_retry`.
    burst: usize,
    burst_retry: u64,
    /// Requests the burst answered 429.
    burst_answered: usize,
    /// Armed: the next request carrying a token opens a window this long in which every such
    /// request is answered 429 (a burst Wix throttles at the start of a fleet).
    throttle_first: Option<Duration>,
    /// The open window's end.
    throttle_until: Option<Instant>,
}

impl Emulator {
    /// Installs APP_ID on `n` instances `{prefix}-00000001`… and returns their ids.
    pub fn install_many(&self, app_id: &str, prefix: &str, n: usize) -> Vec<String> {
        let ids: Vec<String> = (1..=n).map(|i| format!("{prefix}-{i:08}")).collect();
        let mut s = self.lock();
        for id in &ids {
            s.installed.insert((app_id.to_string(), id.clone()));
        }
        ids
    }

    /// Every answer waits `delay` first (concurrently: one slow answer holds up no other).
    pub fn set_answer_delay(&self, delay: Duration) {
        self.lock().fleet.delay = delay;
    }

    /// Wix's rate limit: at most `max` requests per instance in any `window` (token requests
    /// count for the instance they name, other calls for their token's); beyond, 429 with
    /// `Retry-After` in whole seconds until a slot frees.
    pub fn limit_per_instance(&self, max: usize, window: Duration) {
        self.lock().fleet.limit = Some((max, window));
    }

    /// The next `count` requests that carry a token are answered 429 with `Retry-After`.
    pub fn burst_429(&self, count: usize, retry_after_secs: u64) {
        let mut s = self.lock();
        s.fleet.burst = count;
        s.fleet.burst_retry = retry_after_secs;
    }

    /// The next request carrying a token opens a window of `length` in which every request
    /// carrying a token is answered 429, `Retry-After` the whole seconds left (at least 1).
    pub fn throttle_first(&self, length: Duration) {
        let mut s = self.lock();
        s.fleet.throttle_first = Some(length);
        s.fleet.throttle_until = None;
    }

    /// (the most requests one instance had in a window, requests the limit refused).
    pub fn limit_seen(&self) -> (usize, usize) {
        let s = self.lock();
        (s.fleet.peak, s.fleet.limited)
    }

    /// When each request for `path` arrived, in order.
    pub fn arrivals(&self, path: &str) -> Vec<Instant> {
        self.lock()
            .seen
            .iter()
            .filter(|s| s.path == path)
            .map(|s| s.at)
            .collect()
    }
}

/// Before anything else: the answer delay, and the benchmarks' `GET /__fleet`.
pub(super) async fn early(state: &Arc<Mutex<State>>, seen: &Seen) -> Option<Reply> {
    let delay = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        if seen.path == "/__throttle" {
            // Benchmarks arm `throttle_first` from outside: `GET /__throttle?secs=N`.
            let secs: u64 = query_map(&seen.query)
                .get("secs")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            s.fleet.throttle_first = Some(Duration::from_secs(secs));
            s.fleet.throttle_until = None;
            return Some(json_reply(200, json!({"armed": secs})));
        }
        if seen.path == "/__fleet" {
            let f = &s.fleet;
            return Some(json_reply(
                200,
                json!({"peak_per_instance": f.peak, "limited": f.limited, "burst_answered": f.burst_answered,
                    "requests": s.seen.len()}),
            ));
        }
        s.fleet.delay
    };
    if !delay.is_zero() {
        // From the request's arrival, to the tenth of a millisecond: tokio's timer rounds up to
        // the next millisecond and wakes late on a busy machine, which a benchmark of 50 ms
        // answers would count as the client's.
        let until = seen.at + delay;
        let _ = tokio::task::spawn_blocking(move || {
            std::thread::sleep(until.saturating_duration_since(Instant::now()))
        })
        .await;
    }
    None
}

/// The instance a request counts for: the one a client-credentials body names, else its
/// token's.
fn instance_of(s: &State, seen: &Seen) -> Option<String> {
    if seen.path == "/oauth2/token" {
        let body: Value = serde_json::from_str(&seen.body).ok()?;
        return body
            .get("instance_id")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let raw = seen.header("authorization")?;
    let token = raw.strip_prefix("Bearer ").unwrap_or(raw).trim();
    s.tokens.get(token).map(|t| t.instance_id.clone())
}

fn too_many(retry_after: u64) -> Reply {
    let mut r = wix_error(429, "too many requests");
    r.headers_mut().insert(
        "retry-after",
        retry_after.to_string().parse().expect("header"),
    );
    r
}

/// A 429 when the request is over the per-instance limit, or one of a burst.
pub(super) fn limited(s: &mut State, seen: &Seen) -> Option<Reply> {
    if seen.header("authorization").is_some() {
        if let Some(length) = s.fleet.throttle_first.take() {
            s.fleet.throttle_until = Some(seen.at + length);
        }
        if let Some(until) = s.fleet.throttle_until.filter(|u| *u > seen.at) {
            s.fleet.burst_answered += 1;
            let left = until.duration_since(seen.at).as_secs_f64().ceil().max(1.0);
            return Some(too_many(left as u64));
        }
    }
    if s.fleet.burst > 0 && seen.header("authorization").is_some() {
        s.fleet.burst -= 1;
        s.fleet.burst_answered += 1;
        return Some(too_many(s.fleet.burst_retry));
    }
    let (max, window) = s.fleet.limit?;
    let instance = instance_of(s, seen)?;
    let f = &mut s.fleet;
    let times = f.windows.entry(instance).or_default();
    while times
        .front()
        .is_some_and(|t| seen.at.duration_since(*t) >= window)
    {
        times.pop_front();
    }
    if times.len() >= max {
        f.limited += 1;
        let oldest = *times.front()?;
        let free_in = (oldest + window).saturating_duration_since(seen.at);
        return Some(too_many(free_in.as_secs_f64().ceil().max(1.0) as u64));
    }
    times.push_back(seen.at);
    f.peak = f.peak.max(times.len());
    None
}
