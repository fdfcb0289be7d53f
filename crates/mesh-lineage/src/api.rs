//! The routes: OpenLineage ingest ([`crate::ingest`]), Marquez-compatible reads, and mesh's own
//! product views ([`crate::products`]).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mesh_runtime::config::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::LineageError;
use crate::graph::{Direction, Graph, NodeId};
use crate::log::{Appender, LogStats};
use crate::{products, views};

#[derive(Clone, Debug)]
pub struct AppState {
    pub graph: Arc<RwLock<Graph>>,
    pub appender: Appender,
    pub stats: Arc<LogStats>,
    pub tokens: Arc<Vec<Secret>>,
    pub max_request_bytes: usize,
}

impl AppState {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Graph> {
        self.graph
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/lineage", post(crate::ingest::single).get(lineage))
        .route("/api/v1/lineage/batch", post(crate::ingest::batch))
        .route("/api/v1/column-lineage", get(column_lineage))
        .route("/api/v1/namespaces", get(namespaces))
        .route("/api/v1/namespaces/{ns}/datasets", get(datasets))
        .route("/api/v1/namespaces/{ns}/datasets/{name}", get(dataset))
        .route("/api/v1/namespaces/{ns}/jobs", get(jobs))
        .route("/api/v1/namespaces/{ns}/jobs/{name}", get(job))
        .route("/api/v1/namespaces/{ns}/jobs/{name}/runs", get(runs))
        .route("/api/v1/jobs/runs/{id}", get(run))
        .route(
            "/api/v1/mesh/products/{product}/lineage",
            get(products::lineage),
        )
        .route(
            "/api/v1/mesh/products/{product}/domains",
            get(products::domains),
        )
        .route(
            "/api/v1/mesh/products/{product}/consumers",
            get(products::consumers),
        )
        .route("/api/v1/mesh/stats", get(stats))
        // The ingest handlers enforce the configured limit themselves (413 in mesh's envelope).
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineageQuery {
    node_id: String,
    depth: Option<u32>,
    with_downstream: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<usize>,
    offset: Option<usize>,
}

/// Marquez's default lineage depth.
pub(crate) const DEFAULT_DEPTH: u32 = 20;

fn node(g: &Graph, id: &str) -> Result<NodeId, LineageError> {
    views::parse_node_id(g, id)
        .ok_or_else(|| LineageError::NotFound(format!("node {id} not found")))
}

/// `GET /api/v1/lineage?nodeId=..&depth=..` in Marquez's `LineageGraph` shape.
async fn lineage(
    State(s): State<AppState>,
    Query(q): Query<LineageQuery>,
) -> Result<Response, LineageError> {
    let g = s.read();
    let start = node(&g, &q.node_id)?;
    let nodes = g.walk(start, Direction::Both, q.depth.unwrap_or(DEFAULT_DEPTH));
    let set: HashSet<NodeId> = nodes.iter().copied().collect();
    let graph: Vec<views::GraphNode<'_>> = nodes
        .iter()
        .map(|n| views::graph_node(&g, *n, &|x| set.contains(&x)))
        .collect();
    // Serialized here, under the read lock, straight from the graph.
    let body = serde_json::to_vec(&views::LineageGraph { graph })
        .map_err(|e| LineageError::Internal(e.to_string()))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `GET /api/v1/column-lineage?nodeId=dataset:..|datasetField:..&depth=..&withDownstream=..`.
async fn column_lineage(
    State(s): State<AppState>,
    Query(q): Query<LineageQuery>,
) -> Result<Json<Value>, LineageError> {
    let g = s.read();
    // `datasetField:<ns>:<name>:<field>` → dataset + field; `dataset:...` → all its fields.
    let (dataset, only_field) = match q.node_id.strip_prefix("datasetField:") {
        Some(rest) => {
            let (ds, field) = rest.rsplit_once(':').ok_or_else(|| {
                LineageError::BadRequest("datasetField:<ns>:<name>:<field>".into())
            })?;
            (node(&g, &format!("dataset:{ds}"))?, Some(field.to_owned()))
        }
        None => (node(&g, &q.node_id)?, None),
    };
    let NodeId::Dataset(start) = dataset else {
        return Err(LineageError::BadRequest(
            "column lineage starts at a dataset".into(),
        ));
    };
    let depth = q.depth.unwrap_or(DEFAULT_DEPTH);
    let fid = |ns: &str, name: &str, f: &str| format!("datasetField:{ns}:{name}:{f}");
    let mut out: Vec<Value> = Vec::new();
    let mut seen = HashSet::new();
    let d = &g.datasets[start as usize];
    let mut frontier: Vec<(String, String, String)> = d
        .column_lineage
        .keys()
        .filter(|f| only_field.as_deref().is_none_or(|o| o == f.as_str()))
        .map(|f| (d.namespace.clone(), d.name.clone(), f.clone()))
        .collect();
    for _ in 0..=depth {
        let mut next = Vec::new();
        for (ns, name, field) in frontier.drain(..) {
            if !seen.insert((ns.clone(), name.clone(), field.clone())) {
                continue;
            }
            let inputs = g
                .dataset_id(&ns, &name)
                .and_then(|id| g.datasets[id as usize].column_lineage.get(&field));
            let Some(inputs) = inputs else { continue };
            let this = fid(&ns, &name, &field);
            out.push(json!({
                "id": this,
                "type": "DATASET_FIELD",
                "data": {
                    "namespace": ns, "dataset": name, "field": field,
                    "inputFields": inputs.iter().map(|i| json!({
                        "namespace": i.namespace, "dataset": i.name, "field": i.field,
                        "transformations": i.transformations,
                    })).collect::<Vec<_>>(),
                },
                "inEdges": inputs.iter().map(|i| json!({
                    "origin": fid(&i.namespace, &i.name, &i.field), "destination": this,
                })).collect::<Vec<_>>(),
                "outEdges": [],
            }));
            next.extend(
                inputs
                    .iter()
                    .map(|i| (i.namespace.clone(), i.name.clone(), i.field.clone())),
            );
        }
        frontier = next;
    }
    if q.with_downstream == Some(true) {
        // Fields derived from this dataset's fields (a scan: downstream column reads are rare).
        for ds in &g.datasets {
            for (out_field, inputs) in &ds.column_lineage {
                for i in inputs.iter().filter(|i| {
                    i.namespace == d.namespace
                        && i.name == d.name
                        && only_field.as_deref().is_none_or(|o| o == i.field)
                }) {
                    out.push(json!({
                        "id": fid(&ds.namespace, &ds.name, out_field),
                        "type": "DATASET_FIELD",
                        "data": {"namespace": ds.namespace, "dataset": ds.name, "field": out_field},
                        "inEdges": [{"origin": fid(&i.namespace, &i.name, &i.field),
                                     "destination": fid(&ds.namespace, &ds.name, out_field)}],
                        "outEdges": [],
                    }));
                }
            }
        }
    }
    Ok(Json(json!({ "graph": out })))
}

async fn namespaces(State(s): State<AppState>) -> Json<Value> {
    let g = s.read();
    let mut names: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    let spans = g
        .datasets
        .iter()
        .map(|d| (d.namespace.as_str(), d.seen))
        .chain(g.jobs.iter().map(|j| (j.namespace.as_str(), j.seen)));
    for (ns, seen) in spans {
        let e = names.entry(ns).or_insert((seen.first, seen.last));
        e.0 = e.0.min(seen.first);
        e.1 = e.1.max(seen.last);
    }
    let list: Vec<Value> = names
        .into_iter()
        .map(|(name, (first, last))| {
            json!({"name": name, "createdAt": crate::time::format_millis(first),
                   "updatedAt": crate::time::format_millis(last), "ownerName": "anonymous",
                   "description": null, "isHidden": false})
        })
        .collect();
    Json(json!({ "namespaces": list }))
}

fn page<T>(items: Vec<T>, p: &Page) -> (usize, Vec<T>) {
    let total = items.len();
    let items = items
        .into_iter()
        .skip(p.offset.unwrap_or(0))
        .take(p.limit.unwrap_or(100))
        .collect();
    (total, items)
}

async fn datasets(
    State(s): State<AppState>,
    Path(ns): Path<String>,
    Query(p): Query<Page>,
) -> Json<Value> {
    let g = s.read();
    let ns = g.normalize(&ns);
    let ids: Vec<u32> = (0..g.datasets.len() as u32)
        .filter(|d| g.datasets[*d as usize].namespace == ns)
        .collect();
    let (total, ids) = page(ids, &p);
    let list: Vec<_> = ids.into_iter().map(|d| views::dataset(&g, d)).collect();
    Json(json!({"totalCount": total, "datasets": list}))
}

async fn dataset(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<Value>, LineageError> {
    let g = s.read();
    let id = g
        .dataset_id(&ns, &name)
        .ok_or_else(|| LineageError::NotFound(format!("dataset {ns}:{name} not found")))?;
    let mut v = serde_json::to_value(views::dataset(&g, id))
        .map_err(|e| LineageError::Internal(e.to_string()))?;
    let cl = &g.datasets[id as usize].column_lineage;
    if !cl.is_empty() {
        v["columnLineage"] = json!(cl.iter().map(|(f, ins)| json!({
            "name": f,
            "inputFields": ins.iter().map(|i| json!({"namespace": i.namespace, "dataset": i.name,
                "field": i.field, "transformations": i.transformations})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>());
    }
    Ok(Json(v))
}

async fn jobs(
    State(s): State<AppState>,
    Path(ns): Path<String>,
    Query(p): Query<Page>,
) -> Json<Value> {
    let g = s.read();
    let ids: Vec<u32> = (0..g.jobs.len() as u32)
        .filter(|j| g.jobs[*j as usize].namespace == ns)
        .collect();
    let (total, ids) = page(ids, &p);
    let list: Vec<_> = ids.into_iter().map(|j| views::job(&g, j)).collect();
    Json(json!({"totalCount": total, "jobs": list}))
}

fn job_id(g: &Graph, ns: &str, name: &str) -> Result<u32, LineageError> {
    g.job_id(ns, name)
        .ok_or_else(|| LineageError::NotFound(format!("job {ns}:{name} not found")))
}

async fn job(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<Value>, LineageError> {
    let g = s.read();
    to_json(views::job(&g, job_id(&g, &ns, &name)?))
}

async fn runs(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    Query(p): Query<Page>,
) -> Result<Json<Value>, LineageError> {
    let g = s.read();
    let j = job_id(&g, &ns, &name)?;
    // Newest first, as Marquez lists them.
    let ids: Vec<u32> = g.jobs[j as usize].runs.iter().rev().copied().collect();
    let (total, ids) = page(ids, &p);
    let list: Vec<_> = ids
        .into_iter()
        .map(|r| views::run(&g, &g.runs[r as usize]))
        .collect();
    Ok(Json(json!({"totalCount": total, "runs": list})))
}

async fn run(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, LineageError> {
    let g = s.read();
    let r = g
        .run(&id)
        .ok_or_else(|| LineageError::NotFound(format!("run {id} not found")))?;
    to_json(views::run(&g, r))
}

/// A view borrowed from the graph (whose read guard ends with the handler) as owned JSON.
fn to_json(view: impl serde::Serialize) -> Result<Json<Value>, LineageError> {
    serde_json::to_value(view)
        .map(Json)
        .map_err(|e| LineageError::Internal(e.to_string()))
}

async fn stats(State(s): State<AppState>) -> Json<Value> {
    let g = s.read();
    Json(json!({
        "datasets": g.datasets.len(), "jobs": g.jobs.len(), "runs": g.runs.len(),
        "edges": g.edge_count(),
        "eventsApplied": s.stats.applied.load(Ordering::Relaxed),
        "malformedSkipped": s.stats.malformed.load(Ordering::Relaxed),
    }))
}
