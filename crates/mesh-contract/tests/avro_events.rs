//! Rules read Avro payloads in place (a borrowed `Datum`) and JSON payloads as JSON values: the
//! same rules give the same verdicts on both forms of one event.

mod common;

use common::field;

use mesh_contract::CompiledRules;
use mesh_contract::diag::Severity;
use mesh_contract::model::{Action, Check, Format, RuleKind, RuleSpec};
use serde_json::json;

/// Zig-zag varint, as Avro writes `int` and `long`.
fn zz(v: i64) -> Vec<u8> {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::new();
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

fn avro_str(b: &mut Vec<u8>, s: &str) {
    b.extend(zz(s.len() as i64));
    b.extend(s.as_bytes());
}

/// The gateway hands Avro records to the rules as a borrowed datum, JSON payloads as a JSON
/// value: every rule kind gives the same verdicts on a datum as on its JSON view, including CEL
/// rules that read only some members (converted alone) and ones that need the whole message.
#[test]
fn avro_datums_and_their_json_view_get_the_same_verdicts() {
    let schema = mesh_schema::avro::AvroSchema::parse(
        r#"{"type":"record","name":"R","fields":[
          {"name":"id","type":"string"},{"name":"amount","type":"double"},
          {"name":"qty","type":"int"},
          {"name":"status","type":{"type":"enum","name":"S","symbols":["NEW","PAID"]}},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"email","type":["null","string"]},
          {"name":"meta","type":{"type":"map","values":"long"}}]}"#,
    )
    .unwrap();
    let cel = |name: &str, kind: RuleKind, field: Option<&str>, expr: &str| RuleSpec {
        name: name.into(),
        kind,
        field: field.map(Into::into),
        check: Check::Cel { expr: expr.into() },
        severity: Severity::Error,
        action: Action::Reject,
        description: None,
    };
    let rules = CompiledRules::compile(&[
        field("id-required", "id", Check::Required),
        field("email-required", "email", Check::Required),
        field(
            "amount-positive",
            "amount",
            Check::Minimum {
                value: 0.0,
                exclusive: true,
            },
        ),
        field(
            "qty-max",
            "qty",
            Check::Maximum {
                value: 10.0,
                exclusive: false,
            },
        ),
        field("tags-min", "tags", Check::MinLength { value: 1 }),
        field("id-max", "id", Check::MaxLength { value: 8 }),
        field(
            "id-pattern",
            "id",
            Check::Pattern {
                regex: "^o-".into(),
            },
        ),
        field(
            "status-paid",
            "status",
            Check::Enum {
                values: vec![json!("PAID")],
            },
        ),
        field(
            "qty-one-or-two",
            "qty",
            Check::Enum {
                values: vec![json!(1), json!(2.0)],
            },
        ),
        field(
            "email-format",
            "email",
            Check::Format {
                format: Format::Email,
            },
        ),
        field(
            "meta-k",
            "meta.k",
            Check::Minimum {
                value: 0.0,
                exclusive: false,
            },
        ),
        cel(
            "amount-small",
            RuleKind::Field,
            Some("amount"),
            "value < 100.0",
        ),
        cel(
            "has-tags",
            RuleKind::Record,
            None,
            "size(message.tags) > 0 && message.meta.k >= 0",
        ),
        cel("seven-fields", RuleKind::Record, None, "size(message) == 7"),
    ])
    .unwrap();
    let record =
        |id: &str, amount: f64, qty: i64, status: i64, tags: &[&str], email: Option<&str>| {
            let mut b = Vec::new();
            avro_str(&mut b, id);
            b.extend(amount.to_le_bytes());
            b.extend(zz(qty));
            b.extend(zz(status));
            if !tags.is_empty() {
                b.extend(zz(tags.len() as i64));
                tags.iter().for_each(|t| avro_str(&mut b, t));
            }
            b.push(0);
            match email {
                Some(e) => {
                    b.extend(zz(1));
                    avro_str(&mut b, e);
                }
                None => b.extend(zz(0)),
            }
            b.extend(zz(1));
            avro_str(&mut b, "k");
            b.extend(zz(if tags.is_empty() { -1 } else { 5 }));
            b.push(0);
            b
        };
    let names = |bytes: &[u8]| {
        let datum = schema.decode_datum(bytes).unwrap();
        let from_datum = rules.evaluate(&datum);
        assert_eq!(
            from_datum,
            rules.evaluate(&datum.to_json()),
            "same verdicts"
        );
        from_datum.into_iter().map(|v| v.rule).collect::<Vec<_>>()
    };
    assert_eq!(
        names(&record("o-1", 12.5, 2, 1, &["a"], Some("a@b.io"))),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&record("x-123456789", f64::NAN, 11, 0, &[], None)),
        [
            "email-required",
            "amount-positive",
            "qty-max",
            "tags-min",
            "id-max",
            "id-pattern",
            "status-paid",
            "qty-one-or-two",
            "meta-k",
            "amount-small",
            "has-tags"
        ]
    );
}
