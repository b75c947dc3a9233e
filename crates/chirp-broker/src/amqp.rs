//! RabbitMQ: a fanout exchange `<namespace>.events`, and per instance one
//! exclusive, auto-delete queue with a server-made name bound to it.
//!
//! Why this topology: a fanout exchange copies each message to every bound
//! queue, so every instance's queue gets every envelope, and with no queue
//! bound a message is simply discarded (as pub/sub would). The queue is
//! exclusive and auto-delete, so it lives exactly as long as its
//! connection: an instance that goes away leaves nothing to pile up. The
//! exchange is not durable and auto-deletes when its last queue goes: live
//! events are worth nothing after a restart, and test namespaces leave
//! nothing behind. Whoever connects declares it (same arguments on every
//! side, so declarations agree). Consuming is without acks: delivery is at
//! most once by design.
//!
//! Publisher and subscriber each hold their own connection, so each
//! recovers on its own (the shared reconnect loops are in `link`). A
//! connection that dies without a reset is noticed by AMQP heartbeats, at
//! the interval the server proposes (RabbitMQ: 60 s) unless the URL asks
//! for another (`amqp://…/%2f?heartbeat=10`).

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer, ExchangeKind};

use crate::link::{LinkError, Transport};
use crate::{BrokerError, BrokerOptions, redact};

pub(crate) struct AmqpTransport {
    url: String,
    exchange: String,
    namespace: String,
}

impl AmqpTransport {
    /// Checks the URL; connects later, in the broker's tasks.
    pub(crate) fn new(url: &str, options: &BrokerOptions) -> Result<Self, BrokerError> {
        url.parse::<lapin::uri::AMQPUri>()
            .map_err(|reason| BrokerError::Amqp {
                url: redact(url),
                reason,
            })?;
        Ok(Self {
            url: url.to_owned(),
            exchange: format!("{}.events", options.namespace),
            namespace: options.namespace.clone(),
        })
    }

    /// A connection and a channel on it with the exchange declared.
    async fn open(&self, role: &str) -> Result<(Connection, Channel), LinkError> {
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("chirp {} {role}", self.namespace).into());
        let conn = Connection::connect(&self.url, properties).await?;
        let channel = conn.create_channel().await?;
        channel
            .exchange_declare(
                self.exchange.as_str().into(),
                ExchangeKind::Fanout,
                ExchangeDeclareOptions {
                    durable: false,
                    auto_delete: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok((conn, channel))
    }
}

/// A publishing link. The connection is kept only so it stays open.
pub(crate) struct Publisher {
    _conn: Connection,
    channel: Channel,
}

/// A subscription: the consumer of this instance's queue.
pub(crate) struct Subscription {
    _conn: Connection,
    _channel: Channel,
    consumer: Consumer,
}

#[async_trait]
impl Transport for AmqpTransport {
    type Sender = Publisher;
    type Receiver = Subscription;

    fn name(&self) -> &'static str {
        "rabbitmq"
    }

    async fn open_sender(&self) -> Result<Publisher, LinkError> {
        let (conn, channel) = self.open("publisher").await?;
        Ok(Publisher {
            _conn: conn,
            channel,
        })
    }

    async fn send(&self, publisher: &mut Publisher, payload: &[u8]) -> Result<(), LinkError> {
        let properties = BasicProperties::default().with_content_type("application/json".into());
        // Without publisher confirms the second await only says the frame
        // was handed on: at most once, as designed.
        publisher
            .channel
            .basic_publish(
                self.exchange.as_str().into(),
                "".into(),
                BasicPublishOptions::default(),
                payload,
                properties,
            )
            .await?
            .await?;
        Ok(())
    }

    async fn open_receiver(&self) -> Result<Subscription, LinkError> {
        let (conn, channel) = self.open("subscriber").await?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    durable: false,
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                queue.name().clone(),
                self.exchange.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        // Returns once the broker confirmed the consumer.
        let consumer = channel
            .basic_consume(
                queue.name().clone(),
                "".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    exclusive: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok(Subscription {
            _conn: conn,
            _channel: channel,
            consumer,
        })
    }

    async fn recv(&self, sub: &mut Subscription) -> Result<Vec<u8>, LinkError> {
        match sub.consumer.next().await {
            Some(Ok(delivery)) => Ok(delivery.data),
            Some(Err(error)) => Err(error.into()),
            None => Err(LinkError::Closed),
        }
    }
}
