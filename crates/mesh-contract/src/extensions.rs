//! mesh's settings inside ODCS: `customProperties` entries named `mesh.*` (ODCS's extension
//! point, so the file stays a valid ODCS document), and `slaProperties` resolved into the
//! freshness objective the monitor enforces.

use std::collections::BTreeMap;

use crate::diag::{Pos, Severity, code, did_you_mean};
use crate::model::{ActiveHours, Freshness, PiiHandling, Sla, TombstonePolicy};
use crate::reader::{Reader, parse_duration_ms, unit_ms};
use crate::yaml::{Node, Value};

/// Every top-level `mesh.*` custom property (docs/contracts.md describes each).
pub const MESH_PROPERTIES: &[&str] = &[
    "mesh.sunset",
    "mesh.replacedBy",
    "mesh.labels",
    "mesh.runbook",
    "mesh.partitions",
    "mesh.topic.<config>",
    "mesh.key.schema",
    "mesh.key.required",
    "mesh.tombstones",
    "mesh.compatibility",
    "mesh.onFailure",
    "mesh.pii.handling",
    "mesh.freshness.warn",
    "mesh.freshness.critical",
    "mesh.freshness.for",
    "mesh.freshness.activeHours",
    "mesh.freshness.allowedIdle",
];

const COMPAT_LEVELS: &[&str] = &[
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
];

/// The resolved top-level `mesh.*` settings.
#[derive(Debug)]
pub struct Extensions {
    pub sunset: Option<String>,
    pub replaced_by: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub runbook: Option<String>,
    pub partitions: i32,
    pub topic_configs: BTreeMap<String, String>,
    pub key_schema: Option<(String, Pos)>,
    pub key_required: bool,
    pub tombstones: TombstonePolicy,
    pub compatibility: String,
    pub on_failure: String,
    pub pii_handling: PiiHandling,
    pub freshness: BTreeMap<String, (String, Pos)>,
}

impl Default for Extensions {
    fn default() -> Self {
        Self {
            sunset: None,
            replaced_by: None,
            labels: BTreeMap::new(),
            runbook: None,
            partitions: 3,
            topic_configs: BTreeMap::new(),
            key_schema: None,
            key_required: false,
            tombstones: TombstonePolicy::Reject,
            compatibility: "BACKWARD".into(),
            on_failure: "NONE".into(),
            pii_handling: PiiHandling::Redact,
            freshness: BTreeMap::new(),
        }
    }
}

/// `(property, value node, property pos)` of each entry of a `customProperties` list.
pub fn custom_properties<'n>(r: &mut Reader<'_>, parent: &'n Node) -> Vec<(String, &'n Node, Pos)> {
    let mut out = Vec::new();
    for item in r.seq(parent, "customProperties") {
        if r.map(item, "customProperties entry").is_none() {
            continue;
        }
        r.known_keys(
            item,
            &["id", "property", "value", "description"],
            "a custom property",
        );
        let (name, pos) = r.required_string(item, "property", "a custom property");
        match item.get("value") {
            Some(v) => out.push((name, v, pos)),
            None => r.diags.error_hint(
                item.pos,
                code::MISSING_KEY,
                format!("custom property `{name}` has no `value`"),
                "add `value: ...`",
            ),
        }
    }
    out
}

