//! `harbor serve`: the A2A server with the built-in conformance agent, or a program as the
//! agent (`--exec`, see [`crate::exec`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use harbor_a2a::{
    AgentCapabilities, AgentCard, AgentInterface, AgentProvider, AgentSkill, VersionErrorCode,
};
use harbor_distributed::{MemoryTaskStore, MessageBus, Retention, TaskLog};
use harbor_embedded::{Embedded, EmbeddedConfig, StoreConfig};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::http::{AGENT_CARD_PATH, HttpConfig};
use tokio_util::sync::CancellationToken;

use crate::duration::parse_duration;

/// Options of `harbor serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port of the HTTP bindings (JSON-RPC and HTTP+JSON); 0 picks a free port.
    #[arg(long, default_value_t = 9999)]
    port: u16,
    /// Base URL the agent card advertises (default: http://HOST:PORT, with 127.0.0.1 for a
    /// wildcard host). Set it when clients reach the server through another name.
    #[arg(long)]
    public_url: Option<String>,
    /// The gRPC interface (`HOST:PORT`) the agent card advertises (default: the public
    /// URL's host with this server's gRPC port). Set it when clients reach gRPC through a
    /// proxy in front of several servers.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "no_grpc")]
    public_grpc_url: Option<String>,
    /// The agent's name on its card (default: "Harbor Conformance Agent", or with --exec
    /// "Harbor exec agent").
    #[arg(long)]
    name: Option<String>,
    /// The agent's description on its card (default: what the built-in agent does, or
    /// with --exec the command it runs).
    #[arg(long)]
    description: Option<String>,
    /// Do not declare or serve streaming (SendStreamingMessage, SubscribeToTask).
    #[arg(long)]
    no_streaming: bool,
    /// Do not declare or serve push notifications.
    #[arg(long)]
    no_push: bool,
    /// Do not declare or serve the extended agent card.
    #[arg(long)]
    no_extended_card: bool,
    /// Path of the JSON-RPC endpoint.
    #[arg(long, default_value = "/a2a/jsonrpc")]
    jsonrpc_path: String,
    /// Prefix of the HTTP+JSON routes.
    #[arg(long, default_value = "/a2a/rest")]
    rest_prefix: String,
    /// Directory of the embedded durable engine, where tasks and push configs survive
    /// restarts (default: $XDG_DATA_HOME/harbor, else ~/.local/share/harbor, else
    /// ./harbor-data). One server per directory.
    #[arg(long, value_name = "DIR", conflicts_with = "in_memory")]
    data_dir: Option<PathBuf>,
    /// Keep tasks, their event logs and push cursors in PostgreSQL instead of the data
    /// directory: `postgres://USER@HOST:PORT/DB` (query parameters `schema`, default
    /// `harbor`, `pool_size`, `connect_timeout`). Several servers may share one store; with
    /// `--bus`, a stream on any of them follows a task another one runs.
    #[arg(long, value_name = "URL", conflicts_with_all = ["in_memory", "data_dir"])]
    store: Option<String>,
    /// With a shared --store: how long the lease of a running task's execution lives
    /// without renewal (renewed every third of it), e.g. 10s. A task whose server died is
    /// taken over by another server within this time and half of it: run again when the
    /// agent is safe to retry, else ended FAILED saying its execution was lost.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, requires = "store")]
    lease_ttl: Duration,
    /// Keep tasks in memory only: nothing is written to disk and everything is lost when
    /// the server stops (for tests and short experiments).
    #[arg(long)]
    in_memory: bool,
    /// Seconds running tasks get to finish after Ctrl-C or SIGTERM (new messages are then
    /// refused); then they are cancelled and left FAILED, and open streams end.
    #[arg(long, default_value_t = 10)]
    shutdown_grace: u64,
    /// Port of the gRPC binding (default: the HTTP port + 1, or a free port when --port is
    /// 0); 0 picks a free port. Plaintext unless --grpc-tls-cert and --grpc-tls-key are given.
    #[arg(long, value_name = "PORT", conflicts_with = "no_grpc")]
    grpc_port: Option<u16>,
    /// PEM certificate chain (leaf first) for gRPC over TLS; needs --grpc-tls-key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "grpc_tls_key",
        conflicts_with = "no_grpc"
    )]
    grpc_tls_cert: Option<PathBuf>,
    /// PEM private key for gRPC over TLS; needs --grpc-tls-cert.
    #[arg(long, value_name = "FILE", requires = "grpc_tls_cert")]
    grpc_tls_key: Option<PathBuf>,
    /// Do not serve (or declare) the gRPC binding.
    #[arg(long)]
    no_grpc: bool,
    /// How long the event log of a finished task is kept (for streams resuming with
    /// Last-Event-ID) before it is compacted to the task itself, e.g. 30s, 5m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    log_retention: Duration,
    /// How long a finished task is kept at all (counted from when it finished), e.g. 1h;
    /// then it is deleted with its push configs. Default: kept until deleted by hand.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    task_retention: Option<Duration>,
    /// A bus to announce task-log appends on and to follow other servers' appends from,
    /// so a stream here follows a task another server runs: `memory`, `embedded` (this
    /// data directory's own bus), or a `nats://`, `redis://` or `postgres://` URL. Default:
    /// none, for a server that is the only one writing its tasks.
    #[arg(long, value_name = "URL")]
    bus: Option<String>,
    /// Be a front door for agent workers (`harbor worker`): run no agent here. A new
    /// message's task is created SUBMITTED here and its work published on the bus for the
    /// workers; streams and blocking sends follow the worker's events; CancelTask writes
    /// CANCELED here and the worker stops. Needs --store and --bus. See docs/workers.md.
    #[arg(long, requires_all = ["store", "bus"])]
    workers: bool,
    /// This server's name on the bus (its consumer group there; keep it stable across
    /// restarts). Default: harbor-PORT.
    #[arg(long, value_name = "NAME", requires = "bus")]
    replica_id: Option<String>,

    // --- the agent and protocol-version settings ---
    /// The gRPC status of VersionNotSupported: failed-precondition (spec v1.0.1) or
    /// unimplemented (what v1.0.0 peers and the A2A conformance kit expect).
    #[arg(
        long,
        value_name = "STATUS",
        default_value = "failed-precondition",
        value_parser = version_status_parser(),
        conflicts_with = "no_grpc"
    )]
    grpc_version_error: VersionErrorCode,
    #[command(flatten)]
    agent: crate::exec::ExecArgs,
    #[command(flatten)]
    limits: crate::serve_limits::LimitArgs,
    #[command(flatten)]
    push: crate::serve_push::PushArgs,
    #[command(flatten)]
    obs: crate::serve_obs::ObsArgs,
    #[command(flatten)]
    config: crate::config::ConfigArgs,
    #[command(flatten)]
    auth: crate::serve_auth::AuthArgs,
}

