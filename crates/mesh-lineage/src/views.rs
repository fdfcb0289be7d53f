//! JSON views of graph nodes in Marquez's response shapes (`Dataset`, `Job`, `Run`,
//! `LineageGraph` nodes), so Marquez's UI and tools can read mesh's collector.

use serde_json::{Value, json};

use crate::event::EventType;
use crate::graph::{Graph, NodeId, RunNode};
use crate::time::format_millis;

pub fn node_id(g: &Graph, n: NodeId) -> String {
    match n {
        NodeId::Dataset(d) => {
            let d = &g.datasets[d as usize];
            format!("dataset:{}:{}", d.namespace, d.name)
        }
        NodeId::Job(j) => {
            let j = &g.jobs[j as usize];
            format!("job:{}:{}", j.namespace, j.name)
        }
    }
}

/// `dataset:<ns>:<name>` / `job:<ns>:<name>` → the node. Namespaces may hold `:` (`kafka://x`),
/// so every split point is tried.
pub fn parse_node_id(g: &Graph, id: &str) -> Option<NodeId> {
    let (kind, rest) = id.split_once(':')?;
    rest.match_indices(':').find_map(|(i, _)| {
        let (ns, name) = (&rest[..i], &rest[i + 1..]);
        match kind {
            "dataset" => g.dataset_id(ns, name).map(NodeId::Dataset),
            "job" => g.job_id(ns, name).map(NodeId::Job),
            _ => None,
        }
    })
}

/// Marquez's run states.
pub fn run_state(t: EventType) -> &'static str {
    match t {
        EventType::Start | EventType::Running => "RUNNING",
        EventType::Complete => "COMPLETED",
        EventType::Abort => "ABORTED",
        EventType::Fail => "FAILED",
        EventType::Other => "NEW",
    }
}

pub fn run(g: &Graph, r: &RunNode) -> Value {
    let job = &g.jobs[r.job as usize];
    json!({
        "id": r.id,
        "createdAt": format_millis(r.seen.first),
        "updatedAt": format_millis(r.seen.last),
        "nominalStartTime": null,
        "nominalEndTime": null,
        "state": run_state(r.state),
        "lastEventType": r.state.as_str(),
        "startedAt": r.started_at.map(format_millis),
        "endedAt": r.ended_at.map(format_millis),
        "durationMs": r.started_at.zip(r.ended_at).map(|(s, e)| e - s),
        "events": r.events,
        "jobVersion": {"namespace": job.namespace, "name": job.name},
        "facets": r.facets,
    })
}

pub fn dataset(g: &Graph, id: u32) -> Value {
    let d = &g.datasets[id as usize];
    let fields: Vec<Value> = d
        .facets
        .get("schema")
        .and_then(|s| s.get("fields"))
        .and_then(Value::as_array)
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    json!({
                        "name": f.get("name"),
                        "type": f.get("type"),
                        "tags": [],
                        "description": f.get("description"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let refs = |ids: &[u32]| -> Vec<Value> {
        ids.iter()
            .map(|j| {
                let j = &g.jobs[*j as usize];
                json!({"namespace": j.namespace, "name": j.name})
            })
            .collect()
    };
    json!({
        "id": {"namespace": d.namespace, "name": d.name},
        "type": if d.namespace.starts_with("kafka://") { "STREAM" } else { "DB_TABLE" },
        "name": d.name,
        "physicalName": d.name,
        "namespace": d.namespace,
        "sourceName": d.namespace,
        "createdAt": format_millis(d.seen.first),
        "updatedAt": format_millis(d.seen.last),
        "lastModifiedAt": format_millis(d.seen.last),
        "fields": fields,
        "tags": [],
        "description": d.facets.get("documentation").and_then(|f| f.get("description")),
        "facets": d.facets,
        "domain": domain_of_dataset(g, id),
        "producers": refs(&d.producers),
        "consumers": refs(&d.consumers),
    })
}

pub fn job(g: &Graph, id: u32) -> Value {
    let j = &g.jobs[id as usize];
    let refs = |ids: &[u32]| -> Vec<Value> {
        ids.iter()
            .map(|d| {
                let d = &g.datasets[*d as usize];
                json!({"namespace": d.namespace, "name": d.name})
            })
            .collect()
    };
    let latest = j.runs.last().map(|r| run(g, &g.runs[*r as usize]));
    json!({
        "id": {"namespace": j.namespace, "name": j.name},
        "type": match j.processing_type() { "STREAMING" => "STREAM", "SERVICE" => "SERVICE", _ => "BATCH" },
        "processingType": j.processing_type(),
        "name": j.name,
        "simpleName": j.name,
        "namespace": j.namespace,
        "createdAt": format_millis(j.seen.first),
        "updatedAt": format_millis(j.seen.last),
        "inputs": refs(&j.inputs),
        "outputs": refs(&j.outputs),
        "location": j.facets.get("sourceCodeLocation").and_then(|f| f.get("url")),
        "description": j.facets.get("documentation").and_then(|f| f.get("description")),
        "facets": j.facets,
        "latestRun": latest,
    })
}

/// A node of Marquez's `LineageGraph`, with the edges whose both ends are in `in_graph`.
pub fn graph_node(g: &Graph, n: NodeId, in_graph: &dyn Fn(NodeId) -> bool) -> Value {
    let id = node_id(g, n);
    let edge =
        |o: NodeId, d: NodeId| json!({"origin": node_id(g, o), "destination": node_id(g, d)});
    let (kind, data, ins, outs): (&str, Value, Vec<Value>, Vec<Value>) = match n {
        NodeId::Dataset(d) => {
            let node = &g.datasets[d as usize];
            (
                "DATASET",
                dataset(g, d),
                node.producers
                    .iter()
                    .map(|j| NodeId::Job(*j))
                    .filter(|j| in_graph(*j))
                    .map(|j| edge(j, n))
                    .collect(),
                node.consumers
                    .iter()
                    .map(|j| NodeId::Job(*j))
                    .filter(|j| in_graph(*j))
                    .map(|j| edge(n, j))
                    .collect(),
            )
        }
        NodeId::Job(j) => {
            let node = &g.jobs[j as usize];
            (
                "JOB",
                job(g, j),
                node.inputs
                    .iter()
                    .map(|d| NodeId::Dataset(*d))
                    .filter(|d| in_graph(*d))
                    .map(|d| edge(d, n))
                    .collect(),
                node.outputs
                    .iter()
                    .map(|d| NodeId::Dataset(*d))
                    .filter(|d| in_graph(*d))
                    .map(|d| edge(n, d))
                    .collect(),
            )
        }
    };
    json!({"id": id, "type": kind, "data": data, "inEdges": ins, "outEdges": outs})
}

/// The domain a dataset belongs to: an `ownership` owner `domain:<name>` if it has one (what
/// contracts will set), else the namespace of the first job producing it.
pub fn domain_of_dataset(g: &Graph, id: u32) -> Option<String> {
    let d = &g.datasets[id as usize];
    let owned = d
        .facets
        .get("ownership")
        .and_then(|o| o.get("owners"))
        .and_then(Value::as_array)
        .and_then(|owners| {
            owners.iter().find_map(|o| {
                o.get("name")?
                    .as_str()?
                    .strip_prefix("domain:")
                    .map(str::to_owned)
            })
        });
    owned.or_else(|| {
        d.producers
            .first()
            .map(|j| g.jobs[*j as usize].namespace.clone())
    })
}
