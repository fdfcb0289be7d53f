//! `mesh`: parse the command line, load config, init telemetry, run, wait for a signal, drain.

use std::process::ExitCode;

use clap::Parser;
use mesh_cli::cli::{Cli, Command, ConfigCommand};
use mesh_cli::config::MeshConfig;
use mesh_cli::{CliError, up};
use mesh_runtime::shutdown::{self, Drained};
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
            println!("{}: OK", file.display());
            let shown = serde_json::to_string_pretty(&config::redacted(&config))
                .unwrap_or_else(|e| e.to_string());
            println!("{shown}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Registry(args) => {
            let config = service_config(&cli, |c| args.apply(c))?;
            let root = Shutdown::new();
            let registry = mesh_registry::start(config.registry.clone(), &root).await?;
            let store = match &config.registry.data_dir {
                Some(d) => format!("on-disk store in {}", d.display()),
                None => "in-memory store (pass --data-dir to keep schemas)".to_owned(),
            };
            println!(
                "mesh registry listening on http://{} ({store})",
                registry.addr
            );
            wait_and_drain(&root, &config).await;
            drop(registry);
            Ok(ExitCode::SUCCESS)
        }
        Command::Up(args) => {
            let config = service_config(&cli, |c| args.apply(c))?;
            let root = Shutdown::new();
            let running = match up::start(&config, &root).await {
                Ok(r) => r,
                Err(e) => {
                    root.drain(config.shutdown_grace).await;
                    return Err(e);
                }
            };
            println!("{}", running.banner());
            wait_and_drain(&root, &config).await;
            drop(running);
            Ok(ExitCode::SUCCESS)
        }
    }
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
async fn wait_and_drain(root: &Shutdown, config: &MeshConfig) {
    let signal = shutdown::signal().await;
    tracing::info!(signal, grace = ?config.shutdown_grace, "shutting down");
    match root.drain(config.shutdown_grace).await {
        Drained::Clean => tracing::info!("stopped cleanly"),
        Drained::TimedOut { still_running } => tracing::warn!(
            still_running,
            "grace period over; abandoning unfinished tasks"
        ),
    }
}
