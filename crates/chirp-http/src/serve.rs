//! Serving an axum app with the bounds a public server needs, which
//! `axum::serve` does not set: a client gets [`ServeOptions::header_timeout`]
//! to send a request's headers and no longer to sit idle between requests
//! (no slowloris), a client that stops reading is dropped after
//! [`ServeOptions::write_timeout`], open connections are bounded, and
//! shutdown drains for at most [`ServeOptions::drain_timeout`].
//!
//! Handlers find the peer's address as `ConnectInfo<SocketAddr>`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

/// How one server treats its connections.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Time a client has to send a request's headers, counted from the
    /// connection's start or the end of the previous response; so also the
    /// longest a kept-alive connection may sit idle. Set the proxies in
    /// front (nginx's upstream `keepalive_timeout`) shorter, or they may
    /// send a request on a connection that is closing.
    pub header_timeout: Duration,
    /// Longest a write to a client may wait: a client that stops reading a
    /// response (its receive window full) for this long is disconnected,
    /// so it cannot hold the connection and what feeds it forever.
    pub write_timeout: Duration,
    /// Most connections served at once. At the bound the server stops
    /// accepting until one closes; new clients wait in the listen backlog.
    pub max_connections: usize,
    /// After shutdown is asked for, how long requests in flight may take
    /// before their connections are dropped.
    pub drain_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(20),
            write_timeout: Duration::from_secs(30),
            max_connections: 4096,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on an already bound `listener` until `shutdown` completes,
/// then stops accepting, lets requests in flight finish (up to the drain
/// timeout) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // never closed; but if it were, stop serving
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let app = app
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(options.write_timeout));
        let io = TokioIo::new(Box::pin(stream));
        let conn = builder.serve_connection(io, TowerToHyperService::new(app));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(options.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            timeout = ?options.drain_timeout,
            "requests still in flight at the drain deadline; their connections are dropped"
        );
    }
    Ok(())
}

/// The address handlers see for a request served by [`serve`]; `None` for
/// a request that did not come over a socket (an in-process call).
pub fn peer(req_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;

    use super::*;

    /// Starts `app` with `options` on a random port; the sender stops it.
    async fn start(options: ServeOptions) -> (SocketAddr, oneshot::Sender<()>) {
        let app = Router::new().route("/", get(|| async { "ok" })).route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, app, options, async {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    /// Reads until the server closes the connection (with a cap so a
    /// broken server fails the test instead of hanging it).
    async fn read_to_close(stream: &mut TcpStream) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut out))
            .await
            .ok()?
            .ok()?;
        Some(out)
    }

    #[tokio::test]
    async fn a_client_trickling_its_headers_is_cut_off() {
        let options = ServeOptions {
            header_timeout: Duration::from_millis(300),
            ..ServeOptions::default()
        };
        let (addr, _stop) = start(options).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        // The rest of the headers never comes; the server must close.
        let answer = read_to_close(&mut stream)
            .await
            .expect("the server closed the connection");
        assert!(
            !answer.starts_with(b"HTTP/1.1 200"),
            "no request was completed"
        );
    }

    #[tokio::test]
    async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
        let options = ServeOptions {
            header_timeout: Duration::from_millis(300),
            ..ServeOptions::default()
        };
        let (addr, _stop) = start(options).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let answer = read_to_close(&mut stream)
            .await
            .expect("closed after idling");
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "the complete request was answered"
        );
    }

    #[tokio::test]
    async fn connections_beyond_the_bound_wait_until_one_closes() {
        let options = ServeOptions {
            max_connections: 1,
            ..ServeOptions::default()
        };
        let (addr, _stop) = start(options).await;
        let client = |addr| async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            s
        };
        let mut first = client(addr).await;
        let mut buf = [0u8; 12];
        first.read_exact(&mut buf).await.expect("first answered");
        assert_eq!(&buf, b"HTTP/1.1 200");
        // The second connection is accepted by the kernel but not served
        // while the first is open...
        let mut second = client(addr).await;
        let waited =
            tokio::time::timeout(Duration::from_millis(300), second.read_exact(&mut buf)).await;
        assert!(
            waited.is_err(),
            "the second connection was served beyond the bound"
        );
        // ...and is served once the first closes.
        drop(first);
        tokio::time::timeout(Duration::from_secs(20), second.read_exact(&mut buf))
            .await
            .expect("served after the first closed")
            .expect("read");
        assert_eq!(&buf, b"HTTP/1.1 200");
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_disconnected_after_the_write_timeout() {
        // An endless body: only a client that reads keeps it flowing.
        let endless = || async {
            let chunks = futures_util::stream::repeat_with(|| {
                Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 64 * 1024]))
            });
            axum::body::Body::from_stream(chunks)
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let options = ServeOptions {
            write_timeout: Duration::from_millis(300),
            max_connections: 1,
            ..ServeOptions::default()
        };
        tokio::spawn(serve(
            listener,
            Router::new().route("/", get(endless)),
            options,
            std::future::pending(),
        ));
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("buffer");
        let mut stalled = socket.connect(addr).await.expect("connect");
        stalled
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        // With one connection allowed, a second client is served only once
        // the stalled one has been dropped.
        let mut next = TcpStream::connect(addr).await.expect("connect");
        next.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 12];
        tokio::time::timeout(Duration::from_secs(20), next.read_exact(&mut buf))
            .await
            .expect("the stalled reader was never dropped")
            .expect("read");
        assert_eq!(&buf, b"HTTP/1.1 200");
        drop(stalled);
    }

    #[tokio::test]
    async fn handlers_see_the_peer_address() {
        let (addr, _stop) = start(ServeOptions::default()).await;
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let answer = read_to_close(&mut s).await.expect("answer");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.ends_with("127.0.0.1"), "{text}");
    }

    #[tokio::test]
    async fn shutdown_stops_accepting_and_returns() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            Router::new().route("/", get(|| async { "ok" })),
            ServeOptions::default(),
            async {
                let _ = stopped.await;
            },
        ));
        let _ = stop.send(());
        server.await.expect("join").expect("serve");
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the port is closed"
        );
    }
}
