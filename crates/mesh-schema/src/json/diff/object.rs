//! Rules for object schemas, after Confluent's `ObjectSchemaDiff`: `required`, properties added or
//! removed under an open, partially open or closed content model (`additionalProperties`,
//! `patternProperties`, `unevaluatedProperties`), dependencies, and the property-count bounds.

use super::types::DiffType::{self, *};
use super::{Ctx, Engine};
use crate::json::model::{Graph, Kind, NodeId, ObjectSchema};

impl Engine<'_> {
    pub(super) fn object(&mut self, ctx: &mut Ctx, o: &ObjectSchema, u: &ObjectSchema) {
        self.required(ctx, o, u);
        self.properties(ctx, o, u);
        self.dependencies(ctx, o, u);
        self.additional_properties(ctx, o, u);
        self.unevaluated(
            ctx,
            "unevaluatedProperties",
            o.unevaluated,
            u.unevaluated,
            [
                UNEVALUATED_PROPERTIES_ADDED,
                UNEVALUATED_PROPERTIES_REMOVED,
                UNEVALUATED_PROPERTIES_EXTENDED,
                UNEVALUATED_PROPERTIES_NARROWED,
            ],
        );
        super::scalar::bound(
            ctx,
            "maxProperties",
            o.max_properties,
            u.max_properties,
            [
                MAX_PROPERTIES_ADDED,
                MAX_PROPERTIES_REMOVED,
                MAX_PROPERTIES_INCREASED,
                MAX_PROPERTIES_DECREASED,
            ],
        );
        super::scalar::bound(
            ctx,
            "minProperties",
            o.min_properties,
            u.min_properties,
            [
                MIN_PROPERTIES_ADDED,
                MIN_PROPERTIES_REMOVED,
                MIN_PROPERTIES_INCREASED,
                MIN_PROPERTIES_DECREASED,
            ],
        );
    }

    fn required(&mut self, ctx: &mut Ctx, o: &ObjectSchema, u: &ObjectSchema) {
        ctx.enter("required");
        for (key, _) in &o.properties {
            let Some(update_prop) = u.property(key) else {
                continue;
            };
            let was = o.required.contains(key);
            let is = u.required.contains(key);
            if was && !is {
                ctx.add_at(key, REQUIRED_ATTRIBUTE_REMOVED);
            } else if !was && is {
                let with_default = has_default(self.u, update_prop);
                ctx.add_at(
                    key,
                    if with_default {
                        REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                    } else {
                        REQUIRED_ATTRIBUTE_ADDED
                    },
                );
            }
        }
        ctx.leave();
    }

    fn properties(&mut self, ctx: &mut Ctx, o: &ObjectSchema, u: &ObjectSchema) {
        ctx.enter("properties");
        let mut keys: Vec<&String> = o
            .properties
            .iter()
            .chain(&u.properties)
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            ctx.enter(key);
            match (o.property(key), u.property(key)) {
                (Some(op), Some(up)) => self.compare(ctx, Some(op), Some(up)),
                (Some(op), None) => self.property_removed(ctx, key, op, u),
                (None, Some(up)) => self.property_added(ctx, key, up, o, u),
                (None, None) => {}
            }
            ctx.leave();
        }
        ctx.leave();
    }

    /// A property the update no longer declares: only its content model decides.
    fn property_removed(&mut self, ctx: &mut Ctx, key: &str, op: NodeId, u: &ObjectSchema) {
        if is_open(self.u, u) {
            return ctx.add(PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL);
        }
        if let Some(partial) = partial_schema(self.u, u, key) {
            let mut sub = ctx.sub();
            self.compare(&mut sub, Some(op), Some(partial));
            let covered = self.is_compatible(&sub);
            ctx.extend(sub);
            ctx.add(if covered {
                PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            } else {
                PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            });
        } else if self.is_false(self.o, op) {
            ctx.add(PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL);
        } else {
            ctx.add(PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL);
        }
    }

    /// A property the original did not declare: only the original's content model decides.
    fn property_added(
        &mut self,
        ctx: &mut Ctx,
        key: &str,
        up: NodeId,
        o: &ObjectSchema,
        u: &ObjectSchema,
    ) {
        let required = u.required.iter().any(|r| r == key);
        let with_default = has_default(self.u, up);
        if is_open(self.o, o) {
            let kind = if self.is_empty(self.u, up) {
                PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
            } else if required && with_default {
                REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL
            } else if required {
                REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
            } else {
                OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
            };
            return ctx.add(kind);
        }
        if let Some(partial) = partial_schema(self.o, o, key) {
            let mut sub = ctx.sub();
            self.compare(&mut sub, Some(partial), Some(up));
            let covered = self.is_compatible(&sub);
            ctx.extend(sub);
            ctx.add(if covered {
                PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            } else {
                PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            });
        }
        ctx.add(match (required, with_default) {
            (true, true) => REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL,
            (true, false) => REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
            _ => OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
        });
    }

    fn dependencies(&mut self, ctx: &mut Ctx, o: &ObjectSchema, u: &ObjectSchema) {
        ctx.enter("dependencies");
        let mut keys: Vec<&String> = o
            .property_dependencies
            .iter()
            .chain(&u.property_dependencies)
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        keys.dedup();
        let find = |s: &ObjectSchema, k: &str| {
            s.property_dependencies
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        for key in keys {
            let kind = match (find(o, key), find(u, key)) {
                (_, None) => Some(DEPENDENCY_ARRAY_REMOVED),
                (None, _) => Some(DEPENDENCY_ARRAY_ADDED),
                (Some(a), Some(b)) => {
                    let a_in_b = a.iter().all(|x| b.contains(x));
                    let b_in_a = b.iter().all(|x| a.contains(x));
                    match (a_in_b, b_in_a) {
                        (true, true) => None,
                        (true, false) => Some(DEPENDENCY_ARRAY_EXTENDED),
                        (false, true) => Some(DEPENDENCY_ARRAY_NARROWED),
                        (false, false) => Some(DEPENDENCY_ARRAY_CHANGED),
                    }
                }
            };
            if let Some(kind) = kind {
                ctx.add_at(key, kind);
            }
        }
        let mut keys: Vec<&String> = o
            .schema_dependencies
            .iter()
            .chain(&u.schema_dependencies)
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        keys.dedup();
        let find = |s: &ObjectSchema, k: &str| {
            s.schema_dependencies
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| *v)
        };
        for key in keys {
            match (find(o, key), find(u, key)) {
                (_, None) => ctx.add_at(key, DEPENDENCY_SCHEMA_REMOVED),
                (None, _) => ctx.add_at(key, DEPENDENCY_SCHEMA_ADDED),
                (a, b) => {
                    ctx.enter(key);
                    self.compare(ctx, a, b);
                    ctx.leave();
                }
            }
        }
        ctx.leave();
    }

    fn additional_properties(&mut self, ctx: &mut Ctx, o: &ObjectSchema, u: &ObjectSchema) {
        ctx.enter("additionalProperties");
        let (a, b) = (o.additional, u.additional);
        if a.permits != b.permits {
            ctx.add(if b.permits {
                ADDITIONAL_PROPERTIES_ADDED
            } else {
                ADDITIONAL_PROPERTIES_REMOVED
            });
        } else if a.schema.is_none() && b.schema.is_some() {
            ctx.add(ADDITIONAL_PROPERTIES_NARROWED);
        } else if a.schema.is_some() && b.schema.is_none() {
            ctx.add(ADDITIONAL_PROPERTIES_EXTENDED);
        } else {
            self.compare(ctx, a.schema, b.schema);
        }
        ctx.leave();
    }

    /// `unevaluatedProperties` / `unevaluatedItems`: absent or `true` accepts anything, `false`
    /// nothing, a schema what it accepts. Types are [added, removed, extended, narrowed].
    pub(super) fn unevaluated(
        &mut self,
        ctx: &mut Ctx,
        keyword: &str,
        o: Option<NodeId>,
        u: Option<NodeId>,
        [added, removed, extended, narrowed]: [DiffType; 4],
    ) {
        if o.is_none() && u.is_none() {
            return;
        }
        ctx.enter(keyword);
        let o_false = o.is_some_and(|n| self.is_false(self.o, n));
        let u_false = u.is_some_and(|n| self.is_false(self.u, n));
        let o_empty = o.is_some_and(|n| self.is_empty(self.o, n));
        let u_empty = u.is_some_and(|n| self.is_empty(self.u, n));
        match (o, u) {
            (None, _) => ctx.add(if u_false { removed } else { narrowed }),
            (_, None) => ctx.add(if o_false { added } else { extended }),
            _ if o_false && !u_false => ctx.add(added),
            _ if !o_false && u_false => ctx.add(removed),
            _ if o_empty && !u_empty => ctx.add(narrowed),
            _ if !o_empty && u_empty => ctx.add(extended),
            _ => self.compare(ctx, o, u),
        }
        ctx.leave();
    }
}

