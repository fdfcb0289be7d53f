//! `mesh dlq list|show|replay <product>`: inspect what the gateway rejected, and redrive it.
//!
//! The Kafka side (reading entries and replay markers, replaying) is `mesh_gateway::dlq`; this
//! module is the command line and the printing. Topics default to the DESIGN.md names
//! `<product>.dlq` and `<product>.raw`.

use std::fmt::Write as _;

use clap::{ArgGroup, Args, Subcommand};
use mesh_gateway::dlq::{self, Entry, Selection};

use crate::CliError;
use crate::config::MeshConfig;

#[derive(Debug, Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub command: DlqCommand,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// One line per rejected record: partition/offset, time, code, rule, path, message, and
    /// whether it was replayed.
    List(ListArgs),
    /// One DLQ record in full (JSON): every header, every violation, key and value, replays.
    Show(ShowArgs),
    /// Send selected records back to the raw topic (original key, value, headers, plus
    /// `__mesh.replay.*`); each replay is recorded on the DLQ topic.
    Replay(ReplayArgs),
}

#[derive(Clone, Debug, Args)]
pub struct Target {
    /// The product id, `<domain>.<product>` (e.g. orders.order-placed).
    pub product: String,
    /// Kafka bootstrap servers (default: kafka.bootstrap_servers).
    #[arg(long, value_name = "HOST:PORT[,...]")]
    pub bootstrap_server: Option<String>,
    /// The DLQ topic (default: `<product>.dlq`).
    #[arg(long, value_name = "TOPIC")]
    pub dlq_topic: Option<String>,
}

impl Target {
    fn dlq(&self) -> String {
        self.dlq_topic
            .clone()
            .unwrap_or_else(|| format!("{}.dlq", self.product))
    }
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub target: Target,
    /// The record's offset.
    #[arg(long)]
    pub offset: i64,
    /// Its partition (default 0).
    #[arg(long, default_value_t = 0)]
    pub partition: i32,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("select").required(true).args(["offsets", "rule", "all"])))]
pub struct ReplayArgs {
    #[command(flatten)]
    pub target: Target,
    /// The raw topic to replay to (default: `<product>.raw`).
    #[arg(long, value_name = "TOPIC")]
    pub raw_topic: Option<String>,
    /// Offsets to replay: `A..B` (inclusive) or one offset `N`.
    #[arg(long, value_name = "A..B")]
    pub offsets: Option<String>,
    /// Restrict `--offsets` to one partition.
    #[arg(long, requires = "offsets")]
    pub partition: Option<i32>,
    /// Replay records that failed this rule (or violation code, e.g. NO_MAGIC_BYTE).
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    /// Replay every record.
    #[arg(long)]
    pub all: bool,
    /// Who replays (recorded in `__mesh.replay.by`; default: $USER).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Replay records that were replayed before, too.
    #[arg(long)]
    pub force: bool,
}

/// Parses `A..B` or `N` into an inclusive range.
pub fn parse_offsets(s: &str) -> Result<(i64, i64), CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--offsets {s:?}: expected A..B or N (A <= B, >= 0)"
        ))
    };
    let (a, b) = match s.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (s.trim(), s.trim()),
    };
    let a: i64 = a.parse().map_err(|_| bad())?;
    let b: i64 = b.parse().map_err(|_| bad())?;
    if a < 0 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

fn kafka(config: &MeshConfig, t: &Target) -> mesh_kafka::KafkaConfig {
    let mut k = config.kafka.clone();
    if let Some(b) = &t.bootstrap_server {
        k.bootstrap_servers = Some(b.clone());
    }
    k
}

async fn read(config: &MeshConfig, t: &Target) -> Result<Vec<Entry>, CliError> {
    let (k, topic) = (kafka(config, t), t.dlq());
    tokio::task::spawn_blocking(move || dlq::read(&k, &topic))
        .await
        .map_err(|e| CliError::Usage(format!("dlq reader failed: {e}")))?
        .map_err(CliError::from)
}

