//! The command line and configuration: every flag has a `CHIRP_` variable.

use std::net::SocketAddr;
use std::time::Duration;

use std::path::PathBuf;

use chirp_api::rate_limit::class::{Class, Limit, RateLimits};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// The command line of `chirp`.
#[derive(Debug, Parser)]
#[command(
    name = "chirp",
    version,
    about = "chirp: a Twitter-like social network that stays fast when it gets popular",
    long_about = "chirp: a Twitter-like social network that stays fast when it gets popular.\n\n\
                  With no command, runs `chirp serve`: the whole site in one process on SQLite,\n\
                  at http://127.0.0.1:8080. Every flag can also be set with the CHIRP_ variable\n\
                  shown in `chirp serve --help`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process on SQLite (the default).
    Serve(ServeArgs),
    /// Run one API instance, for the scaled topology behind nginx.
    Api(ServeArgs),
    /// Run a response cache in front of an upstream (nginx over API instances).
    Cache(CacheArgs),
    /// Run the web site over an API reached by HTTP (the scaled topology).
    Web(WebArgs),
    /// Run a file of commands (user, post, reply, edit, delete, follow,
    /// like, ...) against a running chirp: for demos and seeding.
    Script(ScriptArgs),
    /// Load-test or functionally check a running chirp over its API.
    Loadtest(LoadtestArgs),
    /// Draw docs/REPORT.md's figures (SVG) from the runs `scripts/report`
    /// measured (DIR/runs.jsonl and the loadtest JSON it names).
    Report(ReportArgs),
}

/// `chirp report [DIR]`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The folder holding runs.jsonl; the figures are written beside it.
    #[arg(default_value = "docs/report")]
    pub dir: std::path::PathBuf,
}

/// The scenarios of `chirp loadtest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScenarioName {
    /// Functional checks (post, read, edit, search, hashtag, likes, follow,
    /// protected accounts, delete); exits 1 on any failure.
    Check,
    /// A like storm on --tweets hot tweets; reports whether every
    /// acknowledged like was counted.
    Likes,
    /// Cached reads: tweets by id and user timelines, Zipf-skewed (a few are read most).
    Read,
    /// 60 % home timeline, 30 % user timeline, 10 % post.
    Mix,
    /// Posting tweets.
    Write,
    /// Any GET, given with --path.
    Get,
}

/// Settings of `chirp loadtest`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:\n  \
    chirp loadtest --scenario check\n  \
    chirp loadtest --scenario mix --connections 32 --duration 10s\n  \
    chirp loadtest --scenario likes --rate 2000 --tweets 5 --json likes.json\n  \
    chirp loadtest --scenario get --path /api/tweets --rate 500 --max-p99 50ms")]
pub struct LoadtestArgs {
    /// Base URL of the chirp under test (`chirp serve`, or the nginx front).
    #[arg(long, env = "CHIRP_TARGET", default_value = "http://127.0.0.1:8080")]
    pub target: String,

    /// What to send.
    #[arg(long, env = "CHIRP_SCENARIO", value_enum)]
    pub scenario: ScenarioName,

    /// The path the `get` scenario requests, e.g. /api/tweets?q=hello.
    #[arg(long, env = "CHIRP_LOADTEST_PATH", required_if_eq("scenario", "get"))]
    pub path: Option<String>,

    /// Closed load: this many connections, each sending its next request
    /// when the last is answered (the default, with 16, unless --rate).
    #[arg(long, env = "CHIRP_CONNECTIONS", conflicts_with = "rate",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub connections: Option<u64>,

    /// Open load: this many requests per second, sent on schedule however
    /// slowly the target answers; latency counts from each request's
    /// scheduled time.
    #[arg(long, env = "CHIRP_RATE", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Open load: most requests unanswered at once; a request due beyond
    /// it is not sent and counts as an `overflow` error.
    #[arg(long = "max-in-flight", env = "CHIRP_MAX_IN_FLIGHT", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_in_flight: u64,

    /// How long to apply load.
    #[arg(long, env = "CHIRP_DURATION", default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Accounts to seed.
    #[arg(long, env = "CHIRP_USERS", default_value_t = 20)]
    pub users: usize,

