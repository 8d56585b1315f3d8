//! Sources that lie or attack: answers too large to hold, answers to other requests, error messages
//! that try to flood or forge logs, keys in URLs, impossible parameters. Each is refused with a short
//! error and nothing is held past the response-size limit.

use std::time::Duration;

use serde_json::json;
use sparta_chain::l1::{L1Error, L1Reader};
use sparta_chain::source::SourceError;
use sparta_chain::{HttpLimits, NodeClient, NodeError};
use sparta_core::{ChainTiming, Epoch};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fake_l1::{FakeL1, REGISTRY, TIMING};
use crate::rpc_double::{Reply, RpcDouble, refused_url};

const LIMIT: usize = 1 << 20;

fn limits() -> HttpLimits {
    HttpLimits { timeout: Duration::from_secs(20), max_response_bytes: LIMIT }
}

/// What the raw server sends after reading a request's headers.
#[derive(Clone, Copy)]
enum Flood {
    /// Declares a 300 MB body and sends a little of it.
    Declared,
    /// A chunked body that never ends (until the client hangs up, or 64 MiB as a bound).
    Endless,
}

/// An HTTP server on loopback that answers every request with `flood`.
async fn flooding_server(flood: Flood) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v2/SECRETKEY?apikey=SECRETQUERY", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 << 10];
                let _ = socket.read(&mut request).await;
                let chunk = vec![b'['; 64 << 10];
                match flood {
                    Flood::Declared => {
                        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 314572800\r\n\r\n";
                        let _ = socket.write_all(head.as_bytes()).await;
                        let _ = socket.write_all(&chunk).await;
                    }
                    Flood::Endless => {
                        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                        let _ = socket.write_all(head.as_bytes()).await;
                        for _ in 0..1024 {
                            let framed =
                                [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                            if socket.write_all(&framed).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn node_answers_past_the_size_limit_are_refused_by_declared_length_and_by_bytes_read() {
    for flood in [Flood::Declared, Flood::Endless] {
        let url = flooding_server(flood).await;
        let node = NodeClient::with_limits(&url, limits()).unwrap();
        let err = node.block_number().await.unwrap_err();
        assert!(matches!(err, NodeError::Oversized { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(&LIMIT.to_string()) && text.len() < 300, "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }
}

#[tokio::test]
async fn l1_answers_past_the_size_limit_are_refused_without_the_url() {
    for flood in [Flood::Declared, Flood::Endless] {
        let url = flooding_server(flood).await;
        let err = L1Reader::connect_with(&url, REGISTRY, limits()).await.unwrap_err();
        assert!(matches!(err, L1Error::Oversized { function: "eth_chainId", .. }), "{err}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}

#[tokio::test]
async fn an_answer_to_another_request_is_refused() {
    let double = RpcDouble::start(|_, _| Reply::Verbatim {
        status: 200,
        body: json!({"jsonrpc": "2.0", "id": 999_999, "result": "0x2a"}).to_string(),
    })
    .await;
    let err = NodeClient::new(&double.url).unwrap().block_number().await.unwrap_err();
    assert!(matches!(&err, NodeError::Decode { detail, .. } if detail.contains("999999")), "{err}");

    let err = L1Reader::connect(&double.url, REGISTRY).await.unwrap_err();
    assert!(err.to_string().contains("999999"), "the L1 transport checks ids too: {err}");
}

#[tokio::test]
async fn error_messages_are_cut_and_cannot_forge_log_lines() {
    let message = format!("boom\n2026-12-06T00:00:00Z  INFO sparta: forged line{}", "x".repeat(2 << 20));
    let shown = message.clone();
    let double = RpcDouble::start(move |_, _| Reply::Error { code: -32000, message: shown.clone() }).await;
    let err = NodeClient::new(&double.url).unwrap().block_number().await.unwrap_err().to_string();
    assert!(!err.contains('\n') && err.len() < 400, "{} bytes: {}", err.len(), &err[..err.len().min(400)]);

    let err = L1Reader::connect(&double.url, REGISTRY).await.unwrap_err().to_string();
    assert!(!err.contains('\n') && err.len() < 400, "{} bytes: {}", err.len(), &err[..err.len().min(400)]);
}

#[tokio::test]
async fn unbounded_error_codes_do_not_become_metric_series() {
    let telemetry = sparta_telemetry::install().unwrap();
    let double = RpcDouble::start(|_, _| Reply::Error { code: 123_456_789, message: "odd".into() }).await;
    let _ = NodeClient::new(&double.url).unwrap().block_number().await.unwrap_err();
    let scraped = telemetry.render();
    assert!(!scraped.contains("123456789"), "{scraped}");
    assert!(scraped.contains(r#"code="rpc_other""#), "{scraped}");
}

#[tokio::test]
async fn keys_in_l1_urls_never_reach_errors() {
    let refused = refused_url();
    let port = refused.trim_start_matches("http://127.0.0.1:").trim_end_matches('/');
    for url in [
        format!("http://user:SECRETPW@127.0.0.1:{port}/v2/SECRETKEY?apikey=SECRETQUERY"),
        format!("http://127.0.0.1:{port}/v2/SECRETKEY"),
    ] {
        let err = L1Reader::connect(&url, REGISTRY).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, L1Error::Unreachable { .. }), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
        let err = NodeClient::new(&url).unwrap().block_number().await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRET"), "{text}");
    }
}

#[tokio::test]
async fn impossible_rollup_parameters_are_refused_at_connect() {
    let now = 1_800_000_000;
    let fine = ChainTiming { genesis_time_s: 1_700_000_000, slot_duration_s: 72, epoch_duration_slots: 32 };
    assert!(sparta_chain::l1::reader::plausible_parameters(fine, 48, now).is_ok());
    for (timing, committee, what) in [
        (ChainTiming { genesis_time_s: 0, ..fine }, 48, "getGenesisTime"),
        (ChainTiming { genesis_time_s: now + 2 * 86_400, ..fine }, 48, "getGenesisTime"),
        (ChainTiming { slot_duration_s: 0, ..fine }, 48, "getSlotDuration"),
        (ChainTiming { slot_duration_s: 1 << 40, ..fine }, 48, "getSlotDuration"),
        (ChainTiming { epoch_duration_slots: 0, ..fine }, 48, "getEpochDuration"),
        (fine, 1 << 32, "getTargetCommitteeSize"),
    ] {
        let err = sparta_chain::l1::reader::plausible_parameters(timing, committee, now).unwrap_err();
        assert!(matches!(err, L1Error::Implausible { function, .. } if function == what), "{err}");
    }

    // And from the wire: a genesis in 1970 stops the connect.
    let (double, _) = FakeL1 { genesis_time_s: 1_000, ..FakeL1::default() }.serve().await;
    let err = L1Reader::connect(&double.url, REGISTRY).await.unwrap_err();
    assert!(matches!(err, L1Error::Implausible { function: "getGenesisTime", .. }), "{err}");
}

#[tokio::test]
async fn an_empty_committee_nobody_explains_is_refused_and_counted() {
    let telemetry = sparta_telemetry::install().unwrap();
    let s = crate::source::setup(true).await;
    let mut source = s.source().await;
    // Epoch 4 has no committee. L1 answers an empty list (not the contract's revert) while 12
    // validators are active: that cannot be true.
    let slot = TIMING.first_slot(Epoch(4));
    s.l1_state.lock().unwrap().committees.insert(4, vec![]);
    let err = source.slot_facts(slot).await.unwrap_err();
    assert!(matches!(err, SourceError::Implausible { slot: at, .. } if at == slot), "{err}");
    assert!(telemetry.render().contains(r#"sparta_chain_implausible_total{kind="empty_committee"} 1"#));

    // The contract's own "too few validators" revert explains it, under either of its names.
    s.l1_state.lock().unwrap().committees.remove(&4);
    let facts = source.slot_facts(slot).await.expect("explained");
    assert!(facts.committee.is_empty() && facts.epoch == Epoch(4));
    s.l1_state.lock().unwrap().v2_error_names = true;
    let mut source = s.source().await;
    assert!(source.slot_facts(slot).await.expect("explained the 2.x way").committee.is_empty());
}
