//! [`connect`]: the broker a configuration chooses, started.

use std::sync::Arc;

use crate::broker::Broker;
use crate::config::{BrokerKind, BrokerOptions, check_namespace, redact};
use crate::memory::InProcessBroker;
use crate::{BrokerError, amqp, link, redis};

/// The broker SPEC §1.6 chooses, with the default options.
pub async fn connect(
    broker_url: Option<&str>,
    redis_url: Option<&str>,
) -> Result<Arc<dyn Broker>, BrokerError> {
    connect_with(broker_url, redis_url, BrokerOptions::default()).await
}

/// [`connect`] with options. For a network broker, waits up to
/// `options.startup_wait` for its first connection; if the broker does not
/// answer by then, logs a warning and returns a broker that keeps trying
/// (publishing drops meanwhile). Errors only on bad configuration.
pub async fn connect_with(
    broker_url: Option<&str>,
    redis_url: Option<&str>,
    options: BrokerOptions,
) -> Result<Arc<dyn Broker>, BrokerError> {
    check_namespace(&options.namespace)?;
    let broker: Arc<dyn Broker> = match BrokerKind::choose(broker_url, redis_url)? {
        BrokerKind::InProcess => Arc::new(InProcessBroker::new(options.subscriber_queue)),
        BrokerKind::Redis(url) => {
            let transport = redis::RedisTransport::new(&url, &options)?;
            Arc::new(link::Remote::start(transport, redact(&url), &options).await)
        }
        BrokerKind::RabbitMq(url) => {
            let transport = amqp::AmqpTransport::new(&url, &options)?;
            Arc::new(link::Remote::start(transport, redact(&url), &options).await)
        }
    };
    Ok(broker)
}
