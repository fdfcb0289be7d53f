//! The OpenLineage 2-0-2 event model (RunEvent, DatasetEvent, JobEvent) and its validation.
//!
//! Pure: bytes or JSON in, a typed event or every violation (JSON path + reason) out. The checks
//! are the spec's JSON Schema written as code (required members, types, `uuid`, `date-time` and
//! `uri` formats, which of the three event kinds a document is); the tests hold them against the
//! schema itself. Facets are kept verbatim: unknown facets and unknown facet members pass through.

use serde_json::{Map, Value};

use crate::time::parse_rfc3339_millis;

/// Facets exactly as they came (`name → facet object`).
pub type Facets = Map<String, Value>;

/// One spec violation: where (`$.run.runId`) and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub path: String,
    pub reason: String,
}

/// `eventType` of a RunEvent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventType {
    Start,
    Running,
    Complete,
    Abort,
    Fail,
    Other,
}

impl EventType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "START" => Self::Start,
            "RUNNING" => Self::Running,
            "COMPLETE" => Self::Complete,
            "ABORT" => Self::Abort,
            "FAIL" => Self::Fail,
            "OTHER" => Self::Other,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "START",
            Self::Running => "RUNNING",
            Self::Complete => "COMPLETE",
            Self::Abort => "ABORT",
            Self::Fail => "FAIL",
            Self::Other => "OTHER",
        }
    }

    /// COMPLETE, ABORT and FAIL end a run.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Complete | Self::Abort | Self::Fail)
    }
}

/// A dataset as it appears in `inputs`, `outputs` or a DatasetEvent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    pub namespace: String,
    pub name: String,
    pub facets: Facets,
    /// `inputFacets` (inputs) or `outputFacets` (outputs).
    pub io_facets: Facets,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Job {
    pub namespace: String,
    pub name: String,
    pub facets: Facets,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    pub run_id: String,
    pub facets: Facets,
}

/// What every event carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    pub event_time: String,
    /// `eventTime` as milliseconds since the Unix epoch.
    pub event_time_ms: i64,
    pub producer: String,
    pub schema_url: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Run {
        header: Header,
        event_type: Option<EventType>,
        run: Run,
        job: Job,
        inputs: Vec<Dataset>,
        outputs: Vec<Dataset>,
    },
    Job {
        header: Header,
        job: Job,
        inputs: Vec<Dataset>,
        outputs: Vec<Dataset>,
    },
    Dataset {
        header: Header,
        dataset: Dataset,
    },
}

impl Event {
    pub fn header(&self) -> &Header {
        match self {
            Self::Run { header, .. } | Self::Job { header, .. } | Self::Dataset { header, .. } => {
                header
            }
        }
    }

    /// The record key OpenLineage's Kafka transport uses (per-job ordering):
    /// `run:{root or parent or own job}`, `job:{ns}/{name}`, `dataset:{ns}/{name}`.
    pub fn kafka_key(&self) -> String {
        match self {
            Self::Run { run, job, .. } => {
                let parent = run.facets.get("parent");
                let pick = |v: Option<&Value>| {
                    let j = v?.get("job")?;
                    Some(format!(
                        "run:{}/{}",
                        j.get("namespace")?.as_str()?,
                        j.get("name")?.as_str()?
                    ))
                };
                pick(parent.and_then(|p| p.get("root")))
                    .or_else(|| pick(parent))
                    .unwrap_or_else(|| format!("run:{}/{}", job.namespace, job.name))
            }
            Self::Job { job, .. } => format!("job:{}/{}", job.namespace, job.name),
            Self::Dataset { dataset, .. } => {
                format!("dataset:{}/{}", dataset.namespace, dataset.name)
            }
        }
    }
}

/// Parses and validates one event from JSON bytes.
pub fn parse(bytes: &[u8]) -> Result<Event, Vec<Violation>> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        vec![Violation {
            path: "$".into(),
            reason: format!("not valid JSON: {e}"),
        }]
    })?;
    from_value(&value)
}

/// Validates one event given as JSON.
pub fn from_value(value: &Value) -> Result<Event, Vec<Violation>> {
    let mut c = Checker::default();
    let event = c.event(value);
    match event {
        Some(e) if c.violations.is_empty() => Ok(e),
        _ => Err(c.violations),
    }
}

