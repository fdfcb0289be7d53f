//! `mesh contract ...`: lint, init, docs, diff and apply data contracts.
//!
//! - [`files`]: finding contract files under PATHs and the governance files next to them;
//! - [`lint`] / [`init`] / [`docs`]: offline commands;
//! - [`apply`]: `diff` and `apply` against the registry and Kafka (with [`registry`] and
//!   [`state`], the `_mesh.contracts` reader/writer);
//! - [`provision`]: the task `mesh up` runs so its embedded broker (no CreateTopics) gets the
//!   topics of every contract written to `_mesh.contracts`.

pub mod apply;
pub mod docs;
pub mod files;
pub mod init;
pub mod lint;
pub mod provision;
pub mod registry;
pub mod state;
pub mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use crate::CliError;

/// `mesh contract <command>`.
#[derive(Debug, Args)]
pub struct ContractArgs {
    #[command(subcommand)]
    pub command: ContractCommand,
}

#[derive(Debug, Subcommand)]
pub enum ContractCommand {
    /// Check contracts (ODCS v3 YAML): document, schema, rules, ownership and policies.
    /// Compiler-style diagnostics; exit code 1 when any is an error.
    Lint(LintArgs),
    /// Scaffold a valid contract and schema for a new data product.
    Init(InitArgs),
    /// Write a browsable Markdown catalog of the products.
    Docs(DocsArgs),
    /// Show what `apply` would change, and breaking changes, without changing anything.
    Diff(ApplyArgs),
    /// Provision products: topics, registry subject (schema, metadata, rules, compatibility)
    /// and the `_mesh.contracts` record. Idempotent; refuses breaking changes within a major.
    Apply(ApplyArgs),
}

/// Governance files; by default `policies.yaml` and `domains.yaml` are looked up in the
/// contracts' directory and its parents.
#[derive(Clone, Debug, Default, Args)]
pub struct GovernanceArgs {
    /// Organisation policies file (YAML; CEL over the contract).
    #[arg(long, value_name = "FILE")]
    pub policies: Option<PathBuf>,
    /// Domains file (domain → owners, principals, topic prefix, domain policies).
    #[arg(long, value_name = "FILE")]
    pub domains: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Contract files, or directories searched for `*.odcs.yaml`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// text: `file:line:col: severity[code]: message`; json: for machines.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub governance: GovernanceArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The owning domain (lower-case, e.g. `orders`).
    #[arg(long)]
    pub domain: String,
    /// The product name (lower-case, e.g. `order-placed`).
    #[arg(long)]
    pub product: String,
    /// event: facts that happened; entity: latest state per key (compacted, tombstones);
    /// snapshot: periodic full snapshots.
    #[arg(long, value_enum, default_value_t = init::Template::Event)]
    pub template: init::Template,
    /// Directory to write `<product>.odcs.yaml` and `<product>.avsc` into.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// Contract files, or directories searched for `*.odcs.yaml`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output directory (created): `index.md` plus one page per product.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub governance: GovernanceArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Contract files, or directories searched for `*.odcs.yaml`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Schema registry (Confluent API).
    #[arg(long, default_value = "http://localhost:8081", value_name = "URL")]
    pub registry_url: String,
    /// Kafka bootstrap servers [default: kafka.bootstrap_servers of --config, else
    /// localhost:9092 (`mesh up`'s)]. TLS/SASL settings come from the config's [kafka].
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: Option<String>,
    /// The contracts topic.
    #[arg(long, default_value = "_mesh.contracts", value_name = "TOPIC")]
    pub contracts_topic: String,
    /// text: a summary table; json: one object per contract (product, result, details).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub governance: GovernanceArgs,
}

/// Runs a `mesh contract` command; `kafka` is the config's `[kafka]` section (client security
/// settings). The exit code says whether it succeeded.
pub async fn run(
    args: &ContractArgs,
    kafka: &mesh_kafka::KafkaConfig,
) -> Result<ExitCode, CliError> {
    let mut out = std::io::stdout().lock();
    match &args.command {
        ContractCommand::Lint(a) => lint::run(a, &mut out),
        ContractCommand::Init(a) => init::run(a, &mut out),
        ContractCommand::Docs(a) => docs::run(a, &mut out),
        ContractCommand::Diff(a) => {
            drop(out);
            apply::run(a, kafka, apply::Mode::Diff, &mut std::io::stdout()).await
        }
        ContractCommand::Apply(a) => {
            drop(out);
            apply::run(a, kafka, apply::Mode::Apply, &mut std::io::stdout()).await
        }
    }
}

fn io_err(e: std::io::Error) -> CliError {
    CliError::Contract(format!("cannot write output: {e}"))
}