impl ServeArgs {
    /// How this server logs.
    pub(crate) fn logs(&self) -> crate::serve_obs::LogArgs {
        self.obs.logs.clone()
    }
}

/// `failed-precondition` or `unimplemented`, as the setting of the gRPC binding.
fn version_status_parser() -> impl clap::builder::TypedValueParser<Value = VersionErrorCode> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["failed-precondition", "unimplemented"]).map(|s| {
        if s == "unimplemented" {
            VersionErrorCode::Compat
        } else {
            VersionErrorCode::Spec
        }
    })
}

/// Binds the gRPC listener `args` ask for, if any, next to the HTTP one at `http`.
async fn grpc_listener(
    args: &ServeArgs,
    http: SocketAddr,
) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    if args.no_grpc {
        return Ok(None);
    }
    let port = args.grpc_port.unwrap_or_else(|| {
        if args.port == 0 {
            0
        } else {
            http.port().saturating_add(1)
        }
    });
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), port))
        .await
        .with_context(|| {
            format!(
                "cannot listen for gRPC on {}:{port} (--grpc-port, or --no-grpc)",
                args.host
            )
        })?;
    Ok(Some(listener))
}

/// The gRPC TLS settings `args` name, read now so that a missing file stops the server
/// before it says it is listening.
fn grpc_tls(args: &ServeArgs) -> anyhow::Result<Option<harbor_server::grpc::GrpcTlsConfig>> {
    let (Some(cert), Some(key)) = (
        args.grpc_tls_cert.as_ref().or(args.auth.tls_cert.as_ref()),
        args.grpc_tls_key.as_ref().or(args.auth.tls_key.as_ref()),
    ) else {
        return Ok(None);
    };
    let read = |path: &PathBuf, what: &str| {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the gRPC TLS {what} {}", path.display()))
    };
    Ok(Some(harbor_server::grpc::GrpcTlsConfig::Pem {
        cert: read(cert, "certificate")?,
        key: read(key, "key")?,
    }))
}

