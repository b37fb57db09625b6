//! `wixauth webhook listen`: a receiver on localhost for Wix deliveries that a tunnel
//! (cloudflared, ngrok) brings in: the loopback server ([`crate::serve`]) with the receiver's
//! policy ([`receive`]), bound to 127.0.0.1 and ::1 only.
//!
//! Wix retries a delivery that is not answered with 200 within 1250 ms, so the answer never
//! waits on the developer's own server (the relay to `--forward-to` starts after the answer is
//! written) nor on our own output: the server runs on a thread of its own, and what it prints
//! goes through bounded queues ([`output`]) to the terminal loop here and to stdout's writer.

mod forward;
mod output;
mod receive;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::{Host, Url};

use super::instances::{start_saver, Saver};
use super::PublicKey;
use crate::core::error::{Error, Result};
use crate::core::text::printable;
use crate::serve::{self, Limits, StartError};
use crate::ui::interrupt;
use crate::ui::Io;
use forward::Forwarder;
use output::{Counts, Report, Reports, Stdout};
use receive::Out;

/// Bodies larger than this get 413 (Wix's are a few KB).
pub(crate) const MAX_BODY: usize = 1024 * 1024;
const LIMITS: Limits = Limits {
    max_body: MAX_BODY,
    ..Limits::DEFAULT
};
/// With `--once`, how long the exit waits for the relay of the event.
const ONCE_FORWARD_WAIT: Duration = Duration::from_secs(11);
/// How often the terminal loop looks at the flags (Ctrl-C wakes it at once).
const TICK: Duration = Duration::from_millis(200);
/// At the end, how long event lines still queued get to reach stdout.
const FLUSH_WAIT: Duration = Duration::from_secs(2);
/// While lines are being dropped, a warning at most this often.
const WARN_EVERY: Duration = Duration::from_secs(5);

pub(crate) struct ListenOptions {
    pub port: u16,
    pub path: String,
    pub forward_to: Option<Url>,
    pub save_instances: bool,
    /// `--save-deliveries DIR` (the webhook lab's `replay`).
    pub save_deliveries: Option<std::path::PathBuf>,
    pub once: bool,
}

/// Checks `--path`: an absolute path without query, fragment or odd characters.
pub(crate) fn check_path(path: &str) -> Result<()> {
    let ok = path.starts_with('/')
        && path.len() <= 256
        && !path.contains(['?', '#'])
        && path.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "--path {} must be a URL path such as /webhook",
            printable(path, 80)
        )))
    }
}

/// Checks `--forward-to`: `http(s)://` on a loopback host (the developer's own server).
pub(crate) fn check_forward_to(text: &str) -> Result<Url> {
    let refuse = || {
        Error::usage(format!(
            "--forward-to {} must be an http:// URL on this machine (localhost, 127.0.0.1 or [::1]): deliveries are only relayed to your own server",
            printable(text, 120)
        ))
    };
    let url = Url::parse(text).map_err(|_| refuse())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse());
    }
    match url.host() {
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => Ok(url),
        Some(Host::Ipv4(ip)) if ip.is_loopback() => Ok(url),
        Some(Host::Ipv6(ip)) if ip.is_loopback() => Ok(url),
        _ => Err(refuse()),
    }
}

/// What the server's errors mean to someone choosing `--port`.
fn start_error(e: StartError) -> Error {
    let in_use = |port, ip| {
        format!("port {port} on {ip} is already in use (another `wixauth webhook listen`?): stop it, or pass --port with another port and point the tunnel there")
    };
    e.for_user(in_use, "--port", "receiver")
}

