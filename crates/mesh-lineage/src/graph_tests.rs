use super::*;
use crate::event;

fn ev(json: &str) -> Event {
    event::parse(json.as_bytes()).expect("valid event")
}

fn run_event(run: &str, t: &str, ty: &str, job: &str, ins: &[&str], outs: &[&str]) -> Event {
    let ds = |l: &[&str]| {
        l.iter()
            .map(|n| format!(r#"{{"namespace":"kafka://b2:9092,b1:9092","name":"{n}"}}"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    ev(&format!(
        r#"{{"eventTime":"{t}","producer":"https://p","schemaURL":"https://s","eventType":"{ty}",
        "run":{{"runId":"{run}"}},"job":{{"namespace":"orders","name":"{job}","facets":{{"jobType":
        {{"_producer":"https://p","_schemaURL":"https://s","processingType":"STREAMING","integration":"KAFKA"}}}}}},
        "inputs":[{}],"outputs":[{}]}}"#,
        ds(ins),
        ds(outs)
    ))
}

const R1: &str = "0190c6d2-0000-7000-8000-000000000001";
const R2: &str = "0190c6d2-0000-7000-8000-000000000002";

fn graph() -> Graph {
    let clusters = BTreeMap::from([("prod".to_owned(), vec!["b1:9092".to_owned()])]);
    Graph::new(Namespaces::new(&clusters))
}

#[test]
fn streaming_running_events_connect_the_graph_and_a_restart_is_a_new_run() {
    let mut g = graph();
    g.apply(&run_event(
        R1,
        "2026-01-01T00:00:00Z",
        "START",
        "gw",
        &["raw"],
        &[],
    ));
    g.apply(&run_event(
        R1,
        "2026-01-01T00:01:00Z",
        "RUNNING",
        "gw",
        &["raw"],
        &["valid"],
    ));
    g.apply(&run_event(
        R1,
        "2026-01-01T00:02:00Z",
        "RUNNING",
        "gw",
        &["raw"],
        &["valid"],
    ));
    // No terminal event, yet the edge raw → gw → valid exists.
    let raw = g
        .dataset_id("kafka://b1:9092", "raw")
        .expect("raw, any broker form");
    let valid = g.dataset_id("kafka://prod", "valid").expect("valid");
    let job = g.job_id("orders", "gw").unwrap();
    assert_eq!(g.jobs[job as usize].processing_type(), "STREAMING");
    assert_eq!(
        g.walk(NodeId::Dataset(raw), Direction::Downstream, 1),
        vec![
            NodeId::Dataset(raw),
            NodeId::Job(job),
            NodeId::Dataset(valid)
        ]
    );
    let e = g.edge(job, valid, true).unwrap();
    assert_eq!(e.last - e.first, 60_000, "first/last seen by event time");
    let run = g.run(R1).unwrap();
    assert_eq!((run.state, run.events), (EventType::Running, 3));
    assert!(run.ended_at.is_none());
    // Restart: a new run for the same job.
    g.apply(&run_event(
        R2,
        "2026-01-01T01:00:00Z",
        "START",
        "gw",
        &["raw"],
        &["valid"],
    ));
    assert_eq!(g.jobs[job as usize].runs.len(), 2);
    assert_eq!(g.run(R2).unwrap().state, EventType::Start);
    assert_eq!(g.edge_count(), 2);
}

#[test]
fn terminal_state_sticks_and_depth_counts_jobs() {
    let mut g = graph();
    g.apply(&run_event(
        R1,
        "2026-01-01T00:00:00Z",
        "COMPLETE",
        "a",
        &["t0"],
        &["t1"],
    ));
    g.apply(&run_event(
        R1,
        "2026-01-01T00:00:01Z",
        "OTHER",
        "a",
        &[],
        &[],
    ));
    assert_eq!(g.run(R1).unwrap().state, EventType::Complete);
    g.apply(&run_event(
        R2,
        "2026-01-01T00:00:00Z",
        "RUNNING",
        "b",
        &["t1"],
        &["t2"],
    ));
    let t0 = g.dataset_id("kafka://prod", "t0").unwrap();
    let t2 = g.dataset_id("kafka://prod", "t2").unwrap();
    assert_eq!(
        g.walk(NodeId::Dataset(t0), Direction::Downstream, 1).len(),
        3
    );
    assert_eq!(
        g.walk(NodeId::Dataset(t0), Direction::Downstream, 2).len(),
        5
    );
    assert_eq!(g.walk(NodeId::Dataset(t2), Direction::Upstream, 5).len(), 5);
    assert_eq!(
        g.walk(NodeId::Dataset(t2), Direction::Downstream, 5).len(),
        1
    );
}

#[test]
fn column_lineage_and_facets_merge_with_deletion() {
    let mut g = graph();
    g.apply(&ev(
        r#"{"eventTime":"2026-01-01T00:00:00Z","producer":"https://p","schemaURL":"https://s",
        "dataset":{"namespace":"kafka://b1:9092","name":"out","facets":{
          "documentation":{"_producer":"https://p","_schemaURL":"https://s","description":"d"},
          "columnLineage":{"_producer":"https://p","_schemaURL":"https://s","fields":{
            "total":{"inputFields":[{"namespace":"kafka://b1:9092","name":"in","field":"price",
              "transformations":[{"type":"DIRECT","subtype":"AGGREGATION"}]}]}}}}}}"#,
    ));
    let out = g.dataset_id("kafka://prod", "out").unwrap();
    let cl = &g.datasets[out as usize].column_lineage["total"];
    assert_eq!(
        (cl[0].namespace.as_str(), cl[0].field.as_str()),
        ("kafka://prod", "price")
    );
    assert!(
        g.datasets[out as usize]
            .facets
            .contains_key("documentation")
    );
    g.apply(&ev(
        r#"{"eventTime":"2026-01-01T00:00:00Z","producer":"https://p","schemaURL":"https://s",
        "dataset":{"namespace":"kafka://prod","name":"out","facets":{
          "documentation":{"_producer":"https://p","_schemaURL":"https://s","_deleted":true}}}}"#,
    ));
    assert!(
        !g.datasets[out as usize]
            .facets
            .contains_key("documentation")
    );
    assert_eq!(
        g.datasets.len(),
        1,
        "alias and broker address are one dataset"
    );
}
