//! The command line and configuration: every flag has a `CHIRP_` variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// chirp: a Twitter-like social network that stays fast when it gets popular.
#[derive(Debug, Parser)]
#[command(name = "chirp", version, about, long_about = None)]
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

    /// Database: sqlite://PATH (embedded) or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "CHIRP_DATABASE_URL",
        default_value = "sqlite://chirp-data/chirp.db"
    )]
    pub database_url: String,

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
    fn bad_flags_are_refused_with_a_message() {
        let err = Cli::try_parse_from(["chirp", "serve", "--db-timeout", "fast"]);
        assert!(err.is_err_and(|e| e.to_string().contains("duration like 60s")));
        let err = Cli::try_parse_from(["chirp", "serve", "--listen", "nowhere"]);
        assert!(err.is_err());
    }
}
