//! The fields of a physical schema (Avro through `mesh-schema`, JSON Schema as JSON), flattened
//! to dotted paths, so rules and logical properties can be checked against what really exists.

use mesh_schema::avro::{AvroSchema, Kind, NodeId};

/// One field of the physical schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhysicalField {
    pub path: String,
    /// `string`, `long`, `record`, ...; a nullable union is `T?`.
    pub type_name: String,
    /// Non-nullable in the schema (Avro: not a union with null; JSON: listed in `required`).
    pub required: bool,
    pub doc: Option<String>,
}

/// Parses `text` as `schema_type` (`AVRO` or `JSON`) and lists its fields.
pub fn physical_fields(schema_type: &str, text: &str) -> Result<Vec<PhysicalField>, String> {
    let mut out = Vec::new();
    if schema_type == "AVRO" {
        let schema = AvroSchema::parse(text).map_err(|e| e.to_string())?;
        avro_fields(&schema, schema.root(), "", &mut out, 0);
    } else {
        // Validate with mesh-schema first so the registry will accept it too.
        mesh_schema::json::JsonSchema::parse(text).map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        json_fields(&v, "", &mut out, 0);
    }
    Ok(out)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn avro_fields(s: &AvroSchema, id: NodeId, prefix: &str, out: &mut Vec<PhysicalField>, depth: u8) {
    if depth > 8 {
        return; // recursive types: document the first levels only
    }
    let Kind::Record { fields, .. } = &s.node(id).kind else {
        return;
    };
    for f in fields {
        let path = join(prefix, &f.name);
        let (inner, nullable) = unwrap_nullable(s, f.schema);
        let node = s.node(inner);
        let mut type_name = node
            .logical_type
            .clone()
            .unwrap_or_else(|| node.kind.json_name().to_owned());
        if let Some(named) = node.kind.named()
            && !matches!(node.kind, Kind::Record { .. })
        {
            type_name = format!("{} {}", node.kind.json_name(), named.name.fullname());
        }
        if nullable {
            type_name.push('?');
        }
        out.push(PhysicalField {
            path: path.clone(),
            type_name,
            required: !nullable,
            doc: f.doc.clone(),
        });
        avro_fields(s, inner, &path, out, depth + 1);
    }
}

/// `["null", T]` → (T, true).
fn unwrap_nullable(s: &AvroSchema, id: NodeId) -> (NodeId, bool) {
    if let Kind::Union(branches) = &s.node(id).kind {
        let non_null: Vec<NodeId> = branches
            .iter()
            .copied()
            .filter(|b| !matches!(s.node(*b).kind, Kind::Null))
            .collect();
        if non_null.len() == 1 && branches.len() == 2 {
            return (non_null[0], true);
        }
    }
    (id, false)
}

fn json_fields(v: &serde_json::Value, prefix: &str, out: &mut Vec<PhysicalField>, depth: u8) {
    if depth > 8 {
        return;
    }
    let Some(props) = v.get("properties").and_then(|p| p.as_object()) else {
        return;
    };
    let required: Vec<&str> = v
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    for (name, sub) in props {
        let path = join(prefix, name);
        let type_name = match sub.get("type") {
            Some(serde_json::Value::String(t)) => t.clone(),
            Some(serde_json::Value::Array(ts)) => {
                let non_null: Vec<&str> = ts
                    .iter()
                    .filter_map(|t| t.as_str())
                    .filter(|t| *t != "null")
                    .collect();
                let mut t = non_null.join("|");
                if non_null.len() < ts.len() {
                    t.push('?');
                }
                t
            }
            _ => "any".to_owned(),
        };
        out.push(PhysicalField {
            path: path.clone(),
            type_name,
            required: required.contains(&name.as_str()),
            doc: sub
                .get("description")
                .and_then(|d| d.as_str())
                .map(str::to_owned),
        });
        json_fields(sub, &path, out, depth + 1);
    }
}
