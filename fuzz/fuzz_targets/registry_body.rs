//! The registry's request handling never panics and always answers with Confluent's envelope:
//! a sequence of requests (register, lookup, compatibility, config, mode, and reads of what was
//! registered) with fuzzed bodies, content types, subjects and query flags, sent in-process to
//! the router `mesh_registry::start` serves (`mesh_registry::app`) over a fresh in-memory store.
//!
//! Every response must be valid JSON; every 4xx/5xx must be `{"error_code": int, "message":
//! string}`, and the only 5xx codes allowed are the backend-store ones (50001-50005).
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, header};
use libfuzzer_sys::fuzz_target;
use mesh_registry::service::Registry;
use mesh_registry::store::{MemoryStore, SchemaStore};
use mesh_registry::{RegistryConfig, app};
use serde_json::{Value, json};
use tower::ServiceExt;

thread_local! {
    static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
}

const MAX_REQUESTS: usize = 8;
const MAX_DEPTH: u32 = 6;

#[derive(Arbitrary, Debug)]
struct Input {
    emit_avro_schema_type: bool,
    /// A tiny request limit, to reach the 413/42209 paths.
    small_limit: bool,
    requests: Vec<Req>,
}

#[derive(Arbitrary, Debug)]
struct Req {
    endpoint: Endpoint,
    subject: Subject,
    content_type: ContentType,
    /// normalize, verbose, force, deleted, permanent, defaultToGlobal; `True` vs `true`.
    flags: u8,
    capitalized: bool,
    body: BodyGen,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Endpoint {
    Register,
    Lookup,
    CompatLatest,
    CompatAll,
    CompatVersion(i32),
    PutConfig,
    PutSubjectConfig,
    PutMode,
    PutSubjectMode,
    /// Reads of what the earlier requests wrote (rendering stored schemas).
    GetLatest,
    GetId(u8),
    GetConfig,
}

#[derive(Arbitrary, Debug)]
enum Subject {
    A,
    B,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum ContentType {
    None,
    V1,
    SrJson,
    Json,
    Octet,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum BodyGen {
    Raw(Vec<u8>),
    Json(Js),
    Schema(SchemaReq),
    Config(ConfigReq),
    Mode(Word),
}

#[derive(Arbitrary, Debug)]
struct SchemaReq {
    schema: Option<SchemaText>,
    schema_type: Option<Word>,
    references: Vec<(Name, Subject, i32)>,
    metadata: Option<Meta>,
    rule_set: Option<Vec<Rule>>,
    version: Option<i32>,
    id: Option<i32>,
    extra: Option<(String, Js)>,
}

#[derive(Arbitrary, Debug)]
enum SchemaText {
    Text(String),
    Avro(Av),
    Json(JsSchema),
}

#[derive(Arbitrary, Debug)]
struct Meta {
    properties: Vec<(Name, String)>,
    tags: Vec<(Name, Vec<Name>)>,
    sensitive: Vec<Name>,
}

#[derive(Arbitrary, Debug)]
struct Rule {
    name: Name,
    kind: Word,
    mode: Word,
    rule_type: Option<Word>,
    expr: Option<String>,
    params: Vec<(Name, String)>,
}

#[derive(Arbitrary, Debug)]
struct ConfigReq {
    compatibility: Option<Word>,
    normalize: Option<bool>,
    compatibility_group: Option<Name>,
    default_metadata: Option<Meta>,
    override_metadata: Option<Meta>,
    default_rule_set: Option<Vec<Rule>>,
    alias: Option<Name>,
}

/// A keyword the registry knows, or anything.
#[derive(Arbitrary, Debug)]
enum Word {
    Known(u8),
    Any(String),
}

const WORDS: &[&str] = &[
    "AVRO",
    "JSON",
    "PROTOBUF",
    "avro",
    "BACKWARD",
    "FORWARD",
    "FULL",
    "NONE",
    "BACKWARD_TRANSITIVE",
    "FORWARD_TRANSITIVE",
    "FULL_TRANSITIVE",
    "full_transitive",
    "READWRITE",
    "READONLY",
    "IMPORT",
    "READONLY_OVERRIDE",
    "TRANSFORM",
    "CONDITION",
    "UPGRADE",
    "DOWNGRADE",
    "UPDOWN",
    "READ",
    "WRITE",
    "WRITEREAD",
    "CEL",
    "CEL_FIELD",
    "",
];

impl Word {
    fn text(&self) -> String {
        match self {
            Word::Known(i) => WORDS[usize::from(*i) % WORDS.len()].to_owned(),
            Word::Any(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Any(String),
}

const NAMES: &[&str] = &[
    "a", "b", "c", "r", "e", "f", "ns.r", "ns.e", "x.y.z", "", "1a", "a-b", "int", "record",
];

impl Name {
    fn text(&self) -> String {
        match self {
            Name::Known(i) => NAMES[usize::from(*i) % NAMES.len()].to_owned(),
            Name::Any(s) => s.clone(),
        }
    }
}

/// An Avro schema built from a grammar, so that most inputs parse and reach compatibility.
#[derive(Arbitrary, Debug)]
enum Av {
    Primitive(u8),
    Record {
        name: Name,
        namespace: Option<Name>,
        fields: Vec<AvField>,
        aliases: Option<Vec<Name>>,
    },
    Enum {
        name: Name,
        symbols: Vec<Name>,
        default: Option<Name>,
    },
    Fixed {
        name: Name,
        size: i64,
    },
    Array(Box<Av>),
    Map(Box<Av>),
    Union(Vec<Av>),
    Named(Name),
    Logical {
        logical: Word,
        base: Box<Av>,
        precision: Option<i64>,
        scale: Option<i64>,
    },
}

/// A record field: name, type, default, aliases.
type AvField = (Name, Av, Option<Js>, Option<Vec<Name>>);

const PRIMITIVES: &[&str] = &[
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

impl Av {
    fn to_json(&self, depth: u32) -> Value {
        if depth > MAX_DEPTH {
            return json!("int");
        }
        let d = depth + 1;
        match self {
            Av::Primitive(i) => json!(PRIMITIVES[usize::from(*i) % PRIMITIVES.len()]),
            Av::Record {
                name,
                namespace,
                fields,
                aliases,
            } => {
                let fields: Vec<Value> = fields
                    .iter()
                    .map(|(n, t, default, aliases)| {
                        let mut f = json!({"name": n.text(), "type": t.to_json(d)});
                        if let Some(v) = default {
                            f["default"] = v.to_json(d);
                        }
                        if let Some(a) = aliases {
                            f["aliases"] = names(a);
                        }
                        f
                    })
                    .collect();
                let mut r = json!({"type": "record", "name": name.text(), "fields": fields});
                if let Some(ns) = namespace {
                    r["namespace"] = json!(ns.text());
                }
                if let Some(a) = aliases {
                    r["aliases"] = names(a);
                }
                r
            }
            Av::Enum {
                name,
                symbols,
                default,
            } => {
                let mut e = json!({"type": "enum", "name": name.text(), "symbols": names(symbols)});
                if let Some(v) = default {
                    e["default"] = json!(v.text());
                }
                e
            }
            Av::Fixed { name, size } => json!({"type": "fixed", "name": name.text(), "size": size}),
            Av::Array(items) => json!({"type": "array", "items": items.to_json(d)}),
            Av::Map(values) => json!({"type": "map", "values": values.to_json(d)}),
            Av::Union(branches) => Value::Array(branches.iter().map(|b| b.to_json(d)).collect()),
            Av::Named(n) => json!(n.text()),
            Av::Logical {
                logical,
                base,
                precision,
                scale,
            } => {
                let mut t = match base.to_json(d) {
                    Value::Object(o) => Value::Object(o),
                    other => json!({ "type": other }),
                };
                t["logicalType"] = json!(logical.text());
                if let Some(p) = precision {
                    t["precision"] = json!(p);
                }
                if let Some(s) = scale {
                    t["scale"] = json!(s);
                }
                t
            }
        }
    }
}

fn names(ns: &[Name]) -> Value {
    Value::Array(ns.iter().map(|n| json!(n.text())).collect())
}

/// A JSON Schema built from a grammar.
#[derive(Arbitrary, Debug)]
enum JsSchema {
    Bool(bool),
    Object {
        draft: Option<u8>,
        ty: Option<Vec<u8>>,
        properties: Vec<(Name, JsSchema)>,
        required: Option<Vec<Name>>,
        additional: Option<Box<JsSchema>>,
        items: Option<Box<JsSchema>>,
        combined: Option<(u8, Vec<JsSchema>)>,
        enumeration: Option<Vec<Js>>,
        reference: Option<u8>,
        definitions: Vec<(Name, JsSchema)>,
        numbers: Vec<(u8, Js)>,
    },
}

const DRAFTS: &[&str] = &[
    "http://json-schema.org/draft-04/schema#",
    "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
    "urn:unknown",
];
const TYPES: &[&str] = &[
    "object", "array", "string", "number", "integer", "boolean", "null", "other",
];
const REFS: &[&str] = &[
    "#",
    "#/definitions/a",
    "#/$defs/a",
    "#/properties/a",
    "a.json",
    "b.json#/definitions/a",
    "#/definitions/missing",
    "http://example.com/x.json",
];
const COMBINERS: &[&str] = &["oneOf", "anyOf", "allOf", "not"];
const NUMERIC: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "pattern",
    "format",
    "const",
    "default",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "prefixItems",
    "additionalItems",
    "patternProperties",
    "propertyNames",
    "if",
    "then",
    "else",
    "contains",
];

impl JsSchema {
    fn to_json(&self, depth: u32) -> Value {
        if depth > MAX_DEPTH {
            return json!(true);
        }
        let d = depth + 1;
        match self {
            JsSchema::Bool(b) => json!(b),
            JsSchema::Object {
                draft,
                ty,
                properties,
                required,
                additional,
                items,
                combined,
                enumeration,
                reference,
                definitions,
                numbers,
            } => {
                let mut o = serde_json::Map::new();
                if let Some(i) = draft {
                    o.insert(
                        "$schema".into(),
                        json!(DRAFTS[usize::from(*i) % DRAFTS.len()]),
                    );
                }
                if let Some(t) = ty {
                    let ts: Vec<&str> = t
                        .iter()
                        .map(|i| TYPES[usize::from(*i) % TYPES.len()])
                        .collect();
                    o.insert(
                        "type".into(),
                        if ts.len() == 1 {
                            json!(ts[0])
                        } else {
                            json!(ts)
                        },
                    );
                }
                if !properties.is_empty() {
                    let p: serde_json::Map<String, Value> = properties
                        .iter()
                        .map(|(n, s)| (n.text(), s.to_json(d)))
                        .collect();
                    o.insert("properties".into(), Value::Object(p));
                }
                if let Some(r) = required {
                    o.insert("required".into(), names(r));
                }
                if let Some(a) = additional {
                    o.insert("additionalProperties".into(), a.to_json(d));
                }
                if let Some(i) = items {
                    o.insert("items".into(), i.to_json(d));
                }
                if let Some((k, subs)) = combined {
                    let k = COMBINERS[usize::from(*k) % COMBINERS.len()];
                    let v = if k == "not" {
                        subs.first().map_or(json!({}), |s| s.to_json(d))
                    } else {
                        Value::Array(subs.iter().map(|s| s.to_json(d)).collect())
                    };
                    o.insert(k.into(), v);
                }
                if let Some(e) = enumeration {
                    o.insert(
                        "enum".into(),
                        Value::Array(e.iter().map(|v| v.to_json(d)).collect()),
                    );
                }
                if let Some(r) = reference {
                    o.insert("$ref".into(), json!(REFS[usize::from(*r) % REFS.len()]));
                }
                if !definitions.is_empty() {
                    let defs: serde_json::Map<String, Value> = definitions
                        .iter()
                        .map(|(n, s)| (n.text(), s.to_json(d)))
                        .collect();
                    o.insert("definitions".into(), Value::Object(defs.clone()));
                    o.insert("$defs".into(), Value::Object(defs));
                }
                for (k, v) in numbers {
                    o.insert(
                        NUMERIC[usize::from(*k) % NUMERIC.len()].into(),
                        v.to_json(d),
                    );
                }
                Value::Object(o)
            }
        }
    }
}

/// Any JSON value.
#[derive(Arbitrary, Debug)]
enum Js {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Js>),
    Object(Vec<(String, Js)>),
}

impl Js {
    fn to_json(&self, depth: u32) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let d = depth + 1;
        match self {
            Js::Null => Value::Null,
            Js::Bool(b) => json!(b),
            Js::Int(i) => json!(i),
            Js::Float(f) => json!(f),
            Js::Str(s) => json!(s),
            Js::Array(a) => Value::Array(a.iter().map(|v| v.to_json(d)).collect()),
            Js::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json(d))).collect())
            }
        }
    }
}