/// The gRPC interface URL, `host:port`: the public URL's host when one is given.
fn grpc_url(public_url: Option<&str>, local: SocketAddr) -> String {
    let public_host = public_url
        .and_then(|url| reqwest::Url::parse(url).ok())
        .and_then(|url| url.host_str().map(str::to_owned));
    match public_host {
        Some(host) => format!("{host}:{}", local.port()),
        None => harbor_server::grpc::interface(local).url,
    }
}

/// Where tasks live: the store, the embedded engine when there is one, a line saying
/// where that is, and whether other servers may share it.
struct Storage {
    store: Arc<dyn TaskLog>,
    engine: Option<Embedded>,
    description: String,
    shared: bool,
}

/// How long the store keeps finished tasks and their logs, whichever store it is.
fn retention(args: &ServeArgs) -> Retention {
    Retention {
        task: args.task_retention,
        log: Some(args.log_retention),
    }
}

/// How long the store keeps finished tasks, as the startup line says it.
fn retention_text(args: &ServeArgs) -> String {
    let tasks = args
        .task_retention
        .map_or("until deleted".to_owned(), |d| format!("{d:?}"));
    format!(
        "finished tasks' logs kept {:?}, the tasks {tasks}",
        args.log_retention
    )
}

/// The task store `args` ask for.
async fn open_store(args: &ServeArgs) -> anyhow::Result<Storage> {
    if args.in_memory {
        return Ok(Storage {
            store: Arc::new(MemoryTaskStore::with_retention(retention(args))),
            engine: None,
            description: format!(
                "in memory (lost when the server stops; {})",
                retention_text(args)
            ),
            shared: false,
        });
    }
    if let Some(url) = &args.store {
        return open_shared_store(args, url).await;
    }
    let dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let config = EmbeddedConfig {
        store: StoreConfig {
            retention: retention(args),
            ..StoreConfig::default()
        },
        ..EmbeddedConfig::new(&dir)
    };
    let engine = Embedded::open(config)
        .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
    Ok(Storage {
        store: engine.task_store(),
        description: format!(
            "{} (embedded, durable; {})",
            dir.display(),
            retention_text(args)
        ),
        engine: Some(engine),
        shared: false,
    })
}

