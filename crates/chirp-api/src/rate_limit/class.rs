//! The seven limited classes of request, their default rates, and which
//! class a request falls in. Pure: no clock, no network.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use axum::http::{HeaderMap, Method};

/// What a client does that is counted, each with its own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `GET`s under `/api` with no session token (scrapers).
    Reads,
    /// `POST /api/sessions` (password guessing across accounts).
    Logins,
    /// `POST /api/accounts` (sign-up floods).
    Signups,
    /// `POST /api/tweets`, replies included (spam).
    Posts,
    /// `POST /api/tweets/{id}/likes`.
    Likes,
    /// `POST /api/messages`.
    Messages,
    /// `GET /api/notifications/stream` (each open holds a connection).
    Streams,
}

impl Class {
    pub const ALL: [Class; 7] = [
        Class::Reads,
        Class::Logins,
        Class::Signups,
        Class::Posts,
        Class::Likes,
        Class::Messages,
        Class::Streams,
    ];

    /// The name in `CHIRP_RATE_LIMIT_<NAME>`, `--rate-limit-<name>` and
    /// the Redis keys.
    pub fn name(self) -> &'static str {
        match self {
            Class::Reads => "reads",
            Class::Logins => "logins",
            Class::Signups => "signups",
            Class::Posts => "posts",
            Class::Likes => "likes",
            Class::Messages => "messages",
            Class::Streams => "streams",
        }
    }

    /// What a client did too often, for the 429's message.
    pub fn noun(self) -> &'static str {
        match self {
            Class::Reads => "anonymous API reads",
            Class::Logins => "log-ins",
            Class::Signups => "sign-ups",
            Class::Posts => "posts",
            Class::Likes => "likes",
            Class::Messages => "messages",
            Class::Streams => "notification stream opens",
        }
    }

    /// The default rate, per client address, modelled on Mastodon's
    /// (rack-attack: 300 unauthenticated API calls and 25 log-ins per 5
    /// minutes, 5 sign-ups per 30 minutes, 300 statuses per 3 hours).
    pub fn default_rate(self) -> Rate {
        let (count, secs) = match self {
            Class::Reads => (300, 5 * 60),
            Class::Logins => (25, 5 * 60),
            Class::Signups => (5, 30 * 60),
            Class::Posts => (300, 3 * 3600),
            Class::Likes => (1500, 5 * 60),
            Class::Messages => (300, 3 * 3600),
            Class::Streams => (60, 5 * 60),
        };
        Rate::new(count, Duration::from_secs(secs)).unwrap_or(Rate::ONE_PER_SECOND)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The class of a request to `path` (the route's pattern, like
    /// `/api/tweets/{id}/likes`), if it is limited. A `GET` counts as an
    /// anonymous read only when it carries no session token (header or
    /// cookie); a signed-in client's reads are not limited here.
    pub fn of(method: &Method, path: &str, headers: &HeaderMap) -> Option<Class> {
        if *method == Method::POST {
            return match path {
                "/api/sessions" => Some(Class::Logins),
                "/api/accounts" => Some(Class::Signups),
                "/api/tweets" => Some(Class::Posts),
                "/api/tweets/{id}/likes" => Some(Class::Likes),
                "/api/messages" => Some(Class::Messages),
                _ => None,
            };
        }
        if *method != Method::GET && *method != Method::HEAD {
            return None;
        }
        if path == "/api/notifications/stream" {
            return Some(Class::Streams);
        }
        let anonymous = !headers.contains_key(axum::http::header::AUTHORIZATION)
            && crate::auth::session_cookie(headers).is_none();
        (path.starts_with("/api/") && anonymous).then_some(Class::Reads)
    }
}

/// `count` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub period: Duration,
}

impl Rate {
    const ONE_PER_SECOND: Rate = Rate {
        count: NonZeroU32::MIN,
        period: Duration::from_secs(1),
    };

    /// At least one request per period of at least one second.
    pub fn new(count: u32, period: Duration) -> Option<Rate> {
        let count = NonZeroU32::new(count)?;
        (period >= Duration::from_secs(1) && count.get() <= 1_000_000)
            .then_some(Rate { count, period })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.period.as_secs();
        let (n, unit) = match secs {
            s if s % 86_400 == 0 => (s / 86_400, "d"),
            s if s % 3600 == 0 => (s / 3600, "h"),
            s if s % 60 == 0 => (s / 60, "min"),
            s => (s, "s"),
        };
        write!(f, "{}/{n}{unit}", self.count)
    }
}

/// One class's setting: a rate, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<Rate>);

/// A rate limit setting did not parse.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0:?} is not a rate limit: write COUNT/PERIOD, like 25/5min, 300/3h, 10/30s or 5/1d \
     (COUNT 1 to 1000000, PERIOD at least 1s), or `off`"
)]
pub struct BadLimit(String);

impl FromStr for Limit {
    type Err = BadLimit;

    fn from_str(text: &str) -> Result<Self, BadLimit> {
        let bad = || BadLimit(text.to_owned());
        let text_trimmed = text.trim();
        if text_trimmed.eq_ignore_ascii_case("off") {
            return Ok(Limit(None));
        }
        let (count, period) = text_trimmed.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = parse_period(period.trim()).ok_or_else(bad)?;
        Rate::new(count, period)
            .map(|r| Limit(Some(r)))
            .ok_or_else(bad)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(rate) => rate.fmt(f),
            None => f.write_str("off"),
        }
    }
}

