//! `chirp script FILE`: runs a file of commands against a running chirp
//! through its public API — handy for demos and for seeding a site. The
//! language is in [`parse`]; [`Runner`] carries it out with the typed API
//! client the web site uses too, so a script does exactly what people can
//! do.

pub mod parse;

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, bail};
use chirp_client::wire::{
    EditTweetBody, LoginBody, NewAccountBody, NewCategoryBody, NewMessageBody, NewTweetBody,
    ProfilePatch,
};
use chirp_client::{Client, ClientError};
use chirp_core::words::plural;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::ScriptArgs;
use parse::{Line, Step, TweetRef};

/// The password of accounts a script makes when it sets none.
pub const DEFAULT_PASSWORD: &str = "chirp-demo-password";

/// Runs the script `args.file` against the API at `args.api`.
pub async fn run(args: ScriptArgs) -> anyhow::Result<()> {
    let source = if args.file == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the script from stdin")?
    } else {
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file))?
    };
    let lines = match parse::parse(&source) {
        Ok(lines) => lines,
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {e}", args.file);
            }
            bail!(
                "{}: {} to fix; nothing was run",
                args.file,
                plural(errors.len(), "line", "lines")
            );
        }
    };
    let api = Client::over_http(&args.api)
        .map_err(|e| anyhow::anyhow!("--api: {e}"))?
        .with_timeout(args.api_timeout);
    let started = Instant::now();
    let bar = ProgressBar::new(lines.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut runner = Runner::new(api);
    for line in &lines {
        bar.set_message(format!("line {}", line.number));
        if let Err(e) = runner.step(line).await {
            bar.abandon();
            bail!("{}: line {}: {e:#}", args.file, line.number);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "{}: {} in {:.1?} against {}: {}",
        args.file,
        plural(lines.len(), "command", "commands"),
        started.elapsed(),
        args.api,
        runner.tally
    );
    Ok(())
}

/// What a script did, for the summary line.
#[derive(Debug, Default)]
pub struct Tally {
    pub accounts: usize,
    pub logins: usize,
    pub categories: usize,
    pub chirps: usize,
    pub edits: usize,
    pub deletes: usize,
    pub follows: usize,
    pub messages: usize,
    pub likes: u64,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {} existing logged in, {}, {}, {}, {}, {}, {}, {}",
            plural(self.accounts, "new account", "new accounts"),
            self.logins,
            plural(self.categories, "category", "categories"),
            plural(self.chirps, "chirp", "chirps"),
            plural(self.edits, "edit", "edits"),
            plural(self.deletes, "delete", "deletes"),
            plural(self.follows, "follow change", "follow changes"),
            plural(self.messages, "message", "messages"),
            plural(self.likes, "like", "likes"),
        )
    }
}

/// Carries out script steps, remembering sessions and tweet labels.
pub struct Runner {
    api: Client,
    password: String,
    /// Session token of each account the script has logged in.
    sessions: HashMap<String, String>,
    /// Tweet ids by the `label=` they were posted with.
    labels: HashMap<String, i64>,
    pub tally: Tally,
}

impl Runner {
    pub fn new(api: Client) -> Self {
        Self {
            api,
            password: DEFAULT_PASSWORD.to_owned(),
            sessions: HashMap::new(),
            labels: HashMap::new(),
            tally: Tally::default(),
        }
    }