/// The PostgreSQL store at `url`.
#[cfg(feature = "postgres")]
async fn open_shared_store(args: &ServeArgs, url: &str) -> anyhow::Result<Storage> {
    let options = harbor_postgres::StoreOptions {
        retention: retention(args),
        ..harbor_postgres::StoreOptions::default()
    };
    let config = harbor_postgres::PostgresBusConfig::from_url(url)
        .map_err(|e| anyhow::anyhow!("--store: {e}"))?;
    let description = format!(
        "{} schema {} (PostgreSQL, shared; {})",
        config.redacted_server(),
        config.schema,
        retention_text(args)
    );
    let store = harbor_postgres::PostgresTaskStore::with_config(config, options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the task store: {e}"))?;
    Ok(Storage {
        store: Arc::new(store),
        engine: None,
        description,
        shared: true,
    })
}

#[cfg(not(feature = "postgres"))]
async fn open_shared_store(_: &ServeArgs, _: &str) -> anyhow::Result<Storage> {
    anyhow::bail!("--store needs the postgres feature, which this harbor was built without")
}

/// The bus `--bus` names, if any.
async fn open_bus(
    args: &ServeArgs,
    storage: &Storage,
) -> anyhow::Result<Option<Arc<dyn harbor_distributed::MessageBus>>> {
    let Some(url) = args.bus.as_deref() else {
        return Ok(None);
    };
    if url == "embedded" {
        let engine = storage
            .engine
            .as_ref()
            .context("--bus embedded uses the data directory's bus, which --in-memory and --store do not have")?;
        return Ok(Some(engine.bus()));
    }
    let bus = harbor::default_registry()?
        .open_bus(url)
        .await
        .with_context(|| format!("cannot open the bus {url}"))?;
    Ok(Some(bus))
}

/// `$XDG_DATA_HOME/harbor`, else `~/.local/share/harbor`, else `./harbor-data`.
fn default_data_dir() -> PathBuf {
    let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        return PathBuf::from(data).join("harbor");
    }
    if let Some(home) = non_empty("HOME") {
        return PathBuf::from(home).join(".local/share/harbor");
    }
    PathBuf::from("harbor-data")
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let local = listener.local_addr()?;
    let auth = args.auth.auth()?;
    let http_tls = args.auth.http_tls();
    let base = args
        .public_url
        .clone()
        .unwrap_or_else(|| default_base_url(local, http_tls.is_some()));
    let base = base.trim_end_matches('/').to_owned();
    let http = args.limits.http(HttpConfig {
        jsonrpc_path: args.jsonrpc_path.clone(),
        rest_prefix: args.rest_prefix.clone(),
        auth: auth.clone(),
        tls: http_tls,
        ..HttpConfig::default()
    });
    let grpc_tls = grpc_tls(&args)?;
    let grpc = grpc_listener(&args, local).await?;
    let grpc_local = grpc.as_ref().map(|l| l.local_addr()).transpose()?;
    let grpc_url = grpc_local.map(|addr| {
        args.public_grpc_url
            .clone()
            .unwrap_or_else(|| grpc_url(args.public_url.as_deref(), addr))
    });
    let mut card = card(&args, &base, &http, grpc_url.as_deref());
    let mut extended_card =
        crate::serve_auth::secure_card(&mut card, &auth, !args.no_extended_card);
    if let Some(signer) = args.auth.card_signer()? {
        card = signer.sign(card)?;
        extended_card = extended_card.map(|c| signer.sign(c)).transpose()?;
    }

    let admin = match args.push.admin {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for the admin surface on {addr}"))?,
        ),
        None => None,
    };
    // Metrics are recorded when the admin listener can serve them.
    let metrics = match (&admin, args.obs.no_metrics) {
        (Some(_), false) => Some(crate::serve_obs::install()?),
        _ => None,
    };
    let storage = open_store(&args).await?;
    let bus = open_bus(&args, &storage).await?;
    let (bus, metered) = match (bus, &args.bus) {
        (Some(bus), Some(url)) if metrics.is_some() => {
            let metered = crate::serve_obs::metered(bus, url);
            (
                Some(Arc::clone(&metered) as Arc<dyn MessageBus>),
                Some(metered),
            )
        }
        (bus, _) => (bus, None),
    };
    let metrics = metrics.map(|handle| crate::serve_obs::exposition(handle, metered));
    let store = Arc::clone(&storage.store);
    let push = args.push.config();
    let agent: Arc<dyn harbor_server::AgentExecutor> = match args.agent.agent()? {
        Some(program) => Arc::new(program),
        None => Arc::new(ConformanceAgent::default()),
    };
    let mut builder = DefaultHandler::builder(card, agent)
        .store(store)
        .push(push)
        .configure(|config| {
            args.limits.handler(config);
            config.lease_ttl = args.lease_ttl;
        });
    if let Some(extended) = extended_card {
        builder = builder.extended_card(extended);
    }
    if args.workers {
        builder = builder.workers();
    }
    if let Some(bus) = &bus {
        let replica = args
            .replica_id
            .clone()
            .unwrap_or_else(|| format!("harbor-{}", local.port()));
        builder = builder
            .bus(Arc::clone(bus))
            .configure(|c| c.replica = replica);
    }
    let handler = builder
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the handler: {e}"))?;
    if storage.shared {
        // Other servers may be running the tasks that look unfinished: the leases say which
        // were lost, and the handler takes those over as their leases expire.
        eprintln!(
            "harbor serve: the task store is shared: a task whose server stopped is taken over once its execution lease ({:?}) expires",
            args.lease_ttl
        );
    } else {
        recover(&handler).await?;
    }

    let shutdown = CancellationToken::new();
    let app = harbor_server::http::router_with_shutdown(
        Arc::new(handler.clone()),
        &http,
        shutdown.clone(),
    );
    println!("harbor serve: listening on {local}");
    println!("  auth        {}", crate::serve_auth::describe(&auth));
    println!("  agent card  {base}{AGENT_CARD_PATH}");
    println!("  JSON-RPC    {base}{}", http.jsonrpc_path);
    println!("  HTTP+JSON   {base}{}", http.rest_prefix);
    if let Some(url) = &grpc_url {
        println!("  gRPC        {url}");
    }
    println!("  tasks       {}", storage.description);
    if let Some(url) = &args.bus {
        println!("  task logs   announced and followed on {url}");
    }
    if args.workers {
        println!(
            "  agent       none here: a front door, executions run on workers (harbor worker)"
        );
    } else if let Some(command) = &args.agent.exec {
        println!("  agent       {command} (one process per message)");
    }
    if let Some(admin) = &admin {
        println!("  admin       http://{}", admin.local_addr()?);
    }
    println!("Press Ctrl-C to stop.");

    // A signal first stops the executions (new sends are refused, running ones get the
    // grace period and end in a final status their streams see); only then do the servers
    // stop and the streams still open end with an error event.
    let signalled = CancellationToken::new();
    let signal = signalled.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        eprintln!("harbor serve: shutting down");
        signal.cancel();
    });
    if let Some(admin) = admin {
        let app = harbor_server::admin::router_with_metrics(handler.clone(), metrics);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(admin, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "the admin listener stopped");
            }
        });
    }
    let stop = shutdown.clone();
    // Served sockets get TCP_NODELAY there: small SSE frames must not wait for Nagle.
    let server = async move { harbor_server::http::serve(listener, app, &http, stop).await };
    let grace = Duration::from_secs(args.shutdown_grace);
    let mut server = tokio::spawn(server);
    let mut grpc_server = grpc.map(|listener| {
        let handler: Arc<dyn harbor_distributed::A2aHandler> = Arc::new(handler.clone());
        let config = args.limits.grpc(harbor_server::grpc::GrpcConfig {
            tls: grpc_tls,
            auth: auth.clone(),
            client_ca: args.auth.client_ca(),
            version_error_code: args.grpc_version_error,
            ..harbor_server::grpc::GrpcConfig::default()
        });
        let stop = shutdown.clone();
        tokio::spawn(
            async move { harbor_server::grpc::serve(listener, handler, &config, stop).await },
        )
    });
    let grpc_stopped = async {
        match grpc_server.as_mut() {
            Some(task) => task.await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        () = signalled.cancelled() => {}
        result = &mut server => {
            result??;
            anyhow::bail!("the server stopped without a signal");
        }
        result = grpc_stopped => {
            result??;
            anyhow::bail!("the gRPC server stopped without a signal");
        }
    }
    handler.shutdown(grace).await;
    shutdown.cancel();
    let both = async {
        server.await??;
        if let Some(grpc) = grpc_server {
            grpc.await??;
        }
        anyhow::Ok(())
    };
    match tokio::time::timeout(grace, both).await {
        Ok(result) => result?,
        Err(_) => eprintln!("harbor serve: requests still open after {grace:?}; stopping anyway"),
    }
    Ok(())
}

