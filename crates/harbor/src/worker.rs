//! `harbor worker`: an agent worker for front doors (`harbor serve --workers`); see
//! `harbor_server::worker` and docs/workers.md.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use harbor_server::agent::ConformanceAgent;
use harbor_server::{Worker, WorkerConfig};
use tokio_util::sync::CancellationToken;

use crate::duration::parse_duration;

/// Options of `harbor worker`.
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// The task store the front doors share: `postgres://USER@HOST:PORT/DB` (query
    /// parameters `schema`, default `harbor`, `pool_size`, `connect_timeout`). Finished
    /// tasks' retention is left to the front doors.
    #[arg(long, value_name = "URL")]
    store: String,
    /// The bus the front doors publish work and task-log notices on: a `nats://`,
    /// `redis://` or `postgres://` URL.
    #[arg(long, value_name = "URL")]
    bus: String,
    /// Executions this worker runs at once; more work waits on the bus for a free worker.
    #[arg(long, value_name = "N", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// How long the lease of a running task's execution lives without renewal (renewed
    /// every third of it), e.g. 10s. A task whose worker died is taken over by another
    /// process within this time and half of it: run again when the agent is safe to retry,
    /// else ended FAILED saying its execution was lost.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    lease_ttl: Duration,
    /// This worker's name (the prefix of its lease holder name, the session of its
    /// task-log notices). Default: worker- and a random id.
    #[arg(long, value_name = "NAME")]
    replica_id: Option<String>,
    /// The consumer group the workers share on the bus.
    #[arg(long, value_name = "NAME", default_value = harbor_server::worker::DEFAULT_GROUP)]
    group: String,
    /// Seconds running executions get to finish after Ctrl-C or SIGTERM; then they are
    /// cancelled and left FAILED (a retry-safe agent's task is run again elsewhere).
    #[arg(long, default_value_t = 10)]
    shutdown_grace: u64,
    #[command(flatten)]
    agent: crate::exec::ExecArgs,
}

pub(crate) async fn run(args: WorkerArgs) -> anyhow::Result<()> {
    let store = open_store(&args.store).await?;
    let bus = harbor::default_registry()?
        .open_bus(&args.bus)
        .await
        .with_context(|| format!("cannot open the bus {}", args.bus))?;
    let agent: Arc<dyn harbor_server::AgentExecutor> = match args.agent.agent()? {
        Some(program) => Arc::new(program),
        None => Arc::new(ConformanceAgent::default()),
    };
    let mut config = WorkerConfig {
        group: args.group.clone(),
        concurrency: usize::try_from(args.concurrency).unwrap_or(usize::MAX),
        lease_ttl: args.lease_ttl,
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        ..WorkerConfig::default()
    };
    if let Some(name) = &args.replica_id {
        config.replica.clone_from(name);
    }
    let worker = Worker::with_config(bus, store, agent, config)
        .map_err(|e| anyhow::anyhow!("cannot start the worker: {e}"))?;
    println!("harbor worker: taking work");
    println!("  name        {}", worker.config().replica);
    println!("  work        group {} on {}", args.group, args.bus);
    println!("  tasks       {}", args.store_redacted());
    match &args.agent.exec {
        Some(command) => println!("  agent       {command} (one process per message)"),
        None => println!("  agent       the built-in conformance agent"),
    }
    println!(
        "  executions  at most {} at once, leases of {:?}",
        args.concurrency, args.lease_ttl
    );
    println!("Press Ctrl-C to stop.");
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        crate::serve::wait_for_signal().await;
        eprintln!("harbor worker: shutting down");
        signal.cancel();
    });
    worker
        .run(shutdown)
        .await
        .map_err(|e| anyhow::anyhow!("the worker stopped: {e}"))
}

impl WorkerArgs {
    fn store_redacted(&self) -> String {
        #[cfg(feature = "postgres")]
        if let Ok(config) = harbor_postgres::PostgresBusConfig::from_url(&self.store) {
            return format!(
                "{} schema {} (PostgreSQL)",
                config.redacted_server(),
                config.schema
            );
        }
        "PostgreSQL".to_owned()
    }
}

#[cfg(feature = "postgres")]
async fn open_store(url: &str) -> anyhow::Result<Arc<dyn harbor_distributed::TaskLog>> {
    let config = harbor_postgres::PostgresBusConfig::from_url(url)
        .map_err(|e| anyhow::anyhow!("--store: {e}"))?;
    // Retention is the front doors' job.
    let options = harbor_postgres::StoreOptions {
        retention: harbor_postgres::Retention::FOREVER,
        ..harbor_postgres::StoreOptions::default()
    };
    let store = harbor_postgres::PostgresTaskStore::with_config(config, options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the task store: {e}"))?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "postgres"))]
async fn open_store(_: &str) -> anyhow::Result<Arc<dyn harbor_distributed::TaskLog>> {
    anyhow::bail!("--store needs the postgres feature, which this harbor was built without")
}
