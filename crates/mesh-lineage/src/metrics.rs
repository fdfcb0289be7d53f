//! The collector's metrics. Labels are fixed sets (transport, outcome, observer name).

/// Events received, by transport (`http`, `kafka`) and outcome (`accepted`, `invalid`).
pub const EVENTS: &str = "mesh_lineage_events_total";
/// Graph size, by kind (`datasets`, `jobs`, `runs`, `edges`).
pub const GRAPH_NODES: &str = "mesh_lineage_graph_size";
/// Observer refreshes, by observer and outcome (`ok`, `error`).
pub const OBSERVER_RUNS: &str = "mesh_lineage_observer_runs_total";

pub fn events(transport: &'static str, outcome: &'static str, n: u64) {
    metrics::counter!(EVENTS, "transport" => transport, "outcome" => outcome).increment(n);
}

pub fn graph_size(kind: &'static str, n: usize) {
    metrics::gauge!(GRAPH_NODES, "kind" => kind).set(n as f64);
}

pub fn observer_run(observer: &'static str, ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(OBSERVER_RUNS, "observer" => observer, "outcome" => outcome).increment(1);
}