/// `5min`, `3h`, `30s`, `1d`; a bare unit (`min`) is one of it.
fn parse_period(text: &str) -> Option<Duration> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = if n.is_empty() { 1 } else { n.parse().ok()? };
    let unit_secs = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        _ => return None,
    };
    n.checked_mul(unit_secs).map(Duration::from_secs)
}

/// Every class's setting. [`Default`] is on, with each class's
/// [`Class::default_rate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    rates: [Option<Rate>; 7],
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            rates: Class::ALL.map(|c| Some(c.default_rate())),
        }
    }
}

impl RateLimits {
    /// No class limited (`CHIRP_RATE_LIMIT=off`: benchmarks, test suites).
    pub fn off() -> Self {
        Self { rates: [None; 7] }
    }

    /// The rate of `class`, `None` when it is off.
    pub fn rate(&self, class: Class) -> Option<Rate> {
        self.rates[class.index()]
    }

    /// Sets one class.
    #[must_use]
    pub fn with(mut self, class: Class, limit: Limit) -> Self {
        self.rates[class.index()] = limit.0;
        self
    }

    /// Whether any class is limited.
    pub fn any(&self) -> bool {
        self.rates.iter().any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn limit(s: &str) -> Option<Rate> {
        s.parse::<Limit>().expect("a limit").0
    }

    #[test]
    fn limits_are_count_slash_period_or_off() {
        let r = limit("25/5min").expect("on");
        assert_eq!((r.count.get(), r.period), (25, Duration::from_secs(300)));
        assert_eq!(limit("300/3h").map(|r| r.period.as_secs()), Some(3 * 3600));
        assert_eq!(limit("60/min").map(|r| r.period.as_secs()), Some(60));
        assert_eq!(limit("5/1d").map(|r| r.period.as_secs()), Some(86_400));
        assert_eq!(limit(" 10 / 30s ").map(|r| r.count.get()), Some(10));
        assert_eq!(limit("off"), None);
        assert_eq!(limit("OFF"), None);
    }

    #[test]
    fn bad_limits_are_refused_with_an_example() {
        for bad in [
            "",
            "25",
            "25/",
            "/5min",
            "0/5min",
            "-1/5min",
            "25/5",
            "25/5y",
            "25/0s",
            "x/5min",
            "25/5min/2",
            "2000000/1h",
            "on",
        ] {
            let e = bad.parse::<Limit>().expect_err(bad);
            assert!(e.to_string().contains("25/5min"), "{e}");
        }
    }

    #[test]
    fn a_rate_is_shown_as_it_is_written() {
        for s in ["25/5min", "300/3h", "5/30min", "10/30s", "5/1d", "off"] {
            assert_eq!(s.parse::<Limit>().expect(s).to_string(), s);
        }
    }

    #[test]
    fn the_defaults_are_mastodons() {
        let d = RateLimits::default();
        let shown = |c| d.rate(c).map(|r| r.to_string());
        assert_eq!(shown(Class::Reads).as_deref(), Some("300/5min"));
        assert_eq!(shown(Class::Logins).as_deref(), Some("25/5min"));
        assert_eq!(shown(Class::Signups).as_deref(), Some("5/30min"));
        assert_eq!(shown(Class::Posts).as_deref(), Some("300/3h"));
        assert_eq!(shown(Class::Likes).as_deref(), Some("1500/5min"));
        assert_eq!(shown(Class::Messages).as_deref(), Some("300/3h"));
        assert_eq!(shown(Class::Streams).as_deref(), Some("60/5min"));
        assert!(!RateLimits::off().any());
    }

    #[test]
    fn requests_fall_in_their_class() {
        let none = HeaderMap::new();
        let of = |m: &Method, p: &str, h: &HeaderMap| Class::of(m, p, h);
        assert_eq!(
            of(&Method::POST, "/api/sessions", &none),
            Some(Class::Logins)
        );
        assert_eq!(
            of(&Method::POST, "/api/accounts", &none),
            Some(Class::Signups)
        );
        assert_eq!(of(&Method::POST, "/api/tweets", &none), Some(Class::Posts));
        let like = "/api/tweets/{id}/likes";
        assert_eq!(of(&Method::POST, like, &none), Some(Class::Likes));
        assert_eq!(
            of(&Method::POST, "/api/messages", &none),
            Some(Class::Messages)
        );
        let stream = "/api/notifications/stream";
        assert_eq!(of(&Method::GET, stream, &none), Some(Class::Streams));
        assert_eq!(of(&Method::GET, "/api/tweets", &none), Some(Class::Reads));
        assert_eq!(of(&Method::PATCH, "/api/tweets/{id}", &none), None);
        assert_eq!(of(&Method::DELETE, "/api/sessions/current", &none), None);
        let mut signed_in = HeaderMap::new();
        signed_in.insert("authorization", HeaderValue::from_static("Bearer t"));
        assert_eq!(of(&Method::GET, "/api/tweets", &signed_in), None);
        let mut cookie = HeaderMap::new();
        cookie.insert("cookie", HeaderValue::from_static("chirp_session=t"));
        assert_eq!(of(&Method::GET, "/api/tweets", &cookie), None);
        assert_eq!(of(&Method::GET, "/healthz", &none), None);
    }
}
