//! `mesh`: parse the command line, load config, init telemetry, run, wait for a signal, drain.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use mesh_cli::cli::{Cli, Command, ConfigCommand, RegistryCommand, ServeArgs};
use mesh_cli::config::MeshConfig;
use mesh_cli::lineage::{self, LineageCommand, LineageServeArgs};
use mesh_cli::{CliError, up};
use mesh_registry::export::{self, StoreLock, TransferError};
use mesh_runtime::shutdown::{Drained, Signals};
use mesh_runtime::{Shutdown, config, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)] // printing is what these commands are for
async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match &cli.command {
        Command::Version => {
            let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
            println!("mesh {}", env!("CARGO_PKG_VERSION"));
            println!("librdkafka {librdkafka}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Check { file }) => {
            let config: MeshConfig = config::load(Some(file))?;
            config.kafka.validate()?;
            config
                .freshness
                .validate()
                .map_err(mesh_freshness::FreshnessError::Config)?;
            println!("{}: OK", file.display());
            let shown = serde_json::to_string_pretty(&config::redacted(&config))
                .unwrap_or_else(|e| e.to_string());
            println!("{shown}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Registry(args) => match &args.command {
            None => serve_registry(&cli, &args.serve).await,
            Some(RegistryCommand::Serve(serve)) => serve_registry(&cli, serve).await,
            Some(RegistryCommand::Export(e)) => transfer(&cli, e.data_dir.as_deref(), |dir| {
                let counts = export::export_dir(dir, &e.output)?;
                Ok(format!(
                    "exported {} from {} to {}",
                    export::describe(&counts),
                    dir.display(),
                    e.output.display()
                ))
            }),
            Some(RegistryCommand::Import(i)) => transfer(&cli, i.data_dir.as_deref(), |dir| {
                let report = export::import_dir(dir, &i.input)?;
                let mut msg = format!(
                    "imported {} from {} into {}",
                    export::describe(&report.imported),
                    i.input.display(),
                    dir.display()
                );
                if !report.skipped.is_empty() {
                    msg.push_str(&format!(
                        "; skipped {} of keytypes this registry does not handle",
                        export::describe(&report.skipped)
                    ));
                }
                Ok(msg)
            }),
        },
        Command::Lineage(args) => match &args.command {
            Some(LineageCommand::Show(show)) => {
                println!("{}", lineage::show(show).await?);
                Ok(ExitCode::SUCCESS)
            }
            Some(LineageCommand::Serve(serve)) => serve_lineage(&cli, serve).await,
            None => serve_lineage(&cli, &args.serve).await,
        },
        Command::Contract(args) => {
            let quiet = cli.log_level.is_none();
            let config = service_config(&cli, |c| {
                // A client command: only warnings unless asked (--log-level / RUST_LOG).
                if quiet {
                    c.telemetry.log_level = "warn".into();
                }
            })?;
            mesh_cli::contract::run(args, &config.kafka).await
        }
        Command::Freshness(args) => {
            let config = service_config(&cli, |c| args.apply(c))?;
            let root = Shutdown::new();
            let signals = install_signals()?;
            let running = mesh_cli::freshness::start(&config, &config.kafka, &root).await?;
            println!("mesh freshness listening on http://{}", running.addr);
            wait_and_drain(signals, &root, &config).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status(args) => {
            let mut config: MeshConfig = config::load(cli.config.as_deref())?;
            cli.apply(&mut config);
            print!("{}", mesh_cli::status::run(&config, args).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Dlq(args) => {
            let mut config: MeshConfig = config::load(cli.config.as_deref())?;
            cli.apply(&mut config);
            print!("{}", mesh_cli::dlq::run(&config, &args.command).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Gateway(args) => {
            let config = service_config(&cli, |c| args.apply(c))?;
            let root = Shutdown::new();
            let signals = install_signals()?;
            let g = mesh_gateway::Gateway::default()
                .start(
                    mesh_cli::gateway::gateway_config(&config),
                    config.kafka.clone(),
                    &root,
                )
                .await?;
            println!(
                "mesh gateway listening on http://{} (POST /api/v1/products/{{product}}/events, /api/v1/openapi.json, /health/ready, /metrics)",
                g.addr
            );
            wait_and_drain(signals, &root, &config).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Up(args) => {
            let config = service_config(&cli, |c| args.apply(c))?;
            let root = Shutdown::new();
            let signals = install_signals()?;
            let running = match up::start(&config, &root).await {
                Ok(r) => r,
                Err(e) => {
                    root.drain(config.shutdown_grace).await;
                    return Err(e);
                }
            };
            // Export/import refuse a store a registry is serving; this is `up`'s (up.rs). On a
            // real cluster the registry's store is the `_schemas` topic: nothing on disk.
            let registry_dir = match &config.registry.data_dir {
                Some(d) => d.clone(),
                None => config.data_dir.join("registry"),
            };
            let store_lock = if matches!(running.broker, up::Broker::External { .. }) {
                None
            } else {
                match lock_registry_store(&registry_dir) {
                    Ok(l) => Some(l),
                    Err(e) => {
                        root.drain(config.shutdown_grace).await;
                        return Err(e);
                    }
                }
            };
            println!("{}", running.banner());
            wait_and_drain(signals, &root, &config).await;
            drop(running);
            drop(store_lock);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `mesh registry [serve]`: the Confluent API until a signal.
#[allow(clippy::print_stdout)]
async fn serve_registry(cli: &Cli, args: &ServeArgs) -> Result<ExitCode, CliError> {
    let config = service_config(cli, |c| args.apply(c))?;
    let on_kafka = config.registry.store == mesh_registry::StoreKind::Kafka;
    // One process per on-disk store: a second registry, export and import are refused.
    let store_lock = match &config.registry.data_dir {
        Some(d) if !on_kafka => Some(lock_registry_store(d)?),
        _ => None,
    };
    let root = Shutdown::new();
    let signals = install_signals()?;
    let (registry, store) = if on_kafka {
        mesh_cli::registry_store::start_on_kafka(&config, &root).await?
    } else {
        let registry = mesh_registry::start(config.registry.clone(), &root).await?;
        let store = match &config.registry.data_dir {
            Some(d) => format!("on-disk store in {}", d.display()),
            None => "in-memory store (pass --data-dir to keep schemas)".to_owned(),
        };
        (registry, store)
    };
    println!(
        "mesh registry listening on http://{} ({store})",
        registry.addr
    );
    wait_and_drain(signals, &root, &config).await;
    drop(registry);
    drop(store_lock);
    Ok(ExitCode::SUCCESS)
}

/// `mesh lineage [serve]`: the collector until a signal.
#[allow(clippy::print_stdout)]
async fn serve_lineage(cli: &Cli, args: &LineageServeArgs) -> Result<ExitCode, CliError> {
    let config = service_config(cli, |c| args.apply(c))?;
    let root = Shutdown::new();
    let signals = install_signals()?;
    let running = lineage::serve(&config, &root).await?;
    println!(
        "mesh lineage listening on http://{} (topic {})",
        running.addr, config.topics.lineage
    );
    wait_and_drain(signals, &root, &config).await;
    drop(running);
    Ok(ExitCode::SUCCESS)
}

fn lock_registry_store(dir: &Path) -> Result<StoreLock, CliError> {
    export::lock_store_dir(dir).map_err(|e| CliError::DataDir {
        path: dir.to_path_buf(),
        source: std::io::Error::other(e),
    })
}

/// `mesh registry export|import`: runs `op` on the store directory (the flag, else
/// `registry.data_dir`) and prints its summary, or the error.
#[allow(clippy::print_stdout)]
fn transfer(
    cli: &Cli,
    data_dir: Option<&Path>,
    op: impl FnOnce(&Path) -> Result<String, TransferError>,
) -> Result<ExitCode, CliError> {
    let mut config: MeshConfig = config::load(cli.config.as_deref())?;
    cli.apply(&mut config);
    telemetry::init(&config.telemetry)?;
    let Some(dir) = data_dir.map(Path::to_path_buf).or(config.registry.data_dir) else {
        eprintln!("error: no registry store given: pass --data-dir DIR (or set registry.data_dir)");
        return Ok(ExitCode::FAILURE);
    };
    match op(&dir) {
        Ok(summary) => {
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, TransferError::NoStore { .. }) && dir.join("registry").is_dir() {
                eprintln!(
                    "hint: `mesh up` keeps its registry store in {}",
                    dir.join("registry").display()
                );
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Installs the SIGINT/SIGTERM handlers before anything announces the process is up.
fn install_signals() -> Result<Signals, CliError> {
    Signals::install().map_err(|e| {
        CliError::Runtime(mesh_runtime::RuntimeError::Telemetry(format!(
            "cannot install signal handlers: {e}"
        )))
    })
}

/// Loads the config for a long-running command (file, env, global flags, then the command's
/// own flags) and starts telemetry with it.
fn service_config(
    cli: &Cli,
    command_flags: impl FnOnce(&mut MeshConfig),
) -> Result<MeshConfig, CliError> {
    let mut config: MeshConfig = config::load(cli.config.as_deref())?;
    cli.apply(&mut config);
    command_flags(&mut config);
    telemetry::init(&config.telemetry)?;
    Ok(config)
}

/// Waits for SIGINT/SIGTERM, then drains the shutdown tree within the grace period.
async fn wait_and_drain(mut signals: Signals, root: &Shutdown, config: &MeshConfig) {
    let signal = signals.recv().await;
    tracing::info!(signal, grace = ?config.shutdown_grace, "shutting down");
    match root.drain(config.shutdown_grace).await {
        Drained::Clean => tracing::info!("stopped cleanly"),
        Drained::TimedOut { still_running } => tracing::warn!(
            still_running,
            "grace period over; abandoning unfinished tasks"
        ),
    }
}
