//! The per-record check: one function for stream mode (and, next, HTTP produce).
//!
//! [`validate`] takes a record's key, value and headers and the product's enforced contracts and
//! answers [`Outcome::Valid`] (with the contract major it belongs to and any `warn` rule
//! failures) or [`Outcome::Rejected`] with *every* violation found (code, rule, path, message).
//! It performs no I/O except through [`SchemaLookup`] (cached after the first record of a
//! schema id); a registry that cannot be reached is the only error, and it means "retry", never
//! "reject".

use std::sync::Arc;

use mesh_contract::model::{Action, TombstonePolicy};
use mesh_contract::rules::EventRef;
use mesh_schema::avro::{Datum, DecodeError};
use serde_json::Value;

use crate::contracts::{ActiveContract, ProductContracts};
use crate::registry::{ParsedSchema, SchemaEntry, SchemaLookup, Unavailable};

/// Confluent 8.x header-mode schema ids (the payload then carries no magic byte).
pub const VALUE_SCHEMA_ID_HEADER: &str = "__value_schema_id";
pub const KEY_SCHEMA_ID_HEADER: &str = "__key_schema_id";

/// One reason a record is rejected (or warned about).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Stable upper-case code (`NO_MAGIC_BYTE`, `DECODE_TRUNCATED`, `RULE_FAILED`, ...).
    pub code: String,
    /// The contract rule, for rule failures.
    pub rule: Option<String>,
    /// Where: `$` paths for decode errors, the field path for field rules, `` for the record.
    pub path: String,
    pub message: String,
}

impl Violation {
    fn new(code: &str, path: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            rule: None,
            path: path.to_owned(),
            message: message.into(),
        }
    }

    fn decode(prefix: &str, e: &DecodeError) -> Self {
        Self::new(
            &format!("{prefix}DECODE_{}", e.kind.code()),
            &e.path,
            e.kind.to_string(),
        )
    }

    fn rule(v: mesh_contract::Violation) -> Self {
        Self {
            code: "RULE_FAILED".into(),
            rule: Some(v.rule),
            path: v.path,
            message: v.message,
        }
    }
}

/// The verdict on one record.
#[derive(Debug)]
pub enum Outcome {
    Valid {
        contract: Arc<ActiveContract>,
        /// `None` for a forwarded tombstone.
        schema_id: Option<u32>,
        /// `warn` rule failures (counted, not rejected).
        warnings: Vec<Violation>,
    },
    Rejected {
        /// The contract the record claimed (by its schema's major), when known.
        contract: Option<Arc<ActiveContract>>,
        schema_id: Option<u32>,
        violations: Vec<Violation>,
    },
}

/// A record to check, borrowed from wherever it came from.
#[derive(Clone, Copy, Debug)]
pub struct RecordView<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    /// Whether the record carries Confluent 8.x schema-id headers.
    pub header_schema_id: bool,
}

/// Splits Confluent's wire format: magic byte 0, 4-byte big-endian schema id, payload.
pub fn wire_format(bytes: &[u8]) -> Option<(u32, &[u8])> {
    match bytes {
        [0, a, b, c, d, rest @ ..] => Some((u32::from_be_bytes([*a, *b, *c, *d]), rest)),
        _ => None,
    }
}

