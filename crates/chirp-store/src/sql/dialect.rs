//! Where SQLite and PostgreSQL differ, side by side.

use sqlx::migrate::Migrator;

/// Why the store could not start; each says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "CHIRP_DATABASE_URL {0:?} is not a database URL: use sqlite://PATH or postgres://USER@HOST:PORT/DB"
    )]
    BadUrl(String),
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot connect to the database at {url} (is it running, and is CHIRP_DATABASE_URL right?)"
    )]
    Unreachable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the database at {url}")]
    Migrate {
        url: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }

    /// SQLite: creates the file's directory and asks for the file to be
    /// created. PostgreSQL: checked for shape only.
    /// Prepares a connection URL; for SQLite, creates the folder and,
    /// readable by its owner only (0600), the database file, whose mode
    /// SQLite then gives its `-wal` and `-shm` files too.
    pub(crate) fn prepare_url(self, url: &str) -> Result<String, ConnectError> {
        let parsed = url::Url::parse(url).map_err(|_| ConnectError::BadUrl(url.to_owned()))?;
        match self {
            Self::Postgres => {
                if parsed.host_str().is_none_or(str::is_empty) {
                    return Err(ConnectError::BadUrl(url.to_owned()));
                }
                Ok(url.to_owned())
            }
            Self::Sqlite => {
                let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
                let path = rest.split('?').next().unwrap_or_default();
                if path.is_empty() {
                    return Err(ConnectError::BadUrl(url.to_owned()));
                }
                if path != ":memory:"
                    && let Some(dir) = std::path::Path::new(path).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir).map_err(|source| ConnectError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                if path != ":memory:" {
                    create_private_file(std::path::Path::new(path)).map_err(|source| {
                        ConnectError::DataDir {
                            path: path.to_owned(),
                            source,
                        }
                    })?;
                }
                if parsed.query_pairs().any(|(k, _)| k == "mode") {
                    Ok(url.to_owned())
                } else if url.contains('?') {
                    Ok(format!("{url}&mode=rwc"))
                } else {
                    Ok(format!("{url}?mode=rwc"))
                }
            }
        }
    }

    /// Run on every new connection. SQLite: WAL (readers never block the
    /// writer), `synchronous=NORMAL` (a process crash loses nothing
    /// committed), foreign keys on, and a busy timeout.
    pub(crate) fn connection_setup(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => Some(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
            ),
            Self::Postgres => None,
        }
    }

    pub(crate) fn migrator(self) -> &'static Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// The `WHERE` condition of a full-text search on tweets `t`, as the
    /// text before and after one bound value made by [`Dialect::search_query`].
    pub(crate) fn search_condition(self) -> (&'static str, &'static str) {
        match self {
            Self::Sqlite => (
                "t.id IN (SELECT rowid FROM tweets_fts WHERE tweets_fts MATCH ",
                ")",
            ),
            Self::Postgres => ("t.search @@ plainto_tsquery('simple', ", ")"),
        }
    }

    /// The text bound to [`Dialect::search_condition`]. PostgreSQL's
    /// `plainto_tsquery` takes free text as it is; FTS5 has a query language
    /// of its own, so each word becomes a quoted string (all must match),
    /// and no input can be a syntax error.
    pub(crate) fn search_query(self, text: &str) -> String {
        match self {
            Self::Postgres => text.to_owned(),
            Self::Sqlite => text
                .split_whitespace()
                .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// The URL with any password replaced, fit for logs and error messages.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Creates an empty file readable and writable by its owner alone, unless
/// it exists (then it is left as it is: its owner chose its mode).
fn create_private_file(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_both_databases() {
        assert_eq!(Dialect::from_url("sqlite://x.db"), Some(Dialect::Sqlite));
        assert_eq!(
            Dialect::from_url("postgres://u@h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(
            Dialect::from_url("postgresql://u@h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(Dialect::from_url("mysql://u@h/db"), None);
        assert_eq!(Dialect::from_url("chirp.db"), None);
    }

    #[test]
    fn fts_queries_quote_every_word() {
        assert_eq!(
            Dialect::Sqlite.search_query("rust \"async\" OR NOT*"),
            r#""rust" """async""" "OR" "NOT*""#
        );
        assert_eq!(Dialect::Postgres.search_query("a b"), "a b");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://bob:secret@db:5432/chirp"),
            "postgres://bob:***@db:5432/chirp"
        );
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn sqlite_urls_ask_for_file_creation() {
        let dir = tempfile::tempdir().ok();
        let path = dir
            .as_ref()
            .map(|d| d.path().join("sub/c.db"))
            .unwrap_or_default();
        let url = format!("sqlite://{}", path.display());
        let prepared = Dialect::Sqlite.prepare_url(&url).ok();
        assert_eq!(prepared, Some(format!("{url}?mode=rwc")));
        assert!(path.parent().is_some_and(|p| p.is_dir()));
    }
}
