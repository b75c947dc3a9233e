//! Pagination: `?limit=` and `?cursor=`.
#![no_main]

use chirp_core::page::{MAX_LIMIT, Page, decode_cursor, encode_cursor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, i64)| {
    let (limit, cursor, key) = input;
    // A key survives the trip through a cursor.
    assert_eq!(decode_cursor(&encode_cursor(key)), Ok(key));
    // A cursor the server takes is the one it would hand out for its key:
    // one spelling per key, 12 characters.
    if let Ok(k) = decode_cursor(cursor) {
        assert_eq!(encode_cursor(k), cursor);
        assert_eq!(cursor.len(), 12);
    }
    if let Ok(page) = Page::parse(Some(limit), Some(cursor)) {
        assert!((1..=MAX_LIMIT).contains(&page.limit));
        assert_eq!(page.fetch_limit(), i64::from(page.limit) + 1);
        assert_eq!(page.before, decode_cursor(cursor).ok());
    }
});
