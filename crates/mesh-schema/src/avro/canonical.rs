//! Textual forms of a parsed schema:
//!
//! - [`AvroSchema::canonical_form`]: the Avro specification's *Parsing Canonical Form* (PCF),
//!   the input of Avro fingerprints. It keeps only what affects how data is parsed.
//! - [`AvroSchema::normalized`]: a stable structural form of mesh's own. Unlike PCF it keeps
//!   everything that Confluent keeps in a schema's identity (doc, aliases, defaults, order,
//!   logical types, custom properties), but in one fixed spelling, so two texts that differ
//!   only in layout produce the same string. See the method for the exact rules. It is *not*
//!   what the registry stores for `normalize=true`: that is Confluent's form,
//!   [`AvroSchema::normalize`] then [`AvroSchema::to_java_string`].

use std::collections::HashSet;

use serde_json::Value;

use super::AvroSchema;
use super::model::{Field, Kind, NodeId, Order};

impl AvroSchema {
    /// Parsing Canonical Form (Avro spec, "Parsing Canonical Form for Schemas"):
    /// primitives as bare names, full names with no `namespace`, only the attributes `name`,
    /// `type`, `fields`, `symbols`, `items`, `values`, `size` in that order, no whitespace, and
    /// each named type spelled out at its first occurrence only (later ones are its full name).
    /// `"error"` records are written as `"record"`, like Java's `SchemaNormalization`.
    pub fn canonical_form(&self) -> String {
        let mut out = String::new();
        self.write(self.root, &mut HashSet::new(), false, &mut out);
        out
    }

    /// mesh's structural normal form (not Confluent's `normalize=true` text, see
    /// [`AvroSchema::normalize`]). It is compact JSON that parses back to the same schema, with
    /// these rules on top of PCF's:
    ///
    /// - names are full names and `namespace` is never written (so `"ns.R"` and
    ///   `{"name":"R","namespace":"ns"}` agree), type aliases are full names, sorted and
    ///   deduplicated, field aliases sorted and deduplicated;
    /// - a primitive is a bare name unless it carries a logical type or properties, then it is
    ///   `{"type":..}` plus those attributes;
    /// - structural keys come in PCF order (`name`, `type`, `fields`, `symbols`, `items`,
    ///   `values`, `size`), then `aliases`, `default`, `doc`, `logicalType`, `order` (fields,
    ///   only when not `ascending`), then the remaining properties sorted by key;
    /// - JSON values (defaults, properties) are written compactly with object keys sorted;
    /// - a named type is spelled out at its first occurrence and referenced by full name after.
    ///
    /// What stays significant: doc, aliases as sets, defaults, order, logical types and custom
    /// properties, and the order of fields, symbols and union branches (all of which matter
    /// to Avro readers or to generated code).
    pub fn normalized(&self) -> String {
        let mut out = String::new();
        self.write(self.root, &mut HashSet::new(), true, &mut out);
        out
    }

    fn write(&self, id: NodeId, seen: &mut HashSet<NodeId>, full: bool, out: &mut String) {
        let node = self.node(id);
        let kind = &node.kind;
        if let Some(named) = kind.named()
            && !seen.insert(id)
        {
            out.push_str(&json_str(&named.name.fullname()));
            return;
        }
        let annotated = full && (node.logical_type.is_some() || !node.props.is_empty());
        match kind {
            Kind::Union(branches) => {
                out.push('[');
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write(*b, seen, full, out);
                }
                out.push(']');
                return;
            }
            Kind::Array(_)
            | Kind::Map(_)
            | Kind::Record { .. }
            | Kind::Enum { .. }
            | Kind::Fixed { .. } => {}
            _ if !annotated => {
                out.push_str(&json_str(kind.json_name()));
                return;
            }
            _ => {}
        }
        out.push('{');
        if let Some(named) = kind.named() {
            out.push_str(&format!("\"name\":{},", json_str(&named.name.fullname())));
        }
        // PCF has no "error": Java's SchemaNormalization writes the type's name, "record".
        let ty = match kind {
            Kind::Record { .. } if !full => "record",
            _ => kind.json_name(),
        };
        out.push_str(&format!("\"type\":{}", json_str(ty)));
        match kind {
            Kind::Record { fields, .. } => {
                out.push_str(",\"fields\":[");
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write_field(f, seen, full, out);
                }
                out.push(']');
            }
            Kind::Enum { symbols, .. } => {
                let symbols: Vec<Value> =
                    symbols.iter().map(|s| Value::String(s.clone())).collect();
                out.push_str(&format!(",\"symbols\":{}", Value::Array(symbols)));
            }
            Kind::Array(items) => {
                out.push_str(",\"items\":");
                self.write(*items, seen, full, out);
            }
            Kind::Map(values) => {
                out.push_str(",\"values\":");
                self.write(*values, seen, full, out);
            }
            Kind::Fixed { size, .. } => out.push_str(&format!(",\"size\":{size}")),
            _ => {}
        }
        if full {
            if let Some(named) = kind.named() {
                write_aliases(&named.aliases, out);
            }
            if let Kind::Enum {
                default: Some(d), ..
            } = kind
            {
                out.push_str(&format!(",\"default\":{}", json_str(d)));
            }
            if let Some(doc) = kind.named().and_then(|n| n.doc.as_ref()) {
                out.push_str(&format!(",\"doc\":{}", json_str(doc)));
            }
            if let Some(lt) = &node.logical_type {
                out.push_str(&format!(",\"logicalType\":{}", json_str(lt)));
            }
            for (k, v) in &node.props {
                out.push_str(&format!(",{}:{}", json_str(k), v));
            }
        }
        out.push('}');
    }

    fn write_field(&self, f: &Field, seen: &mut HashSet<NodeId>, full: bool, out: &mut String) {
        out.push_str(&format!("{{\"name\":{},\"type\":", json_str(&f.name)));
        self.write(f.schema, seen, full, out);
        if full {
            write_aliases(&f.aliases, out);
            if let Some(d) = &f.default {
                // serde_json's Map is a BTreeMap here, so nested objects print key-sorted.
                out.push_str(&format!(",\"default\":{d}"));
            }
            if let Some(doc) = &f.doc {
                out.push_str(&format!(",\"doc\":{}", json_str(doc)));
            }
            if f.order != Order::Ascending {
                out.push_str(&format!(",\"order\":\"{}\"", f.order.as_str()));
            }
            for (k, v) in &f.props {
                out.push_str(&format!(",{}:{}", json_str(k), v));
            }
        }
        out.push('}');
    }
}

fn write_aliases(aliases: &[String], out: &mut String) {
    if aliases.is_empty() {
        return;
    }
    let mut sorted: Vec<&String> = aliases.iter().collect();
    sorted.sort();
    sorted.dedup();
    let list: Vec<Value> = sorted
        .into_iter()
        .map(|a| Value::String(a.clone()))
        .collect();
    out.push_str(&format!(",\"aliases\":{}", Value::Array(list)));
}

fn json_str(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}
