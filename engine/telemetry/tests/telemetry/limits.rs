//! The listener cannot be starved: every wait on a client is bounded, and health checks keep a
//! reserve of connections. Clients speak raw HTTP/1.1 over TCP so they can misbehave. Timeouts are
//! shortened; every wait on the server has a generous deadline, and nothing asserts on timing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use sparta_telemetry::{MetricsServer, ServerLimits, catalog};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};

/// How long any wait on the server may take before the test fails: far past every limit it tests.
const DEADLINE: Duration = Duration::from_secs(20);

/// A timeout the tests shorten.
const SHORT: Duration = Duration::from_millis(400);

/// A timeout that must not fire during a test.
const LONG: Duration = Duration::from_secs(120);

async fn start(limits: ServerLimits, extra: Router) -> MetricsServer {
    let telemetry = sparta_telemetry::install().unwrap();
    sparta_telemetry::serve_with_limits(telemetry, "127.0.0.1:0".parse().unwrap(), extra, limits)
        .await
        .unwrap()
}

/// Reads until the server closes the connection (a reset counts); what it sent before.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = timeout(DEADLINE, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
        }
    });
    read.await.expect("the server closes the connection");
    String::from_utf8_lossy(&seen).into_owned()
}

/// Reads one response (head and `content-length` body), leaving the connection open.
async fn one_response(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = timeout(DEADLINE, async {
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                if seen.len() >= end + 4 + length {
                    return text;
                }
            }
            let n = stream.read(&mut chunk).await.expect("the response arrives");
            assert_ne!(n, 0, "closed mid-response: {text}");
            seen.extend_from_slice(&chunk[..n]);
        }
    });
    read.await.expect("the response arrives in time")
}

/// Sends `GET path` on a new connection and reads the answer to the connection's close.
async fn get_once(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: sparta\r\nConnection: close\r\n\r\n");
    // A refused connection may already be closed: its answer is then empty.
    let _ = stream.write_all(request.as_bytes()).await;
    until_closed(&mut stream).await
}

