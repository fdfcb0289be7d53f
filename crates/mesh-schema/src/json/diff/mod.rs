//! The schema difference walk, after Confluent's `SchemaDiff`: the entry point, the context that
//! tracks the JSON path and collects differences, and the rules that apply to every schema
//! (references, a plain schema against a combined one, a change of kind, annotations). The rules of
//! each schema family live in the submodules.

mod array;
mod combined;
mod object;
mod scalar;
pub mod types;

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::model::{Criterion, Graph, Kind, NodeId};
use types::{CompatibilityPolicy, DiffType};

/// One difference: its type and Confluent's JSON path to it (`#/properties/foo`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Difference {
    pub kind: DiffType,
    pub path: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.path)
    }
}

/// A difference with its path relative to the pair of schemas being compared.
#[derive(Clone, Debug)]
struct Rel {
    kind: DiffType,
    segments: Vec<String>,
}

/// The differences found so far in one branch of the walk, and where the walk is.
#[derive(Debug, Default)]
pub(super) struct Ctx {
    path: Vec<String>,
    diffs: Vec<Rel>,
}

impl Ctx {
    /// A fresh branch at the same path (Confluent's `getSubcontext`).
    fn sub(&self) -> Ctx {
        Ctx {
            path: self.path.clone(),
            diffs: Vec::new(),
        }
    }

    fn add(&mut self, kind: DiffType) {
        self.diffs.push(Rel {
            kind,
            segments: self.path.clone(),
        });
    }

    fn add_at(&mut self, attribute: &str, kind: DiffType) {
        self.enter(attribute);
        self.add(kind);
        self.leave();
    }

    fn enter(&mut self, segment: &str) {
        self.path.push(segment.to_owned());
    }

    fn leave(&mut self) {
        self.path.pop();
    }

    fn extend(&mut self, other: Ctx) {
        self.diffs.extend(other.diffs);
    }
}

/// Compares two schema graphs; holds what is shared by every branch of one comparison.
pub(super) struct Engine<'a> {
    o: &'a Graph,
    u: &'a Graph,
    policy: CompatibilityPolicy,
    /// Results per (original, update) pair, with paths relative to the pair.
    memo: HashMap<(NodeId, NodeId), Rc<Vec<Rel>>>,
    /// Pairs on the call stack: meeting one again is a cycle, taken as compatible.
    in_progress: HashSet<(NodeId, NodeId)>,
}

/// Every difference between `original` (in graph `o`) and `update` (in graph `u`).
pub(super) fn compare(
    o: &Graph,
    original: NodeId,
    u: &Graph,
    update: NodeId,
    policy: CompatibilityPolicy,
) -> Vec<Difference> {
    let mut engine = Engine {
        o,
        u,
        policy,
        memo: HashMap::new(),
        in_progress: HashSet::new(),
    };
    let mut ctx = Ctx::default();
    engine.compare(&mut ctx, Some(original), Some(update));
    ctx.diffs
        .into_iter()
        .map(|d| Difference {
            kind: d.kind,
            path: format!("#/{}", d.segments.join("/")),
        })
        .collect()
}

impl<'a> Engine<'a> {
    fn is_compatible(&self, ctx: &Ctx) -> bool {
        ctx.diffs.iter().all(|d| self.policy.accepts(d.kind))
    }

    /// Confluent's `SchemaDiff.compare`: absent schemas, then the pair after following `$ref`s,
    /// memoized and cycle-safe.
    fn compare(&mut self, ctx: &mut Ctx, original: Option<NodeId>, update: Option<NodeId>) {
        let (o, u) = match (original, update) {
            (None, None) => return,
            (None, Some(_)) => return ctx.add(DiffType::SCHEMA_ADDED),
            (Some(_), None) => return ctx.add(DiffType::SCHEMA_REMOVED),
            (Some(o), Some(u)) => (self.o.resolve(o), self.u.resolve(u)),
        };
        let key = (o, u);
        let rel = if let Some(done) = self.memo.get(&key) {
            done.clone()
        } else if !self.in_progress.insert(key) {
            return;
        } else {
            let mut sub = Ctx::default();
            self.compare_resolved(&mut sub, o, u);
            self.in_progress.remove(&key);
            let done = Rc::new(sub.diffs);
            self.memo.insert(key, done.clone());
            done
        };
        for d in rel.iter() {
            let mut segments = ctx.path.clone();
            segments.extend(d.segments.iter().cloned());
            ctx.diffs.push(Rel {
                kind: d.kind,
                segments,
            });
        }
    }

