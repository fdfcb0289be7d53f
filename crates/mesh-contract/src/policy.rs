//! Governance policies: CEL expressions over the resolved contract (`contract`) that must hold.
//!
//! Policies are code reviewed like code: a YAML file of `{id, description, expr, severity,
//! enabled, at, hint}`. mesh ships [`BUILTIN`]; an organisation's policies file may disable a
//! built-in, change its severity or expression, or add policies; a domain (in the domains file)
//! may only tighten: add policies or raise a severity, never disable or lower one. CEL over the
//! resolved contract (rather than over raw YAML) means policies see defaults applied and the
//! physical schema's fields, exactly what will be enforced.

use std::collections::BTreeMap;

use crate::diag::{Diagnostics, Pos, Severity, code};
use crate::model::ResolvedContract;
use crate::reader::Reader;
use crate::yaml::{self, Node};

/// mesh's built-in policies (`policies/builtin.yaml`).
pub const BUILTIN: &str = include_str!("../policies/builtin.yaml");

const POLICY_KEYS: &[&str] = &[
    "id",
    "description",
    "expr",
    "severity",
    "enabled",
    "at",
    "hint",
];

/// One policy, compiled.
#[derive(Clone, Debug)]
pub struct Policy {
    pub id: String,
    pub description: String,
    pub expr: String,
    pub severity: Severity,
    pub enabled: bool,
    /// The top-level contract key a finding points at.
    pub at: Option<String>,
    pub hint: Option<String>,
}

/// A policy as written in a file: everything but `id` optional (an override).
#[derive(Clone, Debug)]
pub struct PolicyEntry {
    pub id: String,
    pub pos: Pos,
    pub description: Option<String>,
    pub expr: Option<String>,
    pub severity: Option<Severity>,
    pub enabled: Option<bool>,
    pub at: Option<String>,
    pub hint: Option<String>,
}

/// Reads `policies: [...]` from a YAML node (a policies file's root or a domain entry).
pub fn read_entries(r: &mut Reader<'_>, parent: &Node) -> Vec<PolicyEntry> {
    let mut out = Vec::new();
    for p in r.seq(parent, "policies") {
        if r.map(p, "policy").is_none() {
            continue;
        }
        r.known_keys(p, POLICY_KEYS, "a policy");
        let (id, pos) = r.required_string(p, "id", "a policy");
        let severity = r.string(p, "severity").and_then(|(s, spos)| {
            let sev = Severity::parse(&s);
            if sev.is_none() {
                r.invalid(
                    spos,
                    format!("`{s}` is not a severity"),
                    "use error, warning or info",
                );
            }
            sev
        });
        let expr = r.string(p, "expr");
        if let Some((e, epos)) = &expr
            && let Err(err) = cel::Program::compile(e)
        {
            let msg = err
                .to_string()
                .lines()
                .next()
                .unwrap_or("syntax error")
                .to_owned();
            r.diags.error_hint(
                *epos,
                code::CEL_COMPILE,
                format!("policy `{id}`: CEL does not compile: {msg}"),
                "a policy is a CEL expression over `contract` that must be true",
            );
        }
        out.push(PolicyEntry {
            id,
            pos,
            description: r.string(p, "description").map(|s| s.0),
            expr: expr.map(|s| s.0),
            severity,
            enabled: r.bool(p, "enabled"),
            at: r.string(p, "at").map(|s| s.0),
            hint: r.string(p, "hint").map(|s| s.0),
        });
    }
    out
}

/// The policies in force.
#[derive(Clone, Debug)]
pub struct PolicySet {
    pub policies: BTreeMap<String, Policy>,
}

impl PolicySet {
    /// mesh's built-in policies.
    pub fn builtin() -> Self {
        let mut d = Diagnostics::new("builtin policies");
        let tree = yaml::parse(BUILTIN).unwrap_or_else(|_| Node {
            pos: Pos::default(),
            value: yaml::Value::Null,
        });
        let entries = read_entries(&mut Reader { diags: &mut d }, &tree);
        let mut set = PolicySet {
            policies: BTreeMap::new(),
        };
        set.apply_org(&entries, &mut d);
        debug_assert!(!d.has_errors(), "builtin policies: {:?}", d.items);
        set
    }

