//! The `chirp script` parser (crates/chirp-cli/src/script/parse.rs, included
//! by path because chirp-cli is a binary only).
#![no_main]
// With RUSTC_BOOTSTRAP (cargo-fuzz on stable) the unstable `str::as_str`
// is visible and the included parser's `String::as_str` calls need it.
#![feature(str_as_str)]

#[path = "../../crates/chirp-cli/src/script/parse.rs"]
#[allow(dead_code)]
mod parse;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| {
    let lines = source.lines().count();
    match parse::parse(source) {
        // Every command comes from a real line, in order.
        Ok(parsed) => {
            let mut last = 0;
            for line in &parsed {
                assert!(line.number > last && line.number <= lines);
                last = line.number;
            }
        }
        // Every error names a real line and says something.
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(e.line >= 1 && e.line <= lines, "{e:?} of {lines} lines");
                assert!(!e.message.is_empty());
            }
        }
    }
});
