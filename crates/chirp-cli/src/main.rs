//! The `chirp` binary: parses the command line and hands over to the crates
//! that do the work. `chirp` alone is `chirp serve`.

mod config;
mod loadtest;
mod purge;
mod script;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use config::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or_default() {
            Command::Serve(args) => serve::serve(args, serve::Shape::Embedded).await,
            Command::Api(args) => serve::serve(args, serve::Shape::Api).await,
            Command::Cache(args) => serve::cache(args).await,
            Command::Web(args) => serve::web(args).await,
            Command::Script(args) => script::run(args).await,
            Command::Loadtest(args) => loadtest::run(args).await,
            Command::Report(args) => report(&args),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line that says what to fix; the cause chain follows the colon.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `chirp report`: draws the figures and says where they went.
fn report(args: &config::ReportArgs) -> anyhow::Result<()> {
    let written = chirp_report::draw(&args.dir)?;
    if written.is_empty() {
        anyhow::bail!(
            "{} has no runs of a known figure: run scripts/report first",
            args.dir.join("runs.jsonl").display()
        );
    }
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}

/// Logs to stderr; `RUST_LOG` overrides the default level (info).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
