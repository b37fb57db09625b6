//! `webhook listen` under fire (issue 15 bug 1, issue 16 item 9): idle crowds, slowloris, a
//! stdout nobody reads, a thousand deliveries from 64 senders, and a forward target that keeps
//! dying. Every loop is bounded and everything stays on loopback.

use crate::support::crowd::{open_fds, rss_kib, wait_for_fds, Crowd};
use crate::support::loopback::{self, assert_common_headers, connect, read_response, Response};
use crate::support::*;
use crate::webhook::{claims, forward_target, installed, instances, sign, uuid, Listener, SITE};

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Wix delivers again when a delivery is not answered within this.
const WIX_LIMIT: Duration = Duration::from_millis(1250);
/// The receiver's cap on open connections.
const CAP: usize = 128;

fn addr(l: &Listener) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], l.port))
}

/// One signed delivery, timed from connect to the end of the answer.
fn deliver(url: &str, jwt: &str) -> (Result<Response, String>, Duration) {
    let started = Instant::now();
    let response = loopback::try_request(
        "POST",
        url,
        &[("Content-Type", "text/plain")],
        jwt.as_bytes(),
    );
    (response, started.elapsed())
}

/// The instance ids of stdout's event lines, each asserted to be there once.
fn printed_once(stdout: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in stdout.lines() {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let id = event["instance_id"]
            .as_str()
            .expect("instance_id")
            .to_string();
        assert!(seen.insert(id.clone()), "{id} printed twice");
    }
    seen
}

#[test]
fn idle_connections_at_and_past_the_cap_never_keep_a_delivery_out() {
    let env = TestEnv::new();
    let l = Listener::start(&env, &[]);
    let pid = l.run.pid;
    let jwt = sign(&installed(SITE));
    let quiet = open_fds(pid);
    for crowd in [CAP, CAP + 12] {
        let idle: Vec<_> = (0..crowd)
            .map(|i| connect(addr(&l)).unwrap_or_else(|e| panic!("connection {i}: {e}")))
            .collect();
        // Every idle connection the receiver keeps holds a descriptor there: all taken in
        // before the delivery comes.
        let held = wait_for_fds(pid, quiet + CAP, Duration::from_secs(5));
        assert!(held >= quiet + CAP, "{held} descriptors, {quiet} before");
        let (response, took) = deliver(&l.url("/webhook"), &jwt);
        eprintln!(
            "TIMING {crowd} idle connections: the delivery answered in {:.1} ms",
            took.as_secs_f64() * 1000.0
        );
        let status = response.map(|r| r.status);
        assert_eq!(status, Ok(200), "with {crowd} idle connections open");
        assert!(took < WIX_LIMIT, "answered after {took:?}");
        drop(idle);
        let deadline = Instant::now() + Duration::from_secs(5);
        while open_fds(pid) > quiet && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let out = l.interrupt();
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn every_answer_of_the_receiver_carries_the_common_headers_and_an_early_413_lingers() {
    let env = TestEnv::new();
    let l = Listener::start(&env, &[]);
    for (what, response) in [
        ("200", l.post(&sign(&installed(SITE)))),
        ("401", l.post("not a jwt")),
        ("404", crate::webhook::post(&l.url("/other"), "x")),
        ("405", loopback::get(&l.url("/webhook"))),
    ] {
        assert_eq!(response.status.to_string(), what);
        assert_common_headers(what, &response);
    }
    // Announced as over 1 MiB: answered before the body is read, while the client sends all
    // of it first (as a tunnel's client may). A reset would fail the sending and could take
    // the answer with it; the lingering close reads and drops the body instead.
    let len = 1024 * 1024 + 1;
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\n\r\n"
    );
    let mut stream = connect(addr(&l)).unwrap();
    let sent = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&vec![b'a'; len]));
    let mut answer = Vec::new();
    let ended = stream.read_to_end(&mut answer);
    assert!(
        sent.is_ok(),
        "the connection was reset while the body was sent: {sent:?}"
    );
    assert!(
        ended.is_ok(),
        "a reset instead of a lingering close: {ended:?}"
    );
    let response = read_response(&mut &answer[..], false).expect("an answer");
    assert_eq!(response.status, 413, "{}", response.text());
    assert_common_headers("413", &response);
    l.interrupt();
}

