//! What the network brokers share: a bounded outgoing queue drained by a
//! publisher task, one subscription kept by a subscriber task, each on its
//! own connection with its own reconnect loop, and the counters.
//!
//! A broker says only how to open a link and move bytes ([`Transport`]);
//! the loops here decide when to retry, what to count, what to log (once
//! per outage, not once per attempt) and when to tell subscribers
//! [`Delivery::Resumed`].
//!
//! Lifecycle: the tasks hold a `watch` receiver whose sender lives in
//! [`Remote`]; dropping the broker drops it and both tasks end at their
//! next await.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{broadcast, mpsc, watch};

use crate::{Broker, BrokerOptions, BrokerStats, Counters, Delivery, Envelope};

/// Why a link failed; only ever logged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LinkError {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Amqp(#[from] lapin::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the broker closed the subscription")]
    Closed,
}

/// How one kind of broker opens links and moves bytes over them.
#[async_trait]
pub(crate) trait Transport: Send + Sync + 'static {
    /// A link to publish on.
    type Sender: Send;
    /// A live subscription.
    type Receiver: Send;

    /// `redis` or `rabbitmq`, as [`Broker::name`] says it.
    fn name(&self) -> &'static str;
    async fn open_sender(&self) -> Result<Self::Sender, LinkError>;
    async fn send(&self, sender: &mut Self::Sender, payload: &[u8]) -> Result<(), LinkError>;
    /// Returns once the subscription is in place: what is published after
    /// that reaches it.
    async fn open_receiver(&self) -> Result<Self::Receiver, LinkError>;
    /// The next message; an error means the subscription is gone.
    async fn recv(&self, receiver: &mut Self::Receiver) -> Result<Vec<u8>, LinkError>;
}

/// State the broker handle and its two tasks share.
struct Shared {
    counters: Counters,
    /// The publisher task holds a working link. `publish` drops at once
    /// while it does not, rather than queueing for an outage.
    publisher_up: AtomicBool,
    /// The subscriber task holds a live subscription.
    subscriber_up: AtomicBool,
    /// `publisher_up && subscriber_up`, for whoever awaits a change.
    connected: watch::Sender<bool>,
    fanout: broadcast::Sender<Delivery>,
}

impl Shared {
    fn set(&self, flag: &AtomicBool, up: bool) {
        flag.store(up, Ordering::SeqCst);
        // Read both flags under the watch's lock, so that of two tasks
        // changing theirs at once the last to get here writes the truth.
        self.connected.send_if_modified(|connected| {
            let now = self.publisher_up.load(Ordering::SeqCst)
                && self.subscriber_up.load(Ordering::SeqCst);
            let changed = *connected != now;
            *connected = now;
            changed
        });
    }
}

/// Timing both loops follow.
#[derive(Debug, Clone, Copy)]
struct Timing {
    retry_min: Duration,
    retry_max: Duration,
    io_timeout: Duration,
}

/// A broker reached over the network (Redis or RabbitMQ).
pub(crate) struct Remote {
    name: &'static str,
    outgoing: mpsc::Sender<Envelope>,
    shared: Arc<Shared>,
    /// Dropped with the broker, which ends its tasks.
    _stop: watch::Sender<()>,
}

impl Remote {
    /// Starts both tasks and waits up to `startup_wait` for them to
    /// connect; a broker still unreachable then is returned all the same,
    /// still trying, after a warning.
    pub(crate) async fn start<T: Transport>(
        transport: T,
        shown_url: String,
        options: &BrokerOptions,
    ) -> Self {
        let transport = Arc::new(transport);
        let name = transport.name();
        let (fanout, _) = broadcast::channel(options.subscriber_queue.max(1));
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            publisher_up: AtomicBool::new(false),
            subscriber_up: AtomicBool::new(false),
            connected: watch::Sender::new(false),
            fanout,
        });
        let (outgoing, queue) = mpsc::channel(options.outgoing_queue.max(1));
        let (stop, stopped) = watch::channel(());
        let timing = Timing {
            retry_min: options.retry_min,
            retry_max: options.retry_max.max(options.retry_min),
            io_timeout: options.io_timeout,
        };
        tokio::spawn(publish_loop(
            transport.clone(),
            shared.clone(),
            queue,
            stopped.clone(),
            timing,
        ));
        tokio::spawn(subscribe_loop(transport, shared.clone(), stopped, timing));

        let mut connected = shared.connected.subscribe();
        let up = tokio::time::timeout(options.startup_wait, connected.wait_for(|c| *c)).await;
        if !matches!(up, Ok(Ok(_))) {
            tracing::warn!(
                broker = name,
                url = %shown_url,
                "broker unreachable at start: starting without it; live events wait until it answers"
            );
        } else {
            tracing::info!(broker = name, url = %shown_url, "connected to the broker");
        }
        Self {
            name,
            outgoing,
            shared,
            _stop: stop,
        }
    }
}

