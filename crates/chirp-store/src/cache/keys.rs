//! How the read cache names what it stores: entry keys and generation
//! scopes, built field by field.
//!
//! A key is a kind followed by `|name=value` fields in a fixed order. Text
//! values are length-prefixed (`|author=5:alice`), so no value can end a
//! field early or fake another one: `q=a|tag=x` is one field of 9 bytes,
//! never a query `a` and a tag `x`. Numbers are written as they are, and an
//! absent optional field is left out, which is distinct from every value.
//! Nothing here comes from `Debug` output, whose form may change.

use std::fmt::Write;

use chirp_core::page::Page;

use crate::TweetFilter;

/// A key under construction.
pub(crate) struct Key(String);

impl Key {
    pub(crate) fn new(kind: &'static str) -> Self {
        Self(kind.to_owned())
    }

    pub(crate) fn text(mut self, name: &'static str, value: &str) -> Self {
        let _ = write!(self.0, "|{name}={}:{value}", value.len());
        self
    }

    pub(crate) fn int(mut self, name: &'static str, value: i64) -> Self {
        let _ = write!(self.0, "|{name}={value}");
        self
    }

    pub(crate) fn opt_text(self, name: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.text(name, v),
            None => self,
        }
    }

    pub(crate) fn opt_int(self, name: &'static str, value: Option<i64>) -> Self {
        match value {
            Some(v) => self.int(name, v),
            None => self,
        }
    }

    pub(crate) fn page(self, page: Page) -> Self {
        self.int("limit", i64::from(page.limit))
            .opt_int("before", page.before)
    }

    /// The finished key, under the cache's namespace.
    pub(crate) fn under(self, prefix: &str) -> String {
        format!("{prefix}{}", self.0)
    }
}

/// The list of tweets `filter` selects, one page of it.
pub(crate) fn tweet_list(filter: &TweetFilter, page: Page) -> Key {
    let author = filter.author.as_ref().map(|a| a.lowercase());
    Key::new("l:tweets")
        .opt_text("author", author.as_deref())
        .opt_text("tag", filter.hashtag.as_deref())
        .opt_text("category", filter.category.as_ref().map(|c| c.as_str()))
        .opt_text("q", filter.search.as_deref())
        .opt_int("reply_to", filter.reply_to)
        .opt_int("home_of", filter.home_of)
        .opt_int("viewer", filter.viewer)
        .page(page)
}

/// Whether an account may see any protected account's tweets (see
/// `SocialStore::sees_protected`).
pub(crate) fn sees_protected(account: i64) -> Key {
    Key::new("l:sees-protected").int("of", account)
}

/// The accounts matching `query` (all when `None`).
pub(crate) fn account_list(query: Option<&str>, page: Page) -> Key {
    Key::new("l:accounts").opt_text("q", query).page(page)
}

pub(crate) fn followers_list(account: i64, page: Page) -> Key {
    Key::new("l:followers").int("of", account).page(page)
}

pub(crate) fn following_list(account: i64, page: Page) -> Key {
    Key::new("l:following").int("of", account).page(page)
}

pub(crate) fn hashtag_counts(prefix: &str, limit: u32) -> Key {
    Key::new("l:tags")
        .text("prefix", prefix)
        .int("limit", i64::from(limit))
}

pub(crate) fn category_list(page: Page) -> Key {
    Key::new("l:categories").page(page)
}

/// Whose tweets a home timeline shows (see `CachedStore::home_authors`).
pub(crate) fn home_authors(account: i64) -> Key {
    Key::new("l:home-authors").int("of", account)
}

/// The generation scopes: what a write bumps and a list depends on.
pub(crate) mod scope {
    use super::Key;

    /// The public timeline (no filter).
    pub(crate) fn public() -> Key {
        Key::new("g:public")
    }

    /// Tweets by one author (lower-case name): the user timeline, `?author=`,
    /// and the home timelines that show them.
    pub(crate) fn author(name_lower: &str) -> Key {
        Key::new("g:author").text("name", name_lower)
    }

    pub(crate) fn hashtag(tag: &str) -> Key {
        Key::new("g:tag").text("tag", tag)
    }

    pub(crate) fn category(slug: &str) -> Key {
        Key::new("g:category").text("slug", slug)
    }

    /// Every full-text search: any new or edited tweet may match any query.
    pub(crate) fn search() -> Key {
        Key::new("g:search")
    }

    pub(crate) fn replies(parent: i64) -> Key {
        Key::new("g:replies").int("to", parent)
    }

    /// Who follows `account`.
    pub(crate) fn followers(account: i64) -> Key {
        Key::new("g:followers").int("of", account)
    }

    /// Whom `account` follows: its following list and its home timeline's
    /// set of authors.
    pub(crate) fn following(account: i64) -> Key {
        Key::new("g:following").int("of", account)
    }

    /// The account list and account search.
    pub(crate) fn accounts() -> Key {
        Key::new("g:accounts")
    }

    pub(crate) fn categories() -> Key {
        Key::new("g:categories")
    }

    /// Hashtag counts.
    pub(crate) fn hashtag_counts() -> Key {
        Key::new("g:tag-counts")
    }

