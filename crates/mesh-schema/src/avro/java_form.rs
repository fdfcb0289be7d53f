//! [`AvroSchema::to_java_string`]: the schema as Avro-Java 1.11's `Schema.toString()` writes
//! the parsed schema. Confluent Schema Registry stores this text and hashes it for schema
//! identity (`AvroSchema.canonicalString`), so two texts that differ only in layout or key
//! order get the same id, and the registry returns the schema in this spelling.
//!
//! The rules (Java's `Schema.toJson` family):
//!
//! - compact JSON, strings and numbers as Jackson writes them (see [`super::json`]);
//! - a primitive is its bare name, or `{"type":..}` plus its properties when it has any
//!   (`logicalType` is a property);
//! - record: `type` (`record`/`error`), `name`, `namespace`, `doc`, `fields`, properties,
//!   `aliases`; each field: `name`, `type`, `doc`, `default`, `order` (unless ascending),
//!   `aliases`, properties;
//! - enum: `type`, `name`, `namespace`, `doc`, `symbols`, `default`, properties, `aliases`;
//! - fixed: `type`, `name`, `namespace`, `doc`, `size`, properties, `aliases`;
//! - array / map: `type`, `items` / `values`, properties; a union is a JSON array;
//! - `namespace` is written only when it differs from the enclosing record's namespace (`""`
//!   for a null namespace inside a non-null one); only records change the enclosing namespace;
//! - a named type already written, or defined by a schema reference (Confluent pre-registers
//!   the references' top-level types), is written as its name: the short name when its
//!   namespace is null or the enclosing one, else the full name;
//! - type aliases are relative to the type's own namespace in the same way, duplicates
//!   dropped; properties come in document order.

use std::collections::HashSet;

use super::AvroSchema;
use super::json::{Json, write_str};
use super::model::{Field, Kind, Name, Named, NodeId, Order};

impl AvroSchema {
    /// The text of Avro-Java's `Schema.toString()` for this schema (with the referenced
    /// schemas' types written by name, as Confluent's `AvroSchema.canonicalString` does).
    /// This is the registry's stored text and identity for Avro without `normalize`.
    pub fn to_java_string(&self) -> String {
        let mut w = Writer {
            schema: self,
            written: HashSet::new(),
            space: None,
            out: String::new(),
        };
        for id in &self.referenced {
            if let Some(named) = self.node(*id).kind.named() {
                w.written.insert(named.name.fullname());
            }
        }
        w.write(self.root);
        w.out
    }
}

struct Writer<'a> {
    schema: &'a AvroSchema,
    /// Full names already defined in the output (Java's `Names`).
    written: HashSet<String>,
    /// The enclosing namespace (Java's `Names.space`).
    space: Option<String>,
    out: String,
}

