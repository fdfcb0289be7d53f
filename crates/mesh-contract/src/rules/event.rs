//! What rules read: an event as a JSON value (JSON Schema payloads, HTTP bodies) or as a decoded
//! Avro [`Datum`] (borrowed from the payload, so validating an Avro record builds no JSON tree).
//!
//! Both read the same way: a `Datum` behaves exactly like its JSON view ([`Datum::to_json`]), so a
//! rule gives the same verdict whichever form the gateway hands it.

use std::borrow::Cow;
use std::sync::Arc;

use std::collections::HashMap;

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use mesh_schema::avro::{Datum, latin1, non_finite_name};
use serde_json::Value;

/// An event, or a part of one, as rules see it.
#[derive(Clone, Copy, Debug)]
pub enum EventRef<'e> {
    Json(&'e Value),
    Avro(&'e Datum<'e>),
}

impl<'e> From<&'e Value> for EventRef<'e> {
    fn from(v: &'e Value) -> Self {
        EventRef::Json(v)
    }
}

impl<'e> From<&'e Datum<'e>> for EventRef<'e> {
    fn from(d: &'e Datum<'e>) -> Self {
        EventRef::Avro(d)
    }
}

/// A value reduced to what the native checks compare.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'e> {
    Null,
    Bool(bool),
    /// Any number (the checks compare numbers as `f64`, so `1` equals `1.0`).
    Num(f64),
    Str(Cow<'e, str>),
    /// A list, with its length.
    List(usize),
    /// A record, map or object.
    Object,
}

impl<'e> EventRef<'e> {
    /// The member `name` of an object, record or map.
    pub fn get(self, name: &str) -> Option<EventRef<'e>> {
        match self {
            EventRef::Json(v) => v.as_object()?.get(name).map(EventRef::Json),
            EventRef::Avro(d) => d.get(name).map(EventRef::Avro),
        }
    }

    /// Follows a dotted path (pre-split) through objects.
    pub fn lookup(self, path: &[String]) -> Option<EventRef<'e>> {
        path.iter().try_fold(self, |v, seg| v.get(seg))
    }

    pub fn scalar(self) -> Scalar<'e> {
        match self {
            EventRef::Json(v) => match v {
                Value::Null => Scalar::Null,
                Value::Bool(b) => Scalar::Bool(*b),
                Value::Number(n) => Scalar::Num(n.as_f64().unwrap_or(f64::NAN)),
                Value::String(s) => Scalar::Str(Cow::Borrowed(s)),
                Value::Array(a) => Scalar::List(a.len()),
                Value::Object(_) => Scalar::Object,
            },
            EventRef::Avro(d) => match d {
                Datum::Null => Scalar::Null,
                Datum::Boolean(b) => Scalar::Bool(*b),
                Datum::Int(i) => Scalar::Num(f64::from(*i)),
                Datum::Long(i) => Scalar::Num(*i as f64),
                Datum::Float(f) => float_scalar(f64::from(*f)),
                Datum::Double(f) => float_scalar(*f),
                Datum::Bytes(b) => Scalar::Str(Cow::Owned(latin1(b))),
                Datum::String(s) | Datum::Enum(s) => Scalar::Str(Cow::Borrowed(s)),
                Datum::Array(a) => Scalar::List(a.len()),
                Datum::Map(_) | Datum::Record(_) => Scalar::Object,
            },
        }
    }

    /// The JSON view (for comparisons with whole lists or objects, and messages).
    pub fn to_json(self) -> Value {
        match self {
            EventRef::Json(v) => v.clone(),
            EventRef::Avro(d) => d.to_json(),
        }
    }

    /// The value as cel's own representation, borrowing strings and names from the event:
    /// what a CEL variable holds. (Binding a [`cel::Value`] converts it to this again, copying
    /// every string; building it directly halves the cost of a CEL rule.)
    pub(crate) fn to_val(self) -> Box<dyn Val + 'e> {
        match self {
            EventRef::Json(v) => json_val(v),
            EventRef::Avro(d) => datum_val(d),
        }
    }

    /// A CEL map holding only the named members (each present one): what a CEL program that
    /// reads only `message.<name>` for these names can observe of the event.
    pub(crate) fn to_val_members(self, names: &[String]) -> Box<dyn Val + 'e> {
        let map: HashMap<CelMapKey<'e>, Box<dyn Val + 'e>> = names
            .iter()
            .filter_map(|name| {
                let (key, v) = match self {
                    EventRef::Json(o) => o
                        .as_object()?
                        .get_key_value(name.as_str())
                        .map(|(k, v)| (k.as_str(), EventRef::Json(v)))?,
                    EventRef::Avro(Datum::Record(r)) => r
                        .iter()
                        .find(|(k, _)| *k == name)
                        .map(|(k, v)| (k, EventRef::Avro(v)))?,
                    EventRef::Avro(Datum::Map(entries)) => entries
                        .iter()
                        .rev()
                        .find(|(k, _)| *k == name)
                        .map(|(k, v)| (*k, EventRef::Avro(v)))?,
                    EventRef::Avro(_) => return None,
                };
                Some((CelMapKey::from(key), v.to_val()))
            })
            .collect();
        Box::new(CelMap::from(map))
    }
}

