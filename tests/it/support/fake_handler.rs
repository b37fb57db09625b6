//! A developer's webhook handler, played by the test: a plain HTTP/1.1 server on 127.0.0.1
//! that records every request and answers as the test says (any status, a hostile body, a
//! redirect, an endless stream, a hang, a closed connection). Stops when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub request_line: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How to answer.
pub enum Reply {
    /// This status and body text.
    Status(u16, String),
    /// These bytes, as they are (status line and all).
    Raw(Vec<u8>),
    /// The status after this long.
    Late(Duration, u16),
    /// A 200 whose body never ends (bytes without a newline, until the client goes).
    Endless,
    /// Never answer (the connection is held for at most 30 s).
    Hang,
    /// Close the connection without reading the body or answering.
    Close,
}

/// Bodies beyond this are not read (the handler answers anyway).
const MAX_READ: usize = 4 * 1024 * 1024;
/// Nothing a fake handler does lasts longer than this.
const LONGEST: Duration = Duration::from_secs(30);

type Answerer = dyn Fn(&Recorded) -> Reply + Send + Sync;

pub struct FakeHandler {
    pub url: String,
    pub port: u16,
    seen: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl FakeHandler {
    /// Serves `POST` (or anything) at `http://127.0.0.1:PORT/webhooks`, answering with `reply`.
    pub fn start(reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> FakeHandler {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake handler");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let reply: Arc<Answerer> = Arc::new(reply);
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stop2.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(300) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (seen, stop, reply) = (seen2.clone(), stop2.clone(), reply.clone());
                        std::thread::spawn(move || serve(stream, &seen, &stop, &*reply));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        FakeHandler {
            url: format!("http://127.0.0.1:{port}/webhooks"),
            port,
            seen,
            stop,
        }
    }

    /// Answers every request with 200 `ok`.
    pub fn ok() -> FakeHandler {
        FakeHandler::start(|_| Reply::Status(200, "ok".into()))
    }

    pub fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeHandler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_request(stream: &mut TcpStream, with_body: bool) -> Option<Recorded> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while with_body && body.len() < length.min(MAX_READ) {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        request_line,
        headers,
        body,
    })
}

fn serve(mut stream: TcpStream, seen: &Mutex<Vec<Recorded>>, stop: &AtomicBool, reply: &Answerer) {
    let Some(request) = read_request(&mut stream, true) else {
        return;
    };
    let answer = reply(&request);
    seen.lock().unwrap().push(request);
    let started = Instant::now();
    let status_line = |status: u16, body: &str| {
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let bytes = match answer {
        Reply::Status(status, body) => status_line(status, &body),
        Reply::Raw(bytes) => bytes,
        Reply::Late(after, status) => {
            std::thread::sleep(after);
            status_line(status, "ok\n")
        }
        Reply::Endless => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n",
            );
            let block = vec![b'a'; 8192];
            while !stop.load(Ordering::Relaxed) && started.elapsed() < LONGEST {
                if stream.write_all(&block).is_err() {
                    break;
                }
            }
            return;
        }
        Reply::Hang => {
            while !stop.load(Ordering::Relaxed) && started.elapsed() < LONGEST {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
        Reply::Close => return,
    };
    let _ = stream.write_all(&bytes);
    let _ = stream.flush();
}
