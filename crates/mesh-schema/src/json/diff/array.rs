//! Rules for array schemas, after Confluent's `ArraySchemaDiff`: the one-schema-for-all `items`,
//! tuple items added or removed under an open, partially open or closed content model
//! (`additionalItems` / 2020-12 `items`, `unevaluatedItems`), and the item-count bounds.

use super::types::DiffType::*;
use super::{Ctx, Engine};
use crate::json::model::{ArraySchema, Graph, Kind, NodeId};

impl Engine<'_> {
    pub(super) fn array(&mut self, ctx: &mut Ctx, o: &ArraySchema, u: &ArraySchema) {
        ctx.enter("items");
        self.compare(ctx, o.all_items, u.all_items);
        ctx.leave();
        self.tuple(ctx, o, u);
        self.additional_items(ctx, o, u);
        self.unevaluated(
            ctx,
            "unevaluatedItems",
            o.unevaluated,
            u.unevaluated,
            [
                UNEVALUATED_ITEMS_ADDED,
                UNEVALUATED_ITEMS_REMOVED,
                UNEVALUATED_ITEMS_EXTENDED,
                UNEVALUATED_ITEMS_NARROWED,
            ],
        );
        use super::scalar::bound;
        bound(
            ctx,
            "maxItems",
            o.max_items,
            u.max_items,
            [
                MAX_ITEMS_ADDED,
                MAX_ITEMS_REMOVED,
                MAX_ITEMS_INCREASED,
                MAX_ITEMS_DECREASED,
            ],
        );
        bound(
            ctx,
            "minItems",
            o.min_items,
            u.min_items,
            [
                MIN_ITEMS_ADDED,
                MIN_ITEMS_REMOVED,
                MIN_ITEMS_INCREASED,
                MIN_ITEMS_DECREASED,
            ],
        );
        if o.unique_items != u.unique_items {
            ctx.add_at(
                "uniqueItems",
                if o.unique_items {
                    UNIQUE_ITEMS_REMOVED
                } else {
                    UNIQUE_ITEMS_ADDED
                },
            );
        }
        bound(
            ctx,
            "maxContains",
            o.max_contains,
            u.max_contains,
            [
                MAX_CONTAINS_ADDED,
                MAX_CONTAINS_REMOVED,
                MAX_CONTAINS_INCREASED,
                MAX_CONTAINS_DECREASED,
            ],
        );
        bound(
            ctx,
            "minContains",
            o.min_contains,
            u.min_contains,
            [
                MIN_CONTAINS_ADDED,
                MIN_CONTAINS_REMOVED,
                MIN_CONTAINS_INCREASED,
                MIN_CONTAINS_DECREASED,
            ],
        );
    }

    /// Tuple items: pairwise, then those only the original has, then those only the update has.
    fn tuple(&mut self, ctx: &mut Ctx, o: &ArraySchema, u: &ArraySchema) {
        let (os, us) = (&o.item_schemas, &u.item_schemas);
        for i in 0..os.len().max(us.len()) {
            ctx.enter(&format!("items/{i}"));
            match (os.get(i), us.get(i)) {
                (Some(&a), Some(&b)) => self.compare(ctx, Some(a), Some(b)),
                (Some(&a), None) => self.item_removed(ctx, a, u),
                (None, Some(&b)) => self.item_added(ctx, b, o),
                (None, None) => {}
            }
            ctx.leave();
        }
    }

    fn item_removed(&mut self, ctx: &mut Ctx, item: NodeId, u: &ArraySchema) {
        if is_open(self.u, u) {
            return ctx.add(ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL);
        }
        if let Some(partial) = partial_schema(self.u, u) {
            let mut sub = ctx.sub();
            self.compare(&mut sub, Some(item), Some(partial));
            let covered = self.is_compatible(&sub);
            ctx.extend(sub);
            ctx.add(if covered {
                ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            } else {
                ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            });
        } else if self.is_false(self.o, item) {
            ctx.add(ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL);
        } else {
            ctx.add(ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL);
        }
    }

    fn item_added(&mut self, ctx: &mut Ctx, item: NodeId, o: &ArraySchema) {
        if is_open(self.o, o) {
            let empty = self.is_empty(self.u, item);
            return ctx.add(if empty {
                ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
            } else {
                ITEM_ADDED_TO_OPEN_CONTENT_MODEL
            });
        }
        if let Some(partial) = partial_schema(self.o, o) {
            let mut sub = ctx.sub();
            self.compare(&mut sub, Some(partial), Some(item));
            let covered = self.is_compatible(&sub);
            ctx.extend(sub);
            ctx.add(if covered {
                ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            } else {
                ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            });
        } else {
            ctx.add(ITEM_ADDED_TO_CLOSED_CONTENT_MODEL);
        }
    }

    fn additional_items(&mut self, ctx: &mut Ctx, o: &ArraySchema, u: &ArraySchema) {
        ctx.enter("additionalItems");
        let (a, b) = (o.additional, u.additional);
        if a.permits != b.permits {
            ctx.add(if a.permits {
                ADDITIONAL_ITEMS_REMOVED
            } else {
                ADDITIONAL_ITEMS_ADDED
            });
        } else if a.schema.is_none() && b.schema.is_some() {
            ctx.add(ADDITIONAL_ITEMS_NARROWED);
        } else if a.schema.is_some() && b.schema.is_none() {
            ctx.add(ADDITIONAL_ITEMS_EXTENDED);
        } else {
            self.compare(ctx, a.schema, b.schema);
        }
        ctx.leave();
    }
}

fn unevaluated_is(graph: &Graph, s: &ArraySchema, f: fn(&Kind) -> bool) -> bool {
    s.unevaluated
        .is_some_and(|n| f(&graph.node(graph.resolve(n)).kind))
}

/// Open: any further item may have any value (`additionalItems` absent or `true` and
/// `unevaluatedItems` absent or `true`).
fn is_open(graph: &Graph, s: &ArraySchema) -> bool {
    s.additional.permits
        && s.additional.schema.is_none()
        && (s.unevaluated.is_none() || unevaluated_is(graph, s, |k| matches!(k, Kind::Empty)))
}

/// The schema further items must match in a partially open model, if any.
fn partial_schema(graph: &Graph, s: &ArraySchema) -> Option<NodeId> {
    if s.additional.schema.is_some() {
        return s.additional.schema;
    }
    let unevaluated_schema = s.additional.permits
        && !unevaluated_is(graph, s, |k| matches!(k, Kind::False | Kind::Empty));
    s.unevaluated.filter(|_| unevaluated_schema)
}
