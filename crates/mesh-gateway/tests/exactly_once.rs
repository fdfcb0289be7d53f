//! Exactly once across a crash, a killed instance and a registry outage; contract changes
//! mid-stream.
//!
//! The mock cluster shows aborted transactional records to read_committed readers, so the
//! proof is what it cannot fake: every source offset lies in exactly one committed batch
//! (observer), and among the outputs stamped with a committed batch id each source
//! (partition, offset) appears exactly once with the input's exact bytes.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use mesh_gateway::Delivery;
use mesh_gateway::output::{ERROR_CODE, ERROR_RULE, SOURCE_OFFSET, SOURCE_PARTITION};
use mesh_gateway::registry::{RegistryClient, SchemaEntry, SchemaLookup, Unavailable};
use mesh_kafka::pipeline::BATCH_HEADER;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use support::*;

/// Panics (a crash inside the gateway) on the `crash_at`-th lookup.
struct CrashAt {
    inner: RegistryClient,
    n: AtomicUsize,
    crash_at: usize,
    crashed: Arc<AtomicBool>,
}

impl SchemaLookup for CrashAt {
    fn schema(&self, id: u32) -> Result<Option<Arc<SchemaEntry>>, Unavailable> {
        if self.n.fetch_add(1, Ordering::SeqCst) + 1 == self.crash_at {
            self.crashed.store(true, Ordering::SeqCst);
            panic!("simulated gateway crash");
        }
        self.inner.schema(id)
    }
}

fn crash_at(h: &Harness, crash_at: usize) -> (Arc<CrashAt>, Arc<AtomicBool>) {
    let crashed = Arc::new(AtomicBool::new(false));
    let inner = RegistryClient::new(
        &h.registry_url,
        Duration::from_secs(2),
        tokio::runtime::Handle::current(),
    )
    .unwrap();
    (
        Arc::new(CrashAt {
            inner,
            n: AtomicUsize::new(0),
            crash_at,
            crashed: crashed.clone(),
        }),
        crashed,
    )
}

/// `n` keyed records over `partitions`; every 5th breaks a rule. Returns (partition, offset)
/// → value bytes as produced.
fn produce_orders(h: &Harness, n: u64, partitions: i32, from: u64) -> Vec<Raw> {
    let records: Vec<Raw> = (from..from + n)
        .map(|i| {
            let mut o = Order::valid(i);
            if i % 5 == 0 {
                o.status = "LOST".into();
            }
            Raw {
                key: Some(h.key(&format!("k{i}"))),
                value: Some(h.wire(&o.encode())),
                partition: Some((i % partitions as u64) as i32),
                ..Raw::default()
            }
        })
        .collect();
    h.produce_raw(&h.contract.topics.raw, records.clone());
    records
}

