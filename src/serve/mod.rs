//! The one loopback HTTP/1 server under the login listener and `webhook listen`.
//!
//! HTTP/1.1 parsing is hyper's (`http1`, one request per connection); what decides whether the
//! server outlives whatever else connects to it is ours:
//! - it listens on loopback addresses only ([`bind`]), all on one port;
//! - an `accept` error (EMFILE under a connection flood...) backs off and retries, so the port
//!   never closes while a login waits (another local program could otherwise take it and
//!   receive the code) or a tunnel delivers;
//! - every connection must deliver its request head within [`Limits::head_timeout`] and
//!   [`Limits::max_head`] bytes, and at most [`Limits::max_connections`] are open at once: a
//!   new one evicts the oldest that has not delivered a head ([`conns`]), so idle sockets
//!   cannot crowd out the browser or Wix;
//! - a body is read only when the policy asks, within [`Limits::max_body`] and
//!   [`Limits::body_timeout`];
//! - every answer carries the common headers and is followed by a lingering close ([`linger`]);
//! - dropping the [`Server`] closes the listening sockets before it returns: the port is free.
//!
//! What to answer is the caller's [`Policy`]: it runs on the server's own thread (a Tokio
//! current-thread runtime), so it must not block, and it may leave work for after its answer is
//! written ([`Reply::then`]).

mod bind;
mod conns;
mod http;
mod linger;
#[cfg(any(test, fuzzing))]
pub(crate) mod memory;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

pub(crate) use bind::{listen_addresses, localhost, StartError};
pub(crate) use http::{answer, After, Answer, BodyError, Reply, Request};

use crate::core::log::debug;
use conns::Conns;
use linger::Lingering;

/// First pause after a failed `accept` (EMFILE and the like), doubled up to the second.
const ACCEPT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(20), Duration::from_millis(500));
/// When the server stops, a connection whose request arrived gets this long to be answered
/// and written (the login's "this login has ended" pages).
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The bounds every connection lives within.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The whole request head (request line and headers) must arrive within this.
    pub(crate) head_timeout: Duration,
    /// The largest request head; browsers send a few KB (cookies for localhost included).
    pub(crate) max_head: usize,
    /// Connections open at once; past it the oldest one still without a request head goes.
    pub(crate) max_connections: usize,
    /// The largest body [`Request::body`] reads.
    pub(crate) max_body: usize,
    /// The whole body must arrive within this once the policy asks for it.
    pub(crate) body_timeout: Duration,
}

impl Limits {
    pub(crate) const DEFAULT: Limits = Limits {
        head_timeout: Duration::from_secs(10),
        max_head: 64 * 1024,
        max_connections: 128,
        max_body: 1024 * 1024,
        body_timeout: Duration::from_secs(10),
    };
}

/// What a server answers: called once per request whose head arrived.
pub(crate) trait Policy: Send + Sync + 'static {
    fn answer(&self, request: Request) -> impl Future<Output = Reply> + Send;
}

/// Sockets bound but not served yet (so the caller can learn the port first).
pub(crate) struct Bound {
    sockets: Vec<tokio::net::TcpSocket>,
    addresses: Vec<SocketAddr>,
}

/// Binds the loopback `addresses` on one port; see [`StartError`] for what can go wrong.
pub(crate) fn bind(addresses: &[SocketAddr]) -> Result<Bound, StartError> {
    let sockets = bind::bind_all(addresses)?;
    let addresses = sockets
        .iter()
        .map(|s| s.local_addr())
        .collect::<std::io::Result<_>>()
        .map_err(StartError::Start)?;
    Ok(Bound { sockets, addresses })
}

impl Bound {
    pub(crate) fn addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    pub(crate) fn port(&self) -> u16 {
        self.addresses.first().map_or(0, |a| a.port())
    }

    /// Starts serving on a thread of its own (`name`), with `policy` deciding each answer.
    pub(crate) fn serve<P: Policy>(
        self,
        name: &str,
        limits: Limits,
        policy: P,
    ) -> Result<Server, StartError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(StartError::Start)?;
        let mut listeners = Vec::new();
        {
            // Registering the sockets needs the runtime's reactor.
            let _entered = runtime.enter();
            for (socket, &addr) in self.sockets.into_iter().zip(&self.addresses) {
                debug!("listening on {addr}");
                // Two bound sockets may share a port until one listens (SO_REUSEADDR): a
                // second wixauth that bound at the same moment learns it here.
                let socket = socket.listen(bind::BACKLOG).map_err(|e| match e.kind() {
                    std::io::ErrorKind::AddrInUse => StartError::InUse(addr),
                    _ => StartError::Start(e),
                })?;
                listeners.push((addr, socket));
            }
        }
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            policy,
            limits,
            http: http_builder(&limits),
            conns: Conns::new(limits.max_connections),
        });
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                runtime.block_on(serve(listeners, shared, stopped));
                // Dropping the runtime closes every connection still open.
            })
            .map_err(StartError::Start)?;
        Ok(Server {
            stop,
            thread: Some(thread),
        })
    }
}