    /// Who may see which account's tweets: bumped when an account turns
    /// protected or public, which changes what every list of tweets may
    /// show, so every one of them depends on it.
    pub(crate) fn visibility() -> Key {
        Key::new("g:visibility")
    }
}

#[cfg(test)]
mod tests {
    use chirp_core::text::{CategorySlug, Username};

    use super::*;

    fn filter(
        author: Option<&str>,
        hashtag: Option<&str>,
        category: Option<&str>,
        search: Option<&str>,
        reply_to: Option<i64>,
        home_of: Option<i64>,
    ) -> TweetFilter {
        TweetFilter {
            author: author.map(|a| Username::parse(a).expect("name")),
            hashtag: hashtag.map(str::to_owned),
            category: category.map(|c| CategorySlug::parse(c).expect("slug")),
            search: search.map(str::to_owned),
            reply_to,
            home_of,
            viewer: None,
        }
    }

    /// What identifies a filter, for comparing two of them.
    #[expect(clippy::type_complexity, reason = "a tuple of the fields, for tests")]
    fn identity(
        f: &TweetFilter,
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<i64>,
    ) {
        (
            f.author.as_ref().map(|a| a.lowercase()),
            f.hashtag.clone(),
            f.category.as_ref().map(|c| c.as_str().to_owned()),
            f.search.clone(),
            f.reply_to,
            f.home_of,
        )
    }

    #[test]
    fn different_tweet_filters_never_share_a_key() {
        // Values chosen to look like the encoding itself.
        let texts = [
            None,
            Some("a"),
            Some("abc"),
            Some("a|tag=1:x"),
            Some("3:abc"),
            Some("x&author=bob"),
            Some(""),
        ];
        let authors = [None, Some("abc"), Some("ABC"), Some("bob")];
        let slugs = [None, Some("abc"), Some("a-b")];
        let ids = [None, Some(1), Some(12), Some(-1)];
        let mut seen = std::collections::HashMap::new();
        for author in authors {
            for tag in texts {
                for slug in slugs {
                    for q in texts {
                        for reply in ids {
                            for home in [None, Some(1)] {
                                let f = filter(author, tag, slug, q, reply, home);
                                let key = tweet_list(&f, Page::first(20)).under("p:");
                                if let Some(earlier) = seen.insert(key, identity(&f)) {
                                    assert_eq!(earlier, identity(&f), "two filters share a key");
                                }
                            }
                        }
                    }
                }
            }
        }
        // Author names differ only in case once; every other filter got a key of its own.
        assert_eq!(seen.len(), 3 * 7 * 3 * 7 * 4 * 2);
    }

    #[test]
    fn each_viewer_gets_keys_of_its_own() {
        let anonymous = filter(None, None, None, None, None, Some(1));
        let mut viewed = anonymous.clone();
        viewed.viewer = Some(1);
        assert_ne!(
            tweet_list(&anonymous, Page::first(20)).under(""),
            tweet_list(&viewed, Page::first(20)).under("")
        );
    }

    #[test]
    fn author_keys_ignore_letter_case() {
        let lower = filter(Some("alice"), None, None, None, None, None);
        let upper = filter(Some("ALICE"), None, None, None, None, None);
        assert_eq!(
            tweet_list(&lower, Page::first(20)).under(""),
            tweet_list(&upper, Page::first(20)).under("")
        );
    }

    #[test]
    fn pages_get_keys_of_their_own() {
        let f = TweetFilter::default();
        let keys = [
            tweet_list(&f, Page::first(20)).under(""),
            tweet_list(&f, Page::first(2)).under(""),
            tweet_list(
                &f,
                Page {
                    limit: 20,
                    before: Some(0),
                },
            )
            .under(""),
            tweet_list(
                &f,
                Page {
                    limit: 2,
                    before: Some(0),
                },
            )
            .under(""),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn text_values_cannot_fake_a_field() {
        // A query that spells out a tag field stays one query.
        let fake = filter(None, None, None, Some("a|tag=1:x"), None, None);
        let real = filter(None, Some("x"), None, Some("a"), None, None);
        assert_ne!(
            tweet_list(&fake, Page::first(20)).under(""),
            tweet_list(&real, Page::first(20)).under("")
        );
        assert_ne!(
            account_list(Some("a|limit=20"), Page::first(20)).under(""),
            account_list(Some("a"), Page::first(20)).under("")
        );
        assert_ne!(
            hashtag_counts("ab", 1).under(""),
            hashtag_counts("a", 1).under("")
        );
    }

    #[test]
    fn lists_and_scopes_of_different_kinds_do_not_collide() {
        let page = Page::first(20);
        let keys = [
            account_list(None, page).under(""),
            followers_list(1, page).under(""),
            following_list(1, page).under(""),
            category_list(page).under(""),
            hashtag_counts("", 20).under(""),
            home_authors(1).under(""),
            sees_protected(1).under(""),
            tweet_list(&TweetFilter::default(), page).under(""),
            scope::public().under(""),
            scope::author("a").under(""),
            scope::hashtag("a").under(""),
            scope::category("a").under(""),
            scope::search().under(""),
            scope::replies(1).under(""),
            scope::followers(1).under(""),
            scope::following(1).under(""),
            scope::accounts().under(""),
            scope::categories().under(""),
            scope::hashtag_counts().under(""),
            scope::visibility().under(""),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