impl Broker for Remote {
    fn publish(&self, envelope: Envelope) {
        let counters = &self.shared.counters;
        if !self.shared.publisher_up.load(Ordering::SeqCst) {
            counters.dropped.inc();
            return;
        }
        if self.outgoing.try_send(envelope).is_err() {
            // Full (the broker is slower than our writes) or closed (the
            // task ended): either way the table still has it.
            counters.dropped.inc();
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.shared.fanout.subscribe()
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn stats(&self) -> BrokerStats {
        self.shared
            .counters
            .snapshot(*self.shared.connected.borrow())
    }

    fn watch_connected(&self) -> watch::Receiver<bool> {
        self.shared.connected.subscribe()
    }
}

/// Exponential pauses between attempts, with jitter. A fresh one per
/// outage, so each starts from the shortest pause.
#[derive(Debug)]
pub(crate) struct Backoff {
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self { max, next: min }
    }

    /// The pause before the next attempt: between half and all of the
    /// current step, which then doubles up to `max`.
    pub(crate) fn pause(&mut self) -> Duration {
        let step = self.next;
        self.next = (self.next * 2).min(self.max);
        step.mul_f64(rand::random_range(0.5..=1.0))
    }
}

/// `future`, given up after `limit`.
async fn within<T>(
    limit: Duration,
    future: impl Future<Output = Result<T, LinkError>>,
) -> Result<T, LinkError> {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or(Err(LinkError::Timeout(limit)))
}

/// Sleeps `pause`; `false` if the broker was dropped meanwhile.
async fn rest(pause: Duration, stop: &mut watch::Receiver<()>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => true,
        _ = stop.changed() => false,
    }
}

/// Opens a link, retrying with backoff; `None` once the broker is dropped.
/// `lost` tells whether an outage is already logged; it becomes `true` on
/// the first failure.
async fn open_with_retry<T, L, F>(
    open: F,
    what: &str,
    name: &str,
    timing: Timing,
    lost: &mut bool,
    stop: &mut watch::Receiver<()>,
) -> Option<L>
where
    F: Fn() -> T,
    T: Future<Output = Result<L, LinkError>>,
{
    let mut backoff = Backoff::new(timing.retry_min, timing.retry_max);
    loop {
        let attempt = tokio::select! {
            r = within(timing.io_timeout, open()) => r,
            _ = stop.changed() => return None,
        };
        match attempt {
            Ok(link) => return Some(link),
            Err(error) => {
                if *lost {
                    tracing::debug!(broker = name, %error, "{what}: still unreachable");
                } else {
                    tracing::warn!(
                        broker = name,
                        %error,
                        "{what}: broker unreachable; live events are delayed, retrying"
                    );
                    *lost = true;
                }
                if !rest(backoff.pause(), stop).await {
                    return None;
                }
            }
        }
    }
}