/// `http://HOST:PORT` (`https` with TLS), with a wildcard host replaced by loopback so the
/// card's URLs work.
fn default_base_url(local: SocketAddr, tls: bool) -> String {
    let ip = local.ip();
    let host = match ip {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    };
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{host}:{}", local.port())
}

fn card(args: &ServeArgs, base: &str, http: &HttpConfig, grpc: Option<&str>) -> AgentCard {
    let interface = |path: &str, binding: &str| AgentInterface {
        url: format!("{base}{}", path.trim_end_matches('/')),
        protocol_binding: binding.into(),
        tenant: String::new(),
        protocol_version: "1.0".into(),
    };
    let mut interfaces = vec![
        interface(&http.jsonrpc_path, "JSONRPC"),
        interface(&http.rest_prefix, "HTTP+JSON"),
    ];
    if let Some(url) = grpc {
        interfaces.push(AgentInterface {
            url: url.to_owned(),
            protocol_binding: harbor_server::grpc::GRPC_BINDING.into(),
            tenant: String::new(),
            protocol_version: "1.0".into(),
        });
    }
    let exec = args.agent.exec.as_deref();
    let name = match (&args.name, exec) {
        (Some(name), _) => name.clone(),
        (None, Some(_)) => "Harbor exec agent".to_owned(),
        (None, None) => "Harbor Conformance Agent".to_owned(),
    };
    let description = match (&args.description, exec) {
        (Some(description), _) => description.clone(),
        (None, Some(command)) => format!("A program served by Harbor: `{command}`, run once per message."),
        (None, None) => "Harbor's built-in agent: it behaves as the A2A conformance kit expects and otherwise completes each task echoing its input.".to_owned(),
    };
    let skill = match exec {
        Some(_) => AgentSkill {
            id: "program".into(),
            name: "Agent program".into(),
            description: "Whatever the program does with each message.".into(),
            tags: vec!["exec".into()],
            ..AgentSkill::default()
        },
        None => AgentSkill {
            id: "conformance".into(),
            name: "Conformance behaviours".into(),
            description: "Chooses its behaviour from the prefix of the message id or text (tck-complete-task, tck-input-required, tck-stream-001, tck-multi-turn, tck-cancel, ...); anything else completes echoing the input.".into(),
            tags: vec!["conformance".into(), "echo".into()],
            examples: vec!["hello".into()],
            ..AgentSkill::default()
        },
    };
    AgentCard {
        name,
        description,
        supported_interfaces: interfaces,
        provider: Some(AgentProvider {
            url: "https://github.com/harbor".into(),
            organization: "Harbor".into(),
        }),
        version: env!("CARGO_PKG_VERSION").into(),
        capabilities: Some(AgentCapabilities {
            streaming: Some(!args.no_streaming),
            push_notifications: Some(!args.no_push),
            extensions: Vec::new(),
            extended_agent_card: Some(!args.no_extended_card),
        }),
        default_input_modes: vec!["text/plain".into()],
        default_output_modes: vec!["text/plain".into()],
        skills: vec![skill],
        ..AgentCard::default()
    }
}