    /// Tweets to seed (for `likes`: the hot tweets liked).
    #[arg(long, env = "CHIRP_TWEETS", default_value_t = 50)]
    pub tweets: usize,

    /// Accounts each seeded account follows, drawn Zipf-skewed so a few
    /// accounts have most followers.
    #[arg(long, env = "CHIRP_FOLLOWS", default_value_t = 5)]
    pub follows: usize,

    /// How long one request may take before it counts as a `timeout`.
    #[arg(long = "request-timeout", env = "CHIRP_REQUEST_TIMEOUT", default_value = "10s",
          value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// How long to wait for like counts to show every acknowledged like
    /// (the batcher flushes after max pending or max age: keep this above
    /// the server's CHIRP_LIKES_MAX_AGE).
    #[arg(long, env = "CHIRP_SETTLE", default_value = "70s", value_parser = parse_duration)]
    pub settle: Duration,

    /// Also write the summary as JSON to this file.
    #[arg(long, env = "CHIRP_JSON")]
    pub json: Option<PathBuf>,

    /// Exit non-zero when p99 latency is above this.
    #[arg(long = "max-p99", env = "CHIRP_MAX_P99", value_parser = parse_duration)]
    pub max_p99: Option<Duration>,

    /// Exit non-zero when more than this many requests failed.
    #[arg(long = "max-errors", env = "CHIRP_MAX_ERRORS")]
    pub max_errors: Option<u64>,
}

/// A request rate: a positive number per second, `500` or `500/s`.
fn parse_rate(s: &str) -> Result<f64, String> {
    let n: f64 = s
        .trim_end_matches("/s")
        .parse()
        .map_err(|_| format!("{s:?} is not a rate: write requests per second, like 500"))?;
    if n.is_finite() && n > 0.0 {
        Ok(n)
    } else {
        Err("the rate must be more than zero".into())
    }
}

/// Settings of `chirp script`.
#[derive(Debug, Clone, Args)]
pub struct ScriptArgs {
    /// The script to run (`-` reads standard input). See
    /// scripts/demo.chirp for every command.
    pub file: String,

    /// Base URL of the chirp to run it against (`chirp serve`, or the nginx
    /// front of the scaled topology).
    #[arg(long, env = "CHIRP_API", default_value = "http://127.0.0.1:8080")]
    pub api: String,

    /// How long one API call may take before the script stops with a
    /// timeout.
    #[arg(long = "api-timeout", env = "CHIRP_API_TIMEOUT", default_value = "10s",
          value_parser = parse_duration)]
    pub api_timeout: Duration,
}

/// How a server treats connections and who it believes about the client's
/// address; shared by `serve`, `api`, `cache` and `web`.
#[derive(Debug, Clone, Args)]
pub struct NetArgs {
    /// Proxies whose X-Forwarded-For (and -Host, -Proto) are believed:
    /// addresses or networks separated by commas, or `none`. Every other
    /// peer is itself the client, whatever it sends.
    #[arg(
        long = "trusted-proxies",
        env = "CHIRP_TRUSTED_PROXIES",
        default_value = "127.0.0.0/8,::1"
    )]
    pub trusted_proxies: chirp_http::TrustedProxies,

    /// Time a client has to send a request's headers; also the longest a
    /// kept-alive connection may sit idle.
    #[arg(long = "header-timeout", env = "CHIRP_HEADER_TIMEOUT", default_value = "20s",
          value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// Longest a write to a client may wait before the client, which has
    /// stopped reading, is disconnected.
    #[arg(long = "write-timeout", env = "CHIRP_WRITE_TIMEOUT", default_value = "30s",
          value_parser = parse_duration)]
    pub write_timeout: Duration,

    /// Most connections served at once (more wait to be accepted).
    #[arg(long = "max-connections", env = "CHIRP_MAX_CONNECTIONS", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// On shutdown, how long requests in flight may take before their
    /// connections are dropped.
    #[arg(long = "drain-timeout", env = "CHIRP_DRAIN_TIMEOUT", default_value = "30s",
          value_parser = parse_duration)]
    pub drain_timeout: Duration,
}

