//! Validated text newtypes: every piece of user text is parsed here once.

use crate::ValidationError;

/// Longest tweet, in characters (Unicode scalar values).
pub const TWEET_MAX_CHARS: usize = 280;
/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 50;
/// Longest bio, in characters.
pub const BIO_MAX_CHARS: usize = 160;
/// Shortest and longest password, in characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
/// Longest search query, in characters.
pub const QUERY_MAX_CHARS: usize = 200;

/// Passwords that appear at the top of every breach list; refused outright
/// (OWASP ASVS asks to reject common passwords).
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "qwerty123",
    "iloveyou",
    "11111111",
    "00000000",
    "abcdefgh",
    "abc12345",
    "letmein1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "passw0rd",
    "trustno1",
    "superman",
    "starwars",
    "whatever",
    "chirpchirp",
];

/// Rejects characters that have no business in user text: NUL and other C0/C1
/// controls (PostgreSQL refuses NUL outright), except newline and tab where
/// `multiline` allows them.
fn check_controls(field: &'static str, s: &str, multiline: bool) -> Result<(), ValidationError> {
    let bad = s
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')));
    if bad {
        let what = if multiline {
            "must not contain control characters (newlines and tabs are fine)"
        } else {
            "must not contain control characters"
        };
        return Err(ValidationError::new(field, what));
    }
    Ok(())
}