    /// Parses an organisation policies file and applies it over the built-ins.
    pub fn with_org_file(file: &str, text: &str) -> (Self, Diagnostics) {
        let mut d = Diagnostics::new(file);
        let mut set = Self::builtin();
        match yaml::parse(text) {
            Ok(tree) => {
                let mut r = Reader { diags: &mut d };
                r.known_keys(&tree, &["policies"], "a policies file");
                let entries = read_entries(&mut r, &tree);
                set.apply_org(&entries, &mut d);
            }
            Err(e) => d.error(
                e.pos,
                code::YAML_SYNTAX,
                format!("YAML syntax error: {}", e.message),
            ),
        }
        (set, d)
    }

    /// Organisation level: anything goes (override or add).
    pub fn apply_org(&mut self, entries: &[PolicyEntry], d: &mut Diagnostics) {
        for e in entries {
            match self.policies.get_mut(&e.id) {
                Some(p) => {
                    if let Some(s) = e.severity {
                        p.severity = s;
                    }
                    if let Some(en) = e.enabled {
                        p.enabled = en;
                    }
                    if let Some(x) = &e.expr {
                        p.expr = x.clone();
                    }
                    if let Some(x) = &e.description {
                        p.description = x.clone();
                    }
                    if let Some(x) = &e.hint {
                        p.hint = Some(x.clone());
                    }
                    if let Some(x) = &e.at {
                        p.at = Some(x.clone());
                    }
                }
                None => self.add(e, d),
            }
        }
    }

    /// Domain level: only tighten. Returns the domain's effective set.
    pub fn tightened(&self, entries: &[PolicyEntry], d: &mut Diagnostics) -> Self {
        let mut set = self.clone();
        for e in entries {
            match set.policies.get_mut(&e.id) {
                Some(p) => {
                    if e.enabled == Some(false)
                        || e.expr.is_some()
                        || e.severity.is_some_and(|s| s < p.severity)
                    {
                        d.error_hint(e.pos, code::POLICY_FILE, format!("domain policy `{}` would loosen the organisation's policy", e.id), "a domain may add policies or raise a severity, never disable, rewrite or lower one");
                        continue;
                    }
                    if let Some(s) = e.severity {
                        p.severity = s;
                    }
                    if e.enabled == Some(true) {
                        p.enabled = true;
                    }
                }
                None => set.add(e, d),
            }
        }
        set
    }

    fn add(&mut self, e: &PolicyEntry, d: &mut Diagnostics) {
        let Some(expr) = &e.expr else {
            d.error_hint(
                e.pos,
                code::POLICY_FILE,
                format!("policy `{}` is not a built-in and has no `expr`", e.id),
                "a new policy needs `expr` (CEL over `contract`)",
            );
            return;
        };
        self.policies.insert(
            e.id.clone(),
            Policy {
                id: e.id.clone(),
                description: e.description.clone().unwrap_or_else(|| e.id.clone()),
                expr: expr.clone(),
                severity: e.severity.unwrap_or(Severity::Error),
                enabled: e.enabled.unwrap_or(true),
                at: e.at.clone(),
                hint: e.hint.clone(),
            },
        );
    }

    /// Checks `contract` against every enabled policy; findings point at `tree`'s keys.
    pub fn check(&self, contract: &ResolvedContract, tree: Option<&Node>, d: &mut Diagnostics) {
        let doc = match serde_json::to_value(contract)
            .map(|v| crate::rules::json_to_cel(&v))
            .map_err(|e| e.to_string())
        {
            Ok(v) => v,
            Err(e) => {
                d.error(
                    Pos { line: 1, column: 1 },
                    code::POLICY_FILE,
                    format!("contract cannot be read by policies: {e}"),
                );
                return;
            }
        };
        let mut ctx = cel::Context::default();
        ctx.add_variable_from_value("contract", doc);
        for p in self.policies.values().filter(|p| p.enabled) {
            let pos = match (tree, &p.at) {
                (Some(t), Some(at)) => t.key_pos(at),
                _ => Pos { line: 1, column: 1 },
            };
            let outcome = cel::Program::compile(&p.expr)
                .map_err(|e| e.to_string())
                .and_then(|prog| prog.execute(&ctx).map_err(|e| e.to_string()));
            let code = format!("policy:{}", p.id);
            match outcome {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => d.push(
                    pos,
                    p.severity,
                    &code,
                    p.description.clone(),
                    p.hint.clone(),
                ),
                Ok(other) => d.push(
                    pos,
                    Severity::Error,
                    &code,
                    format!("policy returned {other:?}, not a boolean"),
                    None,
                ),
                Err(e) => d.push(
                    pos,
                    Severity::Error,
                    &code,
                    format!("policy failed to evaluate: {e}"),
                    None,
                ),
            }
        }
    }
}
