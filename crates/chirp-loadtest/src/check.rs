//! The `check` scenario: functional checks of a running chirp over its
//! API, each reported as passed or failed with the reason. They run in a
//! fixed order on fresh accounts, since later checks use what earlier ones
//! made (the tweet posted first is edited, searched, liked, deleted).

use std::time::Duration;

use chirp_client::model::{FollowState, Tweet};
use chirp_client::wire::{EditTweetBody, LoginBody, NewAccountBody, NewTweetBody, ProfilePatch};
use chirp_client::{Client, ClientError};
use hyper::Method;

use crate::LoadError;
use crate::http::{Http, Outcome};
use crate::seed::{PASSWORD, run_prefix};

/// How many times the like check likes its tweet: more than the batcher's
/// default max pending (10), so a flush happens on the way.
const LIKES: i64 = 12;

/// One check's result.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub name: &'static str,
    /// Why it failed; `None` when it passed.
    pub failure: Option<String>,
}

/// Runs every check against `target`; `settle` bounds how long a check
/// waits for something eventually visible (a like count after the batch).
/// Fails only when the checks cannot start (a bad target); a target that
/// is down fails every check instead.
pub async fn run(
    target: &str,
    timeout: Duration,
    settle: Duration,
) -> Result<Vec<CheckResult>, LoadError> {
    let http = Http::new(target, timeout)?;
    let client = Client::over_http(http.base())
        .map_err(|_| LoadError::BadTarget(target.into()))?
        .with_timeout(timeout);
    let mut results = Vec::new();
    let mut record = |name: &'static str, r: Result<(), String>| {
        results.push(CheckResult {
            name,
            failure: r.err(),
        });
    };

    let prefix = run_prefix();
    let mut tokens = Vec::new();
    for who in ["alice", "bob", "carol", "dave"] {
        let name = format!("{prefix}_{who}");
        match account(&client, &name).await {
            Ok(token) => tokens.push((name, token)),
            Err(e) => {
                record(
                    "accounts",
                    Err(format!("signing up and logging in {name}: {e}")),
                );
                return Ok(results);
            }
        }
    }
    record("accounts", Ok(()));
    let [(alice, a), (_bob, b), (carol, c), (dave, d)] = &tokens[..] else {
        return Ok(results);
    };

    let word = format!("{prefix}word");
    let tag = format!("{prefix}tag");
    let text = format!("check {word} #{tag}");
    let posted = post(&client, a, &text).await;
    let id = match &posted {
        Ok(t) => Some(t.id),
        Err(_) => None,
    };
    record(
        "post then read it back",
        match posted {
            Ok(t) => client
                .tweet(None, t.id)
                .await
                .map_err(|e| format!("GET /api/tweets/{}: {e}", t.id))
                .and_then(|read| {
                    expect(read.text == text, || format!("read back {:?}", read.text))
                }),
            Err(e) => Err(e),
        },
    );
    let Some(id) = id else {
        return Ok(results);
    };

    record("search finds it", {
        match client.search_tweets(None, &word, None).await {
            Ok(page) => expect(page.items.iter().any(|t| t.id == id), || {
                format!("?q={word} did not list tweet {id}")
            }),
            Err(e) => Err(format!("?q={word}: {e}")),
        }
    });
    record("hashtag lists it", {
        match client.hashtag(None, &tag, None).await {
            Ok(page) => expect(page.items.iter().any(|t| t.id == id), || {
                format!("?hashtag={tag} did not list tweet {id}")
            }),
            Err(e) => Err(format!("?hashtag={tag}: {e}")),
        }
    });
    record("edit", {
        let edited = format!("{text} edited");
        let body = EditTweetBody {
            text: edited.clone(),
        };
        match client.edit_tweet(a, id, &body).await {
            Ok(t) => expect(t.text == edited && t.edited_at.is_some(), || {
                format!(
                    "edit answered text {:?}, edited_at {:?}",
                    t.text, t.edited_at
                )
            }),
            Err(e) => Err(format!("PATCH /api/tweets/{id}: {e}")),
        }
    });
    record(
        "like N times then see N",
        likes(&client, a, id, settle).await,
    );
    record("follow then see it at home", {
        follow_home(&client, b, alice, a).await
    });
    record(
        "protected tweets hidden, shown to approved followers",
        protected(&client, &http, (carol, c), d, dave, a).await,
    );
    record("delete", {
        match client.delete_tweet(a, id).await {
            Ok(()) => match client.tweet(None, id).await {
                Err(ClientError::Api { status, .. }) if status.as_u16() == 404 => Ok(()),
                Ok(_) => Err(format!("tweet {id} still readable after DELETE")),
                Err(e) => Err(format!("GET after DELETE: {e}")),
            },
            Err(e) => Err(format!("DELETE /api/tweets/{id}: {e}")),
        }
    });
    Ok(results)
}

