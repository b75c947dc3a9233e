//! What the broker tests share: names, waits, a private Redis server the
//! test may kill, and a TCP proxy in front of a server (RabbitMQ, or
//! Redis) the test may cut or freeze.
//!
//! The shared Redis and RabbitMQ serve other tests at the same time, so no
//! test here ever stops them; each test gets its own namespace so tests
//! (and concurrent runs) sharing a server do not hear each other.

use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chirp_broker::{Broker, BrokerOptions, Delivery, Envelope};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::broadcast;

/// How long any one awaited event may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn redis_url() -> String {
    std::env::var("CHIRP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn amqp_url() -> String {
    std::env::var("CHIRP_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A namespace no other test or run uses.
pub fn namespace(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("chirp-test.{tag}.{}.{nanos}.{n}", std::process::id())
}

/// Options for tests: their own namespace, and quick retries so an outage
/// test ends soon after the server is back.
pub fn options(namespace: &str) -> BrokerOptions {
    BrokerOptions {
        namespace: namespace.to_owned(),
        retry_min: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        io_timeout: Duration::from_secs(1),
        keepalive: Duration::from_secs(1),
        startup_wait: Duration::from_secs(5),
        ..BrokerOptions::default()
    }
}

/// Waits until `broker` reports `connected == want`.
pub async fn wait_connected(broker: &dyn Broker, want: bool) {
    let mut watch = broker.watch_connected();
    let reached = tokio::time::timeout(WAIT, watch.wait_for(|c| *c == want)).await;
    assert!(
        matches!(reached, Ok(Ok(_))),
        "{} never became connected={want}: {:?}",
        broker.name(),
        broker.stats()
    );
}

/// The first delivery that `pick` accepts, skipping others; fails the test
/// after [`WAIT`].
pub async fn expect<T>(
    rx: &mut broadcast::Receiver<Delivery>,
    what: &str,
    mut pick: impl FnMut(&Delivery) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            match rx.recv().await {
                Ok(delivery) => {
                    if let Some(found) = pick(&delivery) {
                        return Some(found);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .await;
    match found {
        Ok(Some(found)) => found,
        Ok(None) => panic!("waiting for {what}: the broker closed"),
        Err(_) => panic!("waiting for {what}: nothing within {WAIT:?}"),
    }
}

/// Waits for `Purge { account }`.
pub async fn expect_purge(rx: &mut broadcast::Receiver<Delivery>, account: i64) {
    expect(rx, &format!("purge of {account}"), |d| {
        (*d == Delivery::Envelope(Envelope::Purge { account })).then_some(())
    })
    .await;
}

/// Waits for `Resumed`.
pub async fn expect_resumed(rx: &mut broadcast::Receiver<Delivery>) {
    expect(rx, "Resumed", |d| (*d == Delivery::Resumed).then_some(())).await;
}

/// A port nothing listens on (at the time of asking).
pub use chirp_testkit::proxy::{Proxy, free_port};

/// A Redis server of the test's own (no persistence), which it may kill
/// and start again on the same port to simulate an outage.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// A port for a server that is not started yet.
    pub fn reserve() -> Self {
        Self {
            port: free_port(),
            child: None,
        }
    }

    pub async fn start() -> Self {
        let mut server = Self::reserve();
        server.restart().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server and returns once it says it accepts connections.
    pub async fn restart(&mut self) {
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server starts (is Redis installed? scripts/test installs it)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("Ready to accept connections") {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(
            matches!(ready, Ok(true)),
            "redis-server on port {} did not come up",
            self.port
        );
        // Keep reading, so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
    }

    /// Kills the server (SIGKILL) and waits until it is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

/// Two instances of one kind of broker on one server (same namespace),
/// each with a local subscriber.
pub struct Pair {
    pub a: std::sync::Arc<dyn Broker>,
    pub b: std::sync::Arc<dyn Broker>,
    pub rx_a: broadcast::Receiver<Delivery>,
    pub rx_b: broadcast::Receiver<Delivery>,
}

impl Pair {
    pub async fn connect(url: &str, namespace: &str) -> Self {
        let connect = || chirp_broker::connect_with(Some(url), None, options(namespace));
        let a = connect().await.expect("instance a");
        let b = connect().await.expect("instance b");
        let (rx_a, rx_b) = (a.subscribe(), b.subscribe());
        wait_connected(a.as_ref(), true).await;
        wait_connected(b.as_ref(), true).await;
        Self { a, b, rx_a, rx_b }
    }

    /// What one instance publishes, both hear.
    pub async fn check_fan_out(&mut self, account: i64) {
        self.a.publish(Envelope::Purge { account });
        expect_purge(&mut self.rx_a, account).await;
        expect_purge(&mut self.rx_b, account).await;
        self.b.publish(Envelope::Purge { account: -account });
        expect_purge(&mut self.rx_a, -account).await;
        expect_purge(&mut self.rx_b, -account).await;
    }

    /// With the server gone: both notice, and publishing returns at once
    /// without a panic.
    pub async fn check_outage(&mut self) {
        wait_connected(self.a.as_ref(), false).await;
        wait_connected(self.b.as_ref(), false).await;
        let started = std::time::Instant::now();
        for account in 0..200 {
            self.a.publish(Envelope::Purge { account });
            self.b.publish(Envelope::Purge { account });
        }
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(200),
            "publishing waited {took:?}"
        );
    }

    /// With the server back: both say `Resumed`, reconnect, and fan out
    /// again.
    pub async fn check_resumed(&mut self, account: i64) {
        expect_resumed(&mut self.rx_a).await;
        expect_resumed(&mut self.rx_b).await;
        wait_connected(self.a.as_ref(), true).await;
        wait_connected(self.b.as_ref(), true).await;
        self.check_fan_out(account).await;
        assert!(self.a.stats().resumed >= 1 && self.b.stats().resumed >= 1);
    }
}

/// A notification as the API would push it.
pub fn notification(id: i64) -> chirp_core::model::Notification {
    use chirp_core::model::{Author, Notification, NotificationKind};
    Notification {
        id,
        kind: NotificationKind::Mention,
        actor: Author {
            id: 5,
            username: "bob".into(),
            display_name: "Bob ✓".into(),
            protected: false,
        },
        tweet: None,
        message: None,
        created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        read: false,
    }
}
