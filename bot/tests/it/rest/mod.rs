//! The REST client against a local Discord double: real TLS, real serenity with its rate limiter,
//! every request checked against Discord's OpenAPI description.

mod delivery;
mod double;
mod follow_up;
mod harness;
mod limits;
mod members;
mod register;
mod rejections;
mod tls;
mod unreachable;
