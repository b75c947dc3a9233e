//! [`LoadError`]: why a load test could not be run at all. A request that
//! fails *during* a run is not an error of this kind: it is counted in the
//! summary (by status, or as `transport`/`timeout`/`overflow`).

use chirp_client::ClientError;

/// Why a load test or a functional check could not be run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target address is not a usable `http://host:port` URL.
    #[error("bad target {0:?}: write it like http://127.0.0.1:8080")]
    BadTarget(String),
    /// A request could not be built (a path that is not a URI, say).
    #[error("cannot build the request {0}")]
    Request(String),
    /// Seeding the accounts, tweets or follow graph failed.
    #[error("seeding failed while {step}: {source}")]
    Seed {
        step: String,
        #[source]
        source: ClientError,
    },
    /// The target answered something that is not what the API documents.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// Writing the `--json` file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