/// A running server; dropping it stops it.
pub(crate) struct Server {
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Server {
    /// Stops accepting and closes the listening sockets before returning: the port is free.
    /// Connections whose request arrived get [`CLOSE_GRACE`] to be answered; the rest close.
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                debug!("server: its thread panicked");
            }
        }
    }
}

fn http_builder(limits: &Limits) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        // Both: the buffer bounds what is read, the header size what is parsed (a head that
        // arrives whole in one read can be larger than the buffer's nominal size).
        .max_buf_size(limits.max_head)
        .max_header_size(limits.max_head)
        .keep_alive(false)
        // A client may shut down its write side once the request is sent.
        .half_close(true)
        .title_case_headers(true);
    http
}

/// State shared by the accept loops and the connections.
struct Shared<P> {
    policy: P,
    limits: Limits,
    http: http1::Builder,
    conns: Conns,
}

async fn serve<P: Policy>(
    listeners: Vec<(SocketAddr, TcpListener)>,
    shared: Arc<Shared<P>>,
    stop: watch::Receiver<bool>,
) {
    // Every connection task holds a clone of `alive`: `recv` ends when the last one has ended.
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    let accepting: Vec<_> = listeners
        .into_iter()
        .map(|(addr, socket)| {
            let accept = accept_loop(addr, socket, shared.clone(), stop.clone(), alive.clone());
            tokio::spawn(accept)
        })
        .collect();
    drop(alive);
    for task in accepting {
        // Each loop ends (dropping its socket) when `stop` changes.
        let _ = task.await;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE + Duration::from_secs(1), all_closed.recv()).await;
}

/// Resolves when the server is being dropped (or already was).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

async fn accept_loop<P: Policy>(
    addr: SocketAddr,
    socket: TcpListener,
    shared: Arc<Shared<P>>,
    mut stop: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
) {
    let mut backoff = ACCEPT_BACKOFF.0;
    loop {
        let accepted = tokio::select! {
            _ = stopping(&mut stop) => return,
            accepted = socket.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                backoff = ACCEPT_BACKOFF.0;
                // `None`: all busy; dropping the stream closes it.
                if let Some((id, evicted)) = shared.conns.admit() {
                    let conn = connection(shared.clone(), id, stream, evicted, stop.clone());
                    let alive = alive.clone();
                    tokio::spawn(async move {
                        conn.await;
                        drop(alive);
                    });
                }
                // Before the next accept, the runtime polls for I/O and runs the connections
                // that are ready: a burst of new connections (a crowd reconnecting as fast as
                // it is evicted) must not push out one that was accepted just before it and
                // whose request head is already there to be read.
                tokio::task::yield_now().await;
            }
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS, ECONNABORTED...: keep listening.
                debug!("server: accept on {addr} failed: {e}; still listening");
                tokio::select! {
                    _ = stopping(&mut stop) => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
            }
        }
    }
}

/// Serves one request on one accepted socket, closed lingering once answered.
async fn connection<P: Policy>(
    shared: Arc<Shared<P>>,
    id: u64,
    stream: TcpStream,
    evicted: oneshot::Receiver<()>,
    stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    serve_stream(shared, id, Lingering::new(stream), evicted, stop).await;
}

/// Serves one request on one connection, then starts what the policy left for after it. Any
/// stream, so that the fuzz target can drive it from memory ([`memory`]).
async fn serve_stream<P: Policy, S>(
    shared: Arc<Shared<P>>,
    id: u64,
    stream: S,
    evicted: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let _admitted = shared.conns.hold(id);
    let then: Arc<Mutex<Option<After>>> = Arc::default();
    let service = {
        let (shared, then) = (shared.clone(), then.clone());
        service_fn(move |request| {
            let (shared, then) = (shared.clone(), then.clone());
            async move {
                shared.conns.set_delivered(id);
                let limits = &shared.limits;
                let request = Request::new(request, limits.max_body, limits.body_timeout);
                let Reply {
                    mut answer,
                    then: after,
                } = shared.policy.answer(request).await;
                http::add_common_headers(&mut answer);
                *then.lock().unwrap_or_else(|e| e.into_inner()) = after;
                Ok::<_, Infallible>(answer)
            }
        })
    };
    let io = TokioIo::new(stream);
    let mut conn = pin!(shared.http.serve_connection(io, service));
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(e) = served {
                debug!("server: connection ended: {e}");
            }
        }
        Ok(()) = evicted => {}
        _ = stopping(&mut stop) => {
            if shared.conns.delivered(id) {
                let _ = tokio::time::timeout(CLOSE_GRACE, conn).await;
            }
        }
    }
    // The answer is written (or the client is gone): the slow parts run on their own, outside
    // the cap on connections.
    let after = then.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(after) = after {
        tokio::spawn(after);
    }
}