impl NetArgs {
    pub fn serve_options(&self) -> chirp_http::ServeOptions {
        chirp_http::ServeOptions {
            header_timeout: self.header_timeout,
            write_timeout: self.write_timeout,
            max_connections: self.max_connections as usize,
            drain_timeout: self.drain_timeout,
        }
    }
}

/// Settings of `chirp web`.
#[derive(Debug, Clone, Args)]
pub struct WebArgs {
    /// Address to listen on.
    #[arg(long, env = "CHIRP_LISTEN", default_value = "127.0.0.1:8082")]
    pub listen: SocketAddr,

    /// The API's base URL, e.g. http://127.0.0.1:8088 (the nginx front).
    #[arg(long, env = "CHIRP_API")]
    pub api: String,

    #[command(flatten)]
    pub site: SiteArgs,

    #[command(flatten)]
    pub net: NetArgs,
}

/// The web site's settings, shared by `chirp serve` and `chirp web`.
#[derive(Debug, Clone, Args)]
pub struct SiteArgs {
    /// Mark the web site's cookies Secure (only sent over HTTPS): turn on behind TLS.
    #[arg(
        long = "secure-cookies",
        env = "CHIRP_SECURE_COOKIES",
        default_value = "off"
    )]
    pub secure_cookies: Switch,

    /// How long the web site waits for the API's answer to one call
    /// before it shows a "try again" page (504).
    #[arg(long = "api-timeout", env = "CHIRP_API_TIMEOUT", default_value = "10s",
          value_parser = parse_duration)]
    pub api_timeout: Duration,
}

impl SiteArgs {
    pub fn config(&self, net: &NetArgs) -> chirp_web::WebConfig {
        chirp_web::WebConfig {
            secure_cookies: self.secure_cookies.on(),
            trusted_proxies: net.trusted_proxies.clone(),
        }
    }
}

/// Settings of `chirp cache`.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Address to listen on.
    #[arg(long, env = "CHIRP_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,

    /// Where misses and writes go, e.g. http://127.0.0.1:8089 (nginx over the API instances).
    #[arg(long, env = "CHIRP_UPSTREAM")]
    pub upstream: String,

    /// How long a cached response is served.
    #[arg(long = "cache-ttl", env = "CHIRP_CACHE_TTL", default_value = "60s",
          value_parser = parse_duration)]
    pub ttl: Duration,

    /// Most bytes of responses held.
    #[arg(long = "cache-bytes", env = "CHIRP_CACHE_BYTES", default_value_t = 64 << 20)]
    pub max_bytes: u64,

    /// The API instances' broker (SPEC §1.6), heard for purges: when an
    /// account turns protected the cache drops everything at once instead
    /// of serving its tweets until the TTL runs out. Unset: Redis pub/sub
    /// on CHIRP_REDIS_URL when that is set, otherwise no purges (entries
    /// then live their TTL).
    #[arg(long = "broker-url", env = "CHIRP_BROKER_URL")]
    pub broker_url: Option<String>,

    /// Redis the API instances use, where their broker is Redis pub/sub
    /// on it (see --broker-url).
    #[arg(long = "redis-url", env = "CHIRP_REDIS_URL")]
    pub redis_url: Option<String>,

    /// The broker namespace the API instances use (their
    /// CHIRP_BROKER_NAMESPACE); needed with a broker, since a cache knows
    /// no database to derive it from.
    #[arg(long = "broker-namespace", env = "CHIRP_BROKER_NAMESPACE")]
    pub broker_namespace: Option<String>,

    #[command(flatten)]
    pub net: NetArgs,
}

/// An instance's name: a safe file-name component, since it names the
/// instance's files in the data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceName(String);

impl InstanceName {
    /// The name of an instance not given one: right when each instance has
    /// a data folder of its own, as the files are told apart by folder.
    pub const DEFAULT: &'static str = "default";

    /// Longest name accepted.
    const MAX_LEN: usize = 64;

