//! The load and functional tester behind `chirp loadtest`.
//!
//! Layout:
//! * `http.rs`: the hot loop's pooled keep-alive hyper client, which only
//!   reports each answer's status ([`Outcome`]).
//! * `run.rs`: the closed and open load models ([`Load`]) driving a
//!   [`Workload`]; the open model measures from each request's due time.
//! * `stats.rs`: the HDR histogram, counts by status and the [`Summary`]
//!   (the `--json` shape).
//! * `seed.rs`: accounts, tweets and a Zipf-skewed follow graph, over the
//!   typed `chirp_client::Client`.
//! * `scenario.rs`: `likes`, `read`, `mix`, `write`, `get` and the like
//!   storm's acknowledged-versus-counted check.
//! * `check.rs`: the functional checks of the `check` scenario.
//! * [`error`]: [`LoadError`], for what stops a run before it measures.

pub mod check;
pub mod error;
pub mod http;
pub mod run;
pub mod scenario;
pub mod seed;
pub mod stats;

pub use error::LoadError;
pub use http::{Http, Outcome};
pub use run::{Load, Planned, Workload};
pub use scenario::{LikeTally, Options, Scenario};
pub use seed::SeedPlan;
pub use stats::Summary;