impl Meta {
    fn to_json(&self) -> Value {
        let props: serde_json::Map<String, Value> = self
            .properties
            .iter()
            .map(|(k, v)| (k.text(), json!(v)))
            .collect();
        let tags: serde_json::Map<String, Value> = self
            .tags
            .iter()
            .map(|(k, v)| (k.text(), names(v)))
            .collect();
        json!({"properties": props, "tags": tags, "sensitive": names(&self.sensitive)})
    }
}

fn rule_set(rules: &[Rule]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            let params: serde_json::Map<String, Value> =
                r.params.iter().map(|(k, v)| (k.text(), json!(v))).collect();
            let mut v = json!({"name": r.name.text(), "kind": r.kind.text(), "mode": r.mode.text(), "params": params});
            if let Some(t) = &r.rule_type {
                v["type"] = json!(t.text());
            }
            if let Some(e) = &r.expr {
                v["expr"] = json!(e);
            }
            v
        })
        .collect();
    json!({"domainRules": rules})
}

impl Subject {
    fn text(&self) -> String {
        match self {
            Subject::A => "a".into(),
            Subject::B => "b".into(),
            Subject::Other(s) => s.clone(),
        }
    }
}

/// Percent-encodes everything but unreserved characters, so any subject makes a valid URI.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Req {
    fn body(&self) -> Vec<u8> {
        let v = match &self.body {
            BodyGen::Raw(bytes) => return bytes.clone(),
            BodyGen::Json(j) => j.to_json(0),
            BodyGen::Schema(s) => {
                let mut v = json!({});
                match &s.schema {
                    Some(SchemaText::Text(t)) => v["schema"] = json!(t),
                    Some(SchemaText::Avro(a)) => v["schema"] = json!(a.to_json(0).to_string()),
                    Some(SchemaText::Json(j)) => {
                        v["schema"] = json!(j.to_json(0).to_string());
                        v["schemaType"] = json!("JSON");
                    }
                    None => {}
                }
                if let Some(t) = &s.schema_type {
                    v["schemaType"] = json!(t.text());
                }
                if !s.references.is_empty() {
                    v["references"] = Value::Array(
                        s.references
                            .iter()
                            .map(|(n, subj, ver)| {
                                json!({"name": n.text(), "subject": subj.text(), "version": ver})
                            })
                            .collect(),
                    );
                }
                if let Some(m) = &s.metadata {
                    v["metadata"] = m.to_json();
                }
                if let Some(r) = &s.rule_set {
                    v["ruleSet"] = rule_set(r);
                }
                if let Some(n) = s.version {
                    v["version"] = json!(n);
                }
                if let Some(n) = s.id {
                    v["id"] = json!(n);
                }
                if let Some((k, x)) = &s.extra {
                    v[k.as_str()] = x.to_json(0);
                }
                v
            }
            BodyGen::Config(c) => {
                let mut v = json!({});
                if let Some(w) = &c.compatibility {
                    v["compatibility"] = json!(w.text());
                }
                if let Some(n) = c.normalize {
                    v["normalize"] = json!(n);
                }
                if let Some(g) = &c.compatibility_group {
                    v["compatibilityGroup"] = json!(g.text());
                }
                if let Some(m) = &c.default_metadata {
                    v["defaultMetadata"] = m.to_json();
                }
                if let Some(m) = &c.override_metadata {
                    v["overrideMetadata"] = m.to_json();
                }
                if let Some(r) = &c.default_rule_set {
                    v["defaultRuleSet"] = rule_set(r);
                }
                if let Some(a) = &c.alias {
                    v["alias"] = json!(a.text());
                }
                v
            }
            BodyGen::Mode(w) => json!({"mode": w.text()}),
        };
        serde_json::to_vec(&v).expect("a Value serializes")
    }

    fn request(&self) -> Option<Request<Body>> {
        let s = encode(&self.subject.text());
        let (method, path) = match self.endpoint {
            Endpoint::Register => (Method::POST, format!("/subjects/{s}/versions")),
            Endpoint::Lookup => (Method::POST, format!("/subjects/{s}")),
            Endpoint::CompatLatest => (
                Method::POST,
                format!("/compatibility/subjects/{s}/versions/latest"),
            ),
            Endpoint::CompatAll => (
                Method::POST,
                format!("/compatibility/subjects/{s}/versions"),
            ),
            Endpoint::CompatVersion(v) => (
                Method::POST,
                format!("/compatibility/subjects/{s}/versions/{v}"),
            ),
            Endpoint::PutConfig => (Method::PUT, "/config".into()),
            Endpoint::PutSubjectConfig => (Method::PUT, format!("/config/{s}")),
            Endpoint::PutMode => (Method::PUT, "/mode".into()),
            Endpoint::PutSubjectMode => (Method::PUT, format!("/mode/{s}")),
            Endpoint::GetLatest => (Method::GET, format!("/subjects/{s}/versions/latest")),
            Endpoint::GetId(id) => (Method::GET, format!("/schemas/ids/{id}")),
            Endpoint::GetConfig => (Method::GET, format!("/config/{s}?defaultToGlobal=true")),
        };
        let t = if self.capitalized { "True" } else { "true" };
        let query: Vec<String> = [
            "normalize",
            "verbose",
            "force",
            "deleted",
            "permanent",
            "defaultToGlobal",
        ]
        .iter()
        .enumerate()
        .filter(|(i, _)| self.flags & (1 << i) != 0)
        .map(|(_, k)| format!("{k}={t}"))
        .collect();
        let sep = if path.contains('?') { '&' } else { '?' };
        let uri = if query.is_empty() {
            path
        } else {
            format!("{path}{sep}{}", query.join("&"))
        };
        let mut builder = Request::builder().method(method).uri(uri);
        let ct = match &self.content_type {
            ContentType::None => None,
            ContentType::V1 => Some("application/vnd.schemaregistry.v1+json".to_owned()),
            ContentType::SrJson => Some("application/vnd.schemaregistry+json".to_owned()),
            ContentType::Json => Some("application/json".to_owned()),
            ContentType::Octet => Some("application/octet-stream".to_owned()),
            ContentType::Other(s) => Some(s.clone()),
        };
        if let Some(ct) = ct {
            let value = HeaderValue::from_str(&ct).ok()?;
            builder = builder.header(header::CONTENT_TYPE, value);
        }
        builder.body(Body::from(self.body())).ok()
    }
}

