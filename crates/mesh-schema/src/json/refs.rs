//! The documents one schema is parsed from (the schema itself and the Confluent schema references
//! the caller supplies) and how a `$ref` string finds its target in them: by reference name, by
//! `$id`, by `$anchor`, and by JSON pointer fragment.

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use super::model::Draft;

/// One JSON document: the root schema (name "") or a referenced one (its reference name).
#[derive(Debug)]
pub(crate) struct Doc {
    pub name: String,
    pub value: Rc<Value>,
    pub draft: Draft,
}

/// Where a `$ref` points: a document and a JSON pointer into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub doc: usize,
    pub pointer: String,
}

/// Every document, with the `$id`s and `$anchor`s found anywhere in them.
#[derive(Debug, Default)]
pub(crate) struct Docs {
    pub docs: Vec<Doc>,
    /// `$id` (or draft-4 `id`) value -> where it is declared.
    ids: HashMap<String, Target>,
    /// (document, anchor name) -> where it is declared.
    anchors: HashMap<(usize, String), String>,
}

impl Docs {
    pub fn add(&mut self, name: String, value: Value, draft: Draft) -> usize {
        let doc = self.docs.len();
        scan(
            &value,
            doc,
            draft,
            String::new(),
            &mut self.ids,
            &mut self.anchors,
        );
        self.docs.push(Doc {
            name,
            value: Rc::new(value),
            draft,
        });
        doc
    }

    /// Finds what `reference` (a `$ref` value written in document `from`) points at.
    pub fn locate(&self, from: usize, reference: &str) -> Option<Target> {
        let (uri, fragment) = match reference.split_once('#') {
            Some((u, f)) => (u, f),
            None => (reference, ""),
        };
        let base = if uri.is_empty() {
            Target {
                doc: from,
                pointer: String::new(),
            }
        } else {
            self.find_resource(uri)?
        };
        if fragment.is_empty() {
            return Some(base);
        }
        if fragment.starts_with('/') {
            let pointer = format!("{}{}", base.pointer, percent_decode(fragment));
            self.docs[base.doc].value.pointer(&pointer)?;
            return Some(Target {
                doc: base.doc,
                pointer,
            });
        }
        let pointer = self.anchors.get(&(base.doc, fragment.to_owned()))?;
        Some(Target {
            doc: base.doc,
            pointer: pointer.clone(),
        })
    }

    /// A resource by exact `$id`, exact reference name, or (as relative URIs resolve against a
    /// base we may not know) by the last path segment of either.
    fn find_resource(&self, uri: &str) -> Option<Target> {
        if let Some(t) = self.ids.get(uri) {
            return Some(t.clone());
        }
        if let Some(doc) = self
            .docs
            .iter()
            .position(|d| !d.name.is_empty() && d.name == uri)
        {
            return Some(Target {
                doc,
                pointer: String::new(),
            });
        }
        let last = last_segment(uri);
        let mut ids: Vec<_> = self.ids.iter().collect();
        ids.sort_by(|a, b| a.0.cmp(b.0));
        if let Some((_, t)) = ids.into_iter().find(|(id, _)| last_segment(id) == last) {
            return Some(t.clone());
        }
        self.docs
            .iter()
            .position(|d| !d.name.is_empty() && last_segment(&d.name) == last)
            .map(|doc| Target {
                doc,
                pointer: String::new(),
            })
    }
}

fn last_segment(uri: &str) -> &str {
    let uri = uri.trim_end_matches('#');
    uri.rsplit('/').next().unwrap_or(uri)
}

/// Escapes one key for a JSON pointer (`~` -> `~0`, `/` -> `~1`).
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16));
        if let (b'%', Some(Ok(b))) = (bytes[i], hex) {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn scan(
    value: &Value,
    doc: usize,
    draft: Draft,
    pointer: String,
    ids: &mut HashMap<String, Target>,
    anchors: &mut HashMap<(usize, String), String>,
) {
    match value {
        Value::Object(map) => {
            let id_key = if draft == Draft::Draft4 { "id" } else { "$id" };
            if let Some(Value::String(id)) = map.get(id_key) {
                if let Some(anchor) = id.strip_prefix('#') {
                    anchors.insert((doc, anchor.to_owned()), pointer.clone());
                } else {
                    let id = id.trim_end_matches('#').to_owned();
                    ids.entry(id).or_insert(Target {
                        doc,
                        pointer: pointer.clone(),
                    });
                }
            }
            if let Some(Value::String(anchor)) = map.get("$anchor") {
                anchors.insert((doc, anchor.clone()), pointer.clone());
            }
            for (k, v) in map {
                // Literal values are data, not schemas: do not look for ids in them.
                if matches!(k.as_str(), "enum" | "const" | "default" | "examples") {
                    continue;
                }
                scan(
                    v,
                    doc,
                    draft,
                    format!("{pointer}/{}", escape(k)),
                    ids,
                    anchors,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                scan(v, doc, draft, format!("{pointer}/{i}"), ids, anchors);
            }
        }
        _ => {}
    }
}
