//! JSON views of graph nodes in Marquez's response shapes (`Dataset`, `Job`, `Run`,
//! `LineageGraph` nodes), so Marquez's UI and tools can read mesh's collector.

use serde::Serialize;
use serde_json::Value;

use crate::event::{EventType, Facets};
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

/// `{namespace, name}`.
#[derive(Debug, Serialize)]
pub struct Ref<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
}

/// Marquez's `Run`. Views borrow from the graph: a large lineage answer is serialized straight
/// from it, without building a JSON tree first.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunView<'a> {
    pub id: &'a str,
    pub created_at: String,
    pub updated_at: String,
    pub nominal_start_time: Option<()>,
    pub nominal_end_time: Option<()>,
    pub state: &'static str,
    pub last_event_type: &'static str,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub events: u32,
    pub job_version: Ref<'a>,
    pub facets: &'a Facets,
}

pub fn run<'a>(g: &'a Graph, r: &'a RunNode) -> RunView<'a> {
    let job = &g.jobs[r.job as usize];
    RunView {
        id: &r.id,
        created_at: format_millis(r.seen.first),
        updated_at: format_millis(r.seen.last),
        nominal_start_time: None,
        nominal_end_time: None,
        state: run_state(r.state),
        last_event_type: r.state.as_str(),
        started_at: r.started_at.map(format_millis),
        ended_at: r.ended_at.map(format_millis),
        duration_ms: r.started_at.zip(r.ended_at).map(|(s, e)| e - s),
        events: r.events,
        job_version: Ref {
            namespace: &job.namespace,
            name: &job.name,
        },
        facets: &r.facets,
    }
}

#[derive(Debug, Serialize)]
pub struct FieldView<'a> {
    pub name: Option<&'a Value>,
    #[serde(rename = "type")]
    pub kind: Option<&'a Value>,
    pub tags: [(); 0],
    pub description: Option<&'a Value>,
}

/// Marquez's `Dataset`, plus mesh's `domain`, `producers` and `consumers`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetView<'a> {
    pub id: Ref<'a>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: &'a str,
    pub physical_name: &'a str,
    pub namespace: &'a str,
    pub source_name: &'a str,
    pub created_at: String,
    pub updated_at: String,
    pub last_modified_at: String,
    pub fields: Vec<FieldView<'a>>,
    pub tags: [(); 0],
    pub description: Option<&'a Value>,
    pub facets: &'a Facets,
    pub domain: Option<String>,
    pub producers: Vec<Ref<'a>>,
    pub consumers: Vec<Ref<'a>>,
}

pub fn dataset(g: &Graph, id: u32) -> DatasetView<'_> {
    let d = &g.datasets[id as usize];
    let fields = d
        .facets
        .get("schema")
        .and_then(|s| s.get("fields"))
        .and_then(Value::as_array)
        .map(|fs| {
            fs.iter()
                .map(|f| FieldView {
                    name: f.get("name"),
                    kind: f.get("type"),
                    tags: [],
                    description: f.get("description"),
                })
                .collect()
        })
        .unwrap_or_default();
    let refs = |ids: &[u32]| -> Vec<Ref<'_>> {
        ids.iter()
            .map(|j| {
                let j = &g.jobs[*j as usize];
                Ref {
                    namespace: &j.namespace,
                    name: &j.name,
                }
            })
            .collect()
    };
    DatasetView {
        id: Ref {
            namespace: &d.namespace,
            name: &d.name,
        },
        kind: if d.namespace.starts_with("kafka://") {
            "STREAM"
        } else {
            "DB_TABLE"
        },
        name: &d.name,
        physical_name: &d.name,
        namespace: &d.namespace,
        source_name: &d.namespace,
        created_at: format_millis(d.seen.first),
        updated_at: format_millis(d.seen.last),
        last_modified_at: format_millis(d.seen.last),
        fields,
        tags: [],
        description: d
            .facets
            .get("documentation")
            .and_then(|f| f.get("description")),
        facets: &d.facets,
        domain: domain_of_dataset(g, id),
        producers: refs(&d.producers),
        consumers: refs(&d.consumers),
    }
}

/// Marquez's `Job`, plus `processingType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView<'a> {
    pub id: Ref<'a>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub processing_type: &'a str,
    pub name: &'a str,
    pub simple_name: &'a str,
    pub namespace: &'a str,
    pub created_at: String,
    pub updated_at: String,
    pub inputs: Vec<Ref<'a>>,
    pub outputs: Vec<Ref<'a>>,
    pub location: Option<&'a Value>,
    pub description: Option<&'a Value>,
    pub facets: &'a Facets,
    pub latest_run: Option<RunView<'a>>,
}

