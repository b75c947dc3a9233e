//! Clients liking a set of tweets as fast as they can, tallying per tweet
//! the likes sent and the likes acknowledged (202).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

#[derive(Debug, Default)]
pub struct Tally {
    sent: Vec<AtomicI64>,
    acked: Vec<AtomicI64>,
    /// Set when the server is about to be stopped or killed: failures after
    /// this are expected, failures before it are not.
    pub stopping: AtomicBool,
    /// Failures before `stopping`, with the first few reasons.
    pub early_failures: Mutex<Vec<String>>,
    /// Failures after `stopping`.
    pub late_failures: AtomicI64,
}

impl Tally {
    pub fn sent(&self, k: usize) -> i64 {
        self.sent[k].load(Ordering::SeqCst)
    }

    pub fn acked(&self, k: usize) -> i64 {
        self.acked[k].load(Ordering::SeqCst)
    }

    pub fn total_acked(&self) -> i64 {
        self.acked.iter().map(|a| a.load(Ordering::SeqCst)).sum()
    }

    pub fn total_sent(&self) -> i64 {
        self.sent.iter().map(|a| a.load(Ordering::SeqCst)).sum()
    }

    fn fail(&self, why: String) {
        if self.stopping.load(Ordering::SeqCst) {
            self.late_failures.fetch_add(1, Ordering::SeqCst);
        } else {
            self.early_failures.lock().expect("failures").push(why);
        }
    }
}

pub struct Storm {
    pub tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    clients: JoinSet<()>,
}

/// At most this many likes per storm, whatever happens.
const MAX_LIKES: usize = 200_000;

impl Storm {
    /// Starts `clients` clients liking `tweets` on `base`, spread evenly,
    /// until stopped.
    pub fn start(base: &str, tweets: &[i64], clients: usize) -> Self {
        let tally = Arc::new(Tally {
            sent: tweets.iter().map(|_| AtomicI64::new(0)).collect(),
            acked: tweets.iter().map(|_| AtomicI64::new(0)).collect(),
            ..Tally::default()
        });
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicUsize::new(0));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let urls: Arc<Vec<String>> = Arc::new(
            tweets
                .iter()
                .map(|id| format!("{base}/api/tweets/{id}/likes"))
                .collect(),
        );
        let mut set = JoinSet::new();
        for _ in 0..clients {
            let (tally, stop, next, client, urls) = (
                tally.clone(),
                stop.clone(),
                next.clone(),
                client.clone(),
                urls.clone(),
            );
            set.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= MAX_LIKES {
                        break;
                    }
                    let k = (i * 7919) % urls.len();
                    tally.sent[k].fetch_add(1, Ordering::SeqCst);
                    match client.post(&urls[k]).send().await {
                        Ok(r) if r.status().as_u16() == 202 => {
                            tally.acked[k].fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => {
                            let status = r.status();
                            tally.fail(format!("{status}: {}", r.text().await.unwrap_or_default()));
                        }
                        Err(e) => {
                            tally.fail(format!("no answer: {e}"));
                            // The server is going away: do not spin.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            });
        }
        Self {
            tally,
            stop,
            clients: set,
        }
    }

    /// Stops the clients and waits (at most `limit`) until they are done.
    pub async fn stop(mut self, limit: Duration) -> Arc<Tally> {
        self.stop.store(true, Ordering::SeqCst);
        let all = async {
            while let Some(done) = self.clients.join_next().await {
                done.expect("storm client");
            }
        };
        tokio::time::timeout(limit, all)
            .await
            .expect("storm clients did not stop in time");
        let early = self.tally.early_failures.lock().expect("failures");
        assert!(
            early.is_empty(),
            "{} likes failed while the server was up: {:?}",
            early.len(),
            &early[..early.len().min(5)]
        );
        drop(early);
        self.tally
    }
}