#[cfg(unix)]
pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
pub(crate) async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Resolves what was running when this server's last process died (it is its store's only
/// writer), and resumes push deliveries.
async fn recover(handler: &DefaultHandler) -> anyhow::Result<()> {
    let recovered = handler.recover().await.map_err(|e| {
        anyhow::anyhow!("cannot resolve the tasks a stopped server left running: {e}")
    })?;
    if recovered.failed + recovered.rerun > 0 {
        eprintln!(
            "harbor serve: {} task(s) left running by a stopped server were failed, {} re-run",
            recovered.failed, recovered.rerun
        );
    }
    if recovered.push_resumed > 0 {
        eprintln!(
            "harbor serve: push delivery resumed for {} config(s)",
            recovered.push_resumed
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grpc_interface_takes_the_public_host_and_the_local_port() {
        let local: SocketAddr = "127.0.0.1:10000".parse().expect("addr");
        let cases = [
            (None, "127.0.0.1:10000"),
            (
                Some("https://agents.example.com/base/"),
                "agents.example.com:10000",
            ),
            (
                Some("http://agents.example.com:8080"),
                "agents.example.com:10000",
            ),
            (Some("http://[::1]:9999"), "[::1]:10000"),
            (Some("not a url"), "127.0.0.1:10000"),
        ];
        for (public, want) in cases {
            assert_eq!(grpc_url(public, local), want, "public URL {public:?}");
        }
    }
}
