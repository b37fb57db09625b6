//! One connection of the server driven from memory: raw request bytes in, the answer's bytes
//! out, no socket. The fuzz target of the loopback server runs every input through it; the
//! tests check it answers as the socket does.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use super::{http_builder, serve_stream, Conns, Limits, Policy, Shared};

/// What one exchange may read back: far more than any answer of ours (a page, a few headers).
const MAX_ANSWER: u64 = 1 << 20;

/// Sends `request` on a fresh connection of a server answering with `policy`, half-closes, and
/// returns everything the server wrote before it closed (empty: closed without an answer).
/// `None` when the exchange outlasted `bound` (a hang) or the runtime could not start.
pub(crate) fn exchange<P: Policy>(
    limits: Limits,
    policy: P,
    request: &[u8],
    bound: Duration,
) -> Option<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let shared = Arc::new(Shared {
            policy,
            limits,
            http: http_builder(&limits),
            conns: Conns::new(1),
        });
        let (id, evicted) = shared.conns.admit()?;
        // Never stopped: the exchange ends when the connection does.
        let (_stop, stopped) = watch::channel(false);
        // Smaller than the largest head, so that a big request is read while it is written.
        let (client, server) = tokio::io::duplex(16 * 1024);
        tokio::spawn(serve_stream(shared, id, server, evicted, stopped));
        let (mut from_server, mut to_server) = tokio::io::split(client);
        let send = async {
            // A server that answered early (413, 431) stops reading: the rest is not sent.
            let _ = to_server.write_all(request).await;
            let _ = to_server.shutdown().await;
        };
        let receive = async {
            let mut answer = Vec::new();
            let _ = (&mut from_server)
                .take(MAX_ANSWER)
                .read_to_end(&mut answer)
                .await;
            answer
        };
        let both = async { tokio::join!(send, receive).1 };
        tokio::time::timeout(bound, both).await.ok()
    })
}