fn str_val(s: &str) -> Box<dyn Val + '_> {
    Box::new(CelString::from(s))
}

fn float_val(f: f64) -> Box<dyn Val + 'static> {
    if f.is_finite() {
        Box::new(CelDouble::from(f))
    } else {
        str_val(non_finite_name(f))
    }
}

fn json_val(v: &Value) -> Box<dyn Val + '_> {
    match v {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => str_val(s),
        Value::Array(a) => Box::new(CelList::from(a.iter().map(json_val).collect::<Vec<_>>())),
        Value::Object(m) => Box::new(CelMap::from(
            m.iter()
                .map(|(k, v)| (CelMapKey::from(k.as_str()), json_val(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

fn datum_val<'e>(d: &'e Datum<'e>) -> Box<dyn Val + 'e> {
    match d {
        Datum::Null => Box::new(CelNull),
        Datum::Boolean(b) => Box::new(CelBool::from(*b)),
        Datum::Int(i) => Box::new(CelInt::from(i64::from(*i))),
        Datum::Long(i) => Box::new(CelInt::from(*i)),
        Datum::Float(f) => float_val(f64::from(*f)),
        Datum::Double(f) => float_val(*f),
        Datum::Bytes(b) => Box::new(CelString::from(latin1(b))),
        Datum::String(s) | Datum::Enum(s) => str_val(s),
        Datum::Array(a) => Box::new(CelList::from(a.iter().map(datum_val).collect::<Vec<_>>())),
        Datum::Map(entries) => Box::new(CelMap::from(
            entries
                .iter()
                .map(|(k, v)| (CelMapKey::from(*k), datum_val(v)))
                .collect::<HashMap<_, _>>(),
        )),
        Datum::Record(r) => Box::new(CelMap::from(
            r.iter()
                .map(|(k, v)| (CelMapKey::from(k), datum_val(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

/// Non-finite floats read as the strings Avro's JSON encoding gives them.
fn float_scalar(f: f64) -> Scalar<'static> {
    if f.is_finite() {
        Scalar::Num(f)
    } else {
        Scalar::Str(Cow::Borrowed(non_finite_name(f)))
    }
}

fn cel_string(s: &str) -> cel::Value {
    cel::Value::String(Arc::new(s.to_owned()))
}

fn cel_key(s: &str) -> cel::objects::Key {
    cel::objects::Key::String(Arc::new(s.to_owned()))
}

pub fn json_to_cel(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => cel_string(s),
        Value::Array(a) => cel::Value::List(Arc::new(a.iter().map(json_to_cel).collect())),
        Value::Object(m) => cel::Value::Map(cel::objects::Map {
            map: Arc::new(
                m.iter()
                    .map(|(k, v)| (cel_key(k), json_to_cel(v)))
                    .collect(),
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use mesh_schema::avro::AvroSchema;

    use super::*;

    /// A datum and its JSON view read the same through every accessor.
    #[test]
    fn a_datum_reads_like_its_json_view() {
        let schema = AvroSchema::parse(
            r#"{"type":"record","name":"R","fields":[
              {"name":"s","type":"string"},{"name":"i","type":"int"},{"name":"d","type":"double"},
              {"name":"f","type":"float"},{"name":"b","type":"bytes"},
              {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
              {"name":"u","type":["null","long"]},
              {"name":"m","type":{"type":"map","values":"int"}},
              {"name":"a","type":{"type":"array","items":"string"}}]}"#,
        )
        .expect("schema");
        let mut bytes = vec![2, b'x', 6];
        bytes.extend(f64::NAN.to_le_bytes());
        bytes.extend(1.5f32.to_le_bytes());
        bytes.extend([4, 0xe9, 0x41, 2, 2, 84]);
        // map {"k": 1, "k": 2} (the last value wins), then array ["p"]
        bytes.extend([4, 2, b'k', 2, 2, b'k', 4, 0, 2, 2, b'p', 0]);
        let datum = schema.decode_datum(&bytes).expect("decodes");
        let json = datum.to_json();
        let (a, j) = (EventRef::from(&datum), EventRef::from(&json));
        // cel's own values of a part, as cel hands them back.
        let val = |v: EventRef<'_>| cel::Value::try_from(v.to_val().as_ref()).expect("cel");
        for name in ["s", "i", "d", "f", "b", "e", "u", "m", "a", "missing"] {
            let (x, y) = (a.get(name), j.get(name));
            assert_eq!(x.map(|v| v.scalar()), y.map(|v| v.scalar()), "{name}");
            assert_eq!(x.map(|v| v.to_json()), y.map(|v| v.to_json()), "{name}");
            assert_eq!(x.map(val), y.map(val), "{name}");
            // The same value the JSON → CEL conversion (policies) gives.
            assert_eq!(x.map(val), y.map(|v| json_to_cel(&v.to_json())), "{name}");
        }
        let path = ["m".to_owned(), "k".to_owned()];
        assert_eq!(a.lookup(&path).map(|v| v.scalar()), Some(Scalar::Num(2.0)));
        assert_eq!(
            a.get("d").map(|v| v.scalar()),
            Some(Scalar::Str("NaN".into()))
        );
        assert_eq!(val(a), val(j));
    }
}
