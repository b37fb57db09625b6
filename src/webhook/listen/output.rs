//! What the receiver prints, kept off the server's thread and bounded: event lines go to
//! stdout from a thread of their own, reports (summaries, relays, rejections) to the loop that
//! owns the terminal. A stdout nobody reads (`| sleep 1000`) then blocks only that writer; the
//! receiver goes on answering, lines past the bound are dropped and counted, and stderr says
//! how many.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Event lines waiting for stdout: at most this many ...
const MAX_LINES: usize = 1024;
/// ... and this many bytes (a line is one event, a few KB for Wix's, at most about 1 MiB).
/// A line always gets in when none is waiting, whatever its size.
const MAX_BYTES: usize = 4 << 20;
/// Reports waiting for the terminal loop.
const MAX_REPORTS: usize = 1024;

/// Event lines on their way to stdout.
#[derive(Clone)]
pub(super) struct Stdout {
    lines: SyncSender<String>,
    state: Arc<LineState>,
}

#[derive(Default)]
struct LineState {
    queued_bytes: AtomicUsize,
    offered: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    /// Writing failed (the reader is gone, `| head`): nothing more is written.
    closed: AtomicBool,
}

/// How many event lines were offered, written and dropped so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) offered: u64,
    pub(super) written: u64,
    pub(super) dropped: u64,
    pub(super) closed: bool,
}

impl Stdout {
    /// Starts the writer thread on `out` (the process's stdout).
    pub(super) fn start(mut out: Box<dyn Write + Send>) -> std::io::Result<Stdout> {
        let (lines, queue) = mpsc::sync_channel::<String>(MAX_LINES);
        let state = Arc::new(LineState::default());
        let writer = state.clone();
        std::thread::Builder::new()
            .name("stdout".into())
            .spawn(move || {
                for line in queue {
                    writer.queued_bytes.fetch_sub(line.len(), Ordering::SeqCst);
                    if out
                        .write_all(line.as_bytes())
                        .and_then(|()| out.flush())
                        .is_err()
                    {
                        writer.closed.store(true, Ordering::SeqCst);
                        return;
                    }
                    writer.written.fetch_add(1, Ordering::SeqCst);
                }
            })?;
        Ok(Stdout { lines, state })
    }

    /// Queues one line (with its newline) without ever waiting; a line that does not fit is
    /// dropped and counted.
    pub(super) fn offer(&self, line: String) {
        let state = &self.state;
        state.offered.fetch_add(1, Ordering::SeqCst);
        let len = line.len();
        let before = state.queued_bytes.fetch_add(len, Ordering::SeqCst);
        let fits = before == 0 || before + len <= MAX_BYTES;
        let queued = fits && !state.closed.load(Ordering::SeqCst) && {
            match self.lines.try_send(line) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            }
        };
        if !queued {
            state.queued_bytes.fetch_sub(len, Ordering::SeqCst);
            state.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub(super) fn counts(&self) -> Counts {
        let state = &self.state;
        Counts {
            offered: state.offered.load(Ordering::SeqCst),
            written: state.written.load(Ordering::SeqCst),
            dropped: state.dropped.load(Ordering::SeqCst),
            closed: state.closed.load(Ordering::SeqCst),
        }
    }

    /// Waits, at most `within`, until every line offered was written or dropped.
    pub(super) fn flush(&self, within: Duration) -> Counts {
        let deadline = Instant::now() + within;
        loop {
            let counts = self.counts();
            let done = counts.written + counts.dropped >= counts.offered;
            if done || counts.closed || Instant::now() >= deadline {
                return counts;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// What connection tasks tell the loop that owns the terminal.
pub(super) enum Report {
    /// The one-line summary of an event (its JSON went to stdout).
    Event(String),
    Forwarded(String),
    Note(String),
    /// Nothing to print: Ctrl-C, look at the flag.
    Wake,
}

/// The sending side of the reports, for the server's tasks: never waits.
#[derive(Clone)]
pub(super) struct Reports {
    tx: SyncSender<Report>,
    dropped: Arc<AtomicU64>,
}

impl Reports {
    pub(super) fn new() -> (Reports, Receiver<Report>) {
        let (tx, rx) = mpsc::sync_channel(MAX_REPORTS);
        let dropped = Arc::default();
        (Reports { tx, dropped }, rx)
    }

    pub(super) fn send(&self, report: Report) {
        if self.tx.try_send(report).is_err() {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Wakes the loop (Ctrl-C); when the queue is full it is awake anyway.
    pub(super) fn wake(&self) {
        let _ = self.tx.try_send(Report::Wake);
    }

    /// Reports dropped so far because the terminal loop did not keep up (a stderr nobody reads).
    pub(super) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A stdout that takes `open` lines, then blocks until the test lets it go.
    struct Stuck {
        open: usize,
        gate: Arc<Mutex<()>>,
        seen: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.open == 0 {
                drop(self.gate.lock().unwrap());
            }
            self.open = self.open.saturating_sub(1);
            self.seen.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_stdout_never_blocks_an_offer_and_every_line_is_counted_once() {
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().unwrap();
        let seen = Arc::default();
        let out = Stdout::start(Box::new(Stuck {
            open: 3,
            gate: gate.clone(),
            seen: Arc::clone(&seen),
        }))
        .unwrap();
        let total = MAX_LINES as u64 + 100;
        let started = Instant::now();
        for n in 0..total {
            out.offer(format!("{n}\n"));
        }
        assert!(started.elapsed() < Duration::from_secs(1), "offers waited");
        let stuck = out.flush(Duration::from_millis(50));
        assert_eq!(stuck.offered, total);
        assert_eq!(stuck.written, 3);
        assert!(stuck.dropped >= 100 - 4, "{stuck:?}");
        drop(held);
        let done = out.flush(Duration::from_secs(5));
        assert_eq!(done.written + done.dropped, total, "{done:?}");
        let text = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count() as u64, done.written);
        // Bytes bound too: one huge line always passes alone, a second waits its turn or goes.
        let big = "x".repeat(MAX_BYTES) + "\n";
        let out = Stdout::start(Box::new(std::io::sink())).unwrap();
        out.offer(big.clone());
        let counts = out.flush(Duration::from_secs(5));
        assert_eq!((counts.written, counts.dropped), (1, 0));
    }
}