#[test]
fn a_stdout_nobody_reads_never_stops_the_answers_and_the_dropped_lines_are_counted() {
    let env = TestEnv::new();
    // `wixauth webhook listen | sleep 1000`: a pipe nobody reads until the receiver has ended.
    let (mut unread, stdout_end) = std::io::pipe().expect("a pipe");
    let mut l = Listener::start_on(&env, free_port(), &[], &[], Stdio::from(stdout_end));
    // 60 KB events: the pipe holds one line, the receiver's queue some 70; the rest must go.
    let pad = "x".repeat(60_000);
    let total = 150;
    let jwts: Vec<String> = (0..total)
        .map(|n| {
            let data = json!({"appId": APP_ID, "pad": pad});
            sign(&claims("AppInstalled", &uuid(n), data, 300))
        })
        .collect();
    let mut worst = Duration::ZERO;
    for (n, jwt) in jwts.iter().enumerate() {
        let (response, took) = deliver(&l.url("/webhook"), jwt);
        assert_eq!(response.map(|r| r.status), Ok(200), "delivery {n}");
        worst = worst.max(took);
    }
    eprintln!("TIMING {total} deliveries with a stdout nobody reads: worst answer {worst:?}");
    assert!(worst < WIX_LIMIT, "worst answer {worst:?}");
    l.run.wait_line("the warning", |s| {
        s.contains("stdout is not being read") && s.contains("dropped so far")
    });
    let out = l.interrupt();
    let err = stderr(&out);
    let not_written: usize = err
        .lines()
        .find_map(|line| {
            let (n, rest) = line.strip_prefix("wixauth: warning: ")?.split_once(' ')?;
            rest.starts_with(&format!("of {total} event line(s) were not written"))
                .then(|| n.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no count of the lines not written: {err}"));
    let mut piped = Vec::new();
    unread.read_to_end(&mut piped).unwrap();
    let written = piped.iter().filter(|&&b| b == b'\n').count();
    eprintln!("{written} line(s) reached the pipe, {not_written} were counted as not written");
    assert!(written >= 1 && not_written > 0, "{written} {not_written}");
    assert_eq!(written + not_written, total, "each line written or counted");
}

/// 64 threads sending `jwts` as fast as they are answered; (status, time) of each, in order.
fn send_all(url: &str, jwts: &[String], senders: usize) -> Vec<(Result<u16, String>, Duration)> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![
        (Err("not sent".to_string()), Duration::ZERO);
        jwts.len()
    ]);
    std::thread::scope(|s| {
        for _ in 0..senders {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(jwt) = jwts.get(i) else { break };
                let (response, took) = deliver(url, jwt);
                results.lock().unwrap()[i] = (response.map(|r| r.status), took);
            });
        }
    });
    results.into_inner().unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn a_thousand_deliveries_from_64_senders_under_a_crowd_are_answered_in_time_and_counted_once() {
    let env = TestEnv::new();
    let target = forward_target(false);
    let mut l = Listener::start(&env, &["--save-instances", "--forward-to", &target.url]);
    let (pid, url) = (l.run.pid, l.url("/webhook"));
    let (warm, total) = (16, 1000);
    let jwts: Vec<String> = (0..warm + total)
        .map(|n| sign(&installed(&uuid(n))))
        .collect();
    // Warm up (the first save, the first relay), then the baseline.
    for (status, _) in send_all(&url, &jwts[..warm], 4) {
        assert_eq!(status, Ok(200));
    }
    for _ in 0..warm {
        target
            .requests
            .recv_timeout(Duration::from_secs(10))
            .expect("relayed");
    }
    std::thread::sleep(Duration::from_secs(2));
    let before = (open_fds(pid), rss_kib(pid));
    let crowd = Crowd::start(l.port, CAP + 12);
    let with_crowd = wait_for_fds(pid, before.0 + CAP - 8, Duration::from_secs(5));
    let started = Instant::now();
    let results = send_all(&url, &jwts[warm..], 64);
    let wall = started.elapsed();
    let during = (open_fds(pid), rss_kib(pid));
    let as_uid = if crowd.other_user {
        "uid 65534"
    } else {
        "this user"
    };
    let counts = crowd.stop();
    let mut forwarded = BTreeSet::new();
    while forwarded.len() < total {
        let (_, body) = target
            .requests
            // Generous: with the whole suite running beside it on two cores the target
            // thread is slow to be scheduled; a lost relay still fails.
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("only {} relayed", forwarded.len()));
        assert!(forwarded.insert(body), "a delivery relayed twice");
    }
    // The crowd's connections and every lingering close are gone by now.
    std::thread::sleep(Duration::from_secs(2));
    let after = (open_fds(pid), rss_kib(pid));

    let mut times: Vec<Duration> = results.iter().map(|(_, t)| *t).collect();
    times.sort();
    let (p50, p99, worst) = (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1],
    );
    eprintln!(
        "LOAD {total} deliveries, 64 senders, crowd of {} idle + 1 slowloris/s (as {as_uid}): {:.1} s, {:.0}/s; answer p50 {p50:?} p99 {p99:?} max {worst:?}; crowd: {counts:?}",
        CAP + 12,
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
    );
    eprintln!(
        "LOAD receiver: fds {} before, {with_crowd} with the crowd, {} at the end of the deliveries, {} after; VmRSS {} KiB before, {} KiB at the end, {} KiB after",
        before.0, during.0, after.0, before.1, during.1, after.1
    );
    for (n, (status, took)) in results.iter().enumerate() {
        assert_eq!(status, &Ok(200), "delivery {n}");
        assert!(*took < WIX_LIMIT, "delivery {n} answered after {took:?}");
    }
    assert!(
        counts.idle_closed > 0,
        "the crowd was never evicted: {counts:?}"
    );
    assert!(
        after.0 <= before.0 + 2,
        "descriptors: {before:?} → {after:?}"
    );
    assert!(
        after.1 <= before.1 + 16 * 1024,
        "memory: {before:?} → {after:?}"
    );
    l.run.assert_running("the load");
    let out = l.interrupt();
    let want: BTreeSet<String> = (0..warm + total).map(uuid).collect();
    assert_eq!(
        printed_once(&stdout(&out)),
        want,
        "every event printed once"
    );
    let saved: BTreeSet<String> = instances(&env).into_iter().collect();
    assert_eq!(saved, want, "every instance saved");
    let relays = stderr(&out).matches(": 202 Accepted").count();
    assert_eq!(relays, warm + total, "every relay reported once");
}

