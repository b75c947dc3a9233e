//! The load scenarios of `chirp loadtest` and what each sends. Every
//! workload picks its next request from the request number alone (a
//! multiplicative hash), so picking costs no lock and no random state.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chirp_client::Client;
use hyper::Method;

use crate::LoadError;
use crate::http::{Http, Outcome};
use crate::run::{self, Load, Planned, Workload};
use crate::seed::{self, SeedPlan, Seeded};
use crate::stats::Summary;

/// The load scenarios (`check` is separate: see [`crate::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// A like storm on `--tweets` hot tweets; verifies every acknowledged
    /// like is counted.
    Likes,
    /// Cached reads: tweets by id and user timelines, Zipf-skewed (a few are read most).
    Read,
    /// DeathStarBench's social-network mix: 60 % home timeline, 30 % user
    /// timeline, 10 % post.
    Mix,
    /// Posting tweets.
    Write,
    /// Any GET, as given.
    Get { path: String },
}

impl Scenario {
    /// The name the summary shows.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Likes => "likes",
            Self::Read => "read",
            Self::Mix => "mix",
            Self::Write => "write",
            Self::Get { .. } => "get",
        }
    }
}

/// Everything a load run needs.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: String,
    pub scenario: Scenario,
    pub load: Load,
    pub duration: Duration,
    pub seed: SeedPlan,
    /// Per-request timeout.
    pub timeout: Duration,
    /// How long `likes` waits for the counts to catch up with the likes
    /// acknowledged (the batcher flushes after max pending / max age).
    pub settle: Duration,
}

/// Seeds what `opts.scenario` needs, runs it, and (for `likes`) checks
/// that every acknowledged like was counted.
pub async fn run(opts: &Options) -> Result<Summary, LoadError> {
    prepare(opts).await?.measure().await
}

/// A scenario seeded and ready to measure: what [`prepare`] gives, so that
/// a caller (a fault test) can start the measured phase of several loads
/// together, after all their seeding is done.
pub struct Prepared {
    http: Http,
    client: Client,
    seeded: Seeded,
    opts: Options,
}

/// Seeds what `opts.scenario` needs.
pub async fn prepare(opts: &Options) -> Result<Prepared, LoadError> {
    let http = Http::new(&opts.target, opts.timeout)?;
    let client = Client::over_http(http.base())
        .map_err(|_| LoadError::BadTarget(opts.target.clone()))?
        .with_timeout(opts.timeout);
    let seeded = match &opts.scenario {
        Scenario::Get { .. } => Seeded::default(),
        Scenario::Likes => {
            let plan = SeedPlan {
                users: 1,
                follows: 0,
                ..opts.seed
            };
            seed::seed(&client, plan).await?
        }
        _ => seed::seed(&client, opts.seed).await?,
    };
    Ok(Prepared {
        http,
        client,
        seeded,
        opts: opts.clone(),
    })
}

impl Prepared {
    /// The tweets seeded (the like storm's hot tweets).
    pub fn tweets(&self) -> &[i64] {
        &self.seeded.tweets
    }

    /// Runs the measured phase (and, for `likes`, the check that follows).
    pub async fn measure(self) -> Result<Summary, LoadError> {
        let Self {
            http,
            client,
            seeded,
            opts,
        } = self;
        let name = opts.scenario.name();
        match &opts.scenario {
            Scenario::Get { path } => {
                let w = Arc::new(Get(path.clone()));
                Ok(run::run(&http, w, opts.load, opts.duration, name).await)
            }
            Scenario::Likes => like_storm(&http, &client, &seeded.tweets, &opts).await,
            Scenario::Read | Scenario::Mix | Scenario::Write => {
                if seeded.users.is_empty() || seeded.tweets.is_empty() {
                    return Err(LoadError::Unexpected(format!(
                        "{name} needs --users and --tweets of at least 1"
                    )));
                }
                let w = Arc::new(Seeds {
                    popular_tweets: seed::zipf_table(seeded.tweets.len(), ZIPF_TABLE),
                    popular_users: seed::zipf_table(seeded.users.len(), ZIPF_TABLE),
                    seeded,
                    kind: opts.scenario.clone(),
                });
                Ok(run::run(&http, w, opts.load, opts.duration, name).await)
            }
        }
    }
}

/// A spread-out index below `n` for request `i`.
fn pick(i: u64, n: usize) -> usize {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as usize % n.max(1)
}

struct Get(String);

impl Workload for Get {
    fn plan(&self, _i: u64) -> Planned {
        Planned::get(self.0.clone())
    }
}

/// Draws in each popularity table: enough that the skew holds, small
/// enough to build in a blink.
const ZIPF_TABLE: usize = 1 << 16;

