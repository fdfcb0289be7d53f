//! `mesh lineage [serve]` (the collector alone) and `mesh lineage show <product>` (a product's
//! upstream or downstream from a running collector, as a tree, Graphviz dot, or JSON).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;

use clap::{Args, Subcommand, ValueEnum};
use mesh_kafka::admin::{Provisioner, TopicSpec};
use mesh_runtime::Shutdown;
use serde_json::Value;

use crate::CliError;
use crate::config::MeshConfig;

/// `mesh lineage [serve] [--listen ..]`, `mesh lineage show <product> ..`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LineageArgs {
    #[command(subcommand)]
    pub command: Option<LineageCommand>,

    /// `mesh lineage --listen ..` = `mesh lineage serve --listen ..`.
    #[command(flatten)]
    pub serve: LineageServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum LineageCommand {
    /// Run the collector (OpenLineage ingest + Marquez-compatible read API, default port 5000)
    /// against kafka.bootstrap_servers. The default when no subcommand is given.
    Serve(LineageServeArgs),
    /// Print a product's lineage from a running collector.
    Show(ShowArgs),
}

#[derive(Clone, Debug, Default, Args)]
pub struct LineageServeArgs {
    /// Address to serve on (default 127.0.0.1:5000; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,

    /// The Kafka cluster holding `_mesh.lineage` (else kafka.bootstrap_servers).
    #[arg(long, value_name = "HOST:PORT[,...]")]
    pub bootstrap_server: Option<String>,
}

#[derive(Clone, Debug, Args)]
pub struct ShowArgs {
    /// The product: a dataset (topic) name, or `<namespace>:<name>` when the name is ambiguous.
    pub product: String,
    /// Where its data comes from.
    #[arg(long, conflicts_with = "downstream")]
    pub upstream: bool,
    /// Who depends on it (the default).
    #[arg(long)]
    pub downstream: bool,
    /// How many jobs away to go.
    #[arg(long, default_value_t = 5)]
    pub depth: u32,
    #[arg(long, value_enum, default_value_t = ShowFormat::Tree)]
    pub format: ShowFormat,
    /// The collector to ask.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:5000")]
    pub lineage_url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Tree,
    Dot,
    Json,
}

impl LineageArgs {
    pub fn serve_args(&self) -> Option<&LineageServeArgs> {
        match &self.command {
            None => Some(&self.serve),
            Some(LineageCommand::Serve(a)) => Some(a),
            Some(LineageCommand::Show(_)) => None,
        }
    }
}

impl LineageServeArgs {
    pub fn apply(&self, config: &mut MeshConfig) {
        if let Some(l) = self.listen {
            config.lineage.listen = l;
        }
        if let Some(b) = &self.bootstrap_server {
            config.kafka.bootstrap_servers = Some(b.clone());
        }
    }
}

/// Starts the collector as `mesh up` and `mesh lineage serve` run it: on `kafka`, over the
/// platform's lineage topic; `cache_dir` is where its snapshot goes unless `lineage.data_dir`
/// says otherwise (`mesh up`: `<data_dir>/lineage`).
pub async fn start(
    config: &MeshConfig,
    kafka: &mesh_kafka::KafkaConfig,
    cache_dir: Option<std::path::PathBuf>,
    shutdown: &Shutdown,
) -> Result<mesh_lineage::RunningLineage, CliError> {
    let mut lineage = config.lineage.clone();
    lineage.topic.clone_from(&config.topics.lineage);
    lineage.contracts_topic.clone_from(&config.topics.contracts);
    if lineage.data_dir.is_none() {
        lineage.data_dir = cache_dir;
    }
    Ok(mesh_lineage::start(lineage, kafka, shutdown).await?)
}

/// `mesh lineage serve`: ensures the lineage topic exists, then serves until the shutdown.
pub async fn serve(
    config: &MeshConfig,
    shutdown: &Shutdown,
) -> Result<mesh_lineage::RunningLineage, CliError> {
    if config.kafka.bootstrap_servers.is_none() {
        return Err(CliError::Usage(
            "mesh lineage needs a Kafka cluster: pass --bootstrap-server or set \
             kafka.bootstrap_servers (or run everything with `mesh up`)"
                .into(),
        ));
    }
    let spec = TopicSpec::new(&config.topics.lineage, config.topics.event_partitions);
    let spec = match config.topics.replication_factor {
        Some(rf) => spec.replication_factor(rf),
        None => spec,
    };
    Provisioner::admin(&config.kafka)?
        .ensure_topics(&[spec])
        .await?;
    start(config, &config.kafka, None, shutdown).await
}

/// `mesh lineage show`: fetches the product's lineage and renders it.
pub async fn show(args: &ShowArgs) -> Result<String, CliError> {
    let direction = if args.upstream {
        "upstream"
    } else {
        "downstream"
    };
    let base = args.lineage_url.trim_end_matches('/');
    let url = format!(
        "{base}/api/v1/mesh/products/{}/lineage?direction={direction}&depth={}",
        encode(&args.product),
        args.depth
    );
    let http = |e: reqwest::Error| CliError::Usage(format!("lineage collector at {base}: {e}"));
    let resp = reqwest::get(&url).await.map_err(http)?;
    let status = resp.status();
    let body: Value = resp.json().await.map_err(http)?;
    if !status.is_success() {
        let msg = body["error"]["message"]
            .as_str()
            .unwrap_or("request failed");
        return Err(CliError::Usage(format!("{msg} ({status})")));
    }
    Ok(match args.format {
        ShowFormat::Json => serde_json::to_string_pretty(&body).unwrap_or_default(),
        ShowFormat::Dot => render_dot(&body),
        ShowFormat::Tree => render_tree(&body, args.upstream),
    })
}

