//! Seeding: the accounts, tweets and follow graph a scenario reads from.
//!
//! The follow graph is skewed the way real ones are: whom each account
//! follows is drawn with Zipf weights (rank r weighs 1/r), so the first few
//! accounts have most of the followers, and their tweets fan out to many
//! home timelines, the case a cache or a fan-out design has to survive.

use std::sync::Arc;

use chirp_client::Client;
use chirp_client::wire::{LoginBody, NewAccountBody, NewTweetBody};
use indicatif::{ProgressBar, ProgressStyle};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::LoadError;

/// Seeding calls in flight at once: sign-ups hash passwords, which the
/// server limits anyway, so more would only queue.
const SEED_CONCURRENCY: usize = 8;

/// The password of every seeded account.
pub const PASSWORD: &str = "loadtest-password";

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    pub users: usize,
    pub tweets: usize,
    /// Accounts each account follows (at most users − 1).
    pub follows: usize,
}

/// A seeded account and its session.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub token: Arc<str>,
}

/// What seeding made.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub users: Vec<User>,
    pub tweets: Vec<i64>,
}

fn seed_err(step: impl Into<String>) -> impl FnOnce(chirp_client::ClientError) -> LoadError {
    let step = step.into();
    move |source| LoadError::Seed { step, source }
}

/// A name prefix no earlier run used, so runs against one server do not
/// collide on usernames.
pub fn run_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("lt{:x}", (nanos >> 10) & 0xff_ffff_ffff)
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// Seeds `plan` through `client`, with a progress bar per step on stderr.
pub async fn seed(client: &Client, plan: SeedPlan) -> Result<Seeded, LoadError> {
    let prefix = run_prefix();
    let limit = Arc::new(Semaphore::new(SEED_CONCURRENCY));

    let progress = bar(plan.users, "accounts");
    let mut set = JoinSet::new();
    for i in 0..plan.users {
        let (client, limit, progress) = (client.clone(), limit.clone(), progress.clone());
        let username = format!("{prefix}_{i}");
        set.spawn(async move {
            let _slot = limit.acquire_owned().await;
            let body = NewAccountBody {
                username: username.clone(),
                password: PASSWORD.into(),
                display_name: Some(format!("Load {i}")),
                bio: None,
            };
            client
                .sign_up(&body)
                .await
                .map_err(seed_err(format!("signing up {username}")))?;
            let session = client
                .log_in(&LoginBody {
                    username: username.clone(),
                    password: PASSWORD.into(),
                })
                .await
                .map_err(seed_err(format!("logging in {username}")))?;
            progress.inc(1);
            Ok::<_, LoadError>((
                i,
                User {
                    username,
                    token: session.token.into(),
                },
            ))
        });
    }
    let mut users = Vec::with_capacity(plan.users);
    while let Some(done) = set.join_next().await {
        if let Ok(user) = done {
            users.push(user?);
        }
    }
    users.sort_by_key(|(i, _)| *i);
    let users: Vec<User> = users.into_iter().map(|(_, u)| u).collect();
    progress.finish_and_clear();

    let follows = follow_graph(users.len(), plan.follows);
    let progress = bar(follows.len(), "follows");
    let mut set = JoinSet::new();
    for (from, to) in follows {
        let (client, limit, progress) = (client.clone(), limit.clone(), progress.clone());
        let (token, name) = (users[from].token.clone(), users[to].username.clone());
        set.spawn(async move {
            let _slot = limit.acquire_owned().await;
            client
                .follow(&token, &name)
                .await
                .map_err(seed_err(format!("following {name}")))?;
            progress.inc(1);
            Ok::<_, LoadError>(())
        });
    }
    while let Some(done) = set.join_next().await {
        if let Ok(result) = done {
            result?;
        }
    }
    progress.finish_and_clear();

    let progress = bar(plan.tweets, "tweets");
    let mut set = JoinSet::new();
    if !users.is_empty() {
        for i in 0..plan.tweets {
            let (client, limit, progress) = (client.clone(), limit.clone(), progress.clone());
            let token = users[i % users.len()].token.clone();
            set.spawn(async move {
                let _slot = limit.acquire_owned().await;
                let body = NewTweetBody {
                    text: format!("seed tweet {i} #loadtest #t{}", i % 10),
                    reply_to: None,
                    category: None,
                };
                let tweet = client
                    .post_tweet(&token, &body)
                    .await
                    .map_err(seed_err(format!("posting tweet {i}")))?;
                progress.inc(1);
                Ok::<_, LoadError>(tweet.id)
            });
        }
    }
    let mut tweets = Vec::with_capacity(plan.tweets);
    while let Some(done) = set.join_next().await {
        if let Ok(id) = done {
            tweets.push(id?);
        }
    }
    tweets.sort_unstable();
    progress.finish_and_clear();
    Ok(Seeded { users, tweets })
}

/// `(follower, followed)` pairs: each of `users` accounts follows `per`
/// distinct others drawn with Zipf weights, so low indexes are popular.
pub fn follow_graph(users: usize, per: usize) -> Vec<(usize, usize)> {
    let per = per.min(users.saturating_sub(1));
    let weights: Vec<f64> = (0..users).map(|r| 1.0 / (r as f64 + 1.0)).collect();
    let Ok(zipf) = WeightedIndex::new(&weights) else {
        return Vec::new();
    };
    let mut rng = rand::rng();
    let mut pairs = Vec::with_capacity(users * per);
    for from in 0..users {
        let mut chosen = Vec::with_capacity(per);
        // Rejection sampling: with per < users it ends quickly, and the cap
        // on tries keeps a tiny graph from spinning.
        let mut tries = 0;
        while chosen.len() < per && tries < per * 50 {
            tries += 1;
            let to = zipf.sample(&mut rng);
            if to != from && !chosen.contains(&to) {
                chosen.push(to);
            }
        }
        pairs.extend(chosen.into_iter().map(|to| (from, to)));
    }
    pairs
}

/// `len` indexes below `n` drawn with Zipf weights (rank r weighs 1/r), for
/// a workload that reads popular things more often: request `i` takes
/// entry `i % len`, so the plan stays a pure function of `i`.
pub fn zipf_table(n: usize, len: usize) -> Vec<usize> {
    let weights: Vec<f64> = (0..n).map(|r| 1.0 / (r as f64 + 1.0)).collect();
    let Ok(zipf) = WeightedIndex::new(&weights) else {
        return vec![0; len];
    };
    let mut rng = rand::rng();
    (0..len).map(|_| zipf.sample(&mut rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::follow_graph;

    #[test]
    fn follow_graph_is_skewed_towards_the_first_accounts() {
        let pairs = follow_graph(200, 5);
        assert_eq!(pairs.len(), 200 * 5);
        assert!(pairs.iter().all(|(a, b)| a != b));
        let followers = |k: usize| pairs.iter().filter(|(_, b)| *b == k).count();
        assert!(
            followers(0) > 5 * followers(150).max(1),
            "rank 0 has {} followers, rank 150 has {}",
            followers(0),
            followers(150)
        );
    }
}
