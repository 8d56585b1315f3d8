//! A local moto server for tests and benches (feature `local-moto`): installed by `scripts/moto`,
//! started on a free loopback port, and SDK clients that talk to it with static test credentials.

use std::io::BufRead;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Builder, Credentials, Region};

/// The installer script; it prints the path of the server to start on its last line.
const INSTALLER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/moto");
/// How long a fresh server may take to listen.
const START_WAIT: Duration = Duration::from_secs(30);

/// A running moto server. The wrapper shell kills it when our end of its stdin closes, so the server
/// never outlives the process that started it, even on a panic or a kill.
pub struct LocalMoto {
    endpoint: String,
    _guard: Mutex<Child>,
}

impl std::fmt::Debug for LocalMoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMoto").field("endpoint", &self.endpoint).finish()
    }
}

static SHARED: OnceLock<Option<LocalMoto>> = OnceLock::new();

impl LocalMoto {
    /// One server per process, started on first use, so every test of a binary shares it. `None`
    /// when moto cannot be installed, except in CI (`CI` set), where the DynamoDB checks must run.
    pub fn shared() -> Option<&'static LocalMoto> {
        SHARED.get_or_init(Self::start).as_ref()
    }

    /// Installs moto if needed and starts a server of its own on 127.0.0.1.
    pub fn start() -> Option<LocalMoto> {
        let server = server_path()?;
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new("sh")
            .args([
                "-c",
                "\"$0\" -H 127.0.0.1 -p \"$1\" & pid=$!; read _; kill $pid",
                &server,
                &port.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let deadline = Instant::now() + START_WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on port {port} within {START_WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(LocalMoto { endpoint: format!("http://127.0.0.1:{port}"), _guard: Mutex::new(child) })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A client with the SDK's default retry policy.
    pub fn client(&self) -> Client {
        Client::from_conf(local_config(&self.endpoint).build())
    }
}

/// SDK settings for an emulator at `endpoint` (or anything in front of it); callers may add retry
/// settings or interceptors before building.
pub fn local_config(endpoint: &str) -> Builder {
    // As in the binary: when both aws-lc-rs and ring are linked, rustls needs the default chosen.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
}

fn server_path() -> Option<String> {
    let out = Command::new(INSTALLER).stderr(Stdio::inherit()).output();
    let path = match out {
        Ok(out) if out.status.success() => out.stdout.lines().map_while(Result::ok).last(),
        Ok(out) => {
            eprintln!("{INSTALLER} failed: {}", out.status);
            None
        }
        Err(e) => {
            eprintln!("cannot run {INSTALLER}: {e}");
            None
        }
    };
    if path.is_none() && std::env::var_os("CI").is_some() {
        panic!("moto could not be installed; the DynamoDB checks must run in CI");
    }
    path
}