/// Runs the receiver until Ctrl-C (an `interrupted` error: exit 130) or, with `--once`, the
/// first valid event.
pub(crate) fn run(opts: &ListenOptions, key: PublicKey, saver: Saver, io: &mut Io) -> Result<()> {
    check_path(&opts.path)?;
    let bound = serve::bind(&serve::localhost(opts.port)).map_err(start_error)?;
    let port = bound.port();
    let forward = opts.forward_to.clone().map(Forwarder::new).transpose()?;
    let (reports, inbox) = Reports::new();
    let stdout = Stdout::start(process_stdout())
        .map_err(|e| Error::failure(format!("cannot start the receiver: {e}")))?;
    let out = Arc::new(Out {
        stdout,
        stdout_tty: io.stdout_tty,
        reports: reports.clone(),
        forward,
        profile: opts.save_instances.then(|| saver.profile.clone()),
        once: opts.once,
        once_claimed: AtomicBool::new(false),
        once_printed: AtomicBool::new(false),
        once_relayed: AtomicBool::new(false),
    });
    let receiver = receive::Receiver {
        key,
        path: opts.path.clone(),
        saver: opts.save_instances.then(|| start_saver(saver)),
        deliveries: (opts.save_deliveries.as_deref())
            .map(super::replay::DeliveryLog::open)
            .transpose()?,
        out: out.clone(),
    };
    // Ctrl-C wakes the loop (which then exits 130 and frees the port).
    interrupt::on_interrupt_wake(move || reports.wake());
    let server = bound
        .serve("webhook receiver", LIMITS, receiver)
        .map_err(start_error)?;
    io.note(&format!(
        "Listening on http://localhost:{port}{} (127.0.0.1 and [::1] only){}; Ctrl-C stops.",
        opts.path,
        match &opts.forward_to {
            Some(url) => format!(", forwarding to {url}"),
            None => String::new(),
        }
    ));
    io.note(&format!(
        "Tunnel it (`cloudflared tunnel --url http://localhost:{port}` or `ngrok http {port}`) and register the tunnel's https URL + {} as the app's webhook URL.",
        opts.path
    ));
    let mut terminal = Terminal::new(&out);
    let outcome = terminal.wait(&inbox, opts, io);
    // The port is free from here on.
    drop(server);
    terminal.finish(&inbox, &outcome, io);
    outcome
}

/// The receiver at `path` with `key`, as [`run`] starts it but printing to nowhere and saving
/// and relaying nothing, with the server's limits: what answers from memory (the loopback
/// server's fuzz target, and the test that checks it answers as `run` does).
#[cfg(any(test, fuzzing))]
pub(crate) fn quiet_receiver(key: PublicKey, path: &str) -> Option<(Limits, impl serve::Policy)> {
    // Its receiving end dropped: every report is counted as dropped, none waits.
    let (reports, _) = Reports::new();
    let out = Arc::new(Out {
        stdout: Stdout::start(Box::new(std::io::sink())).ok()?,
        stdout_tty: false,
        reports,
        forward: None,
        profile: None,
        once: false,
        once_claimed: AtomicBool::new(false),
        once_printed: AtomicBool::new(false),
        once_relayed: AtomicBool::new(false),
    });
    let receiver = receive::Receiver {
        key,
        path: path.to_string(),
        saver: None,
        deliveries: None,
        out,
    };
    Some((LIMITS, receiver))
}

/// Where the event lines go. Io's streams are not Send, and a stdout nobody reads must block
/// nothing but its own writer: the lines go to the process's stdout from a thread of their
/// own, through a descriptor of their own, so that no lock of std's stdout is held while that
/// thread waits (the exit flushes std's stdout and would wait too).
fn process_stdout() -> Box<dyn std::io::Write + Send> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout())
}

/// The loop that owns the terminal: prints the reports, watches the flags, and says when
/// event lines could not reach stdout.
struct Terminal<'a> {
    out: &'a Out,
    /// Lines and reports dropped at the last warning, and when it was given.
    warned: (u64, u64, Option<Instant>),
}

impl<'a> Terminal<'a> {
    fn new(out: &'a Out) -> Self {
        Terminal {
            out,
            warned: (0, 0, None),
        }
    }

