//! Tweet text: the length rule, hashtags and mentions.
#![no_main]

use chirp_core::hashtags::{
    extract_hashtags, extract_mentions, hashtag_spans, mention_spans, parse_tag,
};
use chirp_core::text::{TWEET_MAX_CHARS, TweetText};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    // Parsing is idempotent, and what it keeps obeys the rules it checks.
    if let Ok(t) = TweetText::parse(text) {
        let s = t.as_str();
        assert!(!s.is_empty());
        assert!(s.chars().count() <= TWEET_MAX_CHARS);
        assert_eq!(s, s.trim());
        assert!(!s.contains('\r'));
        assert_eq!(TweetText::parse(s).map(TweetText::into_inner).as_deref(), Ok(s));
    }
    // Spans are where they say, in order, not overlapping, sigil first.
    for (spans, sigil) in [(hashtag_spans(text), '#'), (mention_spans(text), '@')] {
        let mut last_end = 0;
        for span in spans {
            assert!(span.start >= last_end && span.start < span.end);
            assert_eq!(text[span.start..].chars().next(), Some(sigil));
            assert_eq!(&text[span.start + 1..span.end], span.word);
            last_end = span.end;
        }
    }
    // Every hashtag found in a text can be looked up as a tag (`/tags/x`,
    // `?hashtag=x`), is lower case, and each of its characters is the
    // lower case of one of the text's.
    let tags = extract_hashtags(text);
    let lower: String = text.chars().flat_map(char::to_lowercase).collect();
    for tag in &tags {
        assert_eq!(parse_tag("hashtag", tag, false).as_deref(), Ok(tag.as_str()));
        assert!(!tag.is_empty() && tag.chars().count() <= 100);
        assert!(tag.chars().all(|c| lower.contains(c)), "{tag:?} not in {text:?}");
    }
    let mut unique = tags.clone();
    unique.dedup();
    assert_eq!(unique.len(), tags.len());
    for name in extract_mentions(text) {
        assert!((3..=30).contains(&name.len()));
        assert!(text.to_ascii_lowercase().contains(&format!("@{name}")));
    }
});