fn has_default(graph: &Graph, id: NodeId) -> bool {
    graph.node(id).default.is_some() || graph.node(graph.resolve(id)).default.is_some()
}

fn is_kind(graph: &Graph, id: Option<NodeId>, f: fn(&Kind) -> bool) -> bool {
    id.is_some_and(|n| f(&graph.node(graph.resolve(n)).kind))
}

/// Open: any property may appear with any value (no pattern properties, `additionalProperties`
/// absent or `true`, `unevaluatedProperties` absent or `true`).
fn is_open(graph: &Graph, s: &ObjectSchema) -> bool {
    s.pattern_properties.is_empty()
        && s.additional.permits
        && s.additional.schema.is_none()
        && (s.unevaluated.is_none() || is_kind(graph, s.unevaluated, |k| matches!(k, Kind::Empty)))
}

/// The schema an undeclared property `key` must match in a partially open model, if any.
fn partial_schema(graph: &Graph, s: &ObjectSchema, key: &str) -> Option<NodeId> {
    for (pattern, schema) in &s.pattern_properties {
        // A pattern Rust's engine cannot compile covers nothing here.
        if regex_lite::Regex::new(pattern).is_ok_and(|re| re.is_match(key)) {
            return Some(*schema);
        }
    }
    if s.additional.schema.is_some() {
        return s.additional.schema;
    }
    let unevaluated_schema = s.additional.permits
        && !is_kind(graph, s.unevaluated, |k| {
            matches!(k, Kind::False | Kind::Empty)
        });
    s.unevaluated.filter(|_| unevaluated_schema)
}
