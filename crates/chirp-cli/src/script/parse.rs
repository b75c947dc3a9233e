//! The script language of `chirp script`: one command a line, words split
//! like a shell does (quote anything with spaces or a `#`), `#` starts a
//! comment, and options go last as `key=value`.
//!
//! ```text
//! password "correct horse battery"      # for the accounts made below
//! user alice "Alice Liddell" "Down the rabbit hole"
//! category alice books "Books" "What we read"
//! post alice "Hello #chirp" label=hello category=books
//! reply bob hello "Hi @alice!" label=hi
//! edit alice hello "Hello again #chirp"
//! like hello 3
//! follow bob alice
//! unfollow bob alice
//! message bob alice "Lunch at noon?"
//! delete bob hi
//! ```
//!
//! A tweet is named by the `label=` it was posted with, or by its number.

use std::collections::HashMap;

/// What a script line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The password of accounts made (or logged in) from here on.
    Password(String),
    /// Makes the account, or logs in if it exists; sets the profile when
    /// a display name or bio is given.
    User {
        name: String,
        display_name: Option<String>,
        bio: Option<String>,
    },
    Category {
        user: String,
        slug: String,
        name: String,
        description: Option<String>,
    },
    Post {
        user: String,
        text: String,
        label: Option<String>,
        category: Option<String>,
    },
    Reply {
        user: String,
        to: TweetRef,
        text: String,
        label: Option<String>,
    },
    Edit {
        user: String,
        tweet: TweetRef,
        text: String,
    },
    Delete {
        user: String,
        tweet: TweetRef,
    },
    Follow {
        user: String,
        other: String,
    },
    Unfollow {
        user: String,
        other: String,
    },
    /// A direct message from `user` to `to`.
    Message {
        user: String,
        to: String,
        text: String,
    },
    /// Likes are anonymous in chirp, so no user.
    Like {
        tweet: TweetRef,
        times: u32,
    },
}

/// A tweet named in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TweetRef {
    /// Given with `label=` when it was posted.
    Label(String),
    /// Its id.
    Id(i64),
}

impl std::fmt::Display for TweetRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Label(l) => write!(f, "{l}"),
            Self::Id(id) => write!(f, "tweet {id}"),
        }
    }
}

/// A command and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: usize,
    pub step: Step,
}

/// Why a line cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Most likes one `like` line may send.
const MAX_LIKES: u32 = 100_000;

