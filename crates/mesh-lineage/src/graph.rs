//! The in-memory lineage graph: datasets and jobs as nodes with precomputed adjacency (so a
//! lineage read is a BFS over vectors, never a query rebuilt per request), edges with first/last
//! seen, runs accumulating events, column lineage. Pure: events in, answers out.
//!
//! Accumulative by design: an event adds or refreshes edges and facets but never removes an
//! edge (STREAMING jobs send RUNNING snapshots and rarely a terminal event; an edge's `last_seen`
//! says whether it is still live). A facet sent with `_deleted: true` removes that facet.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{Dataset, Event, EventType, Facets, Job, Run};
use crate::identity::Namespaces;

/// A node of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeId {
    Dataset(u32),
    Job(u32),
}

/// Which way to walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Upstream,
    Downstream,
    /// Both ways, including siblings (Marquez's `/lineage`).
    Both,
}

/// When an edge or node was first and last seen (event time, epoch ms).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub first: i64,
    pub last: i64,
}

impl Seen {
    fn at(t: i64) -> Self {
        Self { first: t, last: t }
    }

    fn touch(&mut self, t: i64) {
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
}

/// One input column of an output column (`columnLineage` facet).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnInput {
    pub namespace: String,
    pub name: String,
    pub field: String,
    pub transformations: Value,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DatasetNode {
    pub namespace: String,
    pub name: String,
    pub facets: Facets,
    pub seen: Seen,
    /// Jobs writing it / reading it.
    pub producers: Vec<u32>,
    pub consumers: Vec<u32>,
    /// Output field → the input fields it derives from.
    pub column_lineage: BTreeMap<String, Vec<ColumnInput>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobNode {
    pub namespace: String,
    pub name: String,
    pub facets: Facets,
    pub seen: Seen,
    pub inputs: Vec<u32>,
    pub outputs: Vec<u32>,
    /// Runs in arrival order; the last is the current one (a restart is a new run).
    pub runs: Vec<u32>,
}

impl JobNode {
    /// `jobType.processingType` (`BATCH` when absent, as the spec defaults).
    pub fn processing_type(&self) -> &str {
        self.facets
            .get("jobType")
            .and_then(|f| f.get("processingType"))
            .and_then(Value::as_str)
            .unwrap_or("BATCH")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunNode {
    pub id: String,
    pub job: u32,
    /// The latest event type seen (terminal ones stick).
    pub state: EventType,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub seen: Seen,
    pub events: u32,
    pub facets: Facets,
}

/// The graph. Node ids are indexes into `datasets` / `jobs`.
#[derive(Debug, Default)]
pub struct Graph {
    namespaces: Namespaces,
    pub datasets: Vec<DatasetNode>,
    pub jobs: Vec<JobNode>,
    pub runs: Vec<RunNode>,
    dataset_ids: HashMap<(String, String), u32>,
    job_ids: HashMap<(String, String), u32>,
    run_ids: HashMap<String, u32>,
    /// (job, dataset, is_output) → seen.
    edges: HashMap<(u32, u32, bool), Seen>,
}

impl Graph {
    pub fn new(namespaces: Namespaces) -> Self {
        Self {
            namespaces,
            ..Self::default()
        }
    }

    pub fn namespaces(&self) -> &Namespaces {
        &self.namespaces
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    pub fn edge(&self, job: u32, dataset: u32, is_output: bool) -> Option<Seen> {
        self.edges.get(&(job, dataset, is_output)).copied()
    }

    /// The canonical namespace for `namespace` (Kafka namespaces → cluster alias).
    pub fn normalize(&self, namespace: &str) -> String {
        self.namespaces.normalize(namespace)
    }

    pub fn dataset_id(&self, namespace: &str, name: &str) -> Option<u32> {
        let ns = self.normalize(namespace);
        self.dataset_ids.get(&(ns, name.to_owned())).copied()
    }

    pub fn job_id(&self, namespace: &str, name: &str) -> Option<u32> {
        self.job_ids
            .get(&(namespace.to_owned(), name.to_owned()))
            .copied()
    }

    pub fn run(&self, run_id: &str) -> Option<&RunNode> {
        self.run_ids.get(run_id).map(|i| &self.runs[*i as usize])
    }

    /// Datasets named `name` in any namespace (a product given by topic name alone).
    pub fn datasets_named(&self, name: &str) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .dataset_ids
            .iter()
            .filter(|((_, n), _)| n == name)
            .map(|(_, id)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Applies one validated event.
    pub fn apply(&mut self, event: &Event) {
        let t = event.header().event_time_ms;
        match event {
            Event::Run {
                event_type,
                run,
                job,
                inputs,
                outputs,
                ..
            } => {
                let j = self.upsert_job(job, t);
                self.link(j, inputs, outputs, t);
                self.apply_run(j, run, *event_type, t);
            }
            Event::Job {
                job,
                inputs,
                outputs,
                ..
            } => {
                let j = self.upsert_job(job, t);
                self.link(j, inputs, outputs, t);
            }
            Event::Dataset { dataset, .. } => {
                self.upsert_dataset(dataset, t);
            }
        }
    }

    fn link(&mut self, job: u32, inputs: &[Dataset], outputs: &[Dataset], t: i64) {
        for (list, is_output) in [(inputs, false), (outputs, true)] {
            for d in list {
                let ds = self.upsert_dataset(d, t);
                match self.edges.entry((job, ds, is_output)) {
                    std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().touch(t),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(Seen::at(t));
                        let (jn, dn) = (
                            &mut self.jobs[job as usize],
                            &mut self.datasets[ds as usize],
                        );
                        if is_output {
                            jn.outputs.push(ds);
                            dn.producers.push(job);
                        } else {
                            jn.inputs.push(ds);
                            dn.consumers.push(job);
                        }
                    }
                }
            }
        }
    }

    fn upsert_job(&mut self, job: &Job, t: i64) -> u32 {
        let key = (job.namespace.clone(), job.name.clone());
        let id = match self.job_ids.get(&key) {
            Some(id) => *id,
            None => {
                let id = self.jobs.len() as u32;
                self.jobs.push(JobNode {
                    namespace: job.namespace.clone(),
                    name: job.name.clone(),
                    facets: Facets::new(),
                    seen: Seen::at(t),
                    inputs: Vec::new(),
                    outputs: Vec::new(),
                    runs: Vec::new(),
                });
                self.job_ids.insert(key, id);
                id
            }
        };
        let node = &mut self.jobs[id as usize];
        node.seen.touch(t);
        merge_facets(&mut node.facets, &job.facets);
        id
    }

    fn upsert_dataset(&mut self, d: &Dataset, t: i64) -> u32 {
        let key = (self.namespaces.normalize(&d.namespace), d.name.clone());
        let id = match self.dataset_ids.get(&key) {
            Some(id) => *id,
            None => {
                let id = self.datasets.len() as u32;
                self.datasets.push(DatasetNode {
                    namespace: key.0.clone(),
                    name: d.name.clone(),
                    facets: Facets::new(),
                    seen: Seen::at(t),
                    producers: Vec::new(),
                    consumers: Vec::new(),
                    column_lineage: BTreeMap::new(),
                });
                self.dataset_ids.insert(key, id);
                id
            }
        };
        if let Some(cl) = d.facets.get("columnLineage") {
            let parsed = self.column_lineage(cl);
            self.datasets[id as usize].column_lineage.extend(parsed);
        }
        let node = &mut self.datasets[id as usize];
        node.seen.touch(t);
        merge_facets(&mut node.facets, &d.facets);
        id
    }

    /// `columnLineage.fields{out: {inputFields[{namespace, name, field, transformations}]}}`;
    /// entries missing a member are skipped (the facet's own schema is not enforced on ingest).
    fn column_lineage(&self, facet: &Value) -> Vec<(String, Vec<ColumnInput>)> {
        let Some(fields) = facet.get("fields").and_then(Value::as_object) else {
            return Vec::new();
        };
        fields
            .iter()
            .map(|(out, spec)| {
                let inputs = spec
                    .get("inputFields")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|i| {
                                Some(ColumnInput {
                                    namespace: self.normalize(i.get("namespace")?.as_str()?),
                                    name: i.get("name")?.as_str()?.to_owned(),
                                    field: i.get("field")?.as_str()?.to_owned(),
                                    transformations: i
                                        .get("transformations")
                                        .cloned()
                                        .unwrap_or(Value::Array(Vec::new())),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (out.clone(), inputs)
            })
            .collect()
    }

    fn apply_run(&mut self, job: u32, run: &Run, event_type: Option<EventType>, t: i64) {
        let id = match self.run_ids.get(&run.run_id) {
            Some(id) => *id,
            None => {
                let id = self.runs.len() as u32;
                self.runs.push(RunNode {
                    id: run.run_id.clone(),
                    job,
                    state: EventType::Other,
                    started_at: None,
                    ended_at: None,
                    seen: Seen::at(t),
                    events: 0,
                    facets: Facets::new(),
                });
                self.run_ids.insert(run.run_id.clone(), id);
                self.jobs[job as usize].runs.push(id);
                id
            }
        };
        let r = &mut self.runs[id as usize];
        r.events += 1;
        r.seen.touch(t);
        merge_facets(&mut r.facets, &run.facets);
        let Some(et) = event_type else { return };
        match et {
            EventType::Start => r.started_at = Some(r.started_at.map_or(t, |s| s.min(t))),
            EventType::Running if r.started_at.is_none() => r.started_at = Some(t),
            e if e.is_terminal() => r.ended_at = Some(t),
            _ => {}
        }
        // A terminal state sticks; OTHER never changes the state (it may come at any time).
        if !r.state.is_terminal() && et != EventType::Other {
            r.state = et;
        }
    }

    /// Nodes within `depth` jobs of `start`, walking `direction`, in BFS order (start first).
    /// Depth counts jobs, as Marquez's `depth` does: a dataset's producers are 1 away, their
    /// inputs too; a job's outputs are 0 jobs away.
    pub fn walk(&self, start: NodeId, direction: Direction, depth: u32) -> Vec<NodeId> {
        let mut seen: HashSet<NodeId> = HashSet::from([start]);
        let mut order = vec![start];
        let mut queue = VecDeque::from([(start, 0u32)]);
        let mut push = |n: NodeId, d: u32, queue: &mut VecDeque<(NodeId, u32)>| {
            if seen.insert(n) {
                order.push(n);
                queue.push_back((n, d));
            }
        };
        while let Some((node, d)) = queue.pop_front() {
            match node {
                NodeId::Dataset(ds) => {
                    if d >= depth {
                        continue;
                    }
                    let n = &self.datasets[ds as usize];
                    if direction != Direction::Downstream {
                        for j in &n.producers {
                            push(NodeId::Job(*j), d + 1, &mut queue);
                        }
                    }
                    if direction != Direction::Upstream {
                        for j in &n.consumers {
                            push(NodeId::Job(*j), d + 1, &mut queue);
                        }
                    }
                }
                NodeId::Job(j) => {
                    let n = &self.jobs[j as usize];
                    if direction != Direction::Downstream {
                        for ds in &n.inputs {
                            push(NodeId::Dataset(*ds), d, &mut queue);
                        }
                    }
                    if direction != Direction::Upstream {
                        for ds in &n.outputs {
                            push(NodeId::Dataset(*ds), d, &mut queue);
                        }
                    }
                }
            }
        }
        order
    }
}

/// The graph's content without its indexes, as the snapshot stores it (borrowed when written).
#[derive(Debug, Serialize)]
pub struct StateRef<'a> {
    pub datasets: &'a [DatasetNode],
    pub jobs: &'a [JobNode],
    pub runs: &'a [RunNode],
    pub edges: Vec<(u32, u32, bool, Seen)>,
}

/// [`StateRef`], read back.
#[derive(Debug, Deserialize)]
pub struct State {
    pub datasets: Vec<DatasetNode>,
    pub jobs: Vec<JobNode>,
    pub runs: Vec<RunNode>,
    pub edges: Vec<(u32, u32, bool, Seen)>,
}

impl Graph {
    pub fn state(&self) -> StateRef<'_> {
        StateRef {
            datasets: &self.datasets,
            jobs: &self.jobs,
            runs: &self.runs,
            edges: self
                .edges
                .iter()
                .map(|(k, v)| (k.0, k.1, k.2, *v))
                .collect(),
        }
    }

    /// Rebuilds a graph (and its indexes) from a stored state; `None` if the state is
    /// inconsistent (an index out of range), so a damaged snapshot is never served.
    pub fn from_state(namespaces: Namespaces, state: State) -> Option<Self> {
        let (nd, nj, nr) = (state.datasets.len(), state.jobs.len(), state.runs.len());
        let ok_d = |i: &u32| (*i as usize) < nd;
        let ok_j = |i: &u32| (*i as usize) < nj;
        let consistent = state
            .datasets
            .iter()
            .all(|d| d.producers.iter().all(ok_j) && d.consumers.iter().all(ok_j))
            && state.jobs.iter().all(|j| {
                j.inputs.iter().all(ok_d)
                    && j.outputs.iter().all(ok_d)
                    && j.runs.iter().all(|r| (*r as usize) < nr)
            })
            && state.runs.iter().all(|r| ok_j(&r.job))
            && state.edges.iter().all(|e| ok_j(&e.0) && ok_d(&e.1));
        if !consistent {
            return None;
        }
        let mut g = Graph::new(namespaces);
        for (i, d) in state.datasets.iter().enumerate() {
            g.dataset_ids
                .insert((d.namespace.clone(), d.name.clone()), i as u32);
        }
        for (i, j) in state.jobs.iter().enumerate() {
            g.job_ids
                .insert((j.namespace.clone(), j.name.clone()), i as u32);
        }
        for (i, r) in state.runs.iter().enumerate() {
            g.run_ids.insert(r.id.clone(), i as u32);
        }
        g.edges = state
            .edges
            .into_iter()
            .map(|(j, d, out, seen)| ((j, d, out), seen))
            .collect();
        g.datasets = state.datasets;
        g.jobs = state.jobs;
        g.runs = state.runs;
        Some(g)
    }
}

/// Latest facet wins per name; `_deleted: true` removes it.
fn merge_facets(into: &mut Facets, from: &Facets) {
    for (k, v) in from {
        if v.get("_deleted").and_then(Value::as_bool) == Some(true) {
            into.remove(k);
        } else {
            into.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