/// Turns `\r\n` and lone `\r` into `\n`, so a tweet typed in a browser
/// textarea counts and stores the same as one sent by a script.
fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// A username: `^[A-Za-z0-9_]{3,30}$`. Compared case-insensitively; the
/// original spelling is kept for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let len = s.chars().count();
        if !(3..=30).contains(&len) {
            return Err(ValidationError::new(
                "username",
                "must be 3 to 30 characters long",
            ));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ValidationError::new(
                "username",
                "may contain only letters A-Z, digits and underscores",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and look-ups.
    pub fn lowercase(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A password as typed: 8–128 characters and not one of the most common.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let len = s.chars().count();
        if !PASSWORD_CHARS.contains(&len) {
            return Err(ValidationError::new(
                "password",
                format!(
                    "must be {} to {} characters long",
                    PASSWORD_CHARS.start(),
                    PASSWORD_CHARS.end()
                ),
            ));
        }
        if s.contains('\0') {
            return Err(ValidationError::new("password", "must not contain NUL"));
        }
        if COMMON_PASSWORDS.contains(&s.to_lowercase().as_str()) {
            return Err(ValidationError::new(
                "password",
                "is one of the most common passwords; choose another",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A display name: up to 50 characters on one line, surrounding blanks trimmed.
/// May be empty (the username is shown instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        check_controls("display_name", s, false)?;
        if s.chars().count() > DISPLAY_NAME_MAX_CHARS {
            return Err(ValidationError::new(
                "display_name",
                format!("must be at most {DISPLAY_NAME_MAX_CHARS} characters"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A profile bio: up to 160 characters, newlines allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bio(String);

impl Bio {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = normalize_newlines(s.trim());
        check_controls("bio", &s, true)?;
        if s.chars().count() > BIO_MAX_CHARS {
            return Err(ValidationError::new(
                "bio",
                format!("must be at most {BIO_MAX_CHARS} characters"),
            ));
        }
        Ok(Self(s))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Text a person writes to others (a tweet, a message): trimmed, newlines
/// normalized, not empty, no control characters but newlines and tabs, at
/// most `max` characters.
fn written_text(s: &str, max: usize) -> Result<String, ValidationError> {
    let s = normalize_newlines(s.trim());
    if s.is_empty() {
        return Err(ValidationError::new("text", "must not be empty"));
    }
    check_controls("text", &s, true)?;
    let len = s.chars().count();
    if len > max {
        return Err(ValidationError::new(
            "text",
            format!("must be at most {max} characters (got {len})"),
        ));
    }
    Ok(s)
}

/// The text of a tweet: 1–280 characters after trimming, newlines allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TweetText(String);

impl TweetText {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        written_text(s, TWEET_MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Longest direct message, in characters.
pub const MESSAGE_MAX_CHARS: usize = 1000;

/// The text of a direct message: 1–1000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        written_text(s, MESSAGE_MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A category slug: 1–40 of `a-z`, `0-9` and `-`, as it appears in `/c/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySlug(String);

impl CategorySlug {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let ok = (1..=40).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(ValidationError::new(
                "category",
                "a slug is 1 to 40 characters of a-z, 0-9 and '-'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A category's human name: 1–50 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryName(String);

impl CategoryName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        check_controls("name", s, false)?;
        if s.is_empty() || s.chars().count() > 50 {
            return Err(ValidationError::new("name", "must be 1 to 50 characters"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A category description: up to 280 characters.
pub fn parse_description(s: &str) -> Result<String, ValidationError> {
    let s = normalize_newlines(s.trim());
    check_controls("description", &s, true)?;
    if s.chars().count() > 280 {
        return Err(ValidationError::new(
            "description",
            "must be at most 280 characters",
        ));
    }
    Ok(s)
}

/// A free-text search query (`?q=`): trimmed, at most 200 characters, no
/// control characters. `None` when it is blank, meaning "no search".
pub fn parse_query(field: &'static str, s: &str) -> Result<Option<String>, ValidationError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    check_controls(field, s, false)?;
    if s.chars().count() > QUERY_MAX_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {QUERY_MAX_CHARS} characters"),
        ));
    }
    Ok(Some(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_pattern() {
        assert!(Username::parse("bob").is_ok());
        assert!(Username::parse("Alice_99").is_ok());
        assert!(Username::parse(&"a".repeat(30)).is_ok());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse("bob smith").is_err());
        assert!(Username::parse("bob-smith").is_err());
        assert!(Username::parse("bøb").is_err());
        assert!(Username::parse("bob\0").is_err());
    }

    #[test]
    fn usernames_compare_lowercased() {
        assert_eq!(
            Username::parse("AliCE").map(|u| u.lowercase()),
            Ok("alice".into())
        );
    }

    #[test]
    fn passwords_need_eight_to_128_characters() {
        assert!(Password::parse("correct horse").is_ok());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        // Counted in characters: eight emoji are eight characters.
        assert!(Password::parse("🐦🐦🐦🐦🐦🐦🐦🐦").is_ok());
    }

    #[test]
    fn common_passwords_are_refused() {
        assert!(Password::parse("password").is_err());
        assert!(Password::parse("PassWord123").is_err());
    }

    #[test]
    fn password_debug_hides_the_secret() {
        let p = Password::parse("a secret phrase").ok();
        assert!(!format!("{p:?}").contains("secret"));
    }

    #[test]
    fn tweet_text_counts_characters_not_bytes() {
        let cjk = "字".repeat(280);
        assert!(TweetText::parse(&cjk).is_ok());
        assert!(TweetText::parse(&"字".repeat(281)).is_err());
        assert!(TweetText::parse(&"🐦".repeat(280)).is_ok());
        assert!(TweetText::parse(&"a".repeat(281)).is_err());
    }

    #[test]
    fn tweet_text_is_trimmed_and_not_empty() {
        assert!(TweetText::parse("   ").is_err());
        assert_eq!(
            TweetText::parse("  hi  ").map(TweetText::into_inner),
            Ok("hi".to_owned())
        );
    }

    #[test]
    fn tweet_text_rejects_nul_but_keeps_newlines() {
        assert!(TweetText::parse("a\0b").is_err());
        assert!(TweetText::parse("a\u{7}b").is_err());
        assert_eq!(
            TweetText::parse("a\r\nb").map(TweetText::into_inner),
            Ok("a\nb".to_owned())
        );
    }

    #[test]
    fn display_names_are_one_line() {
        assert!(DisplayName::parse("Alice Liddell").is_ok());
        assert!(DisplayName::parse("two\nlines").is_err());
        assert!(DisplayName::parse(&"x".repeat(51)).is_err());
    }

    #[test]
    fn slugs_are_lowercase_words() {
        assert!(CategorySlug::parse("rust-lang").is_ok());
        assert!(CategorySlug::parse("Rust").is_err());
        assert!(CategorySlug::parse("").is_err());
        assert!(CategorySlug::parse("a/b").is_err());
    }

    #[test]
    fn blank_queries_mean_no_search() {
        assert_eq!(parse_query("q", "   "), Ok(None));
        assert_eq!(parse_query("q", " rust "), Ok(Some("rust".into())));
        assert!(parse_query("q", "a\0").is_err());
    }
}
