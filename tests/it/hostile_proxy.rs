//! A JSON-RPC proxy in front of a devnet source that turns hostile on command: answers of 300 MB
//! (declared, or streamed without end), a current slot far in the future, error messages of 2 MB
//! with forged log lines. It ignores the request's path, so a URL can carry a fake provider key.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the proxy does with the next requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Attack {
    /// Forward to the source.
    None,
    /// 300 MB answers: with a declared length and with an endless chunked body, in turn.
    Flood,
    /// `getCurrentSlot()` answers 2^63; everything else is forwarded.
    FutureSlot,
    /// Every answer is a JSON-RPC error of 2 MB whose message carries newlines and a forged log line.
    NoisyErrors,
}

/// `getCurrentSlot()`.
const GET_CURRENT_SLOT: &str = "0xd8e3784c";
const FLOOD_BYTES: usize = 300 << 20;
/// The start of the line a noisy error tries to forge.
pub const FORGED: &str = "FORGED-LOG-LINE";

pub struct HostileProxy {
    pub addr: String,
    attack: Arc<AtomicU8>,
    // Dropped last: stops the server.
    _runtime: tokio::runtime::Runtime,
}

impl HostileProxy {
    pub fn start(upstream: &str) -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let attack = Arc::new(AtomicU8::new(Attack::None as u8));
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (upstream, mode) = (upstream.to_owned(), attack.clone());
        runtime.spawn(async move {
            let client = reqwest::Client::new();
            let mut turn = 0u64;
            while let Ok((socket, _)) = listener.accept().await {
                turn += 1;
                let attack = current(&mode);
                tokio::spawn(serve(socket, upstream.clone(), client.clone(), attack, turn));
            }
        });
        Self { addr, attack, _runtime: runtime }
    }

    pub fn set(&self, attack: Attack) {
        self.attack.store(attack as u8, Ordering::SeqCst);
    }
}

fn current(mode: &AtomicU8) -> Attack {
    match mode.load(Ordering::SeqCst) {
        1 => Attack::Flood,
        2 => Attack::FutureSlot,
        3 => Attack::NoisyErrors,
        _ => Attack::None,
    }
}

async fn serve(mut socket: TcpStream, upstream: String, client: reqwest::Client, attack: Attack, turn: u64) {
    let Some(body) = read_request(&mut socket).await else { return };
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let id = request["id"].clone();
    match attack {
        Attack::Flood => flood(&mut socket, turn.is_multiple_of(2)).await,
        Attack::FutureSlot if is_current_slot_call(&request) => {
            let slot = format!("0x{:064x}", 1u128 << 63);
            respond(&mut socket, 200, &json!({"jsonrpc": "2.0", "id": id, "result": slot})).await;
        }
        Attack::NoisyErrors => {
            let message =
                format!("upstream broke\n{FORGED} level=INFO all is well\r\n{}", "x".repeat(2 << 20));
            let error = json!({"code": -32000, "message": message});
            respond(&mut socket, 200, &json!({"jsonrpc": "2.0", "id": id, "error": error})).await;
        }
        _ => {
            let Ok(answer) =
                client.post(&upstream).header("content-type", "application/json").body(body).send().await
            else {
                return;
            };
            let status = answer.status().as_u16();
            let Ok(bytes) = answer.bytes().await else { return };
            write_response(&mut socket, status, &bytes).await;
        }
    }
}

fn is_current_slot_call(request: &Value) -> bool {
    request["method"] == "eth_call"
        && request["params"][0]["input"]
            .as_str()
            .or(request["params"][0]["data"].as_str())
            .is_some_and(|input| input.starts_with(GET_CURRENT_SLOT))
}

/// Reads one request's head and its `Content-Length` body (at most 1 MiB).
async fn read_request(socket: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > 64 << 10 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
        .min(1 << 20);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf[head_end..head_end + length].to_vec())
}

async fn respond(socket: &mut TcpStream, status: u16, body: &Value) {
    write_response(socket, status, body.to_string().as_bytes()).await;
}

async fn write_response(socket: &mut TcpStream, status: u16, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(body).await;
    let _ = socket.shutdown().await;
}

/// 300 MB of a JSON array that never closes, until the client hangs up.
async fn flood(socket: &mut TcpStream, declared: bool) {
    let chunk = vec![b'['; 64 << 10];
    let head = if declared {
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {FLOOD_BYTES}\r\n\r\n")
    } else {
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".into()
    };
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for _ in 0..FLOOD_BYTES / chunk.len() {
        let sent = if declared {
            socket.write_all(&chunk).await
        } else {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            socket.write_all(&framed).await
        };
        if sent.is_err() {
            return;
        }
    }
}