/// A pseudo-random number generator for the soak's chaos (xorshift; the seed is printed).
struct Chaos(u64);

impl Chaos {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// How long the soak runs: `WIXAUTH_SOAK_SECONDS` (scripts/soak.sh sets 600), 20 by default.
fn soak_length() -> Duration {
    let seconds = std::env::var("WIXAUTH_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(seconds)
}

#[test]
fn soak_forwarding_to_a_target_that_is_killed_and_restarted_at_random() {
    let length = soak_length();
    let env = TestEnv::new();
    // The developer's server: another `webhook listen`, killed (-9) and started again.
    let target_port = free_port();
    let start_target = || Listener::start_on(&env, target_port, &[], &[], Stdio::null());
    let mut target = Some(start_target());
    let forward_to = format!("http://127.0.0.1:{target_port}/webhook");
    let l = Listener::start(&env, &["--forward-to", &forward_to]);
    let (pid, url) = (l.run.pid, l.url("/webhook"));
    let seed = crate::support::now_unix() | 1;
    let mut chaos = Chaos(seed);
    let sent = AtomicUsize::new(0);
    let worst = Mutex::new(Duration::ZERO);
    let started = Instant::now();
    let mut samples = vec![(0u64, open_fds(pid), rss_kib(pid), 0usize, 0usize)];
    let mut restarts = 0;
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while started.elapsed() < length {
                    let n = sent.fetch_add(1, Ordering::SeqCst);
                    // Signed now: a long soak outlives a delivery's expiry.
                    let (response, took) = deliver(&url, &sign(&installed(&uuid(n))));
                    assert_eq!(response.map(|r| r.status), Ok(200), "delivery {n}");
                    let mut worst = worst.lock().unwrap();
                    *worst = (*worst).max(took);
                    drop(worst);
                    std::thread::sleep(Duration::from_millis(150));
                }
            });
        }
        let every = (length / 30).max(Duration::from_secs(1));
        let mut next_sample = every;
        while started.elapsed() < length {
            std::thread::sleep(Duration::from_millis(200 + chaos.below(3000)));
            target = match target.take() {
                Some(mut up) => {
                    up.run.signal("KILL");
                    let _ = up.run.wait();
                    None
                }
                None => {
                    restarts += 1;
                    Some(start_target())
                }
            };
            if started.elapsed() >= next_sample {
                next_sample += every;
                let at = started.elapsed().as_secs();
                let n = sent.load(Ordering::SeqCst);
                samples.push((at, open_fds(pid), rss_kib(pid), n, restarts));
            }
        }
    });
    let total = sent.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(2));
    samples.push((
        started.elapsed().as_secs(),
        open_fds(pid),
        rss_kib(pid),
        total,
        restarts,
    ));
    eprintln!(
        "SOAK {length:?}, seed {seed}: {total} deliveries, the target restarted {restarts} times, worst answer {:?}",
        worst.lock().unwrap()
    );
    for (at, fds, rss, n, restarts) in &samples {
        eprintln!("SOAK t={at:>4} s fds={fds:>3} VmRSS={rss:>6} KiB deliveries={n:>6} restarts={restarts}");
    }
    let out = l.interrupt();
    let want: BTreeSet<String> = (0..total).map(uuid).collect();
    assert_eq!(
        printed_once(&stdout(&out)),
        want,
        "no delivery lost from stdout"
    );
    let err = stderr(&out);
    let relayed = err
        .matches(&format!("forwarded to {forward_to}: 200"))
        .count();
    let failed = err
        .matches(&format!("forwarding to {forward_to} failed"))
        .count();
    eprintln!(
        "SOAK relays: {relayed} answered 200 by the target, {failed} failed while it was down"
    );
    assert!(
        relayed > 0 && failed > 0,
        "the target was never up, or never down"
    );
    assert!(*worst.lock().unwrap() < WIX_LIMIT);
    // Flat: the second half never above the first sample by more than a few descriptors and
    // a little memory (the allocator's arenas settle in the first seconds).
    let first = &samples[1.min(samples.len() - 1)];
    for (at, fds, rss, ..) in &samples[samples.len() / 2..] {
        assert!(
            *fds <= first.1 + 8,
            "t={at} s: {fds} descriptors, {} at first",
            first.1
        );
        assert!(
            *rss <= first.2 + 8 * 1024,
            "t={at} s: {rss} KiB, {} at first",
            first.2
        );
    }
}
