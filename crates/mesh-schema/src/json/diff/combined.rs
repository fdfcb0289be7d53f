//! Rules for `allOf` / `anyOf` / `oneOf` against each other, after Confluent's
//! `CombinedSchemaDiff`: the criterion change, the change in the number of subschemas, and a
//! maximum matching of original subschemas to update subschemas they are compatible with.

use super::types::DiffType::*;
use super::{Ctx, Engine, Rel};
use crate::json::model::{Combined, Criterion};

impl Engine<'_> {
    pub(super) fn combined(&mut self, ctx: &mut Ctx, o: &Combined, u: &Combined) {
        if !criteria(ctx, o, u) {
            return;
        }
        let (osz, usz) = (o.subschemas.len(), u.subschemas.len());
        if osz < usz {
            let all = u.criterion == Criterion::AllOf;
            ctx.add(if all {
                PRODUCT_TYPE_EXTENDED
            } else {
                SUM_TYPE_EXTENDED
            });
        } else if osz > usz {
            let all = o.criterion == Criterion::AllOf;
            ctx.add(if all {
                PRODUCT_TYPE_NARROWED
            } else {
                SUM_TYPE_NARROWED
            });
        }
        // edges[i] = (j, differences) for each update subschema j that original i fits.
        let mut edges: Vec<Vec<(usize, Vec<Rel>)>> = Vec::with_capacity(osz);
        for (i, &os) in o.subschemas.iter().enumerate() {
            ctx.enter(&format!("{}/{i}", o.criterion.keyword()));
            let mut fits = Vec::new();
            for (j, &us) in u.subschemas.iter().enumerate() {
                let mut sub = ctx.sub();
                self.compare(&mut sub, Some(os), Some(us));
                if self.is_compatible(&sub) {
                    fits.push((j, sub.diffs));
                }
            }
            ctx.leave();
            edges.push(fits);
        }
        let matching = max_matching(&edges, usz);
        let mut matched = 0;
        for (i, j) in matching.iter().enumerate() {
            if let Some(j) = j {
                matched += 1;
                if let Some((_, diffs)) = edges[i].iter().find(|(k, _)| k == j) {
                    ctx.diffs.extend(diffs.iter().cloned());
                }
            }
        }
        if matched < osz.min(usz) {
            ctx.add(COMBINED_TYPE_SUBSCHEMAS_CHANGED);
        }
    }
}

/// Records a criterion change; false when it is incompatible (subschemas are then not compared).
fn criteria(ctx: &mut Ctx, o: &Combined, u: &Combined) -> bool {
    use Criterion::*;
    let single = |c: &Combined| c.subschemas.len() == 1;
    let extended = match (o.criterion, u.criterion) {
        (a, b) if a == b => return true,
        // Whatever matched some of the subschemas matches at least one of them.
        (_, AnyOf) => true,
        // Exactly one: only safe from a single subschema, or from allOf of which one is kept.
        (_, OneOf) => single(o) || (o.criterion == AllOf && single(u)),
        (_, AllOf) => single(o) && single(u),
    };
    ctx.add(if extended {
        COMBINED_TYPE_EXTENDED
    } else {
        COMBINED_TYPE_CHANGED
    });
    extended
}

/// A maximum bipartite matching (Kuhn's augmenting paths, in declaration order): for each
/// original subschema, the update subschema it is matched to.
fn max_matching(edges: &[Vec<(usize, Vec<Rel>)>], right: usize) -> Vec<Option<usize>> {
    fn augment(
        i: usize,
        edges: &[Vec<(usize, Vec<Rel>)>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for (j, _) in &edges[i] {
            if seen[*j] {
                continue;
            }
            seen[*j] = true;
            if owner[*j].is_none_or(|k| augment(k, edges, seen, owner)) {
                owner[*j] = Some(i);
                return true;
            }
        }
        false
    }
    let mut owner: Vec<Option<usize>> = vec![None; right];
    for i in 0..edges.len() {
        let mut seen = vec![false; right];
        augment(i, edges, &mut seen, &mut owner);
    }
    let mut matching = vec![None; edges.len()];
    for (j, i) in owner.iter().enumerate() {
        if let Some(i) = i {
            matching[*i] = Some(j);
        }
    }
    matching
}
