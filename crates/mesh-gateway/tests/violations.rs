//! Every violation kind, end to end: record → expected destination and reason headers.

mod support;

use std::time::Duration;

use mesh_gateway::Delivery;
use mesh_gateway::output::*;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::Message;
use support::*;

struct Case {
    name: &'static str,
    record: Raw,
    /// `None` = validated topic; `Some(code)` = DLQ with this `__mesh.error.code`.
    dlq_code: Option<&'static str>,
    rule: Option<&'static str>,
    path: Option<&'static str>,
    /// Number of entries in `__mesh.errors`.
    errors: usize,
}

fn case(name: &'static str, key: Option<Vec<u8>>, value: Option<Vec<u8>>) -> Case {
    Case {
        name,
        record: Raw {
            key,
            value,
            headers: vec![("case".into(), name.as_bytes().to_vec())],
            partition: Some(0),
        },
        dlq_code: None,
        rule: None,
        path: None,
        errors: 0,
    }
}

impl Case {
    fn dlq(mut self, code: &'static str, errors: usize) -> Self {
        self.dlq_code = Some(code);
        self.errors = errors;
        self
    }
    fn at(mut self, rule: Option<&'static str>, path: &'static str) -> Self {
        self.rule = rule;
        self.path = Some(path);
        self
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_violation_kind_is_routed_with_its_reason() {
    let h = Harness::new(TestCluster::transactional(), 1).await;
    // A schema registered under another subject, and a major-2 schema of the product's subject
    // (no v2 contract is applied).
    let other = register(&h.registry_url, "other-value", "\"long\"", None).await;
    let v2_schema = order_schema().replacen(
        r#""fields": ["#,
        r#""fields": [{"name": "channel", "type": "string", "default": "web"},"#,
        1,
    );
    assert_ne!(v2_schema, order_schema(), "v2 schema differs");
    let major2 = register(&h.registry_url, SUBJECT, &v2_schema, Some(2)).await;
    let k = || Some(h.key("o-1"));
    let order = |f: &dyn Fn(&mut Order)| {
        let mut o = Order::valid(1);
        f(&mut o);
        o.encode()
    };
    let good = Order::valid(1).encode();
    let mut bad_utf8 = good.clone();
    bad_utf8[1] = 0xff; // inside order_id
    let mut bad_union = good.clone();
    let union_at = bad_union.len() - 22; // coupon index byte, before placed_at (1 + 20 bytes)
    assert_eq!(bad_union[union_at], 0);
    bad_union[union_at] = 4; // index 2 of a 2-branch union
    let mut trailing = h.wire(&good);
    trailing.push(0);

    let cases = vec![
        case("valid", k(), Some(h.wire(&good))),
        case(
            "warn rule passes",
            k(),
            Some(h.wire(&order(&|o| o.total = 20_000.0))),
        ),
        case("no magic byte", k(), Some(b"{\"order_id\":1}".to_vec())).dlq("NO_MAGIC_BYTE", 1),
        {
            let mut c =
                case("header mode", k(), Some(good.clone())).dlq("HEADER_SCHEMA_ID_UNSUPPORTED", 1);
            c.record
                .headers
                .push(("__value_schema_id".into(), vec![1; 17]));
            c
        },
        case("unknown id", k(), Some(wire(999_999, &good))).dlq("UNKNOWN_SCHEMA_ID", 1),
        case("other subject", k(), Some(wire(other, &good))).dlq("SCHEMA_NOT_IN_SUBJECT", 1),
        case("no contract for major", k(), Some(wire(major2, &good)))
            .dlq("NO_CONTRACT_FOR_MAJOR", 1),
        case("truncated", k(), Some(h.wire(&good[..good.len() - 3])))
            .dlq("DECODE_TRUNCATED", 1)
            .at(None, "$.placed_at"),
        case("trailing bytes", k(), Some(trailing)).dlq("DECODE_TRAILING_BYTES", 1),
        case("invalid utf-8", k(), Some(h.wire(&bad_utf8)))
            .dlq("DECODE_INVALID_UTF8", 1)
            .at(None, "$.order_id"),
        case("union index", k(), Some(h.wire(&bad_union)))
            .dlq("DECODE_UNION_INDEX", 1)
            .at(None, "$.coupon"),
        case(
            "field rule",
            k(),
            Some(h.wire(&order(&|o| o.status = "LOST".into()))),
        )
        .dlq("RULE_FAILED", 1)
        .at(Some("status-known"), "status"),
        case(
            "cel record rule",
            k(),
            Some(h.wire(&order(&|o| o.items.clear()))),
        )
        .dlq("RULE_FAILED", 1)
        .at(Some("order-has-items"), ""),
        case(
            "two rules",
            k(),
            Some(h.wire(&order(&|o| {
                o.status = "LOST".into();
                o.items.clear();
            }))),
        )
        .dlq("RULE_FAILED", 2),
        case("key missing", None, Some(h.wire(&good))).dlq("KEY_REQUIRED", 1),
        case(
            "key not wire format",
            Some(b"o-1".to_vec()),
            Some(h.wire(&good)),
        )
        .dlq("KEY_NO_MAGIC_BYTE", 1),
        case(
            "key schema",
            Some(wire(h.schema_id, b"x")),
            Some(h.wire(&good)),
        )
        .dlq("KEY_SCHEMA_NOT_IN_SUBJECT", 1),
        case(
            "key decode",
            Some(wire(h.key_schema_id, &[0x08, b'a'])),
            Some(h.wire(&good)),
        )
        .dlq("KEY_DECODE_TRUNCATED", 1),
        case("tombstone", k(), None).dlq("TOMBSTONE_REJECTED", 1),
    ];

    h.apply_contract(Some(&h.contract));
    let shutdown = Shutdown::new();
    h.start(h.config(Delivery::ExactlyOnce), None, &shutdown)
        .await;
    h.produce_raw(
        &h.contract.topics.raw,
        cases.iter().map(|c| c.record.clone()).collect(),
    );

    let want_valid = cases.iter().filter(|c| c.dlq_code.is_none()).count();
    let want_dlq = cases.len() - want_valid;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (valid, dlq) = loop {
        let valid = h.cluster.read_all(&h.contract.topics.validated, true).await;
        let dlq = h.cluster.read_all(&h.contract.topics.dlq, true).await;
        if valid.len() + dlq.len() >= cases.len() || std::time::Instant::now() > deadline {
            break (valid, dlq);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let seen: Vec<_> = dlq
        .iter()
        .map(|m| (hdr(m, "case"), hdr(m, ERROR_CODE), hdr(m, ERROR_MESSAGE)))
        .collect();
    assert_eq!(
        (valid.len(), dlq.len()),
        (want_valid, want_dlq),
        "{seen:#?}"
    );

    for (offset, c) in cases.iter().enumerate() {
        let out = if c.dlq_code.is_some() { &dlq } else { &valid };
        let m = out
            .iter()
            .find(|m| hdr(m, "case").as_deref() == Some(c.name))
            .unwrap_or_else(|| panic!("{}: not on the expected topic", c.name));
        // Original bytes, original headers and provenance.
        assert_eq!(
            m.payload().map(<[u8]>::to_vec),
            c.record.value,
            "{}",
            c.name
        );
        assert_eq!(m.key().map(<[u8]>::to_vec), c.record.key, "{}", c.name);
        assert_eq!(
            hdr(m, SOURCE_TOPIC).as_deref(),
            Some(h.contract.topics.raw.as_str())
        );
        assert_eq!(hdr(m, SOURCE_PARTITION).as_deref(), Some("0"));
        assert_eq!(
            hdr(m, SOURCE_OFFSET),
            Some(offset.to_string()),
            "{}",
            c.name
        );
        assert_eq!(hdr(m, PRODUCT).as_deref(), Some("orders.order-placed"));
        assert_eq!(
            hdr(m, SOURCE_TIMESTAMP),
            m.timestamp().to_millis().map(|t| t.to_string()),
            "{}: the raw record's timestamp is kept",
            c.name
        );
        match c.dlq_code {
            None => {
                assert_eq!(hdr(m, CONTRACT_VERSION).as_deref(), Some("1.0.0"));
                assert_eq!(hdr(m, SCHEMA_ID), Some(h.schema_id.to_string()));
                assert_eq!(hdr(m, ERROR_CODE), None);
            }
            Some(code) => {
                assert_eq!(hdr(m, ERROR_CODE).as_deref(), Some(code), "{}", c.name);
                let msg = hdr(m, ERROR_MESSAGE).unwrap_or_default();
                assert!(!msg.is_empty(), "{}: message", c.name);
                let errors: Vec<serde_json::Value> =
                    serde_json::from_str(&hdr(m, ERRORS).expect("errors header")).unwrap();
                assert_eq!(errors.len(), c.errors, "{}: {errors:?}", c.name);
                if let Some(path) = c.path {
                    assert_eq!(hdr(m, ERROR_PATH).as_deref(), Some(path), "{}", c.name);
                }
                match c.rule {
                    Some(rule) => {
                        assert_eq!(hdr(m, ERROR_RULE).as_deref(), Some(rule), "{}", c.name);
                        assert_eq!(hdr(m, RULE_NAME).as_deref(), Some(rule));
                        assert_eq!(hdr(m, RULE_SUBJECT).as_deref(), Some(SUBJECT));
                        assert!(hdr(m, RULE_EXCEPTION).is_some());
                    }
                    None if code != "RULE_FAILED" => {
                        assert_eq!(hdr(m, RULE_NAME), None, "{}", c.name)
                    }
                    None => {}
                }
            }
        }
    }
    // The rule failures of "two rules" are both listed.
    let two = dlq
        .iter()
        .find(|m| hdr(m, "case").as_deref() == Some("two rules"))
        .unwrap();
    let errors = hdr(two, ERRORS).unwrap();
    assert!(
        errors.contains("status-known") && errors.contains("order-has-items"),
        "{errors}"
    );

    // Progress heartbeat for partition 0 reports a processed offset.
    let progress = h.cluster.read_all(&h.progress_topic, true).await;
    assert!(!progress.is_empty(), "a progress heartbeat was written");
    let beat: serde_json::Value = serde_json::from_slice(progress[0].payload().unwrap()).unwrap();
    assert_eq!(beat["topic"], h.contract.topics.raw.as_str());
    assert_eq!(beat["partition"], 0);

    // The quality window and the OpenLineage RunEvent for the product (window 500 ms here).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (quality, lineage) = loop {
        let q = h.cluster.read_all(&h.quality_topic, true).await;
        let l = h.cluster.read_all(&h.lineage_topic, true).await;
        if (!q.is_empty() && !l.is_empty()) || std::time::Instant::now() > deadline {
            break (q, l);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut totals = (0, 0, 0);
    let mut status_known = 0;
    for m in &quality {
        // Avro in Confluent wire format, decodable with the published schema.
        let (id, payload) = mesh_gateway::validate::wire_format(m.payload().unwrap()).unwrap();
        let registered: serde_json::Value =
            reqwest::get(format!("{}/schemas/ids/{id}", h.registry_url))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let schema =
            mesh_schema::avro::AvroSchema::parse(registered["schema"].as_str().unwrap()).unwrap();
        let q = schema.decode(payload).unwrap();
        assert_eq!(q["product"], "orders.order-placed");
        totals.0 += q["valid"].as_u64().unwrap();
        totals.1 += q["rejected"].as_u64().unwrap();
        totals.2 += q["warned"].as_u64().unwrap();
        status_known += q["ruleFailures"]["status-known"].as_u64().unwrap_or(0);
        assert!(q["latencyP99Ms"].is_i64(), "{q}");
    }
    assert_eq!(
        totals,
        (want_valid as u64, want_dlq as u64, 1),
        "valid, rejected, warned"
    );
    assert_eq!(status_known, 2, "field rule failures counted per rule");
    let first: serde_json::Value = serde_json::from_slice(lineage[0].payload().unwrap()).unwrap();
    assert_eq!(
        rdkafka::Message::key(&lineage[0]),
        Some(&b"run:mesh/gateway.orders.order-placed"[..])
    );
    assert_eq!(first["eventType"], "START");
    assert_eq!(
        first["job"]["facets"]["jobType"]["processingType"],
        "STREAMING"
    );
    assert_eq!(first["inputs"][0]["name"], h.contract.topics.raw.as_str());
    assert!(first["inputs"][0]["inputFacets"]["dataQualityMetrics"]["rowCount"].is_u64());
    let outputs: Vec<&str> = first["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(
        outputs.contains(&h.contract.topics.validated.as_str()),
        "{outputs:?}"
    );
    assert!(
        outputs.contains(&h.contract.topics.dlq.as_str()),
        "{outputs:?}"
    );
    shutdown.cancel();
}
