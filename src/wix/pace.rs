//! A hook for whoever paces this client's requests (a fleet run's shared rate limit): asked
//! before every attempt, told every answer. Without one, requests go at once, as always.

use std::time::Duration;

/// Paces the requests of one client. Not shared across threads: each worker of a fleet has
/// its own, which talks to the fleet's shared limiter.
pub(crate) trait Pacer {
    /// How long to wait before asking again, or `None`: the attempt may go now (its slot is
    /// taken).
    fn turn(&self) -> Option<Duration>;

    /// Wix's answer to an attempt: its status, `x-wix-request-id`, and `Retry-After` (not
    /// capped). For a 429, whether to try again once the pacer lets it (not counted as one of
    /// the bounded attempts: a fleet slows down instead of failing).
    fn answered(
        &self,
        status: u16,
        request_id: Option<&str>,
        retry_after: Option<Duration>,
    ) -> bool;
}