/// Checks one record against the product's contracts. `Err` only when the registry is
/// unavailable (the caller retries later).
pub fn validate(
    product: &ProductContracts,
    schemas: &dyn SchemaLookup,
    record: RecordView<'_>,
) -> Result<Outcome, Unavailable> {
    let mut violations = Vec::new();
    let Some(value) = record.value else {
        let Some(newest) = product.newest() else {
            return Ok(rejected(None, None, vec![no_contract()]));
        };
        check_key(newest, schemas, record.key, &mut violations)?;
        if product.tombstones() == TombstonePolicy::Reject {
            violations.push(Violation::new(
                "TOMBSTONE_REJECTED",
                "",
                "null value (tombstone) not allowed by the contract",
            ));
        }
        return Ok(if violations.is_empty() {
            Outcome::Valid {
                contract: Arc::clone(newest),
                schema_id: None,
                warnings: Vec::new(),
            }
        } else {
            rejected(Some(Arc::clone(newest)), None, violations)
        });
    };

    let Some((schema_id, payload)) = wire_format(value) else {
        let v = if record.header_schema_id {
            Violation::new(
                "HEADER_SCHEMA_ID_UNSUPPORTED",
                "",
                "schema id in headers (Confluent 8.x header mode) is not supported; \
                 use the magic-byte prefix",
            )
        } else {
            Violation::new(
                "NO_MAGIC_BYTE",
                "",
                "value is not in Confluent wire format (magic byte 0 + 4-byte schema id)",
            )
        };
        return Ok(rejected(product.newest().cloned(), None, vec![v]));
    };
    let Some(entry) = schemas.schema(schema_id)? else {
        let v = Violation::new(
            "UNKNOWN_SCHEMA_ID",
            "",
            format!("schema id {schema_id} is not registered"),
        );
        return Ok(rejected(
            product.newest().cloned(),
            Some(schema_id),
            vec![v],
        ));
    };
    let Some(contract) = product.for_major(entry.major).cloned() else {
        let v = Violation::new(
            "NO_CONTRACT_FOR_MAJOR",
            "",
            format!(
                "schema id {schema_id} has major {:?}; no enforced contract for it",
                entry.major
            ),
        );
        return Ok(rejected(
            product.newest().cloned(),
            Some(schema_id),
            vec![v],
        ));
    };
    let subject = &contract.contract.value_schema.subject;
    if !entry.is_live_in(subject) {
        let v = Violation::new(
            "SCHEMA_NOT_IN_SUBJECT",
            "",
            format!("schema id {schema_id} is not a live version of subject {subject}"),
        );
        return Ok(rejected(Some(contract), Some(schema_id), vec![v]));
    }
    check_key(&contract, schemas, record.key, &mut violations)?;
    let event = match decode(&entry, payload, "") {
        Ok(event) => event,
        Err(v) => {
            violations.push(v);
            return Ok(rejected(Some(contract), Some(schema_id), violations));
        }
    };
    let mut warnings = Vec::new();
    let mut failed = Vec::new();
    contract.rules.evaluate_into(event.as_event(), &mut failed);
    for f in failed {
        match f.action {
            Action::Reject => violations.push(Violation::rule(f)),
            Action::Warn => warnings.push(Violation::rule(f)),
        }
    }
    Ok(if violations.is_empty() {
        Outcome::Valid {
            contract,
            schema_id: Some(schema_id),
            warnings,
        }
    } else {
        rejected(Some(contract), Some(schema_id), violations)
    })
}

fn rejected(
    contract: Option<Arc<ActiveContract>>,
    schema_id: Option<u32>,
    violations: Vec<Violation>,
) -> Outcome {
    Outcome::Rejected {
        contract,
        schema_id,
        violations,
    }
}

fn no_contract() -> Violation {
    Violation::new("NO_CONTRACT", "", "no enforced contract for this topic")
}

/// A decoded payload: Avro read in place (no JSON tree is built per record), JSON parsed.
#[derive(Debug)]
enum Decoded<'a> {
    Avro(Datum<'a>),
    Json(Value),
}

impl Decoded<'_> {
    fn as_event(&self) -> EventRef<'_> {
        match self {
            Decoded::Avro(d) => EventRef::Avro(d),
            Decoded::Json(v) => EventRef::Json(v),
        }
    }
}

fn decode<'a>(
    entry: &'a SchemaEntry,
    payload: &'a [u8],
    prefix: &str,
) -> Result<Decoded<'a>, Violation> {
    match &entry.parsed {
        ParsedSchema::Avro(schema) => schema
            .decode_datum(payload)
            .map(Decoded::Avro)
            .map_err(|e| Violation::decode(prefix, &e)),
        ParsedSchema::Json(validator) => {
            let value: Value = serde_json::from_slice(payload).map_err(|e| {
                Violation::new(
                    &format!("{prefix}INVALID_JSON"),
                    "$",
                    format!("payload is not valid JSON: {e}"),
                )
            })?;
            if let Some(v) = validator
                && let Some(e) = v.iter_errors(&value).next()
            {
                return Err(Violation::new(
                    &format!("{prefix}SCHEMA_MISMATCH"),
                    &json_path(&e.instance_path().to_string()),
                    format!("payload does not match the JSON Schema: {e}"),
                ));
            }
            Ok(Decoded::Json(value))
        }
        ParsedSchema::Unsupported(why) => Err(Violation::new(
            &format!("{prefix}UNSUPPORTED_SCHEMA"),
            "",
            why.clone(),
        )),
    }
}

/// A JSON Pointer (`/items/2/price`) as the gateway's `$.items[2].price` paths.
fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            out.push('.');
            out.push_str(&token);
        }
    }
    out
}

