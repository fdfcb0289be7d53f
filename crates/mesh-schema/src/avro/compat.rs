//! Reader/writer compatibility: [`CanRead`] for [`AvroSchema`], following Apache Avro Java's
//! `SchemaCompatibility.ReaderWriterCompatibilityChecker` rule for rule (that class is what
//! Confluent's `AvroSchema.isBackwardCompatible` calls).
//!
//! Deliberate differences from Java, all on paths where Java is accidental or crashes:
//! - inside a writer union read by a non-union reader, Java restarts the location at `/`;
//!   we keep the full path and add the writer branch index (`/fields/0/type/1`);
//! - a reader field matched by several writer fields (name + aliases) makes Java throw; we
//!   report `READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS` (the same writer field reached twice
//!   counts once);
//! - a reader-only enum field without a field default but with an enum default makes Java
//!   throw a `NullPointerException`; we report `READER_FIELD_MISSING_DEFAULT_VALUE`, since
//!   there is no value to fill the field with.

use std::collections::HashMap;

use super::AvroSchema;
use super::model::{Field, Kind, NodeId};
use crate::compat::{CanRead, Incompatibility};

impl CanRead for AvroSchema {
    fn can_read(reader: &Self, writer: &Self) -> Vec<Incompatibility> {
        let mut checker = Checker {
            reader,
            writer,
            memo: HashMap::new(),
            path: Vec::new(),
            field: None,
        };
        checker.check(reader.root(), writer.root())
    }
}

/// A pair's state in the memo: Java's `RECURSION_IN_PROGRESS` or its final result.
enum Memo {
    InProgress,
    Done(Vec<Incompatibility>),
}

struct Checker<'a> {
    reader: &'a AvroSchema,
    writer: &'a AvroSchema,
    /// Keyed by node identity, as Java keys by object identity: a named type reached again
    /// through recursion is the same node, so the pair is found "in progress" and counts as
    /// compatible (it is compatible unless proven otherwise elsewhere).
    memo: HashMap<(NodeId, NodeId), Memo>,
    /// JSON-pointer tokens from the root of the reader schema.
    path: Vec<String>,
    /// `record.field` of the innermost reader field being checked, for messages.
    field: Option<String>,
}