pub fn read_extensions(r: &mut Reader<'_>, root: &Node) -> Extensions {
    let mut ext = Extensions::default();
    for (name, value, pos) in custom_properties(r, root) {
        if !name.starts_with("mesh.") {
            continue; // other tools' extensions are theirs
        }
        let text = value.scalar_text();
        let want_text = |r: &mut Reader<'_>| {
            if text.is_none() {
                r.type_error(value, &name, "a string");
            }
            text.clone()
        };
        match name.as_str() {
            "mesh.sunset" => ext.sunset = want_text(r).filter(|d| check_date(r, d, value.pos)),
            "mesh.replacedBy" => ext.replaced_by = want_text(r),
            "mesh.runbook" => ext.runbook = want_text(r),
            "mesh.labels" => match &value.value {
                Value::Map(m) => {
                    for (k, v) in m {
                        match v.scalar_text() {
                            Some(t) => {
                                ext.labels.insert(k.name.clone(), t);
                            }
                            None => r.type_error(v, &k.name, "a string"),
                        }
                    }
                }
                _ => r.type_error(value, &name, "a mapping of label → value"),
            },
            "mesh.partitions" => match value.value {
                Value::Int(n) if (1..=10_000).contains(&n) => ext.partitions = n as i32,
                _ => r.type_error(value, &name, "an integer between 1 and 10000"),
            },
            "mesh.key.schema" => ext.key_schema = want_text(r).map(|t| (t, value.pos)),
            "mesh.key.required" => match value.value {
                Value::Bool(b) => ext.key_required = b,
                _ => r.type_error(value, &name, "true or false"),
            },
            "mesh.tombstones" => match want_text(r).as_deref() {
                Some("forward") => ext.tombstones = TombstonePolicy::Forward,
                Some("reject") => ext.tombstones = TombstonePolicy::Reject,
                Some(other) => r.invalid(
                    value.pos,
                    format!("`{other}` is not a tombstone policy"),
                    "use `forward` (pass null values on) or `reject` (send them to the DLQ)",
                ),
                None => {}
            },
            "mesh.compatibility" => {
                if let Some(t) = want_text(r) {
                    let up = t.to_ascii_uppercase();
                    if COMPAT_LEVELS.contains(&up.as_str()) {
                        ext.compatibility = up;
                    } else {
                        r.invalid(
                            value.pos,
                            format!("`{t}` is not a compatibility level"),
                            &format!("use one of {}", COMPAT_LEVELS.join(", ")),
                        );
                    }
                }
            }
            "mesh.onFailure" => {
                if let Some(t) = want_text(r) {
                    let up = t.to_ascii_uppercase();
                    if ["NONE", "ERROR", "DLQ"].contains(&up.as_str()) {
                        ext.on_failure = up;
                    } else {
                        r.invalid(
                            value.pos,
                            format!("`{t}` is not a Confluent rule action"),
                            "use NONE (default: the gateway enforces), ERROR or DLQ",
                        );
                    }
                }
            }
            "mesh.pii.handling" => match want_text(r).as_deref() {
                Some("redact") => ext.pii_handling = PiiHandling::Redact,
                Some("none") => ext.pii_handling = PiiHandling::None,
                Some(other) => r.invalid(
                    value.pos,
                    format!("`{other}` is not a PII handling mode"),
                    "use `redact` or `none`",
                ),
                None => {}
            },
            n if n.starts_with("mesh.topic.") => match text.clone() {
                Some(t) => {
                    ext.topic_configs
                        .insert(n.trim_start_matches("mesh.topic.").to_owned(), t);
                }
                None => r.type_error(value, n, "a scalar topic config value"),
            },
            n if n.starts_with("mesh.freshness.") => {
                if let Some(t) = want_text(r) {
                    ext.freshness.insert(n.to_owned(), (t, value.pos));
                }
            }
            other => {
                let hint = match did_you_mean(other, MESH_PROPERTIES) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("mesh reads: {}", MESH_PROPERTIES.join(", ")),
                };
                r.diags.error_hint(
                    pos,
                    code::UNKNOWN_KEY,
                    format!("unknown mesh custom property `{other}`"),
                    &hint,
                );
            }
        }
    }
    ext
}

fn check_date(r: &mut Reader<'_>, d: &str, pos: Pos) -> bool {
    let b = d.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && d.split('-').all(|p| p.chars().all(|c| c.is_ascii_digit()));
    if !ok {
        r.invalid(pos, format!("`{d}` is not a date"), "use YYYY-MM-DD");
    }
    ok
}

