//! `mesh contract diff` and `apply`.
//!
//! For each contract (all must lint clean first): compare with its applied record in
//! `_mesh.contracts` (key `<product id>/v<major>`); refuse breaking changes within a major (the
//! contract diff, then the registry's compatibility check at the subject's level); ensure the
//! topics (Admin API, or — for a broker without CreateTopics such as `mesh up`'s — by the
//! process owning it, from the record); set the subject config; register the schema with its
//! metadata and rules; write the record. A new major also marks the previous major deprecated.
//! Status `retired` writes a tombstone. Every step compares before it writes, so a second run
//! changes nothing and says so.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mesh_contract::diff::{diff, is_breaking};
use mesh_contract::model::Status;
use mesh_contract::{ResolvedContract, project};
use mesh_kafka::KafkaConfig;
use mesh_kafka::admin::{Provisioner, TopicSpec};
use serde_json::Value;

use super::registry::RegistryClient;
use super::{ApplyArgs, files, io_err, state};
use crate::CliError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Diff,
    Apply,
}

/// Where contracts are applied.
#[derive(Clone, Debug)]
pub struct Target {
    pub registry: RegistryClient,
    pub kafka: KafkaConfig,
    pub provisioner: Provisioner,
    pub contracts_topic: String,
}

/// What happened to one contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Created,
    Updated,
    Unchanged,
    Retired,
    /// Diff mode: something would change.
    WouldChange,
    Refused,
    Failed,
}

