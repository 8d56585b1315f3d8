//! What can go wrong talking to Discord, and which of it is worth a retry: the outbox retries
//! [`SinkError::Transient`] with backoff and gives up on [`SinkError::Rejected`].

use serenity::http::HttpError;

use crate::sink::SinkError;

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// Discord answered with an error status; `code` and `message` are from its JSON error body
    /// (`code` is -1 when the body was not Discord's JSON, as from a proxy's 502 page).
    #[error("discord answered {status} (code {code}): {message}")]
    Status { status: u16, code: i64, message: String },
    /// No answer: connection refused or reset, TLS failure, timeout.
    #[error("discord unreachable: {0}")]
    Network(String),
    /// A success answer we could not read. It will not read better on a retry.
    #[error("unreadable answer from discord: {0}")]
    Decode(String),
    /// Not sent: the action or the configuration cannot make a valid request (unknown role or
    /// channel name, a user id that is not a snowflake, an empty message).
    #[error("not sent: {0}")]
    Invalid(String),
}

impl RestError {
    /// A short, bounded label for metrics: `http_<status>`, `unreachable`, `decode` or `invalid`.
    pub fn code(&self) -> String {
        match self {
            RestError::Status { status, .. } => format!("http_{status}"),
            RestError::Network(_) => "unreachable".into(),
            RestError::Decode(_) => "decode".into(),
            RestError::Invalid(_) => "invalid".into(),
        }
    }

    /// Rate limits that reached us, Discord's 5xx and network failures pass; the rest is final.
    pub fn is_retryable(&self) -> bool {
        match self {
            RestError::Status { status, .. } => *status == 429 || *status == 408 || *status >= 500,
            RestError::Network(_) => true,
            RestError::Decode(_) | RestError::Invalid(_) => false,
        }
    }
}

impl From<serenity::Error> for RestError {
    fn from(error: serenity::Error) -> Self {
        match error {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => RestError::Status {
                status: response.status_code.as_u16(),
                code: response.error.code as i64,
                message: response.error.message,
            },
            serenity::Error::Http(HttpError::Request(error)) => RestError::Network(chain(&error)),
            serenity::Error::Http(error @ (HttpError::RateLimitI64F64 | HttpError::RateLimitUtf8)) => {
                RestError::Decode(error.to_string())
            }
            serenity::Error::Json(error) => RestError::Decode(error.to_string()),
            other => RestError::Invalid(other.to_string()),
        }
    }
}

impl From<RestError> for SinkError {
    fn from(error: RestError) -> Self {
        if error.is_retryable() {
            SinkError::Transient(error.to_string())
        } else {
            SinkError::Rejected(error.to_string())
        }
    }
}

/// An error with its sources (`reqwest`'s top-level message alone says little: "error sending
/// request").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, code: i64) -> RestError {
        RestError::Status { status, code, message: "m".into() }
    }

    #[test]
    fn server_errors_rate_limits_and_network_failures_are_retried() {
        for error in [status(500, 0), status(502, -1), status(503, 0), status(429, 0), status(408, 0)] {
            assert!(matches!(SinkError::from(error), SinkError::Transient(_)));
        }
        assert!(SinkError::from(RestError::Network("connection refused".into())).is_retryable());
    }

    #[test]
    fn client_errors_and_unsendable_actions_are_rejected_with_discords_code() {
        let forbidden = SinkError::from(RestError::Status {
            status: 403,
            code: 50013,
            message: "Missing Permissions".into(),
        });
        assert!(
            matches!(&forbidden, SinkError::Rejected(text) if text.contains("50013") && text.contains("Missing Permissions")),
            "{forbidden}"
        );
        for error in [
            status(400, 50035),
            status(404, 10007),
            status(401, 0),
            RestError::Decode("eof".into()),
            RestError::Invalid("no role".into()),
        ] {
            assert!(!SinkError::from(error).is_retryable());
        }
    }

    #[test]
    fn the_source_chain_is_kept() {
        #[derive(Debug, thiserror::Error)]
        #[error("error sending request")]
        struct Outer(#[source] std::io::Error);
        let outer = Outer(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(chain(&outer), "error sending request: refused");
    }
}