    /// Accepts ASCII letters, digits, `.`, `_` and `-`, not starting with
    /// `.` or `-` (no hidden files, `..` or flag look-alikes), 1 to 64 long.
    pub fn parse(s: &str) -> Result<Self, String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(format!(
                "an instance name is 1 to {} characters long",
                Self::MAX_LEN
            ));
        }
        if !s.chars().all(allowed) || s.starts_with(['.', '-']) {
            return Err(
                "an instance name names files: use ASCII letters, digits, `.`, `_` and `-` \
                 (not first), e.g. api-1"
                    .into(),
            );
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ServeArgs {
    /// The instance's name in its file names: the one given, or
    /// [`InstanceName::DEFAULT`]. Never the port, so a restart on another
    /// port finds the same files.
    pub fn instance_name(&self) -> &str {
        self.instance
            .as_ref()
            .map_or(InstanceName::DEFAULT, InstanceName::as_str)
    }

    /// The like journal: the one given, or `DATA_DIR/likes-NAME.journal`.
    pub fn journal_path(&self) -> PathBuf {
        self.likes.journal.clone().unwrap_or_else(|| {
            self.data_dir
                .join(format!("likes-{}.journal", self.instance_name()))
        })
    }

    /// Where the request log's segments go: `DATA_DIR/requests-NAME.log.N`.
    pub fn request_log_path(&self) -> PathBuf {
        self.data_dir
            .join(format!("requests-{}.log", self.instance_name()))
    }

    /// The file whose lock says "this instance is running": one process per
    /// data folder and name, since two would write the same journal.
    pub fn lock_path(&self) -> PathBuf {
        self.data_dir
            .join(format!("instance-{}.lock", self.instance_name()))
    }

    /// The database to use: the one given, or an SQLite file in the data
    /// folder, so `--data-dir` alone moves everything an instance keeps.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("chirp.db").display()))
    }
}

impl Default for Command {
    fn default() -> Self {
        Command::Serve(ServeArgs::parse_from_env())
    }
}

/// Settings of a serving process.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CHIRP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Database: sqlite://PATH (embedded) or postgres://USER@HOST:PORT/DB
    /// [default: sqlite://DATA_DIR/chirp.db].
    #[arg(long, env = "CHIRP_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Most database connections per pool.
    #[arg(long, env = "CHIRP_DB_MAX_CONNECTIONS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: u32,

    /// How long a request waits for a database connection (e.g. 5s, 500ms).
    #[arg(long, env = "CHIRP_DB_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub db_timeout: Duration,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CHIRP_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,

    /// How long a login stays valid (e.g. 30d, 12h).
    #[arg(long, env = "CHIRP_SESSION_TTL", default_value = "30d", value_parser = parse_duration)]
    pub session_ttl: Duration,

    /// Folder for this instance's files (like journal, request log).
    #[arg(long, env = "CHIRP_DATA_DIR", default_value = "chirp-data")]
    pub data_dir: PathBuf,

    /// Most bytes the request log (/logs) keeps on disk; past it the oldest
    /// calls are deleted (in two rotating segment files).
    #[arg(long = "request-log-bytes", env = "CHIRP_REQUEST_LOG_BYTES", default_value_t = 1 << 30,
          value_parser = clap::value_parser!(u64).range(4096..))]
    pub request_log_bytes: u64,

    /// This instance's name. It names the instance's files in the data
    /// folder (`likes-NAME.journal`, `requests-NAME.log`), so an instance
    /// restarted with the same data folder and name replays the likes it
    /// acknowledged, whatever port it listens on now; it is also the name
    /// in /logs. Letters, digits, `.`, `_` and `-` (not first), at most 64.
    /// Two instances may share a data folder only under different names.
    /// [default: `default` for the files, host:port in /logs]
    #[arg(long, env = "CHIRP_INSTANCE", value_parser = InstanceName::parse)]
    pub instance: Option<InstanceName>,

    /// Rate limits: `on`, or `off` (every one of them) for benchmarks and
    /// test suites. On: each class below per client address, and the
    /// password-guessing throttle (after 10 failed log-ins for a username
    /// from one address in 15 minutes, that address gets 429 for it).
    #[arg(long = "rate-limit", env = "CHIRP_RATE_LIMIT", default_value = "on")]
    pub rate_limit: Switch,

    #[command(flatten)]
    pub limits: RateLimitArgs,

    #[command(flatten)]
    pub likes: LikeArgs,

    #[command(flatten)]
    pub cache: ReadCacheArgs,

    /// Broker of live events between instances (SPEC §1.6): `redis://...`
    /// (Redis pub/sub) or `amqp://...` (RabbitMQ, a fanout exchange).
    /// Unset: Redis pub/sub on CHIRP_REDIS_URL when that is set, otherwise
    /// in this process (one instance).
    #[arg(long = "broker-url", env = "CHIRP_BROKER_URL")]
    pub broker_url: Option<String>,

    /// Names the broker's channel (`NAMESPACE.events`), so sites sharing a
    /// Redis or RabbitMQ do not hear each other. The response caches
    /// (`chirp cache`) must be given the same one. [default: derived from
    /// the database URL, without its credentials]
    #[arg(long = "broker-namespace", env = "CHIRP_BROKER_NAMESPACE")]
    pub broker_namespace: Option<String>,

    /// Response cache in front of /api in `chirp serve` (`chirp api` never
    /// has one: in the scaled topology the caches are their own processes).
    #[arg(
        long = "response-cache",
        env = "CHIRP_RESPONSE_CACHE",
        default_value = "on"
    )]
    pub response_cache: Switch,

    #[command(flatten)]
    pub site: SiteArgs,

    #[command(flatten)]
    pub net: NetArgs,
}

