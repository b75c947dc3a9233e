//! The site's words for what the API says. The API names its resource
//! "tweet" (it is `/api/tweets`); the site calls them chirps, so a
//! message from the API is shown in the site's words, never as the
//! API's. Counts with nouns use [`chirp_core::words::plural`].

use chirp_client::ClientError;
use chirp_core::words::plural;

/// What a compose box's counter says under `text` for a limit of `max`:
/// "280 characters left", "1 character left", "1 character too many".
/// Counted as the server counts (chirp-core's `TweetText`): code points of
/// the trimmed text, a "\r\n" as one newline. `chirp.js` says the same
/// as you type.
pub fn characters_left(max: usize, text: &str) -> String {
    let used = text
        .trim()
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .count();
    match max.checked_sub(used) {
        Some(left) => format!("{} left", plural(left, "character", "characters")),
        None => format!("{} too many", plural(used - max, "character", "characters")),
    }
}

/// `err`'s message as the site shows it: "tweet" said as "chirp".
pub fn say(err: &ClientError) -> String {
    in_site_words(&err.to_string())
}

/// `message` with every whole word "tweet" or "tweets" (any case) said as
/// "chirp", "chirps"; other words that merely contain it are kept.
pub fn in_site_words(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let said = match word.as_str() {
            "tweet" => "chirp",
            "tweets" => "chirps",
            "Tweet" => "Chirp",
            "Tweets" => "Chirps",
            other => other,
        };
        out.push_str(said);
        word.clear();
    };
    for c in message.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::{characters_left, in_site_words};

    #[test]
    fn the_counter_says_left_or_too_many_with_plurals() {
        assert_eq!(characters_left(280, ""), "280 characters left");
        assert_eq!(characters_left(280, &"x".repeat(279)), "1 character left");
        assert_eq!(characters_left(280, &"é".repeat(280)), "0 characters left");
        assert_eq!(
            characters_left(280, &"x".repeat(281)),
            "1 character too many"
        );
        assert_eq!(characters_left(3, " a\r\nb "), "0 characters left");
        assert_eq!(characters_left(2, "abcd"), "2 characters too many");
    }

    #[test]
    fn tweets_are_called_chirps() {
        assert_eq!(in_site_words("tweet not found"), "chirp not found");
        assert_eq!(
            in_site_words("Tweets longer than 280: no tweet_id, retweet"),
            "Chirps longer than 280: no tweet_id, retweet"
        );
    }
}