#[derive(Default)]
struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    fn fail(&mut self, path: &str, reason: impl Into<String>) {
        self.violations.push(Violation {
            path: path.to_owned(),
            reason: reason.into(),
        });
    }

    fn object<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            other => {
                self.fail(path, format!("expected an object, got {}", kind(other)));
                None
            }
        }
    }

    /// A required (or optional, if `required` is false) string member.
    fn string(
        &mut self,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<String> {
        // Paths are only formatted on failure: validation runs on every ingested event.
        match m.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.fail(
                    &format!("{path}.{key}"),
                    format!("expected a string, got {}", kind(other)),
                );
                None
            }
            None if required => {
                self.fail(&format!("{path}.{key}"), "required member is missing");
                None
            }
            None => None,
        }
    }

    fn uri(&mut self, m: &Map<String, Value>, key: &str, path: &str) -> String {
        let s = self.string(m, key, path, true).unwrap_or_default();
        self.check_uri(m, key, || path.to_owned());
        s
    }

    /// `m[key]`, if a string, is a URI; `path` is only built for the error.
    fn check_uri(&mut self, m: &Map<String, Value>, key: &str, path: impl Fn() -> String) {
        if let Some(Value::String(s)) = m.get(key)
            && !is_uri(s)
        {
            self.fail(
                &format!("{}.{key}", path()),
                format!("{s:?} is not a URI (scheme:rest)"),
            );
        }
    }

    fn event(&mut self, v: &Value) -> Option<Event> {
        let m = self.object(v, "$")?;
        let header = self.header(m);
        let has = |k: &str| m.contains_key(k);
        // Which `oneOf` branch: RunEvent needs run+job; DatasetEvent needs dataset and not both
        // job and run; JobEvent needs job and no run.
        if has("run") && (has("job") || !has("dataset")) {
            return self.run_event(m, header);
        }
        if has("run") {
            // run + dataset without job: only DatasetEvent matches (`run` is just extra).
            let dataset = self.dataset(&m["dataset"], "$.dataset", None);
            return Some(Event::Dataset {
                header,
                dataset: dataset?,
            });
        }
        match (has("job"), has("dataset")) {
            (true, false) => self.job_event(m, header),
            (false, true) => {
                let dataset = self.dataset(&m["dataset"], "$.dataset", None);
                Some(Event::Dataset {
                    header,
                    dataset: dataset?,
                })
            }
            (true, true) => {
                self.fail(
                    "$",
                    "ambiguous: with `job` and `dataset` but no `run` it is both a JobEvent and a DatasetEvent",
                );
                None
            }
            (false, false) => {
                self.fail(
                    "$",
                    "not an OpenLineage event: a RunEvent needs `run` and `job`, a JobEvent `job`, a DatasetEvent `dataset`",
                );
                None
            }
        }
    }

    fn header(&mut self, m: &Map<String, Value>) -> Header {
        let event_time = self.string(m, "eventTime", "$", true).unwrap_or_default();
        let mut event_time_ms = 0;
        if m.get("eventTime").is_some_and(Value::is_string) {
            match parse_rfc3339_millis(&event_time) {
                Some(ms) => event_time_ms = ms,
                None => self.fail(
                    "$.eventTime",
                    format!("{event_time:?} is not an RFC 3339 date-time"),
                ),
            }
        }
        Header {
            event_time,
            event_time_ms,
            producer: self.uri(m, "producer", "$"),
            schema_url: self.uri(m, "schemaURL", "$"),
        }
    }

    fn run_event(&mut self, m: &Map<String, Value>, header: Header) -> Option<Event> {
        let event_type = match m.get("eventType") {
            None => None,
            Some(Value::String(s)) => {
                let t = EventType::parse(s);
                if t.is_none() {
                    self.fail(
                        "$.eventType",
                        format!("{s:?} is not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"),
                    );
                }
                t
            }
            Some(other) => {
                self.fail(
                    "$.eventType",
                    format!("expected a string, got {}", kind(other)),
                );
                None
            }
        };
        let run = match m.get("run") {
            Some(v) => self.run(v),
            None => None,
        };
        let job = match m.get("job") {
            Some(v) => self.job(v),
            None => {
                self.fail("$.job", "required member is missing");
                None
            }
        };
        let (inputs, outputs) = self.io(m);
        Some(Event::Run {
            header,
            event_type,
            run: run?,
            job: job?,
            inputs,
            outputs,
        })
    }

    fn job_event(&mut self, m: &Map<String, Value>, header: Header) -> Option<Event> {
        let job = self.job(&m["job"]);
        let (inputs, outputs) = self.io(m);
        Some(Event::Job {
            header,
            job: job?,
            inputs,
            outputs,
        })
    }

    fn run(&mut self, v: &Value) -> Option<Run> {
        let m = self.object(v, "$.run")?;
        let run_id = self.string(m, "runId", "$.run", true);
        if let Some(id) = &run_id
            && !is_uuid(id)
        {
            self.fail("$.run.runId", format!("{id:?} is not a UUID"));
        }
        let facets = self.facets(m, "facets", "$.run", false);
        Some(Run {
            run_id: run_id?,
            facets,
        })
    }

    fn job(&mut self, v: &Value) -> Option<Job> {
        let m = self.object(v, "$.job")?;
        let namespace = self.string(m, "namespace", "$.job", true);
        let name = self.string(m, "name", "$.job", true);
        let facets = self.facets(m, "facets", "$.job", true);
        Some(Job {
            namespace: namespace?,
            name: name?,
            facets,
        })
    }

    fn io(&mut self, m: &Map<String, Value>) -> (Vec<Dataset>, Vec<Dataset>) {
        let mut list = |key: &str, io_key: &str| -> Vec<Dataset> {
            let path = format!("$.{key}");
            match m.get(key) {
                None => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| self.dataset(d, &format!("{path}[{i}]"), Some(io_key)))
                    .collect(),
                Some(other) => {
                    self.fail(&path, format!("expected an array, got {}", kind(other)));
                    Vec::new()
                }
            }
        };
        let inputs = list("inputs", "inputFacets");
        let outputs = list("outputs", "outputFacets");
        (inputs, outputs)
    }

    fn dataset(&mut self, v: &Value, path: &str, io_key: Option<&str>) -> Option<Dataset> {
        let m = self.object(v, path)?;
        let namespace = self.string(m, "namespace", path, true);
        let name = self.string(m, "name", path, true);
        let facets = self.facets(m, "facets", path, true);
        let io_facets = match io_key {
            Some(k) => self.facets(m, k, path, false),
            None => Facets::new(),
        };
        Some(Dataset {
            namespace: namespace?,
            name: name?,
            facets,
            io_facets,
        })
    }

    /// A facets map: every facet is an object with `_producer` and `_schemaURL` URIs (BaseFacet);
    /// job and dataset facets may carry a boolean `_deleted`. Everything else is kept as is.
    fn facets(&mut self, m: &Map<String, Value>, key: &str, path: &str, deletable: bool) -> Facets {
        let Some(v) = m.get(key) else {
            return Facets::new();
        };
        let Value::Object(facets) = v else {
            self.object(v, &format!("{path}.{key}"));
            return Facets::new();
        };
        for (name, facet) in facets {
            let fp = || format!("{path}.{key}.{name}");
            let Value::Object(f) = facet else {
                self.object(facet, &fp());
                continue;
            };
            for member in ["_producer", "_schemaURL"] {
                match f.get(member) {
                    Some(Value::String(_)) => self.check_uri(f, member, fp),
                    _ => {
                        self.string(f, member, &fp(), true);
                    }
                }
            }
            if deletable
                && let Some(d) = f.get("_deleted")
                && !d.is_boolean()
            {
                self.fail(
                    &format!("{}._deleted", fp()),
                    format!("expected a boolean, got {}", kind(d)),
                );
            }
        }
        facets.clone()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// RFC 4122 text form `8-4-4-4-12` hex digits; any version (the Python client sends UUIDv7).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// RFC 3986 absolute URI, as far as JSON Schema's `uri` format needs: a scheme, a colon, and no
/// whitespace or control characters.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut sc = scheme.chars();
    sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        && sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')
        })
}