pub fn job(g: &Graph, id: u32) -> JobView<'_> {
    let j = &g.jobs[id as usize];
    let refs = |ids: &[u32]| -> Vec<Ref<'_>> {
        ids.iter()
            .map(|d| {
                let d = &g.datasets[*d as usize];
                Ref {
                    namespace: &d.namespace,
                    name: &d.name,
                }
            })
            .collect()
    };
    JobView {
        id: Ref {
            namespace: &j.namespace,
            name: &j.name,
        },
        kind: match j.processing_type() {
            "STREAMING" => "STREAM",
            "SERVICE" => "SERVICE",
            _ => "BATCH",
        },
        processing_type: j.processing_type(),
        name: &j.name,
        simple_name: &j.name,
        namespace: &j.namespace,
        created_at: format_millis(j.seen.first),
        updated_at: format_millis(j.seen.last),
        inputs: refs(&j.inputs),
        outputs: refs(&j.outputs),
        location: j
            .facets
            .get("sourceCodeLocation")
            .and_then(|f| f.get("url")),
        description: j
            .facets
            .get("documentation")
            .and_then(|f| f.get("description")),
        facets: &j.facets,
        latest_run: j.runs.last().map(|r| run(g, &g.runs[*r as usize])),
    }
}

#[derive(Debug, Serialize)]
pub struct EdgeView {
    pub origin: String,
    pub destination: String,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum NodeData<'a> {
    Dataset(Box<DatasetView<'a>>),
    Job(Box<JobView<'a>>),
}

/// Marquez's `LineageGraph`.
#[derive(Debug, Serialize)]
pub struct LineageGraph<'a> {
    pub graph: Vec<GraphNode<'a>>,
}

/// A node of Marquez's `LineageGraph`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphNode<'a> {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub data: NodeData<'a>,
    pub in_edges: Vec<EdgeView>,
    pub out_edges: Vec<EdgeView>,
}

/// A node of Marquez's `LineageGraph`, with the edges whose both ends are in `in_graph`.
pub fn graph_node<'a>(g: &'a Graph, n: NodeId, in_graph: &dyn Fn(NodeId) -> bool) -> GraphNode<'a> {
    let id = node_id(g, n);
    let edges = |others: &[u32], other: fn(u32) -> NodeId, incoming: bool| -> Vec<EdgeView> {
        others
            .iter()
            .map(|o| other(*o))
            .filter(|o| in_graph(*o))
            .map(|o| {
                let o = node_id(g, o);
                if incoming {
                    EdgeView {
                        origin: o,
                        destination: id.clone(),
                    }
                } else {
                    EdgeView {
                        origin: id.clone(),
                        destination: o,
                    }
                }
            })
            .collect()
    };
    match n {
        NodeId::Dataset(d) => {
            let node = &g.datasets[d as usize];
            GraphNode {
                kind: "DATASET",
                data: NodeData::Dataset(Box::new(dataset(g, d))),
                in_edges: edges(&node.producers, NodeId::Job, true),
                out_edges: edges(&node.consumers, NodeId::Job, false),
                id,
            }
        }
        NodeId::Job(j) => {
            let node = &g.jobs[j as usize];
            GraphNode {
                kind: "JOB",
                data: NodeData::Job(Box::new(job(g, j))),
                in_edges: edges(&node.inputs, NodeId::Dataset, true),
                out_edges: edges(&node.outputs, NodeId::Dataset, false),
                id,
            }
        }
    }
}

/// The `domain:<name>` owner of an `ownership` facet.
fn owned_domain(facets: &crate::event::Facets) -> Option<String> {
    facets
        .get("ownership")?
        .get("owners")?
        .as_array()?
        .iter()
        .find_map(|o| {
            o.get("name")?
                .as_str()?
                .strip_prefix("domain:")
                .map(str::to_owned)
        })
}

/// The domain a job belongs to: an `ownership` owner `domain:<name>` (the contract gateway's
/// jobs get their product's), else its namespace.
pub fn domain_of_job(g: &Graph, id: u32) -> String {
    let j = &g.jobs[id as usize];
    owned_domain(&j.facets).unwrap_or_else(|| j.namespace.clone())
}

/// The domain a dataset belongs to: an `ownership` owner `domain:<name>` if it has one (what
/// contracts will set), else the namespace of the first job producing it.
pub fn domain_of_dataset(g: &Graph, id: u32) -> Option<String> {
    let d = &g.datasets[id as usize];
    owned_domain(&d.facets).or_else(|| d.producers.first().map(|j| domain_of_job(g, *j)))
}
