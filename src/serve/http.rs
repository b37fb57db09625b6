//! What a policy sees of a request (its head, and its body read within the limits) and the
//! answers it gives back.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, StatusCode, Uri};

pub(crate) type Answer = hyper::Response<Full<Bytes>>;

/// Work a policy leaves for after its answer is written (or the client is gone): relays and
/// reports that must not delay the answer.
pub(crate) type After = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A policy's answer to one request, and what to do once it is written.
pub(crate) struct Reply {
    pub(crate) answer: Answer,
    pub(crate) then: Option<After>,
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Reply {
        Reply { answer, then: None }
    }
}

/// The headers the server puts on every answer of ours: one request per connection, and a
/// page or an answer reached with a code (or an event) in it is neither cached, nor sniffed
/// into something else, nor leaked as a referrer.
pub(super) const COMMON: [(header::HeaderName, &str); 5] = [
    (header::CONNECTION, "close"),
    (header::CACHE_CONTROL, "no-store, max-age=0"),
    (header::PRAGMA, "no-cache"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

pub(super) fn add_common_headers(answer: &mut Answer) {
    let headers = answer.headers_mut();
    for (name, value) in COMMON {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// An answer with a status, a content type (none for a redirect) and a body. (hyper adds
/// Content-Length and drops the body for HEAD; the server adds the common headers.)
pub(crate) fn answer(status: u16, content_type: Option<&'static str>, body: Bytes) -> Answer {
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Announced or found to be over the limit: 413.
    TooLarge,
    /// Not all there within the body deadline: 408.
    Timeout,
    /// The client broke it off or sent a malformed chunk: 400.
    Broken,
}

impl BodyError {
    pub(crate) fn status(self) -> u16 {
        match self {
            BodyError::TooLarge => 413,
            BodyError::Timeout => 408,
            BodyError::Broken => 400,
        }
    }
}

/// One request whose head has arrived.
pub(crate) struct Request {
    inner: hyper::Request<Incoming>,
    max_body: usize,
    body_timeout: Duration,
}

impl Request {
    pub(super) fn new(
        inner: hyper::Request<Incoming>,
        max_body: usize,
        body_timeout: Duration,
    ) -> Self {
        Request {
            inner,
            max_body,
            body_timeout,
        }
    }

    pub(crate) fn method(&self) -> &Method {
        self.inner.method()
    }

    pub(crate) fn uri(&self) -> &Uri {
        self.inner.uri()
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The origin-form target as sent (path and raw query), or `None` when the target is not a
    /// path (`*`, an authority).
    pub(crate) fn target(&self) -> Option<String> {
        let uri = self.inner.uri();
        let target = match uri.query() {
            Some(query) => format!("{}?{query}", uri.path()),
            None => uri.path().to_string(),
        };
        target.starts_with('/').then_some(target)
    }

    /// The whole body, at most the server's body limit, within its body deadline. A body
    /// announced as larger is refused before any of it is read.
    pub(crate) async fn body(self) -> Result<Bytes, BodyError> {
        let declared = self
            .inner
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(BodyError::TooLarge);
        }
        let body = Limited::new(self.inner.into_body(), self.max_body).collect();
        match tokio::time::timeout(self.body_timeout, body).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
            Ok(Err(_)) => Err(BodyError::Broken),
            Err(_) => Err(BodyError::Timeout),
        }
    }
}
