//! Serving the simulated network: an Aztec node JSON-RPC and an Ethereum JSON-RPC, each on its own
//! loopback port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy_primitives::Address;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sparta_core::SlotClock;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{ConfigError, DevnetConfig};
use crate::jsonrpc::{RpcHandler, handle_body};
use crate::l1_rpc::L1Rpc;
use crate::network::Network;
use crate::node_rpc::NodeRpc;

/// Why a devnet could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    #[error("invalid devnet config: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// Where the two servers listen (both default to `127.0.0.1:0`, a free port each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenAddrs {
    pub node: SocketAddr,
    pub l1: SocketAddr,
}

impl Default for ListenAddrs {
    fn default() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self { node: loopback, l1: loopback }
    }
}

/// Entry point: `Devnet::start(config, clock)`.
#[derive(Debug)]
pub struct Devnet;

impl Devnet {
    /// Builds the network and serves it on two free loopback ports.
    pub async fn start(
        config: DevnetConfig,
        clock: Arc<dyn SlotClock>,
    ) -> Result<RunningDevnet, DevnetError> {
        Self::start_on(config, clock, ListenAddrs::default()).await
    }

    /// Same, on chosen addresses.
    pub async fn start_on(
        config: DevnetConfig,
        clock: Arc<dyn SlotClock>,
        addrs: ListenAddrs,
    ) -> Result<RunningDevnet, DevnetError> {
        let network = Arc::new(Network::new(config, clock)?);
        let node_outage = Arc::new(Outage::default());
        let node_rpc = Arc::new(NodeRpc::new(network.clone()));
        let node = Server::bind(addrs.node, node_rpc, Some(node_outage.clone())).await?;
        let l1 = Server::bind(addrs.l1, Arc::new(L1Rpc::new(network.clone())), None).await?;
        tracing::info!(node = %node.addr, l1 = %l1.addr, "devnet serving");
        Ok(RunningDevnet {
            node_url: format!("http://{}", node.addr),
            l1_url: format!("http://{}", l1.addr),
            registry_address: network.addresses().registry_address,
            network,
            node_outage,
            servers: vec![node, l1],
        })
    }
}

/// A devnet being served. Dropping it stops the servers too; [`RunningDevnet::shutdown`] waits
/// for them to finish.
#[derive(Debug)]
pub struct RunningDevnet {
    /// `http://127.0.0.1:<port>` of the Aztec node JSON-RPC.
    pub node_url: String,
    /// `http://127.0.0.1:<port>` of the Ethereum JSON-RPC.
    pub l1_url: String,
    /// The one L1 address a client needs: the Registry resolves the rest.
    pub registry_address: Address,
    pub network: Arc<Network>,
    /// Scripts a node outage (an incident for dashboards and alert rules to show).
    pub node_outage: Arc<Outage>,
    servers: Vec<Server>,
}

/// A scripted outage: while it lasts, the server answers every request `503 Service Unavailable`,
/// as a node behind a load balancer does while it restarts.
#[derive(Debug, Default)]
pub struct Outage(Mutex<Option<(Instant, Instant)>>);

impl Outage {
    /// The outage starts `after` from now and lasts `lasting`.
    pub fn schedule(&self, after: Duration, lasting: Duration) {
        let from = Instant::now() + after;
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((from, from + lasting));
    }

    fn active(&self) -> bool {
        let window = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        window.is_some_and(|(from, until)| (from..until).contains(&Instant::now()))
    }
}

impl RunningDevnet {
    /// Stops both servers and waits until they have.
    pub async fn shutdown(self) {
        for server in self.servers {
            server.stop().await;
        }
    }
}

#[derive(Debug)]
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    async fn bind(
        addr: SocketAddr,
        handler: Arc<dyn RpcHandler>,
        outage: Option<Arc<Outage>>,
    ) -> Result<Self, DevnetError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| DevnetError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| DevnetError::Bind { addr, source })?;
        let app = Router::new().route("/", post(rpc)).with_state(Served { handler, outage });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(%addr, error = %e, "devnet server stopped with an error");
            }
        });
        Ok(Self { addr, stop: Some(stop), task: Some(task) })
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[derive(Clone)]
struct Served {
    handler: Arc<dyn RpcHandler>,
    outage: Option<Arc<Outage>>,
}

/// The handlers are synchronous and quick (the simulation is in memory), so they run inline.
async fn rpc(State(Served { handler, outage }): State<Served>, body: Bytes) -> Response {
    if outage.is_some_and(|o| o.active()) {
        return (StatusCode::SERVICE_UNAVAILABLE, "scripted outage").into_response();
    }
    let answer = handle_body(handler.as_ref(), &body);
    let mut response =
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], answer.to_string())
            .into_response();
    for (name, value) in handler.headers() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(HeaderName::from_static(name), value);
        }
    }
    response
}
