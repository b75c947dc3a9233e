//! Redis pub/sub on the channel `<namespace>.events`.
//!
//! Publishing uses a multiplexed connection of its own; the subscription
//! needs a dedicated connection (a subscribed connection accepts no other
//! commands), pinged when idle so a connection that died without a reset
//! is noticed. Pub/sub keeps nothing: what is published while a
//! subscription is away is gone, hence `Resumed`.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::AsyncConnectionConfig;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};

use crate::link::{LinkError, Transport};
use crate::{BrokerError, BrokerOptions, redact};

pub(crate) struct RedisTransport {
    client: redis::Client,
    channel: String,
    config: AsyncConnectionConfig,
    keepalive: Duration,
    io_timeout: Duration,
}

impl RedisTransport {
    /// Checks the URL; connects later, in the broker's tasks.
    pub(crate) fn new(url: &str, options: &BrokerOptions) -> Result<Self, BrokerError> {
        let client = redis::Client::open(url).map_err(|source| BrokerError::Redis {
            url: redact(url),
            source,
        })?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(options.io_timeout))
            .set_response_timeout(Some(options.io_timeout));
        Ok(Self {
            client,
            channel: format!("{}.events", options.namespace),
            config,
            keepalive: options.keepalive,
            io_timeout: options.io_timeout,
        })
    }
}

/// A subscription: the stream of messages, and the sink to ping through.
pub(crate) struct Subscription {
    sink: PubSubSink,
    stream: PubSubStream,
}

#[async_trait]
impl Transport for RedisTransport {
    type Sender = MultiplexedConnection;
    type Receiver = Subscription;

    fn name(&self) -> &'static str {
        "redis"
    }

    async fn open_sender(&self) -> Result<MultiplexedConnection, LinkError> {
        Ok(self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?)
    }

    async fn send(
        &self,
        conn: &mut MultiplexedConnection,
        payload: &[u8],
    ) -> Result<(), LinkError> {
        // The answer is how many subscribers heard it; none is fine.
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(payload)
            .query_async::<i64>(conn)
            .await?;
        Ok(())
    }

    async fn open_receiver(&self) -> Result<Subscription, LinkError> {
        let (mut sink, stream) = self.client.get_async_pubsub().await?.split();
        // Returns once Redis confirmed the subscription.
        sink.subscribe(&self.channel).await?;
        Ok(Subscription { sink, stream })
    }

    async fn recv(&self, sub: &mut Subscription) -> Result<Vec<u8>, LinkError> {
        loop {
            // Cancel-safe: a message not taken now stays in the stream.
            let next = tokio::time::timeout(self.keepalive, sub.stream.next()).await;
            match next {
                Ok(Some(msg)) => return Ok(msg.get_payload_bytes().to_vec()),
                Ok(None) => return Err(LinkError::Closed),
                Err(_idle) => {
                    let ping = sub.sink.ping::<redis::Value>();
                    tokio::time::timeout(self.io_timeout, ping)
                        .await
                        .map_err(|_| LinkError::Timeout(self.io_timeout))??;
                }
            }
        }
    }
}
