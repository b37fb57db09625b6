//! A hostile crowd against a loopback port, in a process of its own: as "another local user"
//! (uid 65534, through `setpriv`) when the tests run as root. It holds `idle` connections that
//! never send a byte (opening a new one whenever the server closes one), and opens one
//! slowloris connection a second that sends its request head a few bytes at a time and never
//! finishes it. It is this test binary run again with [`crowd_process`] as its only test.
//!
//! Also here: what a process holds, read from /proc (open descriptors, resident memory).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const PORT_VAR: &str = "WIXAUTH_TEST_CROWD_PORT";
const IDLE_VAR: &str = "WIXAUTH_TEST_CROWD_IDLE";
/// The crowd gives up by itself after this, should its parent never stop it.
const MAX_LIFE: Duration = Duration::from_secs(20 * 60);
const TICK: Duration = Duration::from_millis(100);

/// A running crowd; stopped (and its counts read) by [`Crowd::stop`], killed on drop.
pub struct Crowd {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// Whether it runs as another user (uid 65534).
    pub other_user: bool,
}

/// What the crowd did, as it reported when stopped.
#[derive(Debug, Default, Clone, Copy)]
pub struct CrowdCounts {
    /// Idle connections the server closed (the crowd opened a new one each time).
    pub idle_closed: u64,
    /// Slowloris connections opened, and the longest the server kept one of them.
    pub slowloris: u64,
    pub slowloris_longest_ms: u64,
}

impl Crowd {
    /// Starts the crowd on 127.0.0.1:`port`; returns once its idle connections are open.
    pub fn start(port: u16, idle: usize) -> Crowd {
        let exe = std::env::current_exe().expect("the test binary");
        let other_user = is_root();
        let mut cmd = if other_user {
            let mut cmd = Command::new("setpriv");
            cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
                .arg(&exe);
            cmd
        } else {
            eprintln!(
                "not root: the crowd runs as this user (there is no other local user to run it as)"
            );
            Command::new(&exe)
        };
        cmd.args(["support::crowd::crowd_process", "--exact", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(PORT_VAR, port.to_string())
            .env(IDLE_VAR, idle.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start the crowd");
        let stdout = BufReader::new(child.stdout.take().expect("the crowd's stdout"));
        let mut crowd = Crowd {
            child,
            stdout,
            other_user,
        };
        let ready = crowd.line("CROWD ready");
        eprintln!("{ready} (as uid {})", if other_user { 65534 } else { 0 });
        crowd
    }

    /// The crowd's next line that says `prefix`, from there on (the test harness prints its
    /// own words too, on the same line).
    fn line(&mut self, prefix: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            match self.stdout.read_line(&mut line) {
                Ok(0) | Err(_) => panic!("the crowd ended before saying {prefix:?}"),
                Ok(_) => {
                    if let Some(at) = line.find(prefix) {
                        return line[at..].trim().to_string();
                    }
                }
            }
        }
    }

    /// Stops the crowd (its connections close with it) and returns its counts.
    pub fn stop(mut self) -> CrowdCounts {
        // Closing its stdin is the signal to stop.
        drop(self.child.stdin.take());
        let done = self.line("CROWD done");
        let _ = self.child.wait();
        let field = |name: &str| {
            done.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_default()
        };
        let counts = CrowdCounts {
            idle_closed: field("idle_closed"),
            slowloris: field("slowloris"),
            slowloris_longest_ms: field("slowloris_longest_ms"),
        };
        eprintln!("{done}");
        counts
    }
}

impl Drop for Crowd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A connection of the crowd's, non-blocking so one thread can watch them all.
fn open(addr: SocketAddr) -> Option<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_nonblocking(true).ok()?;
    Some(stream)
}

/// Whether the server has closed it (an orderly close or a reset).
fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    }
}

/// The crowd itself: a no-op unless the environment names a port (see [`Crowd::start`]).
#[test]
fn crowd_process() {
    let Some(port) = std::env::var(PORT_VAR).ok().and_then(|p| p.parse().ok()) else {
        return;
    };
    let idle_wanted: usize = std::env::var(IDLE_VAR)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(140);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // Stdin closing (the parent stopping us, or dying) ends the crowd.
    let (stop_tx, stop) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = stop_tx.send(());
    });
    let mut idle: Vec<TcpStream> = (0..idle_wanted).filter_map(|_| open(addr)).collect();
    println!("CROWD ready: {} idle connections to {addr}", idle.len());
    let _ = std::io::stdout().flush();
    let (mut idle_closed, mut slowloris, mut longest) = (0u64, 0u64, Duration::ZERO);
    let mut slow: Vec<(TcpStream, Instant, usize)> = Vec::new();
    let head = b"POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nX-Slow: ";
    let started = Instant::now();
    let mut last_slowloris = Instant::now();
    while stop.recv_timeout(TICK).is_err() && started.elapsed() < MAX_LIFE {
        let before = idle.len();
        idle.retain_mut(|s| !closed(s));
        idle_closed += (before - idle.len()) as u64;
        while idle.len() < idle_wanted {
            match open(addr) {
                Some(s) => idle.push(s),
                None => break,
            }
        }
        if last_slowloris.elapsed() >= Duration::from_secs(1) {
            last_slowloris = Instant::now();
            if let Some(s) = open(addr) {
                slow.push((s, Instant::now(), 0));
                slowloris += 1;
            }
        }
        // Each slowloris sends one more byte of its head a tick, and never the end of it.
        slow.retain_mut(|(s, opened, sent)| {
            let byte = head.get(*sent).copied().unwrap_or(b'a');
            let gone = s.write(&[byte]).is_err() || closed(s);
            *sent += 1;
            if gone {
                longest = longest.max(opened.elapsed());
            }
            !gone
        });
    }
    println!(
        "CROWD done: idle_closed={idle_closed} slowloris={slowloris} slowloris_longest_ms={} idle_open={} slowloris_open={}",
        longest.as_millis(),
        idle.len(),
        slow.len()
    );
    let _ = std::io::stdout().flush();
}

/// How many descriptors `pid` has open.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/fd: {e}"))
}

/// The resident memory of `pid` in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// Waits (at most `within`) until `pid` has at least `want` descriptors open.
pub fn wait_for_fds(pid: u32, want: usize, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let now = open_fds(pid);
        if now >= want || Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
