//! A request body that must arrive by a deadline, however it trickles.
//!
//! A timeout per frame would let a client send one byte just before each expiry and hold the
//! connection forever; this one runs from the request's headers to the body's end.

use std::error::Error;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::BoxError;
use axum::body::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// The error a body yields once its deadline has passed.
#[derive(Debug)]
pub(super) struct BodyTimedOut;

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl Error for BodyTimedOut {}

/// Whether a [`DeadlineBody`] ran out of time: the handler only sees a failed read, the server
/// turns its answer into a 408.
#[derive(Clone, Debug, Default)]
pub(super) struct TimedOut(Arc<AtomicBool>);

impl TimedOut {
    pub(super) fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Release);
    }
}

pub(super) struct DeadlineBody<B> {
    inner: B,
    deadline: Pin<Box<Sleep>>,
    timed_out: TimedOut,
    done: bool,
}

impl<B> DeadlineBody<B> {
    /// `inner`, which fails `timeout` from now unless it has ended by then.
    pub(super) fn new(inner: B, timeout: Duration, timed_out: TimedOut) -> Self {
        Self { inner, deadline: Box::pin(tokio::time::sleep(timeout)), timed_out, done: false }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        // The deadline first: a client whose bytes always arrive in time for the next poll must not
        // outlive it either.
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.done = true;
            this.timed_out.set();
            return Poll::Ready(Some(Err(BodyTimedOut.into())));
        }
        let frame = std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx));
        if frame.is_none() {
            this.done = true;
        }
        Poll::Ready(frame.map(|f| f.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