/// Each class's limit per client address (SPEC §1.7), as `COUNT/PERIOD`
/// (e.g. `25/5min`, `300/3h`) or `off`. Counted in Redis, shared by every
/// API instance, when CHIRP_REDIS_URL is set; per instance otherwise.
#[derive(Debug, Clone, Args)]
pub struct RateLimitArgs {
    /// Anonymous API reads (GETs with no session) per client address.
    #[arg(
        long = "rate-limit-reads",
        env = "CHIRP_RATE_LIMIT_READS",
        default_value = "300/5min"
    )]
    pub reads: Limit,

    /// Log-ins (POST /api/sessions) per client address.
    #[arg(
        long = "rate-limit-logins",
        env = "CHIRP_RATE_LIMIT_LOGINS",
        default_value = "25/5min"
    )]
    pub logins: Limit,

    /// Sign-ups (POST /api/accounts) per client address.
    #[arg(
        long = "rate-limit-signups",
        env = "CHIRP_RATE_LIMIT_SIGNUPS",
        default_value = "5/30min"
    )]
    pub signups: Limit,

    /// Tweets and replies posted per client address.
    #[arg(
        long = "rate-limit-posts",
        env = "CHIRP_RATE_LIMIT_POSTS",
        default_value = "300/3h"
    )]
    pub posts: Limit,

    /// Likes per client address.
    #[arg(
        long = "rate-limit-likes",
        env = "CHIRP_RATE_LIMIT_LIKES",
        default_value = "1500/5min"
    )]
    pub likes: Limit,

    /// Direct messages sent per client address.
    #[arg(
        long = "rate-limit-messages",
        env = "CHIRP_RATE_LIMIT_MESSAGES",
        default_value = "300/3h"
    )]
    pub messages: Limit,

    /// Notification streams opened per client address.
    #[arg(
        long = "rate-limit-streams",
        env = "CHIRP_RATE_LIMIT_STREAMS",
        default_value = "60/5min"
    )]
    pub streams: Limit,
}

impl RateLimitArgs {
    /// The limits of every class; all off when `on` is false.
    pub fn limits(&self, on: bool) -> RateLimits {
        if !on {
            return RateLimits::off();
        }
        [
            (Class::Reads, self.reads),
            (Class::Logins, self.logins),
            (Class::Signups, self.signups),
            (Class::Posts, self.posts),
            (Class::Likes, self.likes),
            (Class::Messages, self.messages),
            (Class::Streams, self.streams),
        ]
        .into_iter()
        .fold(RateLimits::default(), |limits, (class, limit)| {
            limits.with(class, limit)
        })
    }
}

/// The read cache between the API and the database (SPEC §1.4).
#[derive(Debug, Clone, Args)]
pub struct ReadCacheArgs {
    /// Cache database reads (`on`), or read the database every time (`off`).
    #[arg(long = "read-cache", env = "CHIRP_READ_CACHE", default_value = "on")]
    pub read_cache: Switch,

