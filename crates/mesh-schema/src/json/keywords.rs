//! The typed schemas a schema object yields (string, number, object, array, null, boolean), by
//! explicit `type` or, without it, by the keyword families present; per-draft keyword spellings
//! (`items`/`prefixItems`, `dependencies`/`dependentRequired`/`dependentSchemas`, ...) land here.

use serde_json::{Map, Value};

use super::model::{
    Additional, ArraySchema, Draft, Kind, NodeId, NumberSchema, ObjectSchema, StringSchema,
};
use super::parse::{Loader, parse_error};
use super::refs::escape;
use crate::SchemaError;

impl Loader {
    pub(super) fn typed(
        &mut self,
        doc: usize,
        ptr: &str,
        map: &Map<String, Value>,
        ty: &str,
        draft: Draft,
    ) -> Result<Kind, SchemaError> {
        Ok(match ty {
            "string" => Kind::String(StringSchema {
                min_length: count(map, "minLength"),
                max_length: count(map, "maxLength"),
                pattern: string(map, "pattern"),
            }),
            "number" | "integer" => Kind::Number(NumberSchema {
                integer: ty == "integer",
                minimum: number(map, "minimum"),
                maximum: number(map, "maximum"),
                exclusive_minimum: number(map, "exclusiveMinimum"),
                exclusive_maximum: number(map, "exclusiveMaximum"),
                multiple_of: number(map, "multipleOf"),
            }),
            "object" => Kind::Object(Box::new(self.object(doc, ptr, map, draft)?)),
            "array" => Kind::Array(Box::new(self.array(doc, ptr, map, draft)?)),
            "null" => Kind::Null,
            "boolean" => Kind::Boolean,
            other => {
                return Err(parse_error(format!(
                    "unknown type {other:?} at '#{ptr}'; expected one of string, number, integer, \
                     object, array, boolean, null"
                )));
            }
        })
    }

    fn child(&mut self, doc: usize, ptr: &str, kw: &str, v: &Value) -> Result<NodeId, SchemaError> {
        self.load(doc, &format!("{ptr}/{kw}"), v)
    }

    fn children(
        &mut self,
        doc: usize,
        ptr: &str,
        kw: &str,
        v: Option<&Value>,
    ) -> Result<Vec<(String, NodeId)>, SchemaError> {
        let Some(v) = v else { return Ok(Vec::new()) };
        let map = v
            .as_object()
            .ok_or_else(|| parse_error(format!("'{kw}' at '#{ptr}' must be an object")))?;
        map.iter()
            .map(|(k, sub)| {
                Ok((
                    k.clone(),
                    self.child(doc, ptr, &format!("{kw}/{}", escape(k)), sub)?,
                ))
            })
            .collect()
    }

    fn additional(
        &mut self,
        doc: usize,
        ptr: &str,
        kw: &str,
        v: Option<&Value>,
    ) -> Result<Additional, SchemaError> {
        Ok(match v {
            None | Some(Value::Bool(true)) => Additional::default(),
            Some(Value::Bool(false)) => Additional {
                permits: false,
                schema: None,
            },
            Some(v) => Additional {
                permits: true,
                schema: Some(self.child(doc, ptr, kw, v)?),
            },
        })
    }

    fn object(
        &mut self,
        doc: usize,
        ptr: &str,
        map: &Map<String, Value>,
        draft: Draft,
    ) -> Result<ObjectSchema, SchemaError> {
        let mut o = ObjectSchema {
            properties: self.children(doc, ptr, "properties", map.get("properties"))?,
            pattern_properties: self.children(
                doc,
                ptr,
                "patternProperties",
                map.get("patternProperties"),
            )?,
            additional: self.additional(
                doc,
                ptr,
                "additionalProperties",
                map.get("additionalProperties"),
            )?,
            required: strings(map.get("required")),
            min_properties: count(map, "minProperties"),
            max_properties: count(map, "maxProperties"),
            ..ObjectSchema::default()
        };
        if let Some(u) = map
            .get("unevaluatedProperties")
            .filter(|_| draft.is_modern())
        {
            o.unevaluated = Some(self.child(doc, ptr, "unevaluatedProperties", u)?);
        }
        let mut deps: Vec<(&str, &Value)> = Vec::new();
        for kw in ["dependencies", "dependentRequired", "dependentSchemas"] {
            if let Some(Value::Object(m)) = map.get(kw) {
                deps.extend(m.iter().map(|(k, v)| (k.as_str(), v)));
            }
        }
        for (key, v) in deps {
            if v.is_array() {
                o.property_dependencies
                    .push((key.to_owned(), strings(Some(v))));
            } else {
                let sub = self.child(doc, ptr, &format!("dependencies/{}", escape(key)), v)?;
                o.schema_dependencies.push((key.to_owned(), sub));
            }
        }
        Ok(o)
    }

