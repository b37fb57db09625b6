//! A TCP stream that, once something was written on it, is closed gracefully on drop.
//!
//! Closing a socket with unread data makes the kernel reset the connection, and a reset can
//! destroy an answer the client has not read yet (an early 413 while the client is still
//! sending its body, hyper's 431 for an oversized head). So after an answer we shut our side
//! down and read and drop what the client still sends, for at most [`LINGER`] and
//! [`LINGER_BYTES`]. Connections never answered (idle, evicted) close at once, freeing the
//! descriptor.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

pub(super) const LINGER: Duration = Duration::from_secs(1);
/// More than the largest body (1 MiB) and head together: a client that sends a body just
/// over the limit after an early 413 is read to its end, and gets the answer.
pub(super) const LINGER_BYTES: usize = 2 << 20;

pub(super) struct Lingering {
    stream: Option<TcpStream>,
    answered: bool,
}

impl Lingering {
    pub(super) fn new(stream: TcpStream) -> Self {
        Lingering {
            stream: Some(stream),
            answered: false,
        }
    }

    fn stream(&mut self) -> io::Result<Pin<&mut TcpStream>> {
        self.stream
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream()?.poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.answered = true;
        self.stream()?.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.answered = true;
        self.stream()?.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_shutdown(cx)
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        if !self.answered {
            return;
        }
        // Outside the runtime (it is shutting down) the stream just closes.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = stream.shutdown().await;
                let mut sink = [0u8; 4096];
                let mut left = LINGER_BYTES;
                let _ = tokio::time::timeout(LINGER, async {
                    while left > 0 {
                        match stream.read(&mut sink).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => left = left.saturating_sub(n),
                        }
                    }
                })
                .await;
            });
        }
    }
}
