//! What a configuration asks for: [`BrokerOptions`], [`BrokerKind`] (which
//! broker a URL names) and [`BrokerError`] (the configuration mistakes).

use std::time::Duration;

use crate::broker::{OUTGOING_QUEUE, SUBSCRIBER_QUEUE};

/// How a network broker names its channel, queues its traffic and retries.
#[derive(Debug, Clone)]
pub struct BrokerOptions {
    /// The Redis channel and the RabbitMQ exchange are `<namespace>.events`:
    /// deployments (or tests) sharing one server but not their events use
    /// different namespaces. Letters, digits, `_`, `-`, `.`, `:`.
    pub namespace: String,
    /// Envelopes waiting to be sent before publishing drops.
    pub outgoing_queue: usize,
    /// Deliveries each local subscriber may fall behind by.
    pub subscriber_queue: usize,
    /// First pause between reconnect attempts; it doubles after each
    /// failure (with jitter, so instances do not retry in step) ...
    pub retry_min: Duration,
    /// ... up to this.
    pub retry_max: Duration,
    /// How long one connection attempt, or one send, may take.
    pub io_timeout: Duration,
    /// How often an idle Redis subscription is pinged, so a connection
    /// that died silently (no reset) is noticed.
    pub keepalive: Duration,
    /// How long [`connect`] waits for the first connection before it
    /// returns a broker that is still trying.
    pub startup_wait: Duration,
}

impl Default for BrokerOptions {
    fn default() -> Self {
        Self {
            namespace: "chirp".into(),
            outgoing_queue: OUTGOING_QUEUE,
            subscriber_queue: SUBSCRIBER_QUEUE,
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            io_timeout: Duration::from_secs(2),
            keepalive: Duration::from_secs(15),
            startup_wait: Duration::from_secs(2),
        }
    }
}

/// Why no broker could be made. Only configuration errors: an unreachable
/// broker is not one (it is retried in the background).
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(
        "broker URL {url}: unsupported scheme {scheme:?}; use redis://… (Redis pub/sub) or amqp://… (RabbitMQ)"
    )]
    UnsupportedScheme { url: String, scheme: String },
    #[error("broker URL {url:?} is not a URL: {source}")]
    NotAUrl {
        url: String,
        source: url::ParseError,
    },
    #[error("broker URL {url}: {source}")]
    Redis {
        url: String,
        source: ::redis::RedisError,
    },
    #[error("broker URL {url}: {reason}")]
    Amqp { url: String, reason: String },
    #[error("broker namespace {0:?}: use 1 to 100 letters, digits, '_', '-', '.' or ':'")]
    Namespace(String),
}

/// Which broker a configuration asks for (SPEC §1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerKind {
    InProcess,
    /// Redis pub/sub at this URL.
    Redis(String),
    /// RabbitMQ at this URL.
    RabbitMq(String),
}

impl BrokerKind {
    /// `broker_url` (`CHIRP_BROKER_URL`) decides when set and not blank;
    /// otherwise Redis pub/sub on `redis_url` (`CHIRP_REDIS_URL`) when
    /// that is set, otherwise in-process.
    pub fn choose(broker_url: Option<&str>, redis_url: Option<&str>) -> Result<Self, BrokerError> {
        fn set(u: Option<&str>) -> Option<&str> {
            u.map(str::trim).filter(|u| !u.is_empty())
        }
        let Some(url) = set(broker_url) else {
            return Ok(match set(redis_url) {
                Some(redis) => Self::Redis(redis.to_owned()),
                None => Self::InProcess,
            });
        };
        let parsed = url::Url::parse(url).map_err(|source| BrokerError::NotAUrl {
            url: redact(url),
            source,
        })?;
        match parsed.scheme() {
            "redis" => Ok(Self::Redis(url.to_owned())),
            "amqp" => Ok(Self::RabbitMq(url.to_owned())),
            scheme => Err(BrokerError::UnsupportedScheme {
                url: redact(url),
                scheme: scheme.to_owned(),
            }),
        }
    }
}

pub(crate) fn check_namespace(namespace: &str) -> Result<(), BrokerError> {
    let ok = (1..=100).contains(&namespace.len())
        && namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(BrokerError::Namespace(namespace.to_owned()))
    }
}

/// `url` with its password hidden, for logs and error messages.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot have a password at all.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(not a URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_broker_url_decides_by_scheme() {
        let redis = BrokerKind::choose(Some("redis://10.0.0.1:6379/2"), None).ok();
        assert_eq!(
            redis,
            Some(BrokerKind::Redis("redis://10.0.0.1:6379/2".into()))
        );
        let amqp = BrokerKind::choose(Some("amqp://u:p@mq:5672/%2f"), Some("redis://r")).ok();
        assert_eq!(
            amqp,
            Some(BrokerKind::RabbitMq("amqp://u:p@mq:5672/%2f".into()))
        );
    }

    #[test]
    fn without_a_broker_url_redis_when_set_else_in_process() {
        let redis = BrokerKind::choose(None, Some("redis://cache:6379")).ok();
        assert_eq!(redis, Some(BrokerKind::Redis("redis://cache:6379".into())));
        assert_eq!(
            BrokerKind::choose(None, None).ok(),
            Some(BrokerKind::InProcess)
        );
        assert_eq!(
            BrokerKind::choose(Some("  "), Some("")).ok(),
            Some(BrokerKind::InProcess),
            "blank variables count as unset"
        );
    }

    #[test]
    fn an_unknown_scheme_is_a_typed_error_that_hides_the_password() {
        match BrokerKind::choose(Some("kafka://user:secret@k:9092"), None) {
            Err(BrokerError::UnsupportedScheme { url, scheme }) => {
                assert_eq!(scheme, "kafka");
                assert!(!url.contains("secret"), "{url}");
            }
            other => panic!("expected UnsupportedScheme, got {other:?}"),
        }
        assert!(matches!(
            BrokerKind::choose(Some("localhost:6379"), None),
            Err(BrokerError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            BrokerKind::choose(Some("not a url"), None),
            Err(BrokerError::NotAUrl { .. })
        ));
    }

    #[test]
    fn namespaces_are_names_not_patterns() {
        assert!(check_namespace("chirp").is_ok());
        assert!(check_namespace("test.t1_2-a:b").is_ok());
        assert!(check_namespace("").is_err());
        assert!(check_namespace("a*").is_err(), "a Redis pattern character");
        assert!(check_namespace("a b").is_err());
    }

    #[test]
    fn redaction_hides_only_the_password() {
        assert_eq!(
            redact("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
