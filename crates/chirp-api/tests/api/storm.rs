//! A like storm: many clients liking a set of tweets at once, tallying per
//! tweet what was sent and what was acknowledged (202), and checking every
//! count the API answers against what had been sent by then.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

/// Per-tweet counts of a storm.
#[derive(Debug, Default)]
pub struct Tally {
    /// Likes sent (counted before the request leaves).
    pub sent: Vec<AtomicI64>,
    /// Likes answered 202.
    pub acked: Vec<AtomicI64>,
    /// Likes that got anything else, or no answer.
    pub failed: AtomicI64,
    /// Counts the API answered that were above what had been sent.
    pub overcounts: Mutex<Vec<String>>,
    /// The first few failures, to show when a test fails.
    pub failures: Mutex<Vec<String>>,
}

impl Tally {
    fn new(tweets: usize) -> Self {
        Self {
            sent: (0..tweets).map(|_| AtomicI64::new(0)).collect(),
            acked: (0..tweets).map(|_| AtomicI64::new(0)).collect(),
            ..Self::default()
        }
    }

    pub fn sent(&self, k: usize) -> i64 {
        self.sent[k].load(Ordering::SeqCst)
    }

    pub fn acked(&self, k: usize) -> i64 {
        self.acked[k].load(Ordering::SeqCst)
    }

    pub fn total_sent(&self) -> i64 {
        (0..self.sent.len()).map(|k| self.sent(k)).sum()
    }

    pub fn total_acked(&self) -> i64 {
        (0..self.acked.len()).map(|k| self.acked(k)).sum()
    }

    pub fn failed(&self) -> i64 {
        self.failed.load(Ordering::SeqCst)
    }

    fn fail(&self, what: String) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        let mut f = self.failures.lock().expect("failures");
        if f.len() < 5 {
            f.push(what);
        }
    }

    /// Checks a count the API gave for tweet `k` against the likes sent to
    /// it; call after the answer arrived (sent only grows, so this is the
    /// most the answer may show).
    fn check(&self, k: usize, shown: i64, what: &str) {
        let sent = self.sent(k);
        if shown > sent {
            let mut o = self.overcounts.lock().expect("overcounts");
            if o.len() < 20 {
                o.push(format!("{what}: {shown} shown, {sent} sent"));
            }
        }
    }

    /// Asserts that no answer showed more likes than were sent.
    #[track_caller]
    pub fn assert_no_overcount(&self) {
        let o = self.overcounts.lock().expect("overcounts");
        assert!(o.is_empty(), "counts above the likes sent: {o:?}");
    }
}

/// A running storm.
pub struct Storm {
    pub tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    workers: JoinSet<()>,
}

/// Which tweet like number `i` goes to: a stride coprime with any number
/// of tweets below 7919, so every run of `n` likes covers each tweet once.
fn target(i: usize, n: usize) -> usize {
    (i * 7919) % n
}

impl Storm {
    /// Starts `clients` concurrent clients that send up to `max_likes` likes
    /// to `tweets` on the server at `base`, spread evenly, until stopped.
    pub fn start(base: &str, tweets: &[i64], max_likes: usize, clients: usize) -> Self {
        let tally = Arc::new(Tally::new(tweets.len()));
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicUsize::new(0));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let urls: Arc<Vec<String>> = Arc::new(
            tweets
                .iter()
                .map(|id| format!("{base}/api/tweets/{id}/likes"))
                .collect(),
        );
        let mut workers = JoinSet::new();
        for _ in 0..clients {
            let (tally, stop, next, client, urls) = (
                tally.clone(),
                stop.clone(),
                next.clone(),
                client.clone(),
                urls.clone(),
            );
            workers.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= max_likes {
                        break;
                    }
                    let k = target(i, urls.len());
                    tally.sent[k].fetch_add(1, Ordering::SeqCst);
                    match client.post(&urls[k]).send().await {
                        Ok(resp) if resp.status().as_u16() == 202 => {
                            tally.acked[k].fetch_add(1, Ordering::SeqCst);
                            match resp.json::<serde_json::Value>().await {
                                Ok(body) => match body["like_count"].as_i64() {
                                    Some(n) => tally.check(k, n, &urls[k]),
                                    None => tally.fail(format!("202 without a count: {body}")),
                                },
                                Err(e) => tally.fail(format!("202 with a bad body: {e}")),
                            }
                        }
                        Ok(resp) => {
                            let status = resp.status();
                            let body = resp.text().await.unwrap_or_default();
                            tally.fail(format!("{status}: {body}"));
                        }
                        Err(e) => tally.fail(format!("no answer: {e}")),
                    }
                }
            });
        }
        Self {
            tally,
            stop,
            workers,
        }
    }

    /// Tells the clients to stop after their current like.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Waits (at most `limit`) for every client to finish.
    pub async fn join(mut self, limit: Duration) -> Arc<Tally> {
        let all = async {
            while let Some(done) = self.workers.join_next().await {
                done.expect("storm client");
            }
        };
        tokio::time::timeout(limit, all)
            .await
            .expect("the storm did not end in time");
        self.tally
    }
}

/// Reads the tweets of a storm over the API until `done` is set (or after
/// `max_reads`), checking each count against the likes sent; returns how
/// many reads it made.
pub fn watch_counts(
    base: &str,
    tweets: &[i64],
    tally: Arc<Tally>,
    done: Arc<AtomicBool>,
    max_reads: usize,
) -> tokio::task::JoinHandle<usize> {
    let client = reqwest::Client::new();
    let base = base.to_owned();
    let tweets = tweets.to_vec();
    tokio::spawn(async move {
        let mut reads = 0;
        while !done.load(Ordering::SeqCst) && reads < max_reads {
            let k = reads % tweets.len();
            // One tweet, then now and then the whole list.
            let url = format!("{base}/api/tweets/{}", tweets[k]);
            let body: serde_json::Value = client
                .get(&url)
                .send()
                .await
                .expect("read a tweet")
                .json()
                .await
                .expect("tweet body");
            let shown = body["like_count"].as_i64().expect("like_count");
            tally.check(k, shown, &url);
            if reads % 10 == 0 {
                let url = format!("{base}/api/tweets?limit=100");
                let list: serde_json::Value = client
                    .get(&url)
                    .send()
                    .await
                    .expect("read the list")
                    .json()
                    .await
                    .expect("list body");
                for item in list["items"].as_array().expect("items") {
                    let id = item["id"].as_i64().expect("id");
                    if let Some(k) = tweets.iter().position(|&t| t == id) {
                        let shown = item["like_count"].as_i64().expect("like_count");
                        tally.check(k, shown, &url);
                    }
                }
            }
            reads += 1;
        }
        reads
    })
}