/// Every input offset in exactly one committed batch; every committed output once, intact.
///
/// One exception, on the mock cluster only. It drops TxnOffsetCommit, so offsets reach the
/// group through a plain commit after each transaction, and it refuses that commit while the
/// group rebalances (a real broker stores the offsets with the transaction, and accepts commits
/// of the current generation while it prepares a rebalance). The pipeline reports such a batch
/// (`Observer::offsets_refused`) and never reads it again itself; but the member the rebalance
/// hands its partition to starts from the older offset and repeats it. So an offset may lie in
/// two committed batches only if they come from different instances and one of them was
/// refused — and its records must then be identical. See docs/gateway.md.
async fn assert_exactly_once(h: &Harness, observers: &[&Batches], inputs: &[Raw]) {
    // Expected: by partition, offsets in production order.
    let mut expected: BTreeMap<(i32, i64), Vec<u8>> = BTreeMap::new();
    let mut next: HashMap<i32, i64> = HashMap::new();
    for r in inputs {
        let p = r.partition.unwrap();
        let o = next.entry(p).or_default();
        expected.insert((p, *o), r.value.clone().unwrap());
        *o += 1;
    }
    let mut committed_ids = BTreeSet::new();
    // (partition, offset) → (instance, offsets refused) of each committed batch holding it.
    let mut covered: BTreeMap<(i32, i64), Vec<(usize, bool)>> = BTreeMap::new();
    for (i, obs) in observers.iter().enumerate() {
        let refused: BTreeSet<String> = obs
            .refused
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.batch_id.clone())
            .collect();
        for b in obs.committed.lock().unwrap().iter() {
            committed_ids.insert(b.batch_id.clone());
            let r = refused.contains(&b.batch_id);
            for ((_, p), (first, last)) in &b.inputs {
                for o in *first..=*last {
                    covered.entry((*p, o)).or_default().push((i, r));
                }
            }
        }
    }
    let mut repeated = BTreeSet::new();
    for (k, by) in &covered {
        match by.as_slice() {
            [_] => {}
            [a, b] if h.cluster.is_mock() && a.0 != b.0 && (a.1 || b.1) => {
                repeated.insert(*k);
            }
            _ => panic!("offset {k:?} in more than one committed batch: {by:?}"),
        }
    }
    let keys: BTreeSet<_> = covered.keys().copied().collect();
    let want: BTreeSet<_> = expected.keys().copied().collect();
    assert_eq!(keys, want, "committed batches cover every input offset");

    let mut outs: Vec<OwnedMessage> = h.cluster.read_all(&h.contract.topics.validated, true).await;
    outs.extend(h.cluster.read_all(&h.contract.topics.dlq, true).await);
    let mut seen: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    let (mut sum_in, mut sum_out) = (0u64, 0u64);
    for v in expected.values() {
        sum_in = sum_in.wrapping_add(checksum(v));
    }
    for m in &outs {
        let Some(batch) = hdr(m, BATCH_HEADER) else {
            panic!("output without batch id");
        };
        if !committed_ids.contains(&batch) {
            continue; // an aborted transaction's record (visible on the mock)
        }
        let p: i32 = hdr(m, SOURCE_PARTITION).unwrap().parse().unwrap();
        let o: i64 = hdr(m, SOURCE_OFFSET).unwrap().parse().unwrap();
        let payload = m.payload().unwrap().to_vec();
        assert_eq!(Some(&payload), expected.get(&(p, o)), "bytes of {p}/{o}");
        let n = seen.entry((p, o)).or_default();
        *n += 1;
        if *n == 1 {
            sum_out = sum_out.wrapping_add(checksum(&payload));
        }
        // Rejected records carry their reason.
        if m.topic() == h.contract.topics.dlq {
            assert_eq!(hdr(m, ERROR_CODE).as_deref(), Some("RULE_FAILED"));
        }
    }
    let dup: Vec<_> = seen
        .iter()
        .filter(|(k, n)| **n != 1 && !(**n == 2 && repeated.contains(*k)))
        .collect();
    assert!(
        dup.is_empty(),
        "committed outputs seen more than once: {dup:?}"
    );
    if !repeated.is_empty() {
        eprintln!(
            "mock cluster: {} offsets repeated by another instance after a refused offset commit",
            repeated.len()
        );
    }
    assert_eq!(
        seen.len(),
        expected.len(),
        "every input has one committed output"
    );
    assert_eq!(sum_in, sum_out, "checksums of inputs and committed outputs");
}

/// Distinct (partition, offset)s in committed batches.
fn distinct_inputs(observers: &[&Batches]) -> usize {
    let mut set = BTreeSet::new();
    for o in observers {
        for b in o.committed.lock().unwrap().iter() {
            for ((_, p), (first, last)) in &b.inputs {
                set.extend((*first..=*last).map(|x| (*p, x)));
            }
        }
    }
    set.len()
}