    fn array(
        &mut self,
        doc: usize,
        ptr: &str,
        map: &Map<String, Value>,
        draft: Draft,
    ) -> Result<ArraySchema, SchemaError> {
        let mut a = ArraySchema {
            min_items: count(map, "minItems"),
            max_items: count(map, "maxItems"),
            unique_items: map.get("uniqueItems") == Some(&Value::Bool(true)),
            min_contains: count(map, "minContains"),
            max_contains: count(map, "maxContains"),
            ..ArraySchema::default()
        };
        let tuple =
            |this: &mut Self, kw: &str, items: &Vec<Value>| -> Result<Vec<NodeId>, SchemaError> {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| this.child(doc, ptr, &format!("{kw}/{i}"), v))
                    .collect()
            };
        if draft == Draft::Draft2020_12 {
            let prefix = map.get("prefixItems").and_then(Value::as_array);
            if let Some(items) = prefix {
                a.item_schemas = tuple(self, "prefixItems", items)?;
            }
            match map.get("items") {
                Some(v) if prefix.is_some() || v.is_boolean() => {
                    a.additional = self.additional(doc, ptr, "items", Some(v))?;
                }
                Some(v) => a.all_items = Some(self.child(doc, ptr, "items", v)?),
                None => {}
            }
        } else {
            match map.get("items") {
                Some(Value::Array(items)) => a.item_schemas = tuple(self, "items", items)?,
                Some(v) => a.all_items = Some(self.child(doc, ptr, "items", v)?),
                None => {}
            }
            a.additional =
                self.additional(doc, ptr, "additionalItems", map.get("additionalItems"))?;
        }
        if draft.is_modern() {
            if let Some(u) = map.get("unevaluatedItems") {
                a.unevaluated = Some(self.child(doc, ptr, "unevaluatedItems", u)?);
            }
            // Confluent's 2019-09/2020-12 loader gives `contains` its default `minContains: 1`.
            if map.contains_key("contains") && a.min_contains.is_none() {
                a.min_contains = Some(1);
            }
        }
        Ok(a)
    }
}

/// Whether `map` holds a keyword of the `family` type, for schemas without `type`.
pub(super) fn has_family(map: &Map<String, Value>, family: &str, draft: Draft) -> bool {
    let modern = draft.is_modern();
    let keywords: &[&str] = match family {
        "array" if modern => &[
            "items",
            "additionalItems",
            "maxItems",
            "minItems",
            "uniqueItems",
            "contains",
            "prefixItems",
            "unevaluatedItems",
            "minContains",
            "maxContains",
        ],
        "array" => &[
            "items",
            "additionalItems",
            "maxItems",
            "minItems",
            "uniqueItems",
            "contains",
        ],
        "object" if modern => &[
            "required",
            "minProperties",
            "maxProperties",
            "dependencies",
            "patternProperties",
            "additionalProperties",
            "propertyNames",
            "dependentRequired",
            "dependentSchemas",
            "unevaluatedProperties",
        ],
        "object" => &[
            "properties",
            "required",
            "minProperties",
            "maxProperties",
            "dependencies",
            "patternProperties",
            "additionalProperties",
            "propertyNames",
        ],
        "number" => &[
            "minimum",
            "maximum",
            "multipleOf",
            "exclusiveMinimum",
            "exclusiveMaximum",
        ],
        _ => &["minLength", "maxLength", "pattern", "format"],
    };
    let present = keywords.iter().any(|k| map.contains_key(*k));
    // Confluent's 2019-09/2020-12 loader ignores an empty `properties`.
    let nonempty_properties =
        matches!(map.get("properties"), Some(Value::Object(p)) if !p.is_empty());
    present || (family == "object" && modern && nonempty_properties)
}

pub(super) fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(map: &Map<String, Value>, key: &str) -> Option<f64> {
    map.get(key).and_then(Value::as_f64)
}

fn count(map: &Map<String, Value>, key: &str) -> Option<u64> {
    let v = map.get(key)?;
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}