/// Runs a `mesh dlq` command; returns what to print.
pub async fn run(config: &MeshConfig, command: &DlqCommand) -> Result<String, CliError> {
    match command {
        DlqCommand::List(a) => Ok(list(&read(config, &a.target).await?)),
        DlqCommand::Show(a) => {
            let entries = read(config, &a.target).await?;
            let e = entries
                .iter()
                .find(|e| e.partition == a.partition && e.offset == a.offset)
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "no DLQ record at partition {} offset {} of {}",
                        a.partition,
                        a.offset,
                        a.target.dlq()
                    ))
                })?;
            Ok(show(e))
        }
        DlqCommand::Replay(a) => {
            let selection = if let Some(o) = &a.offsets {
                let (from, to) = parse_offsets(o)?;
                Selection::Offsets {
                    from,
                    to,
                    partition: a.partition,
                }
            } else if let Some(r) = &a.rule {
                Selection::Rule(r.clone())
            } else {
                Selection::All
            };
            let by =
                a.by.clone()
                    .or_else(|| std::env::var("USER").ok())
                    .unwrap_or_else(|| "unknown".into());
            let raw = a
                .raw_topic
                .clone()
                .unwrap_or_else(|| format!("{}.raw", a.target.product));
            let (k, d, force) = (kafka(config, &a.target), a.target.dlq(), a.force);
            let report = tokio::task::spawn_blocking(move || {
                dlq::replay(&k, &d, &raw, &selection, &by, force).map(|r| (r, raw))
            })
            .await
            .map_err(|e| CliError::Usage(format!("dlq replay failed: {e}")))??;
            let (r, raw) = report;
            let mut out = format!("replayed {} record(s) to {raw}", r.replayed.len());
            for (p, o) in &r.replayed {
                let _ = write!(out, "\n  partition {p} offset {o}");
            }
            if !r.already_replayed.is_empty() {
                let _ = write!(
                    out,
                    "\nskipped {} already replayed (use --force to replay again)",
                    r.already_replayed.len()
                );
            }
            out.push('\n');
            Ok(out)
        }
    }
}

/// The `list` table.
pub fn list(entries: &[Entry]) -> String {
    let mut out =
        String::from("PARTITION  OFFSET  TIMESTAMP      CODE  RULE  PATH  MESSAGE  REPLAYED\n");
    for e in entries {
        let _ = writeln!(
            out,
            "{}  {}  {}  {}  {}  {}  {}  {}",
            e.partition,
            e.offset,
            e.timestamp.map_or("-".into(), |t| t.to_string()),
            e.code.as_deref().unwrap_or("-"),
            e.rule.as_deref().unwrap_or("-"),
            e.path.as_deref().filter(|p| !p.is_empty()).unwrap_or("-"),
            e.message.as_deref().unwrap_or("-"),
            if e.replays.is_empty() {
                "no".to_owned()
            } else {
                format!("yes ({}x)", e.replays.len())
            },
        );
    }
    let _ = writeln!(out, "{} record(s)", entries.len());
    out
}

/// The `show` document.
pub fn show(e: &Entry) -> String {
    let text = |b: &Option<Vec<u8>>| {
        b.as_ref().map(|b| match std::str::from_utf8(b) {
            Ok(s) if !s.contains('\0') => serde_json::json!({ "utf8": s }),
            _ => serde_json::json!({ "hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
        })
    };
    let mut doc = serde_json::to_value(e).unwrap_or_default();
    doc["key"] = text(&e.key).unwrap_or_default();
    doc["value"] = text(&e.value).unwrap_or_default();
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_ranges_and_reject_nonsense() {
        assert_eq!(parse_offsets("3..7").unwrap(), (3, 7));
        assert_eq!(parse_offsets("5").unwrap(), (5, 5));
        for bad in ["7..3", "-1..2", "a..b", "", "1..2..3"] {
            assert!(parse_offsets(bad).is_err(), "{bad}");
        }
    }
}
