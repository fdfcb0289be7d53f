//! Ownership: the domains file (domain → owners, principals, topic prefix, policies), the rule
//! that a product's topics live under its domain's prefix and never under another's, and the
//! prefixed ACL bindings derived for each domain's principals.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Diagnostics, Pos, code, did_you_mean};
use crate::model::ResolvedContract;
use crate::policy::{PolicyEntry, read_entries};
use crate::reader::Reader;
use crate::yaml::{self, Node, Value};

/// One domain.
#[derive(Clone, Debug)]
pub struct Domain {
    pub name: String,
    pub description: Option<String>,
    pub owners: Vec<String>,
    /// Kafka principals of the domain's services (`User:orders-svc`).
    pub principals: Vec<String>,
    /// Every topic, group and transactional id of the domain starts with this.
    pub topic_prefix: String,
    /// Domain-level policies (tighten only).
    pub policies: Vec<PolicyEntry>,
    pub pos: Pos,
}

/// The parsed domains file.
#[derive(Clone, Debug, Default)]
pub struct Domains {
    pub domains: BTreeMap<String, Domain>,
}

/// A Kafka ACL binding (for brokers with an authorizer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AclBinding {
    pub principal: String,
    /// TOPIC, GROUP, TRANSACTIONAL_ID.
    pub resource_type: &'static str,
    /// Always PREFIXED: one binding per domain prefix (KIP-290).
    pub pattern_type: &'static str,
    pub resource_name: String,
    pub operation: &'static str,
    pub permission: &'static str,
}

impl Domains {
    /// Parses a domains file.
    pub fn parse(file: &str, text: &str) -> (Self, Diagnostics) {
        let mut d = Diagnostics::new(file);
        let mut out = Domains::default();
        let tree = match yaml::parse(text) {
            Ok(t) => t,
            Err(e) => {
                d.error(
                    e.pos,
                    code::YAML_SYNTAX,
                    format!("YAML syntax error: {}", e.message),
                );
                return (out, d);
            }
        };
        let mut r = Reader { diags: &mut d };
        r.known_keys(&tree, &["domains"], "a domains file");
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = tree.get("domains")
        else {
            r.diags.error_hint(
                tree.pos,
                code::MISSING_KEY,
                "the domains file has no `domains` mapping",
                "add `domains: {orders: {owners: [...], principals: [...], topicPrefix: orders.}}`",
            );
            return (out, d);
        };
        for (k, node) in entries {
            if r.map(node, &k.name).is_none() {
                continue;
            }
            r.known_keys(
                node,
                &[
                    "description",
                    "owners",
                    "principals",
                    "topicPrefix",
                    "policies",
                ],
                "a domain",
            );
            let strings = |r: &mut Reader<'_>, key: &str| -> Vec<String> {
                r.seq(node, key)
                    .iter()
                    .filter_map(|n| match n.as_str() {
                        Some(s) => Some(s.to_owned()),
                        None => {
                            r.type_error(n, key, "a list of strings");
                            None
                        }
                    })
                    .collect()
            };
            let owners = strings(&mut r, "owners");
            let principals = strings(&mut r, "principals");
            for p in &principals {
                if !p.contains(':') {
                    r.invalid(
                        node.key_pos("principals"),
                        format!("principal `{p}` has no type"),
                        "write principals as `User:name`",
                    );
                }
            }
            let prefix = r
                .string(node, "topicPrefix")
                .map(|s| s.0)
                .unwrap_or_else(|| format!("{}.", k.name));
            let policies = read_entries(&mut r, node);
            out.domains.insert(
                k.name.clone(),
                Domain {
                    name: k.name.clone(),
                    description: r.string(node, "description").map(|s| s.0),
                    owners,
                    principals,
                    topic_prefix: prefix,
                    policies,
                    pos: k.pos,
                },
            );
        }
        // Prefixes must not overlap, or one domain could claim another's topics.
        let all: Vec<&Domain> = out.domains.values().collect();
        for a in &all {
            for b in &all {
                if a.name != b.name && b.topic_prefix.starts_with(&a.topic_prefix) {
                    d.error_hint(
                        b.pos,
                        code::OWNERSHIP,
                        format!(
                            "topic prefix `{}` of domain `{}` lies inside `{}` of domain `{}`",
                            b.topic_prefix, b.name, a.topic_prefix, a.name
                        ),
                        "domain prefixes must not overlap",
                    );
                }
            }
        }
        (out, d)
    }

    /// Checks that `c` belongs to a known domain and its topics live under that domain's prefix
    /// only; findings point at `tree`'s `domain` key.
    pub fn check(&self, c: &ResolvedContract, tree: Option<&Node>, d: &mut Diagnostics) {
        let pos = tree.map_or(Pos { line: 1, column: 1 }, |t| t.key_pos("domain"));
        let Some(domain) = self.domains.get(&c.domain) else {
            let names: Vec<&str> = self.domains.keys().map(String::as_str).collect();
            let hint = match did_you_mean(&c.domain, &names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known domains: {}", names.join(", ")),
            };
            d.error_hint(
                pos,
                code::OWNERSHIP,
                format!("domain `{}` is not in the domains file", c.domain),
                &hint,
            );
            return;
        };
        for topic in [&c.topics.raw, &c.topics.validated, &c.topics.dlq] {
            if !topic.starts_with(&domain.topic_prefix) {
                d.error_hint(
                    pos,
                    code::OWNERSHIP,
                    format!(
                        "topic `{topic}` is outside domain `{}`'s prefix `{}`",
                        domain.name, domain.topic_prefix
                    ),
                    "a product's topics live under its domain's topic prefix",
                );
            }
            for other in self.domains.values().filter(|o| o.name != domain.name) {
                if topic.starts_with(&other.topic_prefix) {
                    d.error_hint(
                        pos,
                        code::OWNERSHIP,
                        format!(
                            "topic `{topic}` belongs to domain `{}` (prefix `{}`)",
                            other.name, other.topic_prefix
                        ),
                        "products cannot claim another domain's topics",
                    );
                }
            }
        }
    }

    /// Prefixed ACL bindings for every principal of `domain`: produce/consume/describe its
    /// topics, use its consumer groups, and run transactional producers (the gateway's).
    pub fn acls(&self, domain: &str) -> Vec<AclBinding> {
        let Some(dom) = self.domains.get(domain) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let grants: [(&'static str, &[&'static str]); 3] = [
            ("TOPIC", &["READ", "WRITE", "DESCRIBE", "DESCRIBE_CONFIGS"]),
            ("GROUP", &["READ", "DESCRIBE"]),
            ("TRANSACTIONAL_ID", &["WRITE", "DESCRIBE"]),
        ];
        for principal in &dom.principals {
            for (resource_type, ops) in grants {
                for operation in ops {
                    out.push(AclBinding {
                        principal: principal.clone(),
                        resource_type,
                        pattern_type: "PREFIXED",
                        resource_name: dom.topic_prefix.clone(),
                        operation,
                        permission: "ALLOW",
                    });
                }
            }
        }
        out
    }
}
