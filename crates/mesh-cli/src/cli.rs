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
    /// Run the schema registry alone (Confluent Schema Registry REST API, default port 8081).
    Registry(RegistryArgs),
    /// Print mesh's version and the librdkafka it was built with.
    Version,
    /// Work with configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
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
}

#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Address to serve the Confluent API on (default 127.0.0.1:8081; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,

    /// Keep schemas in an on-disk store in DIR (default: registry.data_dir, else in memory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
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
    }
}

impl RegistryArgs {
    pub fn apply(&self, config: &mut MeshConfig) {
        if let Some(l) = self.listen {
            config.registry.listen = l;
        }
        if let Some(d) = &self.data_dir {
            config.registry.data_dir = Some(d.clone());
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
}