/// Parses a whole script; every bad line is reported, not just the first.
pub fn parse(source: &str) -> Result<Vec<Line>, Vec<ParseError>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    // A byte-order mark (some editors write one) is not part of the first command.
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    for (i, text) in source.lines().enumerate() {
        let number = i + 1;
        match parse_line(text) {
            Ok(Some(step)) => lines.push(Line { number, step }),
            Ok(None) => {}
            Err(message) => errors.push(ParseError {
                line: number,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// One line: `None` for a blank or comment line.
fn parse_line(text: &str) -> Result<Option<Step>, String> {
    let words = shlex::split(text).ok_or("an unclosed quote or a trailing backslash")?;
    let Some((command, rest)) = words.split_first() else {
        return Ok(None);
    };
    // Options (`key=value`) come after the positional words.
    let split = rest
        .iter()
        .position(|w| option(w).is_some())
        .unwrap_or(rest.len());
    let (args, opts) = rest.split_at(split);
    let mut options = HashMap::new();
    for word in opts {
        let (key, value) = option(word).ok_or_else(|| {
            format!("{word:?} comes after an option; options (key=value) go last")
        })?;
        if options.insert(key, value.to_owned()).is_some() {
            return Err(format!("{key}= is given twice"));
        }
    }
    let mut a = Args {
        command,
        args,
        options,
    };
    let step = match command.as_str() {
        "password" => Step::Password(a.exact(1, "password SECRET")?[0].clone()),
        "user" => {
            let w = a.between(1, 3, "user NAME [DISPLAY_NAME [BIO]]")?;
            Step::User {
                name: w[0].clone(),
                display_name: w.get(1).cloned(),
                bio: w.get(2).cloned(),
            }
        }
        "category" => {
            let w = a.between(3, 4, "category USER SLUG NAME [DESCRIPTION]")?;
            Step::Category {
                user: w[0].clone(),
                slug: w[1].clone(),
                name: w[2].clone(),
                description: w.get(3).cloned(),
            }
        }
        "post" => {
            let w = a
                .exact(2, "post USER TEXT [label=L] [category=SLUG]")?
                .to_vec();
            Step::Post {
                user: w[0].clone(),
                text: w[1].clone(),
                label: a.take("label"),
                category: a.take("category"),
            }
        }
        "reply" => {
            let w = a.exact(3, "reply USER TWEET TEXT [label=L]")?.to_vec();
            Step::Reply {
                user: w[0].clone(),
                to: tweet_ref(&w[1])?,
                text: w[2].clone(),
                label: a.take("label"),
            }
        }
        "edit" => {
            let w = a.exact(3, "edit USER TWEET TEXT")?;
            Step::Edit {
                user: w[0].clone(),
                tweet: tweet_ref(&w[1])?,
                text: w[2].clone(),
            }
        }
        "delete" => {
            let w = a.exact(2, "delete USER TWEET")?;
            Step::Delete {
                user: w[0].clone(),
                tweet: tweet_ref(&w[1])?,
            }
        }
        "follow" | "unfollow" => {
            let w = a.exact(2, "follow USER OTHER_USER")?;
            let (user, other) = (w[0].clone(), w[1].clone());
            if command == "follow" {
                Step::Follow { user, other }
            } else {
                Step::Unfollow { user, other }
            }
        }
        "like" => {
            let w = a.between(1, 2, "like TWEET [TIMES]")?;
            let times = match w.get(1) {
                None => 1,
                Some(n) => match n.parse::<u32>() {
                    Ok(n) if (1..=MAX_LIKES).contains(&n) => n,
                    _ => return Err(format!("TIMES must be 1 to {MAX_LIKES}, not {n:?}")),
                },
            };
            Step::Like {
                tweet: tweet_ref(&w[0])?,
                times,
            }
        }
        "message" => {
            let w = a.exact(3, "message FROM TO TEXT")?;
            Step::Message {
                user: w[0].clone(),
                to: w[1].clone(),
                text: w[2].clone(),
            }
        }
        other => {
            return Err(format!(
                "unknown command {other:?} (try password, user, category, post, reply, \
                 edit, delete, follow, unfollow, message, like)"
            ));
        }
    };
    if let Some(key) = a.options.keys().next() {
        return Err(format!("{command} takes no {key}= option"));
    }
    check_names(&step)?;
    check_values(&step)?;
    Ok(Some(step))
}

/// Every rule chirp-core can check without the server (password, display
/// name, bio, tweet, message and category rules), so a script with a
/// mistake is refused whole before anything is sent, never halfway
/// through by the server.
fn check_values(step: &Step) -> Result<(), String> {
    use chirp_core::text::{
        Bio, CategoryName, CategorySlug, DisplayName, MessageText, Password, TweetText,
        parse_description,
    };
    let said = |e: chirp_core::ValidationError| format!("{} {}", e.field, e.message);
    match step {
        Step::Password(p) => Password::parse(p).map(drop),
        Step::User {
            display_name, bio, ..
        } => display_name
            .as_deref()
            .map_or(Ok(()), |d| DisplayName::parse(d).map(drop))
            .and_then(|()| bio.as_deref().map_or(Ok(()), |b| Bio::parse(b).map(drop))),
        Step::Category {
            slug,
            name,
            description,
            ..
        } => CategorySlug::parse(slug)
            .map(drop)
            .and_then(|()| CategoryName::parse(name).map(drop))
            .and_then(|()| {
                description
                    .as_deref()
                    .map_or(Ok(()), |d| parse_description(d).map(drop))
            }),
        Step::Post { text, .. } | Step::Reply { text, .. } | Step::Edit { text, .. } => {
            TweetText::parse(text).map(drop)
        }
        Step::Message { text, .. } => MessageText::parse(text).map(drop),
        Step::Delete { .. } | Step::Follow { .. } | Step::Unfollow { .. } | Step::Like { .. } => {
            Ok(())
        }
    }
    .map_err(said)
}

/// Usernames must be ones chirp could have (they go into API paths), and a
/// label must not look like a tweet id (`like 42` means tweet 42).
fn check_names(step: &Step) -> Result<(), String> {
    let users: Vec<&str> = match step {
        Step::User { name, .. } => vec![name],
        Step::Category { user, .. }
        | Step::Post { user, .. }
        | Step::Reply { user, .. }
        | Step::Edit { user, .. }
        | Step::Delete { user, .. } => vec![user],
        Step::Follow { user, other } | Step::Unfollow { user, other } => vec![user, other],
        Step::Message { user, to, .. } => vec![user, to],
        Step::Password(_) | Step::Like { .. } => vec![],
    };
    for user in users {
        if chirp_core::text::Username::parse(user).is_err() {
            return Err(format!(
                "{user:?} is not a username (3 to 30 letters, digits or _)"
            ));
        }
    }
    let label = match step {
        Step::Post { label, .. } | Step::Reply { label, .. } => label.as_deref(),
        _ => None,
    };
    if let Some(label) = label
        && (label.is_empty() || label.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
    {
        return Err(format!(
            "label={label} looks like a tweet id; give labels a letter"
        ));
    }
    Ok(())
}

/// `key=value` for the options scripts know.
fn option(word: &str) -> Option<(&'static str, &str)> {
    let (key, value) = word.split_once('=')?;
    let key = ["label", "category"].into_iter().find(|k| *k == key)?;
    Some((key, value))
}

/// A number is a tweet id; anything else a label.
fn tweet_ref(word: &str) -> Result<TweetRef, String> {
    if word.bytes().all(|b| b.is_ascii_digit() || b == b'-') && !word.is_empty() {
        return word
            .parse()
            .map(TweetRef::Id)
            .map_err(|_| format!("{word} is not a tweet id"));
    }
    Ok(TweetRef::Label(word.to_owned()))
}

/// The words of one line, checked against what its command takes.
struct Args<'a> {
    command: &'a str,
    args: &'a [String],
    options: HashMap<&'static str, String>,
}

impl Args<'_> {
    fn exact(&self, n: usize, usage: &str) -> Result<&[String], String> {
        self.between(n, n, usage)
    }

    fn between(&self, min: usize, max: usize, usage: &str) -> Result<&[String], String> {
        if (min..=max).contains(&self.args.len()) {
            Ok(self.args)
        } else {
            Err(format!(
                "{} takes {}, got {} word(s); usage: {usage}",
                self.command,
                if min == max {
                    format!("{min}")
                } else {
                    format!("{min} to {max}")
                },
                self.args.len()
            ))
        }
    }

    fn take(&mut self, key: &str) -> Option<String> {
        self.options.remove(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Step {
        let mut lines = parse(line).expect("parses");
        assert_eq!(lines.len(), 1);
        lines.remove(0).step
    }

    fn error(script: &str) -> String {
        let errors = parse(script).expect_err("refused");
        errors[0].to_string()
    }

    #[test]
    fn rules_chirp_core_knows_are_checked_before_anything_is_sent() {
        assert!(
            error("password short\nuser alice\n").contains("line 1: password must be 8 to"),
            "{}",
            error("password short\n")
        );
        let long = format!("user alice\npost alice \"{}\"\n", "x".repeat(281));
        assert!(
            error(&long).contains("line 2: text must be at most 280"),
            "{}",
            error(&long)
        );
        assert!(error("user alice\nmessage alice bob \"  \"\n").contains("line 2: text"));
        let slug = error("user alice\ncategory alice Bad_Slug Name\n");
        assert!(slug.contains("line 2: category a slug is"), "{slug}");
        assert!(parse("password \"correct horse\"\nuser alice\npost alice hi\n").is_ok());
    }

    #[test]
    fn commands_and_options_parse() {
        assert_eq!(
            one(r#"post alice "Hello #chirp" label=hi category=books"#),
            Step::Post {
                user: "alice".into(),
                text: "Hello #chirp".into(),
                label: Some("hi".into()),
                category: Some("books".into()),
            }
        );
        assert_eq!(
            one("reply bob 42 'so true'"),
            Step::Reply {
                user: "bob".into(),
                to: TweetRef::Id(42),
                text: "so true".into(),
                label: None,
            }
        );
        assert_eq!(
            one("like hi 3"),
            Step::Like {
                tweet: TweetRef::Label("hi".into()),
                times: 3
            }
        );
        assert_eq!(
            one(r#"user carol "Carol C""#),
            Step::User {
                name: "carol".into(),
                display_name: Some("Carol C".into()),
                bio: None
            }
        );
    }

    #[test]
    fn a_message_line_names_sender_recipient_and_text() {
        assert_eq!(
            one(r#"message bob alice "Lunch at noon? #food""#),
            Step::Message {
                user: "bob".into(),
                to: "alice".into(),
                text: "Lunch at noon? #food".into(),
            }
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_lines_numbered() {
        let lines = parse("# a demo\n\nfollow bob alice  # bob likes alice\n").expect("parses");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].number, 3);
    }

    #[test]
    fn mistakes_say_which_line_and_why() {
        assert_eq!(
            error("user alice\npost alice"),
            "line 2: post takes 2, got 1 word(s); usage: post USER TEXT [label=L] [category=SLUG]"
        );
        assert!(error("post alice \"unclosed").contains("unclosed quote"));
        assert!(error("shout alice hi").contains("unknown command \"shout\""));
        assert!(error("like hi 0").contains("TIMES must be 1 to"));
        assert!(error("like hi many").contains("TIMES must be"));
        assert!(error("edit alice hi text label=x").contains("edit takes no label= option"));
        assert!(error("post alice label=x text").contains("options (key=value) go last"));
        assert!(error("post alice t label=a label=b").contains("label= is given twice"));
        assert!(error("message alice bob").contains("usage: message FROM TO TEXT"));
        assert!(error("message alice b hi").contains("is not a username"));
        assert!(error("message alice bob hi label=x").contains("message takes no label="));
        assert!(error("post alice hi label=42").contains("looks like a tweet id"));
        assert!(error(r#"follow bob "al ice""#).contains("is not a username"));
        assert!(error("user x").contains("is not a username"));
        assert!(error("like 99999999999999999999").contains("is not a tweet id"));
        assert!(error("post alice hi \\").contains("trailing backslash"));
        assert!(
            parse("\u{feff}user alice\n").is_ok(),
            "a byte-order mark is fine"
        );
        // Every bad line is reported at once.
        assert_eq!(
            parse("nope\nfollow a\nuser okay").expect_err("bad").len(),
            2
        );
    }
}
