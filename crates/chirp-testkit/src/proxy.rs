//! A TCP proxy a test puts between a client and its server (RabbitMQ,
//! Redis) to stage an outage without stopping a server that other tests
//! share.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// A port nobody listens on now (the OS's pick for port 0).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

/// A TCP proxy between a broker client and its server. `cut` simulates
/// the broker going away: every proxied connection is dropped and the port
/// stops listening (so reconnects are refused); `restore` listens again on
/// the same port. `freeze` simulates a broker that hangs or a network that
/// drops packets: connections stay open but nothing passes, until `thaw`.
pub struct Proxy {
    pub port: u16,
    upstream: SocketAddr,
    serving: Option<JoinHandle<()>>,
    frozen: watch::Sender<bool>,
}

impl Proxy {
    /// A proxy to the server of `upstream_url`, not listening yet.
    pub async fn reserve(upstream_url: &str) -> Self {
        let url = url::Url::parse(upstream_url).expect("upstream URL");
        let host = url.host_str().unwrap_or("127.0.0.1");
        let port = url.port_or_known_default().unwrap_or(5672);
        let upstream = tokio::net::lookup_host((host, port))
            .await
            .expect("resolve the upstream")
            .next()
            .expect("an upstream address");
        Self {
            port: free_port(),
            upstream,
            serving: None,
            frozen: watch::Sender::new(false),
        }
    }

    pub async fn start(upstream_url: &str) -> Self {
        let mut proxy = Self::reserve(upstream_url).await;
        proxy.restore();
        proxy
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).expect("URL");
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(self.port)).expect("port");
        url.to_string()
    }

    /// Listens (again) and forwards every connection to the upstream.
    pub fn restore(&mut self) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], self.port)))
            .expect("bind the proxy port again");
        let listener = socket.listen(64).expect("listen");
        let frozen = self.frozen.subscribe();
        self.serving = Some(tokio::spawn(serve(listener, self.upstream, frozen)));
    }

    /// Drops every proxied connection and stops listening.
    pub async fn cut(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.abort();
            // Resolves once the task, with its listener and its set of
            // connections (whose drop aborts them all), is gone.
            let _ = serving.await;
        }
    }

    /// Holds every byte in both directions; connections stay open.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Lets bytes through again.
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }
}

async fn serve(listener: TcpListener, upstream: SocketAddr, frozen: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let mut gate = frozen.clone();
        connections.spawn(async move {
            // A frozen proxy accepts but does not connect: the client's
            // handshake hangs, as with a broker that does not answer.
            if gate.wait_for(|f| !*f).await.is_err() {
                return;
            }
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let (client_in, client_out) = client.into_split();
            let (server_in, server_out) = server.into_split();
            // Either direction ending ends the connection.
            tokio::select! {
                () = pump(client_in, server_out, gate.clone()) => {}
                () = pump(server_in, client_out, gate) => {}
            }
        });
        // Forget finished connections.
        while connections.try_join_next().is_some() {}
    }
}

/// Copies `from` to `to`, holding what it read while the proxy is frozen.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut gate: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if gate.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