    /// Runs one line; the error says what the API refused, and why.
    pub async fn step(&mut self, line: &Line) -> anyhow::Result<()> {
        match &line.step {
            Step::Password(p) => self.password = p.clone(),
            Step::User {
                name,
                display_name,
                bio,
            } => {
                self.user(name, display_name.as_deref(), bio.as_deref())
                    .await?
            }
            Step::Category {
                user,
                slug,
                name,
                description,
            } => {
                let token = self.session(user)?;
                let category = NewCategoryBody {
                    slug: slug.clone(),
                    name: name.clone(),
                    description: Some(description.clone().unwrap_or_default()),
                };
                let made = self.api.create_category(&token, &category).await;
                match made {
                    Ok(_) => self.tally.categories += 1,
                    // Already there (a script run twice): fine.
                    Err(e) if e.status().as_u16() == 409 => {}
                    Err(e) => return Err(e).context("making the category"),
                }
            }
            Step::Post {
                user,
                text,
                label,
                category,
            } => {
                let token = self.session(user)?;
                let tweet = NewTweetBody {
                    text: text.clone(),
                    reply_to: None,
                    category: category.clone(),
                };
                let tweet = self
                    .api
                    .post_tweet(&token, &tweet)
                    .await
                    .context("posting")?;
                self.remember(label, tweet.id);
            }
            Step::Reply {
                user,
                to,
                text,
                label,
            } => {
                let token = self.session(user)?;
                let reply = NewTweetBody {
                    text: text.clone(),
                    reply_to: Some(self.tweet(to)?),
                    category: None,
                };
                let tweet = self
                    .api
                    .post_tweet(&token, &reply)
                    .await
                    .context("replying")?;
                self.remember(label, tweet.id);
            }
            Step::Edit { user, tweet, text } => {
                let token = self.session(user)?;
                let id = self.tweet(tweet)?;
                let edit = EditTweetBody { text: text.clone() };
                self.api
                    .edit_tweet(&token, id, &edit)
                    .await
                    .with_context(|| format!("editing {tweet}"))?;
                self.tally.edits += 1;
            }
            Step::Delete { user, tweet } => {
                let token = self.session(user)?;
                let id = self.tweet(tweet)?;
                self.api
                    .delete_tweet(&token, id)
                    .await
                    .with_context(|| format!("deleting {tweet}"))?;
                self.tally.deletes += 1;
            }
            Step::Follow { user, other } | Step::Unfollow { user, other } => {
                let token = self.session(user)?;
                let done = if matches!(line.step, Step::Follow { .. }) {
                    self.api.follow(&token, other).await.map(|_| ())
                } else {
                    self.api.unfollow(&token, other).await
                };
                done.with_context(|| format!("{user} and {other}"))?;
                self.tally.follows += 1;
            }
            Step::Message { user, to, text } => {
                let token = self.session(user)?;
                let message = NewMessageBody {
                    to: to.clone(),
                    text: text.clone(),
                };
                self.api
                    .send_message(&token, &message)
                    .await
                    .with_context(|| format!("message from {user} to {to}"))?;
                self.tally.messages += 1;
            }
            Step::Like { tweet, times } => {
                let id = self.tweet(tweet)?;
                for _ in 0..*times {
                    self.api
                        .like(id)
                        .await
                        .with_context(|| format!("liking {tweet}"))?;
                    self.tally.likes += 1;
                }
            }
        }
        Ok(())
    }

    /// Makes the account, or logs in when the name is taken with this
    /// script's password, so running a script twice works.
    async fn user(
        &mut self,
        name: &str,
        display_name: Option<&str>,
        bio: Option<&str>,
    ) -> anyhow::Result<()> {
        let account = NewAccountBody {
            username: name.to_owned(),
            password: self.password.clone(),
            display_name: display_name.map(str::to_owned),
            bio: None,
        };
        let made = self.api.sign_up(&account).await;
        let fresh = match made {
            Ok(_) => true,
            Err(e) if e.status().as_u16() == 409 => false,
            Err(e) => return Err(e).with_context(|| format!("making the account {name}")),
        };
        let login = LoginBody {
            username: name.to_owned(),
            password: self.password.clone(),
        };
        let session = self
            .api
            .log_in(&login)
            .await
            .map_err(|e| explain_login(name, fresh, e))?;
        let wants_profile = bio.is_some() || (!fresh && display_name.is_some());
        if wants_profile {
            let me = session.account;
            let patch = ProfilePatch {
                display_name: Some(display_name.unwrap_or(&me.display_name).to_owned()),
                bio: Some(bio.unwrap_or(&me.bio).to_owned()),
                protected: None,
            };
            self.api
                .update_profile(&session.token, &patch)
                .await
                .with_context(|| format!("setting {name}'s profile"))?;
        }
        if fresh {
            self.tally.accounts += 1;
        } else {
            self.tally.logins += 1;
        }
        self.sessions
            .insert(name.to_ascii_lowercase(), session.token);
        Ok(())
    }

    fn session(&self, user: &str) -> anyhow::Result<String> {
        match self.sessions.get(&user.to_ascii_lowercase()) {
            Some(token) => Ok(token.clone()),
            None => bail!("{user} is not logged in: add a `user {user}` line before this one"),
        }
    }

    fn tweet(&self, tweet: &TweetRef) -> anyhow::Result<i64> {
        match tweet {
            TweetRef::Id(id) => Ok(*id),
            TweetRef::Label(label) => match self.labels.get(label) {
                Some(id) => Ok(*id),
                None => bail!("no tweet was posted with label={label} before this line"),
            },
        }
    }

    fn remember(&mut self, label: &Option<String>, id: i64) {
        self.tally.chirps += 1;
        if let Some(label) = label {
            self.labels.insert(label.clone(), id);
        }
    }
}

/// A failed log-in after sign-up said the name exists means another
/// password: say that rather than just "unauthorized".
fn explain_login(name: &str, fresh: bool, e: ClientError) -> anyhow::Error {
    if !fresh && e.is_unauthorized() {
        anyhow::anyhow!(
            "the account {name} exists with another password; set it with a `password` line"
        )
    } else {
        anyhow::Error::new(e).context(format!("logging in as {name}"))
    }
}
