//! The command line. Flags override the config file and `MESH_*` variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mesh_runtime::telemetry::LogFormat;

use crate::config::MeshConfig;

/// mesh: the backbone of a streaming data mesh on Kafka — schema registry, contract gateway,
/// lineage collector and freshness monitor.
#[derive(Debug, Parser)]
#[command(name = "mesh", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML). Layers: built-in defaults, then this file, then MESH_*
    /// environment variables (MESH_KAFKA__BOOTSTRAP_SERVERS=...), then flags.
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log line format: human for terminals, json for log collectors, auto picks by terminal.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,

    /// Log filter, e.g. `info` or `mesh_kafka=debug,info` (RUST_LOG wins if set).
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole mesh in one process: with no Kafka configured, an embedded in-memory
    /// broker on 127.0.0.1:9092, the platform topics, and every service. Runs until Ctrl-C.
    Up(UpArgs),
    /// Run the schema registry alone (Confluent Schema Registry REST API, default port 8081),
    /// or export/import its on-disk store as `_schemas` records.
    Registry(RegistryArgs),
    /// Run the lineage collector alone (OpenLineage ingest, Marquez-compatible read API, default
    /// port 5000), or show a product's lineage from a running one.
    Lineage(crate::lineage::LineageArgs),
    /// Run the freshness monitor alone (default port 8096): SLA freshness and consumer lag of
    /// every data product, alerts to _mesh.alerts, an Alertmanager webhook and /metrics.
    Freshness(crate::freshness::FreshnessArgs),
    /// Print every product's freshness, SLA, consumer lag and alerts (from the freshness API).
    Status(crate::status::StatusArgs),
    /// Print mesh's version and the librdkafka it was built with.
    Version,
    /// Work with configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the contract gateway alone: validates every product's raw topic against its
    /// contract (exactly once), HTTP health and metrics on 8095.
    Gateway(crate::gateway::GatewayArgs),
    /// Data contracts (ODCS v3): lint, init, docs, diff, apply.
    Contract(crate::contract::ContractArgs),
    /// Dead-letter queues: list and show rejected records with their reasons, replay selected
    /// ones to the raw topic (recorded on the DLQ).
    Dlq(crate::dlq::DlqArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Directory for single-node state (the registry's store); one `mesh up` per directory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address of the embedded broker (used when no Kafka is configured); port 0 = any free.
    #[arg(long, value_name = "HOST:PORT")]
    pub broker_listen: Option<SocketAddr>,

    /// Use this Kafka cluster instead of the embedded broker.
    #[arg(long, value_name = "HOST:PORT[,...]")]
    pub bootstrap_server: Option<String>,

    /// Address of the schema registry (default 127.0.0.1:8081; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub registry_listen: Option<SocketAddr>,

    /// Address of the lineage collector (default 127.0.0.1:5000; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub lineage_listen: Option<SocketAddr>,
    /// Address of the freshness monitor (default 127.0.0.1:8096; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub freshness_listen: Option<SocketAddr>,
    /// Address of the contract gateway's HTTP port (default 0.0.0.0:8095; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub gateway_listen: Option<SocketAddr>,
}

/// `mesh registry [serve] [--listen ..] [--data-dir ..]`, `mesh registry export|import ..`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: Option<RegistryCommand>,

    /// `mesh registry --listen ..` = `mesh registry serve --listen ..`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Serve the Confluent API (the default when no subcommand is given).
    Serve(ServeArgs),
    /// Write every record of an on-disk store, in log order, to FILE as `_schemas` records
    /// (JSON Lines: {"key": <key JSON>, "value": <value JSON or null>}). Offline: no registry
    /// may be serving the store.
    Export(ExportArgs),
    /// Load an export into an empty on-disk store (created if missing), after validating every
    /// record; ids, versions, configs, modes and deletions are kept. Offline, like export.
    Import(ImportArgs),
}

