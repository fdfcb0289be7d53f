//! A decoded Avro datum that borrows from the input bytes and the schema.
//!
//! The gateway decodes every record it validates; building an owned JSON tree per record (a
//! `String` per field name and per string value, a `BTreeMap` insert per field) cost more than
//! the decoding itself. A [`Datum`] allocates one `Vec` per record, array and map and nothing
//! else: strings point into the payload, field names and enum symbols into the schema. Rules read
//! it directly; [`Datum::to_json`] gives the JSON view (Avro's JSON encoding conventions) when a
//! whole tree is wanted.

use serde_json::{Map, Number, Value};

use super::Field;

/// One decoded value. Unions are resolved: a union datum is the chosen branch's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Datum<'a> {
    Null,
    Boolean(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    /// `bytes` and `fixed`.
    Bytes(&'a [u8]),
    String(&'a str),
    /// The enum's symbol.
    Enum(&'a str),
    Array(Vec<Datum<'a>>),
    /// Entries in encoding order; a key written twice keeps its last value (as a JSON object
    /// built from the same entries would).
    Map(Vec<(&'a str, Datum<'a>)>),
    Record(Record<'a>),
}

/// A record's values, in the schema's field order.
#[derive(Clone, Debug, PartialEq)]
pub struct Record<'a> {
    pub(crate) fields: &'a [Field],
    pub(crate) values: Vec<Datum<'a>>,
}

impl<'a> Record<'a> {
    /// The value of the field called `name`.
    pub fn get(&self, name: &str) -> Option<&Datum<'a>> {
        let i = self.fields.iter().position(|f| f.name == name)?;
        self.values.get(i)
    }

    /// `(field name, value)` in schema order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &Datum<'a>)> {
        self.fields
            .iter()
            .map(|f| f.name.as_str())
            .zip(self.values.iter())
    }
}

impl<'a> Datum<'a> {
    /// The member `name` of a record or map (`None` for other kinds or a missing member).
    pub fn get(&self, name: &str) -> Option<&Datum<'a>> {
        match self {
            Datum::Record(r) => r.get(name),
            Datum::Map(entries) => entries.iter().rev().find(|(k, _)| *k == name).map(|e| &e.1),
            _ => None,
        }
    }

    /// The JSON view: records and maps → objects, enums → their symbol, bytes/fixed → a string
    /// of ISO-8859-1 characters (Avro's JSON encoding), NaN/±Infinity → the strings `"NaN"`,
    /// `"Infinity"`, `"-Infinity"`.
    pub fn to_json(&self) -> Value {
        match self {
            Datum::Null => Value::Null,
            Datum::Boolean(b) => Value::Bool(*b),
            Datum::Int(i) => Value::from(*i),
            Datum::Long(i) => Value::from(*i),
            Datum::Float(f) => float(f64::from(*f)),
            Datum::Double(f) => float(*f),
            Datum::Bytes(b) => Value::String(latin1(b)),
            Datum::String(s) | Datum::Enum(s) => Value::String((*s).to_owned()),
            Datum::Array(items) => Value::Array(items.iter().map(Datum::to_json).collect()),
            Datum::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
            Datum::Record(r) => Value::Object(
                r.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// A finite float as a JSON number; NaN and the infinities as Avro's JSON strings for them.
pub fn float(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None => Value::String(non_finite_name(f).to_owned()),
    }
}

/// `"NaN"`, `"Infinity"` or `"-Infinity"` (only meaningful for a non-finite `f`).
pub fn non_finite_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// Bytes as a string of ISO-8859-1 characters, one per byte (Avro's JSON encoding of bytes).
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}