    /// Redis for the read cache, shared by every API instance
    /// (e.g. redis://127.0.0.1:6379). Unset: the cache lives in this process.
    #[arg(long = "redis-url", env = "CHIRP_REDIS_URL")]
    pub redis_url: Option<String>,

    /// How long cached entries live.
    #[arg(long = "cache-ttl", env = "CHIRP_CACHE_TTL", default_value = "60s",
          value_parser = parse_duration)]
    pub ttl: Duration,

    /// Most bytes the in-process read cache holds.
    #[arg(long = "read-cache-bytes", env = "CHIRP_READ_CACHE_BYTES", default_value_t = 64 << 20)]
    pub max_bytes: u64,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

impl Switch {
    pub fn on(self) -> bool {
        self == Switch::On
    }
}

/// The like batcher (SPEC §1.3).
#[derive(Debug, Clone, Args)]
pub struct LikeArgs {
    /// Batch likes (`on`), or write each one through (`off`, for comparison).
    #[arg(
        long = "likes-batching",
        env = "CHIRP_LIKES_BATCHING",
        default_value = "on"
    )]
    pub batching: Switch,

    /// A tweet's likes are written once it holds more than this many.
    #[arg(
        long = "likes-max-pending",
        env = "CHIRP_LIKES_MAX_PENDING",
        default_value_t = 10
    )]
    pub max_pending: u64,

    /// ... or once its oldest pending like has waited this long.
    #[arg(long = "likes-max-age", env = "CHIRP_LIKES_MAX_AGE", default_value = "60s",
          value_parser = parse_duration)]
    pub max_age: Duration,

    /// Most likes held waiting for the database before new ones get 503.
    #[arg(long = "likes-max-backlog", env = "CHIRP_LIKES_MAX_BACKLOG", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_backlog: u64,

    /// The like journal (default: DATA_DIR/likes-INSTANCE.journal, INSTANCE
    /// being CHIRP_INSTANCE or `default`). One per instance.
    #[arg(long = "likes-journal", env = "CHIRP_LIKES_JOURNAL")]
    pub journal: Option<PathBuf>,

    /// fdatasync each journal write (`on`: survives power loss; `off`:
    /// survives a crash of the process, not of the machine).
    #[arg(long = "likes-fsync", env = "CHIRP_LIKES_FSYNC", default_value = "on")]
    pub fsync: Switch,

    /// Pause between two flushes so the next gathers more likes (0s for none).
    #[arg(long = "likes-flush-gap", env = "CHIRP_LIKES_FLUSH_GAP", default_value = "10ms",
          value_parser = parse_duration_or_zero)]
    pub flush_gap: Duration,
}

impl ServeArgs {
    /// The defaults, overridden by `CHIRP_` variables: what `chirp` with no
    /// subcommand runs with.
    fn parse_from_env() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        Only::parse_from(["chirp"]).args
    }
}

/// Durations are written like `60s`, `500ms`, `2m`; zero is refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e}: write a duration like 60s, 500ms or 2m"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(d)
}