impl Writer<'_> {
    fn write(&mut self, id: NodeId) {
        let node = self.schema.node(id);
        if let Some(named) = node.kind.named() {
            let full = named.name.fullname();
            if self.written.contains(&full) {
                let short = qualified(&named.name, self.space.as_deref());
                write_str(&short, &mut self.out);
                return;
            }
            self.written.insert(full);
        }
        match &node.kind {
            Kind::Union(branches) => {
                self.out.push('[');
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.write(*b);
                }
                self.out.push(']');
            }
            Kind::Record {
                named, fields: fs, ..
            } => {
                self.open_type(node.kind.json_name());
                self.name_block(named);
                let saved = std::mem::replace(&mut self.space, named.name.namespace.clone());
                self.doc(named.doc.as_deref());
                self.out.push_str(",\"fields\":[");
                for (i, f) in fs.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.field(f);
                }
                self.out.push(']');
                self.attrs(&node.attrs);
                self.aliases(named);
                self.out.push('}');
                self.space = saved;
            }
            Kind::Enum {
                named,
                symbols,
                default,
            } => {
                self.open_type("enum");
                self.name_block(named);
                self.doc(named.doc.as_deref());
                self.out.push_str(",\"symbols\":[");
                for (i, s) in symbols.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    write_str(s, &mut self.out);
                }
                self.out.push(']');
                if let Some(d) = default {
                    self.out.push_str(",\"default\":");
                    write_str(d, &mut self.out);
                }
                self.attrs(&node.attrs);
                self.aliases(named);
                self.out.push('}');
            }
            Kind::Fixed { named, size } => {
                self.open_type("fixed");
                self.name_block(named);
                self.doc(named.doc.as_deref());
                self.out.push_str(&format!(",\"size\":{size}"));
                self.attrs(&node.attrs);
                self.aliases(named);
                self.out.push('}');
            }
            Kind::Array(inner) | Kind::Map(inner) => {
                self.open_type(node.kind.json_name());
                let key = if matches!(node.kind, Kind::Array(_)) {
                    ",\"items\":"
                } else {
                    ",\"values\":"
                };
                self.out.push_str(key);
                self.write(*inner);
                self.attrs(&node.attrs);
                self.out.push('}');
            }
            primitive if node.attrs.is_empty() => {
                write_str(primitive.json_name(), &mut self.out);
            }
            primitive => {
                self.open_type(primitive.json_name());
                self.attrs(&node.attrs);
                self.out.push('}');
            }
        }
    }

    fn field(&mut self, f: &Field) {
        self.out.push_str("{\"name\":");
        write_str(&f.name, &mut self.out);
        self.out.push_str(",\"type\":");
        self.write(f.schema);
        self.doc(f.doc.as_deref());
        if let Some(d) = &f.source.default {
            self.out.push_str(",\"default\":");
            d.write_java(&mut self.out);
        }
        if f.order != Order::Ascending {
            self.out
                .push_str(&format!(",\"order\":\"{}\"", f.order.as_str()));
        }
        let mut seen = HashSet::new();
        let aliases: Vec<&String> = f.aliases.iter().filter(|a| seen.insert(*a)).collect();
        if !aliases.is_empty() {
            self.out.push_str(",\"aliases\":[");
            for (i, a) in aliases.into_iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                write_str(a, &mut self.out);
            }
            self.out.push(']');
        }
        self.attrs(&f.source.attrs);
        self.out.push('}');
    }

    fn open_type(&mut self, ty: &str) {
        self.out.push_str("{\"type\":");
        write_str(ty, &mut self.out);
    }

    /// Java's `Name.writeName`.
    fn name_block(&mut self, named: &Named) {
        self.out.push_str(",\"name\":");
        write_str(&named.name.name, &mut self.out);
        match (&named.name.namespace, &self.space) {
            (Some(ns), enclosing) if enclosing.as_ref() != Some(ns) => {
                self.out.push_str(",\"namespace\":");
                write_str(ns, &mut self.out);
            }
            (None, Some(_)) => self.out.push_str(",\"namespace\":\"\""),
            _ => {}
        }
    }

    fn doc(&mut self, doc: Option<&str>) {
        if let Some(doc) = doc {
            self.out.push_str(",\"doc\":");
            write_str(doc, &mut self.out);
        }
    }

    fn attrs(&mut self, attrs: &[(String, Json)]) {
        for (k, v) in attrs {
            self.out.push(',');
            write_str(k, &mut self.out);
            self.out.push(':');
            v.write_java(&mut self.out);
        }
    }

    /// Java's `NamedSchema.aliasesToJson`: each alias relative to the type's namespace.
    fn aliases(&mut self, named: &Named) {
        let mut seen = HashSet::new();
        let aliases: Vec<&String> = named.aliases.iter().filter(|a| seen.insert(*a)).collect();
        if aliases.is_empty() {
            return;
        }
        self.out.push_str(",\"aliases\":[");
        for (i, alias) in aliases.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            let name = match alias.rsplit_once('.') {
                Some((ns, simple)) => Name {
                    name: simple.to_owned(),
                    namespace: Some(ns.to_owned()),
                },
                None => Name {
                    name: alias.clone(),
                    namespace: None,
                },
            };
            write_str(
                &qualified(&name, named.name.namespace.as_deref()),
                &mut self.out,
            );
        }
        self.out.push(']');
    }
}

/// Java's `Name.getQualified`: the short name when the namespace is null or `default_space`.
fn qualified(name: &Name, default_space: Option<&str>) -> String {
    match name.namespace.as_deref() {
        None => name.name.clone(),
        Some(ns) if Some(ns) == default_space => name.name.clone(),
        Some(_) => name.fullname(),
    }
}