#[path = "stack.rs"]
mod stack;

fuzz_target!(|input: Input| {
    // Handlers run on tokio worker threads in the service: run them with that stack size.
    stack::on_small_stack(move || RT.with(|rt| rt.block_on(run(input))));
});

async fn run(input: Input) {
    let store: Arc<dyn SchemaStore> = Arc::new(MemoryStore::default());
    let registry = Registry::open(store, input.emit_avro_schema_type).expect("empty store opens");
    let mut config = RegistryConfig::default();
    if input.small_limit {
        config.max_request_bytes = 64;
    }
    let router = app(&config, registry);
    for req in input.requests.iter().take(MAX_REQUESTS) {
        let Some(request) = req.request() else {
            continue;
        };
        let what = format!("{} {}", request.method(), request.uri());
        let response = router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("an in-memory body reads");
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{what}: {status} body is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        if status.is_client_error() || status.is_server_error() {
            let code = body.get("error_code").and_then(Value::as_i64);
            let message = body.get("message").and_then(Value::as_str);
            assert!(
                code.is_some() && message.is_some(),
                "{what}: {status} without the error envelope: {body}"
            );
            if status.is_server_error() {
                let code = code.unwrap_or_default();
                assert!(
                    (50001..=50005).contains(&code),
                    "{what}: {status} with error_code {code}: {body}"
                );
            }
        }
    }
}