#[derive(Clone, Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to serve the Confluent API on (default 127.0.0.1:8081; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,

    /// Keep schemas in an on-disk store in DIR (default: registry.data_dir, else in memory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Where schemas live: `embedded` (one process; --data-dir or memory) or `kafka` (the
    /// registry.topic `_schemas` on kafka.bootstrap_servers, shared by any number of instances;
    /// also serves a topic written by Confluent or Karapace). Default: registry.store.
    #[arg(long, value_name = "embedded|kafka")]
    pub store: Option<mesh_registry::StoreKind>,

    /// Kafka to use with `--store kafka` (default: kafka.bootstrap_servers).
    #[arg(long, value_name = "HOST:PORT[,..]")]
    pub bootstrap_server: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The store to export (default: registry.data_dir; `mesh up` keeps it in <data_dir>/registry).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The file to write (replaced if it exists).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The store to import into, which must be empty (default: registry.data_dir; `mesh up`
    /// keeps it in <data_dir>/registry).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The export to read.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load FILE as `mesh --config FILE` would (with MESH_* variables applied), report the
    /// first problem with the key and source that caused it, or print the effective config
    /// with secrets redacted.
    Check {
        /// The TOML file to check.
        file: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormatArg {
    Auto,
    Human,
    Json,
}

impl Cli {
    /// Applies the global flags to a loaded config.
    pub fn apply(&self, config: &mut MeshConfig) {
        if let Some(f) = self.log_format {
            config.telemetry.log_format = match f {
                LogFormatArg::Auto => LogFormat::Auto,
                LogFormatArg::Human => LogFormat::Human,
                LogFormatArg::Json => LogFormat::Json,
            };
        }
        if let Some(l) = &self.log_level {
            config.telemetry.log_level.clone_from(l);
        }
    }
}

impl UpArgs {
    pub fn apply(&self, config: &mut MeshConfig) {
        if let Some(d) = &self.data_dir {
            config.data_dir.clone_from(d);
        }
        if let Some(l) = self.broker_listen {
            config.embedded_broker.listen = l;
        }
        if let Some(b) = &self.bootstrap_server {
            config.kafka.bootstrap_servers = Some(b.clone());
        }
        if let Some(l) = self.registry_listen {
            config.registry.listen = l;
        }
        if let Some(l) = self.lineage_listen {
            config.lineage.listen = l;
        }
        if let Some(l) = self.freshness_listen {
            config.freshness.listen = l;
        }
        if let Some(l) = self.gateway_listen {
            config.gateway.listen = l;
        }
    }
}

impl RegistryArgs {
    /// The serve flags, whether given before or after `serve`; `None` for export/import.
    pub fn serve_args(&self) -> Option<&ServeArgs> {
        match &self.command {
            None => Some(&self.serve),
            Some(RegistryCommand::Serve(args)) => Some(args),
            Some(_) => None,
        }
    }
}

impl ServeArgs {
    pub fn apply(&self, config: &mut MeshConfig) {
        if let Some(l) = self.listen {
            config.registry.listen = l;
        }
        if let Some(d) = &self.data_dir {
            config.registry.data_dir = Some(d.clone());
        }
        if let Some(s) = self.store {
            config.registry.store = s;
        }
        if let Some(b) = &self.bootstrap_server {
            config.kafka.bootstrap_servers = Some(b.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_override_config() {
        let cli = Cli::parse_from([
            "mesh",
            "--log-format",
            "json",
            "up",
            "--broker-listen",
            "127.0.0.1:0",
            "--data-dir",
            "/tmp/x",
        ]);
        let mut config = MeshConfig::default();
        cli.apply(&mut config);
        let Command::Up(up) = &cli.command else {
            panic!("parsed {:?}", cli.command)
        };
        up.apply(&mut config);
        assert_eq!(config.telemetry.log_format, LogFormat::Json);
        assert_eq!(config.embedded_broker.listen.port(), 0);
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
    }

    fn registry(args: &[&str]) -> Result<RegistryArgs, clap::Error> {
        let cli = Cli::try_parse_from(["mesh", "registry"].iter().chain(args))?;
        match cli.command {
            Command::Registry(r) => Ok(r),
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn registry_serves_by_default_and_has_export_and_import() {
        for args in [
            &["--listen", "127.0.0.1:0", "--data-dir", "/d"][..],
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", "/d"],
        ] {
            let r = registry(args).unwrap();
            let serve = r.serve_args().expect("serve");
            assert_eq!(serve.listen.map(|l| l.port()), Some(0));
            assert_eq!(serve.data_dir.as_deref(), Some(std::path::Path::new("/d")));
        }
        assert!(registry(&[]).unwrap().serve_args().is_some());
        let r = registry(&["export", "--data-dir", "/d", "--output", "/f"]).unwrap();
        assert!(r.serve_args().is_none());
        let Some(RegistryCommand::Export(e)) = r.command else {
            panic!("{r:?}")
        };
        assert_eq!(e.output, PathBuf::from("/f"));
        let r = registry(&["import", "--data-dir", "/d", "-i", "/f"]).unwrap();
        assert!(
            matches!(r.command, Some(RegistryCommand::Import(ref i)) if i.input == std::path::Path::new("/f"))
        );
        // Serve flags do not mix with a subcommand; export needs its file.
        assert!(registry(&["--listen", "127.0.0.1:0", "export", "-o", "/f"]).is_err());
        assert!(registry(&["export", "--data-dir", "/d"]).is_err());
        let r = registry(&["--store", "kafka", "--bootstrap-server", "k:9092"]).unwrap();
        let mut config = MeshConfig::default();
        r.serve_args().unwrap().apply(&mut config);
        assert_eq!(config.registry.store, mesh_registry::StoreKind::Kafka);
        assert_eq!(config.kafka.bootstrap_servers.as_deref(), Some("k:9092"));
        assert!(registry(&["--store", "zookeeper"]).is_err());
    }
}
