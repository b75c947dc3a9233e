//! Tweet text cut into pieces so templates can link `#tags` and
//! `@mentions` while every piece is still escaped by askama (no `|safe`).

use chirp_core::hashtags::{hashtag_spans, mention_spans};
use chirp_core::model::Tweet;

/// One run of tweet text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Plain text.
    Text(String),
    /// `#Tag` as written, and the lower-case tag its page is at.
    Tag(String, String),
    /// `@name` as written, and the username.
    Mention(String, String),
}

/// `text` as plain runs, hashtags and mentions, in order.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut marks: Vec<(usize, usize, Piece)> = hashtag_spans(text)
        .into_iter()
        .map(|s| {
            let label = text[s.start..s.end].to_owned();
            (s.start, s.end, Piece::Tag(label, s.word.to_lowercase()))
        })
        .chain(mention_spans(text).into_iter().map(|s| {
            let label = text[s.start..s.end].to_owned();
            (s.start, s.end, Piece::Mention(label, s.word.to_owned()))
        }))
        .collect();
    marks.sort_by_key(|m| m.0);
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end, piece) in marks {
        if start < at {
            continue; // overlapping marks cannot happen, but never panic on one
        }
        if start > at {
            out.push(Piece::Text(text[at..start].to_owned()));
        }
        out.push(piece);
        at = end;
    }
    if at < text.len() {
        out.push(Piece::Text(text[at..].to_owned()));
    }
    out
}

/// Lets templates write `t.pieces()`.
pub trait RichText {
    fn pieces(&self) -> Vec<Piece>;
}

impl RichText for Tweet {
    fn pieces(&self) -> Vec<Piece> {
        pieces(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_mentions_are_cut_out() {
        assert_eq!(
            pieces("hi #Rust and @bob_1!"),
            vec![
                Piece::Text("hi ".into()),
                Piece::Tag("#Rust".into(), "rust".into()),
                Piece::Text(" and ".into()),
                Piece::Mention("@bob_1".into(), "bob_1".into()),
                Piece::Text("!".into()),
            ]
        );
        assert_eq!(pieces("C# <b>"), vec![Piece::Text("C# <b>".into())]);
    }
}