impl Applied {
    pub fn as_str(&self) -> &'static str {
        match self {
            Applied::Created => "created",
            Applied::Updated => "updated",
            Applied::Unchanged => "unchanged",
            Applied::Retired => "retired",
            Applied::WouldChange => "would change",
            Applied::Refused => "REFUSED",
            Applied::Failed => "FAILED",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    /// `<product id>/v<major>`.
    pub key: String,
    pub result: Applied,
    /// What changed (or would, or why it was refused).
    pub details: Vec<String>,
}

pub async fn run(
    args: &ApplyArgs,
    kafka: &KafkaConfig,
    mode: Mode,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let (results, findings) = files::lint_all(&args.paths, &args.governance)?;
    let mut errors = findings
        .iter()
        .filter(|d| d.severity == mesh_contract::Severity::Error)
        .count();
    for d in &findings {
        writeln!(out, "{d}").map_err(io_err)?;
    }
    let mut contracts = Vec::new();
    for (_, r) in &results {
        for d in r
            .diagnostics
            .iter()
            .filter(|d| d.severity == mesh_contract::Severity::Error)
        {
            writeln!(out, "{d}").map_err(io_err)?;
            errors += 1;
        }
        contracts.extend(r.contract.clone());
    }
    if errors > 0 {
        writeln!(
            out,
            "{errors} error(s): nothing applied (run `mesh contract lint` for details)"
        )
        .map_err(io_err)?;
        return Ok(ExitCode::FAILURE);
    }
    let mut kafka = kafka.clone();
    if let Some(b) = &args.bootstrap_server {
        kafka.bootstrap_servers = Some(b.clone());
    }
    if kafka.bootstrap_servers.is_none() {
        kafka.bootstrap_servers = Some("localhost:9092".into());
    }
    kafka.validate()?;
    let target = Target {
        registry: RegistryClient::new(&args.registry_url),
        provisioner: Provisioner::admin(&kafka)?,
        kafka,
        contracts_topic: args.contracts_topic.clone(),
    };
    let outcomes = apply_all(&target, &contracts, mode).await?;
    let text = match args.format {
        super::OutputFormat::Text => super::summary::summary(&outcomes, mode),
        super::OutputFormat::Json => super::summary::json(&outcomes),
    };
    writeln!(out, "{text}").map_err(io_err)?;
    let bad = outcomes
        .iter()
        .any(|o| matches!(o.result, Applied::Refused | Applied::Failed));
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Applies (or diffs) every contract, in order, with a progress bar on a terminal.
pub async fn apply_all(
    target: &Target,
    contracts: &[ResolvedContract],
    mode: Mode,
) -> Result<Vec<Outcome>, CliError> {
    if mode == Mode::Apply {
        // Brokers with an Admin API get the contracts topic here (`mesh up` has it already;
        // asking its broker's missing Admin API would only wait for a timeout).
        let (kafka, topic) = (target.kafka.clone(), vec![target.contracts_topic.clone()]);
        let exists = tokio::task::spawn_blocking(move || state::existing_topics(&kafka, &topic))
            .await
            .map_err(|e| CliError::Contract(e.to_string()))??;
        if exists.is_empty() {
            let spec = TopicSpec::compacted_log(target.contracts_topic.clone());
            target.provisioner.ensure_topics(&[spec]).await?;
        }
    }
    let (kafka, topic) = (target.kafka.clone(), target.contracts_topic.clone());
    let mut applied = tokio::task::spawn_blocking(move || state::read_contracts(&kafka, &topic))
        .await
        .map_err(|e| CliError::Contract(e.to_string()))??;
    let bar = indicatif::ProgressBar::new(contracts.len() as u64);
    if contracts.len() < 2 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut outcomes = Vec::new();
    for c in contracts {
        bar.set_message(c.product_id.clone());
        let outcome = match apply_one(target, &mut applied, c, mode).await {
            Ok(o) => o,
            Err(e) => Outcome {
                key: c.record_key(),
                result: Applied::Failed,
                details: vec![e.to_string()],
            },
        };
        outcomes.push(outcome);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(outcomes)
}

async fn apply_one(
    t: &Target,
    applied: &mut BTreeMap<String, ResolvedContract>,
    c: &ResolvedContract,
    mode: Mode,
) -> Result<Outcome, CliError> {
    let key = c.record_key();
    let old = applied.get(&key).cloned();
    let mut details = Vec::new();
    if c.status == Status::Retired {
        return Ok(match old {
            None => Outcome {
                key,
                result: Applied::Unchanged,
                details: vec!["not applied (nothing to retire)".into()],
            },
            Some(_) if mode == Mode::Diff => Outcome {
                key: key.clone(),
                result: Applied::WouldChange,
                details: vec![format!("tombstone `{key}`: enforcement stops")],
            },
            Some(_) => {
                state::write_records(&t.kafka, &t.contracts_topic, &[(key.clone(), None)]).await?;
                applied.remove(&key);
                Outcome {
                    key,
                    result: Applied::Retired,
                    details: vec!["tombstone written; the gateway stops enforcing".into()],
                }
            }
        });
    }
    // 1. Breaking changes within the major.
    if let Some(o) = &old {
        let changes = diff(o, c);
        if is_breaking(&changes) {
            let why = changes
                .iter()
                .filter(|x| x.breaking)
                .map(|x| x.what.clone());
            return Ok(refused_breaking(key, why, c.major));
        }
        details.extend(changes.iter().map(ToString::to_string));
    }
    let subject = &c.value_schema.subject;
    let registration = project::registration(c);
    let latest = t.registry.latest(subject).await?;
    let latest_major = latest
        .as_ref()
        .and_then(|l| l.pointer("/metadata/properties"))
        .and_then(|p| p.get(project::MAJOR_PROPERTY))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if latest.is_some() && latest_major.as_deref() == Some(c.major.to_string().as_str()) {
        let problems = t.registry.incompatibilities(subject, &registration).await?;
        if !problems.is_empty() {
            let why = problems
                .into_iter()
                .map(|p| format!("schema incompatible: {p}"));
            return Ok(refused_breaking(key, why, c.major));
        }
    }
    // 2. The previous major, to deprecate when this is a new one.
    let previous = if old.is_none() {
        applied
            .values()
            .filter(|p| {
                p.product_id == c.product_id && p.major < c.major && p.status != Status::Deprecated
            })
            .max_by_key(|p| p.major)
            .cloned()
    } else {
        None
    };
    // 3. Topics.
    let plans = project::topics(c);
    let names: Vec<String> = plans.iter().map(|p| p.name.clone()).collect();
    let (kafka, n) = (t.kafka.clone(), names.clone());
    let existing = tokio::task::spawn_blocking(move || state::existing_topics(&kafka, &n))
        .await
        .map_err(|e| CliError::Contract(e.to_string()))??;
    let missing: Vec<&String> = names.iter().filter(|n| !existing.contains(n)).collect();
    // 4. Subject config.
    let want_config = project::subject_config(c);
    let have_config = t.registry.config(subject).await?;
    let config_differs = !have_config.as_ref().is_some_and(|h| {
        h.get("compatibilityLevel") == want_config.get("compatibility")
            && h.get("compatibilityGroup") == want_config.get("compatibilityGroup")
    });
    let record_differs = old.as_ref() != Some(c);
    if mode == Mode::Diff {
        for m in &missing {
            details.push(format!("create topic `{m}`"));
        }
        if config_differs {
            details.push(format!(
                "set `{subject}` compatibility {} (group {})",
                c.compatibility,
                project::MAJOR_PROPERTY
            ));
        }
        if record_differs {
            details.push(match &old {
                None => format!("register `{subject}` and write `{key}`"),
                Some(_) => format!("update `{subject}` and `{key}`"),
            });
        }
        if let Some(p) = &previous {
            details.push(format!(
                "deprecate `{}` (replaced by `{key}`)",
                p.record_key()
            ));
        }
        let result =
            if missing.is_empty() && !config_differs && !record_differs && previous.is_none() {
                Applied::Unchanged
            } else {
                Applied::WouldChange
            };
        return Ok(Outcome {
            key,
            result,
            details,
        });
    }
    let mut changed = !missing.is_empty();
    if config_differs {
        t.registry.set_config(subject, &want_config).await?;
        details.push(format!("set `{subject}` compatibility {}", c.compatibility));
        changed = true;
    }
    let before = latest
        .as_ref()
        .and_then(|l| l.get("version"))
        .and_then(Value::as_i64);
    let id = t.registry.register(subject, &registration).await?;
    let after = t
        .registry
        .latest(subject)
        .await?
        .and_then(|l| l.get("version").and_then(Value::as_i64));
    if before != after {
        details.push(format!(
            "registered `{subject}` version {} (id {id})",
            after.unwrap_or_default()
        ));
        changed = true;
    }
    if let Some(k) = &c.key.schema {
        let body = serde_json::json!({"schema": k.schema, "schemaType": k.schema_type});
        let before = t
            .registry
            .latest(&k.subject)
            .await?
            .and_then(|l| l.get("version").and_then(Value::as_i64));
        t.registry.register(&k.subject, &body).await?;
        let after = t
            .registry
            .latest(&k.subject)
            .await?
            .and_then(|l| l.get("version").and_then(Value::as_i64));
        if before != after {
            details.push(format!("registered key schema `{}`", k.subject));
            changed = true;
        }
    }
    let mut records = Vec::new();
    if record_differs {
        records.push((key.clone(), Some(c.to_record())));
    }
    if let Some(p) = &previous {
        let mut dep = p.clone();
        dep.status = Status::Deprecated;
        dep.replaced_by = Some(key.clone());
        dep.sunset = dep.sunset.or_else(|| Some(date_in_days(90)));
        details.push(format!(
            "deprecated `{}` (sunset {})",
            dep.record_key(),
            dep.sunset.as_deref().unwrap_or_default()
        ));
        records.push((dep.record_key(), Some(dep.to_record())));
        applied.insert(dep.record_key(), dep);
    }
    if !records.is_empty() {
        state::write_records(&t.kafka, &t.contracts_topic, &records).await?;
        applied.insert(key.clone(), c.clone());
        changed = true;
    }
    if !missing.is_empty() {
        provision_topics(t, &plans, &names).await?;
        details.extend(missing.iter().map(|m| format!("created topic `{m}`")));
    }
    let result = match (&old, changed) {
        (_, false) => Applied::Unchanged,
        (None, true) => Applied::Created,
        (Some(_), true) => Applied::Updated,
    };
    if result == Applied::Unchanged {
        details.clear();
    }
    Ok(Outcome {
        key,
        result,
        details,
    })
}

/// Creates the missing topics. The record is written first: a broker without CreateTopics
/// (`mesh up`'s embedded one) is provisioned by the process owning it, from `_mesh.contracts`,
/// within a moment; otherwise the Admin API creates them (and validates existing ones).
/// A change refused as breaking within major `major`: its reasons, then what to do instead.
fn refused_breaking(key: String, why: impl Iterator<Item = String>, major: u64) -> Outcome {
    let mut details: Vec<String> = why.collect();
    details.push(format!(
        "breaking changes need a new major: set `version: {}.0.0`",
        major + 1
    ));
    Outcome {
        key,
        result: Applied::Refused,
        details,
    }
}

async fn provision_topics(
    t: &Target,
    plans: &[project::TopicPlan],
    names: &[String],
) -> Result<(), CliError> {
    let existing_now = |k: KafkaConfig, n: Vec<String>| async move {
        tokio::task::spawn_blocking(move || state::existing_topics(&k, &n))
            .await
            .map_err(|e| CliError::Contract(e.to_string()))?
    };
    let deadline = Instant::now() + OWNER_WAIT;
    loop {
        let now = existing_now(t.kafka.clone(), names.to_vec()).await?;
        if names.iter().all(|n| now.contains(n)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let specs: Vec<TopicSpec> = plans
        .iter()
        .map(|p| {
            let mut s = TopicSpec::new(p.name.clone(), p.partitions);
            s.configs = p.configs.clone();
            s
        })
        .collect();
    t.provisioner.ensure_topics(&specs).await?;
    Ok(())
}

/// How long an owner-provisioned broker gets before the Admin API is asked.
const OWNER_WAIT: Duration = Duration::from_secs(3);

/// `YYYY-MM-DD` of today + `days` (UTC).
fn date_in_days(days: i64) -> String {
    mesh_runtime::time::date(mesh_runtime::time::now_millis() + days * 86_400_000)
}