fn label(node: &Value) -> String {
    let name = node["name"].as_str().unwrap_or("?");
    let ns = node["namespace"].as_str().unwrap_or("?");
    match node["type"].as_str() {
        Some("JOB") => format!(
            "job {ns}/{name} ({})",
            node["processingType"].as_str().unwrap_or("BATCH")
        ),
        _ => match node["domain"].as_str() {
            Some(d) => format!("{name}  [{ns}, domain {d}]"),
            None => format!("{name}  [{ns}]"),
        },
    }
}

/// An indented tree from the root, following edges downstream (or upstream). A node reached
/// twice is printed once more with `(seen above)` rather than expanded again.
pub fn render_tree(body: &Value, upstream: bool) -> String {
    let nodes: BTreeMap<&str, &Value> = body["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in body["edges"].as_array().into_iter().flatten() {
        let (Some(o), Some(d)) = (e["origin"].as_str(), e["destination"].as_str()) else {
            continue;
        };
        let (from, to) = if upstream { (d, o) } else { (o, d) };
        children.entry(from).or_default().push(to);
    }
    let root = body["root"].as_str().unwrap_or_default();
    let mut out = String::new();
    let mut expanded = HashSet::new();
    let mut stack = vec![(root, String::new(), true, true)];
    while let Some((id, prefix, last, is_root)) = stack.pop() {
        let text = nodes.get(id).map_or_else(|| id.to_owned(), |n| label(n));
        let again = !expanded.insert(id);
        let suffix = if again { "  (seen above)" } else { "" };
        if is_root {
            let _ = writeln!(out, "{text}{suffix}");
        } else {
            let branch = if last { "└── " } else { "├── " };
            let _ = writeln!(out, "{prefix}{branch}{text}{suffix}");
        }
        if again {
            continue;
        }
        let child_prefix = if is_root {
            String::new()
        } else {
            format!("{prefix}{}", if last { "    " } else { "│   " })
        };
        let kids = children.get(id).cloned().unwrap_or_default();
        for (i, k) in kids.iter().enumerate().rev() {
            stack.push((k, child_prefix.clone(), i + 1 == kids.len(), false));
        }
    }
    out.trim_end().to_owned()
}

/// Graphviz: datasets as boxes, jobs as ellipses, edges as data flows.
pub fn render_dot(body: &Value) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from("digraph lineage {\n  rankdir=LR;\n");
    for n in body["nodes"].as_array().into_iter().flatten() {
        let id = n["id"].as_str().unwrap_or_default();
        let shape = if n["type"] == "JOB" { "ellipse" } else { "box" };
        let _ = writeln!(out, "  {} [label={}, shape={shape}];", q(id), q(&label(n)));
    }
    for e in body["edges"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {} -> {};",
            q(e["origin"].as_str().unwrap_or_default()),
            q(e["destination"].as_str().unwrap_or_default())
        );
    }
    out.push('}');
    out
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> Value {
        json!({
            "root": "dataset:kafka://mesh:raw",
            "nodes": [
                {"id": "dataset:kafka://mesh:raw", "type": "DATASET", "namespace": "kafka://mesh", "name": "raw", "domain": "orders"},
                {"id": "job:orders:gw", "type": "JOB", "namespace": "orders", "name": "gw", "processingType": "STREAMING"},
                {"id": "dataset:kafka://mesh:valid", "type": "DATASET", "namespace": "kafka://mesh", "name": "valid", "domain": "orders"},
                {"id": "dataset:kafka://mesh:dlq", "type": "DATASET", "namespace": "kafka://mesh", "name": "dlq", "domain": null}
            ],
            "edges": [
                {"origin": "dataset:kafka://mesh:raw", "destination": "job:orders:gw"},
                {"origin": "job:orders:gw", "destination": "dataset:kafka://mesh:valid"},
                {"origin": "job:orders:gw", "destination": "dataset:kafka://mesh:dlq"}
            ]
        })
    }

    #[test]
    fn tree_follows_edges_from_the_root() {
        assert_eq!(
            render_tree(&body(), false),
            "raw  [kafka://mesh, domain orders]\n\
             └── job orders/gw (STREAMING)\n    \
                 ├── valid  [kafka://mesh, domain orders]\n    \
                 └── dlq  [kafka://mesh]"
        );
    }

    fn parse(args: &[&str]) -> Result<LineageArgs, clap::Error> {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(["mesh", "lineage"].iter().chain(args))?;
        match cli.command {
            crate::cli::Command::Lineage(l) => Ok(l),
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn lineage_serves_by_default_and_show_takes_its_flags() {
        let l = parse(&["--listen", "127.0.0.1:0"]).unwrap();
        assert_eq!(
            l.serve_args().and_then(|s| s.listen).map(|a| a.port()),
            Some(0)
        );
        let l = parse(&[
            "show",
            "orders",
            "--upstream",
            "--depth",
            "2",
            "--format",
            "dot",
        ])
        .unwrap();
        let Some(LineageCommand::Show(s)) = l.command else {
            panic!("{l:?}")
        };
        assert!(s.upstream && s.depth == 2 && s.format == ShowFormat::Dot);
        assert_eq!(s.lineage_url, "http://127.0.0.1:5000");
        assert!(parse(&["show", "orders", "--upstream", "--downstream"]).is_err());
        assert!(parse(&["show"]).is_err(), "a product is required");
    }

    #[test]
    fn dot_has_every_node_and_edge() {
        let dot = render_dot(&body());
        assert!(dot.starts_with("digraph lineage {"));
        assert_eq!(dot.matches(" -> ").count(), 3);
        assert!(
            dot.contains("\"job:orders:gw\" [label=\"job orders/gw (STREAMING)\", shape=ellipse];")
        );
    }
}
