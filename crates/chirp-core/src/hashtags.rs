//! Finding `#hashtags` and `@mentions` in tweet text.
//!
//! A hashtag is `#` followed by letters, digits or `_` (any script), and
//! counts only where `#` does not follow a word character, so `C#` and
//! `issue#12` are not tags. Tags are compared and reported in lower case.

use crate::ValidationError;

/// Longest tag we index; longer runs are cut (a tag is a label, not prose).
pub const TAG_MAX_CHARS: usize = 100;

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where a `#tag` or `@name` sits in the text, as byte offsets (`start` is
/// the sigil), with the word after the sigil.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span<'a> {
    pub start: usize,
    pub end: usize,
    pub word: &'a str,
}

/// Every `sigil` + word in `text` whose sigil does not follow a word character.
fn spans<'a>(text: &'a str, sigil: char, word_char: fn(char) -> bool) -> Vec<Span<'a>> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == sigil && !prev.is_some_and(is_tag_char) {
            let start_word = i + c.len_utf8();
            let mut end = start_word;
            while let Some(&(j, d)) = iter.peek() {
                if !word_char(d) {
                    break;
                }
                end = j + d.len_utf8();
                iter.next();
            }
            if end > start_word {
                out.push(Span {
                    start: i,
                    end,
                    word: &text[start_word..end],
                });
                prev = text[..end].chars().next_back();
                continue;
            }
        }
        prev = Some(c);
    }
    out
}

/// The hashtags of `text` with their positions, in order of appearance.
pub fn hashtag_spans(text: &str) -> Vec<Span<'_>> {
    spans(text, '#', is_tag_char)
}

/// The `@username` mentions of `text` with their positions.
pub fn mention_spans(text: &str) -> Vec<Span<'_>> {
    spans(text, '@', |c| c.is_ascii_alphanumeric() || c == '_')
        .into_iter()
        .filter(|s| (3..=30).contains(&s.word.len()))
        .collect()
}

/// The distinct hashtags of `text`, lower-cased, in order of first appearance.
pub fn extract_hashtags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for span in hashtag_spans(text) {
        let tag = fold(span.word);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

/// The distinct usernames mentioned in `text`, lower-cased.
pub fn extract_mentions(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for span in mention_spans(text) {
        let name = span.word.to_ascii_lowercase();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Parses a tag given on its own (`?hashtag=Rust`, `/tags/rust`, a prefix
/// search): an optional leading `#`, then tag characters only. Returns it
/// lower-cased. An empty tag is allowed only when `allow_empty` (prefix search).
pub fn parse_tag(
    field: &'static str,
    s: &str,
    allow_empty: bool,
) -> Result<String, ValidationError> {
    let s = s.trim();
    let s = s.strip_prefix('#').unwrap_or(s);
    if s.is_empty() && !allow_empty {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if !s.chars().all(is_tag_char) || s.chars().count() > TAG_MAX_CHARS {
        return Err(ValidationError::new(
            field,
            format!("a hashtag is up to {TAG_MAX_CHARS} letters, digits or underscores"),
        ));
    }
    Ok(fold(s))
}

/// A tag's one spelling: each character lower-cased on its own, keeping
/// tag characters only. `İ` lower-cases to `i` and a combining dot, which
/// is not a tag character: kept, the tag found in a tweet could not be
/// looked up (`/tags/...` refused it; found by fuzzing). Character by
/// character, so a Greek `Σ` lower-cases the same wherever the word is cut.
fn fold(word: &str) -> String {
    word.chars()
        .take(TAG_MAX_CHARS)
        .flat_map(char::to_lowercase)
        .filter(|&c| is_tag_char(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hashtag_found_in_a_text_can_be_looked_up() {
        // The fuzzer's case (fuzz/tweet_text): `İ` lower-cases to `i` + U+0307.
        for text in ["#ÜİXce", "#İstanbul", "#ΣΟΦΙΑΣ", "#ΑΣ"] {
            for tag in extract_hashtags(text) {
                assert_eq!(parse_tag("hashtag", &tag, false), Ok(tag.clone()), "{text}");
            }
        }
        assert_eq!(extract_hashtags("#İstanbul"), vec!["istanbul"]);
        assert_eq!(parse_tag("q", "İstanbul", false), Ok("istanbul".into()));
    }

    #[test]
    fn finds_tags_in_order_lowercased_and_deduplicated() {
        assert_eq!(
            extract_hashtags("#Rust is great, #rust #Tokio!"),
            vec!["rust", "tokio"]
        );
    }

    #[test]
    fn tags_may_be_in_any_script() {
        assert_eq!(
            extract_hashtags("#東京 #Ünïcode_1"),
            vec!["東京", "ünïcode_1"]
        );
    }

    #[test]
    fn sigil_after_a_word_character_is_not_a_tag() {
        assert!(extract_hashtags("C# and issue#12").is_empty());
        assert_eq!(extract_hashtags("(#a)"), vec!["a"]);
    }

    #[test]
    fn lone_or_doubled_sigils_are_ignored() {
        assert!(extract_hashtags("# #").is_empty());
        assert_eq!(extract_hashtags("##tag"), vec!["tag"]);
    }

    #[test]
    fn tags_stop_at_punctuation() {
        assert_eq!(
            extract_hashtags("#one,#two.#three-four"),
            vec!["one", "two", "three"]
        );
    }

    #[test]
    fn very_long_tags_are_cut() {
        let long = format!("#{}", "a".repeat(150));
        assert_eq!(extract_hashtags(&long)[0].len(), TAG_MAX_CHARS);
    }

    #[test]
    fn spans_point_at_the_sigil() {
        let text = "hi #there you";
        let s = &hashtag_spans(text)[0];
        assert_eq!(&text[s.start..s.end], "#there");
    }

    #[test]
    fn mentions_are_usernames() {
        assert_eq!(
            extract_mentions("hey @Alice and @bob_2, not me@mail.com or @ab"),
            vec!["alice", "bob_2"]
        );
    }

    #[test]
    fn parse_tag_accepts_an_optional_hash() {
        assert_eq!(parse_tag("hashtag", "#Rust", false), Ok("rust".into()));
        assert!(parse_tag("hashtag", "no spaces", false).is_err());
        assert!(parse_tag("hashtag", "", false).is_err());
        assert_eq!(parse_tag("q", "", true), Ok(String::new()));
    }
}