/// `slaProperties` + `mesh.freshness.*` → [`Sla`].
pub fn read_sla(r: &mut Reader<'_>, root: &Node, ext: &Extensions) -> Sla {
    let mut sla = Sla::default();
    let mut objective: Option<(u64, Option<String>)> = None;
    for p in r.seq(root, "slaProperties") {
        if r.map(p, "slaProperties entry").is_none() {
            continue;
        }
        r.known_keys(
            p,
            &[
                "id",
                "property",
                "value",
                "valueExt",
                "unit",
                "element",
                "driver",
                "description",
                "scheduler",
                "schedule",
            ],
            "an SLA property",
        );
        let (prop, _) = r.required_string(p, "property", "an SLA property");
        match prop.as_str() {
            "latency" | "freshness" => {
                let unit = r.string(p, "unit").map(|u| u.0);
                let value = p.get("value");
                let ms = match (value, unit.as_deref()) {
                    (Some(v), Some(u)) => match (v.as_f64(), unit_ms(u)) {
                        (Some(n), Some(per)) => Some((n * per as f64).round() as u64),
                        (None, _) => v.as_str().and_then(parse_duration_ms),
                        (_, None) => {
                            r.invalid(
                                p.key_pos("unit"),
                                format!("`{u}` is not a time unit"),
                                "use ms, s, m (minutes), h or d",
                            );
                            continue;
                        }
                    },
                    (Some(v), None) => v.scalar_text().as_deref().and_then(parse_duration_ms),
                    (None, _) => None,
                };
                match ms {
                    Some(ms) if ms > 0 => {
                        objective = Some((ms, r.string(p, "element").map(|e| e.0)));
                    }
                    _ => r.invalid(
                        p.pos,
                        format!("{prop} needs a positive `value` with a `unit`"),
                        "e.g. `value: 5` and `unit: m`",
                    ),
                }
            }
            "availability" => sla.availability = r.number(p, "value"),
            _ => {} // other ODCS SLA properties are documentation for mesh
        }
    }
    let mut dur = |key: &str| -> Option<u64> {
        let (text, pos) = ext.freshness.get(key)?;
        let ms = parse_duration_ms(text);
        if ms.is_none() {
            r.invalid(
                *pos,
                format!("`{text}` is not a duration"),
                "e.g. `90s`, `5m`, `2h`",
            );
        }
        ms
    };
    let warn = dur("mesh.freshness.warn");
    let critical = dur("mesh.freshness.critical");
    let for_ms = dur("mesh.freshness.for").unwrap_or(0);
    let idle = dur("mesh.freshness.allowedIdle");
    let hours = ext
        .freshness
        .get("mesh.freshness.activeHours")
        .and_then(|(t, pos)| {
            let h = parse_active_hours(t);
            if h.is_none() {
                r.invalid(
                    *pos,
                    format!("`{t}` is not an active-hours window"),
                    "e.g. `Mon-Fri 08:00-20:00` (UTC)",
                );
            }
            h
        });
    for k in ext.freshness.keys() {
        if !MESH_PROPERTIES.contains(&k.as_str()) {
            let pos = ext.freshness[k].1;
            let hint = did_you_mean(k, MESH_PROPERTIES).map(|s| format!("did you mean `{s}`?"));
            r.diags.push(
                pos,
                Severity::Error,
                code::UNKNOWN_KEY,
                format!("unknown mesh custom property `{k}`"),
                hint,
            );
        }
    }
    match objective {
        Some((ms, element)) => {
            let critical_ms = critical.unwrap_or(ms);
            let warn_ms = warn.unwrap_or(critical_ms).min(critical_ms);
            sla.freshness = Some(Freshness {
                objective_ms: ms,
                warn_ms,
                critical_ms,
                for_ms,
                active_hours: hours,
                allowed_idle_ms: idle,
                element,
            });
        }
        None => {
            if let Some((_, pos)) = ext.freshness.values().next() {
                r.invalid(
                    *pos,
                    "mesh.freshness.* settings without a latency SLA",
                    "add a `latency` entry to slaProperties",
                );
            }
        }
    }
    sla
}

/// `Mon-Fri 08:00-20:00`, `Sat,Sun 10:00-14:00`, `daily 00:00-24:00` (UTC).
pub fn parse_active_hours(s: &str) -> Option<ActiveHours> {
    let (days_text, window) = s.trim().split_once(' ')?;
    let day = |d: &str| -> Option<u8> {
        let d = d.to_ascii_lowercase();
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .position(|x| d.starts_with(x))
            .map(|i| i as u8 + 1)
    };
    let mut days = Vec::new();
    if days_text.eq_ignore_ascii_case("daily") {
        days.extend(1..=7);
    } else {
        for part in days_text.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day(a)?, day(b)?);
                    let mut d = a;
                    loop {
                        days.push(d);
                        if d == b {
                            break;
                        }
                        d = d % 7 + 1;
                    }
                }
                None => days.push(day(part)?),
            }
        }
    }
    let (start, end) = window.trim().trim_end_matches(" UTC").split_once('-')?;
    let minute = |t: &str| -> Option<u16> {
        let (h, m) = t.split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    let (start_minute, end_minute) = (minute(start)?, minute(end)?);
    days.sort_unstable();
    days.dedup();
    Some(ActiveHours {
        days,
        start_minute,
        end_minute: if end_minute == 1440 { 0 } else { end_minute },
    })
}