/// Drains the outgoing queue onto the broker. On a failed send it reopens
/// the link once and retries at once (a link idle across a broker restart
/// fails its first send although the broker is back); if that fails too the
/// envelope is dropped and the task reconnects with backoff, while
/// `publish` drops at once.
async fn publish_loop<T: Transport>(
    transport: Arc<T>,
    shared: Arc<Shared>,
    mut queue: mpsc::Receiver<Envelope>,
    mut stop: watch::Receiver<()>,
    timing: Timing,
) {
    let name = transport.name();
    let mut lost = false;
    'connect: loop {
        let open = || transport.open_sender();
        let Some(mut sender) =
            open_with_retry(open, "publishing", name, timing, &mut lost, &mut stop).await
        else {
            return;
        };
        if lost {
            tracing::info!(broker = name, "publishing: broker reachable again");
        }
        shared.set(&shared.publisher_up, true);
        loop {
            let envelope = tokio::select! {
                next = queue.recv() => match next {
                    Some(envelope) => envelope,
                    None => return,
                },
                _ = stop.changed() => return,
            };
            let payload = match serde_json::to_vec(&envelope) {
                Ok(payload) => payload,
                Err(error) => {
                    tracing::error!(%error, "an envelope would not serialize; dropped");
                    shared.counters.dropped.inc();
                    continue;
                }
            };
            let first = within(timing.io_timeout, transport.send(&mut sender, &payload)).await;
            let Err(error) = first else {
                shared.counters.published.inc();
                continue;
            };
            tracing::debug!(broker = name, %error, "publishing: send failed; reopening once");
            let retried = async {
                let mut fresh = within(timing.io_timeout, transport.open_sender()).await?;
                within(timing.io_timeout, transport.send(&mut fresh, &payload)).await?;
                Ok::<_, LinkError>(fresh)
            };
            let retried = tokio::select! {
                r = retried => r,
                _ = stop.changed() => return,
            };
            match retried {
                Ok(fresh) => {
                    sender = fresh;
                    shared.counters.published.inc();
                }
                Err(error) => {
                    shared.counters.dropped.inc();
                    shared.set(&shared.publisher_up, false);
                    tracing::warn!(
                        broker = name,
                        %error,
                        "publishing: broker unreachable; live events are dropped until it answers (the database keeps them)"
                    );
                    lost = true;
                    continue 'connect;
                }
            }
        }
    }
}

/// Keeps the instance's one subscription and fans its envelopes out. After
/// any failure (a lost subscription, or a first attempt that failed) the
/// next subscription that holds sends [`Delivery::Resumed`], once it is in
/// place, so a consumer that then re-reads the table misses nothing.
async fn subscribe_loop<T: Transport>(
    transport: Arc<T>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<()>,
    timing: Timing,
) {
    let name = transport.name();
    // Whether a failure came before the next subscription (so it resumes).
    let mut lost = false;
    loop {
        let open = || transport.open_receiver();
        let Some(mut receiver) =
            open_with_retry(open, "subscription", name, timing, &mut lost, &mut stop).await
        else {
            return;
        };
        shared.set(&shared.subscriber_up, true);
        if lost {
            tracing::info!(
                broker = name,
                "subscription: back; subscribers re-read what they missed"
            );
            shared.counters.resumed.inc();
            let _ = shared.fanout.send(Delivery::Resumed);
        }
        loop {
            let next = tokio::select! {
                next = transport.recv(&mut receiver) => next,
                _ = stop.changed() => return,
            };
            match next {
                Ok(bytes) => match serde_json::from_slice::<Envelope>(&bytes) {
                    Ok(envelope) => {
                        shared.counters.received.inc();
                        // No local subscriber yet is not an error.
                        let _ = shared.fanout.send(Delivery::Envelope(envelope));
                    }
                    Err(error) => {
                        shared.counters.malformed.inc();
                        tracing::warn!(broker = name, %error, "ignored a message that is not an envelope");
                    }
                },
                Err(error) => {
                    shared.set(&shared.subscriber_up, false);
                    tracing::warn!(
                        broker = name,
                        %error,
                        "subscription lost; live events are delayed, resubscribing"
                    );
                    lost = true;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let min = Duration::from_millis(100);
        let max = Duration::from_millis(800);
        let mut b = Backoff::new(min, max);
        let pauses: Vec<Duration> = (0..6).map(|_| b.pause()).collect();
        let steps = [100, 200, 400, 800, 800, 800].map(Duration::from_millis);
        for (pause, step) in pauses.iter().zip(steps) {
            assert!(
                *pause <= step && *pause >= step / 2,
                "{pause:?} vs {step:?}"
            );
        }
    }
}