/// `GET path` on new connections until one answers (a refused one is closed unanswered).
async fn get_answered(addr: SocketAddr, path: &str) -> String {
    let give_up = Instant::now() + DEADLINE;
    loop {
        let answer = get_once(addr, path).await;
        if !answer.is_empty() {
            return answer;
        }
        assert!(Instant::now() < give_up, "GET {path} never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_connection_that_never_sends_headers_is_closed() {
    let server =
        start(ServerLimits { header_timeout: SHORT, ..ServerLimits::default() }, Router::new()).await;
    let mut idle = TcpStream::connect(server.local_addr()).await.unwrap();
    let said = until_closed(&mut idle).await;
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 408"), "{said}");
}

#[tokio::test]
async fn a_kept_alive_connection_idle_after_a_request_is_closed() {
    let server =
        start(ServerLimits { header_timeout: SHORT, ..ServerLimits::default() }, Router::new()).await;
    let mut conn = TcpStream::connect(server.local_addr()).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: sparta\r\n\r\n").await.unwrap();
    let answer = one_response(&mut conn).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("connection: close"), "kept alive: {answer}");
    assert_eq!(until_closed(&mut conn).await, "", "closed without another word");
}

#[tokio::test]
async fn a_trickled_body_is_answered_408_and_closed() {
    let echo = Router::new().route("/echo", post(|body: Bytes| async move { body.len().to_string() }));
    let server = start(ServerLimits { body_timeout: SHORT, ..ServerLimits::default() }, echo).await;
    let conn = TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut read, mut write) = conn.into_split();
    write.write_all(b"POST /echo HTTP/1.1\r\nHost: sparta\r\nContent-Length: 100000\r\n\r\n").await.unwrap();
    // One byte every 50 ms: each arrives long before a per-read timeout would fire.
    let trickle = tokio::spawn(async move {
        let stop = Instant::now() + DEADLINE;
        while Instant::now() < stop && write.write_all(b"x").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut seen = Vec::new();
    timeout(DEADLINE, async {
        let mut chunk = [0u8; 1024];
        while let Ok(n @ 1..) = read.read(&mut chunk).await {
            seen.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("the server gives up on the body and closes");
    trickle.abort();
    // The answer may be lost to the reset that trickled bytes provoke on a closed socket.
    let said = String::from_utf8_lossy(&seen);
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 408"), "{said}");
}

#[tokio::test]
async fn a_handler_that_takes_too_long_is_answered_503() {
    let stall = Router::new().route("/stall", get(std::future::pending::<()>));
    let server = start(ServerLimits { request_timeout: SHORT, ..ServerLimits::default() }, stall).await;
    let answer = get_once(server.local_addr(), "/stall").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
}

#[tokio::test]
async fn a_client_that_never_reads_its_answer_does_not_keep_its_slot() {
    // Far more than loopback's socket buffers hold, so the write blocks.
    let big = Router::new().route("/big", get(|| async { Bytes::from(vec![b'x'; 64 << 20]) }));
    let limits =
        ServerLimits { max_connections: 1, health_reserve: 0, write_timeout: SHORT, ..Default::default() };
    let server = start(limits, big).await;
    let mut greedy = TcpStream::connect(server.local_addr()).await.unwrap();
    greedy.write_all(b"GET /big HTTP/1.1\r\nHost: sparta\r\n\r\n").await.unwrap();
    // The one slot frees once the stalled write times out; until then new connections are refused.
    let answer = get_answered(server.local_addr(), "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(greedy);
}

#[tokio::test]
async fn health_checks_answer_while_idle_connections_hold_every_general_slot() {
    let limits = ServerLimits {
        max_connections: 4,
        health_reserve: 2,
        header_timeout: LONG,
        ..ServerLimits::default()
    };
    let server = start(limits, Router::new()).await;
    let addr = server.local_addr();
    server.readiness().set(true, "single", "");

    // 4 take the general pool, 2 the reserve (closed after its short header timeout), 2 are refused.
    let mut idle = JoinSet::new();
    for _ in 0..8 {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        idle.spawn(async move {
            let mut byte = [0u8; 1];
            let _ = conn.read(&mut byte).await;
        });
    }
    for closed in 0..4 {
        timeout(DEADLINE, idle.join_next()).await.unwrap_or_else(|_| panic!("only {closed} of 4 closed"));
    }
    assert!(idle.try_join_next().is_none(), "the general pool's connections stay open");

    let health = get_answered(addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let ready = get_answered(addr, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let other = get_answered(addr, "/metrics").await;
    assert!(other.starts_with("HTTP/1.1 503"), "the reserve serves health checks only: {other}");
    assert_eq!(idle.len(), 4, "the general pool was full throughout");

    let text = sparta_telemetry::install().unwrap().render();
    let refused = text
        .lines()
        .find_map(|l| l.strip_prefix(catalog::TELEMETRY_CONNECTIONS_REFUSED_TOTAL)?.strip_prefix(' '))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no refusal count: {text}"));
    assert!(refused >= 2.0, "{refused}");
}

#[tokio::test]
async fn shutdown_stops_accepting_and_finishes_the_request_in_flight() {
    let (entered, mut handler_entered) = mpsc::channel::<()>(1);
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let slow = Router::new().route(
        "/slow",
        get(move || {
            let (entered, gate) = (entered.clone(), gate.clone());
            async move {
                let _ = entered.send(()).await;
                gate.notified().await;
                "done"
            }
        }),
    );
    let server = start(ServerLimits { header_timeout: LONG, ..ServerLimits::default() }, slow).await;
    let addr = server.local_addr();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight.write_all(b"GET /slow HTTP/1.1\r\nHost: sparta\r\n\r\n").await.unwrap();
    timeout(DEADLINE, handler_entered.recv()).await.expect("the request reaches its handler");

    let shutdown = tokio::spawn(server.shutdown());
    let give_up = Instant::now() + DEADLINE;
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < give_up, "still accepting after shutdown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(until_closed(&mut idle).await, "", "an idle connection is closed at once, not waited for");
    assert!(!shutdown.is_finished(), "shutdown waits for the request in flight");

    release.notify_one();
    let answer = until_closed(&mut in_flight).await;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"), "{answer}");
    timeout(DEADLINE, shutdown).await.expect("shutdown ends").unwrap().expect("clean shutdown");
}
