//! List paging: `?limit=` (1–100, default 20) and opaque keyset cursors.
//!
//! Every list in chirp is ordered by a unique integer key (newest first), so
//! a cursor is "continue below this key". It is encoded so clients treat it
//! as opaque and we stay free to change what it holds.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ValidationError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// A cursor's first byte, its format's version; bumped if the format ever
/// changes. The key follows as 8 bytes, big-endian, and the 9 bytes are
/// URL-safe base64 without padding: 12 characters, every string of
/// [`CURSOR_PATTERN`] a cursor and nothing else, so the OpenAPI document
/// can say exactly which cursors the server takes.
const CURSOR_VERSION: u8 = 1;

/// Exactly the strings [`Page::parse`] accepts as a cursor: empty (the
/// first page) or what [`decode_cursor`] accepts: `A` and one of `Q`–`Z`,
/// `a`–`f` are the version byte 1 (and the key's top four bits), then ten
/// base64url characters.
pub const CURSOR_PATTERN: &str = "^(?:A[Q-Za-f][A-Za-z0-9_-]{10})?$";

/// One page request: how many items, and below which key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    /// Exclusive upper bound of the key; `None` starts at the newest.
    pub before: Option<i64>,
}

impl Page {
    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            before: None,
        }
    }

    /// Parses the raw `limit` and `cursor` query values.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, ValidationError> {
        let limit = match limit {
            // `limit=` (empty) is not a number: the document says integer.
            None => DEFAULT_LIMIT,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(ValidationError::new(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ));
                }
            },
        };
        let before = match cursor {
            None | Some("") => None,
            Some(c) => Some(decode_cursor(c)?),
        };
        Ok(Self { limit, before })
    }

    /// What to ask the database for: one more row than the page shows, so we
    /// know whether another page follows without counting.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// The upper bound as a SQL parameter (`i64::MAX` when unbounded).
    pub fn before_key(&self) -> i64 {
        self.before.unwrap_or(i64::MAX)
    }

    /// Cuts a fetched batch (of up to `fetch_limit` rows) down to the page and
    /// computes the cursor of the next one from the key of its last item.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> i64) -> Paged<T> {
        let limit = self.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| encode_cursor(key(r)))
        } else {
            None
        };
        Paged {
            items: rows,
            next_cursor,
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::first(DEFAULT_LIMIT)
    }
}

/// A page of results with the cursor that continues it (`null` on the last page).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

pub fn encode_cursor(key: i64) -> String {
    let mut bytes = [0u8; 9];
    bytes[0] = CURSOR_VERSION;
    bytes[1..].copy_from_slice(&key.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode_cursor(cursor: &str) -> Result<i64, ValidationError> {
    let bad = || ValidationError::new("cursor", "is not a cursor this server handed out");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    match bytes.split_first() {
        Some((&CURSOR_VERSION, key)) => key.try_into().map(i64::from_be_bytes).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_to_twenty_and_stays_in_bounds() {
        assert_eq!(Page::parse(None, None).map(|p| p.limit), Ok(20));
        assert_eq!(Page::parse(Some("100"), None).map(|p| p.limit), Ok(100));
        assert_eq!(Page::parse(Some("1"), None).map(|p| p.limit), Ok(1));
        for bad in ["", "0", "101", "-1", "ten", "1.5", "99999999999"] {
            assert!(Page::parse(Some(bad), None).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn cursors_round_trip() {
        let c = encode_cursor(12345);
        assert_eq!(decode_cursor(&c), Ok(12345));
        assert_eq!(
            Page::parse(None, Some(&c)).map(|p| p.before),
            Ok(Some(12345))
        );
    }

    #[test]
    fn forged_cursors_are_rejected() {
        assert!(decode_cursor("12345").is_err());
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("k1:abc")).is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode([2u8; 9])).is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode([1u8; 10])).is_err());
        assert!(decode_cursor("AQAAAAAAAAAAAA==").is_err());
    }

    /// The OpenAPI document states [`CURSOR_PATTERN`]; a cursor the
    /// server hands out matches it, and every string of its shape is one.
    #[test]
    fn cursors_are_exactly_the_strings_of_the_pattern() {
        let shape = |c: &str| {
            let b = c.as_bytes();
            b.len() == 12
                && b[0] == b'A'
                && matches!(b[1], b'Q'..=b'Z' | b'a'..=b'f')
                && b[2..]
                    .iter()
                    .all(|&x| x.is_ascii_alphanumeric() || x == b'-' || x == b'_')
        };
        for key in [0, 1, 8, 12345, -1, i64::MIN, i64::MAX] {
            let c = encode_cursor(key);
            assert!(shape(&c), "{c}");
            assert_eq!(decode_cursor(&c), Ok(key));
        }
        for c in [
            "AQAAAAAAAAAA",
            "AfAAAAAAAAAA",
            "AZ-_zzzzzzzz",
            "Aa0123456789",
        ] {
            assert!(shape(c) && decode_cursor(c).is_ok(), "{c}");
        }
        for c in [
            "AP__________",
            "Ag__________",
            "BQAAAAAAAAAA",
            "AQAAAAAAAAA",
        ] {
            assert!(decode_cursor(c).is_err(), "{c}");
        }
    }

    #[test]
    fn finish_sets_a_cursor_only_when_more_rows_exist() {
        let page = Page::first(2);
        let full = page.finish(vec![9, 8, 7], |&k| k);
        assert_eq!(full.items, vec![9, 8]);
        assert_eq!(full.next_cursor, Some(encode_cursor(8)));
        let last = page.finish(vec![9, 8], |&k| k);
        assert_eq!(last.next_cursor, None);
    }
}
