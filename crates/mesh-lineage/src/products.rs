//! mesh's own views of a product (a dataset): its upstream or downstream across domains, the
//! domains its data passes through, and who consumes it (impact analysis before a breaking
//! change).

use std::collections::{BTreeSet, HashSet};

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::LineageError;
use crate::api::{AppState, DEFAULT_DEPTH};
use crate::graph::{Direction, Graph, NodeId};
use crate::views;

#[derive(Debug, Deserialize)]
pub struct ProductQuery {
    pub direction: Option<String>,
    pub depth: Option<u32>,
}

/// A product: `<namespace>:<name>`, a bare dataset (topic) name unique across namespaces, or a
/// product id from a contract (its raw topic, where its lineage starts).
fn product(g: &Graph, p: &str) -> Result<u32, LineageError> {
    if let Some(NodeId::Dataset(d)) = views::parse_node_id(g, &format!("dataset:{p}")) {
        return Ok(d);
    }
    let mut named = g.datasets_named(p);
    if named.is_empty() {
        named = raw_topics_of(g, p);
    }
    match named.as_slice() {
        [one] => Ok(*one),
        [] => Err(LineageError::NotFound(format!("product {p} not found"))),
        many => Err(LineageError::Ambiguous(format!(
            "product {p} exists in several namespaces: {}; name one as <namespace>:<name>",
            many.iter()
                .map(|d| g.datasets[*d as usize].namespace.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Datasets whose `meshProduct` facet (from its contract) names product `p` in the raw role.
fn raw_topics_of(g: &Graph, p: &str) -> Vec<u32> {
    (0..g.datasets.len() as u32)
        .filter(|d| {
            g.datasets[*d as usize]
                .facets
                .get("meshProduct")
                .is_some_and(|f| f["product"] == p && f["role"] == "raw")
        })
        .collect()
}

/// Nodes and edges of a product's upstream or downstream (or both), for tools and the CLI.
pub async fn lineage(
    State(s): State<AppState>,
    Path(p): Path<String>,
    Query(q): Query<ProductQuery>,
) -> Result<Json<Value>, LineageError> {
    let g = s.read();
    let d = product(&g, &p)?;
    let direction = match q.direction.as_deref().unwrap_or("downstream") {
        "upstream" => Direction::Upstream,
        "downstream" => Direction::Downstream,
        "both" => Direction::Both,
        other => {
            return Err(LineageError::BadRequest(format!(
                "direction {other:?}: upstream, downstream or both"
            )));
        }
    };
    let nodes = g.walk(
        NodeId::Dataset(d),
        direction,
        q.depth.unwrap_or(DEFAULT_DEPTH),
    );
    let set: HashSet<NodeId> = nodes.iter().copied().collect();
    let mut edges = Vec::new();
    for n in &nodes {
        if let NodeId::Job(j) = n {
            let job = &g.jobs[*j as usize];
            for (ds, out) in job
                .inputs
                .iter()
                .map(|d| (*d, false))
                .chain(job.outputs.iter().map(|d| (*d, true)))
            {
                if !set.contains(&NodeId::Dataset(ds)) {
                    continue;
                }
                let (o, dst) = if out {
                    (*n, NodeId::Dataset(ds))
                } else {
                    (NodeId::Dataset(ds), *n)
                };
                let seen = g.edge(*j, ds, out).unwrap_or_default();
                edges.push(
                    json!({"origin": views::node_id(&g, o), "destination": views::node_id(&g, dst),
                    "firstSeen": crate::time::format_millis(seen.first),
                    "lastSeen": crate::time::format_millis(seen.last)}),
                );
            }
        }
    }
    let nodes: Vec<Value> = nodes
        .iter()
        .map(|n| {
            let (kind, ns, name, domain, extra) = match *n {
                NodeId::Dataset(x) => {
                    let ds = &g.datasets[x as usize];
                    (
                        "DATASET",
                        &ds.namespace,
                        &ds.name,
                        views::domain_of_dataset(&g, x),
                        Value::Null,
                    )
                }
                NodeId::Job(x) => {
                    let j = &g.jobs[x as usize];
                    (
                        "JOB",
                        &j.namespace,
                        &j.name,
                        Some(j.namespace.clone()),
                        json!(j.processing_type()),
                    )
                }
            };
            json!({"id": views::node_id(&g, *n), "type": kind, "namespace": ns, "name": name,
                   "domain": domain, "processingType": extra})
        })
        .collect();
    let root = views::node_id(&g, NodeId::Dataset(d));
    Ok(Json(
        json!({"root": root, "direction": q.direction.unwrap_or_else(|| "downstream".into()),
                   "nodes": nodes, "edges": edges}),
    ))
}

/// The domains a product's data passes through: every domain upstream and downstream of it.
pub async fn domains(
    State(s): State<AppState>,
    Path(p): Path<String>,
) -> Result<Json<Value>, LineageError> {
    let g = s.read();
    let d = product(&g, &p)?;
    let mut domains = BTreeSet::new();
    for dir in [Direction::Upstream, Direction::Downstream] {
        for n in g.walk(NodeId::Dataset(d), dir, DEFAULT_DEPTH) {
            match n {
                NodeId::Dataset(x) => domains.extend(views::domain_of_dataset(&g, x)),
                NodeId::Job(x) => {
                    domains.insert(views::domain_of_job(&g, x));
                }
            }
        }
    }
    Ok(Json(
        json!({"product": views::node_id(&g, NodeId::Dataset(d)), "domains": domains}),
    ))
}

/// Who consumes a product (impact analysis before a breaking change): every job reading it,
/// instrumented or observed (consumer groups), with its domain and when it was last seen.
pub async fn consumers(
    State(s): State<AppState>,
    Path(p): Path<String>,
) -> Result<Json<Value>, LineageError> {
    let g = s.read();
    let d = product(&g, &p)?;
    let consumers: Vec<Value> = g.datasets[d as usize]
        .consumers
        .iter()
        .map(|j| {
            let job = &g.jobs[*j as usize];
            let seen = g.edge(*j, d, false).unwrap_or_default();
            json!({"namespace": job.namespace, "name": job.name, "domain": views::domain_of_job(&g, *j),
                   "id": views::node_id(&g, NodeId::Job(*j)),
                   "jobType": job.facets.get("jobType").and_then(|f| f.get("jobType")),
                   "processingType": job.processing_type(),
                   "firstSeen": crate::time::format_millis(seen.first),
                   "lastSeen": crate::time::format_millis(seen.last)})
        })
        .collect();
    Ok(Json(
        json!({"product": views::node_id(&g, NodeId::Dataset(d)), "consumers": consumers}),
    ))
}