fn expect(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why()) }
}

async fn account(client: &Client, name: &str) -> Result<String, ClientError> {
    client
        .sign_up(&NewAccountBody {
            username: name.into(),
            password: PASSWORD.into(),
            display_name: None,
            bio: None,
        })
        .await?;
    let session = client
        .log_in(&LoginBody {
            username: name.into(),
            password: PASSWORD.into(),
        })
        .await?;
    Ok(session.token)
}

async fn post(client: &Client, token: &str, text: &str) -> Result<Tweet, String> {
    let body = NewTweetBody {
        text: text.into(),
        reply_to: None,
        category: None,
    };
    client
        .post_tweet(token, &body)
        .await
        .map_err(|e| format!("POST /api/tweets: {e}"))
}

/// Likes `id` LIKES times, then reads it as `viewer` (its author) until the
/// count shows them all. A signed-in read, because anonymous ones may come
/// from a response cache, which shows a count up to its TTL late by design.
async fn likes(client: &Client, viewer: &str, id: i64, settle: Duration) -> Result<(), String> {
    for n in 0..LIKES {
        client
            .like(id)
            .await
            .map_err(|e| format!("like {} of {LIKES}: {e}", n + 1))?;
    }
    let deadline = tokio::time::Instant::now() + settle;
    loop {
        let seen = client
            .tweet(Some(viewer), id)
            .await
            .map_err(|e| format!("GET /api/tweets/{id}: {e}"))?
            .like_count;
        if seen == LIKES {
            return Ok(());
        }
        if seen > LIKES || tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "liked {LIKES} times, count shows {seen} after {settle:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn follow_home(client: &Client, b: &str, alice: &str, a: &str) -> Result<(), String> {
    client
        .follow(b, alice)
        .await
        .map_err(|e| format!("follow {alice}: {e}"))?;
    let tweet = post(client, a, "for my followers").await?;
    let home = client
        .home_timeline(b, None)
        .await
        .map_err(|e| format!("GET /api/timelines/home: {e}"))?;
    expect(home.items.iter().any(|t| t.id == tweet.id), || {
        format!("tweet {} of a followed account missing from home", tweet.id)
    })
}

/// Status of `GET /api/tweets/{id}` as `token` (none: anonymous).
async fn tweet_status(http: &Http, id: i64, token: Option<&str>) -> Result<Outcome, String> {
    http.call(Method::GET, &format!("/api/tweets/{id}"), token, None)
        .await
        .map(|(o, _)| o)
        .map_err(|e| e.to_string())
}

async fn protected(
    client: &Client,
    http: &Http,
    (carol, c): (&str, &str),
    d: &str,
    dave: &str,
    stranger: &str,
) -> Result<(), String> {
    let patch = ProfilePatch {
        protected: Some(true),
        ..ProfilePatch::default()
    };
    client
        .update_profile(c, &patch)
        .await
        .map_err(|e| format!("PATCH /api/me protected: {e}"))?;
    let tweet = post(client, c, "only for approved followers").await?;
    for (who, token) in [("anonymous", None), ("a stranger", Some(stranger))] {
        let status = tweet_status(http, tweet.id, token).await?;
        if status.is_ok() {
            return Err(format!("{who} read a protected tweet ({})", status.label()));
        }
    }
    match client.follow(d, carol).await {
        Ok(FollowState::Requested) => {}
        Ok(other) => return Err(format!("following a protected account gave {other:?}")),
        Err(e) => return Err(format!("follow {carol}: {e}")),
    }
    let (accepted, _) = http
        .call(
            Method::POST,
            &format!("/api/follow-requests/{dave}/accept"),
            Some(c),
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    expect(accepted.is_ok(), || {
        format!("accept answered {}", accepted.label())
    })?;
    let status = tweet_status(http, tweet.id, Some(d)).await?;
    expect(status.is_ok(), || {
        format!(
            "an approved follower got {} for a protected tweet",
            status.label()
        )
    })
}
