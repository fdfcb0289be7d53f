//! An order-preserving JSON value ([`Json`]) and its rendering as Jackson (the JSON library of
//! Avro-Java) writes it.
//!
//! Avro-Java parses schemas with Jackson, whose objects keep their keys in document order, and
//! `Schema.toString()` writes properties and default values back in that order. serde_json's
//! `Value` (without its `preserve_order` feature) sorts keys, so the parser reads schema text
//! into this type instead and converts to `Value` only where order does not matter.
//!
//! Rendering follows Jackson's defaults: compact, non-ASCII left as is, control characters
//! escaped (`\n`-style where JSON has a short form, else `\u00XX` with upper-case hex), and
//! floating-point numbers as Java's `Double.toString` prints them (`1.0`, `1.0E10`, `1.0E-4`).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A JSON value whose objects keep their keys in document order. A key given twice keeps its
/// first position and its last value, as Jackson's `ObjectNode` does.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// An integer that fits `i64` (Jackson's `IntNode`/`LongNode`).
    Int(i64),
    /// A positive integer above `i64::MAX`.
    UInt(u64),
    /// A number with a fraction or exponent (Jackson's `DoubleNode`).
    Float(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses JSON text.
    pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The same value as a serde_json [`Value`] (object keys then sort).
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::UInt(u) => Value::from(*u),
            Json::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// Appends this value as Jackson's `JsonGenerator.writeTree` writes it.
    pub fn write_java(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => out.push_str(&i.to_string()),
            Json::UInt(u) => out.push_str(&u.to_string()),
            Json::Float(f) => out.push_str(&java_double(*f)),
            Json::String(s) => write_str(s, out),
            Json::Array(items) => write_array(items, out, Json::write_java),
            Json::Object(members) => write_object(members, out, Json::write_java),
        }
    }
}

/// The member `key` of an object's member list.
pub fn get<'a>(members: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Displays as serde_json displays the equivalent [`Value`] (used in error messages).
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_value(), f)
    }
}

/// Appends `s` as a JSON string literal, escaped as Jackson escapes it.
/// Writes `[a,b,...]`, each item by `write` (shared by every Java-style JSON writer).
pub fn write_array<T>(items: &[T], out: &mut String, write: impl Fn(&T, &mut String)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(item, out);
    }
    out.push(']');
}

/// Writes `{"k":v,...}` in the members' order, each value by `write`.
pub fn write_object<T>(members: &[(String, T)], out: &mut String, write: impl Fn(&T, &mut String)) {
    out.push('{');
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(k, out);
        out.push(':');
        write(v, out);
    }
    out.push('}');
}

pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString` (shortest round-trip digits, as JDK 19+ and Jackson's fast writer
/// produce): plain notation with at least one fractional digit for magnitudes in
/// `[1e-3, 1e7)`, otherwise `d.dddE±n`. Non-finite values are quoted, as Jackson does by
/// default (`QUOTE_NON_NUMERIC_NUMBERS`).
pub fn java_double(f: f64) -> String {
    if f.is_finite() && f != 0.0 {
        // `{:e}` gives the shortest digits that round-trip: "1.2345e-7".
        java_decimal(&format!("{:e}", f.abs()), f < 0.0)
    } else {
        non_finite_or_zero(f.is_nan(), f.is_infinite(), f.is_sign_negative())
    }
}

/// Java's `Float.toString`: as [`java_double`], with the shortest digits that round-trip
/// through `f32` (`0.1f` is `0.1`, not `0.10000000149011612`).
pub fn java_float(f: f32) -> String {
    if f.is_finite() && f != 0.0 {
        java_decimal(&format!("{:e}", f.abs()), f < 0.0)
    } else {
        non_finite_or_zero(f.is_nan(), f.is_infinite(), f.is_sign_negative())
    }
}

fn non_finite_or_zero(nan: bool, infinite: bool, negative: bool) -> String {
    match (nan, infinite, negative) {
        (true, _, _) => "\"NaN\"",
        (_, true, false) => "\"Infinity\"",
        (_, true, true) => "\"-Infinity\"",
        (_, _, true) => "-0.0",
        _ => "0.0",
    }
    .to_owned()
}

/// Java's layout of a finite, non-zero magnitude given in Rust's `{:e}` form ("1.2345e-7").
fn java_decimal(sci: &str, negative: bool) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-3..7).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else {
            let point = point as usize;
            let int = format!("{digits:0<point$}");
            let (int, frac) = int.split_at(point);
            let frac = if frac.is_empty() { "0" } else { frac };
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exp}")
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(i64::try_from(v).map_or(Json::UInt(v), Json::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => members.push((key, value)),
            }
        }
        Ok(Json::Object(members))
    }
}
