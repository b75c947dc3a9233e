//! `chirp loadtest`: turns the flags into chirp-loadtest's options, runs
//! the scenario, prints the summary and applies the CI thresholds
//! (`--max-p99`, `--max-errors`), whose misses are errors so the exit
//! status says so.

use anyhow::{Context, bail};
use chirp_loadtest::{Load, Options, Scenario, SeedPlan};

use crate::config::{LoadtestArgs, ScenarioName};

/// Connections of the closed model when neither --connections nor --rate is given.
const DEFAULT_CONNECTIONS: usize = 16;

/// Runs `chirp loadtest` with `args`.
pub async fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    if args.scenario == ScenarioName::Check {
        return check(&args).await;
    }
    let scenario = match args.scenario {
        ScenarioName::Likes => Scenario::Likes,
        ScenarioName::Read => Scenario::Read,
        ScenarioName::Mix => Scenario::Mix,
        ScenarioName::Write => Scenario::Write,
        ScenarioName::Get | ScenarioName::Check => Scenario::Get {
            path: args.path.clone().context("--scenario get needs --path")?,
        },
    };
    let load = match args.rate {
        Some(rate) => Load::Open {
            rate,
            max_in_flight: usize::try_from(args.max_in_flight).unwrap_or(usize::MAX),
        },
        None => Load::Closed {
            connections: args.connections.map_or(DEFAULT_CONNECTIONS, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
        },
    };
    let opts = Options {
        target: args.target.clone(),
        scenario,
        load,
        duration: args.duration,
        seed: SeedPlan {
            users: args.users,
            tweets: args.tweets,
            follows: args.follows,
        },
        timeout: args.request_timeout,
        settle: args.settle,
    };
    let summary = chirp_loadtest::scenario::run(&opts)
        .await
        .with_context(|| format!("load test of {}", args.target))?;
    print!("{summary}");
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&summary).context("encoding the summary")?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut missed = Vec::new();
    if let Some(max) = args.max_p99 {
        let p99 = summary.latency_ms.p99;
        if p99 > max.as_secs_f64() * 1000.0 {
            missed.push(format!("p99 {p99:.2} ms is above --max-p99 {max:?}"));
        }
    }
    if let Some(max) = args.max_errors
        && summary.errors > max
    {
        missed.push(format!(
            "{} errors, more than --max-errors {max}",
            summary.errors
        ));
    }
    if let Some(lost) = summary.likes_lost
        && lost > 0
    {
        missed.push(format!("{lost} acknowledged likes were not counted"));
    }
    if !missed.is_empty() {
        bail!("{}", missed.join("; "));
    }
    Ok(())
}

/// The functional checks: a line per check, exit 1 on any failure.
async fn check(args: &LoadtestArgs) -> anyhow::Result<()> {
    let results = chirp_loadtest::check::run(&args.target, args.request_timeout, args.settle)
        .await
        .with_context(|| format!("checking {}", args.target))?;
    let failed = results.iter().filter(|r| r.failure.is_some()).count();
    for r in &results {
        match &r.failure {
            None => println!("pass  {}", r.name),
            Some(why) => println!("FAIL  {}: {why}", r.name),
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} checks failed against {}",
            results.len(),
            args.target
        );
    }
    println!(
        "all {} checks passed against {}",
        results.len(),
        args.target
    );
    Ok(())
}