impl Checker<'_> {
    fn check(&mut self, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        match self.memo.get(&(r, w)) {
            Some(Memo::InProgress) => return Vec::new(),
            Some(Memo::Done(found)) => return found.clone(),
            None => {}
        }
        self.memo.insert((r, w), Memo::InProgress);
        let found = self.calculate(r, w);
        self.memo.insert((r, w), Memo::Done(found.clone()));
        found
    }

    /// `check` one level down the path.
    fn check_at(&mut self, token: &str, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        self.path.push(token.to_owned());
        let found = self.check(r, w);
        self.path.pop();
        found
    }

    fn calculate(&mut self, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        let (rk, wk) = (&self.reader.node(r).kind, &self.writer.node(w).kind);
        if std::mem::discriminant(rk) == std::mem::discriminant(wk) {
            return match (rk, wk) {
                (Kind::Array(ri), Kind::Array(wi)) => self.check_at("items", *ri, *wi),
                (Kind::Map(rv), Kind::Map(wv)) => self.check_at("values", *rv, *wv),
                (Kind::Fixed { size: rs, .. }, Kind::Fixed { size: ws, .. }) => {
                    let mut found = self.check_names(r, w);
                    if rs != ws {
                        let name = rk.named().map(|n| n.name.fullname()).unwrap_or_default();
                        let msg = format!(
                            "expected: {ws}, found: {rs} (reader fixed {name} has size {rs}, writer's has {ws})"
                        );
                        found.push(self.incompatible_at("size", "FIXED_SIZE_MISMATCH", msg));
                    }
                    found
                }
                (Kind::Enum { .. }, Kind::Enum { .. }) => {
                    let mut found = self.check_names(r, w);
                    found.extend(self.check_enum_symbols(rk, wk));
                    found
                }
                (Kind::Record { .. }, Kind::Record { .. }) => {
                    let mut found = self.check_names(r, w);
                    found.extend(self.check_fields(r, w));
                    found
                }
                (Kind::Union(_), Kind::Union(wb)) => {
                    self.check_writer_union_in_union(r, wb.clone())
                }
                // Same primitive.
                _ => Vec::new(),
            };
        }
        // A writer union, read by a non-union: every branch must be readable.
        if let Kind::Union(wb) = wk {
            let mut found = Vec::new();
            for (i, b) in wb.clone().into_iter().enumerate() {
                found.extend(self.check_at(&i.to_string(), r, b));
            }
            return found;
        }
        let promotable = matches!(
            (rk, wk),
            (Kind::Long, Kind::Int)
                | (Kind::Float, Kind::Int | Kind::Long)
                | (Kind::Double, Kind::Int | Kind::Long | Kind::Float)
                | (Kind::Bytes, Kind::String)
                | (Kind::String, Kind::Bytes)
        );
        if promotable {
            return Vec::new();
        }
        if let Kind::Union(rb) = rk {
            // Some reader branch must read the writer; Java stops at the first that does.
            for b in rb.clone() {
                if self.check(b, w).is_empty() {
                    return Vec::new();
                }
            }
            let msg = format!(
                "reader union lacking writer type: {}{}",
                wk.type_name(),
                self.context()
            );
            return vec![self.incompatible("MISSING_UNION_BRANCH", msg)];
        }
        let msg = format!(
            "reader type: {} not compatible with writer type: {}{}",
            rk.type_name(),
            wk.type_name(),
            self.context()
        );
        vec![self.incompatible("TYPE_MISMATCH", msg)]
    }

    /// Both unions: each writer branch must be readable by the reader union; a branch that is
    /// not is reported once as a missing branch (the details underneath are dropped, as Java).
    fn check_writer_union_in_union(
        &mut self,
        r: NodeId,
        writer_branches: Vec<NodeId>,
    ) -> Vec<Incompatibility> {
        let mut found = Vec::new();
        for (i, b) in writer_branches.into_iter().enumerate() {
            self.path.push(i.to_string());
            if !self.check(r, b).is_empty() {
                let ty = self.writer.node(b).kind.type_name();
                let msg = format!("reader union lacking writer type: {ty}{}", self.context());
                found.push(self.incompatible("MISSING_UNION_BRANCH", msg));
            }
            self.path.pop();
        }
        found
    }

    /// Java's `schemaNameEquals`: equal unqualified names, or a reader alias equal to the
    /// writer's full name.
    fn check_names(&mut self, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        let (rk, wk) = (&self.reader.node(r).kind, &self.writer.node(w).kind);
        let (Some(rn), Some(wn)) = (rk.named(), wk.named()) else {
            return Vec::new();
        };
        let wfull = wn.name.fullname();
        if rn.name.name == wn.name.name || rn.aliases.contains(&wfull) {
            return Vec::new();
        }
        let msg = format!(
            "expected: {wfull} (reader {} is named {}){}",
            rk.json_name(),
            rn.name,
            self.context()
        );
        vec![self.incompatible_at("name", "NAME_MISMATCH", msg)]
    }

    fn check_enum_symbols(&mut self, rk: &Kind, wk: &Kind) -> Vec<Incompatibility> {
        let (
            Kind::Enum {
                named,
                symbols: rs,
                default,
            },
            Kind::Enum { symbols: ws, .. },
        ) = (rk, wk)
        else {
            return Vec::new();
        };
        let mut missing: Vec<&String> = ws.iter().filter(|s| !rs.contains(s)).collect();
        // The reader's enum default stands in for unknown symbols (Avro 1.9+).
        if missing.is_empty() || default.as_ref().is_some_and(|d| rs.contains(d)) {
            return Vec::new();
        }
        missing.sort(); // Java reports a TreeSet
        let list = missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let msg = format!(
            "[{list}] (reader enum {} lacks writer symbols and has no default){}",
            named.name,
            self.context()
        );
        vec![self.incompatible_at("symbols", "MISSING_ENUM_SYMBOLS", msg)]
    }

    fn check_fields(&mut self, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        let (
            Kind::Record {
                named, fields: rf, ..
            },
            Kind::Record { fields: wf, .. },
        ) = (&self.reader.node(r).kind, &self.writer.node(w).kind)
        else {
            return Vec::new();
        };
        let record = named.name.fullname();
        let mut found = Vec::new();
        self.path.push("fields".to_owned());
        for (pos, field) in rf.iter().enumerate() {
            self.path.push(pos.to_string());
            let outer = self.field.replace(format!("{record}.{}", field.name));
            let matches = lookup_writer_fields(wf, field);
            match matches.as_slice() {
                [] if field.default.is_none() => {
                    let msg = format!(
                        "{} (reader field '{}' of record {record} has no default value and is missing from the writer)",
                        field.name, field.name
                    );
                    found.push(self.incompatible("READER_FIELD_MISSING_DEFAULT_VALUE", msg));
                }
                [] => {}
                [one] => found.extend(self.check_at("type", field.schema, wf[*one].schema)),
                _ => {
                    let names: Vec<&str> = matches.iter().map(|i| wf[*i].name.as_str()).collect();
                    let msg = format!(
                        "reader field '{}' of record {record} matches several writer fields through its aliases: {}",
                        field.name,
                        names.join(", ")
                    );
                    found.push(
                        self.incompatible("READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS", msg),
                    );
                }
            }
            self.field = outer;
            self.path.pop();
        }
        self.path.pop();
        found
    }

    fn context(&self) -> String {
        self.field
            .as_ref()
            .map(|f| format!(" (field {f})"))
            .unwrap_or_default()
    }

    fn incompatible(&self, kind: &str, message: String) -> Incompatibility {
        Incompatibility {
            kind: kind.to_owned(),
            path: pointer(&self.path),
            message,
        }
    }

    fn incompatible_at(&mut self, token: &str, kind: &str, message: String) -> Incompatibility {
        self.path.push(token.to_owned());
        let found = self.incompatible(kind, message);
        self.path.pop();
        found
    }
}

/// Indices of the writer fields a reader field reads: by its name, then by each alias
/// (Java's `lookupWriterField`), without duplicates.
fn lookup_writer_fields(writer_fields: &[Field], reader_field: &Field) -> Vec<usize> {
    let mut out = Vec::new();
    for name in std::iter::once(&reader_field.name).chain(&reader_field.aliases) {
        if let Some(i) = writer_fields.iter().position(|f| &f.name == name)
            && !out.contains(&i)
        {
            out.push(i);
        }
    }
    out
}

/// JSON pointer with `~` and `/` escaped; the root is `/`, as Java prints it.
fn pointer(tokens: &[String]) -> String {
    let escaped: Vec<String> = tokens
        .iter()
        .map(|t| t.replace('~', "~0").replace('/', "~1"))
        .collect();
    format!("/{}", escaped.join("/"))
}
