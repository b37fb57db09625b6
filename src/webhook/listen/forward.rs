//! `--forward-to`: relays a verified delivery's raw body and content type to the developer's
//! own server, after Wix has its answer, and says on stderr how that went.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use tokio::sync::Semaphore;
use url::{Host, Url};

use crate::core::error::{Error, Result};

/// One relay to `--forward-to` may take this long.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);
/// Relays in flight at once ...
const MAX_FORWARDS: usize = 32;
/// ... and deliveries waiting for one of them (each holds its body); past that a delivery is
/// not relayed, and says so.
const MAX_WAITING: usize = 256;

pub(super) struct Forwarder {
    url: Url,
    client: reqwest::Client,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
}

impl Forwarder {
    pub(super) fn new(url: Url) -> Result<Forwarder> {
        let mut builder = reqwest::Client::builder()
            // A proxy from the environment must never see a delivery meant for localhost.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FORWARD_TIMEOUT)
            // Idle connections to the developer's server stay few, so descriptors do not pile
            // up after a burst.
            .pool_max_idle_per_host(4)
            .user_agent(concat!("wixauth/", env!("CARGO_PKG_VERSION")));
        if let (Some(Host::Domain(name)), Some(port)) = (url.host(), url.port_or_known_default()) {
            // `localhost` is connected to on 127.0.0.1 whatever the resolver says; the Host
            // header stays what the developer's server expects.
            builder = builder.resolve(name, SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
        }
        let client = builder
            .build()
            .map_err(|e| Error::failure(format!("cannot set up forwarding: {e}")))?;
        Ok(Forwarder {
            url,
            client,
            slots: Arc::new(Semaphore::new(MAX_FORWARDS)),
            waiting: AtomicUsize::new(0),
        })
    }

    /// Relays the raw body and content type once a relay is free; one line for stderr either way.
    pub(super) async fn relay(&self, body: Bytes, content_type: Option<HeaderValue>) -> String {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return format!(
                "not forwarded to {}: {MAX_WAITING} deliveries are already waiting for it",
                self.url
            );
        }
        let slot = tokio::time::timeout(FORWARD_TIMEOUT, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let Ok(Ok(_slot)) = slot else {
            return format!(
                "not forwarded to {}: its {MAX_FORWARDS} relays were all busy for {} s",
                self.url,
                FORWARD_TIMEOUT.as_secs()
            );
        };
        let mut request = self.client.post(self.url.clone()).body(body);
        if let Some(ct) = content_type {
            request = request.header(CONTENT_TYPE, ct);
        }
        match request.send().await {
            Ok(response) => format!("forwarded to {}: {}", self.url, response.status()),
            Err(e) if e.is_timeout() => format!(
                "forwarding to {} failed: no answer within {} s",
                self.url,
                FORWARD_TIMEOUT.as_secs()
            ),
            Err(e) => {
                let why = if e.is_connect() {
                    "cannot connect (is your server running?)".to_string()
                } else {
                    e.to_string()
                };
                format!("forwarding to {} failed: {why}", self.url)
            }
        }
    }
}
