//! Counts with their nouns, said right: "1 follower", "3 followers",
//! "0 chirps". The web site's templates and the command line's summaries
//! both use [`plural`], so no page or message writes "(s)".

/// `n` and the noun for `n`: `one` for exactly one, `many` otherwise
/// (English counts zero as plural: "0 chirps").
pub fn plural<N: Count>(n: N, one: &str, many: &str) -> String {
    format!("{n} {}", noun(&n, one, many))
}

/// Just the noun for `n`, when the number is shown apart (in bold, say).
pub fn noun<'a, N: Count>(n: N, one: &'a str, many: &'a str) -> &'a str {
    if n.is_one() { one } else { many }
}

/// Any integer a count comes in (`i64` from the API, `usize` from a
/// `len()`), by reference too, as templates hold them.
pub trait Count: std::fmt::Display {
    fn is_one(&self) -> bool;
}

macro_rules! counts {
    ($($t:ty),*) => {$(
        impl Count for $t {
            fn is_one(&self) -> bool {
                *self == 1
            }
        }
    )*};
}

counts!(i32, i64, u32, u64, usize);

impl<N: Count> Count for &N {
    fn is_one(&self) -> bool {
        (**self).is_one()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(plural(1_i64, "follower", "followers"), "1 follower");
        assert_eq!(plural(0_i64, "follower", "followers"), "0 followers");
        assert_eq!(plural(3_usize, "category", "categories"), "3 categories");
        assert_eq!(plural(-1_i64, "character", "characters"), "-1 characters");
        assert_eq!(noun(1_u64, "reply", "replies"), "reply");
        assert_eq!(noun(2_u64, "reply", "replies"), "replies");
    }
}