    fn wait(&mut self, inbox: &Receiver<Report>, opts: &ListenOptions, io: &mut Io) -> Result<()> {
        // Set once `--once` has its event and waits only for that event's relay.
        let mut once_deadline: Option<Instant> = None;
        loop {
            if interrupt::interrupted() {
                return Err(Error::interrupted());
            }
            if self.out.stdout.counts().closed {
                // `| head`: the reader is done; end quietly, as a pipe's writer does.
                return Err(Error::closed_pipe());
            }
            if opts.once && self.out.once_printed.load(Ordering::SeqCst) {
                let relayed = self.out.once_relayed.load(Ordering::SeqCst);
                if self.out.forward.is_none() || relayed {
                    return Ok(());
                }
                let at = *once_deadline.get_or_insert_with(|| Instant::now() + ONCE_FORWARD_WAIT);
                if Instant::now() >= at {
                    return Ok(());
                }
            }
            match inbox.recv_timeout(TICK) {
                Ok(report) => print(report, io),
                Err(RecvTimeoutError::Timeout) => {}
                // The loop holds a sender through `out`, so this does not happen.
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            self.warn_of_drops(io);
        }
    }

    /// A warning when lines were dropped since the last one (at most every [`WARN_EVERY`]).
    fn warn_of_drops(&mut self, io: &mut Io) {
        let (lines, reports) = (self.out.stdout.counts().dropped, self.out.reports.dropped());
        let (warned_lines, warned_reports, at) = self.warned;
        let due = at.is_none_or(|at| at.elapsed() >= WARN_EVERY);
        if !due || (lines, reports) == (warned_lines, warned_reports) {
            return;
        }
        if lines > warned_lines {
            io.warn(&format!(
                "stdout is not being read: {lines} event line(s) dropped so far; the receiver goes on answering"
            ));
        }
        if reports > warned_reports {
            io.warn(&format!(
                "stderr was not being read: {reports} report line(s) dropped so far"
            ));
        }
        self.warned = (lines, reports, Some(Instant::now()));
    }

    /// Prints what is left, gives stdout a moment to take the lines still queued, and says
    /// how many never reached it.
    fn finish(&mut self, inbox: &Receiver<Report>, outcome: &Result<()>, io: &mut Io) {
        for report in inbox.try_iter() {
            print(report, io);
        }
        let closed = matches!(outcome, Err(e) if e.exit == crate::core::error::Exit::ClosedPipe);
        let Counts {
            offered, written, ..
        } = self.out.stdout.flush(FLUSH_WAIT);
        if !closed && written < offered {
            io.warn(&format!(
                "{} of {offered} event line(s) were not written to stdout: it was not being read",
                offered - written
            ));
        }
    }
}

fn print(report: Report, io: &mut Io) {
    match report {
        Report::Event(summary) => io.note(&printable(&summary, 600)),
        Report::Forwarded(line) | Report::Note(line) => io.note(&printable(&line, 300)),
        Report::Wake => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_targets_are_loopback_only() {
        for ok in [
            "http://localhost:3000/webhooks",
            "http://127.0.0.1:3000/",
            "http://[::1]:3000/x",
            "https://localhost/x",
        ] {
            assert!(check_forward_to(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/x",
            "http://10.0.0.1/x",
            "http://localhost.example.com/",
            "ftp://localhost/",
            "localhost:3000",
        ] {
            let err = check_forward_to(bad).unwrap_err();
            assert_eq!(err.exit, crate::core::error::Exit::Usage, "{bad}");
        }
    }

    #[test]
    fn the_quiet_receiver_answers_from_memory_as_the_real_one() {
        let key = rsa::PrivateKey::new(&mut getrandom_04::SysRng, 2048).unwrap();
        let pem = rsa::pkcs8::EncodePublicKey::to_public_key_pem(
            &rsa::PublicKey::from(&key),
            rsa::pkcs8::LineEnding::LF,
        )
        .unwrap();
        let key = PublicKey::parse(&pem, "test").unwrap();
        let status = |request: &str| {
            let (limits, policy) = quiet_receiver(key.clone(), "/webhook").unwrap();
            let answer =
                serve::memory::exchange(limits, policy, request.as_bytes(), TICK * 25).unwrap();
            String::from_utf8_lossy(&answer)[..12].to_string()
        };
        assert_eq!(status("POST /other HTTP/1.1\r\n\r\n"), "HTTP/1.1 404");
        assert_eq!(status("GET /webhook HTTP/1.1\r\n\r\n"), "HTTP/1.1 405");
        let unsigned = "POST /webhook HTTP/1.1\r\nContent-Length: 5\r\n\r\na.b.c";
        assert_eq!(status(unsigned), "HTTP/1.1 401");
        let huge = format!(
            "POST /webhook HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(status(&huge), "HTTP/1.1 413");
    }

    #[test]
    fn paths_are_plain() {
        assert!(check_path("/webhook").is_ok());
        for bad in ["webhook", "/a?b", "/a b", "/\x1b"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