/// Like [`parse_duration`], but `0s` is allowed (meaning "none").
pub fn parse_duration_or_zero(s: &str) -> Result<Duration, String> {
    if s.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic()) == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_means_serve() {
        let cli = Cli::try_parse_from(["chirp"]).ok();
        assert!(cli.is_some_and(|c| c.command.is_none()));
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn flush_gap_may_be_zero() {
        assert_eq!(parse_duration_or_zero("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration_or_zero("5ms"), Ok(Duration::from_millis(5)));
    }

    #[test]
    fn like_settings_have_the_documented_defaults() {
        let Some(Command::Serve(args)) = Cli::try_parse_from(["chirp", "serve"])
            .ok()
            .and_then(|c| c.command)
        else {
            panic!("serve did not parse");
        };
        assert!(args.likes.batching.on());
        assert_eq!(args.likes.max_pending, 10);
        assert_eq!(args.likes.max_age, Duration::from_secs(60));
    }

    /// `chirp serve` with `flags`.
    fn serve_args(flags: &[&str]) -> ServeArgs {
        let argv = ["chirp", "serve"].iter().chain(flags).copied();
        match Cli::try_parse_from(argv).ok().and_then(|c| c.command) {
            Some(Command::Serve(args)) => args,
            other => panic!("serve did not parse: {other:?}"),
        }
    }

    #[test]
    fn rate_limits_are_on_unless_turned_off() {
        assert!(serve_args(&[]).rate_limit.on());
        assert!(!serve_args(&["--rate-limit", "off"]).rate_limit.on());
        assert!(Cli::try_parse_from(["chirp", "serve", "--rate-limit", "maybe"]).is_err());
        let args = serve_args(&[]);
        assert_eq!(
            args.limits.limits(true),
            RateLimits::default(),
            "the defaults agree"
        );
        assert!(!args.limits.limits(false).any());
        let args = serve_args(&["--rate-limit-logins", "3/1h", "--rate-limit-reads", "off"]);
        let limits = args.limits.limits(true);
        assert_eq!(
            limits.rate(Class::Logins).map(|r| r.to_string()).as_deref(),
            Some("3/1h")
        );
        assert_eq!(limits.rate(Class::Reads), None);
        assert_eq!(
            limits.rate(Class::Signups),
            Class::Signups.default_rate().into()
        );
        let bad = Cli::try_parse_from(["chirp", "serve", "--rate-limit-signups", "5 per hour"])
            .expect_err("a bad limit");
        assert!(bad.to_string().contains("25/5min"), "{bad}");
    }

    #[test]
    fn the_database_lives_in_the_data_dir_unless_given() {
        assert_eq!(
            serve_args(&["--data-dir", "/srv/chirp"]).database_url(),
            "sqlite:///srv/chirp/chirp.db"
        );
        let pg = "postgres://chirp@db:5432/chirp";
        assert_eq!(serve_args(&["--database-url", pg]).database_url(), pg);
    }

    #[test]
    fn an_instance_files_are_named_by_instance_not_by_port() {
        let a = serve_args(&["--data-dir", "/srv/chirp", "--listen", "127.0.0.1:0"]);
        let b = serve_args(&["--data-dir", "/srv/chirp", "--listen", "127.0.0.1:9000"]);
        assert_eq!(a.journal_path(), b.journal_path());
        assert_eq!(
            a.journal_path(),
            PathBuf::from("/srv/chirp/likes-default.journal")
        );
        assert_eq!(a.request_log_path(), b.request_log_path());
        assert_eq!(
            a.lock_path(),
            PathBuf::from("/srv/chirp/instance-default.lock")
        );

        let named = serve_args(&["--data-dir", "/srv/chirp", "--instance", "api-2"]);
        assert_eq!(
            named.journal_path(),
            PathBuf::from("/srv/chirp/likes-api-2.journal")
        );
        assert_eq!(
            named.request_log_path(),
            PathBuf::from("/srv/chirp/requests-api-2.log")
        );
        let given = serve_args(&["--instance", "api-2", "--likes-journal", "/j/likes"]);
        assert_eq!(given.journal_path(), PathBuf::from("/j/likes"));
    }

    #[test]
    fn instance_names_are_safe_file_name_parts() {
        for good in ["default", "api-1", "api_2", "eu.west.3", "A9"] {
            assert_eq!(InstanceName::parse(good).map(|n| n.0), Ok(good.to_owned()));
        }
        let too_long = "x".repeat(65);
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "a/b",
            "../up",
            "a b",
            "host:8080",
            "é",
            &too_long,
        ] {
            assert!(InstanceName::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let err = Cli::try_parse_from(["chirp", "serve", "--instance", "../etc"]);
        assert!(err.is_err_and(|e| e.to_string().contains("an instance name names files")));
    }

    #[test]
    fn bad_flags_are_refused_with_a_message() {
        let err = Cli::try_parse_from(["chirp", "serve", "--db-timeout", "fast"]);
        assert!(err.is_err_and(|e| e.to_string().contains("duration like 60s")));
        let err = Cli::try_parse_from(["chirp", "serve", "--listen", "nowhere"]);
        assert!(err.is_err());
    }
}