struct Seeds {
    seeded: Seeded,
    kind: Scenario,
    /// `read` asks for tweets and timelines Zipf-skewed, as readers do: a
    /// few are read far more than the rest (what a cache is for).
    popular_tweets: Vec<usize>,
    popular_users: Vec<usize>,
}

impl Workload for Seeds {
    fn plan(&self, i: u64) -> Planned {
        let users = &self.seeded.users;
        let user = &users[pick(i, users.len())];
        let post = || Planned {
            method: Method::POST,
            path: "/api/tweets".into(),
            token: Some(user.token.clone()),
            body: Some(format!(r#"{{"text":"load tweet {i} #loadtest"}}"#).into_bytes()),
            tag: 0,
        };
        match self.kind {
            Scenario::Write => post(),
            Scenario::Mix => match i % 10 {
                0..=5 => Planned {
                    token: Some(user.token.clone()),
                    ..Planned::get("/api/timelines/home")
                },
                6..=8 => Planned::get(format!("/api/accounts/{}/tweets", user.username)),
                _ => post(),
            },
            _ => {
                let draw = pick(i, ZIPF_TABLE);
                if i.is_multiple_of(2) {
                    let tweet = self.seeded.tweets[self.popular_tweets[draw]];
                    Planned::get(format!("/api/tweets/{tweet}"))
                } else {
                    let user = &users[self.popular_users[draw]];
                    Planned::get(format!("/api/accounts/{}/tweets", user.username))
                }
            }
        }
    }
}

/// Likes of a set of tweets, tallying per tweet the 202s.
struct Likes {
    paths: Vec<String>,
    acked: Vec<AtomicU64>,
}

impl Workload for Likes {
    fn plan(&self, i: u64) -> Planned {
        let k = pick(i, self.paths.len());
        Planned {
            method: Method::POST,
            tag: k,
            ..Planned::get(self.paths[k].clone())
        }
    }

    fn done(&self, planned: &Planned, outcome: Outcome) {
        if outcome == Outcome::Status(202) {
            self.acked[planned.tag].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The verdict of a like storm: likes acknowledged with 202, and how many
/// of them the tweets' counts show after the batcher had time to flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LikeTally {
    pub acknowledged: u64,
    pub counted: u64,
}

impl LikeTally {
    /// Acknowledged likes the counts do not show.
    pub fn lost(&self) -> u64 {
        self.acknowledged.saturating_sub(self.counted)
    }
}

/// Likes `tweets` under `opts.load` for `opts.duration`, then polls their
/// counts (for at most `opts.settle`) until they show every acknowledged
/// like. The summary carries the tally.
pub async fn like_storm(
    http: &Http,
    client: &Client,
    tweets: &[i64],
    opts: &Options,
) -> Result<Summary, LoadError> {
    if tweets.is_empty() {
        return Err(LoadError::Unexpected(
            "likes needs --tweets of at least 1".into(),
        ));
    }
    let before = like_counts(client, tweets).await?;
    let w = Arc::new(Likes {
        paths: tweets
            .iter()
            .map(|id| format!("/api/tweets/{id}/likes"))
            .collect(),
        acked: tweets.iter().map(|_| AtomicU64::new(0)).collect(),
    });
    let mut summary = run::run(http, w.clone(), opts.load, opts.duration, "likes").await;
    let acked: Vec<u64> = w.acked.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    let tally = settle(client, tweets, &before, &acked, opts.settle).await?;
    summary.likes_acknowledged = Some(tally.acknowledged);
    summary.likes_counted = Some(tally.counted);
    summary.likes_lost = Some(tally.lost());
    Ok(summary)
}

async fn like_counts(client: &Client, tweets: &[i64]) -> Result<Vec<i64>, LoadError> {
    let mut counts = Vec::with_capacity(tweets.len());
    for &id in tweets {
        let tweet = client
            .tweet(None, id)
            .await
            .map_err(|source| LoadError::Seed {
                step: format!("reading tweet {id}"),
                source,
            })?;
        counts.push(tweet.like_count);
    }
    Ok(counts)
}

/// Polls the counts until every tweet shows at least its acknowledged
/// likes, or `limit` passes; counts per tweet are capped at what was
/// acknowledged, so likes from others do not hide a loss elsewhere.
pub async fn settle(
    client: &Client,
    tweets: &[i64],
    before: &[i64],
    acked: &[u64],
    limit: Duration,
) -> Result<LikeTally, LoadError> {
    let deadline = tokio::time::Instant::now() + limit;
    let acknowledged = acked.iter().sum();
    loop {
        let now = like_counts(client, tweets).await?;
        let counted: u64 = now
            .iter()
            .zip(before)
            .zip(acked)
            .map(|((n, b), a)| u64::try_from(n - b).unwrap_or(0).min(*a))
            .sum();
        let tally = LikeTally {
            acknowledged,
            counted,
        };
        if tally.lost() == 0 || tokio::time::Instant::now() >= deadline {
            return Ok(tally);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