fn checksum(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x100_0000_01b3)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_and_restart_loses_and_duplicates_nothing() {
    const P: i32 = 3;
    let h = Harness::new(TestCluster::transactional(), P).await;
    h.apply_contract(Some(&h.contract));
    let inputs = produce_orders(&h, 300, P, 0);
    let config = h.config(Delivery::ExactlyOnce);

    // Instance "a" crashes mid-batch (two lookups per record: key and value).
    let first = Arc::new(Batches::default());
    let (lookup, crashed) = crash_at(&h, 2 * 120 + 1);
    let s1 = Shutdown::new();
    let g = mesh_gateway::Gateway::default()
        .observer(first.clone())
        .schema_lookup(lookup);
    g.start(config.clone(), h.kafka(), &s1).await.unwrap();
    wait_for("the crash", Duration::from_secs(30), || {
        crashed.load(Ordering::SeqCst)
    })
    .await;
    assert!(first.committed_inputs() < 300, "crashed before the end");

    // The same instance restarts: its transactional id fences and aborts the open transaction.
    let second = Arc::new(Batches::default());
    let s2 = Shutdown::new();
    h.start(config, Some(second.clone()), &s2).await;
    wait_for("all records committed", Duration::from_secs(30), || {
        first.committed_inputs() + second.committed_inputs() >= 300
    })
    .await;
    s1.cancel();
    s2.cancel();
    assert_exactly_once(&h, &[&first, &second], &inputs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_partitions_and_survive_one_dying() {
    const P: i32 = 4;
    let h = Harness::new(TestCluster::transactional(), P).await;
    h.apply_contract(Some(&h.contract));
    let config = h.config(Delivery::ExactlyOnce);
    let a_batches = Arc::new(Batches::default());
    let b_batches = Arc::new(Batches::default());
    let (lookup, crashed) = crash_at(&h, 2 * 60 + 1);
    let (sa, sb) = (Shutdown::new(), Shutdown::new());
    mesh_gateway::Gateway::default()
        .observer(a_batches.clone())
        .schema_lookup(lookup)
        .start(config.clone(), h.kafka(), &sa)
        .await
        .unwrap();
    let mut b_config = config.clone();
    b_config.instance_id = "b".into();
    h.start(b_config, Some(b_batches.clone()), &sb).await;
    // Both members are in the group before the records arrive. On the mock a join takes one
    // rebalance (session timeout − 1 s = 2 s), sometimes two (it can refuse the joiner's
    // SyncGroup), and a batch committed meanwhile may be repeated (see assert_exactly_once).
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let inputs = produce_orders(&h, 400, P, 0);
    wait_for("instance a dies", Duration::from_secs(30), || {
        crashed.load(Ordering::SeqCst)
    })
    .await;
    wait_for(
        "b takes over every partition",
        Duration::from_secs(40),
        || distinct_inputs(&[&a_batches, &b_batches]) >= 400,
    )
    .await;
    // a validated at most 60 records before dying (two lookups per record): b, whose own share
    // is about half of the 400, must have taken over a's partitions.
    assert!(
        a_batches.committed_inputs() <= 60,
        "a crashed at its 61st record"
    );
    assert!(
        b_batches.committed_inputs() >= 340,
        "b took over a's partitions: {} committed by b",
        b_batches.committed_inputs()
    );
    sa.cancel();
    sb.cancel();
    assert_exactly_once(&h, &[&a_batches, &b_batches], &inputs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_outage_pauses_and_resumes_without_loss() {
    const P: i32 = 2;
    let dir = tempfile::tempdir().unwrap();
    let (url, rs) = start_registry(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Some(dir.path().to_path_buf()),
    )
    .await;
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let h = Harness::with_registry(TestCluster::transactional(), P, url, rs.clone()).await;
    h.apply_contract(Some(&h.contract));
    let inputs = produce_orders(&h, 100, P, 0);
    // The registry goes down before the gateway has cached anything.
    rs.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let batches = Arc::new(Batches::default());
    let s = Shutdown::new();
    h.start(h.config(Delivery::ExactlyOnce), Some(batches.clone()), &s)
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        batches.committed_inputs(),
        0,
        "nothing passes while the registry is down"
    );
    assert!(
        !batches.aborted.lock().unwrap().is_empty(),
        "batches were tried and abandoned (retried later)"
    );
    // Back on the same address with the same store.
    let (_, rs2) = start_registry(addr, Some(dir.path().to_path_buf())).await;
    wait_for("the stream resumes", Duration::from_secs(30), || {
        batches.committed_inputs() >= 100
    })
    .await;
    s.cancel();
    rs2.cancel();
    assert_exactly_once(&h, &[&batches], &inputs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_changes_apply_mid_stream_without_restart() {
    let h = Harness::new(TestCluster::transactional(), 1).await;
    h.apply_contract(Some(&h.contract));
    let batches = Arc::new(Batches::default());
    let s = Shutdown::new();
    let running = h
        .start(h.config(Delivery::ExactlyOnce), Some(batches.clone()), &s)
        .await;
    let big = |n: u64| {
        let mut o = Order::valid(n);
        o.total = 50_000.0; // breaks the warn rule `large-order`
        Raw {
            key: Some(h.key("k")),
            value: Some(h.wire(&o.encode())),
            ..Raw::default()
        }
    };
    h.produce_raw(&h.contract.topics.raw, (0..5).map(big).collect());
    wait_for("first records", Duration::from_secs(20), || {
        batches.committed_inputs() >= 5
    })
    .await;
    // The rule becomes a rejecting one.
    let mut stricter = h.contract.clone();
    for r in &mut stricter.rules {
        if r.name == "large-order" {
            r.action = mesh_contract::model::Action::Reject;
        }
    }
    h.apply_contract(Some(&stricter));
    let raw = h.contract.topics.raw.clone();
    wait_for("the change to apply", Duration::from_secs(10), || {
        running.contracts.product(&raw).is_some_and(|p| {
            p.by_major[&1].contract.rules.iter().any(|r| {
                r.name == "large-order" && r.action == mesh_contract::model::Action::Reject
            })
        })
    })
    .await;
    h.produce_raw(&h.contract.topics.raw, (5..10).map(big).collect());
    wait_for("second records", Duration::from_secs(20), || {
        batches.committed_inputs() >= 10
    })
    .await;
    let valid = h.cluster.read_all(&h.contract.topics.validated, true).await;
    let dlq = h.cluster.read_all(&h.contract.topics.dlq, true).await;
    assert_eq!((valid.len(), dlq.len()), (5, 5));
    assert!(
        dlq.iter()
            .all(|m| hdr(m, ERROR_RULE).as_deref() == Some("large-order"))
    );

    // Retired (tombstone): the product's pipeline stops; re-applied: it resumes where it was.
    h.apply_contract(None);
    wait_for("the retirement to apply", Duration::from_secs(10), || {
        running.contracts.product(&raw).is_none()
    })
    .await;
    h.produce_raw(&h.contract.topics.raw, (10..13).map(big).collect());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        batches.committed_inputs(),
        10,
        "a retired contract is not enforced"
    );
    h.apply_contract(Some(&h.contract));
    wait_for("resumed", Duration::from_secs(20), || {
        batches.committed_inputs() >= 13
    })
    .await;
    s.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_crash_repeats_records_with_identical_provenance() {
    const P: i32 = 2;
    let h = Harness::new(TestCluster::start(), P).await;
    h.apply_contract(Some(&h.contract));
    let inputs = produce_orders(&h, 120, P, 0);
    let config = h.config(Delivery::AtLeastOnce);
    let (lookup, crashed) = crash_at(&h, 2 * 70 + 1);
    let (s1, s2) = (Shutdown::new(), Shutdown::new());
    let first = Arc::new(Batches::default());
    mesh_gateway::Gateway::default()
        .observer(first.clone())
        .schema_lookup(lookup)
        .start(config.clone(), h.kafka(), &s1)
        .await
        .unwrap();
    wait_for("the crash", Duration::from_secs(30), || {
        crashed.load(Ordering::SeqCst)
    })
    .await;
    let second = Arc::new(Batches::default());
    h.start(config, Some(second.clone()), &s2).await;
    wait_for("everything committed", Duration::from_secs(30), || {
        first.committed_inputs() + second.committed_inputs() >= 120
    })
    .await;
    s1.cancel();
    s2.cancel();
    // Deduplicating on (source partition, source offset) gives every input exactly once.
    let mut expected: BTreeMap<(i32, i64), Vec<u8>> = BTreeMap::new();
    let mut next: HashMap<i32, i64> = HashMap::new();
    for r in &inputs {
        let p = r.partition.unwrap();
        let o = next.entry(p).or_default();
        expected.insert((p, *o), r.value.clone().unwrap());
        *o += 1;
    }
    let mut outs = h
        .cluster
        .read_all(&h.contract.topics.validated, false)
        .await;
    outs.extend(h.cluster.read_all(&h.contract.topics.dlq, false).await);
    let mut deduped: BTreeMap<(i32, i64), Vec<u8>> = BTreeMap::new();
    for m in &outs {
        let p: i32 = hdr(m, SOURCE_PARTITION).unwrap().parse().unwrap();
        let o: i64 = hdr(m, SOURCE_OFFSET).unwrap().parse().unwrap();
        let v = m.payload().unwrap().to_vec();
        if let Some(prev) = deduped.insert((p, o), v.clone()) {
            assert_eq!(prev, v, "a repeated record is identical");
        }
    }
    assert_eq!(
        deduped, expected,
        "nothing lost; duplicates collapse by provenance"
    );
}