/// The contract's key policy: required, and the key schema when one is declared.
fn check_key(
    contract: &ActiveContract,
    schemas: &dyn SchemaLookup,
    key: Option<&[u8]>,
    out: &mut Vec<Violation>,
) -> Result<(), Unavailable> {
    let policy = &contract.contract.key;
    let Some(key) = key else {
        if policy.required || policy.schema.is_some() {
            out.push(Violation::new(
                "KEY_REQUIRED",
                "",
                "the contract requires a key",
            ));
        }
        return Ok(());
    };
    let Some(key_schema) = &policy.schema else {
        return Ok(());
    };
    let Some((id, payload)) = wire_format(key) else {
        out.push(Violation::new(
            "KEY_NO_MAGIC_BYTE",
            "",
            "key is not in Confluent wire format (magic byte 0 + 4-byte schema id)",
        ));
        return Ok(());
    };
    let Some(entry) = schemas.schema(id)? else {
        out.push(Violation::new(
            "KEY_UNKNOWN_SCHEMA_ID",
            "",
            format!("key schema id {id} is not registered"),
        ));
        return Ok(());
    };
    if !entry.is_live_in(&key_schema.subject) {
        out.push(Violation::new(
            "KEY_SCHEMA_NOT_IN_SUBJECT",
            "",
            format!(
                "key schema id {id} is not a live version of subject {}",
                key_schema.subject
            ),
        ));
        return Ok(());
    }
    if let Err(v) = decode(&entry, payload, "KEY_") {
        out.push(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use mesh_contract::rules::Scalar;

    use super::*;

    const SCHEMA: &str = r#"{"type":"object","required":["id","amount"],
        "properties":{"id":{"type":"string","format":"uuid"},"amount":{"type":"number"},
        "items":{"type":"array","items":{"type":"object","properties":{"qty":{"type":"integer"}}}}}}"#;

    fn entry(text: &str) -> SchemaEntry {
        SchemaEntry {
            id: 7,
            parsed: ParsedSchema::json(7, text),
            major: Some(1),
            live_in: Vec::new(),
        }
    }

    #[test]
    fn json_payloads_are_validated_against_the_schema() {
        let e = entry(SCHEMA);
        let ok =
            br#"{"id":"0b5e6a4c-2f7d-4d8e-9a53-0f6c1f0e2a11","amount":1.5,"items":[{"qty":2}]}"#;
        let decoded = decode(&e, ok, "").expect("valid");
        assert_eq!(
            decoded.as_event().get("amount").map(|v| v.scalar()),
            Some(Scalar::Num(1.5))
        );

        let cases: [(&[u8], &str, &str); 4] = [
            (br#"{"id":"0b5e6a4c-2f7d-4d8e-9a53-0f6c1f0e2a11"}"#, "SCHEMA_MISMATCH", "$"),
            (br#"{"id":"x","amount":1}"#, "SCHEMA_MISMATCH", "$.id"),
            (
                br#"{"id":"0b5e6a4c-2f7d-4d8e-9a53-0f6c1f0e2a11","amount":1,"items":[{"qty":1},{"qty":"two"}]}"#,
                "SCHEMA_MISMATCH",
                "$.items[1].qty",
            ),
            (br#"{"id": "#, "INVALID_JSON", "$"),
        ];
        for (payload, code, path) in cases {
            let v = decode(&e, payload, "").expect_err("rejected");
            assert_eq!(
                (v.code.as_str(), v.path.as_str()),
                (code, path),
                "{}",
                v.message
            );
        }
        // The key side carries its prefix, as the Avro decode errors do.
        let v = decode(&e, b"{}", "KEY_").expect_err("rejected");
        assert_eq!(v.code, "KEY_SCHEMA_MISMATCH");
    }

    #[test]
    fn a_schema_that_cannot_compile_alone_still_checks_well_formedness() {
        let e = entry(r#"{"$ref":"other.json#/definitions/x"}"#);
        assert!(matches!(e.parsed, ParsedSchema::Json(None)));
        assert!(decode(&e, br#"{"anything":1}"#, "").is_ok());
        assert_eq!(decode(&e, b"{", "").expect_err("bad").code, "INVALID_JSON");
    }

    #[test]
    fn json_pointers_become_dollar_paths() {
        assert_eq!(json_path(""), "$");
        assert_eq!(json_path("/a/0/b~1c"), "$.a[0].b/c");
    }
}
