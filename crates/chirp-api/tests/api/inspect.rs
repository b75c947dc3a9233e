//! Looking into a running app: its metrics and the database behind it;
//! and `each_backend!` for tests that start their own app.

use chirp_store::TweetStore;
use reqwest::Method;

use crate::helpers::TestApp;

/// Runs each named `async fn(Backend)` on SQLite and on PostgreSQL, on a
/// multi-threaded runtime: for tests that start their own app.
macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}
pub(crate) use each_backend;

/// The value of the sample `name` (without labels) in Prometheus text.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (key, value) = l.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok())?
    })
}

impl TestApp {
    /// The current value of metric `name` from `GET /metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        let resp = self
            .request(Method::GET, "/metrics")
            .send()
            .await
            .expect("metrics");
        assert_eq!(resp.status().as_u16(), 200);
        let text = resp.text().await.expect("metrics text");
        metric(&text, name).unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
    }

    /// Polls `GET /metrics` until metric `name` is `value` (for at most 5 s).
    pub async fn metric_reaches(&self, name: &str, value: f64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let now = self.metric(name).await;
            if now == value {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name} is {now}, not {value}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// The like count the database itself holds for `tweet`.
    pub async fn db_likes(&self, tweet: i64) -> i64 {
        self.store
            .tweet(tweet)
            .await
            .expect("read the tweet from the database")
            .expect("the tweet exists")
            .like_count
    }
}
