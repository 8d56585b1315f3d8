//! A Discord that cannot be reached is a `Transient` failure, reported promptly.

use std::time::{Duration, Instant};

use sparta_bot::{DiscordAction, DiscordRest, DiscordSink, SinkError};
use tokio::net::TcpListener;

use super::harness::{config, member};
use super::tls::{DISCORD_HOST, TestPki, install_crypto_provider};

fn action() -> DiscordAction {
    DiscordAction::AddRole { user: member(1).to_string(), role: "healthy".into(), reason: "r".into() }
}

#[tokio::test]
async fn a_closed_port_is_transient_and_prompt() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let rest = DiscordRest::with_client(config(), TestPki::new().client(addr)).unwrap();
    let started = Instant::now();
    let result = rest.deliver("k", &action()).await;
    assert!(matches!(&result, Err(SinkError::Transient(text)) if text.contains("unreachable")), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_silent_endpoint_times_out_as_transient() {
    install_crypto_provider();
    // Accepts connections and never answers, not even the TLS handshake.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = reqwest012::Client::builder()
        .use_rustls_tls()
        .resolve(DISCORD_HOST, addr)
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let rest = DiscordRest::with_client(config(), client).unwrap();
    let started = Instant::now();
    let result = rest.deliver("k", &action()).await;
    assert!(matches!(result, Err(SinkError::Transient(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    silent.abort();
}
