//! HTTP to RPC providers, bounded. Every answer is read to a size limit (the declared length first,
//! then the bytes as they stream), within a time limit, without following redirects; errors quote
//! excerpts, never bodies, and never the URL (providers put keys in it).

use std::task;
use std::time::Duration;

use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::transports::{TransportError, TransportErrorKind, TransportFut};

use crate::shown::excerpt;

/// 32 MiB: the largest honest answers (a page of 50 checkpoints with their attestations, a
/// 2,000-block log range) are a few MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 << 20;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The bounds every request to a source is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// For the whole exchange: connect, send, and read the answer.
    pub timeout: Duration,
    pub max_response_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { timeout: DEFAULT_TIMEOUT, max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES }
    }
}

impl HttpLimits {
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    pub(crate) fn client(&self) -> Result<reqwest::Client, reqwest::Error> {
        // A redirect could send the request, and its URL's key, elsewhere.
        reqwest::Client::builder().timeout(self.timeout).redirect(reqwest::redirect::Policy::none()).build()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer declares {declared} bytes, over the {limit}-byte limit")]
    DeclaredTooLarge { declared: u64, limit: usize },
    #[error("the answer grew past the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("reading the answer failed: {0}")]
    Read(#[source] reqwest::Error),
}

/// The body of `response`, refused once it passes `limit` bytes.
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if let Some(declared) = response.content_length()
        && declared > limit as u64
    {
        return Err(BodyError::DeclaredTooLarge { declared, limit });
    }
    // A declared length is a claim, so it only sizes the first allocation, and only a little.
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0).min(64 << 10) as usize);
    while let Some(chunk) = response.chunk().await.map_err(|e| BodyError::Read(e.without_url()))? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// alloy's HTTP transport, bounded: the L1 provider's answers are held to [`HttpLimits`], and an
/// answer must carry the ids of the request it answers.
#[derive(Clone, Debug)]
pub(crate) struct BoundedHttp {
    client: reqwest::Client,
    url: reqwest::Url,
    max_response_bytes: usize,
}

impl BoundedHttp {
    pub(crate) fn new(url: reqwest::Url, limits: HttpLimits) -> Result<Self, reqwest::Error> {
        Ok(Self { client: limits.client()?, url, max_response_bytes: limits.max_response_bytes })
    }

    async fn exchange(self, request: RequestPacket) -> Result<ResponsePacket, TransportError> {
        let sent = self.client.post(self.url).json(&request).send().await;
        let response = sent.map_err(|e| TransportErrorKind::custom(e.without_url()))?;
        let status = response.status();
        let body =
            read_capped(response, self.max_response_bytes).await.map_err(TransportErrorKind::custom)?;
        let packet = serde_json::from_slice::<ResponsePacket>(&body);
        // Providers send JSON-RPC errors with non-2xx statuses too: the error object says more.
        let packet = match packet {
            Ok(packet) if status.is_success() || packet.is_error() => packet,
            _ if !status.is_success() => {
                return Err(TransportErrorKind::http_error(status.as_u16(), excerpt(&body)));
            }
            Err(e) => return Err(TransportError::deser_err(e, excerpt(&body))),
            Ok(packet) => packet,
        };
        answers_the_request(&request, &packet)?;
        Ok(packet)
    }
}

/// An answer whose ids are not the request's belongs to another request (or to nobody).
fn answers_the_request(request: &RequestPacket, answer: &ResponsePacket) -> Result<(), TransportError> {
    let mut asked: Vec<String> = match request {
        RequestPacket::Single(one) => vec![one.id().to_string()],
        RequestPacket::Batch(many) => many.iter().map(|r| r.id().to_string()).collect(),
    };
    let mut answered: Vec<String> = answer.response_ids().map(ToString::to_string).collect();
    asked.sort_unstable();
    answered.sort_unstable();
    if asked == answered {
        return Ok(());
    }
    let shown = |ids: &[String]| crate::shown::shown_message(&ids.join(","));
    Err(TransportErrorKind::custom_str(&format!(
        "the answer's ids [{}] are not the request's [{}]",
        shown(&answered),
        shown(&asked)
    )))
}

impl tower::Service<RequestPacket> for BoundedHttp {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, _: &mut task::Context<'_>) -> task::Poll<Result<(), Self::Error>> {
        task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        Box::pin(self.clone().exchange(request))
    }
}
