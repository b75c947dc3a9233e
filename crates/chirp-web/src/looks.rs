//! How people and times look on a card: a generated avatar (a coloured
//! circle with the name's first letter, the colour from a hash of the
//! username, so it is the same everywhere and needs no image service or
//! upload), and times said relatively ("5m", "2h") with the exact time in
//! the `<time>` element's `datetime` and `title`.

use chrono::{DateTime, Datelike, Utc};

/// What the templates draw an avatar from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    /// The circle's hue, 0–359. Saturation and lightness are fixed (50 %,
    /// 30 %) so white letters keep WCAG AA contrast on every hue.
    pub hue: u32,
    /// The username's first letter, upper-cased.
    pub initial: String,
}

/// The avatar of `username`: the same name always gets the same one, in
/// whatever case it is written.
pub fn avatar(username: &str) -> Avatar {
    let name = username.to_ascii_lowercase();
    // FNV-1a: tiny, stable across builds and platforms.
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    Avatar {
        hue: hash % 360,
        initial: name
            .chars()
            .next()
            .map_or_else(|| "?".to_owned(), |c| c.to_uppercase().collect()),
    }
}

/// `then` as a card says it, now.
pub fn ago(then: &DateTime<Utc>) -> String {
    ago_at(then, Utc::now())
}

/// `then` seen from `now`: "now", "5m", "2h", "3d", then the date
/// ("Mar 4", or "Mar 4, 2025" in another year).
pub fn ago_at(then: &DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - *then).num_seconds().max(0);
    match secs {
        0..60 => "now".to_owned(),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        86_400..604_800 => format!("{}d", secs / 86_400),
        _ if then.year() == now.year() => then.format("%b %-d").to_string(),
        _ => then.format("%b %-d, %Y").to_string(),
    }
}

/// The exact time, for the `title` a relative time shows on hover.
pub fn exact(then: &DateTime<Utc>) -> String {
    then.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn avatars_are_the_same_for_a_name_in_any_case() {
        assert_eq!(avatar("Ada"), avatar("ada"));
        assert_eq!(avatar("ada").initial, "A");
        assert_ne!(avatar("ada").hue, avatar("grace").hue);
        assert!(avatar("linus").hue < 360);
    }

    #[test]
    fn times_are_said_relatively_then_as_dates() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let at = |s: i64| ago_at(&(now - chrono::Duration::seconds(s)), now);
        assert_eq!(at(5), "now");
        assert_eq!(at(-30), "now", "a clock a little ahead is not the future");
        assert_eq!(at(5 * 60), "5m");
        assert_eq!(at(2 * 3600 + 59), "2h");
        assert_eq!(at(3 * 86_400), "3d");
        assert_eq!(at(30 * 86_400), "Nov 3");
        assert_eq!(at(400 * 86_400), "Oct 29, 2025");
    }
}