    fn compare_resolved(&mut self, ctx: &mut Ctx, o: NodeId, u: NodeId) {
        let (og, ug): (&'a Graph, &'a Graph) = (self.o, self.u);
        let (on, un) = (og.node(o), ug.node(u));
        match (&on.kind, &un.kind) {
            (k, Kind::Combined(c)) if !matches!(k, Kind::Combined(_)) => {
                let subs = &c.subschemas;
                if subs.len() == 1 {
                    let mut sub = ctx.sub();
                    self.compare(&mut sub, Some(o), Some(subs[0]));
                    if self.is_compatible(&sub) {
                        return ctx.extend(sub);
                    }
                } else if c.criterion != Criterion::AllOf {
                    for &s in subs {
                        let mut sub = ctx.sub();
                        self.compare(&mut sub, Some(o), Some(s));
                        if self.is_compatible(&sub) {
                            ctx.extend(sub);
                            return ctx.add(DiffType::SUM_TYPE_EXTENDED);
                        }
                    }
                }
            }
            (Kind::Combined(c), k) if !matches!(k, Kind::Combined(_)) => {
                let subs = &c.subschemas;
                if subs.len() == 1 {
                    let mut sub = ctx.sub();
                    self.compare(&mut sub, Some(subs[0]), Some(u));
                    if self.is_compatible(&sub) {
                        return ctx.extend(sub);
                    }
                } else if c.criterion == Criterion::AllOf {
                    for &s in subs {
                        let mut sub = ctx.sub();
                        self.compare(&mut sub, Some(s), Some(u));
                        if self.is_compatible(&sub) {
                            ctx.extend(sub);
                            return ctx.add(DiffType::PRODUCT_TYPE_NARROWED);
                        }
                    }
                }
            }
            _ => {}
        }
        if on.kind.class() != un.kind.class() {
            // Anything may become the empty schema, and `false` may become anything.
            if !matches!(on.kind, Kind::False) && !matches!(un.kind, Kind::Empty) {
                ctx.add(DiffType::TYPE_CHANGED);
            }
            return;
        }
        if on.id != un.id {
            ctx.add(DiffType::ID_CHANGED);
        }
        if on.title != un.title {
            ctx.add(DiffType::TITLE_CHANGED);
        }
        if on.description != un.description {
            ctx.add(DiffType::DESCRIPTION_CHANGED);
        }
        if on.default != un.default {
            ctx.add(DiffType::DEFAULT_CHANGED);
        }
        match (&on.kind, &un.kind) {
            (Kind::String(a), Kind::String(b)) => scalar::strings(ctx, a, b),
            (Kind::Number(a), Kind::Number(b)) => scalar::numbers(ctx, a, b),
            (Kind::Enum(a), Kind::Enum(b)) => scalar::enums(ctx, a, b),
            (Kind::Const(a), Kind::Const(b)) if a != b => {
                ctx.add_at("const", DiffType::ENUM_ARRAY_CHANGED);
            }
            (Kind::Not(a), Kind::Not(b)) => self.not(ctx, *a, *b),
            (Kind::Combined(a), Kind::Combined(b)) => self.combined(ctx, a, b),
            (Kind::Object(a), Kind::Object(b)) => self.object(ctx, a, b),
            (Kind::Array(a), Kind::Array(b)) => self.array(ctx, a, b),
            _ => {}
        }
    }

    /// `not`: the update's negated schema is compared against the original's, reversed.
    fn not(&mut self, ctx: &mut Ctx, o: NodeId, u: NodeId) {
        ctx.enter("not");
        let mut sub = ctx.sub();
        self.compare_reversed(&mut sub, u, o);
        if self.is_compatible(&sub) {
            ctx.add(DiffType::NOT_TYPE_NARROWED);
        } else {
            ctx.add(DiffType::NOT_TYPE_EXTENDED);
        }
        ctx.leave();
    }

    /// Compares with the graphs' roles swapped (`original` lives in the update's graph).
    fn compare_reversed(&mut self, ctx: &mut Ctx, original: NodeId, update: NodeId) {
        let mut engine = Engine {
            o: self.u,
            u: self.o,
            policy: self.policy,
            memo: HashMap::new(),
            in_progress: HashSet::new(),
        };
        engine.compare(ctx, Some(original), Some(update));
    }

    fn is_empty(&self, graph: &Graph, id: NodeId) -> bool {
        matches!(graph.node(graph.resolve(id)).kind, Kind::Empty)
    }

    fn is_false(&self, graph: &Graph, id: NodeId) -> bool {
        matches!(graph.node(graph.resolve(id)).kind, Kind::False)
    }
}
